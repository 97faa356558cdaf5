//! Building a new tenant: owner account and default business data.
//!
//! The queue and retry policy are fixed here; the payload type and its handler arrive with the
//! feature that enqueues them (the tenants issue).

use std::time::Duration;

use crate::RetryPolicy;

pub const QUEUE: &str = "provisioning.tenant";
pub const RETRY: RetryPolicy =
    RetryPolicy::new(5, Duration::from_secs(5), Duration::from_secs(300));
