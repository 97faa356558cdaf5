//! Orders: a customer's history and a shopper's order (`OrdersApi`), and the shop's orders for
//! its admins (`admin::AdminOrdersApi`).

pub mod admin;

use cartwheel_domain::orders::{self, OrderError, OrderView, Reader, status};
use cartwheel_entity::orders as order_rows;
use poem::http::StatusCode;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Enum, Object, OpenApi, Tags};

use crate::account::{CustomerAuth, Shopper};
use crate::auth::{AdminError, validation};
use crate::paging::{Page, PageNumber, PageSize};
use crate::postal::{self, PostalAddress};
use crate::problem::ProblemJson;
use crate::state::AppState;
use crate::tenant::CurrentTenant;

#[derive(Tags)]
enum ApiTags {
    /// A shopper's orders.
    Orders,
}

pub struct OrdersApi;

/// Where the order is: pending (placed), processing, shipped, delivered, or cancelled.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "lowercase")]
pub enum OrderStatus {
    Pending,
    Processing,
    Shipped,
    Delivered,
    Cancelled,
}

impl From<orders::Status> for OrderStatus {
    fn from(s: orders::Status) -> Self {
        match s {
            orders::Status::Pending => OrderStatus::Pending,
            orders::Status::Processing => OrderStatus::Processing,
            orders::Status::Shipped => OrderStatus::Shipped,
            orders::Status::Delivered => OrderStatus::Delivered,
            orders::Status::Cancelled => OrderStatus::Cancelled,
        }
    }
}

impl From<OrderStatus> for orders::Status {
    fn from(s: OrderStatus) -> Self {
        match s {
            OrderStatus::Pending => orders::Status::Pending,
            OrderStatus::Processing => orders::Status::Processing,
            OrderStatus::Shipped => orders::Status::Shipped,
            OrderStatus::Delivered => orders::Status::Delivered,
            OrderStatus::Cancelled => orders::Status::Cancelled,
        }
    }
}

/// Where the money is, apart from the order's status.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum PaymentStatus {
    Pending,
    Paid,
    PartiallyRefunded,
    Refunded,
}

impl From<orders::PaymentStatus> for PaymentStatus {
    fn from(s: orders::PaymentStatus) -> Self {
        match s {
            orders::PaymentStatus::Pending => PaymentStatus::Pending,
            orders::PaymentStatus::Paid => PaymentStatus::Paid,
            orders::PaymentStatus::PartiallyRefunded => PaymentStatus::PartiallyRefunded,
            orders::PaymentStatus::Refunded => PaymentStatus::Refunded,
        }
    }
}

impl From<PaymentStatus> for orders::PaymentStatus {
    fn from(s: PaymentStatus) -> Self {
        match s {
            PaymentStatus::Pending => orders::PaymentStatus::Pending,
            PaymentStatus::Paid => orders::PaymentStatus::Paid,
            PaymentStatus::PartiallyRefunded => orders::PaymentStatus::PartiallyRefunded,
            PaymentStatus::Refunded => orders::PaymentStatus::Refunded,
        }
    }
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct OrderLine {
    item_id: uuid::Uuid,
    sku: String,
    name: String,
    qty: i64,
    unit_price: i64,
    line_total: i64,
    /// The line's share of the order's discount.
    discount: i64,
    tax_class: String,
    /// In basis points (825 = 8.25 %).
    tax_rate: i32,
    tax: i64,
}

/// An order. Amounts are minor units of `currency`.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct OrderBody {
    id: uuid::Uuid,
    number: i64,
    status: OrderStatus,
    payment_status: PaymentStatus,
    /// `manual`: bank transfer or cash on delivery.
    payment_method: String,
    email: String,
    phone: String,
    lines: Vec<OrderLine>,
    currency: String,
    subtotal: i64,
    discount: i64,
    shipping: i64,
    /// The tax on shipping, part of `tax`.
    shipping_tax: i64,
    tax: i64,
    total: i64,
    refunded: i64,
    /// Owed back to the shopper and not yet paid.
    refund_due: i64,
    #[oai(nullable)]
    coupon_code: Option<String>,
    shipping_method: String,
    shipping_address: PostalAddress,
    billing_address: PostalAddress,
    #[oai(nullable)]
    carrier: Option<String>,
    #[oai(nullable)]
    tracking_number: Option<String>,
    #[oai(nullable)]
    tracking_url: Option<String>,
    placed_at: chrono::DateTime<chrono::Utc>,
    /// An unpaid manual order is cancelled then.
    #[oai(nullable)]
    payment_due_at: Option<chrono::DateTime<chrono::Utc>>,
    #[oai(nullable)]
    paid_at: Option<chrono::DateTime<chrono::Utc>>,
    #[oai(nullable)]
    shipped_at: Option<chrono::DateTime<chrono::Utc>>,
    #[oai(nullable)]
    delivered_at: Option<chrono::DateTime<chrono::Utc>>,
    #[oai(nullable)]
    cancelled_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<OrderView> for OrderBody {
    fn from(v: OrderView) -> Self {
        let o = v.order;
        OrderBody {
            id: o.id,
            number: o.number,
            status: o.status.into(),
            payment_status: o.payment_status.into(),
            payment_method: match o.payment_method {
                orders::PaymentMethod::Manual => "manual".into(),
                orders::PaymentMethod::Stripe => "stripe".into(),
            },
            email: o.email,
            phone: o.phone,
            lines: v
                .lines
                .into_iter()
                .map(|l| OrderLine {
                    item_id: l.item_id,
                    sku: l.sku,
                    name: l.name,
                    qty: l.quantity,
                    unit_price: l.unit_price,
                    line_total: l.line_total,
                    discount: l.discount,
                    tax_class: l.tax_class,
                    tax_rate: l.tax_rate,
                    tax: l.tax,
                })
                .collect(),
            currency: o.currency,
            subtotal: o.subtotal,
            discount: o.discount,
            shipping: o.shipping,
            shipping_tax: o.shipping_tax,
            tax: o.tax,
            total: o.total,
            refunded: o.refunded,
            refund_due: o.refund_due,
            coupon_code: o.coupon_code,
            shipping_method: o.shipping_method,
            shipping_address: postal::from_json(&o.shipping_address),
            billing_address: postal::from_json(&o.billing_address),
            carrier: o.carrier,
            tracking_number: o.tracking_number,
            tracking_url: o.tracking_url,
            placed_at: o.placed_at,
            payment_due_at: o.payment_due_at,
            paid_at: o.paid_at,
            shipped_at: o.shipped_at,
            delivered_at: o.delivered_at,
            cancelled_at: o.cancelled_at,
        }
    }
}

/// An order in a list.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct OrderSummary {
    id: uuid::Uuid,
    number: i64,
    status: OrderStatus,
    payment_status: PaymentStatus,
    email: String,
    currency: String,
    total: i64,
    placed_at: chrono::DateTime<chrono::Utc>,
}

impl From<order_rows::Model> for OrderSummary {
    fn from(o: order_rows::Model) -> Self {
        OrderSummary {
            id: o.id,
            number: o.number,
            status: o.status.into(),
            payment_status: o.payment_status.into(),
            email: o.email,
            currency: o.currency,
            total: o.total,
            placed_at: o.placed_at,
        }
    }
}

impl From<OrderError> for AdminError {
    fn from(error: OrderError) -> Self {
        match error {
            OrderError::Invalid(problems) => AdminError::Unprocessable(validation(problems)),
            OrderError::NotFound => AdminError::NotFound(ProblemJson::not_found("No such order.")),
            OrderError::Conflict(message) => AdminError::Conflict(ProblemJson::new(
                StatusCode::CONFLICT,
                "order-state",
                message,
            )),
            OrderError::Database(e) => AdminError::Internal(ProblemJson::internal(&e)),
            OrderError::Enqueue(e) => AdminError::Internal(ProblemJson::internal(&e)),
        }
    }
}

#[OpenApi(prefix_path = "/api/v1/store/orders", tag = "ApiTags::Orders")]
impl OrdersApi {
    /// The signed-in customer's orders, newest first.
    #[oai(path = "/", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn history(
        &self,
        auth: CustomerAuth,
        state: Data<&AppState>,
        page: Query<PageNumber>,
        limit: Query<PageSize>,
    ) -> Result<Json<Page<OrderSummary>>, AdminError> {
        let (page, limit) = (page.0, limit.0);
        let session = &auth.0;
        let (rows, total) = orders::customer_history(
            &state.db,
            session.tenant.id,
            session.customer.id,
            page.0,
            limit.0,
        )
        .await?;
        let rows = rows.into_iter().map(OrderSummary::from).collect();
        Ok(Json(Page::new(rows, page, limit, total)))
    }

    /// One order: the signed-in customer's own, or any with its `token` (from the confirm
    /// answer and the confirmation mail, for guests).
    #[oai(path = "/:id", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn get(
        &self,
        state: Data<&AppState>,
        tenant: CurrentTenant,
        shopper: Shopper,
        id: Path<uuid::Uuid>,
        #[oai(validator(max_length = 128))] token: Query<Option<String>>,
    ) -> Result<Json<OrderBody>, AdminError> {
        let reader = reader(&shopper, token.0.as_deref())?;
        let view = orders::for_shopper(&state.db, tenant.0.id, id.0, reader).await?;
        Ok(Json(view.into()))
    }

    /// Cancels the order before it ships: its stock is released; a paid order's refund is
    /// recorded as due. 409 names the status once it has shipped.
    #[oai(path = "/:id/cancel", method = "post")]
    #[tracing::instrument(skip_all)]
    async fn cancel(
        &self,
        state: Data<&AppState>,
        tenant: CurrentTenant,
        shopper: Shopper,
        id: Path<uuid::Uuid>,
        #[oai(validator(max_length = 128))] token: Query<Option<String>>,
    ) -> Result<Json<OrderBody>, AdminError> {
        let reader = reader(&shopper, token.0.as_deref())?;
        let view = status::cancel_by_shopper(&state.db, tenant.0.id, id.0, reader).await?;
        Ok(Json(view.into()))
    }
}

/// A token reads any order it belongs to; else the customer reads their own; a guest without a
/// token reads none.
fn reader<'a>(shopper: &Shopper, token: Option<&'a str>) -> Result<Reader<'a>, AdminError> {
    match (token, shopper.customer_id()) {
        (Some(token), _) => Ok(Reader::Token(token)),
        (None, Some(customer)) => Ok(Reader::Customer(customer)),
        (None, None) => Err(AdminError::NotFound(ProblemJson::not_found(
            "No such order.",
        ))),
    }
}
