//! A tax rule of a shop: a rate in basis points (825 = 8.25 %) for a country, optionally only
//! one region of it and only one tax class; `domain::tax` picks the most specific one.

use sea_orm::entity::prelude::*;

use crate::TenantId;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "tax_rules")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub name: String,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: String,
    /// Only addresses in this region of the country; `None`: every region.
    pub region: Option<String>,
    /// Only items of this tax class; `None`: every class (and shipping).
    pub tax_class: Option<String>,
    pub rate_basis_points: i32,
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
