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

#[derive(ApiResponse)]
enum TenantError {
    /// No tenant was named, or the named tenant does not exist (answered by `CurrentTenant`).
    #[allow(dead_code)]
    #[oai(status = 404)]
    NotFound(ProblemJson),
    /// Too many requests from this client; see `Retry-After` (answered by the rate limiter).
    #[allow(dead_code)]
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
