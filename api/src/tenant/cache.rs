//! Ready tenants by slug, remembered for a moment: every request names its tenant, and a
//! storefront page should not pay a database round trip to learn it.

use std::time::Duration;

use cartwheel_entity::tenants;

/// How long a tenant row is reused; a renamed or suspended shop shows within this.
const TTL: Duration = Duration::from_secs(2);
const MAX_ENTRIES: u64 = 10_000;

/// A `moka` cache: bounded, expiring, and safe to share without a lock a panic could poison.
#[derive(Clone)]
pub struct TenantCache {
    entries: moka::sync::Cache<String, tenants::Model>,
}

impl Default for TenantCache {
    fn default() -> Self {
        Self {
            entries: moka::sync::Cache::builder()
                .max_capacity(MAX_ENTRIES)
                .time_to_live(TTL)
                .build(),
        }
    }
}

impl TenantCache {
    pub fn get(&self, slug: &str) -> Option<tenants::Model> {
        self.entries.get(slug)
    }

    /// Remembers a tenant that is ready; one still being set up changes too often.
    pub fn put(&self, tenant: &tenants::Model) {
        if tenant.status != cartwheel_domain::tenants::Status::Ready {
            return;
        }
        self.entries.insert(tenant.slug.clone(), tenant.clone());
    }
}
