//! Low-stock alerts to admins and back-in-stock notices to shoppers.
//!
//! The queue and retry policy are fixed here; the payload type and its handler arrive with the
//! feature that enqueues them (the storefront issue).

use std::time::Duration;

use crate::RetryPolicy;

pub const QUEUE: &str = "stock.notify";
pub const RETRY: RetryPolicy =
    RetryPolicy::new(5, Duration::from_secs(30), Duration::from_secs(3600));
