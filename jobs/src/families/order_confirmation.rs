//! An order's mails (confirmation with payment instructions, payment receipt, shipped,
//! delivered, cancelled, review request), each sent once per order; and the expiry of unpaid
//! manual orders.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{Job, RetryPolicy};

/// The mails of an order, one of each at most.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderMail {
    Confirmation,
    PaymentReceipt,
    Shipped,
    Delivered,
    Cancelled,
    ReviewRequest,
}

impl OrderMail {
    /// The name it is recorded under (`order_mails.kind`) and its idempotency key's part.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderMail::Confirmation => "confirmation",
            OrderMail::PaymentReceipt => "payment_receipt",
            OrderMail::Shipped => "shipped",
            OrderMail::Delivered => "delivered",
            OrderMail::Cancelled => "cancelled",
            OrderMail::ReviewRequest => "review_request",
        }
    }
}

/// Stores one mail of an order, unless it was stored before (`order_mails` holds one row per
/// order and kind, written in the mail's own transaction), then sends it: any number of runs
/// send it once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SendOrderMail {
    pub tenant_id: cartwheel_entity::TenantId,
    pub order_id: uuid::Uuid,
    pub mail: OrderMail,
    /// The confirmation's link to the order for a guest: the order keeps only its hash, and
    /// the mail drops it once sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl Job for SendOrderMail {
    const QUEUE: &'static str = "order_confirmation.mail";
    const RETRY: RetryPolicy =
        RetryPolicy::new(10, Duration::from_secs(5), Duration::from_secs(1800));
    /// A mail job waits on the SMTP server most of its time: at 8 at once, a shop placing 90
    /// orders a second built a backlog of thousands of mails (docs/BENCHMARKS.md).
    const CONCURRENCY_SCALE: usize = crate::MAIL_CONCURRENCY_SCALE;

    fn tenant(&self) -> Option<cartwheel_entity::TenantId> {
        Some(self.tenant_id)
    }
}

impl SendOrderMail {
    pub fn idempotency_key(&self) -> String {
        format!("order-mail:{}:{}", self.order_id, self.mail.as_str())
    }
}

/// Cancels the manual orders left unpaid past their due time, releasing their stock, and gives
/// back the stock of card checkouts left unpaid an hour (from the cron table, every few
/// minutes).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ExpireUnpaidOrders {}

impl Job for ExpireUnpaidOrders {
    const QUEUE: &'static str = "order_confirmation.expire";
    const RETRY: RetryPolicy =
        RetryPolicy::new(3, Duration::from_secs(60), Duration::from_secs(600));
}
