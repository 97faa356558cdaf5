//! Tenant resolution: a middleware that names the tenant, and an extractor that loads it.

use cartwheel_entity::tenants;
use poem::{Endpoint, FromRequest, IntoResponse, Request, RequestBody, Response, Result};

use crate::middleware::Step;
use crate::problem::ProblemJson;
use crate::state::AppState;

pub const HEADER: &str = "x-tenant";

/// The tenant slug a request names, if any (no database lookup yet).
#[derive(Clone, Debug, PartialEq)]
pub struct TenantSlug(pub String);

/// `X-Tenant` wins; otherwise the first label of `<slug>.<base domain>` in the Host header.
pub fn resolve_tenant_slug(req: &Request, base_domain: &str) -> Option<TenantSlug> {
    if let Some(slug) = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty())
    {
        return Some(TenantSlug(slug));
    }
    let host = req
        .headers()
        .get(poem::http::header::HOST)
        .and_then(|v| v.to_str().ok())?
        .to_ascii_lowercase();
    let host = host.split(':').next().unwrap_or_default();
    let sub = host.strip_suffix(base_domain)?.strip_suffix('.')?;
    (!sub.is_empty() && !sub.contains('.')).then(|| TenantSlug(sub.to_string()))
}

/// Names the tenant in the request's extensions for the log line and `CurrentTenant`.
#[derive(Clone)]
pub struct TenantSlugs {
    pub base_domain: String,
}

impl Step for TenantSlugs {
    async fn handle<E: Endpoint>(&self, next: &E, mut req: Request) -> Result<Response> {
        if let Some(slug) = resolve_tenant_slug(&req, &self.base_domain) {
            req.extensions_mut().insert(slug);
        }
        next.call(req).await.map(IntoResponse::into_response)
    }
}

/// The tenant a request is for; endpoints that take it answer 404 for an unknown tenant.
pub struct CurrentTenant(pub tenants::Model);

impl<'a> FromRequest<'a> for CurrentTenant {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> Result<Self> {
        tenant_of(req)
            .await
            .map(CurrentTenant)
            .map_err(ProblemJson::into_error)
    }
}

/// The tenant the request names: 404 when none is named or it does not exist. The one
/// lookup behind `CurrentTenant` and the admin and customer token checks.
pub async fn tenant_of(req: &Request) -> std::result::Result<tenants::Model, ProblemJson> {
    let Some(TenantSlug(slug)) = req.extensions().get::<TenantSlug>() else {
        return Err(ProblemJson::not_found(
            "No tenant given: send an `X-Tenant` header or use the shop's subdomain.",
        ));
    };
    let state = req
        .data::<AppState>()
        .expect("AppState is attached to every route");
    if let Some(tenant) = state.tenants.get(slug) {
        return Ok(tenant);
    }
    match cartwheel_domain::tenants::find_by_slug(&state.db, slug).await {
        Ok(Some(tenant)) => {
            state.tenants.put(&tenant);
            Ok(tenant)
        }
        Ok(None) => Err(ProblemJson::not_found(format!("No tenant named `{slug}`."))),
        Err(e) => Err(ProblemJson::internal(&e)),
    }
}
