//! A customer's address book; at most one address is the default, and the first one is.

use cartwheel_entity::{addresses, customers};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use uuid::Uuid;

use crate::accounts::AccountError;

pub struct AddressInput {
    pub name: String,
    pub line1: String,
    pub line2: String,
    pub city: String,
    pub region: String,
    pub postal_code: String,
    pub country: String,
    pub phone: String,
    pub is_default: bool,
}

#[tracing::instrument(skip_all)]
pub async fn list(
    db: &DatabaseConnection,
    customer: &customers::Model,
) -> Result<Vec<addresses::Model>, AccountError> {
    Ok(addresses::Entity::find()
        .filter(addresses::Column::CustomerId.eq(customer.id))
        .order_by_desc(addresses::Column::IsDefault)
        .order_by_asc(addresses::Column::CreatedAt)
        .all(db)
        .await?)
}

#[tracing::instrument(skip_all, fields(tenant = %customer.tenant_id))]
pub async fn create(
    db: &DatabaseConnection,
    customer: &customers::Model,
    input: AddressInput,
) -> Result<addresses::Model, AccountError> {
    let input = validate(input)?;
    let customer_id = customer.id;
    let txn = crate::transaction::begin(db).await?;
    let first = addresses::Entity::find()
        .filter(addresses::Column::CustomerId.eq(customer_id))
        .count(&txn)
        .await?
        == 0;
    let is_default = input.is_default || first;
    if is_default {
        clear_default(&txn, customer_id).await?;
    }
    let address = addresses::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(customer.tenant_id),
        customer_id: Set(customer_id),
        name: Set(input.name),
        line1: Set(input.line1),
        line2: Set(input.line2),
        city: Set(input.city),
        region: Set(input.region),
        postal_code: Set(input.postal_code),
        country: Set(input.country),
        phone: Set(input.phone),
        is_default: Set(is_default),
        created_at: Set(chrono::Utc::now()),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(address)
}

#[tracing::instrument(skip_all)]
pub async fn update(
    db: &DatabaseConnection,
    customer: &customers::Model,
    id: Uuid,
    input: AddressInput,
) -> Result<addresses::Model, AccountError> {
    let input = validate(input)?;
    let customer_id = customer.id;
    let existing = find(db, customer, id).await?;
    let txn = crate::transaction::begin(db).await?;
    // The default stays the default until another address takes over.
    let is_default = input.is_default || existing.is_default;
    if input.is_default {
        clear_default(&txn, customer_id).await?;
    }
    let mut address: addresses::ActiveModel = existing.into();
    address.name = Set(input.name);
    address.line1 = Set(input.line1);
    address.line2 = Set(input.line2);
    address.city = Set(input.city);
    address.region = Set(input.region);
    address.postal_code = Set(input.postal_code);
    address.country = Set(input.country);
    address.phone = Set(input.phone);
    address.is_default = Set(is_default);
    let address = address.update(&txn).await?;
    txn.commit().await?;
    Ok(address)
}

/// Deletes an address; if it was the default, the oldest remaining one becomes the default.
#[tracing::instrument(skip_all)]
pub async fn delete(
    db: &DatabaseConnection,
    customer: &customers::Model,
    id: Uuid,
) -> Result<(), AccountError> {
    let customer_id = customer.id;
    let existing = find(db, customer, id).await?;
    let txn = crate::transaction::begin(db).await?;
    addresses::Entity::delete_by_id(id).exec(&txn).await?;
    if existing.is_default
        && let Some(next) = addresses::Entity::find()
            .filter(addresses::Column::CustomerId.eq(customer_id))
            .order_by_asc(addresses::Column::CreatedAt)
            .one(&txn)
            .await?
    {
        let mut next: addresses::ActiveModel = next.into();
        next.is_default = Set(true);
        next.update(&txn).await?;
    }
    txn.commit().await?;
    Ok(())
}

async fn find(
    db: &DatabaseConnection,
    customer: &customers::Model,
    id: Uuid,
) -> Result<addresses::Model, AccountError> {
    addresses::Entity::find_by_id(id)
        .filter(addresses::Column::CustomerId.eq(customer.id))
        .one(db)
        .await?
        .ok_or(AccountError::NotFound)
}

async fn clear_default<C: sea_orm::ConnectionTrait>(
    db: &C,
    customer_id: Uuid,
) -> Result<(), sea_orm::DbErr> {
    addresses::Entity::update_many()
        .col_expr(addresses::Column::IsDefault, Expr::value(false))
        .filter(addresses::Column::CustomerId.eq(customer_id))
        .exec(db)
        .await?;
    Ok(())
}

fn validate(input: AddressInput) -> Result<AddressInput, AccountError> {
    let address = crate::postal::check(
        crate::postal::Address {
            name: input.name,
            line1: input.line1,
            line2: input.line2,
            city: input.city,
            region: input.region,
            postal_code: input.postal_code,
            country: input.country,
            phone: input.phone,
        },
        &crate::postal::Fields::BARE,
    )
    .map_err(AccountError::Invalid)?;
    Ok(AddressInput {
        name: address.name,
        line1: address.line1,
        line2: address.line2,
        city: address.city,
        region: address.region,
        postal_code: address.postal_code,
        country: address.country,
        phone: address.phone,
        is_default: input.is_default,
    })
}
