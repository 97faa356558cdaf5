//! A checkout: a cart's lines snapshotted, with contact, addresses, shipping method and the
//! totals they make; confirming it places one order.

use sea_orm::entity::prelude::*;

use crate::TenantId;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "checkouts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub cart_id: Uuid,
    pub customer_id: Option<Uuid>,
    pub status: Status,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// A `domain::postal::Address`.
    pub shipping_address: Option<Json>,
    /// `None`: the same as the shipping address.
    pub billing_address: Option<Json>,
    pub shipping_method_id: Option<Uuid>,
    pub coupon_id: Option<Uuid>,
    pub currency: String,
    pub subtotal: i64,
    pub discount: i64,
    pub shipping: i64,
    pub tax: i64,
    pub total: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

/// Where a checkout is; an open one past `expires_at` reads as abandoned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "snake_case"
)]
pub enum Status {
    Pending,
    PaymentPending,
    PaymentFailed,
    Completed,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::tenants::Entity",
        from = "Column::TenantId",
        to = "super::tenants::Column::Id"
    )]
    Tenant,
    #[sea_orm(has_many = "super::checkout_lines::Entity")]
    CheckoutLines,
}

impl Related<super::tenants::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Tenant.def()
    }
}

impl Related<super::checkout_lines::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::CheckoutLines.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
