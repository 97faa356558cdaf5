//! Stripe's webhook for a shop (`POST /api/v1/store/payments/webhook`, the shop from the Host
//! subdomain or `X-Tenant`): the body is checked against `Stripe-Signature` exactly as it
//! arrived, stored once by the event's id with its job, and acknowledged at once
//! (`cartwheel_domain::payments::events`).

use cartwheel_domain::payments::events::{self, ReceiveError, Received};
use poem::http::StatusCode;
use poem::web::Data;
use poem::{Request, RequestBody};
use poem_openapi::param::Header;
use poem_openapi::payload::{Json, ParsePayload, Payload};
use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};

use crate::problem::ProblemJson;
use crate::state::AppState;
use crate::tenant::CurrentTenant;

#[derive(Tags)]
enum ApiTags {
    /// Stripe's calls to the shop: signed events about its card payments.
    Payments,
}

pub struct WebhookApi;

/// A JSON body kept exactly as it arrived: a signature covers its bytes, not its meaning.
pub struct RawJson(pub String);

impl Payload for RawJson {
    const CONTENT_TYPE: &'static str = "application/json";

    fn check_content_type(content_type: &str) -> bool {
        matches!(content_type.parse::<mime::Mime>(), Ok(m)
            if m.type_() == "application" && m.subtype() == "json")
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            description: Some("A Stripe event, as Stripe sent it."),
            ..MetaSchema::new("object")
        }))
    }

    fn register(_registry: &mut Registry) {}
}

impl ParsePayload for RawJson {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let bytes = <Vec<u8> as poem::FromRequest>::from_request(request, body).await?;
        String::from_utf8(bytes).map(RawJson).map_err(|_| {
            ProblemJson::new(
                StatusCode::BAD_REQUEST,
                "malformed-json",
                "The request body is not UTF-8 JSON.",
            )
            .into_error()
        })
    }
}

poem_openapi::impl_apirequest_for_payload!(RawJson,);

/// The event was taken; `duplicate` when it had been before (nothing more happens).
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct Acknowledged {
    received: bool,
    duplicate: bool,
}

#[derive(ApiResponse)]
enum WebhookFailure {
    /// The signature does not match the shop's webhook signing secret, is older than 300
    /// seconds, or the body is not an event with an id: nothing was stored.
    #[oai(status = 400)]
    BadRequest(ProblemJson),
    /// No such shop, or the shop takes no card payments.
    #[oai(status = 404)]
    NotFound(ProblemJson),
    /// An unexpected error; Stripe delivers the event again later.
    #[oai(status = 500)]
    Internal(ProblemJson),
}

#[OpenApi(prefix_path = "/api/v1/store/payments", tag = "ApiTags::Payments")]
impl WebhookApi {
    /// Receives one of Stripe's events for the shop's card payments. Configure it in Stripe's
    /// dashboard as `https://<shop>.<domain>/api/v1/store/payments/webhook` with the signing
    /// secret set under `PUT /api/v1/admin/payments/stripe`. Events of every type are stored
    /// and acknowledged; the ones about a PaymentIntent or its refunds are acted on.
    #[oai(path = "/webhook", method = "post")]
    #[tracing::instrument(skip_all)]
    async fn webhook(
        &self,
        state: Data<&AppState>,
        tenant: CurrentTenant,
        #[oai(name = "Stripe-Signature")] signature: Header<String>,
        body: RawJson,
    ) -> Result<Json<Acknowledged>, WebhookFailure> {
        let received = events::receive(
            &state.db,
            &state.stripe,
            &state.stripe_inbox,
            tenant.0.id,
            &body.0,
            &signature.0,
        )
        .await
        .map_err(|e| match e {
            ReceiveError::NoStripe => WebhookFailure::NotFound(ProblemJson::not_found(
                "This shop takes no card payments.",
            )),
            ReceiveError::Rejected(why) => WebhookFailure::BadRequest(ProblemJson::new(
                StatusCode::BAD_REQUEST,
                "webhook-rejected",
                why,
            )),
            e => WebhookFailure::Internal(ProblemJson::internal(&e)),
        })?;
        Ok(Json(Acknowledged {
            received: true,
            duplicate: received == Received::Again,
        }))
    }
}
