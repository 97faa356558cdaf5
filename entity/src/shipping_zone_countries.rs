//! A country a shipping zone covers; a country is in at most one zone of a shop.

use sea_orm::entity::prelude::*;

use crate::TenantId;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "shipping_zone_countries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub zone_id: Uuid,
    /// ISO 3166-1 alpha-2, upper case.
    #[sea_orm(primary_key, auto_increment = false)]
    pub country: String,
    pub tenant_id: TenantId,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::shipping_zones::Entity",
        from = "Column::ZoneId",
        to = "super::shipping_zones::Column::Id"
    )]
    Zone,
}

impl Related<super::shipping_zones::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Zone.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
