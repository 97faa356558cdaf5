//! Shopping carts: create, read, add, change quantities, remove, and apply a coupon.

use cartwheel_domain::carts::{self, CartError, CartView};
use poem::http::StatusCode;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};

use crate::account::Shopper;
use crate::auth::validation;
use crate::json_body::{JsonBody, OptionalJsonBody};
use crate::problem::{FieldError, ProblemJson};
use crate::state::AppState;
use crate::tenant::CurrentTenant;

#[derive(Tags)]
enum ApiTags {
    /// A shopper's cart.
    Cart,
}

pub struct CartApi;

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct LineView {
    item_id: uuid::Uuid,
    sku: String,
    name: String,
    slug: String,
    qty: i64,
    /// The price when the item was first added (minor units).
    unit_price: i64,
    line_total: i64,
    available: i64,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct CartCoupon {
    code: String,
    /// Why the code gives no discount now (e.g. the subtotal fell below its minimum).
    #[oai(nullable)]
    not_applied: Option<String>,
}

#[derive(Object)]
struct TotalsView {
    subtotal: i64,
    discount: i64,
    /// Estimated with the shop's default tax rate.
    tax: i64,
    total: i64,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct CartBody {
    id: uuid::Uuid,
    lines: Vec<LineView>,
    #[oai(nullable)]
    coupon: Option<CartCoupon>,
    /// Where the abandoned-cart reminder goes, if anywhere.
    #[oai(nullable)]
    email: Option<String>,
    totals: TotalsView,
    expires_at: chrono::DateTime<chrono::Utc>,
}

impl From<CartView> for CartBody {
    fn from(v: CartView) -> Self {
        CartBody {
            id: v.cart.id,
            lines: v
                .lines
                .into_iter()
                .map(|l| LineView {
                    item_id: l.item_id,
                    sku: l.sku,
                    name: l.name,
                    slug: l.slug,
                    qty: l.quantity,
                    unit_price: l.unit_price,
                    line_total: l.line_total,
                    available: l.available,
                })
                .collect(),
            coupon: v.coupon.map(|c| CartCoupon {
                code: c.code,
                not_applied: c.not_applied,
            }),
            email: v.cart.email.clone(),
            totals: TotalsView {
                subtotal: v.totals.subtotal,
                discount: v.totals.discount,
                tax: v.totals.tax,
                total: v.totals.total,
            },
            expires_at: v.cart.expires_at,
        }
    }
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct AddRequest {
    item_id: uuid::Uuid,
    #[oai(validator(minimum(value = "1"), maximum(value = "1000000")))]
    qty: i64,
}

#[derive(Object)]
struct QuantityRequest {
    /// 0 removes the line.
    #[oai(validator(minimum(value = "0"), maximum(value = "1000000")))]
    qty: i64,
}

#[derive(Object)]
struct CartEmailRequest {
    /// Where the abandoned-cart reminder goes (a signed-in customer's cart has their email).
    email: String,
}

#[derive(Object)]
struct ApplyCouponRequest {
    #[oai(validator(max_length = 64))]
    code: String,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct OpenRequest {
    /// The storefront's session: a guest's later requests with the same id get this cart
    /// back (until it is checked out, merged at login or expired). Ignored for a signed-in
    /// customer, whose cart is found by their token.
    #[oai(validator(pattern = r"^[A-Za-z0-9._~-]{16,128}$"))]
    session_id: Option<String>,
}

#[derive(ApiResponse)]
enum Opened {
    /// The shopper's open cart: the customer's, or the one of this session.
    #[oai(status = 200)]
    Existing(Json<CartBody>),
    /// A new, empty cart; keep its id.
    #[oai(status = 201)]
    Created(Json<CartBody>),
}

#[derive(ApiResponse)]
enum CartFailure {
    /// A path parameter is malformed (answered by the parameter parser).
    #[allow(dead_code)]
    #[oai(status = 400)]
    BadRequest(ProblemJson),
    /// No such shop, cart (or it expired), or line; a customer's cart without that customer's
    /// token is unknown too.
    #[oai(status = 404)]
    NotFound(ProblemJson),
    /// Not enough stock; the detail and `errors` name the available quantity.
    #[oai(status = 409)]
    Conflict(ProblemJson),
    /// A field was rejected (or a coupon does not apply, with the reason); `errors` names it.
    #[oai(status = 422)]
    Unprocessable(ProblemJson),
    /// Too many requests from this client; see `Retry-After` (answered by the rate limiter).
    #[allow(dead_code)]
    #[oai(status = 429)]
    TooManyRequests(ProblemJson),
    /// An unexpected error; the log has the details under the request id.
    #[oai(status = 500)]
    Internal(ProblemJson),
}

impl From<CartError> for CartFailure {
    fn from(error: CartError) -> Self {
        match error {
            CartError::Invalid(problems) => CartFailure::Unprocessable(validation(problems)),
            CartError::NotFound(what) => {
                CartFailure::NotFound(ProblemJson::not_found(format!("No such {what}.")))
            }
            CartError::InsufficientStock { available } => CartFailure::Conflict(
                ProblemJson::new(
                    StatusCode::CONFLICT,
                    "insufficient-stock",
                    format!("Only {available} available."),
                )
                .with_errors(vec![FieldError {
                    field: "qty".into(),
                    message: format!("only {available} available"),
                }]),
            ),
            CartError::CouponRejected(reason) => CartFailure::Unprocessable(
                ProblemJson::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "coupon-not-applicable",
                    reason.clone(),
                )
                .with_errors(vec![FieldError {
                    field: "code".into(),
                    message: reason,
                }]),
            ),
            CartError::Database(e) => CartFailure::Internal(ProblemJson::internal(&e)),
            CartError::Enqueue(e) => CartFailure::Internal(ProblemJson::internal(&e)),
        }
    }
}

#[OpenApi(prefix_path = "/api/v1/store/cart", tag = "ApiTags::Cart")]
impl CartApi {
    /// The shopper's cart: a signed-in customer's open cart, a guest session's open cart
    /// (`sessionId`), or else a new empty one. Guest carts expire after
    /// `CARTWHEEL_CART_TTL_HOURS` without a change. The body may be left out.
    #[oai(path = "/", method = "post")]
    #[tracing::instrument(skip_all)]
    async fn open(
        &self,
        state: Data<&AppState>,
        tenant: CurrentTenant,
        shopper: Shopper,
        body: OptionalJsonBody<OpenRequest>,
    ) -> Result<Opened, CartFailure> {
        let session = body.0.as_ref().and_then(|b| b.session_id.as_deref());
        let opener = match &shopper {
            Shopper::Customer(auth) => carts::Opener::Customer(&auth.0.customer),
            Shopper::Guest => carts::Opener::Guest { session },
        };
        let (cart, new) = carts::open(&state.db, tenant.0.id, opener, state.cart_ttl).await?;
        Ok(if new {
            Opened::Created(Json(cart.into()))
        } else {
            Opened::Existing(Json(cart.into()))
        })
    }

    /// The cart with its lines, coupon and totals.
    #[oai(path = "/:id", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn get(
        &self,
        state: Data<&AppState>,
        tenant: CurrentTenant,
        shopper: Shopper,
        id: Path<uuid::Uuid>,
    ) -> Result<Json<CartBody>, CartFailure> {
        Ok(Json(
            carts::get(&state.db, key(&tenant, &shopper, &id))
                .await?
                .into(),
        ))
    }

    /// Adds an item (to what is there); 409 names the available stock when it does not suffice.
    #[oai(path = "/:id/items", method = "post")]
    #[tracing::instrument(skip_all)]
    async fn add(
        &self,
        state: Data<&AppState>,
        tenant: CurrentTenant,
        shopper: Shopper,
        id: Path<uuid::Uuid>,
        body: JsonBody<AddRequest>,
    ) -> Result<Json<CartBody>, CartFailure> {
        let b = body.0;
        let cart = carts::add(
            &state.db,
            key(&tenant, &shopper, &id),
            b.item_id,
            b.qty,
            state.cart_ttl,
        )
        .await?;
        Ok(Json(cart.into()))
    }

    /// Sets an item's quantity; 0 removes it.
    #[oai(path = "/:id/items/:itemId", method = "put")]
    #[tracing::instrument(skip_all)]
    async fn set_quantity(
        &self,
        state: Data<&AppState>,
        tenant: CurrentTenant,
        shopper: Shopper,
        id: Path<uuid::Uuid>,
        #[oai(name = "itemId")] item_id: Path<uuid::Uuid>,
        body: JsonBody<QuantityRequest>,
    ) -> Result<Json<CartBody>, CartFailure> {
        let cart = carts::set_quantity(
            &state.db,
            key(&tenant, &shopper, &id),
            item_id.0,
            body.0.qty,
            state.cart_ttl,
        )
        .await?;
        Ok(Json(cart.into()))
    }

    /// Removes an item's line; a line that is not in the cart is already removed (the cart is
    /// answered unchanged).
    #[oai(path = "/:id/items/:itemId", method = "delete")]
    #[tracing::instrument(skip_all)]
    async fn remove(
        &self,
        state: Data<&AppState>,
        tenant: CurrentTenant,
        shopper: Shopper,
        id: Path<uuid::Uuid>,
        #[oai(name = "itemId")] item_id: Path<uuid::Uuid>,
    ) -> Result<Json<CartBody>, CartFailure> {
        let cart = carts::remove(
            &state.db,
            key(&tenant, &shopper, &id),
            item_id.0,
            state.cart_ttl,
        )
        .await?;
        Ok(Json(cart.into()))
    }

    /// Sets the guest's email on the cart, for its (single) abandoned-cart reminder.
    #[oai(path = "/:id/email", method = "put")]
    #[tracing::instrument(skip_all)]
    async fn set_email(
        &self,
        state: Data<&AppState>,
        tenant: CurrentTenant,
        shopper: Shopper,
        id: Path<uuid::Uuid>,
        body: JsonBody<CartEmailRequest>,
    ) -> Result<Json<CartBody>, CartFailure> {
        let cart =
            carts::abandoned::set_email(&state.db, key(&tenant, &shopper, &id), &body.0.email)
                .await?;
        Ok(Json(cart.into()))
    }

    /// Applies a coupon code; a code that does not apply is a 422 saying why.
    #[oai(path = "/:id/coupon", method = "post")]
    #[tracing::instrument(skip_all)]
    async fn apply_coupon(
        &self,
        state: Data<&AppState>,
        tenant: CurrentTenant,
        shopper: Shopper,
        id: Path<uuid::Uuid>,
        body: JsonBody<ApplyCouponRequest>,
    ) -> Result<Json<CartBody>, CartFailure> {
        let cart = carts::apply_coupon(
            &state.db,
            key(&tenant, &shopper, &id),
            &body.0.code,
            state.cart_ttl,
        )
        .await?;
        Ok(Json(cart.into()))
    }

    /// Removes the coupon.
    #[oai(path = "/:id/coupon", method = "delete")]
    #[tracing::instrument(skip_all)]
    async fn remove_coupon(
        &self,
        state: Data<&AppState>,
        tenant: CurrentTenant,
        shopper: Shopper,
        id: Path<uuid::Uuid>,
    ) -> Result<Json<CartBody>, CartFailure> {
        let cart =
            carts::remove_coupon(&state.db, key(&tenant, &shopper, &id), state.cart_ttl).await?;
        Ok(Json(cart.into()))
    }
}

/// The cart of the path, asked for by this shopper (a customer's cart answers only to them).
fn key(tenant: &CurrentTenant, shopper: &Shopper, id: &Path<uuid::Uuid>) -> carts::CartKey {
    carts::CartKey {
        tenant_id: tenant.0.id,
        id: id.0,
        customer_id: shopper.customer_id(),
    }
}
