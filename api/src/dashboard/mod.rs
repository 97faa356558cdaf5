//! The admin dashboard (`dashboard:read`, every role): revenue, the order pipeline, stock
//! alerts, a summary of all of it, and what needs attention. Money in minor units of the shop's
//! currency; periods in its timezone. Read from rollups kept with every order change
//! (`domain::dashboard`), so a shop's size does not slow it.

use cartwheel_domain::accounts::roles::Permission;
use cartwheel_domain::backups;
use cartwheel_domain::dashboard::periods::{Period, Periods};
use cartwheel_domain::dashboard::{self, Attention, Compared, Inventory, Pipeline, Shop};
use cartwheel_entity::{TenantId, tenants};
use chrono::{DateTime, Utc};
use poem::Request;
use poem::web::Data;
use poem_openapi::SecurityScheme;
use poem_openapi::auth::Bearer;
use poem_openapi::payload::Json;
use poem_openapi::{Enum, Object, OpenApi, Tags};

use crate::audit::AuditEntryView;
use crate::auth::session::authenticate;
use crate::auth::{AdminAuth, AdminError, AdminSession};
use crate::problem::ProblemJson;
use crate::state::AppState;
use crate::tenant::resolve::tenant_of;

#[derive(Tags)]
enum ApiTags {
    /// What an admin sees first: revenue, orders, stock and what needs attention.
    Dashboard,
}

pub struct DashboardApi;

/// A period's revenue and orders, and the same span of the period before.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct PeriodRevenue {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    /// Totals of the orders placed in the period that stand (not cancelled), less refunds.
    revenue: i64,
    orders: i64,
    previous_from: DateTime<Utc>,
    previous_to: DateTime<Utc>,
    previous_revenue: i64,
    previous_orders: i64,
    /// The revenue's change against the period before, in percent (one decimal); null when
    /// the period before had none.
    #[oai(nullable)]
    change_percent: Option<f64>,
}

impl PeriodRevenue {
    fn of((current, previous): (Period, Period), sales: Compared) -> Self {
        PeriodRevenue {
            from: current.from,
            to: current.to,
            revenue: sales.current.revenue,
            orders: sales.current.orders,
            previous_from: previous.from,
            previous_to: previous.to,
            previous_revenue: sales.previous.revenue,
            previous_orders: sales.previous.orders,
            change_percent: sales.change_percent(),
        }
    }
}

/// Revenue today, this week (from Monday) and this month, in the shop's timezone; each
/// against the period before until the same point.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct RevenueView {
    currency: String,
    timezone: String,
    today: PeriodRevenue,
    week: PeriodRevenue,
    month: PeriodRevenue,
}

/// How many of the shop's orders are in each stage now. Every order is invoiced as it is
/// placed, so none waits to be billed; those still to deliver are `pendingPayment + toFulfil`
/// (a shipment document is written when an order ships).
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct PipelineView {
    /// Placed, waiting for a manual payment.
    pending_payment: i64,
    /// Paid, to pick, pack and ship (status `processing`).
    to_fulfil: i64,
    shipped: i64,
    delivered: i64,
    cancelled: i64,
}

/// An item below its reorder level.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct LowItemView {
    item_id: uuid::Uuid,
    sku: String,
    name: String,
    available: i64,
    reorder_level: i64,
}

/// Items below their reorder level, worst first (least available, then furthest below).
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct InventoryView {
    /// Below the reorder level, with some left.
    low_stock: u64,
    /// None left.
    out_of_stock: u64,
    /// At most 50.
    items: Vec<LowItemView>,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct CustomersView {
    total: u64,
    new_this_week: u64,
    new_this_month: u64,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct SellerView {
    item_id: uuid::Uuid,
    sku: String,
    name: String,
    units: i64,
    /// Line totals less discounts.
    revenue: i64,
}

/// The month's ten best-selling items (orders that stand), by units and by revenue.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct TopSellersView {
    by_units: Vec<SellerView>,
    by_revenue: Vec<SellerView>,
}

/// Unpaid manual orders past their payment window.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct OverdueView {
    orders: u64,
    amount: i64,
}

/// Something that needs an admin.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "camelCase")]
enum AttentionKind {
    /// Paid orders not shipped yet.
    OrdersToShip,
    /// Unpaid manual orders whose payment window ends within 24 hours.
    UnpaidNearExpiry,
    /// Unpaid manual orders past their payment window.
    OverduePayments,
    LowStock,
    OutOfStock,
    /// The shop's jobs that failed for good.
    DeadJobs,
    /// Card payments declined or cancelled in the last 7 days.
    FailedPayments,
    /// Only for the platform operator, once any backup has run: 1 when none of the platform's
    /// was verified within `backups::VERIFIED_WITHIN` (26 hours; `cartwheel backup list`,
    /// docs/BACKUPS.md), else 0.
    NoVerifiedBackup,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct AttentionItem {
    kind: AttentionKind,
    count: u64,
    /// Where to look: the API path that lists them; null where none does (failed card
    /// payments have no list; backups are listed by `cartwheel backup list`).
    #[oai(nullable)]
    link: Option<String>,
}

/// Counts of what needs an admin now, each with where to look; every kind is always listed
/// (`noVerifiedBackup` only to the operator, once backups exist). The operator's links are
/// null but for the shop's dead jobs.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct AttentionView {
    items: Vec<AttentionItem>,
}

/// Everything the dashboard shows, at once.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct SummaryView {
    revenue: RevenueView,
    orders: PipelineView,
    inventory: InventoryView,
    customers: CustomersView,
    top_sellers: TopSellersView,
    overdue_payments: OverdueView,
    attention: AttentionView,
    /// The latest admin changes (the audit log), newest first: at most 10.
    recent_activity: Vec<AuditEntryView>,
}

const TOP_SELLERS: usize = 10;
const RECENT_ACTIVITY: u64 = 10;

fn internal(e: sea_orm::DbErr) -> AdminError {
    AdminError::Internal(ProblemJson::internal(&e))
}

async fn shop_of(auth: &AdminAuth, state: &AppState) -> Result<Shop, AdminError> {
    auth.0.require(Permission::DashboardRead)?;
    shop(state, auth.0.tenant.id).await
}

async fn shop(state: &AppState, tenant_id: TenantId) -> Result<Shop, AdminError> {
    dashboard::shop(&state.db, tenant_id)
        .await
        .map_err(internal)?
        .ok_or_else(|| ProblemJson::not_found("This shop is not set up yet.").into())
}

fn revenue_view(shop: &Shop, now: DateTime<Utc>, sales: dashboard::Revenue) -> RevenueView {
    let p = Periods::at(shop.timezone, now);
    RevenueView {
        currency: shop.currency.clone(),
        timezone: shop.timezone.name().to_string(),
        today: PeriodRevenue::of(p.today, sales.today),
        week: PeriodRevenue::of(p.week, sales.week),
        month: PeriodRevenue::of(p.month, sales.month),
    }
}

fn pipeline_view(p: &Pipeline) -> PipelineView {
    PipelineView {
        pending_payment: p.pending_payment,
        to_fulfil: p.to_fulfil,
        shipped: p.shipped,
        delivered: p.delivered,
        cancelled: p.cancelled,
    }
}

fn inventory_view(i: Inventory) -> InventoryView {
    InventoryView {
        low_stock: i.low_stock as u64,
        out_of_stock: i.out_of_stock as u64,
        items: i
            .items
            .into_iter()
            .map(|i| LowItemView {
                item_id: i.item_id,
                sku: i.sku,
                name: i.name,
                available: i.available,
                reorder_level: i.reorder_level,
            })
            .collect(),
    }
}

/// What the platform operator's attention list adds to a shop admin's: the shop, which its
/// dead-jobs link names, and the platform's backups (`None` before any backup has run).
struct OperatorView {
    tenant_id: TenantId,
    backup_overdue: Option<bool>,
}

/// The attention list: a shop admin's (`operator` is `None`), or the operator's, whose links
/// are only those its token opens (the shop's dead jobs, by the shop's id), with its backup
/// item once backups exist.
fn attention_view(a: &Attention, operator: Option<OperatorView>) -> AttentionView {
    let unpaid = "/api/v1/store/admin/orders?status=pending&paymentStatus=pending";
    let admin = |link: &str| operator.is_none().then(|| link.to_string());
    let dead_jobs = match &operator {
        None => "/api/v1/admin/jobs?state=dead".to_string(),
        Some(o) => format!("/api/v1/admin/jobs?state=dead&tenant={}", o.tenant_id),
    };
    let mut items = vec![
        (
            AttentionKind::OrdersToShip,
            a.orders_to_ship as u64,
            admin("/api/v1/store/admin/orders?status=processing"),
        ),
        (
            AttentionKind::UnpaidNearExpiry,
            a.unpaid_near_expiry,
            admin(unpaid),
        ),
        (
            AttentionKind::OverduePayments,
            a.overdue.orders,
            admin(unpaid),
        ),
        (
            AttentionKind::LowStock,
            a.low_stock as u64,
            admin("/api/v1/dashboard/inventory"),
        ),
        (
            AttentionKind::OutOfStock,
            a.out_of_stock as u64,
            admin("/api/v1/dashboard/inventory"),
        ),
        (AttentionKind::DeadJobs, a.dead_jobs, Some(dead_jobs)),
        (AttentionKind::FailedPayments, a.failed_payments, None),
    ];
    if let Some(overdue) = operator.and_then(|o| o.backup_overdue) {
        items.push((AttentionKind::NoVerifiedBackup, overdue as u64, None));
    }
    AttentionView {
        items: items
            .into_iter()
            .map(|(kind, count, link)| AttentionItem { kind, count, link })
            .collect(),
    }
}

fn seller_view(s: dashboard::Seller) -> SellerView {
    SellerView {
        item_id: s.item_id,
        sku: s.sku,
        name: s.name,
        units: s.units,
        revenue: s.revenue,
    }
}

#[OpenApi(prefix_path = "/api/v1/dashboard", tag = "ApiTags::Dashboard")]
impl DashboardApi {
    /// Revenue today, this week and this month, each with its change against the period
    /// before; net of refunds and cancellations.
    #[oai(path = "/revenue", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn revenue(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
    ) -> Result<Json<RevenueView>, AdminError> {
        let shop = shop_of(&auth, &state).await?;
        let now = Utc::now();
        let sales = dashboard::revenue(&state.db, &shop, now)
            .await
            .map_err(internal)?;
        Ok(Json(revenue_view(&shop, now, sales)))
    }

    /// The order pipeline: how many orders wait for payment, for fulfilment, are shipped,
    /// delivered or cancelled.
    #[oai(path = "/orders", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn orders(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
    ) -> Result<Json<PipelineView>, AdminError> {
        let shop = shop_of(&auth, &state).await?;
        let pipeline = dashboard::pipeline(&state.db, shop.tenant_id)
            .await
            .map_err(internal)?;
        Ok(Json(pipeline_view(&pipeline)))
    }

    /// Low-stock and out-of-stock items, worst first.
    #[oai(path = "/inventory", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn inventory(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
    ) -> Result<Json<InventoryView>, AdminError> {
        let shop = shop_of(&auth, &state).await?;
        let inventory = dashboard::inventory(&state.db, shop.tenant_id)
            .await
            .map_err(internal)?;
        Ok(Json(inventory_view(inventory)))
    }

    /// Everything above, with customers, the month's top sellers, overdue payments, what
    /// needs attention and the recent activity.
    #[oai(path = "/summary", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn summary(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
    ) -> Result<Json<SummaryView>, AdminError> {
        let shop = shop_of(&auth, &state).await?;
        let (db, tenant_id, now) = (&state.db, shop.tenant_id, Utc::now());
        let month = Periods::at(shop.timezone, now).month.0;
        // Independent reads, at once: most of their time is Postgres's.
        let (revenue, pipeline, inventory, customers, top, recent) = tokio::try_join!(
            dashboard::revenue(db, &shop, now),
            dashboard::pipeline(db, tenant_id),
            dashboard::inventory(db, tenant_id),
            dashboard::customers(db, &shop, now),
            dashboard::top_sellers(db, tenant_id, month, TOP_SELLERS),
            cartwheel_domain::audit::recent(db, tenant_id, RECENT_ACTIVITY),
        )
        .map_err(internal)?;
        let attention = dashboard::attention(db, tenant_id, now, &pipeline, &inventory)
            .await
            .map_err(internal)?;
        Ok(Json(SummaryView {
            revenue: revenue_view(&shop, now, revenue),
            orders: pipeline_view(&pipeline),
            inventory: inventory_view(inventory),
            customers: CustomersView {
                total: customers.total,
                new_this_week: customers.new_this_week,
                new_this_month: customers.new_this_month,
            },
            top_sellers: TopSellersView {
                by_units: top.by_units.into_iter().map(seller_view).collect(),
                by_revenue: top.by_revenue.into_iter().map(seller_view).collect(),
            },
            overdue_payments: OverdueView {
                orders: attention.overdue.orders,
                amount: attention.overdue.amount,
            },
            attention: attention_view(&attention, None),
            recent_activity: recent.into_iter().filter_map(AuditEntryView::of).collect(),
        }))
    }

    /// What needs an admin now, with counts and where to look: orders to ship, unpaid orders
    /// near expiry or overdue, low and out-of-stock items, dead jobs, failed card payments. The
    /// platform operator (`CARTWHEEL_OPERATOR_TOKEN`, with `X-Tenant` naming the shop) sees the
    /// shop's list and whether the platform lacks a backup verified in the last 26 hours.
    #[oai(path = "/attention", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn attention(
        &self,
        auth: AttentionAuth,
        state: Data<&AppState>,
    ) -> Result<Json<AttentionView>, AdminError> {
        let (tenant_id, operator) = match &auth.0 {
            AttentionViewer::Admin(session) => (session.tenant.id, false),
            AttentionViewer::Operator(tenant) => (tenant.id, true),
        };
        let shop = shop(&state, tenant_id).await?;
        let (db, tenant_id, now) = (&state.db, shop.tenant_id, Utc::now());
        let (pipeline, inventory, backup_overdue) = tokio::try_join!(
            dashboard::pipeline(db, tenant_id),
            dashboard::inventory(db, tenant_id),
            async {
                match operator {
                    true => backups::none_verified_lately(db, now).await,
                    false => Ok(None),
                }
            },
        )
        .map_err(internal)?;
        let attention = dashboard::attention(db, tenant_id, now, &pipeline, &inventory)
            .await
            .map_err(internal)?;
        let operator = operator.then_some(OperatorView {
            tenant_id,
            backup_overdue,
        });
        Ok(Json(attention_view(&attention, operator)))
    }
}

/// `Authorization: Bearer` an admin's token (role with `dashboard:read`), or the platform
/// operator's `CARTWHEEL_OPERATOR_TOKEN`; either with `X-Tenant` naming the shop.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", checker = "check_attention_viewer")]
struct AttentionAuth(AttentionViewer);

enum AttentionViewer {
    Operator(tenants::Model),
    Admin(Box<AdminSession>),
}

async fn check_attention_viewer(req: &Request, bearer: Bearer) -> poem::Result<AttentionViewer> {
    let state = req
        .data::<AppState>()
        .expect("AppState is attached to every route");
    if crate::auth::is_operator(state, &bearer.token) {
        let tenant = tenant_of(req).await.map_err(ProblemJson::into_error)?;
        return Ok(AttentionViewer::Operator(tenant));
    }
    let session = authenticate(req, &bearer.token)
        .await
        .map_err(ProblemJson::into_error)?;
    session
        .require(Permission::DashboardRead)
        .map_err(ProblemJson::into_error)?;
    Ok(AttentionViewer::Admin(Box::new(session)))
}
