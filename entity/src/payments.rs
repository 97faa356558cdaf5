//! A payment taken through a provider (Stripe) for a checkout: one row per attempt, made before
//! the provider is called, so the provider's idempotency key and metadata come from it. The
//! provider's id (`pi_…`) is unique: one payment per PaymentIntent.

use sea_orm::entity::prelude::*;

use crate::TenantId;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub checkout_id: Uuid,
    /// 1, 2, 3 … per checkout: a changed amount or a failed payment starts the next.
    pub attempt: i32,
    pub amount: i64,
    pub currency: String,
    /// The provider's id once it answered (`pi_…`).
    pub provider_id: Option<String>,
    pub status: Status,
    /// Received, in minor units (what the provider says it captured).
    pub received: i64,
    /// Paid back, in minor units, as the provider's refunds add up.
    pub refunded: i64,
    /// The order it paid for, once placed.
    pub order_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "snake_case"
)]
pub enum Status {
    /// Waiting for the shopper to pay.
    Pending,
    /// The money arrived; `order_id` names its order, or the payment was refunded because no
    /// order could be placed.
    Succeeded,
    /// Declined or cancelled: nothing was taken.
    Failed,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::tenants::Entity",
        from = "Column::TenantId",
        to = "super::tenants::Column::Id"
    )]
    Tenant,
}

impl Related<super::tenants::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Tenant.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
