//! How many of a shop's orders are in each status, kept with every status change (the
//! dashboard's pipeline).

use sea_orm::entity::prelude::*;

use crate::TenantId;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "order_counts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: TenantId,
    /// An order status's stored name (`orders::Status`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub status: String,
    pub orders: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
