//! How an item shows on the storefront.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "listings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub item_id: Uuid,
    pub tenant_id: Uuid,
    pub published: bool,
    pub slug: String,
    pub short_description: String,
    pub long_description: String,
    pub images: Json,
    pub category_id: Option<Uuid>,
    pub display_order: i32,
    pub search_text: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
