//! A Stripe event received by a shop's webhook: stored once by its id (a delivery repeated
//! finds it), with the job that handles it enqueued in the same transaction.

use sea_orm::entity::prelude::*;

use crate::TenantId;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stripe_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: TenantId,
    /// Stripe's id (`evt_…`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Stripe's type (`payment_intent.succeeded`), as sent, known to us or not.
    pub event_type: String,
    /// The PaymentIntent it concerns, when it names one.
    pub payment_intent: Option<String>,
    /// The body as received.
    pub payload: String,
    pub received_at: DateTimeUtc,
    /// When its job finished with it.
    pub processed_at: Option<DateTimeUtc>,
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
