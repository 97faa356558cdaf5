//! Checkout: start it from a cart, set contact, addresses and shipping, list the shipping
//! methods for its address, and confirm it into an order.

use cartwheel_domain::carts::CartKey;
use cartwheel_domain::checkout::confirm::{self, Confirm};
use cartwheel_domain::checkout::{self, Changes, CheckoutError, CheckoutKey, CheckoutView, Shown};
use cartwheel_domain::payments::card;
use cartwheel_domain::payments::stripe::CallError;
use poem::http::StatusCode;
use poem::web::Data;
use poem_openapi::param::{Header, Path};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi, Tags};

use crate::account::Shopper;
use crate::auth::validation;
use crate::json_body::JsonBody;
use crate::orders::{OrderStatus, PaymentStatus};
use crate::postal::PostalAddress;
use crate::problem::{FieldError, ProblemJson};
use crate::state::AppState;
use crate::tenant::CurrentTenant;

#[derive(Tags)]
enum ApiTags {
    /// From a cart to a placed order.
    Checkout,
}

pub struct CheckoutApi;

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "SCREAMING_SNAKE_CASE")]
enum CheckoutStatus {
    Pending,
    PaymentPending,
    PaymentFailed,
    Completed,
    /// Expired before it was confirmed.
    Abandoned,
}

impl From<Shown> for CheckoutStatus {
    fn from(s: Shown) -> Self {
        match s {
            Shown::Pending => CheckoutStatus::Pending,
            Shown::PaymentPending => CheckoutStatus::PaymentPending,
            Shown::PaymentFailed => CheckoutStatus::PaymentFailed,
            Shown::Completed => CheckoutStatus::Completed,
            Shown::Abandoned => CheckoutStatus::Abandoned,
        }
    }
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct CheckoutLine {
    item_id: uuid::Uuid,
    sku: String,
    name: String,
    qty: i64,
    unit_price: i64,
    line_total: i64,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct ShippingChoice {
    id: uuid::Uuid,
    name: String,
    /// For this checkout (nothing from the method's free-over amount on).
    price: i64,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct CheckoutCoupon {
    code: String,
    /// Why the code gives no discount now.
    #[oai(nullable)]
    not_applied: Option<String>,
}

/// A checkout. Amounts are minor units of `currency`; the tax is by the shipping address (the
/// shop's own country until one is set), inside `total` when the shop's prices include tax.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct CheckoutBody {
    checkout_id: uuid::Uuid,
    status: CheckoutStatus,
    lines: Vec<CheckoutLine>,
    #[oai(nullable)]
    email: Option<String>,
    #[oai(nullable)]
    phone: Option<String>,
    #[oai(nullable)]
    shipping_address: Option<PostalAddress>,
    billing_same_as_shipping: bool,
    /// `null` when billing goes to the shipping address.
    #[oai(nullable)]
    billing_address: Option<PostalAddress>,
    #[oai(nullable)]
    shipping_method: Option<ShippingChoice>,
    #[oai(nullable)]
    coupon: Option<CheckoutCoupon>,
    currency: String,
    subtotal: i64,
    discount: i64,
    shipping: i64,
    tax_amount: i64,
    total: i64,
    expires_at: chrono::DateTime<chrono::Utc>,
    /// The order it placed, once completed.
    #[oai(nullable)]
    order_id: Option<uuid::Uuid>,
}

impl From<CheckoutView> for CheckoutBody {
    fn from(v: CheckoutView) -> Self {
        let same = v.billing_same_as_shipping();
        let c = &v.checkout;
        CheckoutBody {
            checkout_id: c.id,
            status: v.status.into(),
            lines: v
                .lines
                .iter()
                .map(|l| CheckoutLine {
                    item_id: l.item_id,
                    sku: l.sku.clone(),
                    name: l.name.clone(),
                    qty: l.quantity,
                    unit_price: l.unit_price,
                    line_total: l.unit_price * l.quantity,
                })
                .collect(),
            email: c.email.clone(),
            phone: c.phone.clone(),
            shipping_address: v.shipping_address.map(Into::into),
            billing_same_as_shipping: same,
            billing_address: v.billing_address.map(Into::into),
            shipping_method: v.shipping_method.map(|m| ShippingChoice {
                id: m.id,
                name: m.name,
                price: c.shipping,
            }),
            coupon: v.coupon.map(|c| CheckoutCoupon {
                code: c.code,
                not_applied: c.not_applied,
            }),
            currency: c.currency.clone(),
            subtotal: c.subtotal,
            discount: c.discount,
            shipping: c.shipping,
            tax_amount: c.tax,
            total: c.total,
            expires_at: c.expires_at,
            order_id: v.order_id,
        }
    }
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct StartRequest {
    cart_id: uuid::Uuid,
}

/// What to change; a member left out stays as it is.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct UpdateRequest {
    #[oai(validator(max_length = 254))]
    email: Option<String>,
    #[oai(validator(max_length = 32))]
    phone: Option<String>,
    shipping_address: Option<PostalAddress>,
    /// One of the signed-in customer's saved addresses, as the shipping address.
    shipping_address_id: Option<uuid::Uuid>,
    /// `true` bills to the shipping address; `false` needs a billing address.
    billing_same_as_shipping: Option<bool>,
    billing_address: Option<PostalAddress>,
    /// One of the signed-in customer's saved addresses, as the billing address.
    billing_address_id: Option<uuid::Uuid>,
    /// One of `GET …/checkout/{id}/shipping-methods`.
    shipping_method_id: Option<uuid::Uuid>,
}

#[derive(Object)]
struct ShippingChoices {
    /// Cheapest first.
    items: Vec<ShippingChoice>,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "lowercase")]
enum PaymentMethodName {
    /// Bank transfer or cash on delivery; an admin marks the order paid.
    Manual,
    /// By card through the shop's Stripe account (a shop without one answers 409): the order is
    /// placed once the money arrives.
    Stripe,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct ConfirmRequest {
    payment_method: PaymentMethodName,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct Placed {
    order_id: uuid::Uuid,
    order_number: i64,
    status: OrderStatus,
    payment_status: PaymentStatus,
    currency: String,
    total: i64,
    /// A guest reads the order with it (`GET /api/v1/store/orders/{id}?token=`); given only
    /// by the confirm that placed the order, and in the confirmation mail.
    #[oai(nullable)]
    order_token: Option<String>,
    /// For a manual payment still owed: how to pay (the confirmation mail says the same);
    /// empty once paid.
    payment_instructions: String,
    #[oai(nullable)]
    payment_due_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A card payment to collect: hand `clientSecret` and `publishableKey` to Stripe.js (or confirm
/// the PaymentIntent with them). The order is placed when Stripe reports the payment, by its
/// webhook or when this confirm is repeated.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct CardPayment {
    checkout_id: uuid::Uuid,
    status: CheckoutStatus,
    payment_intent_id: String,
    client_secret: String,
    publishable_key: String,
    /// What the card is charged, in minor units.
    amount: i64,
    currency: String,
}

#[derive(ApiResponse)]
enum Confirmed {
    /// The order is placed (by this confirm, or an earlier one of this checkout).
    #[oai(status = 200)]
    Placed(Json<Placed>),
    /// The stock is reserved and a card payment waits for the shopper (`paymentMethod: stripe`).
    #[oai(status = 202)]
    PaymentPending(Json<CardPayment>),
}

#[derive(ApiResponse)]
enum CheckoutFailure {
    /// A path parameter or header is malformed (answered by the parameter parser).
    #[allow(dead_code)]
    #[oai(status = 400)]
    BadRequest(ProblemJson),
    /// No such shop, cart or checkout; a customer's checkout without that customer's token is
    /// unknown too.
    #[oai(status = 404)]
    NotFound(ProblemJson),
    /// The checkout's state forbids it (completed, expired), a product is no longer for sale,
    /// the coupon no longer applies, or there is not enough stock: `errors` names each item
    /// short (`items.<itemId>`) with what is available.
    #[oai(status = 409)]
    Conflict(ProblemJson),
    /// A field was rejected, or the checkout lacks what placing the order needs; `errors` names
    /// it.
    #[oai(status = 422)]
    Unprocessable(ProblemJson),
    /// Too many requests from this client; see `Retry-After` (answered by the rate limiter).
    #[allow(dead_code)]
    #[oai(status = 429)]
    TooManyRequests(ProblemJson),
    /// An unexpected error; the log has the details under the request id.
    #[oai(status = 500)]
    Internal(ProblemJson),
    /// Stripe refused the shop's request (its keys revoked, say).
    #[oai(status = 502)]
    BadGateway(ProblemJson),
    /// Stripe could not be reached; the stock stays reserved, and repeating the confirm
    /// continues the same payment.
    #[oai(status = 503)]
    Unavailable(ProblemJson),
}

impl From<CheckoutError> for CheckoutFailure {
    fn from(error: CheckoutError) -> Self {
        match error {
            CheckoutError::Invalid(problems) => {
                CheckoutFailure::Unprocessable(validation(problems))
            }
            CheckoutError::NotFound(what) => {
                CheckoutFailure::NotFound(ProblemJson::not_found(format!("No such {what}.")))
            }
            CheckoutError::Conflict { field, message } => CheckoutFailure::Conflict(
                ProblemJson::new(StatusCode::CONFLICT, "checkout-conflict", message.clone())
                    .with_errors(vec![FieldError {
                        field: field.into(),
                        message,
                    }]),
            ),
            CheckoutError::Shortfall(short) => {
                let detail = short
                    .iter()
                    .map(|s| format!("{} ({} available)", s.sku, s.available))
                    .collect::<Vec<_>>()
                    .join(", ");
                CheckoutFailure::Conflict(
                    ProblemJson::new(
                        StatusCode::CONFLICT,
                        "insufficient-stock",
                        format!("Not enough stock of {detail}. Nothing was reserved."),
                    )
                    .with_errors(
                        short
                            .into_iter()
                            .map(|s| FieldError {
                                field: format!("items.{}", s.item_id),
                                message: format!(
                                    "{}: {} wanted, {} available",
                                    s.sku, s.requested, s.available
                                ),
                            })
                            .collect(),
                    ),
                )
            }
            CheckoutError::Database(e) => CheckoutFailure::Internal(ProblemJson::internal(&e)),
            CheckoutError::Enqueue(e) => CheckoutFailure::Internal(ProblemJson::internal(&e)),
            CheckoutError::Provider(CallError::Unavailable(reason)) => {
                tracing::warn!(%reason, "Stripe unavailable");
                CheckoutFailure::Unavailable(ProblemJson::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "payment-provider-unavailable",
                    "Stripe could not be reached. The stock stays reserved; confirm again to \
                     continue the same payment.",
                ))
            }
            CheckoutError::Provider(CallError::Refused(reason)) => {
                tracing::warn!(%reason, "Stripe refused a request");
                CheckoutFailure::BadGateway(ProblemJson::new(
                    StatusCode::BAD_GATEWAY,
                    "payment-provider-refused",
                    "Stripe refused the shop's request; the shop's Stripe settings need a look.",
                ))
            }
            CheckoutError::Provider(CallError::Keys(e)) => {
                CheckoutFailure::Internal(ProblemJson::internal(&e))
            }
        }
    }
}

#[OpenApi(prefix_path = "/api/v1/store/checkout", tag = "ApiTags::Checkout")]
impl CheckoutApi {
    /// Checks a cart out: its lines (sku, name, quantity, unit price) and coupon are copied into
    /// the cart's checkout, made now or refreshed (contact, addresses and shipping method
    /// stay). Its id is random: a guest's only key to it.
    #[oai(path = "/", method = "post")]
    #[tracing::instrument(skip_all)]
    async fn start(
        &self,
        state: Data<&AppState>,
        tenant: CurrentTenant,
        shopper: Shopper,
        body: JsonBody<StartRequest>,
    ) -> Result<Json<CheckoutBody>, CheckoutFailure> {
        let cart = CartKey {
            tenant_id: tenant.0.id,
            id: body.0.cart_id,
            customer_id: shopper.customer_id(),
        };
        Ok(Json(checkout::start(&state.db, cart).await?.into()))
    }

    /// The checkout with its lines and totals.
    #[oai(path = "/:id", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn get(
        &self,
        state: Data<&AppState>,
        tenant: CurrentTenant,
        shopper: Shopper,
        id: Path<uuid::Uuid>,
    ) -> Result<Json<CheckoutBody>, CheckoutFailure> {
        Ok(Json(
            checkout::get(&state.db, key(&tenant, &shopper, &id))
                .await?
                .into(),
        ))
    }

    /// Sets contact, shipping and billing address (or a saved address of the signed-in
    /// customer) and the shipping method; the totals are recomputed. A customer's token
    /// attaches a guest's checkout to the customer.
    #[oai(path = "/:id", method = "put")]
    #[tracing::instrument(skip_all)]
    async fn update(
        &self,
        state: Data<&AppState>,
        tenant: CurrentTenant,
        shopper: Shopper,
        id: Path<uuid::Uuid>,
        body: JsonBody<UpdateRequest>,
    ) -> Result<Json<CheckoutBody>, CheckoutFailure> {
        let b = body.0;
        let changes = Changes {
            email: b.email,
            phone: b.phone,
            shipping_address: b.shipping_address.map(Into::into),
            shipping_address_id: b.shipping_address_id,
            billing_same_as_shipping: b.billing_same_as_shipping,
            billing_address: b.billing_address.map(Into::into),
            billing_address_id: b.billing_address_id,
            shipping_method_id: b.shipping_method_id,
        };
        let view = checkout::update(&state.db, key(&tenant, &shopper, &id), changes).await?;
        Ok(Json(view.into()))
    }

    /// The shipping methods to the checkout's address, with their price for it, cheapest
    /// first; 409 until the checkout has a shipping address.
    #[oai(path = "/:id/shipping-methods", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn shipping_methods(
        &self,
        state: Data<&AppState>,
        tenant: CurrentTenant,
        shopper: Shopper,
        id: Path<uuid::Uuid>,
    ) -> Result<Json<ShippingChoices>, CheckoutFailure> {
        let options = checkout::shipping_options(&state.db, key(&tenant, &shopper, &id)).await?;
        Ok(Json(ShippingChoices {
            items: options
                .into_iter()
                .map(|(m, price)| ShippingChoice {
                    id: m.id,
                    name: m.name,
                    price,
                })
                .collect(),
        }))
    }

    /// Places the order: re-checks every line and the coupon, reserves the stock (all of it or
    /// none: a 409 names each item short), and answers with the order. Repeating it — the same
    /// `Idempotency-Key`, or the same checkout — answers with the same order.
    ///
    /// With `paymentMethod: stripe` it reserves the stock the same way and answers 202 with
    /// the card payment to collect; repeating it continues the same payment, and answers with
    /// the order once Stripe reports the money.
    #[oai(path = "/:id/confirm", method = "post")]
    #[tracing::instrument(skip_all)]
    async fn confirm(
        &self,
        state: Data<&AppState>,
        tenant: CurrentTenant,
        shopper: Shopper,
        id: Path<uuid::Uuid>,
        #[oai(name = "Idempotency-Key", validator(pattern = "^[!-~]{1,255}$"))]
        idempotency_key: Header<Option<String>>,
        body: JsonBody<ConfirmRequest>,
    ) -> Result<Confirmed, CheckoutFailure> {
        let key = key(&tenant, &shopper, &id);
        let placed = match body.0.payment_method {
            PaymentMethodName::Manual => {
                confirm::confirm(
                    &state.db,
                    key,
                    Confirm {
                        method: confirm::PaymentMethod::Manual,
                        idempotency_key: idempotency_key.0,
                        payment_window: state.orders.payment_window,
                    },
                )
                .await?
            }
            PaymentMethodName::Stripe => {
                match card::confirm(&state.db, &state.stripe, key).await? {
                    card::Confirmed::Placed(placed) => placed,
                    card::Confirmed::Pending(pending) => {
                        return Ok(Confirmed::PaymentPending(Json(CardPayment {
                            checkout_id: pending.payment.checkout_id,
                            status: CheckoutStatus::PaymentPending,
                            payment_intent_id: pending.payment_intent,
                            client_secret: pending.client_secret,
                            publishable_key: pending.publishable_key,
                            amount: pending.payment.amount,
                            currency: pending.payment.currency,
                        })));
                    }
                }
            }
        };
        let o = placed.order;
        let payment_instructions =
            cartwheel_domain::orders::payment_instructions(&o).unwrap_or_default();
        Ok(Confirmed::Placed(Json(Placed {
            order_id: o.id,
            order_number: o.number,
            status: o.status.into(),
            payment_status: o.payment_status.into(),
            payment_instructions,
            currency: o.currency,
            total: o.total,
            order_token: placed.token,
            payment_due_at: o.payment_due_at,
        })))
    }
}

fn key(tenant: &CurrentTenant, shopper: &Shopper, id: &Path<uuid::Uuid>) -> CheckoutKey {
    CheckoutKey {
        tenant_id: tenant.0.id,
        id: id.0,
        customer_id: shopper.customer_id(),
    }
}
