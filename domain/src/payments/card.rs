//! Paying a checkout by card through the shop's Stripe account.
//!
//! `confirm` holds the stock and the coupon as a manual confirm does, marks the checkout
//! PAYMENT_PENDING and records a payment row (one per attempt) in one transaction; then it asks
//! Stripe for a PaymentIntent with an idempotency key made from the checkout and the attempt,
//! so asking again (a retry, a lost answer, a second confirm) gets the same PaymentIntent.
//!
//! `complete` is the one path that places a paid order. The shopper's confirm-again and the
//! webhook's job both call it with the PaymentIntent as Stripe says it is now; it runs under
//! the checkout's row lock, the order is unique per checkout and the payment per PaymentIntent,
//! so whichever comes first places the order and the other finds it. Money that can place no
//! order (the stock went meanwhile, another payment placed it) is refunded by a job.
//!
//! `fail` takes a declined or cancelled payment: the checkout becomes PAYMENT_FAILED and gives
//! its stock and coupon back. States never move backwards: a payment that succeeded stays so.

use std::collections::HashMap;

use cartwheel_entity::{TenantId, checkouts, coupon_redemptions, coupons, orders, payments};
use cartwheel_jobs::NewJob;
use cartwheel_jobs::families::order_confirmation::OrderMail;
use cartwheel_jobs::families::payments::RefundOrphanPayment;
use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::stripe::{Account, CallError, NewIntent, PaymentIntent, PaymentIntentStatus, Stripe};
use crate::checkout::confirm::{self, Placed, Sale};
use crate::checkout::reserve::{self, Outcome};
use crate::checkout::{CheckoutError, CheckoutKey, Status};
use crate::ledger;

/// A card payment waiting for the shopper: what Stripe.js (or the shopper's client) needs to
/// collect it.
pub struct Pending {
    pub payment: payments::Model,
    pub payment_intent: String,
    pub client_secret: String,
    pub publishable_key: String,
}

/// What a card confirm answers: the order, once paid, or the payment to collect.
// Answered once, never stored: its size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Confirmed {
    Placed(Placed),
    Pending(Pending),
}

/// The metadata key on a PaymentIntent that names our payment row.
pub const PAYMENT_METADATA: &str = "cartwheel_payment";

#[tracing::instrument(skip_all, fields(tenant = %key.tenant_id))]
pub async fn confirm(
    db: &DatabaseConnection,
    stripe: &Stripe,
    key: CheckoutKey,
) -> Result<Confirmed, CheckoutError> {
    let account =
        stripe
            .account(db, key.tenant_id)
            .await?
            .ok_or_else(|| CheckoutError::Conflict {
                field: "paymentMethod",
                message: "This shop takes no card payments; choose manual.".into(),
            })?;
    let txn = crate::transaction::begin(db).await?;
    let checkout = checkouts::Entity::find_by_id(key.id)
        .filter(checkouts::Column::TenantId.eq(key.tenant_id))
        .filter(key.held())
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(CheckoutError::NotFound("checkout"))?;
    let payment = match checkout.status {
        Status::Completed => {
            let order = confirm::order_of(&txn, checkout.id).await?;
            txn.commit().await?;
            return Ok(Confirmed::Placed(Placed {
                order,
                token: None,
                again: true,
            }));
        }
        Status::PaymentPending => {
            let payment = latest(&txn, checkout.id)
                .await?
                .ok_or(CheckoutError::NotFound("payment"))?;
            txn.commit().await?;
            payment
        }
        Status::Pending | Status::PaymentFailed => {
            crate::checkout::open_for_changes(&checkout)?;
            match start(&txn, &checkout).await {
                Ok(payment) => {
                    txn.commit().await?;
                    payment
                }
                Err(e) => {
                    txn.rollback().await?;
                    return Err(e);
                }
            }
        }
    };
    let intent = intent_of(&account, &payment).await?;
    if payment.provider_id.is_none() {
        link(db, payment.id, intent.id.as_str()).await?;
    }
    if intent.status == PaymentIntentStatus::Succeeded {
        return match complete(db, &payment, &intent).await? {
            Completion::Placed(order) => Ok(Confirmed::Placed(Placed {
                order: *order,
                token: None,
                again: false,
            })),
            Completion::Refunded => Err(CheckoutError::Conflict {
                field: "id",
                message: "The payment arrived but the order could not be placed (its stock is \
                          gone); the payment is being refunded."
                    .into(),
            }),
        };
    }
    Ok(Confirmed::Pending(Pending {
        payment_intent: intent.id.to_string(),
        client_secret: intent.client_secret.clone().unwrap_or_default(),
        publishable_key: account.keys.publishable_key.clone(),
        payment,
    }))
}

/// Holds the checkout's stock and coupon, marks it PAYMENT_PENDING, and records the next
/// attempt's payment row.
async fn start(
    txn: &DatabaseTransaction,
    checkout: &checkouts::Model,
) -> Result<payments::Model, CheckoutError> {
    let checked = confirm::check(txn, checkout, Sale::Checked).await?;
    confirm::hold(txn, checkout, &checked).await?;
    let now = Utc::now();
    checkouts::Entity::update_many()
        .col_expr(
            checkouts::Column::Status,
            Expr::value(Status::PaymentPending),
        )
        .col_expr(checkouts::Column::UpdatedAt, Expr::value(now))
        .filter(checkouts::Column::Id.eq(checkout.id))
        .exec(txn)
        .await?;
    let attempt = latest(txn, checkout.id).await?.map_or(1, |p| p.attempt + 1);
    Ok(payments::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(checkout.tenant_id),
        checkout_id: Set(checkout.id),
        attempt: Set(attempt),
        amount: Set(checked.total()),
        currency: Set(checkout.currency.clone()),
        provider_id: Set(None),
        status: Set(payments::Status::Pending),
        received: Set(0),
        refunded: Set(0),
        order_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(txn)
    .await?)
}

async fn latest<C: ConnectionTrait>(
    db: &C,
    checkout_id: Uuid,
) -> Result<Option<payments::Model>, sea_orm::DbErr> {
    payments::Entity::find()
        .filter(payments::Column::CheckoutId.eq(checkout_id))
        .order_by_desc(payments::Column::Attempt)
        .one(db)
        .await
}

/// The payment's PaymentIntent as Stripe has it now: created on the first call (the same one
/// on every later call, by its idempotency key), then fetched.
async fn intent_of(
    account: &Account,
    payment: &payments::Model,
) -> Result<PaymentIntent, CallError> {
    if let Some(id) = &payment.provider_id {
        return account.intent(id).await;
    }
    let intent = account
        .create_intent(NewIntent {
            amount: payment.amount,
            currency: &payment.currency,
            metadata: HashMap::from([
                (PAYMENT_METADATA.to_string(), payment.id.to_string()),
                ("shop".to_string(), payment.tenant_id.to_string()),
                ("checkout".to_string(), payment.checkout_id.to_string()),
            ]),
            idempotency_key: format!(
                "cartwheel:checkout:{}:attempt:{}",
                payment.checkout_id, payment.attempt
            ),
        })
        .await?;
    Ok(intent)
}

/// Records the PaymentIntent's id on its payment, once: the first writer wins, and a payment
/// row never changes its PaymentIntent.
pub async fn link<C: ConnectionTrait>(
    db: &C,
    payment_id: Uuid,
    intent_id: &str,
) -> Result<(), sea_orm::DbErr> {
    payments::Entity::update_many()
        .col_expr(payments::Column::ProviderId, Expr::value(intent_id))
        .col_expr(payments::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(payments::Column::Id.eq(payment_id))
        .filter(payments::Column::ProviderId.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// What became of money that arrived.
pub enum Completion {
    /// It paid for this order (placed now or before).
    Placed(Box<orders::Model>),
    /// It could place no order and is being refunded.
    Refunded,
}

/// Places the order a succeeded PaymentIntent paid for, once (see the module's docs).
#[tracing::instrument(skip_all, fields(payment = %payment.id))]
pub async fn complete(
    db: &DatabaseConnection,
    payment: &payments::Model,
    intent: &PaymentIntent,
) -> Result<Completion, CheckoutError> {
    debug_assert_eq!(intent.status, PaymentIntentStatus::Succeeded);
    let txn = crate::transaction::begin(db).await?;
    let checkout = locked_checkout(&txn, payment).await?;
    let payment = payments::Entity::find_by_id(payment.id)
        .one(&txn)
        .await?
        .ok_or(CheckoutError::NotFound("payment"))?;
    if payment.status == payments::Status::Succeeded {
        let done = match payment.order_id {
            Some(order_id) => Completion::Placed(Box::new(
                orders::Entity::find_by_id(order_id)
                    .one(&txn)
                    .await?
                    .ok_or(CheckoutError::NotFound("order"))?,
            )),
            None => Completion::Refunded,
        };
        txn.commit().await?;
        return Ok(done);
    }
    let received = intent.amount_received;
    let placeable = checkout.status != Status::Completed
        && received == payment.amount
        && intent
            .currency
            .to_string()
            .eq_ignore_ascii_case(&payment.currency);
    if placeable {
        match place(&txn, &checkout, &payment, intent).await {
            Ok(Some(order)) => {
                txn.commit().await?;
                return Ok(Completion::Placed(Box::new(order)));
            }
            Ok(None) => {}
            Err(e) => {
                txn.rollback().await?;
                return Err(e);
            }
        }
    }
    // Nothing of the attempt stays: a fresh transaction records the orphan and its refund.
    txn.rollback().await?;
    orphan(db, &payment, intent).await?;
    Ok(Completion::Refunded)
}

async fn locked_checkout(
    txn: &DatabaseTransaction,
    payment: &payments::Model,
) -> Result<checkouts::Model, CheckoutError> {
    checkouts::Entity::find_by_id(payment.checkout_id)
        .filter(checkouts::Column::TenantId.eq(payment.tenant_id))
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or(CheckoutError::NotFound("checkout"))
}

/// The paid order: its documents and payment, mails, stock (reserved again if the hold was
/// released meanwhile), number and lines; the payment names it. `None` when it cannot be
/// placed: the checkout's total no longer matches the money, or its stock is gone.
async fn place(
    txn: &DatabaseTransaction,
    checkout: &checkouts::Model,
    payment: &payments::Model,
    intent: &PaymentIntent,
) -> Result<Option<orders::Model>, CheckoutError> {
    let checked = confirm::check(txn, checkout, Sale::Made).await?;
    let (mut order, token) = confirm::draft(
        checkout,
        &checked,
        orders::PaymentMethod::Stripe,
        None,
        None,
    );
    let now = Utc::now();
    order.status = orders::Status::Processing;
    order.payment_status = orders::PaymentStatus::Paid;
    order.paid_at = Some(now);
    // The order's totals come from the checkout as it is now; the money must match them.
    if order.total != payment.amount {
        tracing::warn!(
            total = order.total,
            paid = payment.amount,
            "card payment does not match the checkout; refunding"
        );
        return Ok(None);
    }
    confirm::record(txn, &order, checkout, &token, &[OrderMail::PaymentReceipt]).await?;
    ledger::post(
        txn,
        ledger::Document {
            tenant_id: order.tenant_id,
            kind: ledger::Kind::PaymentEntry,
            source_key: format!("payment:{}", payment.id),
            order_id: Some(order.id),
            amount: payment.amount,
            currency: &order.currency,
            lines: ledger::card_payment(payment.amount),
        },
    )
    .await?;
    if !reserve::holds(txn, checkout.id).await? {
        match confirm::reserve_lines(txn, checkout, &checked).await {
            Ok(()) => {}
            Err(CheckoutError::Shortfall(short)) => {
                tracing::warn!(
                    ?short,
                    "card payment arrived after its stock went; refunding"
                );
                return Ok(None);
            }
            Err(e) => return Err(e),
        }
    }
    let order = confirm::insert(txn, order, &checked).await?;
    let mut active = payment.clone().into_active_model();
    active.status = Set(payments::Status::Succeeded);
    active.provider_id = Set(Some(intent.id.to_string()));
    active.received = Set(intent.amount_received);
    active.order_id = Set(Some(order.id));
    active.updated_at = Set(now);
    active.update(txn).await?;
    Ok(Some(order))
}

/// Money that can place no order: the payment succeeded without one, the checkout (unless
/// another payment completed it) is PAYMENT_FAILED with its stock and coupon given back, and a
/// job refunds the money and mails the shopper.
async fn orphan(
    db: &DatabaseConnection,
    payment: &payments::Model,
    intent: &PaymentIntent,
) -> Result<(), CheckoutError> {
    let txn = crate::transaction::begin(db).await?;
    let checkout = locked_checkout(&txn, payment).await?;
    let updated = payments::Entity::update_many()
        .col_expr(
            payments::Column::Status,
            Expr::value(payments::Status::Succeeded),
        )
        .col_expr(
            payments::Column::ProviderId,
            Expr::value(intent.id.as_str()),
        )
        .col_expr(
            payments::Column::Received,
            Expr::value(intent.amount_received),
        )
        .col_expr(payments::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(payments::Column::Id.eq(payment.id))
        .filter(payments::Column::Status.ne(payments::Status::Succeeded))
        .exec(&txn)
        .await?
        .rows_affected;
    if updated == 1 {
        if checkout.status != Status::Completed {
            give_back(&txn, &checkout, Status::PaymentFailed).await?;
        }
        let job = RefundOrphanPayment {
            tenant_id: payment.tenant_id,
            payment_id: payment.id,
        };
        let key = job.idempotency_key();
        cartwheel_jobs::enqueue(&txn, NewJob::new(job).idempotency_key(key)).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// A declined or cancelled PaymentIntent: its payment fails (unless it succeeded: states never
/// move backwards), and if it is the checkout's current attempt, the checkout is
/// PAYMENT_FAILED and gives its stock and coupon back. The shopper may confirm again.
#[tracing::instrument(skip_all, fields(payment = %payment.id))]
pub async fn fail(
    db: &DatabaseConnection,
    payment: &payments::Model,
    intent_id: &str,
) -> Result<(), CheckoutError> {
    let txn = crate::transaction::begin(db).await?;
    let checkout = locked_checkout(&txn, payment).await?;
    let failed = payments::Entity::update_many()
        .col_expr(
            payments::Column::Status,
            Expr::value(payments::Status::Failed),
        )
        .col_expr(payments::Column::ProviderId, Expr::value(intent_id))
        .col_expr(payments::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(payments::Column::Id.eq(payment.id))
        .filter(payments::Column::Status.eq(payments::Status::Pending))
        .exec(&txn)
        .await?
        .rows_affected;
    let current = latest(&txn, checkout.id).await?.map(|p| p.id) == Some(payment.id);
    if failed == 1 && current && checkout.status == Status::PaymentPending {
        give_back(&txn, &checkout, Status::PaymentFailed).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// How long a card checkout holds its stock while its shopper pays; past it, the stock goes
/// back on sale (money arriving later places the order if the stock is still there, and is
/// refunded if not).
pub const CARD_HOLD: std::time::Duration = std::time::Duration::from_secs(3600);

/// Gives back the stock and coupon of card checkouts left PAYMENT_PENDING since before `before`
/// (at most `limit`); they become PAYMENT_FAILED, and their shoppers may confirm again. Each is
/// re-checked under its lock. Returns how many.
#[tracing::instrument(skip_all)]
pub async fn release_abandoned(
    db: &DatabaseConnection,
    before: chrono::DateTime<Utc>,
    limit: u64,
) -> Result<usize, CheckoutError> {
    let stale: Vec<Uuid> = checkouts::Entity::find()
        .select_only()
        .column(checkouts::Column::Id)
        .filter(checkouts::Column::Status.eq(Status::PaymentPending))
        .filter(checkouts::Column::UpdatedAt.lt(before))
        .order_by_asc(checkouts::Column::UpdatedAt)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    let mut released = 0;
    for id in stale {
        let txn = crate::transaction::begin(db).await?;
        let checkout = checkouts::Entity::find_by_id(id)
            .lock_exclusive()
            .one(&txn)
            .await?;
        match checkout {
            Some(c) if c.status == Status::PaymentPending && c.updated_at < before => {
                give_back(&txn, &c, Status::PaymentFailed).await?;
                released += 1;
            }
            _ => {}
        }
        txn.commit().await?;
    }
    Ok(released)
}

/// Releases the checkout's stock and its coupon's use, and sets its status.
async fn give_back(
    txn: &DatabaseTransaction,
    checkout: &checkouts::Model,
    status: Status,
) -> Result<(), CheckoutError> {
    let redeemed = coupon_redemptions::Entity::find()
        .filter(coupon_redemptions::Column::CheckoutId.eq(checkout.id))
        .all(txn)
        .await?;
    for redemption in redeemed {
        coupons::Entity::update_many()
            .col_expr(
                coupons::Column::UsedCount,
                Expr::col(coupons::Column::UsedCount).sub(1),
            )
            .filter(coupons::Column::Id.eq(redemption.coupon_id))
            .exec(txn)
            .await?;
        coupon_redemptions::Entity::delete_by_id(redemption.id)
            .exec(txn)
            .await?;
    }
    // The coupon before the stock: the order a confirm takes them in, so the two never
    // deadlock.
    reserve::settle(
        txn,
        checkout.tenant_id,
        checkout.id,
        Outcome::Released,
        "card payment failed",
    )
    .await?;
    checkouts::Entity::update_many()
        .col_expr(checkouts::Column::Status, Expr::value(status))
        .col_expr(checkouts::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(checkouts::Column::Id.eq(checkout.id))
        .exec(txn)
        .await?;
    Ok(())
}

/// The payment a PaymentIntent belongs to: by its id, or (when our first call's answer was
/// lost) by the payment named in its metadata, which is then linked.
pub async fn payment_of(
    db: &DatabaseConnection,
    tenant_id: TenantId,
    intent: &PaymentIntent,
) -> Result<Option<payments::Model>, sea_orm::DbErr> {
    if let Some(payment) = payments::Entity::find()
        .filter(payments::Column::TenantId.eq(tenant_id))
        .filter(payments::Column::ProviderId.eq(intent.id.as_str()))
        .one(db)
        .await?
    {
        return Ok(Some(payment));
    }
    let Some(id) = intent
        .metadata
        .get(PAYMENT_METADATA)
        .and_then(|id| id.parse::<Uuid>().ok())
    else {
        return Ok(None);
    };
    let Some(payment) = payments::Entity::find_by_id(id)
        .filter(payments::Column::TenantId.eq(tenant_id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    link(db, payment.id, intent.id.as_str()).await?;
    payments::Entity::find_by_id(id).one(db).await
}
