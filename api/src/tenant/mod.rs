//! Which shop a request is for: resolved from the Host subdomain or the `X-Tenant` header.

pub(crate) mod resolve;

pub use resolve::{CurrentTenant, TenantSlug, resolve_tenant_slug};

use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};

use crate::problem::ProblemJson;

#[derive(Tags)]
enum ApiTags {
    /// The shop this request is addressed to.
    Tenant,
}

pub struct TenantApi;

/// The public facts about a shop that a storefront needs.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct TenantView {
    slug: String,
    name: String,
    currency: String,
    status: String,
}

/// Listed for the OpenAPI document; the `CurrentTenant` extractor and the rate limiter build these.
#[allow(dead_code)]
#[derive(ApiResponse)]
enum TenantError {
    /// No tenant was named, or the named tenant does not exist.
    #[oai(status = 404)]
    NotFound(ProblemJson),
    /// Too many requests from this client; see `Retry-After`.
    #[oai(status = 429)]
    TooManyRequests(ProblemJson),
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Tenant")]
impl TenantApi {
    /// The current tenant, from `X-Tenant` or the Host subdomain.
    #[oai(path = "/tenant", method = "get")]
    async fn current(&self, tenant: CurrentTenant) -> Result<Json<TenantView>, TenantError> {
        let t = tenant.0;
        Ok(Json(TenantView {
            slug: t.slug,
            name: t.name,
            currency: t.currency,
            status: t.status,
        }))
    }
}
