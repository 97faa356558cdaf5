//! An order's mails. The `SendOrderMail` job calls [`queue`]: one transaction records the mail
//! in `order_mails` (one row per order and kind: a second run finds it and adds nothing) and
//! stores the email row, whose id follows from the order and the kind. The job then sends that
//! row itself, claimed and recorded as every email is (`crate::emails`), so a re-run after a
//! crash sends it if it did not go and finds it sent if it did: one job per mail, not two.

use cartwheel_entity::orders;
use cartwheel_jobs::families::order_confirmation::{OrderMail, SendOrderMail};
use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, Statement};
use uuid::Uuid;

use super::{OrderError, status};
use crate::emails::{self, NewEmail, Template};

/// What [`queue`] did, and the email row to send.
#[derive(Debug, PartialEq, Eq)]
pub enum Queued {
    Now(Uuid),
    /// An earlier run stored it: sent already, or not yet if that run stopped before the send.
    /// (A mail queued before order mails were sent by their own job has another id and its own
    /// `SendEmail` job: no row of this id exists for it.)
    Before(Uuid),
    /// The order is gone.
    NoOrder,
}

/// The email row of `job`'s mail: one per order and kind.
pub fn email_id(job: &SendOrderMail) -> Uuid {
    emails::id_for(&job.idempotency_key())
}

#[tracing::instrument(skip_all, fields(tenant = %job.tenant_id, order = %job.order_id))]
pub async fn queue(db: &DatabaseConnection, job: &SendOrderMail) -> Result<Queued, OrderError> {
    let txn = crate::transaction::begin(db).await?;
    let Some(order) = orders::Entity::find_by_id(job.order_id).one(&txn).await? else {
        return Ok(Queued::NoOrder);
    };
    let backend = txn.get_database_backend();
    let p = |n| crate::sql::placeholder(backend, n);
    let recorded = txn
        .execute_raw(Statement::from_sql_and_values(
            backend,
            format!(
                "INSERT INTO order_mails (order_id, kind, created_at) VALUES ({}, {}, {}) \
                 ON CONFLICT (order_id, kind) DO NOTHING",
                p(1),
                p(2),
                p(3)
            ),
            [order.id.into(), job.mail.as_str().into(), Utc::now().into()],
        ))
        .await?
        .rows_affected();
    if recorded == 0 {
        txn.rollback().await?;
        return Ok(Queued::Before(email_id(job)));
    }
    let view = super::with_lines(&txn, order).await?;
    let context = context(&view, job.token.as_deref());
    let id = email_id(job);
    emails::store(
        &txn,
        id,
        NewEmail {
            tenant_id: Some(view.order.tenant_id),
            to: view.order.email.clone(),
            template: template(job.mail),
            context,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(Queued::Now(id))
}

fn template(mail: OrderMail) -> Template {
    match mail {
        OrderMail::Confirmation => Template::OrderConfirmation,
        OrderMail::PaymentReceipt => Template::PaymentReceipt,
        OrderMail::Shipped => Template::OrderShipped,
        OrderMail::Delivered => Template::OrderDelivered,
        OrderMail::Cancelled => Template::OrderCancelled,
        OrderMail::ReviewRequest => Template::ReviewRequest,
    }
}

/// What every order mail's templates may show.
fn context(view: &super::OrderView, token: Option<&str>) -> serde_json::Value {
    let o = &view.order;
    let lines: Vec<serde_json::Value> = view
        .lines
        .iter()
        .map(|l| {
            serde_json::json!({
                "name": l.name,
                "sku": l.sku,
                "qty": l.quantity,
                "unit_price": l.unit_price,
                "line_total": l.line_total,
            })
        })
        .collect();
    serde_json::json!({
        "order_id": o.id,
        "number": o.number,
        "token": token,
        "status": status::name(o.status),
        "payment_status": status::payment_name(o.payment_status),
        "payment_method": match o.payment_method {
            orders::PaymentMethod::Manual => "manual",
            orders::PaymentMethod::Stripe => "stripe",
        },
        "payment_instructions": super::payment_instructions(o),
        "payment_due_at": o.payment_due_at.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()),
        "currency": o.currency,
        "lines": lines,
        "subtotal": o.subtotal,
        "discount": o.discount,
        "shipping": o.shipping,
        "tax": o.tax,
        "total": o.total,
        "refund_due": o.refund_due,
        "shipping_method": o.shipping_method,
        "shipping_address": o.shipping_address,
        "billing_address": o.billing_address,
        "carrier": o.carrier,
        "tracking_number": o.tracking_number,
        "tracking_url": o.tracking_url,
    })
}
