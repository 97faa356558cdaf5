//! Database backups to object storage.
//!
//! The queue and retry policy are fixed here; the payload type and its handler arrive with the
//! feature that enqueues them (the backups issue).

use std::time::Duration;

use crate::RetryPolicy;

pub const QUEUE: &str = "backup.run";
pub const RETRY: RetryPolicy =
    RetryPolicy::new(3, Duration::from_secs(300), Duration::from_secs(3600));
