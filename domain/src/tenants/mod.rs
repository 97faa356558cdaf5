//! Tenants: a shop's row, its provisioning status, and looking it up.

use cartwheel_entity::{TenantId, tenants};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

pub use cartwheel_entity::tenants::Status;

/// Percent done when a step begins.
pub fn progress(status: Status) -> i32 {
    match status {
        Status::Pending => 0,
        Status::CreatingTenant => 10,
        Status::SeedingData => 30,
        Status::Configuring => 80,
        Status::Ready => 100,
        Status::Failed => 0,
    }
}

/// A rough wait from this step to READY, in seconds (measured runs take well under a second
/// once a worker picks the job up; the queue wait dominates). None once it has failed.
pub fn estimated_seconds_remaining(status: Status) -> Option<u32> {
    match status {
        Status::Pending => Some(5),
        Status::CreatingTenant => Some(3),
        Status::SeedingData => Some(2),
        Status::Configuring => Some(1),
        Status::Ready => Some(0),
        Status::Failed => None,
    }
}

/// Finds a tenant by its slug (the subdomain or `X-Tenant` value).
#[tracing::instrument(skip_all)]
pub async fn find_by_slug<C: ConnectionTrait>(
    db: &C,
    slug: &str,
) -> Result<Option<tenants::Model>, DbErr> {
    tenants::Entity::find()
        .filter(tenants::Column::Slug.eq(slug))
        .one(db)
        .await
}

#[tracing::instrument(skip_all)]
pub async fn find<C: ConnectionTrait>(
    db: &C,
    id: TenantId,
) -> Result<Option<tenants::Model>, DbErr> {
    tenants::Entity::find_by_id(id).one(db).await
}

/// A shop's own address: `http://localhost:8080` and `demo` → `http://demo.localhost:8080`.
/// Its mails' links and its canonical URLs start with it.
pub fn url(public_url: &str, slug: &str) -> String {
    match public_url.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{slug}.{rest}"),
        None => format!("{slug}.{public_url}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_shop_is_a_subdomain_of_the_public_url() {
        assert_eq!(
            super::url("http://localhost:8080", "demo"),
            "http://demo.localhost:8080"
        );
        assert_eq!(
            super::url("https://shops.example.com", "acme"),
            "https://acme.shops.example.com"
        );
    }
}
