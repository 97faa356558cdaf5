//! A job that does nothing: for benchmarks, smoke tests and tests of the machinery itself.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{Job, RetryPolicy};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Noop {
    /// Fail (retryably) on attempts up to and including this one; tests use it to see retries.
    #[serde(default)]
    pub fail_until_attempt: u32,
    /// Fail permanently: the job is dead at once.
    #[serde(default)]
    pub fail_permanently: bool,
    /// Sleep this long while running; tests use it to catch a job in flight.
    #[serde(default)]
    pub sleep_ms: u64,
    /// Sleep only on attempts up to this one (0: on every attempt).
    #[serde(default)]
    pub sleep_until_attempt: u32,
    /// A label tests use to tell jobs apart.
    #[serde(default)]
    pub label: String,
    /// The shop it runs for, as a shop's jobs name theirs (logs and error reports carry it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<cartwheel_entity::TenantId>,
}

impl Job for Noop {
    const QUEUE: &'static str = "noop";
    const RETRY: RetryPolicy = RetryPolicy::new(3, Duration::from_secs(1), Duration::from_secs(10));

    fn tenant(&self) -> Option<cartwheel_entity::TenantId> {
        self.tenant
    }
}
