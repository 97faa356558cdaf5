//! Runs an order's mails and the expiry of unpaid manual orders.

use cartwheel_domain::orders::{mails, status};
use cartwheel_jobs::families::order_confirmation::{ExpireUnpaidOrders, SendOrderMail};

use crate::handler::{Handler, JobContext, JobError};

/// The most unpaid orders one expiry run cancels; the next run (minutes later) takes the rest.
const EXPIRE_AT_MOST: u64 = 500;

impl Handler for SendOrderMail {
    async fn handle(self, ctx: &JobContext) -> Result<(), JobError> {
        let queued = mails::queue(&ctx.db, &self)
            .await
            .map_err(JobError::retryable)?;
        tracing::info!(order_id = %self.order_id, mail = self.mail.as_str(), ?queued, "order mail");
        Ok(())
    }
}

impl Handler for ExpireUnpaidOrders {
    async fn handle(self, ctx: &JobContext) -> Result<(), JobError> {
        let expired = status::expire_unpaid(&ctx.db, chrono::Utc::now(), EXPIRE_AT_MOST)
            .await
            .map_err(JobError::retryable)?;
        tracing::info!(expired, "unpaid orders expired");
        Ok(())
    }
}
