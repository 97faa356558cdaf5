//! Stripe's webhook: each event is checked against the shop's signing secret on the raw body
//! (300 s tolerance), stored once by its id (a delivery repeated finds it) with its job enqueued
//! in the same transaction, and answered at once. The job (`handle`) fetches the PaymentIntent
//! from Stripe again and acts on the status Stripe gives now, never on the event's copy: events
//! may come late, twice, or out of order, and that changes nothing.

use cartwheel_entity::{TenantId, orders, payments, stripe_events};
use cartwheel_jobs::NewJob;
use cartwheel_jobs::families::payments::HandleStripeEvent;
use chrono::Utc;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set};
use secrecy::ExposeSecret;
use stripe_webhook::{Webhook, WebhookError};

use super::stripe::{CallError, PaymentIntentStatus, Stripe};
use super::{card, refunds};
use crate::checkout::CheckoutError;

#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    /// The shop has no Stripe keys: nothing can check the signature.
    #[error("this shop takes no card payments")]
    NoStripe,
    /// Not signed by the shop's secret, signed too long ago, or not an event.
    #[error("{0}")]
    Rejected(&'static str),
    /// The shop's keys could not be opened.
    #[error(transparent)]
    Keys(#[from] CallError),
    #[error(transparent)]
    Database(#[from] sea_orm::DbErr),
    #[error(transparent)]
    Enqueue(#[from] cartwheel_jobs::EnqueueError),
}

/// Whether the event was new.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Received {
    Stored,
    Again,
}

/// Checks, stores and enqueues one delivery of an event (see the module's docs).
#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn receive(
    db: &DatabaseConnection,
    stripe: &Stripe,
    tenant_id: TenantId,
    payload: &str,
    signature: &str,
) -> Result<Received, ReceiveError> {
    let account = stripe
        .account(db, tenant_id)
        .await?
        .ok_or(ReceiveError::NoStripe)?;
    let secret = account.keys.webhook_secret.expose_secret();
    match Webhook::construct_event(payload, signature, secret) {
        // Signed, and of a type this version of async-stripe knows or not: stored either way.
        Ok(_) | Err(WebhookError::BadParse(_)) => {}
        Err(WebhookError::BadTimestamp(_)) => {
            return Err(ReceiveError::Rejected(
                "Stripe-Signature is older than 300 seconds",
            ));
        }
        Err(_) => {
            return Err(ReceiveError::Rejected(
                "Stripe-Signature does not match the shop's webhook signing secret",
            ));
        }
    }
    let envelope: serde_json::Value = serde_json::from_str(payload)
        .map_err(|_| ReceiveError::Rejected("the body is not a JSON event"))?;
    let Some(id) = envelope["id"]
        .as_str()
        .filter(|id| !id.is_empty() && id.len() <= 255)
    else {
        return Err(ReceiveError::Rejected("the event has no id"));
    };
    let event_type = envelope["type"].as_str().unwrap_or_default();
    let object = &envelope["data"]["object"];
    let payment_intent = match object["object"].as_str() {
        Some("payment_intent") => object["id"].as_str(),
        Some("charge" | "refund") => object["payment_intent"].as_str(),
        _ => None,
    };
    let txn = crate::transaction::begin(db).await?;
    let stored = stripe_events::Entity::insert(stripe_events::ActiveModel {
        tenant_id: Set(tenant_id),
        id: Set(id.to_string()),
        event_type: Set(event_type.chars().take(255).collect()),
        payment_intent: Set(payment_intent.map(|p| p.chars().take(255).collect())),
        payload: Set(payload.to_string()),
        received_at: Set(Utc::now()),
        processed_at: Set(None),
    })
    .on_conflict(
        OnConflict::columns([stripe_events::Column::TenantId, stripe_events::Column::Id])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    if stored == 0 {
        txn.commit().await?;
        return Ok(Received::Again);
    }
    let job = HandleStripeEvent {
        tenant_id,
        event_id: id.to_string(),
    };
    let key = job.idempotency_key();
    cartwheel_jobs::enqueue(&txn, NewJob::new(job).idempotency_key(key)).await?;
    txn.commit().await?;
    Ok(Received::Stored)
}

/// Acts on one stored event (see the module's docs); running it again changes nothing.
#[tracing::instrument(skip_all, fields(tenant = %tenant_id, event = event_id))]
pub async fn handle(
    db: &DatabaseConnection,
    stripe: &Stripe,
    tenant_id: TenantId,
    event_id: &str,
) -> Result<(), CheckoutError> {
    let Some(event) = stripe_events::Entity::find_by_id((tenant_id, event_id.to_string()))
        .one(db)
        .await?
    else {
        return Ok(());
    };
    if event.processed_at.is_some() {
        return Ok(());
    }
    if let Some(intent_id) = &event.payment_intent
        && let Some(account) = stripe.account(db, tenant_id).await?
    {
        let intent = account.intent(intent_id).await?;
        if let Some(payment) = card::payment_of(db, tenant_id, &intent).await? {
            match intent.status {
                PaymentIntentStatus::Succeeded => {
                    if let card::Completion::Placed(order) =
                        card::complete(db, &payment, &intent).await?
                    {
                        reconcile_refunds(db, &account, &payment, &order).await?;
                    }
                }
                PaymentIntentStatus::Canceled => card::fail(db, &payment, intent_id).await?,
                PaymentIntentStatus::RequiresPaymentMethod
                    if intent.last_payment_error.is_some() =>
                {
                    card::fail(db, &payment, intent_id).await?
                }
                _ => {}
            }
        }
    }
    stripe_events::Entity::update_many()
        .col_expr(stripe_events::Column::ProcessedAt, Expr::value(Utc::now()))
        .filter(stripe_events::Column::TenantId.eq(tenant_id))
        .filter(stripe_events::Column::Id.eq(event_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Records each refund Stripe has for the payment's PaymentIntent (made here or in Stripe's
/// dashboard) that is not recorded yet (`refunds::record`).
pub async fn reconcile_refunds(
    db: &DatabaseConnection,
    account: &super::stripe::Account,
    payment: &payments::Model,
    order: &orders::Model,
) -> Result<(), CheckoutError> {
    let Some(intent_id) = &payment.provider_id else {
        return Ok(());
    };
    let made: Vec<_> = account
        .refunds(intent_id)
        .await?
        .into_iter()
        .filter(|r| r.status.as_deref() == Some("succeeded"))
        .collect();
    if made.is_empty() {
        return Ok(());
    }
    let txn = crate::transaction::begin(db).await?;
    // Oldest first, so the mails count up.
    for refund in made.iter().rev() {
        let Some(order) = orders::Entity::find_by_id(order.id)
            .lock_exclusive()
            .one(&txn)
            .await?
        else {
            break;
        };
        refunds::record(&txn, &order, payment, refund.id.as_str(), refund.amount)
            .await
            .map_err(|e| match e {
                refunds::RefundError::Database(e) => CheckoutError::Database(e),
                refunds::RefundError::Enqueue(e) => CheckoutError::Enqueue(e),
                other => CheckoutError::Conflict {
                    field: "refund",
                    message: other.to_string(),
                },
            })?;
    }
    txn.commit().await?;
    Ok(())
}
