//! Low-stock alerts to admins and back-in-stock notices to shoppers.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{Job, RetryPolicy};

/// Looks at one item's available stock: alerts its shop's admins once when it falls below the
/// reorder level (re-armed when it recovers), and tells waiting shoppers once when it is back.
/// Enqueued with every stock change; safe to run any number of times.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckStock {
    pub tenant_id: cartwheel_entity::TenantId,
    pub item_id: uuid::Uuid,
}

impl Job for CheckStock {
    const QUEUE: &'static str = "stock.check";
    const RETRY: RetryPolicy =
        RetryPolicy::new(5, Duration::from_secs(30), Duration::from_secs(3600));

    fn tenant(&self) -> Option<cartwheel_entity::TenantId> {
        Some(self.tenant_id)
    }
}

/// The safety net behind `CheckStock`: finds every item whose alerts or notices are due and
/// enqueues a `CheckStock` for it (stock changed by a path that enqueued nothing, or a lost job).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SweepStock {}

impl Job for SweepStock {
    const QUEUE: &'static str = "stock.sweep";
    const RETRY: RetryPolicy =
        RetryPolicy::new(3, Duration::from_secs(60), Duration::from_secs(600));
}
