//! Which shop a request is for: resolved from the Host subdomain or the `X-Tenant` header.

pub mod cache;
pub(crate) mod resolve;

pub use resolve::{CurrentTenant, TenantSlug, resolve_tenant_slug};

use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};

use crate::problem::ProblemJson;
use crate::state::AppState;
use poem::web::Data;

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
    /// Absent until the shop is provisioned.
    #[oai(nullable)]
    currency: Option<String>,
    /// READY once provisioned; see `/api/v1/provision/{tenantId}/status` before.
    status: cartwheel_domain::tenants::Status,
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
    /// An unexpected error; the log has the details under the request id.
    #[oai(status = 500)]
    Internal(ProblemJson),
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Tenant")]
impl TenantApi {
    /// The current tenant, from `X-Tenant` or the Host subdomain.
    #[oai(path = "/tenant", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn current(
        &self,
        state: Data<&AppState>,
        tenant: CurrentTenant,
    ) -> Result<Json<TenantView>, TenantError> {
        let t = tenant.0;
        let settings = cartwheel_domain::defaults::store_settings(&state.db, t.id)
            .await
            .map_err(|e| TenantError::Internal(ProblemJson::internal(&e)))?;
        Ok(Json(TenantView {
            slug: t.slug,
            name: t.name,
            currency: settings.map(|s| s.currency),
            status: t.status,
        }))
    }
}
