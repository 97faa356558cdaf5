//! A way to ship to a zone: a price in minor units, free from a subtotal on if set, and only
//! for subtotals between a minimum and a maximum if set.

use sea_orm::entity::prelude::*;

use crate::TenantId;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "shipping_methods")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub zone_id: Uuid,
    pub name: String,
    pub price: i64,
    pub free_over: Option<i64>,
    pub min_subtotal: Option<i64>,
    pub max_subtotal: Option<i64>,
    pub active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
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
