//! Tenants: a shop's row, its provisioning status, and looking it up.

use cartwheel_entity::tenants;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

/// Where a tenant is on its way from signup to open shop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Pending,
    CreatingTenant,
    SeedingData,
    Configuring,
    Ready,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "PENDING",
            Status::CreatingTenant => "CREATING_TENANT",
            Status::SeedingData => "SEEDING_DATA",
            Status::Configuring => "CONFIGURING",
            Status::Ready => "READY",
            Status::Failed => "FAILED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Status::Pending,
            Status::CreatingTenant,
            Status::SeedingData,
            Status::Configuring,
            Status::Ready,
            Status::Failed,
        ]
        .into_iter()
        .find(|status| status.as_str() == s)
    }

    /// Percent done when a step begins.
    pub fn progress(self) -> i32 {
        match self {
            Status::Pending => 0,
            Status::CreatingTenant => 10,
            Status::SeedingData => 30,
            Status::Configuring => 80,
            Status::Ready => 100,
            Status::Failed => 0,
        }
    }

    /// A rough wait from this step to READY, in seconds (measured runs take well under a
    /// second once a worker picks the job up; the queue wait dominates). None once it has failed.
    pub fn estimated_seconds_remaining(self) -> Option<u32> {
        match self {
            Status::Pending => Some(5),
            Status::CreatingTenant => Some(3),
            Status::SeedingData => Some(2),
            Status::Configuring => Some(1),
            Status::Ready => Some(0),
            Status::Failed => None,
        }
    }
}

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

pub async fn find<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<tenants::Model>, DbErr> {
    tenants::Entity::find_by_id(id).one(db).await
}
