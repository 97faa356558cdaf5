//! Stripe's webhook: each event is checked against the shop's signing secret on the raw body
//! (300 s tolerance), stored once by its id (a delivery repeated finds it) with its job enqueued
//! in the same transaction (the `Inbox` writes deliveries that arrive together in one), and
//! answered at once. The job (`handle`) fetches the PaymentIntent
//! from Stripe again and acts on the status Stripe gives now, never on the event's copy: events
//! may come late, twice, or out of order, and that changes nothing.

use std::collections::HashSet;

use cartwheel_entity::{TenantId, orders, payments, stripe_events};
use cartwheel_jobs::NewJob;
use cartwheel_jobs::families::payments::HandleStripeEvent;
use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set, TryInsertResult,
};
use secrecy::ExposeSecret;
use stripe_webhook::{Webhook, WebhookError};
use tokio::sync::{mpsc, oneshot};

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
    inbox: &Inbox,
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
    inbox
        .store(stripe_events::ActiveModel {
            tenant_id: Set(tenant_id),
            id: Set(id.to_string()),
            event_type: Set(event_type.chars().take(255).collect()),
            payment_intent: Set(payment_intent.map(|p| p.chars().take(255).collect())),
            payload: Set(payload.to_string()),
            received_at: Set(Utc::now()),
            processed_at: Set(None),
        })
        .await
}

/// The webhook's writer. Deliveries that arrive while a batch is being written are stored
/// together in the next one: every event row (insert or ignore by shop and id) and the job of
/// each new one in one transaction, so a burst of deliveries costs the database one commit per
/// batch rather than one per event. Each delivery is answered once its batch has committed; a
/// batch that fails fails each of its deliveries (Stripe sends them again). Clones share it.
#[derive(Clone)]
pub struct Inbox {
    queue: mpsc::Sender<Delivery>,
}

struct Delivery {
    event: stripe_events::ActiveModel,
    answer: oneshot::Sender<Result<Received, String>>,
}

/// Events per batch at most (and deliveries waiting for a batch, per process).
const BATCH: usize = 256;

impl Inbox {
    /// Starts the writer (a task of the current Tokio runtime); it ends when the last clone is
    /// dropped.
    pub fn start(db: DatabaseConnection) -> Inbox {
        let (queue, mut deliveries) = mpsc::channel::<Delivery>(BATCH);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            while deliveries.recv_many(&mut batch, BATCH).await > 0 {
                let events = batch.iter().map(|d| d.event.clone()).collect();
                match store(&db, events).await {
                    Ok(received) => {
                        for (delivery, received) in batch.drain(..).zip(received) {
                            let _ = delivery.answer.send(Ok(received));
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, events = batch.len(), "storing Stripe events failed");
                        for delivery in batch.drain(..) {
                            let _ = delivery.answer.send(Err(e.to_string()));
                        }
                    }
                }
            }
        });
        Inbox { queue }
    }

    async fn store(&self, event: stripe_events::ActiveModel) -> Result<Received, ReceiveError> {
        let stopped =
            || ReceiveError::Database(sea_orm::DbErr::Custom("the webhook inbox stopped".into()));
        let (answer, answered) = oneshot::channel();
        self.queue
            .send(Delivery { event, answer })
            .await
            .map_err(|_| stopped())?;
        answered
            .await
            .map_err(|_| stopped())?
            .map_err(|e| ReceiveError::Database(sea_orm::DbErr::Custom(e)))
    }
}

/// Stores a batch of events, each once, with a job for each new one, in one transaction; answers
/// for each event of `events`, in order, whether it was new.
async fn store(
    db: &DatabaseConnection,
    events: Vec<stripe_events::ActiveModel>,
) -> Result<Vec<Received>, ReceiveError> {
    let keys: Vec<(TenantId, String)> = events
        .iter()
        .map(|e| (e.tenant_id.clone().unwrap(), e.id.clone().unwrap()))
        .collect();
    // The same event twice in one batch: stored once, the second copy is a repeat.
    let mut seen = HashSet::new();
    let firsts: Vec<bool> = keys.iter().map(|k| seen.insert(k.clone())).collect();
    let unique: Vec<stripe_events::ActiveModel> = events
        .into_iter()
        .zip(&firsts)
        .filter(|(_, first)| **first)
        .map(|(e, _)| e)
        .collect();
    let txn = crate::transaction::begin(db).await?;
    let inserted: HashSet<(TenantId, String)> = match stripe_events::Entity::insert_many(unique)
        .on_conflict_do_nothing()
        .exec_with_returning_keys(&txn)
        .await?
    {
        TryInsertResult::Inserted(keys) => keys.into_iter().collect(),
        TryInsertResult::Empty | TryInsertResult::Conflicted => HashSet::new(),
    };
    let jobs: Vec<_> = keys
        .iter()
        .zip(&firsts)
        .filter(|(key, first)| **first && inserted.contains(*key))
        .map(|((tenant_id, event_id), _)| {
            let job = HandleStripeEvent {
                tenant_id: *tenant_id,
                event_id: event_id.clone(),
            };
            let key = job.idempotency_key();
            NewJob::new(job).idempotency_key(key)
        })
        .collect();
    if !jobs.is_empty() {
        cartwheel_jobs::enqueue_batch(&txn, jobs).await?;
    }
    txn.commit().await?;
    Ok(keys
        .iter()
        .zip(firsts)
        .map(|(key, first)| {
            if first && inserted.contains(key) {
                Received::Stored
            } else {
                Received::Again
            }
        })
        .collect())
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
