//! Transactional emails, rendered and sent by the worker, never twice after success.
//!
//! The queue and retry policy are fixed here; the payload type and its handler arrive with the
//! feature that enqueues them (the tenants issue).

use std::time::Duration;

use crate::RetryPolicy;

pub const QUEUE: &str = "email.send";
pub const RETRY: RetryPolicy =
    RetryPolicy::new(8, Duration::from_secs(10), Duration::from_secs(3600));
