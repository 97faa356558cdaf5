//! `AdminAuth`: a bearer admin token for the request's tenant, belonging to an active user.

use cartwheel_domain::accounts::roles::{Permission, grants};
use cartwheel_domain::accounts::users::{self, UserWithRole};
use cartwheel_domain::audit::Actor;
use cartwheel_entity::tenants;
use poem::Request;
use poem::http::StatusCode;
use poem_openapi::SecurityScheme;
use poem_openapi::auth::Bearer;
use sea_orm::ActiveEnum;

use super::jwt::ADMIN_AUDIENCE;
use crate::middleware::request_id::RequestId;
use crate::problem::ProblemJson;
use crate::state::AppState;

/// `Authorization: Bearer <token from POST /api/v1/auth/login>`, for the tenant named by
/// `X-Tenant` or the Host subdomain.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT", checker = "check_admin")]
pub struct AdminAuth(pub AdminSession);

/// Who is calling: the tenant and the user with their current role, in which request.
#[derive(Clone, Debug)]
pub struct AdminSession {
    pub tenant: tenants::Model,
    pub user: UserWithRole,
    pub request_id: Option<String>,
}

impl AdminSession {
    /// The admin as the audit log names them.
    pub fn actor(&self) -> Actor {
        Actor::admin(
            self.tenant.id,
            self.user.user.id,
            &self.user.user.email,
            self.request_id.as_deref(),
        )
    }

    /// 403 unless the user's role grants `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), ProblemJson> {
        if grants(&self.user.role.permissions, permission) {
            Ok(())
        } else {
            Err(forbidden(format!(
                "Your role ({}) does not allow this; it needs `{}`.",
                self.user.role.name.to_value(),
                permission.as_str()
            )))
        }
    }
}

pub fn forbidden(detail: impl Into<String>) -> ProblemJson {
    ProblemJson::new(StatusCode::FORBIDDEN, "forbidden", detail)
}

/// A token issued before the account's password was reset.
pub fn ended() -> ProblemJson {
    unauthorized("This session ended when the password was reset; log in again.")
}

pub fn unauthorized(detail: impl Into<String>) -> ProblemJson {
    ProblemJson::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
}

async fn check_admin(req: &Request, bearer: Bearer) -> poem::Result<AdminSession> {
    authenticate(req, &bearer.token)
        .await
        .map_err(ProblemJson::into_error)
}

/// Checks an admin token against the request's tenant and the user's current state.
pub async fn authenticate(req: &Request, token: &str) -> Result<AdminSession, ProblemJson> {
    let state = req
        .data::<AppState>()
        .expect("AppState is attached to every route");
    let tenant = crate::tenant::resolve::tenant_of(req).await?;
    let Some(claims) = state.jwt.verify(token, ADMIN_AUDIENCE) else {
        return Err(unauthorized(
            "The token is invalid or expired, or is not an admin token; log in again.",
        ));
    };
    if claims.tid != tenant.id {
        return Err(unauthorized("The token belongs to another shop."));
    }
    match users::find_active(&state.db, tenant.id, claims.sub).await {
        Ok(Some(user)) if user.user.session_version != claims.sv => Err(ended()),
        Ok(Some(user)) => {
            // Error reports of this request name the admin (`middleware::error_reports`).
            sentry::configure_scope(|scope| {
                scope.set_user(Some(sentry::User {
                    id: Some(user.user.id.to_string()),
                    ..Default::default()
                }))
            });
            let request_id = RequestId::of(req);
            Ok(AdminSession {
                tenant,
                user,
                request_id,
            })
        }
        Ok(None) => Err(unauthorized(
            "This account no longer exists or is deactivated.",
        )),
        Err(e) => Err(ProblemJson::internal(&e)),
    }
}
