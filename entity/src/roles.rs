//! A named set of permissions within one tenant; every tenant has the four built-in roles.

use sea_orm::entity::prelude::*;

use crate::TenantId;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "roles")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub name: Name,
    /// A JSON array of permission names (`domain::accounts::roles::Permission`).
    pub permissions: Json,
}

/// The built-in roles, from most to least allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
pub enum Name {
    #[sea_orm(string_value = "Owner")]
    Owner,
    #[sea_orm(string_value = "Admin")]
    Admin,
    #[sea_orm(string_value = "Staff")]
    Staff,
    #[sea_orm(string_value = "Viewer")]
    Viewer,
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
