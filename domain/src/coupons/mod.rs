//! Coupons: percent or fixed discounts with a minimum subtotal, a validity window and usage
//! limits; and why a code does not apply, in words a shopper understands.

use cartwheel_entity::{TenantId, coupon_redemptions, coupons};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use crate::audit::{self, Action, Actor, Diff, Entity};
use crate::catalog::{CatalogError, unique_conflict};
use crate::validation::FieldProblem;

pub use cartwheel_entity::coupons::Kind;

pub struct CouponInput {
    pub code: String,
    /// Percent: `value` in whole percent, 1–100; fixed: `value` in minor units.
    pub kind: Kind,
    pub value: i64,
    pub min_subtotal: Option<i64>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub max_uses: Option<i32>,
    pub max_uses_per_customer: Option<i32>,
    pub active: bool,
}

#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn list<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
) -> Result<Vec<coupons::Model>, CatalogError> {
    Ok(coupons::Entity::find()
        .filter(coupons::Column::TenantId.eq(tenant_id))
        .order_by_asc(coupons::Column::Code)
        .all(db)
        .await?)
}

#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn get<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    id: Uuid,
) -> Result<coupons::Model, CatalogError> {
    coupons::Entity::find_by_id(id)
        .filter(coupons::Column::TenantId.eq(tenant_id))
        .one(db)
        .await?
        .ok_or(CatalogError::NotFound("coupon"))
}

#[tracing::instrument(skip_all, fields(tenant = %by.tenant_id))]
pub async fn create(
    db: &DatabaseConnection,
    by: &Actor,
    input: CouponInput,
) -> Result<coupons::Model, CatalogError> {
    let input = validate(input)?;
    let code = input.code.clone();
    let txn = crate::transaction::begin(db).await?;
    let coupon = coupons::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(by.tenant_id),
        code: Set(input.code),
        kind: Set(input.kind),
        value: Set(input.value),
        min_subtotal: Set(input.min_subtotal),
        starts_at: Set(input.starts_at),
        ends_at: Set(input.ends_at),
        max_uses: Set(input.max_uses),
        max_uses_per_customer: Set(input.max_uses_per_customer),
        active: Set(input.active),
        used_count: Set(0),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await
    .map_err(|e| unique_conflict(e, "code", format!("The code `{code}` exists.")))?;
    audit::record(
        &txn,
        by,
        Entity::Coupon,
        coupon.id,
        Action::Created,
        Diff::created(&coupon),
    )
    .await?;
    txn.commit().await?;
    Ok(coupon)
}

#[tracing::instrument(skip_all, fields(tenant = %by.tenant_id))]
pub async fn update(
    db: &DatabaseConnection,
    by: &Actor,
    id: Uuid,
    input: CouponInput,
) -> Result<coupons::Model, CatalogError> {
    let input = validate(input)?;
    let code = input.code.clone();
    let txn = crate::transaction::begin(db).await?;
    let before = get(&txn, by.tenant_id, id).await?;
    let mut coupon: coupons::ActiveModel = before.clone().into();
    coupon.code = Set(input.code);
    coupon.kind = Set(input.kind);
    coupon.value = Set(input.value);
    coupon.min_subtotal = Set(input.min_subtotal);
    coupon.starts_at = Set(input.starts_at);
    coupon.ends_at = Set(input.ends_at);
    coupon.max_uses = Set(input.max_uses);
    coupon.max_uses_per_customer = Set(input.max_uses_per_customer);
    coupon.active = Set(input.active);
    let coupon = coupon
        .update(&txn)
        .await
        .map_err(|e| unique_conflict(e, "code", format!("The code `{code}` exists.")))?;
    let diff = Diff::changed(&before, &coupon);
    audit::record(&txn, by, Entity::Coupon, id, Action::Updated, diff).await?;
    txn.commit().await?;
    Ok(coupon)
}

#[tracing::instrument(skip_all, fields(tenant = %by.tenant_id))]
pub async fn delete(db: &DatabaseConnection, by: &Actor, id: Uuid) -> Result<(), CatalogError> {
    let txn = crate::transaction::begin(db).await?;
    let before = get(&txn, by.tenant_id, id).await?;
    coupons::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        by,
        Entity::Coupon,
        id,
        Action::Deleted,
        Diff::deleted(&before),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn find_by_code<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    code: &str,
) -> Result<Option<coupons::Model>, sea_orm::DbErr> {
    coupons::Entity::find()
        .filter(coupons::Column::TenantId.eq(tenant_id))
        .filter(coupons::Column::Code.eq(code.trim().to_uppercase()))
        .one(db)
        .await
}

/// Why a coupon does not apply to a cart now, in words for the shopper; `None` if it does.
/// What a code that gives nothing now is told when its state is none of the shopper's business:
/// unknown, inactive, not started, expired or used up all read alike, so codes cannot be
/// probed for which exist.
pub const NOT_VALID: &str = "This code is not valid.";

#[tracing::instrument(skip_all)]
pub async fn rejection<C: ConnectionTrait>(
    db: &C,
    coupon: &coupons::Model,
    subtotal: i64,
    customer_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Option<String>, sea_orm::DbErr> {
    let out_of_time = coupon.starts_at.is_some_and(|start| now < start)
        || coupon.ends_at.is_some_and(|end| now >= end);
    if !coupon.active || out_of_time {
        return Ok(Some(NOT_VALID.into()));
    }
    if let Some(min) = coupon.min_subtotal
        && subtotal < min
    {
        return Ok(Some(format!(
            "This code needs a subtotal of at least {min}."
        )));
    }
    if coupon.max_uses.is_some_and(|max| coupon.used_count >= max) {
        return Ok(Some(NOT_VALID.into()));
    }
    if let (Some(max), Some(customer)) = (coupon.max_uses_per_customer, customer_id) {
        let used = coupon_redemptions::Entity::find()
            .filter(coupon_redemptions::Column::CouponId.eq(coupon.id))
            .filter(coupon_redemptions::Column::CustomerId.eq(customer))
            .count(db)
            .await?;
        if used >= max as u64 {
            return Ok(Some("You have already used this code.".into()));
        }
    }
    Ok(None)
}

/// The discount on `subtotal`: a percent rounded half up, or a fixed amount, never more than
/// the subtotal.
pub fn discount(coupon: &coupons::Model, subtotal: i64) -> Result<i64, crate::money::Overflow> {
    let raw = match coupon.kind {
        Kind::Percent => crate::money::share(subtotal, coupon.value, 100)?,
        Kind::Fixed => coupon.value,
    };
    Ok(raw.clamp(0, subtotal.max(0)))
}

fn validate(mut input: CouponInput) -> Result<CouponInput, CatalogError> {
    let mut problems = Vec::new();
    input.code = input.code.trim().to_uppercase();
    if input.code.is_empty()
        || input.code.len() > 64
        || !input
            .code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        problems.push(FieldProblem::new(
            "code",
            "must be 1 to 64 letters, digits, '-' or '_'",
        ));
    }
    match input.kind {
        Kind::Percent if !(1..=100).contains(&input.value) => {
            problems.push(FieldProblem::new("value", "a percent must be 1 to 100"))
        }
        Kind::Fixed if input.value < 1 => {
            problems.push(FieldProblem::new("value", "must be positive"))
        }
        Kind::Percent | Kind::Fixed => {}
    }
    if input.min_subtotal.is_some_and(|m| m < 0) {
        problems.push(FieldProblem::new("minSubtotal", "must not be negative"));
    }
    if let (Some(start), Some(end)) = (input.starts_at, input.ends_at)
        && end <= start
    {
        problems.push(FieldProblem::new("endsAt", "must be after startsAt"));
    }
    if input.max_uses.is_some_and(|m| m < 1) {
        problems.push(FieldProblem::new("maxUses", "must be at least 1"));
    }
    if input.max_uses_per_customer.is_some_and(|m| m < 1) {
        problems.push(FieldProblem::new(
            "maxUsesPerCustomer",
            "must be at least 1",
        ));
    }
    if problems.is_empty() {
        Ok(input)
    } else {
        Err(CatalogError::Invalid(problems))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coupon(kind: Kind, value: i64) -> coupons::Model {
        coupons::Model {
            id: Uuid::nil(),
            tenant_id: TenantId(Uuid::nil()),
            code: "X".into(),
            kind,
            value,
            min_subtotal: None,
            starts_at: None,
            ends_at: None,
            max_uses: None,
            max_uses_per_customer: None,
            active: true,
            used_count: 0,
            created_at: Utc::now(),
        }
    }

    #[test]
    fn discounts_round_half_up_and_never_exceed_the_subtotal() {
        assert_eq!(discount(&coupon(Kind::Percent, 10), 1005), Ok(101)); // 100.5 → 101
        assert_eq!(discount(&coupon(Kind::Percent, 10), 1004), Ok(100));
        assert_eq!(discount(&coupon(Kind::Fixed, 500), 300), Ok(300));
        assert_eq!(discount(&coupon(Kind::Percent, 100), 999), Ok(999));
    }
}
