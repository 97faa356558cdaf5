//! Runs an order's mails (stored, then sent by the same job), the expiry of unpaid manual
//! orders, and the release of card checkouts whose shoppers never paid.

use cartwheel_domain::orders::mails::{self, Queued};
use cartwheel_domain::orders::status;
use cartwheel_jobs::families::order_confirmation::{ExpireUnpaidOrders, SendOrderMail};

use crate::handler::{Handler, JobContext, JobError};
use crate::handlers::email::{Delivery, deliver};

/// The most unpaid orders one expiry run cancels; the next run (minutes later) takes the rest.
const EXPIRE_AT_MOST: u64 = 500;

impl Handler for SendOrderMail {
    async fn handle(self, ctx: &JobContext) -> Result<(), JobError> {
        let queued = mails::queue(&ctx.db, &self)
            .await
            .map_err(JobError::retryable)?;
        tracing::info!(order_id = %self.order_id, mail = self.mail.as_str(), ?queued, "order mail");
        let (email_id, before) = match queued {
            Queued::Now(id) => (id, false),
            Queued::Before(id) => (id, true),
            Queued::NoOrder => return Ok(()),
        };
        match deliver(ctx, email_id).await? {
            Delivery::Sent | Delivery::SentBefore => Ok(()),
            // Queued before this job sent its own mails: its `SendEmail` job sends it.
            Delivery::Missing if before => Ok(()),
            Delivery::Missing => Err(JobError::permanent(anyhow::anyhow!(
                "email {email_id} of order {} is gone",
                self.order_id
            ))),
        }
    }
}

impl Handler for ExpireUnpaidOrders {
    async fn handle(self, ctx: &JobContext) -> Result<(), JobError> {
        let expired = status::expire_unpaid(&ctx.db, chrono::Utc::now(), EXPIRE_AT_MOST)
            .await
            .map_err(JobError::retryable)?;
        let released = cartwheel_domain::payments::card::release_abandoned(
            &ctx.db,
            chrono::Utc::now() - cartwheel_domain::payments::card::CARD_HOLD,
            EXPIRE_AT_MOST,
        )
        .await
        .map_err(JobError::retryable)?;
        tracing::info!(
            expired,
            released,
            "unpaid orders expired, abandoned card checkouts released"
        );
        Ok(())
    }
}
