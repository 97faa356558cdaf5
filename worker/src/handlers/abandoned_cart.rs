//! Runs the abandoned-cart scan (hourly, from the cron table) and the per-cart reminders.

use std::time::Duration;

use cartwheel_domain::carts::abandoned::{self, Reminder};
use cartwheel_jobs::NewJob;
use cartwheel_jobs::families::abandoned_cart::{FindAbandonedCarts, RemindAbandonedCart};

use crate::handler::{Handler, JobContext, JobError};

impl Handler for FindAbandonedCarts {
    async fn handle(self, ctx: &JobContext) -> Result<(), JobError> {
        let idle = Duration::from_secs(self.idle_minutes * 60);
        let found = abandoned::find(&ctx.db, idle, chrono::Utc::now())
            .await
            .map_err(JobError::retryable)?;
        let count = found.len();
        // One reminder job per cart: its idempotency key makes a second scan's enqueue a no-op.
        let jobs = found
            .into_iter()
            .map(|(tenant_id, cart_id)| {
                let job = RemindAbandonedCart {
                    cart_id,
                    idle_minutes: self.idle_minutes,
                };
                let key = job.idempotency_key();
                NewJob::new(job).tenant(tenant_id).idempotency_key(key)
            })
            .collect();
        let enqueued = cartwheel_jobs::enqueue_batch(&ctx.db, jobs)
            .await
            .map_err(JobError::retryable)?;
        let new = enqueued.iter().filter(|e| e.created).count();
        if count as u64 == abandoned::SCAN_LIMIT {
            tracing::warn!(
                limit = abandoned::SCAN_LIMIT,
                "abandoned-cart scan hit its limit; the next scan takes the rest"
            );
        }
        tracing::info!(found = count, new, "abandoned-cart scan done");
        Ok(())
    }
}

impl Handler for RemindAbandonedCart {
    async fn handle(self, ctx: &JobContext) -> Result<(), JobError> {
        let idle = Duration::from_secs(self.idle_minutes * 60);
        match abandoned::remind(&ctx.db, self.cart_id, idle, chrono::Utc::now()).await {
            Ok(Reminder::Queued) => {
                tracing::info!(cart_id = %self.cart_id, "abandoned-cart reminder queued");
                Ok(())
            }
            Ok(Reminder::NotDue) => {
                tracing::info!(cart_id = %self.cart_id, "cart needs no reminder");
                Ok(())
            }
            Err(e) => Err(JobError::retryable(e)),
        }
    }
}
