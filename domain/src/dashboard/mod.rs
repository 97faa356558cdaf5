//! The admin dashboard: revenue by period, the order pipeline, stock alerts, customers, top
//! sellers, overdue payments and what needs attention, each read from rollups or indexes
//! (`rollups`), never by scanning a shop's orders. Periods are in the shop's timezone; money in
//! minor units of its currency.
//!
//! A period's sales are its whole UTC days from `sales_days` and, at its edges, the orders
//! placed in the partial days, summed by the same rule ([`rollups::sale`]).

pub mod periods;
pub mod rollups;

use std::collections::HashMap;

use cartwheel_entity::{
    TenantId, customers, items, low_stock_alerts, order_counts, orders, payments, sales_days,
    store_settings,
};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect, Statement,
};
use uuid::Uuid;

use crate::catalog::stock;
use periods::{Period, Periods};
use rollups::Sale;

/// The shop's currency and timezone, as the dashboard reads periods in them.
pub struct Shop {
    pub tenant_id: TenantId,
    pub currency: String,
    pub timezone: chrono_tz::Tz,
}

/// The shop's settings; `None` while it is being set up.
pub async fn shop<C: ConnectionTrait>(db: &C, tenant_id: TenantId) -> Result<Option<Shop>, DbErr> {
    Ok(store_settings::Entity::find_by_id(tenant_id)
        .one(db)
        .await?
        .map(|s| Shop {
            tenant_id,
            timezone: s.timezone.parse().unwrap_or(chrono_tz::UTC),
            currency: s.currency,
        }))
}

/// A period's sales and the same span of the period before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Compared {
    pub current: Sale,
    pub previous: Sale,
}

impl Compared {
    /// The revenue's change against the previous period in percent, to one decimal; `None`
    /// when the previous period had none.
    pub fn change_percent(&self) -> Option<f64> {
        (self.previous.revenue != 0).then(|| {
            let change = (self.current.revenue - self.previous.revenue) as f64 * 100.0
                / self.previous.revenue.abs() as f64;
            (change * 10.0).round() / 10.0
        })
    }
}

pub struct Revenue {
    pub today: Compared,
    pub week: Compared,
    pub month: Compared,
}

/// Revenue today, this week (from Monday) and this month, each against the period before up
/// to the same point (today until now against yesterday until this time).
pub async fn revenue<C: ConnectionTrait>(
    db: &C,
    shop: &Shop,
    now: DateTime<Utc>,
) -> Result<Revenue, DbErr> {
    let p = Periods::at(shop.timezone, now);
    let periods = [
        p.today.0, p.today.1, p.week.0, p.week.1, p.month.0, p.month.1,
    ];
    let s = sales_of(db, shop.tenant_id, &periods).await?;
    let compared = |i: usize| Compared {
        current: s[i],
        previous: s[i + 1],
    };
    Ok(Revenue {
        today: compared(0),
        week: compared(2),
        month: compared(4),
    })
}

/// The orders placed in each of `periods` that stand, and their revenue. The periods share
/// their partial days (every current one ends today): each is read once, and the whole days
/// of all of them in one statement.
pub async fn sales_of<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    periods: &[Period],
) -> Result<Vec<Sale>, DbErr> {
    let splits: Vec<_> = periods.iter().map(|p| p.split_at_utc_days()).collect();
    let mut edges: HashMap<(DateTime<Utc>, DateTime<Utc>), Sale> = HashMap::new();
    for edge in splits.iter().flat_map(|s| s.edges()) {
        if edges.contains_key(&(edge.from, edge.to)) {
            continue;
        }
        let placed: Vec<(orders::Status, i64, i64)> = orders::Entity::find()
            .select_only()
            .columns([
                orders::Column::Status,
                orders::Column::Total,
                orders::Column::Refunded,
            ])
            .filter(orders::Column::TenantId.eq(tenant_id))
            .filter(orders::Column::PlacedAt.gte(edge.from))
            .filter(orders::Column::PlacedAt.lt(edge.to))
            .into_tuple()
            .all(db)
            .await?;
        let sale = placed
            .into_iter()
            .fold(Sale::default(), |sum, (status, total, refunded)| {
                sum + rollups::sale(status, total, refunded)
            });
        edges.insert((edge.from, edge.to), sale);
    }
    let ranges: Vec<(String, String)> = splits.iter().filter_map(|s| s.days()).collect();
    let days = match (
        ranges.iter().map(|r| &r.0).min(),
        ranges.iter().map(|r| &r.1).max(),
    ) {
        (Some(first), Some(end)) => {
            sales_days::Entity::find()
                .filter(sales_days::Column::TenantId.eq(tenant_id))
                .filter(sales_days::Column::Day.gte(first.as_str()))
                .filter(sales_days::Column::Day.lt(end.as_str()))
                .all(db)
                .await?
        }
        _ => Vec::new(),
    };
    Ok(splits
        .iter()
        .map(|split| {
            let from_edges = split
                .edges()
                .map(|e| edges[&(e.from, e.to)])
                .fold(Sale::default(), |a, b| a + b);
            let from_days = split.days().map_or(Sale::default(), |(first, end)| {
                days.iter().filter(|d| d.day >= first && d.day < end).fold(
                    Sale::default(),
                    |sum, d| {
                        sum + Sale {
                            orders: d.orders,
                            revenue: d.revenue,
                        }
                    },
                )
            });
            from_edges + from_days
        })
        .collect())
}

/// How many of the shop's orders are in each status now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pipeline {
    pub pending_payment: i64,
    pub to_fulfil: i64,
    pub shipped: i64,
    pub delivered: i64,
    pub cancelled: i64,
}

pub async fn pipeline<C: ConnectionTrait>(db: &C, tenant_id: TenantId) -> Result<Pipeline, DbErr> {
    let counts = order_counts::Entity::find()
        .filter(order_counts::Column::TenantId.eq(tenant_id))
        .all(db)
        .await?;
    let mut pipeline = Pipeline::default();
    for count in counts {
        let Ok(status) = orders::Status::try_from_value(&count.status) else {
            continue;
        };
        let slot = match status {
            orders::Status::Pending => &mut pipeline.pending_payment,
            orders::Status::Processing => &mut pipeline.to_fulfil,
            orders::Status::Shipped => &mut pipeline.shipped,
            orders::Status::Delivered => &mut pipeline.delivered,
            orders::Status::Cancelled => &mut pipeline.cancelled,
        };
        *slot = count.orders;
    }
    Ok(pipeline)
}

/// An item below its reorder level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LowItem {
    pub item_id: Uuid,
    pub sku: String,
    pub name: String,
    pub available: i64,
    pub reorder_level: i64,
}

pub struct Inventory {
    /// Below the reorder level with some left.
    pub low_stock: usize,
    /// None left.
    pub out_of_stock: usize,
    /// Worst first: the least available, then the furthest below its level; at most
    /// [`MAX_LISTED`].
    pub items: Vec<LowItem>,
}

/// The most items a list of the dashboard shows.
pub const MAX_LISTED: usize = 50;

/// The shop's items below their reorder level: those its stock checks alerted on (the checks
/// run after every stock change), with what is available now.
pub async fn inventory<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
) -> Result<Inventory, DbErr> {
    let alerted: Vec<(Uuid, String, String, i64)> = low_stock_alerts::Entity::find()
        .select_only()
        .column(items::Column::Id)
        .column(items::Column::Sku)
        .column(items::Column::Name)
        .column(items::Column::ReorderLevel)
        .inner_join(items::Entity)
        .filter(low_stock_alerts::Column::TenantId.eq(tenant_id))
        .filter(items::Column::Active.eq(true))
        .filter(items::Column::DeletedAt.is_null())
        .into_tuple()
        .all(db)
        .await?;
    let ids: Vec<Uuid> = alerted.iter().map(|a| a.0).collect();
    let totals = stock::totals(db, &ids).await.map_err(|e| match e {
        crate::catalog::CatalogError::Database(e) => e,
        other => DbErr::Custom(other.to_string()),
    })?;
    let mut low: Vec<LowItem> = alerted
        .into_iter()
        .filter_map(|(item_id, sku, name, reorder_level)| {
            let available = totals.get(&item_id)?.available();
            (available < reorder_level).then_some(LowItem {
                item_id,
                sku,
                name,
                available,
                reorder_level,
            })
        })
        .collect();
    low.sort_by(|a, b| {
        (a.available, a.available - a.reorder_level, &a.sku).cmp(&(
            b.available,
            b.available - b.reorder_level,
            &b.sku,
        ))
    });
    let out_of_stock = low.iter().filter(|i| i.available == 0).count();
    let low_stock = low.len() - out_of_stock;
    low.truncate(MAX_LISTED);
    Ok(Inventory {
        low_stock,
        out_of_stock,
        items: low,
    })
}

/// One of the top sellers of a period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seller {
    pub item_id: Uuid,
    pub sku: String,
    pub name: String,
    pub units: i64,
    pub revenue: i64,
}

pub struct TopSellers {
    pub by_units: Vec<Seller>,
    pub by_revenue: Vec<Seller>,
}

/// The `n` items sold most in `period` by units and by revenue, in orders that stand.
pub async fn top_sellers<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    period: Period,
    n: usize,
) -> Result<TopSellers, DbErr> {
    let backend = db.get_database_backend();
    let p = |i| crate::sql::placeholder(backend, i);
    let split = period.split_at_utc_days();
    let mut sold: HashMap<Uuid, (i64, i64)> = HashMap::new();
    for edge in split.edges() {
        let sql = format!(
            "SELECT l.item_id, l.quantity, l.line_total, l.discount, o.status \
             FROM order_lines l JOIN orders o ON o.id = l.order_id \
             WHERE o.tenant_id = {} AND o.placed_at >= {} AND o.placed_at < {}",
            p(1),
            p(2),
            p(3)
        );
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [tenant_id.into(), edge.from.into(), edge.to.into()],
            ))
            .await?;
        for row in rows {
            let status: String = row.try_get("", "status")?;
            let status = orders::Status::try_from_value(&status)?;
            let (units, revenue) = rollups::line_sale(
                status,
                row.try_get("", "quantity")?,
                row.try_get("", "line_total")?,
                row.try_get("", "discount")?,
            );
            let entry = sold.entry(row.try_get("", "item_id")?).or_default();
            entry.0 += units;
            entry.1 += revenue;
        }
    }
    if let Some((first, end)) = split.days() {
        let sql = format!(
            "SELECT item_id, CAST(SUM(units) AS BIGINT) AS units, \
             CAST(SUM(revenue) AS BIGINT) AS revenue FROM item_sales_days \
             WHERE tenant_id = {} AND day >= {} AND day < {} GROUP BY item_id",
            p(1),
            p(2),
            p(3)
        );
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [tenant_id.into(), first.into(), end.into()],
            ))
            .await?;
        for row in rows {
            let entry = sold.entry(row.try_get("", "item_id")?).or_default();
            entry.0 += row.try_get::<i64>("", "units")?;
            entry.1 += row.try_get::<i64>("", "revenue")?;
        }
    }
    let mut sold: Vec<(Uuid, (i64, i64))> = sold.into_iter().filter(|(_, s)| s.0 > 0).collect();
    let top = |sold: &mut Vec<(Uuid, (i64, i64))>, key: fn(&(i64, i64)) -> i64| {
        sold.sort_by(|a, b| key(&b.1).cmp(&key(&a.1)).then(a.0.cmp(&b.0)));
        sold.iter().take(n).copied().collect::<Vec<_>>()
    };
    let by_units = top(&mut sold, |s| s.0);
    let by_revenue = top(&mut sold, |s| s.1);
    let ids: Vec<Uuid> = by_units.iter().chain(&by_revenue).map(|s| s.0).collect();
    let names: HashMap<Uuid, (String, String)> = items::Entity::find()
        .select_only()
        .columns([items::Column::Id, items::Column::Sku, items::Column::Name])
        .filter(items::Column::Id.is_in(ids))
        .into_tuple::<(Uuid, String, String)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(id, sku, name)| (id, (sku, name)))
        .collect();
    let seller = |(item_id, (units, revenue)): (Uuid, (i64, i64))| {
        let (sku, name) = names.get(&item_id).cloned().unwrap_or_default();
        Seller {
            item_id,
            sku,
            name,
            units,
            revenue,
        }
    };
    Ok(TopSellers {
        by_units: by_units.into_iter().map(seller).collect(),
        by_revenue: by_revenue.into_iter().map(seller).collect(),
    })
}

pub struct Customers {
    pub total: u64,
    pub new_this_week: u64,
    pub new_this_month: u64,
}

/// The shop's customers: all, and those who signed up this week and this month (one pass over
/// the `(tenant_id, created_at)` index).
pub async fn customers<C: ConnectionTrait>(
    db: &C,
    shop: &Shop,
    now: DateTime<Utc>,
) -> Result<Customers, DbErr> {
    let p = Periods::at(shop.timezone, now);
    let signed_up: Vec<DateTime<Utc>> = customers::Entity::find()
        .select_only()
        .column(customers::Column::CreatedAt)
        .filter(customers::Column::TenantId.eq(shop.tenant_id))
        .filter(customers::Column::CreatedAt.gte(Ord::min(p.week.0.from, p.month.0.from)))
        .into_tuple()
        .all(db)
        .await?;
    let total = customers::Entity::find()
        .filter(customers::Column::TenantId.eq(shop.tenant_id))
        .count(db)
        .await?;
    let since = |from: DateTime<Utc>| signed_up.iter().filter(|at| **at >= from).count() as u64;
    Ok(Customers {
        total,
        new_this_week: since(p.week.0.from),
        new_this_month: since(p.month.0.from),
    })
}

/// Unpaid manual orders past their due time (the expiry job cancels them soon).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Overdue {
    pub orders: u64,
    pub amount: i64,
}

/// The shop's unpaid manual orders due before `until`: (due time, total). Open orders are
/// few: the status index finds them.
async fn unpaid_due<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    until: DateTime<Utc>,
) -> Result<Vec<(DateTime<Utc>, i64)>, DbErr> {
    orders::Entity::find()
        .select_only()
        .columns([orders::Column::PaymentDueAt, orders::Column::Total])
        .filter(orders::Column::TenantId.eq(tenant_id))
        .filter(orders::Column::Status.eq(orders::Status::Pending))
        .filter(orders::Column::PaymentStatus.eq(orders::PaymentStatus::Pending))
        .filter(orders::Column::PaymentDueAt.lt(until))
        .into_tuple()
        .all(db)
        .await
}

/// What needs an admin now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attention {
    /// Paid orders not shipped yet.
    pub orders_to_ship: i64,
    /// Unpaid manual orders whose payment window ends within [`NEAR_EXPIRY`].
    pub unpaid_near_expiry: u64,
    /// Unpaid manual orders past their window.
    pub overdue: Overdue,
    pub low_stock: usize,
    pub out_of_stock: usize,
    /// The shop's jobs that failed for good.
    pub dead_jobs: u64,
    /// Card payments declined or cancelled within [`RECENT_FAILURES`].
    pub failed_payments: u64,
}

/// How soon an unpaid order's expiry counts as near.
pub const NEAR_EXPIRY: Duration = Duration::hours(24);
/// How far back failed card payments count.
pub const RECENT_FAILURES: Duration = Duration::days(7);

/// What needs attention, from the shop's `pipeline` and `inventory` as the caller read them.
pub async fn attention<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    now: DateTime<Utc>,
    pipeline: &Pipeline,
    inventory: &Inventory,
) -> Result<Attention, DbErr> {
    let due = unpaid_due(db, tenant_id, now + NEAR_EXPIRY).await?;
    let near = due.iter().filter(|(at, _)| *at >= now).count() as u64;
    let overdue =
        due.iter()
            .filter(|(at, _)| *at < now)
            .fold(Overdue::default(), |o, (_, total)| Overdue {
                orders: o.orders + 1,
                amount: o.amount + total,
            });
    let failed_payments = payments::Entity::find()
        .filter(payments::Column::TenantId.eq(tenant_id))
        .filter(payments::Column::Status.eq(payments::Status::Failed))
        .filter(payments::Column::UpdatedAt.gte(now - RECENT_FAILURES))
        .count(db)
        .await?;
    let dead_jobs = cartwheel_jobs::store::monitor::count_jobs(
        db,
        &cartwheel_jobs::store::monitor::JobFilter {
            state: Some(cartwheel_jobs::store::monitor::JobState::Dead),
            tenant_id: Some(tenant_id),
            ..Default::default()
        },
    )
    .await?;
    Ok(Attention {
        orders_to_ship: pipeline.to_fulfil,
        unpaid_near_expiry: near,
        overdue,
        low_stock: inventory.low_stock,
        out_of_stock: inventory.out_of_stock,
        dead_jobs,
        failed_payments,
    })
}
