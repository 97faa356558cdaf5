//! Card money paid back through Stripe. An admin's refund is recorded first (its amount held
//! under the order's row lock, so concurrent requests never pay back more than was received),
//! with a job in the same transaction; then Stripe is asked with an idempotency key made from
//! the row, by the request and, should that fail, by the job: one refund between them. Each
//! refund Stripe reports, asked for here or made in Stripe's dashboard, is recorded once
//! (`record`): its ledger posting, the order's refunded amount, and the shopper's mail.

use std::collections::HashMap;

use cartwheel_entity::{TenantId, checkouts, orders, payments, refunds};
use cartwheel_jobs::NewJob;
use cartwheel_jobs::families::payments::SendRefund;
use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    IntoActiveModel, QueryFilter, QuerySelect, Set,
};
use uuid::Uuid;

use super::stripe::{CallError, Stripe};
use crate::audit::{self, Action, Actor, Diff, Entity};
use crate::checkout::CheckoutError;
use crate::emails::{self, NewEmail, Template};
use crate::ledger;
use crate::validation::FieldProblem;

#[derive(Debug, thiserror::Error)]
pub enum RefundError {
    #[error("no such order")]
    NotFound,
    /// Not paid by card, or nothing is left to refund.
    #[error("{0}")]
    Conflict(String),
    #[error("invalid input")]
    Invalid(Vec<FieldProblem>),
    #[error(transparent)]
    Provider(#[from] CallError),
    #[error(transparent)]
    Database(#[from] sea_orm::DbErr),
    #[error(transparent)]
    Enqueue(#[from] cartwheel_jobs::EnqueueError),
}

/// What a refund request came to: the refund and its order, as they stand.
pub struct Refunded {
    pub refund: refunds::Model,
    pub order: orders::Model,
}

/// Refunds `amount` (all that is left when `None`) of a card-paid order (see the module's docs).
#[tracing::instrument(skip_all, fields(tenant = %by.tenant_id, order = %order_id))]
pub async fn request(
    db: &DatabaseConnection,
    stripe: &Stripe,
    by: &Actor,
    order_id: Uuid,
    amount: Option<i64>,
    reason: String,
) -> Result<Refunded, RefundError> {
    let tenant_id = by.tenant_id;
    let txn = crate::transaction::begin(db).await?;
    let order = orders::Entity::find_by_id(order_id)
        .filter(orders::Column::TenantId.eq(tenant_id))
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(RefundError::NotFound)?;
    let (payment, left) = refundable(&txn, &order).await?.ok_or_else(|| {
        RefundError::Conflict(
            "The order was not paid by card: a manual payment is paid back by the shop itself."
                .into(),
        )
    })?;
    if left <= 0 {
        return Err(RefundError::Conflict(
            "Nothing is left to refund on this order.".into(),
        ));
    }
    let amount = amount.unwrap_or(left);
    if amount > left {
        return Err(RefundError::Invalid(vec![FieldProblem::new(
            "amount",
            format!("is more than what is left to refund ({left})"),
        )]));
    }
    let diff = Diff::default()
        .field("refundAmount", (), amount)
        .field("reason", (), &reason);
    let refund = hold(&txn, &order, &payment, amount, reason).await?;
    audit::record(&txn, by, Entity::Order, order_id, Action::Refunded, diff).await?;
    txn.commit().await?;
    let refund = send(db, stripe, tenant_id, refund.id).await?;
    let order = orders::Entity::find_by_id(order_id)
        .one(db)
        .await?
        .ok_or(RefundError::NotFound)?;
    Ok(Refunded { refund, order })
}

/// Refunds all that is left of a card-paid order being cancelled, through the job enqueued on
/// `txn` (which holds the order's row lock): `Ok(None)` when it was not paid by card or nothing
/// is left.
pub async fn on_cancel(
    txn: &DatabaseTransaction,
    order: &orders::Model,
) -> Result<Option<refunds::Model>, RefundError> {
    match refundable(txn, order).await? {
        Some((payment, left)) if left > 0 => {
            let reason = format!("order #{} cancelled", order.number);
            Ok(Some(hold(txn, order, &payment, left, reason).await?))
        }
        _ => Ok(None),
    }
}

/// The order's card payment and what is left of it to refund: received, less what was refunded
/// and what Stripe was asked for and has not answered yet. `None` when it was not paid by card.
async fn refundable(
    txn: &DatabaseTransaction,
    order: &orders::Model,
) -> Result<Option<(payments::Model, i64)>, RefundError> {
    let Some(payment) = payments::Entity::find()
        .filter(payments::Column::OrderId.eq(order.id))
        .filter(payments::Column::Status.eq(payments::Status::Succeeded))
        .one(txn)
        .await?
    else {
        return Ok(None);
    };
    let asked: i64 = refunds::Entity::find()
        .select_only()
        .column(refunds::Column::Amount)
        .filter(refunds::Column::OrderId.eq(order.id))
        .filter(refunds::Column::Status.eq(refunds::Status::Pending))
        .into_tuple::<i64>()
        .all(txn)
        .await?
        .into_iter()
        .sum();
    let left = payment.received - order.refunded - asked;
    Ok(Some((payment, left)))
}

/// Records a refund of `amount` to ask Stripe for, and its job, on `txn`.
async fn hold(
    txn: &DatabaseTransaction,
    order: &orders::Model,
    payment: &payments::Model,
    amount: i64,
    reason: String,
) -> Result<refunds::Model, RefundError> {
    let now = Utc::now();
    let refund = refunds::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(order.tenant_id),
        order_id: Set(order.id),
        payment_id: Set(payment.id),
        amount: Set(amount),
        reason: Set(reason),
        status: Set(refunds::Status::Pending),
        provider_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(txn)
    .await?;
    let job = SendRefund {
        tenant_id: order.tenant_id,
        refund_id: refund.id,
    };
    let key = job.idempotency_key();
    cartwheel_jobs::enqueue(txn, NewJob::new(job).idempotency_key(key)).await?;
    Ok(refund)
}

/// Asks Stripe for a recorded refund (again, with the same key) unless it was answered; a
/// refusal fails the refund, freeing its amount.
pub async fn send(
    db: &DatabaseConnection,
    stripe: &Stripe,
    tenant_id: TenantId,
    refund_id: Uuid,
) -> Result<refunds::Model, RefundError> {
    let refund = refunds::Entity::find_by_id(refund_id)
        .filter(refunds::Column::TenantId.eq(tenant_id))
        .one(db)
        .await?
        .ok_or(RefundError::NotFound)?;
    if refund.status != refunds::Status::Pending {
        return Ok(refund);
    }
    let payment = payments::Entity::find_by_id(refund.payment_id)
        .one(db)
        .await?
        .ok_or(RefundError::NotFound)?;
    let account = stripe.account(db, tenant_id).await?.ok_or_else(|| {
        CallError::Refused("the shop's Stripe keys were removed; refund it in Stripe".into())
    })?;
    let intent = payment.provider_id.clone().unwrap_or_default();
    let answer = account
        .refund(
            &intent,
            Some(refund.amount),
            HashMap::from([
                ("cartwheel_refund".to_string(), refund.id.to_string()),
                ("order".to_string(), refund.order_id.to_string()),
            ]),
            &format!("cartwheel:refund:{}", refund.id),
        )
        .await;
    // Refused: the refund failed, freeing its amount. Unreachable: it stays pending for the job.
    let (made, refused) = match answer {
        Ok(made) => (Some(made), None),
        Err(refused @ CallError::Refused(_)) => (None, Some(refused)),
        Err(e) => return Err(e.into()),
    };
    let txn = crate::transaction::begin(db).await?;
    if let Some(made) = &made
        && let Some(order) = orders::Entity::find_by_id(refund.order_id)
            .lock_exclusive()
            .one(&txn)
            .await?
    {
        record(&txn, &order, &payment, made.id.as_str(), made.amount).await?;
    }
    let mut active = refund.into_active_model();
    active.status = Set(if made.is_some() {
        refunds::Status::Succeeded
    } else {
        refunds::Status::Failed
    });
    active.provider_id = Set(made.map(|made| made.id.to_string()));
    active.updated_at = Set(Utc::now());
    let refund = active.update(&txn).await?;
    txn.commit().await?;
    match refused {
        Some(refused) => Err(refused.into()),
        None => Ok(refund),
    }
}

/// Records one refund Stripe made (`re_…`) on the order, once: the posting (Dr Sales, Dr Sales
/// Tax Payable, Cr Stripe Clearing), the order's and the payment's refunded amounts and the
/// order's payment status, and the shopper's mail. `txn` holds the order's row lock.
pub async fn record(
    txn: &DatabaseTransaction,
    order: &orders::Model,
    payment: &payments::Model,
    stripe_refund_id: &str,
    amount: i64,
) -> Result<(), RefundError> {
    let new = ledger::post(
        txn,
        ledger::Document {
            tenant_id: order.tenant_id,
            kind: ledger::Kind::Refund,
            source_key: format!("refund:{stripe_refund_id}"),
            order_id: Some(order.id),
            amount,
            currency: &order.currency,
            lines: ledger::card_refund(order, amount),
        },
    )
    .await?;
    if !new {
        return Ok(());
    }
    let refunded = std::cmp::min(order.refunded + amount, order.total);
    let mut active = order.clone().into_active_model();
    active.refunded = Set(refunded);
    active.payment_status = Set(if refunded >= order.total {
        orders::PaymentStatus::Refunded
    } else {
        orders::PaymentStatus::PartiallyRefunded
    });
    active.updated_at = Set(Utc::now());
    let updated = active.update(txn).await?;
    crate::dashboard::rollups::order_changed(txn, Some(order), &updated, None).await?;
    payments::Entity::update_many()
        .col_expr(
            payments::Column::Refunded,
            Expr::col(payments::Column::Refunded).add(amount),
        )
        .col_expr(payments::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(payments::Column::Id.eq(payment.id))
        .exec(txn)
        .await?;
    emails::queue_once(
        txn,
        &format!("order-refunded:{stripe_refund_id}"),
        NewEmail {
            tenant_id: Some(order.tenant_id),
            to: order.email.clone(),
            template: Template::OrderRefunded,
            context: serde_json::json!({
                "number": order.number,
                "amount": amount,
                "refunded": refunded,
                "total": order.total,
                "currency": order.currency,
            }),
        },
    )
    .await?;
    Ok(())
}

/// Refunds in full a payment that could place no order (`card::complete` found its stock gone,
/// or another payment had placed the order), and mails the shopper once.
#[tracing::instrument(skip_all, fields(tenant = %tenant_id, payment = %payment_id))]
pub async fn refund_orphan(
    db: &DatabaseConnection,
    stripe: &Stripe,
    tenant_id: TenantId,
    payment_id: Uuid,
) -> Result<(), CheckoutError> {
    let Some(payment) = payments::Entity::find_by_id(payment_id)
        .filter(payments::Column::TenantId.eq(tenant_id))
        .one(db)
        .await?
    else {
        return Ok(());
    };
    let (Some(intent_id), None, payments::Status::Succeeded) =
        (&payment.provider_id, payment.order_id, payment.status)
    else {
        return Ok(());
    };
    let account = stripe.account(db, tenant_id).await?.ok_or_else(|| {
        CallError::Refused("the shop's Stripe keys were removed; refund it in Stripe".into())
    })?;
    account
        .refund(
            intent_id,
            None,
            HashMap::from([
                ("cartwheel_payment".to_string(), payment.id.to_string()),
                ("reason".to_string(), "no order could be placed".to_string()),
            ]),
            &format!("cartwheel:refund:orphan:{}", payment.id),
        )
        .await?;
    let txn = crate::transaction::begin(db).await?;
    payments::Entity::update_many()
        .col_expr(
            payments::Column::Refunded,
            Expr::col(payments::Column::Received),
        )
        .col_expr(payments::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(payments::Column::Id.eq(payment.id))
        .exec(&txn)
        .await?;
    let checkout = checkouts::Entity::find_by_id(payment.checkout_id)
        .one(&txn)
        .await?;
    if let Some(to) = checkout.and_then(|c| c.email) {
        emails::queue_once(
            &txn,
            &format!("payment-refunded:{}", payment.id),
            NewEmail {
                tenant_id: Some(tenant_id),
                to,
                template: Template::PaymentRefunded,
                context: serde_json::json!({
                    "amount": payment.received,
                    "currency": payment.currency,
                    "reason": "an item sold out, or the order was already paid, before your payment arrived.",
                }),
            },
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}
