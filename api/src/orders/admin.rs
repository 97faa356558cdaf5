//! The shop's orders, for its admins: the list, one order, moving it on, marking it paid.

use cartwheel_domain::accounts::roles::Permission;
use cartwheel_domain::orders::{self, Filter, status};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};

use super::{OrderBody, OrderStatus, OrderSummary, PaymentStatus};
use crate::auth::{AdminAuth, AdminError};
use crate::json_body::JsonBody;
use crate::paging::{Page, PageNumber, PageSize};
use crate::state::AppState;

#[derive(Tags)]
enum ApiTags {
    /// The shop's orders (admin).
    AdminOrders,
}

pub struct AdminOrdersApi;

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct StatusRequest {
    /// The next status: pending → processing → shipped → delivered, or cancelled before it
    /// ships. Any other move is a 409 naming the current status.
    status: OrderStatus,
    /// With `shipped`: the parcel's carrier, tracking number and tracking page.
    #[oai(validator(max_length = 100))]
    carrier: Option<String>,
    #[oai(validator(max_length = 100))]
    tracking_number: Option<String>,
    #[oai(validator(max_length = 500, pattern = r"^https?://[^\s\u0000-\u001F\u007F]+$"))]
    tracking_url: Option<String>,
}

#[OpenApi(
    prefix_path = "/api/v1/store/admin/orders",
    tag = "ApiTags::AdminOrders"
)]
impl AdminOrdersApi {
    /// The shop's orders, newest first: by status, payment status, customer and placing time
    /// (`placedFrom` inclusive, `placedBefore` exclusive); `search` finds an order number
    /// (`1042` or `#1042`) or an email. `total` counts matches up to 10,000; 10,001 means more
    /// (a full page means there may be a next one).
    #[oai(path = "/", method = "get")]
    #[tracing::instrument(skip_all)]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
        status: Query<Option<OrderStatus>>,
        #[oai(name = "paymentStatus")] payment_status: Query<Option<PaymentStatus>>,
        #[oai(name = "customerId")] customer_id: Query<Option<uuid::Uuid>>,
        #[oai(name = "placedFrom")] placed_from: Query<Option<chrono::DateTime<chrono::Utc>>>,
        #[oai(name = "placedBefore")] placed_before: Query<Option<chrono::DateTime<chrono::Utc>>>,
        #[oai(validator(max_length = 254))] search: Query<Option<String>>,
        page: Query<PageNumber>,
        limit: Query<PageSize>,
    ) -> Result<Json<Page<OrderSummary>>, AdminError> {
        auth.0.require(Permission::OrdersRead)?;
        let filter = Filter {
            status: status.0.map(Into::into),
            payment_status: payment_status.0.map(Into::into),
            customer_id: customer_id.0,
            placed_from: placed_from.0,
            placed_before: placed_before.0,
            search: search.0,
        };
        let (page, limit) = (page.0, limit.0);
        let (rows, total) =
            orders::list(&state.db, auth.0.tenant.id, &filter, page.0, limit.0).await?;
        let rows = rows.into_iter().map(OrderSummary::from).collect();
        Ok(Json(Page::new(rows, page, limit, total)))
    }

    /// One order with its lines, addresses and totals.
    #[oai(path = "/:id", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn get(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
        id: Path<uuid::Uuid>,
    ) -> Result<Json<OrderBody>, AdminError> {
        auth.0.require(Permission::OrdersRead)?;
        let view = orders::get(&state.db, auth.0.tenant.id, id.0).await?;
        Ok(Json(view.into()))
    }

    /// Moves the order on. Shipped takes its stock out (the stock ledger records it) and mails
    /// the tracking details; delivered mails the shopper and, days later, asks for a review;
    /// cancelled releases the stock and mails the shopper.
    #[oai(path = "/:id/status", method = "put")]
    #[tracing::instrument(skip_all)]
    async fn set_status(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
        id: Path<uuid::Uuid>,
        body: JsonBody<StatusRequest>,
    ) -> Result<Json<OrderBody>, AdminError> {
        auth.0.require(Permission::OrdersManage)?;
        let b = body.0;
        let shipment = status::Shipment {
            carrier: b.carrier,
            tracking_number: b.tracking_number,
            tracking_url: b.tracking_url,
        };
        let view = status::move_to(
            &state.db,
            &auth.0.actor(),
            id.0,
            b.status.into(),
            shipment,
            state.orders,
        )
        .await?;
        Ok(Json(view.into()))
    }

    /// Records a manual order's payment: paid, a pending order moves to processing, and the
    /// shopper gets the receipt. 409 unless the order is open and unpaid.
    #[oai(path = "/:id/mark-paid", method = "post")]
    #[tracing::instrument(skip_all)]
    async fn mark_paid(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
        id: Path<uuid::Uuid>,
    ) -> Result<Json<OrderBody>, AdminError> {
        auth.0.require(Permission::OrdersManage)?;
        let view = status::mark_paid(&state.db, &auth.0.actor(), id.0).await?;
        Ok(Json(view.into()))
    }
}
