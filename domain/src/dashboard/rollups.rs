//! The dashboard's rollups, kept in the transaction of every change of an order (placed,
//! moved on, marked paid, refunded), so the dashboard never scans a shop's orders:
//!
//! - `order_counts`: the shop's orders by status (the pipeline);
//! - `sales_days`: per UTC day of placing, the orders that stand and their revenue;
//! - `item_sales_days`: the same per item, units and revenue (the top sellers).
//!
//! What an order and its lines add is [`sale`] and [`line_sale`]: the dashboard sums the
//! orders of partial days at a period's edges by the same two functions.
//!
//! Callers change orders after the stock rows they lock, and this writes its rows last, in a
//! fixed order (counts by status name, then the day, then items by id): every order of a shop
//! updates the same rows, held until the commit.

use std::collections::BTreeMap;

use cartwheel_entity::{TenantId, item_sales_days, order_counts, order_lines, orders, sales_days};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveEnum, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

/// Orders and revenue (minor units) of a day, a period, or one order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sale {
    pub orders: i64,
    pub revenue: i64,
}

impl std::ops::Add for Sale {
    type Output = Sale;

    fn add(self, other: Sale) -> Sale {
        Sale {
            orders: self.orders + other.orders,
            revenue: self.revenue + other.revenue,
        }
    }
}

impl std::ops::Sub for Sale {
    type Output = Sale;

    fn sub(self, other: Sale) -> Sale {
        Sale {
            orders: self.orders - other.orders,
            revenue: self.revenue - other.revenue,
        }
    }
}

/// What an order adds to its day: nothing once cancelled; otherwise itself, and its total
/// less what was refunded of it.
pub fn sale(status: orders::Status, total: i64, refunded: i64) -> Sale {
    if status == orders::Status::Cancelled {
        Sale::default()
    } else {
        Sale {
            orders: 1,
            revenue: total - refunded,
        }
    }
}

/// What a line adds to its item's day: nothing once its order is cancelled; otherwise its
/// units and its total less its discount.
pub fn line_sale(
    status: orders::Status,
    quantity: i64,
    line_total: i64,
    discount: i64,
) -> (i64, i64) {
    if status == orders::Status::Cancelled {
        (0, 0)
    } else {
        (quantity, line_total - discount)
    }
}

/// The UTC day (`YYYY-MM-DD`) a time falls on: the rollups' key.
pub fn day_of(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

fn sale_of(order: &orders::Model) -> Sale {
    sale(order.status, order.total, order.refunded)
}

/// Records that `order` became `after` (from `before`; `None`: it was just placed) on `db`,
/// the change's transaction. `lines` are the order's lines when the caller has them; they are
/// read only when the order's standing changes (placed or cancelled).
pub async fn order_changed<C: ConnectionTrait>(
    db: &C,
    before: Option<&orders::Model>,
    after: &orders::Model,
    lines: Option<&[order_lines::Model]>,
) -> Result<(), DbErr> {
    let tenant_id = after.tenant_id;
    let mut counts: BTreeMap<String, i64> = BTreeMap::new();
    if before.map(|b| b.status) != Some(after.status) {
        if let Some(before) = before {
            *counts.entry(before.status.to_value()).or_default() -= 1;
        }
        *counts.entry(after.status.to_value()).or_default() += 1;
    }
    add_counts(db, tenant_id, &counts).await?;

    let was = before.map(sale_of).unwrap_or_default();
    let is = sale_of(after);
    let day = day_of(after.placed_at);
    add_day(db, tenant_id, &day, is - was).await?;

    let was_standing = before.is_some_and(|b| b.status != orders::Status::Cancelled);
    let is_standing = after.status != orders::Status::Cancelled;
    if was_standing != is_standing {
        let read;
        let lines = match lines {
            Some(lines) => lines,
            None => {
                read = order_lines::Entity::find()
                    .filter(order_lines::Column::OrderId.eq(after.id))
                    .all(db)
                    .await?;
                &read
            }
        };
        // Placed (or standing again): its lines as they count now; cancelled: as they counted.
        let (status, sign) = match before {
            Some(before) if !is_standing => (before.status, -1),
            _ => (after.status, 1),
        };
        let mut items: BTreeMap<Uuid, (i64, i64)> = BTreeMap::new();
        for line in lines {
            let (units, revenue) = line_sale(status, line.quantity, line.line_total, line.discount);
            let entry = items.entry(line.item_id).or_default();
            entry.0 += sign * units;
            entry.1 += sign * revenue;
        }
        add_items(db, tenant_id, &day, &items).await?;
    }
    Ok(())
}

/// The rollups of many new orders, gathered first and written at once (for bulk writers such
/// as `cartwheel seed orders`), by the same rules as [`order_changed`].
#[derive(Default)]
pub struct Tally {
    counts: BTreeMap<String, i64>,
    days: BTreeMap<String, Sale>,
    items: BTreeMap<String, BTreeMap<Uuid, (i64, i64)>>,
}

impl Tally {
    /// Counts a newly placed order with its lines.
    pub fn add(&mut self, order: &orders::Model, lines: &[order_lines::Model]) {
        *self.counts.entry(order.status.to_value()).or_default() += 1;
        let day = day_of(order.placed_at);
        let sold = self.days.entry(day.clone()).or_default();
        *sold = *sold + sale_of(order);
        let items = self.items.entry(day).or_default();
        for line in lines {
            let (units, revenue) =
                line_sale(order.status, line.quantity, line.line_total, line.discount);
            let entry = items.entry(line.item_id).or_default();
            entry.0 += units;
            entry.1 += revenue;
        }
    }

    /// Adds what was counted to the shop's rollups.
    pub async fn write<C: ConnectionTrait>(self, db: &C, tenant_id: TenantId) -> Result<(), DbErr> {
        add_counts(db, tenant_id, &self.counts).await?;
        for (day, sale) in &self.days {
            add_day(db, tenant_id, day, *sale).await?;
        }
        for (day, items) in &self.items {
            let items: BTreeMap<Uuid, (i64, i64)> = items
                .iter()
                .filter(|(_, s)| s.0 != 0)
                .map(|(k, v)| (*k, *v))
                .collect();
            add_items(db, tenant_id, day, &items).await?;
        }
        Ok(())
    }
}

async fn add_counts<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    counts: &BTreeMap<String, i64>,
) -> Result<(), DbErr> {
    if counts.is_empty() {
        return Ok(());
    }
    let rows = counts.iter().map(|(status, n)| order_counts::ActiveModel {
        tenant_id: Set(tenant_id),
        status: Set(status.clone()),
        orders: Set(*n),
    });
    order_counts::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([order_counts::Column::TenantId, order_counts::Column::Status])
                .value(
                    order_counts::Column::Orders,
                    Expr::cust("order_counts.orders + excluded.orders"),
                )
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Adds `sale` to the shop's day (nothing when it is nothing).
async fn add_day<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    day: &str,
    sale: Sale,
) -> Result<(), DbErr> {
    if sale == Sale::default() {
        return Ok(());
    }
    sales_days::Entity::insert(sales_days::ActiveModel {
        tenant_id: Set(tenant_id),
        day: Set(day.to_string()),
        orders: Set(sale.orders),
        revenue: Set(sale.revenue),
    })
    .on_conflict(
        OnConflict::columns([sales_days::Column::TenantId, sales_days::Column::Day])
            .value(
                sales_days::Column::Orders,
                Expr::cust("sales_days.orders + excluded.orders"),
            )
            .value(
                sales_days::Column::Revenue,
                Expr::cust("sales_days.revenue + excluded.revenue"),
            )
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Adds each item's (units, revenue) to the shop's day.
async fn add_items<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    day: &str,
    items: &BTreeMap<Uuid, (i64, i64)>,
) -> Result<(), DbErr> {
    if items.is_empty() {
        return Ok(());
    }
    let rows = items
        .iter()
        .map(|(item_id, (units, revenue))| item_sales_days::ActiveModel {
            tenant_id: Set(tenant_id),
            day: Set(day.to_string()),
            item_id: Set(*item_id),
            units: Set(*units),
            revenue: Set(*revenue),
        });
    item_sales_days::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([
                item_sales_days::Column::TenantId,
                item_sales_days::Column::Day,
                item_sales_days::Column::ItemId,
            ])
            .value(
                item_sales_days::Column::Units,
                Expr::cust("item_sales_days.units + excluded.units"),
            )
            .value(
                item_sales_days::Column::Revenue,
                Expr::cust("item_sales_days.revenue + excluded.revenue"),
            )
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cancelled_order_adds_nothing_and_refunds_lower_revenue() {
        use orders::Status::*;
        assert_eq!(sale(Cancelled, 1000, 0), Sale::default());
        assert_eq!(
            sale(Shipped, 1000, 250),
            Sale {
                orders: 1,
                revenue: 750
            }
        );
        assert_eq!(line_sale(Cancelled, 2, 500, 50), (0, 0));
        assert_eq!(line_sale(Pending, 2, 500, 50), (2, 450));
    }

    #[test]
    fn days_are_utc_dates() {
        let at = "2026-12-06T23:30:00-05:00"
            .parse::<DateTime<Utc>>()
            .unwrap();
        assert_eq!(day_of(at), "2026-12-07");
    }
}
