//! One module per job family. Each job type is its own queue, named `<family>.<job>`.

pub mod abandoned_cart;
pub mod backup;
pub mod email;
pub mod maintenance;
pub mod noop;
pub mod order_confirmation;
pub mod provisioning;
pub mod stock;

use crate::{Job, RetryPolicy};

/// Checks that `payload` is a valid payload for the job type named `queue`, and gives the
/// type's retry policy. The cron table names jobs this way.
pub fn check_payload(queue: &str, payload: &serde_json::Value) -> Result<RetryPolicy, String> {
    fn check<J: Job>(payload: &serde_json::Value) -> Result<RetryPolicy, String> {
        serde_json::from_value::<J>(payload.clone())
            .map(|_| J::RETRY)
            .map_err(|e| format!("payload does not fit `{}`: {e}", J::QUEUE))
    }
    match queue {
        noop::Noop::QUEUE => check::<noop::Noop>(payload),
        maintenance::PruneJobs::QUEUE => check::<maintenance::PruneJobs>(payload),
        abandoned_cart::FindAbandonedCarts::QUEUE => {
            check::<abandoned_cart::FindAbandonedCarts>(payload)
        }
        stock::SweepStock::QUEUE => check::<stock::SweepStock>(payload),
        other => Err(format!(
            "unknown job `{other}`; known: {}, {}, {}, {}",
            noop::Noop::QUEUE,
            maintenance::PruneJobs::QUEUE,
            abandoned_cart::FindAbandonedCarts::QUEUE,
            stock::SweepStock::QUEUE,
        )),
    }
}
