//! An order: placed from one checkout, numbered per shop, with its lines, addresses, totals, and
//! an order status and a payment status that move separately.

use sea_orm::entity::prelude::*;

use crate::TenantId;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: TenantId,
    /// 1, 2, 3 … per shop, taken only by orders that exist.
    pub number: i64,
    pub checkout_id: Uuid,
    /// The `Idempotency-Key` of the confirm that placed it, if one was sent.
    pub idempotency_key: Option<String>,
    pub customer_id: Option<Uuid>,
    pub email: String,
    pub phone: String,
    pub status: Status,
    pub payment_status: PaymentStatus,
    pub payment_method: PaymentMethod,
    pub currency: String,
    /// Whether the shop's prices included tax when it was placed.
    pub prices_include_tax: bool,
    pub subtotal: i64,
    pub discount: i64,
    pub shipping: i64,
    /// The tax on shipping, part of `tax`.
    pub shipping_tax: i64,
    pub tax: i64,
    pub total: i64,
    /// Paid back so far.
    pub refunded: i64,
    /// Owed back and not yet paid (a cancelled, manually paid order).
    pub refund_due: i64,
    pub coupon_code: Option<String>,
    pub shipping_method: String,
    pub shipping_address: Json,
    pub billing_address: Json,
    /// SHA-256 of the token a guest reads the order with.
    pub token_hash: String,
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    pub tracking_url: Option<String>,
    pub placed_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// An unpaid manual order is cancelled at this time, its stock released.
    pub payment_due_at: Option<DateTimeUtc>,
    pub paid_at: Option<DateTimeUtc>,
    pub shipped_at: Option<DateTimeUtc>,
    pub delivered_at: Option<DateTimeUtc>,
    pub cancelled_at: Option<DateTimeUtc>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "snake_case"
)]
pub enum Status {
    Pending,
    Processing,
    Shipped,
    Delivered,
    Cancelled,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "snake_case"
)]
pub enum PaymentStatus {
    Pending,
    Paid,
    PartiallyRefunded,
    Refunded,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "snake_case"
)]
pub enum PaymentMethod {
    /// Bank transfer or cash on delivery, marked paid by an admin.
    Manual,
    /// Paid by card through the shop's Stripe account before the order was placed.
    Stripe,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::tenants::Entity",
        from = "Column::TenantId",
        to = "super::tenants::Column::Id"
    )]
    Tenant,
    #[sea_orm(has_many = "super::order_lines::Entity")]
    OrderLines,
}

impl Related<super::tenants::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Tenant.def()
    }
}

impl Related<super::order_lines::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::OrderLines.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
