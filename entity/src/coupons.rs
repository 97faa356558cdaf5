//! A discount code: percent or fixed, with limits and a validity window.

use sea_orm::entity::prelude::*;

use crate::TenantId;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "coupons")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub code: String,
    pub kind: Kind,
    pub value: i64,
    pub min_subtotal: Option<i64>,
    pub starts_at: Option<DateTimeUtc>,
    pub ends_at: Option<DateTimeUtc>,
    pub max_uses: Option<i32>,
    pub max_uses_per_customer: Option<i32>,
    pub active: bool,
    /// Orders placed with it; raised under the coupon's row lock, never past `max_uses`.
    pub used_count: i32,
    pub created_at: DateTimeUtc,
}

/// What a coupon's `value` means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, serde::Serialize)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "lowercase"
)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "lowercase"))]
pub enum Kind {
    /// Whole percent off the subtotal.
    Percent,
    /// Minor units off the subtotal.
    Fixed,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::tenants::Entity",
        from = "Column::TenantId",
        to = "super::tenants::Column::Id"
    )]
    Tenant,
    #[sea_orm(has_many = "super::carts::Entity")]
    Carts,
    #[sea_orm(has_many = "super::coupon_redemptions::Entity")]
    CouponRedemptions,
}

impl Related<super::tenants::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Tenant.def()
    }
}

impl Related<super::carts::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Carts.def()
    }
}

impl Related<super::coupon_redemptions::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::CouponRedemptions.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
