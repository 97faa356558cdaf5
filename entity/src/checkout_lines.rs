//! A line of a checkout, as the cart had it when checked out.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "checkout_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub checkout_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub position: i32,
    pub item_id: Uuid,
    pub sku: String,
    pub name: String,
    pub tax_class: String,
    pub quantity: i64,
    pub unit_price: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::checkouts::Entity",
        from = "Column::CheckoutId",
        to = "super::checkouts::Column::Id"
    )]
    Checkout,
}

impl Related<super::checkouts::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Checkout.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
