//! Card payments through Stripe: each webhook event handled once it is stored, and refunds
//! sent to Stripe with keys from our own rows, so a retried job repeats the same request.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{Job, RetryPolicy};

/// Handles one stored Stripe event: re-fetches its PaymentIntent from Stripe and acts on the
/// status Stripe gives (never on the event's copy): places the order, marks the payment failed,
/// or reconciles refunds. Safe to run any number of times.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HandleStripeEvent {
    pub tenant_id: cartwheel_entity::TenantId,
    pub event_id: String,
}

impl Job for HandleStripeEvent {
    const QUEUE: &'static str = "payments.stripe_event";
    /// Stripe may be unreachable for a while: the money must still find its order.
    const RETRY: RetryPolicy =
        RetryPolicy::new(12, Duration::from_secs(5), Duration::from_secs(1800));

    fn tenant(&self) -> Option<cartwheel_entity::TenantId> {
        Some(self.tenant_id)
    }
}

impl HandleStripeEvent {
    pub fn idempotency_key(&self) -> String {
        format!("stripe-event:{}:{}", self.tenant_id, self.event_id)
    }
}

/// Pays back money that arrived for a checkout that could place no order (its stock was gone,
/// or another payment had placed it), and mails the shopper.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RefundOrphanPayment {
    pub tenant_id: cartwheel_entity::TenantId,
    pub payment_id: uuid::Uuid,
}

impl Job for RefundOrphanPayment {
    const QUEUE: &'static str = "payments.refund_orphan";
    const RETRY: RetryPolicy =
        RetryPolicy::new(12, Duration::from_secs(5), Duration::from_secs(1800));

    fn tenant(&self) -> Option<cartwheel_entity::TenantId> {
        Some(self.tenant_id)
    }
}

impl RefundOrphanPayment {
    pub fn idempotency_key(&self) -> String {
        format!("refund-orphan:{}", self.payment_id)
    }
}

/// Asks Stripe for a refund an admin requested (`refunds` row), with the row's idempotency key:
/// the request's own call and this job's make one refund between them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SendRefund {
    pub tenant_id: cartwheel_entity::TenantId,
    pub refund_id: uuid::Uuid,
}

impl Job for SendRefund {
    const QUEUE: &'static str = "payments.refund";
    const RETRY: RetryPolicy =
        RetryPolicy::new(12, Duration::from_secs(5), Duration::from_secs(1800));

    fn tenant(&self) -> Option<cartwheel_entity::TenantId> {
        Some(self.tenant_id)
    }
}

impl SendRefund {
    pub fn idempotency_key(&self) -> String {
        format!("refund:{}", self.refund_id)
    }
}
