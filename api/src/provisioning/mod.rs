//! Self-service signup: `POST /provision` queues the provisioning job; the status endpoint
//! reports its progress.

use cartwheel_domain::provisioning::{self, Signup, SignupError};
use cartwheel_domain::tenants::Status;
use cartwheel_entity::TenantId;
use poem::http::StatusCode;
use poem::web::Data;
use poem_openapi::param::{Header, Path};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};

use crate::auth::validation;
use crate::country::Country;
use crate::json_body::JsonBody;
use crate::problem::{FieldError, ProblemJson};
use crate::state::AppState;

#[derive(Tags)]
enum ApiTags {
    /// Opening a new shop.
    Provisioning,
}

pub struct ProvisioningApi;

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct ProvisionRequest {
    #[oai(validator(min_length = 1, max_length = 200))]
    business_name: String,
    #[oai(validator(max_length = 254))]
    owner_email: String,
    /// At least 10 characters, and not a commonly used password.
    #[oai(validator(min_length = 10, max_length = 256))]
    owner_password: String,
    /// The shop's subdomain and `X-Tenant` slug: 3–63 characters of a–z, 0–9 and '-', not
    /// starting or ending with '-', and not a reserved name (`www`, `api`, `admin`, …); checked
    /// by the signup itself, so each rule gets its own message.
    #[oai(validator(max_length = 63))]
    domain: String,
    /// ISO 4217 code; USD when omitted.
    #[oai(nullable)]
    currency: Option<String>,
    /// IANA time zone; UTC when omitted.
    #[oai(nullable)]
    timezone: Option<String>,
    /// Where the shop is; its tax rules are seeded for this country. US when omitted.
    #[oai(nullable)]
    country: Option<Country>,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct ProvisionAccepted {
    tenant_id: TenantId,
    /// PENDING: the job is queued.
    status: Status,
    /// Where to poll for progress.
    status_url: String,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct ProvisionStatus {
    status: Status,
    /// 0–100.
    progress: i32,
    /// A rough estimate; absent once it has failed.
    #[oai(nullable)]
    estimated_seconds_remaining: Option<u32>,
    /// Why the last attempt failed (a failed attempt is retried automatically).
    #[oai(nullable)]
    error: Option<String>,
}

#[derive(ApiResponse)]
enum ProvisionResponse {
    /// The shop is queued for provisioning (or, with a repeated `Idempotency-Key`, it was
    /// already: the first answer again).
    #[oai(status = 202)]
    Accepted(Json<ProvisionAccepted>),
}

#[derive(ApiResponse)]
enum ProvisionError {
    /// The `Idempotency-Key` header is invalid (answered by the parameter parser).
    #[allow(dead_code)]
    #[oai(status = 400)]
    BadRequest(ProblemJson),
    /// No such tenant.
    #[oai(status = 404)]
    NotFound(ProblemJson),
    /// The domain is taken, or the `Idempotency-Key` was used for a different signup.
    #[oai(status = 409)]
    Conflict(ProblemJson),
    /// A field was rejected; `errors` names each.
    #[oai(status = 422)]
    Unprocessable(ProblemJson),
    /// Too many signups from this client; see `Retry-After` (answered by the rate limiter).
    #[allow(dead_code)]
    #[oai(status = 429)]
    TooManyRequests(ProblemJson),
    /// An unexpected error; the log has the details under the request id.
    #[oai(status = 500)]
    Internal(ProblemJson),
}

impl From<SignupError> for ProvisionError {
    fn from(error: SignupError) -> Self {
        match error {
            SignupError::Invalid(problems) => Self::Unprocessable(validation(problems)),
            SignupError::DomainTaken(domain) => Self::Conflict(
                ProblemJson::new(
                    StatusCode::CONFLICT,
                    "domain-taken",
                    format!("The domain `{domain}` is taken; choose another."),
                )
                .with_errors(vec![FieldError {
                    field: "domain".into(),
                    message: "is taken".into(),
                }]),
            ),
            SignupError::KeyReused => Self::Conflict(ProblemJson::new(
                StatusCode::CONFLICT,
                "idempotency-key-reused",
                "This Idempotency-Key was used for a different signup; use a new key.",
            )),
            SignupError::Enqueue(e) => Self::Internal(ProblemJson::internal(&e)),
            SignupError::Database(e) => Self::Internal(ProblemJson::internal(&e)),
        }
    }
}

#[OpenApi(prefix_path = "/api/v1/provision", tag = "ApiTags::Provisioning")]
impl ProvisioningApi {
    /// Signs a business up: the tenant is created PENDING and a worker builds it (owner account,
    /// default data), then emails the owner. Send an `Idempotency-Key` to retry safely.
    #[oai(path = "/", method = "post")]
    #[tracing::instrument(skip_all)]
    async fn provision(
        &self,
        state: Data<&AppState>,
        /// 1 to 255 visible ASCII characters; a retried signup with the same key gets the first
        /// answer.
        #[oai(name = "Idempotency-Key", validator(pattern = "^[!-~]{1,255}$"))]
        idempotency_key: Header<Option<String>>,
        body: JsonBody<ProvisionRequest>,
    ) -> Result<ProvisionResponse, ProvisionError> {
        let key = idempotency_key.0;
        let body = body.0;
        let accepted = provisioning::sign_up(
            &state.db,
            Signup {
                business_name: body.business_name,
                owner_email: body.owner_email,
                owner_password: body.owner_password,
                domain: body.domain,
                currency: body.currency,
                timezone: body.timezone,
                country: body.country.map(|c| c.0),
                idempotency_key: key,
            },
        )
        .await?;
        Ok(ProvisionResponse::Accepted(Json(ProvisionAccepted {
            tenant_id: accepted.tenant_id,
            status: Status::Pending,
            status_url: format!("/api/v1/provision/{}/status", accepted.tenant_id),
        })))
    }

    /// Where provisioning is: PENDING → CREATING_TENANT → SEEDING_DATA → CONFIGURING → READY,
    /// or FAILED with a readable error (and retried).
    #[oai(path = "/:tenantId/status", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn status(
        &self,
        state: Data<&AppState>,
        #[oai(name = "tenantId")] tenant_id: Path<TenantId>,
    ) -> Result<Json<ProvisionStatus>, ProvisionError> {
        let tenant = cartwheel_domain::tenants::find(&state.db, tenant_id.0)
            .await
            .map_err(|e| ProvisionError::Internal(ProblemJson::internal(&e)))?
            .ok_or_else(|| {
                ProvisionError::NotFound(ProblemJson::not_found(format!(
                    "No tenant `{}`.",
                    tenant_id.0
                )))
            })?;
        Ok(Json(ProvisionStatus {
            status: tenant.status,
            progress: tenant.progress,
            estimated_seconds_remaining: cartwheel_domain::tenants::estimated_seconds_remaining(
                tenant.status,
            ),
            error: tenant.failure,
        }))
    }
}
