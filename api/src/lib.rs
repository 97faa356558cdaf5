//! The HTTP API: poem-openapi endpoints grouped by feature, middleware, and problem+json errors.

pub mod account;
pub mod audit;
pub mod auth;
pub mod cart;
pub mod catalog;
pub mod checkout;
pub mod country;
pub mod coupons;
pub mod csv_body;
pub mod dashboard;
pub mod defaults;
pub mod health;
pub mod jobs;
pub mod json_body;
pub mod ledger;
pub mod locks;
pub mod metrics;
pub mod middleware;
pub mod orders;
pub mod paging;
pub mod payments;
pub mod postal;
pub mod problem;
pub mod provisioning;
pub mod responses;
pub mod routes;
pub mod seo;
pub mod shipping;
pub mod state;
pub mod stock;
pub mod store;
pub mod tax;
pub mod tenant;
pub mod text;
pub mod users;

use std::net::IpAddr;

use poem::http::{Method, StatusCode};
use poem::middleware::CatchPanic;
use poem::{Endpoint, EndpointExt, IntoResponse, Route};
use poem_openapi::OpenApiService;

use crate::middleware::Layer;
use crate::middleware::access_log::AccessLog;
use crate::middleware::body_limit::BodyLimit;
use crate::middleware::control_chars::ControlChars;
use crate::middleware::error_reports::ErrorReports;
use crate::middleware::problems::Problems;
use crate::middleware::rate_limit::RateLimiter;
use crate::middleware::request_id::RequestIds;
use crate::middleware::security_headers::SecurityHeaders;
use crate::problem::ProblemJson;
pub use crate::state::AppState;
use crate::tenant::resolve::TenantSlugs;

/// HTTP settings, taken from the application's configuration.
#[derive(Clone, Debug)]
pub struct HttpSettings {
    pub base_domain: String,
    pub rate_limit_per_minute: u32,
    /// The stricter budget for signups (`POST /api/v1/provision`).
    pub provision_rate_limit_per_minute: u32,
    pub trusted_proxies: Vec<IpAddr>,
    pub body_limit_bytes: usize,
    /// How long public catalog answers stay fresh (`store::cache`); zero turns caching off.
    pub store_cache_ttl: std::time::Duration,
    /// Where 5xx answers and panics are reported (Sentry); `None`: nowhere.
    pub error_reports: Option<std::sync::Arc<sentry::Client>>,
}

/// Every documented API, listed once.
pub type Apis = (
    health::HealthApi,
    metrics::MetricsApi,
    tenant::TenantApi,
    provisioning::ProvisioningApi,
    auth::AuthApi,
    users::UsersApi,
    defaults::StoreSetupApi,
    catalog::CatalogApi,
    catalog::import::ImportApi,
    stock::StockApi,
    store::StoreApi,
    // The shopper's way from cart to order goes as one.
    (
        cart::CartApi,
        checkout::CheckoutApi,
        orders::OrdersApi,
        orders::admin::AdminOrdersApi,
        seo::SeoApi,
    ),
    account::AccountApi,
    coupons::CouponsApi,
    // Tuples implement OpenApi up to 16 members: the store setup APIs (with the ledger, the audit
    // log and the dashboard) go as one.
    (
        tax::TaxApi,
        shipping::ShippingApi,
        ledger::LedgerApi,
        payments::PaymentsApi,
        payments::webhook::WebhookApi,
        payments::refunds::RefundsApi,
        audit::AuditApi,
        dashboard::DashboardApi,
    ),
    jobs::JobsApi,
);

/// The OpenAPI service over every documented endpoint.
pub fn openapi() -> OpenApiService<routes::Documented<Apis>, ()> {
    OpenApiService::new(
        routes::Documented((
            health::HealthApi,
            metrics::MetricsApi,
            tenant::TenantApi,
            provisioning::ProvisioningApi,
            auth::AuthApi,
            users::UsersApi,
            defaults::StoreSetupApi,
            catalog::CatalogApi,
            catalog::import::ImportApi,
            stock::StockApi,
            store::StoreApi,
            (
                cart::CartApi,
                checkout::CheckoutApi,
                orders::OrdersApi,
                orders::admin::AdminOrdersApi,
                seo::SeoApi,
            ),
            account::AccountApi,
            coupons::CouponsApi,
            (
                tax::TaxApi,
                shipping::ShippingApi,
                ledger::LedgerApi,
                payments::PaymentsApi,
                payments::webhook::WebhookApi,
                payments::refunds::RefundsApi,
                audit::AuditApi,
                dashboard::DashboardApi,
            ),
            jobs::JobsApi,
        )),
        "Cartwheel",
        env!("CARGO_PKG_VERSION"),
    )
    .description("Self-hosted multi-tenant commerce. Errors are RFC 9457 problem+json.")
}

/// The whole HTTP application: every documented endpoint, the spec and Swagger UI.
pub fn app(state: AppState, settings: HttpSettings) -> impl Endpoint {
    let service = openapi();
    let routes = Route::new()
        .at("/api/v1/openapi.json", service.spec_endpoint())
        .nest("/docs", service.swagger_ui())
        .nest("/", service);
    with_middleware(routes, state, settings)
}

/// Wraps routes in Cartwheel's middleware, outermost first:
/// request id → security headers → tenant slug → error reports → access log → problem+json → panic →
/// signup rate limit →
/// rate limit → body limit → control characters → storefront cache.
pub fn with_middleware<E: Endpoint + 'static>(
    routes: E,
    state: AppState,
    settings: HttpSettings,
) -> impl Endpoint {
    let limiter = RateLimiter::new(
        settings.rate_limit_per_minute,
        settings.trusted_proxies.clone(),
    );
    let signup_limiter = RateLimiter::new(
        settings.provision_rate_limit_per_minute,
        settings.trusted_proxies,
    )
    .only(Method::POST, "/api/v1/provision");
    routes
        .with(store::cache::StoreCache::new(
            settings.store_cache_ttl,
            state.db.clone(),
            &state.catalog_changes,
        ))
        .with(Layer(ControlChars))
        .with(Layer(BodyLimit(settings.body_limit_bytes)))
        // A boxed endpoint keeps the nested middleware type within the compiler's depth limit.
        .boxed()
        .with(Layer(limiter))
        .with(Layer(signup_limiter))
        .with(CatchPanic::new().with_handler(|_| {
            ProblemJson::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "An unexpected error occurred. Quote the X-Request-Id header when reporting it.",
            )
            .into_response()
        }))
        .with(Layer(Problems))
        .with(Layer(AccessLog))
        .with(Layer(ErrorReports {
            client: settings.error_reports,
        }))
        .with(Layer(TenantSlugs {
            base_domain: settings.base_domain,
        }))
        .with(Layer(SecurityHeaders))
        .with(Layer(RequestIds))
        .data(state)
}
