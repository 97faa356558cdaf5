//! One admin change in a shop: who (`actor_*`), when, under which request, to what
//! (`entity`, `entity_id`), what (`action`), and a small JSON diff of the fields it changed.

use sea_orm::entity::prelude::*;

use crate::TenantId;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub at: DateTimeUtc,
    /// The admin user; none for the shop's own processes.
    pub actor_id: Option<Uuid>,
    pub actor_email: String,
    pub request_id: Option<String>,
    pub entity: String,
    pub entity_id: String,
    pub action: String,
    /// `{"field": {"before": …, "after": …}}`, only the fields that changed.
    pub diff: String,
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
