//! A thing a tenant sells or stocks; prices in minor units; deleted softly.

use sea_orm::entity::prelude::*;

use crate::TenantId;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub sku: String,
    pub name: String,
    pub unit_code: String,
    pub price: i64,
    /// Which of the shop's tax rules apply (`standard` unless set).
    pub tax_class: String,
    /// What one unit costs the shop (minor units): its shipment's cost of goods sold.
    pub cost_price: i64,
    pub reorder_level: i64,
    pub active: bool,
    pub deleted_at: Option<DateTimeUtc>,
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
    #[sea_orm(has_one = "super::listings::Entity")]
    Listing,
    #[sea_orm(has_one = "super::low_stock_alerts::Entity")]
    LowStockAlert,
    #[sea_orm(has_many = "super::stock_levels::Entity")]
    StockLevels,
    #[sea_orm(has_many = "super::stock_movements::Entity")]
    StockMovements,
    #[sea_orm(has_many = "super::stock_subscriptions::Entity")]
    StockSubscriptions,
}

impl Related<super::tenants::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Tenant.def()
    }
}

impl Related<super::listings::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Listing.def()
    }
}

impl Related<super::low_stock_alerts::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::LowStockAlert.def()
    }
}

impl Related<super::stock_levels::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::StockLevels.def()
    }
}

impl Related<super::stock_movements::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::StockMovements.def()
    }
}

impl Related<super::stock_subscriptions::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::StockSubscriptions.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
