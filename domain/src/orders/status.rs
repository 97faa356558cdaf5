//! Moving an order on. The order status (pending → processing → shipped → delivered, or
//! cancelled before shipping) and the payment status (pending → paid) move separately; each
//! move locks the order's row, checks the move is legal from where the order is now, does what
//! the move means for stock (shipped: out of stock; cancelled: released) and enqueues the
//! order's mail, all in one transaction. Cancelling a card-paid order refunds what is left of it
//! (`payments::refunds::on_cancel`).

use std::time::Duration;

use cartwheel_entity::{TenantId, order_lines, orders};
use cartwheel_jobs::NewJob;
use cartwheel_jobs::families::order_confirmation::{OrderMail, SendOrderMail};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::{OrderError, OrderView, PaymentMethod, PaymentStatus, Reader, Status};
use crate::audit::{self, Action, Actor, Diff, Entity};
use crate::checkout::reserve::{self, Outcome};
use crate::dashboard::rollups;
use crate::ledger;
use crate::validation::FieldProblem;

/// The order settings of the deployment.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    /// How long a manual order may stay unpaid before it is cancelled.
    pub payment_window: Duration,
    /// How long after delivery the review request goes out.
    pub review_after: Duration,
}

/// The legal moves of the order status: forward one step, or cancelled before shipping.
pub fn allowed(from: Status, to: Status) -> bool {
    use Status::*;
    matches!(
        (from, to),
        (Pending, Processing)
            | (Pending, Cancelled)
            | (Processing, Shipped)
            | (Processing, Cancelled)
            | (Shipped, Delivered)
    )
}

pub fn name(status: Status) -> &'static str {
    match status {
        Status::Pending => "pending",
        Status::Processing => "processing",
        Status::Shipped => "shipped",
        Status::Delivered => "delivered",
        Status::Cancelled => "cancelled",
    }
}

/// The parcel of a shipped order.
#[derive(Clone, Debug, Default)]
pub struct Shipment {
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    pub tracking_url: Option<String>,
}

/// An admin moves the order to `to`.
#[tracing::instrument(skip_all, fields(tenant = %by.tenant_id))]
pub async fn move_to(
    db: &DatabaseConnection,
    by: &Actor,
    id: Uuid,
    to: Status,
    shipment: Shipment,
    timing: Timing,
) -> Result<OrderView, OrderError> {
    let tenant_id = by.tenant_id;
    let shipment = check_shipment(shipment)?;
    let txn = crate::transaction::begin(db).await?;
    let order = locked(&txn, tenant_id, id, None).await?;
    let from = order.status;
    let diff = Diff::default()
        .field("status", name(from), name(to))
        .field("carrier", (), &shipment.carrier)
        .field("trackingNumber", (), &shipment.tracking_number)
        .field("trackingUrl", (), &shipment.tracking_url);
    let order = apply(&txn, order, to, shipment).await?;
    audit::record(&txn, by, Entity::Order, id, Action::StatusChanged, diff).await?;
    if to == Status::Delivered {
        let at = Utc::now() + chrono::Duration::from_std(timing.review_after).unwrap_or_default();
        enqueue_mail(&txn, &order, OrderMail::ReviewRequest, Some(at)).await?;
    }
    let view = super::with_lines(&txn, order).await?;
    txn.commit().await?;
    Ok(view)
}

/// A shopper cancels their order before it ships.
#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn cancel_by_shopper(
    db: &DatabaseConnection,
    tenant_id: TenantId,
    id: Uuid,
    reader: Reader<'_>,
) -> Result<OrderView, OrderError> {
    let txn = crate::transaction::begin(db).await?;
    let order = locked(&txn, tenant_id, id, Some(reader)).await?;
    let order = apply(&txn, order, Status::Cancelled, Shipment::default()).await?;
    let view = super::with_lines(&txn, order).await?;
    txn.commit().await?;
    Ok(view)
}

/// An admin records a manual order's payment: paid, and a pending order moves to processing.
#[tracing::instrument(skip_all, fields(tenant = %by.tenant_id))]
pub async fn mark_paid(
    db: &DatabaseConnection,
    by: &Actor,
    id: Uuid,
) -> Result<OrderView, OrderError> {
    let tenant_id = by.tenant_id;
    let txn = crate::transaction::begin(db).await?;
    let order = locked(&txn, tenant_id, id, None).await?;
    if order.payment_status != PaymentStatus::Pending || order.status == Status::Cancelled {
        return Err(OrderError::Conflict(format!(
            "The order is {} and its payment {}; only an open, unpaid order can be marked paid.",
            name(order.status),
            payment_name(order.payment_status)
        )));
    }
    let now = Utc::now();
    let status = order.status;
    let before = order.clone();
    let mut active: orders::ActiveModel = order.into();
    active.payment_status = Set(PaymentStatus::Paid);
    active.paid_at = Set(Some(now));
    active.payment_due_at = Set(None);
    if status == Status::Pending {
        active.status = Set(Status::Processing);
    }
    active.updated_at = Set(now);
    let order = active.update(&txn).await?;
    rollups::order_changed(&txn, Some(&before), &order, None).await?;
    let diff = Diff::default()
        .field(
            "paymentStatus",
            payment_name(PaymentStatus::Pending),
            payment_name(order.payment_status),
        )
        .field("status", name(status), name(order.status));
    audit::record(&txn, by, Entity::Order, id, Action::MarkedPaid, diff).await?;
    // The manual payment: one per order.
    let lines = ledger::payment(order.total);
    ledger::post_for_order(&txn, &order, ledger::Kind::PaymentEntry, order.total, lines).await?;
    enqueue_mail(&txn, &order, OrderMail::PaymentReceipt, None).await?;
    let view = super::with_lines(&txn, order).await?;
    txn.commit().await?;
    Ok(view)
}

/// Cancels the manual orders unpaid past their due time (at most `limit` of them), releasing
/// their stock; returns how many. Each is re-checked under its lock, so an order paid meanwhile
/// stays.
#[tracing::instrument(skip_all)]
pub async fn expire_unpaid(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<usize, OrderError> {
    let due: Vec<(Uuid, TenantId)> = orders::Entity::find()
        .select_only()
        .column(orders::Column::Id)
        .column(orders::Column::TenantId)
        .filter(orders::Column::PaymentDueAt.lt(now))
        .filter(orders::Column::PaymentStatus.eq(PaymentStatus::Pending))
        .filter(orders::Column::PaymentMethod.eq(PaymentMethod::Manual))
        .filter(orders::Column::Status.eq(Status::Pending))
        .order_by_asc(orders::Column::PaymentDueAt)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    let mut expired = 0;
    for (id, tenant_id) in due {
        let txn = crate::transaction::begin(db).await?;
        let order = locked(&txn, tenant_id, id, None).await?;
        let still_due = order.status == Status::Pending
            && order.payment_status == PaymentStatus::Pending
            && order.payment_due_at.is_some_and(|at| at < now);
        if still_due {
            apply(&txn, order, Status::Cancelled, Shipment::default()).await?;
            expired += 1;
        }
        txn.commit().await?;
    }
    Ok(expired)
}

async fn locked(
    txn: &DatabaseTransaction,
    tenant_id: TenantId,
    id: Uuid,
    reader: Option<Reader<'_>>,
) -> Result<orders::Model, OrderError> {
    let mut query = orders::Entity::find_by_id(id).filter(orders::Column::TenantId.eq(tenant_id));
    if let Some(reader) = reader {
        query = query.filter(reader.condition());
    }
    query
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or(OrderError::NotFound)
}

/// The move itself, on the locked order.
async fn apply(
    txn: &DatabaseTransaction,
    order: orders::Model,
    to: Status,
    shipment: Shipment,
) -> Result<orders::Model, OrderError> {
    if !allowed(order.status, to) {
        return Err(OrderError::Conflict(format!(
            "The order is {}; it cannot move to {}.",
            name(order.status),
            name(to)
        )));
    }
    let now = Utc::now();
    let mut active: orders::ActiveModel = order.clone().into();
    active.status = Set(to);
    active.updated_at = Set(now);
    let mail = match to {
        Status::Pending => None,
        Status::Processing => None,
        Status::Shipped => {
            let reason = format!("order #{} shipped", order.number);
            reserve::settle(
                txn,
                order.tenant_id,
                order.checkout_id,
                Outcome::Shipped,
                &reason,
            )
            .await?;
            let cost = order_lines::Entity::find()
                .filter(order_lines::Column::OrderId.eq(order.id))
                .all(txn)
                .await?
                .iter()
                .map(|l| l.unit_cost * l.quantity)
                .sum();
            let lines = ledger::shipment(cost);
            ledger::post_for_order(txn, &order, ledger::Kind::Shipment, cost, lines).await?;
            active.shipped_at = Set(Some(now));
            active.carrier = Set(shipment.carrier);
            active.tracking_number = Set(shipment.tracking_number);
            active.tracking_url = Set(shipment.tracking_url);
            Some(OrderMail::Shipped)
        }
        Status::Delivered => {
            active.delivered_at = Set(Some(now));
            Some(OrderMail::Delivered)
        }
        Status::Cancelled => {
            let reason = format!("order #{} cancelled", order.number);
            reserve::settle(
                txn,
                order.tenant_id,
                order.checkout_id,
                Outcome::Released,
                &reason,
            )
            .await?;
            match order.payment_method {
                PaymentMethod::Manual => {
                    let lines = ledger::credit_note(&order);
                    ledger::post_for_order(
                        txn,
                        &order,
                        ledger::Kind::CreditNote,
                        order.total,
                        lines,
                    )
                    .await?;
                    // A manual payment received is owed back; the admin pays it and records it.
                    if order.payment_status == PaymentStatus::Paid {
                        active.refund_due = Set(order.total - order.refunded);
                    }
                }
                // The card payment is paid back by a job; each Stripe refund reverses its part
                // of the sale when it is recorded (`payments::refunds::record`).
                PaymentMethod::Stripe => {
                    crate::payments::refunds::on_cancel(txn, &order).await?;
                }
            }
            active.cancelled_at = Set(Some(now));
            active.payment_due_at = Set(None);
            Some(OrderMail::Cancelled)
        }
    };
    let moved = active.update(txn).await?;
    if let Some(mail) = mail {
        enqueue_mail(txn, &moved, mail, None).await?;
    }
    rollups::order_changed(txn, Some(&order), &moved, None).await?;
    Ok(moved)
}

/// Enqueues one of the order's mails on `txn` (a delayed one at `at`): keyed by order and kind,
/// so a second enqueue of the same mail is a no-op.
pub(crate) async fn enqueue_mail<C: ConnectionTrait>(
    txn: &C,
    order: &orders::Model,
    mail: OrderMail,
    at: Option<DateTime<Utc>>,
) -> Result<(), cartwheel_jobs::EnqueueError> {
    let job = SendOrderMail {
        tenant_id: order.tenant_id,
        order_id: order.id,
        mail,
        token: None,
    };
    let key = job.idempotency_key();
    let mut job = NewJob::new(job).idempotency_key(key);
    if let Some(at) = at {
        job = job.run_at(at);
    }
    cartwheel_jobs::enqueue(txn, job).await?;
    Ok(())
}

pub fn payment_name(status: PaymentStatus) -> &'static str {
    match status {
        PaymentStatus::Pending => "pending",
        PaymentStatus::Paid => "paid",
        PaymentStatus::PartiallyRefunded => "partially_refunded",
        PaymentStatus::Refunded => "refunded",
    }
}

fn check_shipment(mut s: Shipment) -> Result<Shipment, OrderError> {
    let mut problems = Vec::new();
    let mut check = |field: &'static str, value: &mut Option<String>, max: usize| {
        *value = value
            .take()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty());
        if let Some(v) = value
            && let Err(p) = crate::validation::check_length(field, v, max)
        {
            problems.push(p);
        }
    };
    check("carrier", &mut s.carrier, 100);
    check("trackingNumber", &mut s.tracking_number, 100);
    check("trackingUrl", &mut s.tracking_url, 500);
    if let Some(url) = &s.tracking_url
        && !(url.starts_with("https://") || url.starts_with("http://"))
    {
        problems.push(FieldProblem::new("trackingUrl", "must be an http(s) URL"));
    }
    if problems.is_empty() {
        Ok(s)
    } else {
        Err(OrderError::Invalid(problems))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::Iterable;

    #[test]
    fn only_forward_steps_and_cancelling_before_shipping_are_legal() {
        let legal: Vec<(Status, Status)> = Status::iter()
            .flat_map(|from| Status::iter().map(move |to| (from, to)))
            .filter(|(from, to)| allowed(*from, *to))
            .collect();
        use Status::*;
        assert_eq!(
            legal,
            [
                (Pending, Processing),
                (Pending, Cancelled),
                (Processing, Shipped),
                (Processing, Cancelled),
                (Shipped, Delivered),
            ]
        );
    }
}
