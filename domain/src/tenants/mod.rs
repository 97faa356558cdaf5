//! Tenants: looking a shop up by slug, and creating one.

use cartwheel_entity::tenants;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};

pub const STATUS_READY: &str = "READY";

/// Finds a tenant by its slug (the subdomain or `X-Tenant` value).
pub async fn find_by_slug<C: ConnectionTrait>(
    db: &C,
    slug: &str,
) -> Result<Option<tenants::Model>, DbErr> {
    tenants::Entity::find()
        .filter(tenants::Column::Slug.eq(slug))
        .one(db)
        .await
}

pub struct NewTenant<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub currency: &'a str,
    pub status: &'a str,
}

pub async fn create<C: ConnectionTrait>(
    db: &C,
    new: NewTenant<'_>,
) -> Result<tenants::Model, DbErr> {
    let now = chrono::Utc::now();
    tenants::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        slug: Set(new.slug.to_string()),
        name: Set(new.name.to_string()),
        status: Set(new.status.to_string()),
        currency: Set(new.currency.to_string()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
}
