//! Refunds of card-paid orders (admin, `orders:manage`): full or partial, never more than was
//! received less what was refunded, also under concurrent requests
//! (`cartwheel_domain::payments::refunds`).

use cartwheel_domain::accounts::roles::Permission;
use cartwheel_domain::payments::refunds::{self, RefundError};
use cartwheel_domain::payments::stripe::CallError;
use poem::http::StatusCode;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi, Tags};

use crate::auth::{AdminAuth, AdminError, validation};
use crate::json_body::JsonBody;
use crate::orders::PaymentStatus;
use crate::problem::ProblemJson;
use crate::state::AppState;

#[derive(Tags)]
enum ApiTags {
    /// Card money paid back (admin).
    Refunds,
}

pub struct RefundsApi;

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct RefundRequest {
    /// In minor units; all that is left when omitted.
    #[oai(validator(minimum(value = "1"), maximum(value = "1000000000000")))]
    amount: Option<i64>,
    /// Why, for the shop's records.
    #[oai(validator(min_length = 1, max_length = 500))]
    reason: String,
}

#[derive(Enum)]
#[oai(rename_all = "lowercase")]
enum RefundStatus {
    Pending,
    Succeeded,
    Failed,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct RefundBody {
    id: uuid::Uuid,
    order_id: uuid::Uuid,
    amount: i64,
    currency: String,
    status: RefundStatus,
    /// Stripe's refund id (`re_…`).
    #[oai(nullable)]
    stripe_refund_id: Option<String>,
    /// The order's refunds so far, in minor units.
    order_refunded: i64,
    order_payment_status: PaymentStatus,
}

#[derive(ApiResponse)]
enum RefundFailure {
    #[oai(status = 400)]
    BadRequest(ProblemJson),
    #[oai(status = 401)]
    Unauthorized(ProblemJson),
    #[oai(status = 403)]
    Forbidden(ProblemJson),
    /// No such order in this shop.
    #[oai(status = 404)]
    NotFound(ProblemJson),
    /// The order was not paid by card, or nothing is left to refund.
    #[oai(status = 409)]
    Conflict(ProblemJson),
    /// `amount` is more than what is left to refund, or a field was rejected.
    #[oai(status = 422)]
    Unprocessable(ProblemJson),
    #[oai(status = 429)]
    TooManyRequests(ProblemJson),
    #[oai(status = 500)]
    Internal(ProblemJson),
    /// Stripe refused the refund; nothing was refunded.
    #[oai(status = 502)]
    BadGateway(ProblemJson),
    /// Stripe could not be reached: the refund is recorded and is asked of Stripe again by a
    /// job, with the same key.
    #[oai(status = 503)]
    Unavailable(ProblemJson),
}

impl From<AdminError> for RefundFailure {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::BadRequest(p) => RefundFailure::BadRequest(p),
            AdminError::Unauthorized(p) => RefundFailure::Unauthorized(p),
            AdminError::Forbidden(p) => RefundFailure::Forbidden(p),
            AdminError::NotFound(p) => RefundFailure::NotFound(p),
            AdminError::Conflict(p) => RefundFailure::Conflict(p),
            AdminError::Unprocessable(p) => RefundFailure::Unprocessable(p),
            AdminError::TooManyRequests(p) => RefundFailure::TooManyRequests(p),
            AdminError::Internal(p) => RefundFailure::Internal(p),
        }
    }
}

impl From<RefundError> for RefundFailure {
    fn from(e: RefundError) -> Self {
        match e {
            RefundError::NotFound => {
                RefundFailure::NotFound(ProblemJson::not_found("No such order."))
            }
            RefundError::Conflict(message) => RefundFailure::Conflict(ProblemJson::new(
                StatusCode::CONFLICT,
                "refund-conflict",
                message,
            )),
            RefundError::Invalid(problems) => RefundFailure::Unprocessable(validation(problems)),
            RefundError::Provider(CallError::Refused(reason)) => {
                tracing::warn!(%reason, "Stripe refused a refund");
                RefundFailure::BadGateway(ProblemJson::new(
                    StatusCode::BAD_GATEWAY,
                    "payment-provider-refused",
                    "Stripe refused the refund; nothing was refunded.",
                ))
            }
            RefundError::Provider(CallError::Unavailable(reason)) => {
                tracing::warn!(%reason, "Stripe unavailable for a refund");
                RefundFailure::Unavailable(ProblemJson::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "payment-provider-unavailable",
                    "Stripe could not be reached; the refund is recorded and will be sent again.",
                ))
            }
            e => RefundFailure::Internal(ProblemJson::internal(&e)),
        }
    }
}

#[OpenApi(prefix_path = "/api/v1/store/payments", tag = "ApiTags::Refunds")]
impl RefundsApi {
    /// Pays back `amount` (all that is left when omitted) of a card-paid order through Stripe:
    /// the order's refunded amount and payment status follow, the ledger posts it (Dr Sales,
    /// Dr Sales Tax Payable, Cr Stripe Clearing) and the shopper is mailed. Never more than
    /// was received less what was refunded, also when requests race.
    #[oai(path = "/:orderId/refund", method = "post")]
    #[tracing::instrument(skip_all)]
    async fn refund(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
        #[oai(name = "orderId")] order_id: Path<uuid::Uuid>,
        body: JsonBody<RefundRequest>,
    ) -> Result<Json<RefundBody>, RefundFailure> {
        auth.0
            .require(Permission::OrdersManage)
            .map_err(AdminError::from)?;
        let body = body.0;
        let done = refunds::request(
            &state.db,
            &state.stripe,
            &auth.0.actor(),
            order_id.0,
            body.amount,
            body.reason,
        )
        .await?;
        let r = done.refund;
        Ok(Json(RefundBody {
            id: r.id,
            order_id: r.order_id,
            amount: r.amount,
            currency: done.order.currency,
            status: match r.status {
                cartwheel_entity::refunds::Status::Pending => RefundStatus::Pending,
                cartwheel_entity::refunds::Status::Succeeded => RefundStatus::Succeeded,
                cartwheel_entity::refunds::Status::Failed => RefundStatus::Failed,
            },
            stripe_refund_id: r.provider_id,
            order_refunded: done.order.refunded,
            order_payment_status: done.order.payment_status.into(),
        }))
    }
}
