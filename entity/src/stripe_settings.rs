//! A shop's Stripe account: its publishable key, and its secret key and webhook signing secret
//! sealed with the server's secrets key (`cartwheel_domain::secrets`), with their last 4
//! characters for admins to recognise them.

use sea_orm::entity::prelude::*;

use crate::TenantId;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stripe_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: TenantId,
    pub publishable_key: String,
    /// Sealed.
    pub secret_key: String,
    pub secret_key_last4: String,
    /// Sealed.
    pub webhook_secret: String,
    pub webhook_secret_last4: String,
    /// Live keys (`sk_live_…`) rather than test keys.
    pub live: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
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
