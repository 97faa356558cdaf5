//! A refund an admin asked for on a card-paid order: recorded (holding its amount) before Stripe
//! is asked, so the request carries an idempotency key from this row and concurrent requests
//! never refund more than was received.

use sea_orm::entity::prelude::*;

use crate::TenantId;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refunds")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub order_id: Uuid,
    pub payment_id: Uuid,
    /// In minor units.
    pub amount: i64,
    pub reason: String,
    pub status: Status,
    /// Stripe's id (`re_…`) once it answered.
    pub provider_id: Option<String>,
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
    /// Asked of Stripe, no answer yet (its job asks again).
    Pending,
    Succeeded,
    /// Stripe refused it; its amount is free again.
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
