//! Ready tenants by slug, remembered for a moment: every request names its tenant, and a
//! storefront page should not pay a database round trip to learn it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cartwheel_entity::tenants;

/// How long a tenant row is reused; a renamed or suspended shop shows within this.
const TTL: Duration = Duration::from_secs(2);
const MAX_ENTRIES: usize = 10_000;

#[derive(Clone, Default)]
pub struct TenantCache {
    entries: Arc<Mutex<HashMap<String, (Instant, tenants::Model)>>>,
}

impl TenantCache {
    pub fn get(&self, slug: &str) -> Option<tenants::Model> {
        let entries = self.entries.lock().unwrap();
        let (at, tenant) = entries.get(slug)?;
        (at.elapsed() < TTL).then(|| tenant.clone())
    }

    /// Remembers a tenant that is ready; one still being set up changes too often.
    pub fn put(&self, tenant: &tenants::Model) {
        if tenant.status != cartwheel_domain::tenants::Status::Ready {
            return;
        }
        let mut entries = self.entries.lock().unwrap();
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (at, _)| at.elapsed() < TTL);
        }
        entries.insert(tenant.slug.clone(), (Instant::now(), tenant.clone()));
    }
}
