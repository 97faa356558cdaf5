//! An outgoing email: template and variables, who is sending it, and when it was sent.

use sea_orm::entity::prelude::*;

use crate::TenantId;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "emails")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Option<TenantId>,
    pub to_address: String,
    pub template: Template,
    pub context: Json,
    pub message_id: String,
    pub subject: Option<String>,
    pub sent_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    /// The worker process that last claimed the row for a send.
    pub claimed_by: Option<String>,
    /// Until when that claim holds; no other send starts before, unless the row is sent.
    pub claimed_until: Option<DateTimeUtc>,
}

/// The emails Cartwheel sends; each has a subject, HTML and text template in the worker
/// (`worker/templates/email/<name>.*`, named by the stored value).
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "snake_case"
)]
pub enum Template {
    StoreReady,
    AdminPasswordReset,
    UserInvitation,
    CustomerWelcome,
    CustomerPasswordReset,
    CustomerAccountExists,
    AbandonedCart,
    BackInStock,
    LowStockAlert,
    OrderConfirmation,
    PaymentReceipt,
    /// A card payment that could place no order, refunded in full.
    PaymentRefunded,
    OrderShipped,
    OrderDelivered,
    OrderCancelled,
    /// Card money paid back on an order (each refund).
    OrderRefunded,
    ReviewRequest,
    /// To the platform operator, not a shop: backups keep failing.
    BackupFailed,
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
