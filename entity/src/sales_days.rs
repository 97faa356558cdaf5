//! A shop's sales per UTC day of placing: the orders that stand (not cancelled) and their
//! revenue (total less refunds), kept with every order change (the dashboard's revenue).

use sea_orm::entity::prelude::*;

use crate::TenantId;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sales_days")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: TenantId,
    /// `YYYY-MM-DD`, in UTC.
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: String,
    pub orders: i64,
    pub revenue: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
