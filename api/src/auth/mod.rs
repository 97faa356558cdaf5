//! Admin accounts' own endpoints: login, me, forgotten passwords and accepting invitations.

pub mod jwt;
pub mod session;
pub mod throttle;

pub use session::{AdminAuth, AdminSession};

/// Compares without stopping at the first difference, so timing does not leak a token.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    subtle::ConstantTimeEq::ct_eq(a, b).into()
}

/// Whether `token` is the platform operator's (`CARTWHEEL_OPERATOR_TOKEN`; none when unset).
pub fn is_operator(state: &crate::state::AppState, token: &str) -> bool {
    state
        .operator_token
        .as_ref()
        .map(secrecy::ExposeSecret::expose_secret)
        .is_some_and(|expected| constant_time_eq(expected.as_bytes(), token.as_bytes()))
}

use cartwheel_domain::accounts::roles::{self, Permission, Role};
use cartwheel_domain::accounts::users::UserWithRole;
use cartwheel_domain::accounts::{AccountError, invitations, resets, users};
use cartwheel_entity::TenantId;
use poem::http::StatusCode;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use sea_orm::ActiveEnum;

use crate::json_body::JsonBody;
use crate::problem::{FieldError, ProblemJson};
use crate::responses::{Accepted, Created, NoContent};
use crate::state::AppState;
use crate::tenant::CurrentTenant;
use jwt::ADMIN_AUDIENCE;

#[derive(Tags)]
enum ApiTags {
    /// Admin login, password resets and invitations.
    Auth,
}

pub struct AuthApi;

#[derive(Object)]
struct LoginRequest {
    #[oai(validator(max_length = 254))]
    email: String,
    #[oai(validator(max_length = 256))]
    password: String,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct LoginResponse {
    token: String,
    /// Always `Bearer`.
    token_type: String,
    expires_at: chrono::DateTime<chrono::Utc>,
    user: UserView,
}

/// An admin user as other admins see them.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct UserView {
    pub id: uuid::Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub permissions: Vec<Permission>,
    pub active: bool,
    #[oai(nullable)]
    pub last_login_at: Option<chrono::DateTime<chrono::Utc>>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<UserWithRole> for UserView {
    fn from(u: UserWithRole) -> Self {
        UserView {
            id: u.user.id,
            email: u.user.email,
            name: u.user.name,
            role: u.role.name,
            permissions: roles::permissions(&u.role.permissions),
            active: u.user.active,
            last_login_at: u.user.last_login_at,
            created_at: u.user.created_at,
        }
    }
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct MeView {
    user: UserView,
    tenant_id: TenantId,
    tenant_slug: String,
    tenant_name: String,
}

#[derive(Object)]
struct ForgotPasswordRequest {
    #[oai(validator(max_length = 254))]
    email: String,
}

#[derive(Object)]
struct ResetPasswordRequest {
    #[oai(validator(max_length = 128))]
    token: String,
    #[oai(validator(min_length = 10, max_length = 256))]
    password: String,
}

#[derive(Object)]
struct AcceptInviteRequest {
    #[oai(validator(max_length = 128))]
    token: String,
    #[oai(validator(min_length = 1, max_length = 200))]
    name: String,
    #[oai(validator(min_length = 10, max_length = 256))]
    password: String,
}

/// The errors admin endpoints answer with.
#[derive(ApiResponse, Debug)]
pub enum AdminError {
    /// A parameter, or a one-time token, is invalid; `errors` names the field.
    #[oai(status = 400)]
    BadRequest(ProblemJson),
    /// No valid admin token, or wrong credentials.
    #[oai(status = 401)]
    Unauthorized(ProblemJson),
    /// The role does not allow this.
    #[oai(status = 403)]
    Forbidden(ProblemJson),
    /// No such tenant, or no such record in this tenant.
    #[oai(status = 404)]
    NotFound(ProblemJson),
    /// The change conflicts with the current state.
    #[oai(status = 409)]
    Conflict(ProblemJson),
    /// A field was rejected; `errors` names it.
    #[oai(status = 422)]
    Unprocessable(ProblemJson),
    /// Too many requests from this client (the rate limiter), or too many failed logins or
    /// reset requests for this account; see `Retry-After`.
    #[oai(status = 429)]
    TooManyRequests(ProblemJson),
    /// An unexpected error; the log has the details under the request id.
    #[oai(status = 500)]
    Internal(ProblemJson),
}

impl From<ProblemJson> for AdminError {
    fn from(problem: ProblemJson) -> Self {
        match problem.status() {
            StatusCode::BAD_REQUEST => AdminError::BadRequest(problem),
            StatusCode::UNAUTHORIZED => AdminError::Unauthorized(problem),
            StatusCode::FORBIDDEN => AdminError::Forbidden(problem),
            StatusCode::NOT_FOUND => AdminError::NotFound(problem),
            StatusCode::CONFLICT => AdminError::Conflict(problem),
            StatusCode::UNPROCESSABLE_ENTITY => AdminError::Unprocessable(problem),
            StatusCode::TOO_MANY_REQUESTS => AdminError::TooManyRequests(problem),
            _ => AdminError::Internal(problem),
        }
    }
}

impl From<AccountError> for AdminError {
    fn from(error: AccountError) -> Self {
        match error {
            AccountError::Invalid(problems) => AdminError::Unprocessable(validation(problems)),
            AccountError::BadCredentials => {
                AdminError::Unauthorized(session::unauthorized("Wrong email or password."))
            }
            AccountError::BadToken => AdminError::BadRequest(
                ProblemJson::new(
                    StatusCode::BAD_REQUEST,
                    "invalid-token",
                    "This link is invalid, used or expired; ask for a new one.",
                )
                .with_errors(vec![FieldError {
                    field: "token".into(),
                    message: "is invalid, used or expired".into(),
                }]),
            ),
            AccountError::NotFound => {
                AdminError::NotFound(ProblemJson::not_found("No such user in this shop."))
            }
            AccountError::Conflict(detail) => {
                AdminError::Conflict(ProblemJson::new(StatusCode::CONFLICT, "conflict", detail))
            }
            AccountError::Forbidden(detail) => AdminError::Forbidden(session::forbidden(detail)),
            AccountError::Enqueue(e) => AdminError::Internal(ProblemJson::internal(&e)),
            AccountError::Database(e) => AdminError::Internal(ProblemJson::internal(&e)),
        }
    }
}

impl AdminError {
    pub fn internal(error: &dyn std::error::Error) -> Self {
        AdminError::Internal(ProblemJson::internal(error))
    }
}

/// A 422 naming each rejected field.
pub fn validation(problems: Vec<cartwheel_domain::validation::FieldProblem>) -> ProblemJson {
    let detail = problems
        .iter()
        .map(|p| format!("`{}` {}", p.field, p.message))
        .collect::<Vec<_>>()
        .join("; ");
    ProblemJson::new(StatusCode::UNPROCESSABLE_ENTITY, "validation", detail).with_errors(
        problems
            .into_iter()
            .map(|p| FieldError {
                field: p.field.to_string(),
                message: p.message,
            })
            .collect(),
    )
}

/// A login's outcome, counted against the account: a wrong password spends its budget, a
/// right one clears it.
pub(crate) fn throttled_login<T>(
    state: &AppState,
    key: &throttle::Key,
    outcome: Result<T, AccountError>,
) -> Result<T, AccountError> {
    match &outcome {
        Ok(_) => state.throttles.logins.clear(key),
        Err(AccountError::BadCredentials) => state.throttles.logins.spend(key),
        Err(_) => {}
    }
    outcome
}

fn login_response(state: &AppState, user: UserWithRole) -> LoginResponse {
    let (token, expires_at) = state.jwt.issue(
        user.user.id,
        user.user.tenant_id,
        user.user.session_version,
        &user.role.name.to_value(),
        ADMIN_AUDIENCE,
        state.jwt.admin_ttl,
    );
    LoginResponse {
        token,
        token_type: "Bearer".into(),
        expires_at,
        user: user.into(),
    }
}

#[OpenApi(prefix_path = "/api/v1/auth", tag = "ApiTags::Auth")]
impl AuthApi {
    /// Logs an admin in; a wrong email and a wrong password get the same 401.
    #[oai(path = "/login", method = "post")]
    #[tracing::instrument(skip_all)]
    async fn login(
        &self,
        state: Data<&AppState>,
        tenant: CurrentTenant,
        body: JsonBody<LoginRequest>,
    ) -> Result<Json<LoginResponse>, AdminError> {
        let body = body.0;
        let key = throttle::key(tenant.0.id, "admin", &body.email);
        state.throttles.logins.check(&key)?;
        let user = throttled_login(
            &state,
            &key,
            users::login(&state.db, tenant.0.id, &body.email, body.password).await,
        )?;
        Ok(Json(login_response(&state, user)))
    }

    /// The logged-in admin, their role and permissions, and their shop.
    #[oai(path = "/me", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn me(&self, auth: AdminAuth) -> Result<Json<MeView>, AdminError> {
        let session = auth.0;
        Ok(Json(MeView {
            tenant_id: session.tenant.id,
            tenant_slug: session.tenant.slug,
            tenant_name: session.tenant.name,
            user: session.user.into(),
        }))
    }

    /// Emails a one-hour, single-use reset link if an active admin has this address. The answer
    /// is 202 either way, so it tells nobody which addresses have accounts.
    #[oai(path = "/forgot-password", method = "post")]
    #[tracing::instrument(skip_all)]
    async fn forgot_password(
        &self,
        state: Data<&AppState>,
        tenant: CurrentTenant,
        body: JsonBody<ForgotPasswordRequest>,
    ) -> Result<Accepted, AdminError> {
        let key = throttle::key(tenant.0.id, "admin", &body.0.email);
        state.throttles.resets.check(&key)?;
        state.throttles.resets.spend(&key);
        resets::ask(
            &state.db,
            tenant.0.id,
            &body.0.email,
            resets::Account::Admin,
        )
        .await?;
        Ok(Accepted::Accepted)
    }

    /// Sets a new password with the token from the reset email.
    #[oai(path = "/reset-password", method = "post")]
    #[tracing::instrument(skip_all)]
    async fn reset_password(
        &self,
        state: Data<&AppState>,
        tenant: CurrentTenant,
        body: JsonBody<ResetPasswordRequest>,
    ) -> Result<NoContent, AdminError> {
        let body = body.0;
        let admin = resets::Account::Admin;
        resets::reset(
            &state.db,
            tenant.0.id,
            admin,
            &body.token,
            body.password,
            "password",
        )
        .await?;
        Ok(NoContent::NoContent)
    }

    /// Creates the invited admin's account with the token from the invitation email, and logs
    /// them in.
    #[oai(path = "/accept-invite", method = "post")]
    #[tracing::instrument(skip_all)]
    async fn accept_invite(
        &self,
        state: Data<&AppState>,
        tenant: CurrentTenant,
        body: JsonBody<AcceptInviteRequest>,
    ) -> Result<Created<LoginResponse>, AdminError> {
        let body = body.0;
        let user = invitations::accept(
            &state.db,
            tenant.0.id,
            &body.token,
            &body.name,
            body.password,
        )
        .await?;
        Ok(Created::Created(Json(login_response(&state, user))))
    }
}
