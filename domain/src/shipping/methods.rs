//! A shop's shipping methods, as its admins keep them: each belongs to one of its zones.

use cartwheel_entity::{TenantId, shipping_methods};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use crate::audit::{self, Action, Actor, Diff, Entity};
use crate::catalog::CatalogError;
use crate::money;
use crate::validation::FieldProblem;

pub struct MethodInput {
    pub zone_id: Uuid,
    pub name: String,
    /// Minor units of the shop's currency.
    pub price: i64,
    pub free_over: Option<i64>,
    pub min_subtotal: Option<i64>,
    pub max_subtotal: Option<i64>,
    pub active: bool,
}

#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn list<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
) -> Result<Vec<shipping_methods::Model>, DbErr> {
    shipping_methods::Entity::find()
        .filter(shipping_methods::Column::TenantId.eq(tenant_id))
        .order_by_asc(shipping_methods::Column::ZoneId)
        .order_by_asc(shipping_methods::Column::Name)
        .order_by_asc(shipping_methods::Column::Id)
        .all(db)
        .await
}

#[tracing::instrument(skip_all, fields(tenant = %by.tenant_id))]
pub async fn create(
    db: &DatabaseConnection,
    by: &Actor,
    input: MethodInput,
) -> Result<shipping_methods::Model, CatalogError> {
    let tenant_id = by.tenant_id;
    let input = validate(db, tenant_id, input).await?;
    let now = Utc::now();
    let txn = crate::transaction::begin(db).await?;
    let method = shipping_methods::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant_id),
        zone_id: Set(input.zone_id),
        name: Set(input.name),
        price: Set(input.price),
        free_over: Set(input.free_over),
        min_subtotal: Set(input.min_subtotal),
        max_subtotal: Set(input.max_subtotal),
        active: Set(input.active),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let diff = Diff::created(&method);
    audit::record(
        &txn,
        by,
        Entity::ShippingMethod,
        method.id,
        Action::Created,
        diff,
    )
    .await?;
    txn.commit().await?;
    Ok(method)
}

#[tracing::instrument(skip_all, fields(tenant = %by.tenant_id))]
pub async fn update(
    db: &DatabaseConnection,
    by: &Actor,
    id: Uuid,
    input: MethodInput,
) -> Result<shipping_methods::Model, CatalogError> {
    let tenant_id = by.tenant_id;
    let input = validate(db, tenant_id, input).await?;
    let txn = crate::transaction::begin(db).await?;
    let before = get(&txn, tenant_id, id).await?;
    let mut method: shipping_methods::ActiveModel = before.clone().into();
    method.zone_id = Set(input.zone_id);
    method.name = Set(input.name);
    method.price = Set(input.price);
    method.free_over = Set(input.free_over);
    method.min_subtotal = Set(input.min_subtotal);
    method.max_subtotal = Set(input.max_subtotal);
    method.active = Set(input.active);
    method.updated_at = Set(Utc::now());
    let method = method.update(&txn).await?;
    let diff = Diff::changed(&before, &method);
    audit::record(&txn, by, Entity::ShippingMethod, id, Action::Updated, diff).await?;
    txn.commit().await?;
    Ok(method)
}

#[tracing::instrument(skip_all, fields(tenant = %by.tenant_id))]
pub async fn delete(db: &DatabaseConnection, by: &Actor, id: Uuid) -> Result<(), CatalogError> {
    let tenant_id = by.tenant_id;
    let txn = crate::transaction::begin(db).await?;
    let before = get(&txn, tenant_id, id).await?;
    shipping_methods::Entity::delete_by_id(id)
        .exec(&txn)
        .await?;
    let diff = Diff::deleted(&before);
    audit::record(&txn, by, Entity::ShippingMethod, id, Action::Deleted, diff).await?;
    txn.commit().await?;
    Ok(())
}

async fn get<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    id: Uuid,
) -> Result<shipping_methods::Model, CatalogError> {
    shipping_methods::Entity::find_by_id(id)
        .filter(shipping_methods::Column::TenantId.eq(tenant_id))
        .one(db)
        .await?
        .ok_or(CatalogError::NotFound("shipping method"))
}

async fn validate<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    mut input: MethodInput,
) -> Result<MethodInput, CatalogError> {
    let mut problems = Vec::new();
    match crate::catalog::check_text("name", &input.name, 100) {
        Ok(name) => input.name = name,
        Err(p) => problems.push(p),
    }
    let amounts = [
        ("price", Some(input.price)),
        ("freeOver", input.free_over),
        ("minSubtotal", input.min_subtotal),
        ("maxSubtotal", input.max_subtotal),
    ];
    for (field, amount) in amounts {
        if amount.is_some_and(|a| !(0..=money::MAX_TOTAL).contains(&a)) {
            problems.push(FieldProblem::new(
                field,
                format!("must be 0 to {}", money::MAX_TOTAL),
            ));
        }
    }
    if let (Some(min), Some(max)) = (input.min_subtotal, input.max_subtotal)
        && min > max
    {
        problems.push(FieldProblem::new(
            "maxSubtotal",
            "must not be less than minSubtotal",
        ));
    }
    match super::zones::get(db, tenant_id, input.zone_id).await {
        Ok(_) => {}
        Err(CatalogError::NotFound(_)) => problems.push(FieldProblem::new(
            "zoneId",
            "is not a shipping zone of this shop",
        )),
        Err(e) => return Err(e),
    }
    if problems.is_empty() {
        Ok(input)
    } else {
        Err(CatalogError::Invalid(problems))
    }
}
