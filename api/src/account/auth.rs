//! `CustomerAuth`: a storefront token (audience `storefront`) for the request's shop.

use cartwheel_entity::{customers, tenants};
use poem::Request;
use poem_openapi::SecurityScheme;
use poem_openapi::auth::Bearer;

use crate::auth::session::unauthorized;
use crate::problem::ProblemJson;
use crate::state::AppState;
use crate::tenant::TenantSlug;

pub const STOREFRONT_AUDIENCE: &str = "storefront";

/// `Authorization: Bearer <token from /api/v1/store/account/login or /register>`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT", checker = "check_customer")]
pub struct CustomerAuth(pub CustomerSession);

pub struct CustomerSession {
    pub tenant: tenants::Model,
    pub customer: customers::Model,
}

async fn check_customer(req: &Request, bearer: Bearer) -> poem::Result<CustomerSession> {
    authenticate(req, &bearer.token)
        .await
        .map_err(ProblemJson::into_error)
}

async fn authenticate(req: &Request, token: &str) -> Result<CustomerSession, ProblemJson> {
    let state = req
        .data::<AppState>()
        .expect("AppState is attached to every route");
    let Some(TenantSlug(slug)) = req.extensions().get::<TenantSlug>() else {
        return Err(ProblemJson::not_found(
            "No tenant given: send an `X-Tenant` header or use the shop's subdomain.",
        ));
    };
    let tenant = match cartwheel_domain::tenants::find_by_slug(&state.db, slug).await {
        Ok(Some(tenant)) => tenant,
        Ok(None) => return Err(ProblemJson::not_found(format!("No tenant named `{slug}`."))),
        Err(e) => return Err(ProblemJson::internal(&e)),
    };
    let Some(claims) = state.jwt.verify(token, STOREFRONT_AUDIENCE) else {
        return Err(unauthorized(
            "The token is invalid or expired, or is not a customer token; log in again.",
        ));
    };
    if claims.tid != tenant.id {
        return Err(unauthorized("The token belongs to another shop."));
    }
    match cartwheel_domain::customers::find(&state.db, tenant.id, claims.sub).await {
        Ok(Some(customer)) => Ok(CustomerSession { tenant, customer }),
        Ok(None) => Err(unauthorized("This account no longer exists.")),
        Err(e) => Err(ProblemJson::internal(&e)),
    }
}
