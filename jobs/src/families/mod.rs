//! One module per job family. Each job type is its own queue, named `<family>.<job>`.

pub mod abandoned_cart;
pub mod backup;
pub mod email;
pub mod maintenance;
pub mod noop;
pub mod order_confirmation;
pub mod payments;
pub mod provisioning;
pub mod stock;

use crate::{Job, RetryPolicy};

/// Every job type, the one list of them: calls `$then!` with their paths. The worker registers
/// a handler for each (and does not compile without one); the cron table may name each.
/// Adding a job type is a line here and its handler.
#[macro_export]
macro_rules! with_every_job {
    ($then:ident) => {
        $then!(
            $crate::families::noop::Noop,
            $crate::families::maintenance::PruneJobs,
            $crate::families::provisioning::ProvisionTenant,
            $crate::families::email::SendEmail,
            $crate::families::email::RequestPasswordReset,
            $crate::families::abandoned_cart::FindAbandonedCarts,
            $crate::families::abandoned_cart::RemindAbandonedCart,
            $crate::families::stock::CheckStock,
            $crate::families::stock::SweepStock,
            $crate::families::order_confirmation::SendOrderMail,
            $crate::families::order_confirmation::ExpireUnpaidOrders,
            $crate::families::backup::RunBackup,
            $crate::families::payments::HandleStripeEvent,
            $crate::families::payments::RefundOrphanPayment,
            $crate::families::payments::SendRefund,
        )
    };
}

/// Every queue, one per job type.
pub const QUEUES: &[&str] = {
    macro_rules! queues {
        ($($job:path),* $(,)?) => { &[$(<$job as Job>::QUEUE),*] };
    }
    with_every_job!(queues)
};

/// Checks that `payload` is a valid payload for the job type named `queue`, and gives the
/// type's retry policy. The cron table names jobs this way.
pub fn check_payload(queue: &str, payload: &serde_json::Value) -> Result<RetryPolicy, String> {
    macro_rules! check {
        ($($job:path),* $(,)?) => {
            $(
                if queue == <$job as Job>::QUEUE {
                    return serde_json::from_value::<$job>(payload.clone())
                        .map(|_| <$job as Job>::RETRY)
                        .map_err(|e| format!("payload does not fit `{queue}`: {e}"));
                }
            )*
        };
    }
    with_every_job!(check);
    Err(format!(
        "unknown job `{queue}`; known: {}",
        QUEUES.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_queue_is_named_once() {
        let mut queues = QUEUES.to_vec();
        queues.sort_unstable();
        queues.dedup();
        assert_eq!(queues.len(), QUEUES.len());
        assert!(check_payload(noop::Noop::QUEUE, &serde_json::json!({})).is_ok());
        let unknown = check_payload("nope.nothing", &serde_json::json!({})).unwrap_err();
        assert!(unknown.contains("email.send"), "{unknown}");
    }
}
