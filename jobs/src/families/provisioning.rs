//! Building a new tenant: owner account and default business data, then the store-ready email.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{Job, RetryPolicy};

/// Builds the tenant from its signup; safe to run again after a crash at any step.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProvisionTenant {
    pub tenant_id: cartwheel_entity::TenantId,
}

impl Job for ProvisionTenant {
    const QUEUE: &'static str = "provisioning.tenant";
    const RETRY: RetryPolicy =
        RetryPolicy::new(5, Duration::from_secs(5), Duration::from_secs(300));

    fn tenant(&self) -> Option<cartwheel_entity::TenantId> {
        Some(self.tenant_id)
    }
}
