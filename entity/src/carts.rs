//! A shopper's cart; its id is random and unguessable.

use sea_orm::entity::prelude::*;

use crate::TenantId;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "carts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub customer_id: Option<Uuid>,
    pub email: Option<String>,
    /// SHA-256 of the storefront session a guest cart was opened for, if any.
    pub session_hash: Option<String>,
    pub coupon_id: Option<Uuid>,
    pub status: Status,
    pub reminded_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

/// Whether a cart still takes changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "lowercase"
)]
pub enum Status {
    /// The shopper's cart (until it expires).
    Open,
    /// Its lines went into the customer's cart at login; closed.
    Merged,
    /// Closed by the order placed from its checkout.
    Ordered,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::tenants::Entity",
        from = "Column::TenantId",
        to = "super::tenants::Column::Id"
    )]
    Tenant,
    #[sea_orm(
        belongs_to = "super::coupons::Entity",
        from = "Column::CouponId",
        to = "super::coupons::Column::Id"
    )]
    Coupon,
    #[sea_orm(has_many = "super::cart_lines::Entity")]
    CartLines,
}

impl Related<super::tenants::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Tenant.def()
    }
}

impl Related<super::coupons::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Coupon.def()
    }
}

impl Related<super::cart_lines::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::CartLines.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
