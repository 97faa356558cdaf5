//! What every handler can reach: the database and the settings the API needs.

use std::time::Duration;

use metrics_exporter_prometheus::PrometheusHandle;
use sea_orm::DatabaseConnection;

use crate::auth::jwt::Jwt;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    /// The platform operator's bearer token for job monitoring; unset means no operator.
    pub operator_token: Option<secrecy::SecretString>,
    /// When set, the bearer token `/metrics` asks for.
    pub metrics_token: Option<secrecy::SecretString>,
    /// Seals and opens shops' payment secrets; `None`: shops cannot store Stripe keys.
    pub secrets: Option<cartwheel_domain::secrets::SecretsKey>,
    /// How shops' card payments reach Stripe.
    pub stripe: cartwheel_domain::payments::stripe::Stripe,
    /// Stores Stripe's webhook deliveries, those that arrive together in one transaction.
    pub stripe_inbox: cartwheel_domain::payments::events::Inbox,
    /// Signs and checks login tokens.
    pub jwt: Jwt,
    pub metrics: PrometheusHandle,
    /// When the queue gauges `/metrics` shows were last read.
    pub queue_gauges: crate::metrics::QueueGauges,
    /// An anonymous cart expires this long after its last change.
    pub cart_ttl: Duration,
    /// How long a manual order may stay unpaid, and when the review request follows delivery.
    pub orders: cartwheel_domain::orders::status::Timing,
    /// A worker whose heartbeat is older than this counts as gone.
    pub worker_liveness: Duration,
    /// Per-account budgets for failed logins and reset requests.
    pub throttles: crate::auth::throttle::Throttles,
    /// Ready tenants by slug, for a moment (`tenant::cache`).
    pub tenants: crate::tenant::cache::TenantCache,
    /// Where the catalog calls announce their changes; the storefront cache listens.
    pub catalog_changes: cartwheel_domain::catalog::CatalogChanges,
    /// Scheme, host and port of the shops' own addresses (`tenants::url`).
    pub public_url: String,
}
