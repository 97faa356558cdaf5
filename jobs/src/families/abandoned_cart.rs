//! Reminding shoppers of carts they left, once per cart.
//!
//! The queue and retry policy are fixed here; the payload type and its handler arrive with the
//! feature that enqueues them (the storefront issue).

use std::time::Duration;

use crate::RetryPolicy;

pub const QUEUE: &str = "abandoned_cart.remind";
pub const RETRY: RetryPolicy =
    RetryPolicy::new(5, Duration::from_secs(60), Duration::from_secs(3600));
