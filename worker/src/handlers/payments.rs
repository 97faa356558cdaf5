//! Runs Stripe's webhook events, the refunds admins ask for, and the refunds of money that
//! could place no order.

use cartwheel_domain::checkout::CheckoutError;
use cartwheel_domain::payments::refunds::RefundError;
use cartwheel_domain::payments::stripe::CallError;
use cartwheel_domain::payments::{events, refunds};
use cartwheel_jobs::families::payments::{HandleStripeEvent, RefundOrphanPayment, SendRefund};

use crate::handler::{Handler, JobContext, JobError};

impl Handler for HandleStripeEvent {
    async fn handle(self, ctx: &JobContext) -> Result<(), JobError> {
        events::handle(&ctx.db, &ctx.stripe, self.tenant_id, &self.event_id)
            .await
            .map_err(job_error)
    }
}

impl Handler for RefundOrphanPayment {
    async fn handle(self, ctx: &JobContext) -> Result<(), JobError> {
        refunds::refund_orphan(&ctx.db, &ctx.stripe, self.tenant_id, self.payment_id)
            .await
            .map_err(job_error)
    }
}

impl Handler for SendRefund {
    async fn handle(self, ctx: &JobContext) -> Result<(), JobError> {
        match refunds::send(&ctx.db, &ctx.stripe, self.tenant_id, self.refund_id).await {
            // Refused: the refund is recorded as failed, its amount free again.
            Ok(_) | Err(RefundError::NotFound | RefundError::Provider(CallError::Refused(_))) => {
                Ok(())
            }
            Err(e) => Err(JobError::retryable(e)),
        }
    }
}

/// Stripe refusing the request (a key revoked, an id it does not know) will refuse it again;
/// anything else may pass on a later attempt.
fn job_error(e: CheckoutError) -> JobError {
    match e {
        CheckoutError::Provider(CallError::Refused(_) | CallError::Keys(_)) => {
            JobError::permanent(e)
        }
        _ => JobError::retryable(e),
    }
}
