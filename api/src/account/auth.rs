//! `CustomerAuth`: a storefront token (audience `storefront`) for the request's shop.

use cartwheel_entity::{customers, tenants};
use poem::Request;
use poem_openapi::SecurityScheme;
use poem_openapi::auth::Bearer;

use crate::auth::session::unauthorized;
use crate::problem::ProblemJson;
use crate::state::AppState;

pub const STOREFRONT_AUDIENCE: &str = "storefront";

/// `Authorization: Bearer <token from /api/v1/store/auth/login or /register>`.
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
    let tenant = crate::tenant::resolve::tenant_of(req).await?;
    let Some(claims) = state.jwt.verify(token, STOREFRONT_AUDIENCE) else {
        return Err(unauthorized(
            "The token is invalid or expired, or is not a customer token; log in again.",
        ));
    };
    if claims.tid != tenant.id {
        return Err(unauthorized("The token belongs to another shop."));
    }
    match cartwheel_domain::customers::find(&state.db, tenant.id, claims.sub).await {
        Ok(Some(customer)) if customer.session_version != claims.sv => {
            Err(crate::auth::session::ended())
        }
        Ok(Some(customer)) => {
            // Error reports of this request name the customer (`middleware::error_reports`).
            sentry::configure_scope(|scope| {
                scope.set_user(Some(sentry::User {
                    id: Some(format!("customer:{}", customer.id)),
                    ..Default::default()
                }))
            });
            Ok(CustomerSession { tenant, customer })
        }
        Ok(None) => Err(unauthorized("This account no longer exists.")),
        Err(e) => Err(ProblemJson::internal(&e)),
    }
}

/// A storefront request, signed in or not: a customer token that verifies names the customer;
/// without one the shopper is a guest. Carts use it: a customer's cart answers only to them.
#[derive(SecurityScheme)]
// Made once per request and read in place; a variant the derive accepts cannot be boxed.
#[allow(clippy::large_enum_variant)]
pub enum Shopper {
    Customer(CustomerAuth),
    #[oai(fallback)]
    Guest,
}

impl Shopper {
    pub fn customer_id(&self) -> Option<uuid::Uuid> {
        match self {
            Shopper::Customer(auth) => Some(auth.0.customer.id),
            Shopper::Guest => None,
        }
    }
}
