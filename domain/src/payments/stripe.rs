//! Calls to Stripe's API with a shop's own keys, through `async-stripe`. Every call that
//! changes something at Stripe carries an idempotency key made from our own rows, and is
//! retried here a few times with that same key when Stripe or the network fails: Stripe then
//! answers the retry with the first call's result, so a lost answer never makes a second
//! PaymentIntent or refund. What still fails is retried by the caller's job, again with the key.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use cartwheel_entity::TenantId;
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use secrecy::ExposeSecret;
use stripe::{Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use stripe_core::payment_intent::{CreatePaymentIntent, RetrievePaymentIntent};
use stripe_core::refund::{CreateRefund, ListRefund};
pub use stripe_shared::{PaymentIntent, PaymentIntentStatus, Refund};

use super::stripe_keys::{self, StripeKeys, StripeKeysError};
use crate::secrets::SecretsKey;

/// How a shop's payments reach Stripe: the server's secrets key (which opens the shops' keys)
/// and Stripe's API address (`CARTWHEEL_STRIPE_API_BASE`; a stand-in in tests, Stripe itself
/// by default). Clones share the accounts opened so far.
#[derive(Clone)]
pub struct Stripe {
    pub secrets: Option<SecretsKey>,
    pub api_base: Option<String>,
    /// Each shop's account as last opened, reused while its stored keys are the same (same
    /// `updated_at`): the keys are opened once, not per call, and calls share the client's
    /// connections to Stripe instead of each opening its own.
    accounts: moka::sync::Cache<TenantId, Arc<Account>>,
}

/// The shops whose accounts a process keeps open at most.
const MAX_ACCOUNTS: u64 = 10_000;

impl Stripe {
    pub fn new(secrets: Option<SecretsKey>, api_base: Option<String>) -> Stripe {
        Stripe {
            secrets,
            api_base,
            accounts: moka::sync::Cache::new(MAX_ACCOUNTS),
        }
    }
}

impl Default for Stripe {
    fn default() -> Stripe {
        Stripe::new(None, None)
    }
}

impl std::fmt::Debug for Stripe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stripe")
            .field("secrets", &self.secrets.as_ref().map(|_| "[set]"))
            .field("api_base", &self.api_base)
            .finish()
    }
}

/// One shop's Stripe account: its keys, opened, and a client that uses its secret key.
pub struct Account {
    pub keys: StripeKeys,
    client: Client,
    /// When the keys it opened were stored.
    stored_at: DateTime<Utc>,
}

/// Each call's attempts at most, and the waits between them.
const ATTEMPTS: [Duration; 3] = [
    Duration::ZERO,
    Duration::from_millis(100),
    Duration::from_millis(400),
];

/// A single attempt gives up after this long (Stripe answers in well under a second).
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error(transparent)]
    Keys(#[from] StripeKeysError),
    /// Stripe refused the request itself (a 4xx other than a conflict or rate limit): retrying
    /// it changes nothing.
    #[error("Stripe refused the request: {0}")]
    Refused(String),
    /// Stripe could not be reached or failed; the same call with the same key may succeed.
    #[error("Stripe is unavailable: {0}")]
    Unavailable(String),
}

impl Stripe {
    /// The shop's account; `None` when the shop has no Stripe keys. The stored keys are read
    /// each time (one row by its key), so a change made by any process is used at once.
    pub async fn account(
        &self,
        db: &DatabaseConnection,
        tenant_id: TenantId,
    ) -> Result<Option<Arc<Account>>, CallError> {
        let Some(row) = stripe_keys::row(db, tenant_id)
            .await
            .map_err(StripeKeysError::from)?
        else {
            self.accounts.invalidate(&tenant_id);
            return Ok(None);
        };
        if let Some(account) = self.accounts.get(&tenant_id)
            && account.stored_at == row.updated_at
        {
            return Ok(Some(account));
        }
        let stored_at = row.updated_at;
        let keys = stripe_keys::open(self.secrets.as_ref(), row)?;
        let mut builder = ClientBuilder::new(keys.secret_key.expose_secret())
            .timeout(ATTEMPT_TIMEOUT)
            .app_info("Cartwheel", Some(env!("CARGO_PKG_VERSION").into()), None);
        if let Some(base) = &self.api_base {
            builder = builder.url(base.clone());
        }
        let client = builder
            .build()
            .map_err(|e| CallError::Refused(e.to_string()))?;
        let account = Arc::new(Account {
            keys,
            client,
            stored_at,
        });
        self.accounts.insert(tenant_id, account.clone());
        Ok(Some(account))
    }
}

/// What a PaymentIntent is for: its amount, currency, the metadata that leads back to our
/// rows, and the idempotency key of its creation.
pub struct NewIntent<'a> {
    pub amount: i64,
    /// ISO 4217, any case.
    pub currency: &'a str,
    pub metadata: HashMap<String, String>,
    pub idempotency_key: String,
}

impl Account {
    pub async fn create_intent(&self, intent: NewIntent<'_>) -> Result<PaymentIntent, CallError> {
        let request = CreatePaymentIntent::new(intent.amount, currency(intent.currency))
            .metadata(intent.metadata);
        let key = key_of(&intent.idempotency_key)?;
        retried(|| {
            request
                .customize()
                .request_strategy(RequestStrategy::Idempotent(key.clone()))
                .send(&self.client)
        })
        .await
    }

    pub async fn intent(&self, id: &str) -> Result<PaymentIntent, CallError> {
        let request = RetrievePaymentIntent::new(id);
        retried(|| request.send(&self.client)).await
    }

    /// Refunds `amount` of the intent's money (all that is left when `None`).
    pub async fn refund(
        &self,
        payment_intent: &str,
        amount: Option<i64>,
        metadata: HashMap<String, String>,
        idempotency_key: &str,
    ) -> Result<Refund, CallError> {
        let mut request = CreateRefund::new()
            .payment_intent(payment_intent)
            .metadata(metadata);
        if let Some(amount) = amount {
            request = request.amount(amount);
        }
        let key = key_of(idempotency_key)?;
        retried(|| {
            request
                .customize()
                .request_strategy(RequestStrategy::Idempotent(key.clone()))
                .send(&self.client)
        })
        .await
    }

    /// Every refund of the intent, made here or in Stripe's dashboard.
    pub async fn refunds(&self, payment_intent: &str) -> Result<Vec<Refund>, CallError> {
        let request = ListRefund::new().payment_intent(payment_intent).limit(100);
        Ok(retried(|| request.send(&self.client)).await?.data)
    }
}

fn currency(code: &str) -> stripe_types::Currency {
    match code.to_ascii_lowercase().parse() {
        Ok(currency) => currency,
        Err(never) => match never {},
    }
}

fn key_of(key: &str) -> Result<IdempotencyKey, CallError> {
    IdempotencyKey::new(key).map_err(|e| CallError::Refused(e.to_string()))
}

/// Runs `call` until it succeeds, Stripe refuses it, or the attempts run out.
async fn retried<T, F, Fut>(call: F) -> Result<T, CallError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, StripeError>>,
{
    let mut last = None;
    for wait in ATTEMPTS {
        tokio::time::sleep(wait).await;
        match call().await {
            Ok(answer) => return Ok(answer),
            Err(e) => match classify(e) {
                CallError::Unavailable(reason) => {
                    tracing::warn!(%reason, "Stripe call failed; retrying with the same key");
                    last = Some(reason);
                }
                refused => return Err(refused),
            },
        }
    }
    Err(CallError::Unavailable(last.unwrap_or_default()))
}

/// Stripe's own advice on retrying, by status: conflicts (a concurrent request with the same
/// key), rate limits and server errors are worth another try; other refusals are not.
fn classify(e: StripeError) -> CallError {
    match e {
        StripeError::Stripe(error, status) => {
            let reason = format!(
                "{status} {}: {}",
                error.type_.as_str(),
                error.message.as_deref().unwrap_or("")
            );
            if matches!(status, 409 | 429 | 500..=599) {
                CallError::Unavailable(reason)
            } else {
                CallError::Refused(reason)
            }
        }
        StripeError::ClientError(reason) | StripeError::JSONDeserialize(reason) => {
            CallError::Unavailable(reason)
        }
        StripeError::Timeout => CallError::Unavailable("timed out".into()),
        StripeError::ConfigError(reason) => CallError::Refused(reason),
    }
}
