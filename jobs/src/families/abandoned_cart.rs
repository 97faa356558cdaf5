//! Reminding shoppers of carts they left, once per cart: an hourly scan finds the carts, and
//! one reminder job per cart (idempotency key `abandoned-cart:<cart id>`) sends the mail.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{Job, RetryPolicy};

/// Finds carts idle longer than `idle_minutes`, with lines and a known email, not yet
/// reminded and not ordered, and enqueues a `RemindAbandonedCart` for each.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FindAbandonedCarts {
    pub idle_minutes: u64,
}

impl Job for FindAbandonedCarts {
    const QUEUE: &'static str = "abandoned_cart.scan";
    const RETRY: RetryPolicy =
        RetryPolicy::new(3, Duration::from_secs(60), Duration::from_secs(600));
}

/// Sends the reminder for one cart, unless it was sent, the cart was ordered or changed since.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RemindAbandonedCart {
    pub cart_id: uuid::Uuid,
    pub idle_minutes: u64,
}

impl Job for RemindAbandonedCart {
    const QUEUE: &'static str = "abandoned_cart.remind";
    const RETRY: RetryPolicy =
        RetryPolicy::new(5, Duration::from_secs(60), Duration::from_secs(3600));
}

impl RemindAbandonedCart {
    pub fn idempotency_key(&self) -> String {
        format!("abandoned-cart:{}", self.cart_id)
    }
}
