//! Orders: reading them (a customer's history, a guest by the order's token, the admin list),
//! moving them on (`status`), and their mails (`mails`).

pub mod mails;
pub mod status;

use cartwheel_entity::{TenantId, order_lines, orders};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};
use uuid::Uuid;

use crate::validation::FieldProblem;

pub use cartwheel_entity::orders::{PaymentMethod, PaymentStatus, Status};

#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    #[error("invalid input")]
    Invalid(Vec<FieldProblem>),
    #[error("no such order")]
    NotFound,
    /// The move is not allowed from the order's current state, which the message names.
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Database(#[from] sea_orm::DbErr),
    #[error(transparent)]
    Enqueue(#[from] cartwheel_jobs::EnqueueError),
}

impl From<crate::checkout::CheckoutError> for OrderError {
    fn from(e: crate::checkout::CheckoutError) -> Self {
        use crate::checkout::CheckoutError as C;
        match e {
            C::Database(e) => OrderError::Database(e),
            C::Enqueue(e) => OrderError::Enqueue(e),
            C::Invalid(p) => OrderError::Invalid(p),
            C::NotFound(_) => OrderError::NotFound,
            C::Conflict { message, .. } => OrderError::Conflict(message),
            C::Shortfall(_) => OrderError::Conflict("not enough stock".into()),
            // No order path calls Stripe: a cancelled card order's refund is the job's.
            C::Provider(e) => OrderError::Conflict(format!("Stripe: {e}")),
        }
    }
}

impl From<crate::payments::refunds::RefundError> for OrderError {
    fn from(e: crate::payments::refunds::RefundError) -> Self {
        use crate::payments::refunds::RefundError as R;
        match e {
            R::Database(e) => OrderError::Database(e),
            R::Enqueue(e) => OrderError::Enqueue(e),
            R::Invalid(p) => OrderError::Invalid(p),
            R::NotFound => OrderError::NotFound,
            R::Conflict(message) => OrderError::Conflict(message),
            R::Provider(e) => OrderError::Conflict(format!("Stripe: {e}")),
        }
    }
}

pub struct OrderView {
    pub order: orders::Model,
    pub lines: Vec<order_lines::Model>,
}

/// Who reads an order on the storefront.
#[derive(Clone, Copy, Debug)]
pub enum Reader<'a> {
    /// A signed-in customer: their own orders.
    Customer(Uuid),
    /// Whoever holds the token of the confirmation mail (a guest).
    Token(&'a str),
}

impl Reader<'_> {
    fn condition(&self) -> Condition {
        match self {
            Reader::Customer(id) => Condition::all().add(orders::Column::CustomerId.eq(*id)),
            Reader::Token(token) => Condition::all()
                .add(orders::Column::TokenHash.eq(crate::accounts::token::hash(token))),
        }
    }
}

/// How the shopper pays the order, in one sentence, as the confirm's answer and the
/// confirmation mail both tell it; `None` once nothing is owed.
pub fn payment_instructions(order: &orders::Model) -> Option<String> {
    if order.payment_status != PaymentStatus::Pending {
        return None;
    }
    match order.payment_method {
        PaymentMethod::Manual => Some(format!(
            "Transfer {} quoting \"Order {}\", or pay on delivery where the shop offers it.",
            crate::money::display(order.total, &order.currency),
            order.number
        )),
        // Paid before the order was placed.
        PaymentMethod::Stripe => None,
    }
}

/// One order of the shop, as a shopper may read it.
#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn for_shopper<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    id: Uuid,
    reader: Reader<'_>,
) -> Result<OrderView, OrderError> {
    let order = orders::Entity::find_by_id(id)
        .filter(orders::Column::TenantId.eq(tenant_id))
        .filter(reader.condition())
        .one(db)
        .await?
        .ok_or(OrderError::NotFound)?;
    with_lines(db, order).await
}

/// A page of the customer's orders, newest first, and their count.
#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn customer_history<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    customer_id: Uuid,
    page: u64,
    limit: u64,
) -> Result<(Vec<orders::Model>, u64), OrderError> {
    let query = orders::Entity::find()
        .filter(orders::Column::TenantId.eq(tenant_id))
        .filter(orders::Column::CustomerId.eq(customer_id));
    let total = query.clone().count(db).await?;
    let rows = query
        .order_by_desc(orders::Column::PlacedAt)
        .order_by_desc(orders::Column::Id)
        .paginate(db, limit)
        .fetch_page(page.saturating_sub(1))
        .await?;
    Ok((rows, total))
}

/// What the admin list narrows to; every part is optional.
#[derive(Default)]
pub struct Filter {
    pub status: Option<Status>,
    pub payment_status: Option<PaymentStatus>,
    pub customer_id: Option<Uuid>,
    pub placed_from: Option<DateTime<Utc>>,
    pub placed_before: Option<DateTime<Utc>>,
    /// An order number, or an email (exact, case-insensitive).
    pub search: Option<String>,
}

/// A page of the shop's orders, newest first, and how many match: exactly up to
/// [`LIST_COUNT_CAP`], `LIST_COUNT_CAP + 1` when more do.
#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn list<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    filter: &Filter,
    page: u64,
    limit: u64,
) -> Result<(Vec<orders::Model>, u64), OrderError> {
    let mut query = orders::Entity::find().filter(orders::Column::TenantId.eq(tenant_id));
    if let Some(status) = filter.status {
        query = query.filter(orders::Column::Status.eq(status));
    }
    if let Some(status) = filter.payment_status {
        query = query.filter(orders::Column::PaymentStatus.eq(status));
    }
    if let Some(customer) = filter.customer_id {
        query = query.filter(orders::Column::CustomerId.eq(customer));
    }
    if let Some(from) = filter.placed_from {
        query = query.filter(orders::Column::PlacedAt.gte(from));
    }
    if let Some(before) = filter.placed_before {
        query = query.filter(orders::Column::PlacedAt.lt(before));
    }
    if let Some(search) = filter
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let search = search.trim_start_matches('#');
        query = match search.parse::<i64>() {
            Ok(number) => query.filter(orders::Column::Number.eq(number)),
            Err(_) => query.filter(orders::Column::Email.eq(search.to_lowercase())),
        };
    }
    // Counting every match costs a scan of all of them (0.1–0.3 s for a million); counting stops
    // one past the cap instead, so `LIST_COUNT_CAP + 1` stands for "more than the cap".
    let total = query
        .clone()
        .select_only()
        .expr(Expr::val(1))
        .limit(LIST_COUNT_CAP + 1)
        .count(db)
        .await?;
    let offset = page.saturating_sub(1).saturating_mul(limit);
    let rows = if offset < SEEK_FROM {
        newest_first(query)
            .offset(offset)
            .limit(limit)
            .all(db)
            .await?
    } else {
        far_page(db, query, offset, limit).await?
    };
    Ok((rows, total))
}

/// The admin list counts its matches up to this many: a larger `total` (always this plus one)
/// means more match.
pub const LIST_COUNT_CAP: u64 = 10_000;

/// From this offset on, the admin list finds a page by its first order's placing time, read
/// from the (tenant, …, placed_at) index alone, rather than by OFFSET, which reads every row it
/// skips from the table (0.05 s for page 500 of 20, 0.5 s for page 10,000 on a million orders).
const SEEK_FROM: u64 = 1_000;

fn newest_first(query: Select<orders::Entity>) -> Select<orders::Entity> {
    query
        .order_by_desc(orders::Column::PlacedAt)
        .order_by_desc(orders::Column::Id)
}

/// The page of `query` (newest first) that starts `offset` orders in: the placing time of its
/// first order is read from an index, then the page is read from there on. Orders placed at
/// that same instant before it (rare) are skipped by OFFSET after counting the newer ones.
async fn far_page<C: ConnectionTrait>(
    db: &C,
    query: Select<orders::Entity>,
    offset: u64,
    limit: u64,
) -> Result<Vec<orders::Model>, sea_orm::DbErr> {
    let first: Option<DateTime<Utc>> = query
        .clone()
        .select_only()
        .column(orders::Column::PlacedAt)
        .order_by_desc(orders::Column::PlacedAt)
        .offset(offset)
        .limit(1)
        .into_tuple()
        .one(db)
        .await?;
    let Some(first) = first else {
        return Ok(Vec::new());
    };
    let same_instant = query
        .clone()
        .select_only()
        .expr(Expr::val(1))
        .filter(orders::Column::PlacedAt.eq(first))
        .limit(2)
        .count(db)
        .await?;
    let skip = if same_instant == 1 {
        // Exactly `offset` orders are newer: the page starts with this one.
        0
    } else {
        let newer = query
            .clone()
            .select_only()
            .expr(Expr::val(1))
            .filter(orders::Column::PlacedAt.gt(first))
            .count(db)
            .await?;
        offset.saturating_sub(newer)
    };
    newest_first(query.filter(orders::Column::PlacedAt.lte(first)))
        .offset(skip)
        .limit(limit)
        .all(db)
        .await
}

/// One order of the shop (admin).
#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn get<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    id: Uuid,
) -> Result<OrderView, OrderError> {
    let order = orders::Entity::find_by_id(id)
        .filter(orders::Column::TenantId.eq(tenant_id))
        .one(db)
        .await?
        .ok_or(OrderError::NotFound)?;
    with_lines(db, order).await
}

pub(crate) async fn with_lines<C: ConnectionTrait>(
    db: &C,
    order: orders::Model,
) -> Result<OrderView, OrderError> {
    let lines = order_lines::Entity::find()
        .filter(order_lines::Column::OrderId.eq(order.id))
        .order_by_asc(order_lines::Column::Position)
        .all(db)
        .await?;
    Ok(OrderView { order, lines })
}
