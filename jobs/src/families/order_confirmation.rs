//! Confirming a paid order: stock, ledger and the confirmation email.
//!
//! The queue and retry policy are fixed here; the payload type and its handler arrive with the
//! feature that enqueues them (the checkout issue).

use std::time::Duration;

use crate::RetryPolicy;

pub const QUEUE: &str = "order_confirmation.confirm";
pub const RETRY: RetryPolicy =
    RetryPolicy::new(10, Duration::from_secs(5), Duration::from_secs(1800));
