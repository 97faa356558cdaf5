//! Reserving stock for a checkout, and releasing or shipping what it holds.
//!
//! A reservation sums the quantities per item first, then locks the items' stock levels in one
//! stable order (item, then location: concurrent confirms never deadlock), plans what to take
//! from which level, and raises them all in one conditional statement (`… WHERE on_hand -
//! reserved >= q` for each level). The locks make the plan exact, and the condition still holds
//! the line should anything change a level without them. A shortfall reserves nothing: the
//! caller's transaction rolls back. These rows are the ones every confirm of a popular item
//! waits for, so the reservation takes as few round trips as it can while it holds them: the
//! locking read, the update, the reservations' insert, and the stock checks' jobs only for
//! items below their reorder level after it.

use std::collections::BTreeMap;

use cartwheel_entity::{TenantId, stock_movements, stock_reservations};
use chrono::Utc;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set, Statement,
};
use uuid::Uuid;

use super::{CheckoutError, Short};
use crate::sql::placeholder;

/// One line to reserve for.
pub struct Wanted<'a> {
    pub item_id: Uuid,
    pub sku: &'a str,
    pub quantity: i64,
}

/// Reserves every line's stock on `txn` for `checkout_id`, or none (`Shortfall` naming each
/// item short and what is available of it).
pub async fn reserve<C: ConnectionTrait>(
    txn: &C,
    tenant_id: TenantId,
    checkout_id: Uuid,
    lines: &[Wanted<'_>],
) -> Result<(), CheckoutError> {
    // Summed per item: two lines of one item are checked against its stock together.
    let mut wanted: BTreeMap<Uuid, (String, i64)> = BTreeMap::new();
    for line in lines {
        let entry = wanted
            .entry(line.item_id)
            .or_insert_with(|| (line.sku.to_string(), 0));
        entry.1 += line.quantity;
    }
    let ids: Vec<Uuid> = wanted.keys().copied().collect();
    let levels = lock_levels(txn, &ids).await?;
    let mut takes = Vec::new();
    let mut short = Vec::new();
    let mut low = Vec::new();
    for (item_id, (sku, quantity)) in &wanted {
        let mut remaining = *quantity;
        let mut left = 0;
        let mut reorder_level = 0;
        for level in levels.iter().filter(|l| l.item_id == *item_id) {
            let take = remaining.min(level.free.max(0));
            if take > 0 {
                takes.push((level.item_id, level.location_id, take));
                remaining -= take;
            }
            left += level.free - take;
            reorder_level = level.reorder_level;
        }
        if remaining > 0 {
            short.push(Short {
                item_id: *item_id,
                sku: sku.clone(),
                requested: *quantity,
                available: quantity - remaining,
            });
        } else if left < reorder_level {
            // A fall cannot bring an item back in stock or lift it over its level: only the
            // items below it afterwards need their check (the periodic sweep stays the safety
            // net).
            low.push(*item_id);
        }
    }
    if !short.is_empty() {
        return Err(CheckoutError::Shortfall(short));
    }
    let taken = take_all(txn, &takes).await?;
    if taken != takes.len() as u64 {
        return Err(DbErr::Custom(format!(
            "{taken} of {} locked stock levels took their reservation",
            takes.len()
        ))
        .into());
    }
    let rows: Vec<stock_reservations::ActiveModel> = takes
        .into_iter()
        .map(
            |(item_id, location_id, quantity)| stock_reservations::ActiveModel {
                checkout_id: Set(checkout_id),
                item_id: Set(item_id),
                location_id: Set(location_id),
                tenant_id: Set(tenant_id),
                quantity: Set(quantity),
            },
        )
        .collect();
    stock_reservations::Entity::insert_many(rows)
        .exec_without_returning(txn)
        .await?;
    if !low.is_empty() {
        crate::catalog::alerts::enqueue_checks(txn, tenant_id, low).await?;
    }
    Ok(())
}

/// One stock level of an item, as locked: what it has free, and its item's reorder level.
struct Level {
    item_id: Uuid,
    location_id: Uuid,
    free: i64,
    reorder_level: i64,
}

/// Locks the items' stock levels (on Postgres; a SQLite write transaction holds the whole
/// database) in the stable order, and reads them.
async fn lock_levels<C: ConnectionTrait>(db: &C, item_ids: &[Uuid]) -> Result<Vec<Level>, DbErr> {
    let backend = db.get_database_backend();
    let list: Vec<String> = (1..=item_ids.len())
        .map(|n| placeholder(backend, n))
        .collect();
    let lock = match backend {
        sea_orm::DatabaseBackend::Postgres => " FOR UPDATE OF s",
        _ => "",
    };
    let sql = format!(
        "SELECT s.item_id, s.location_id, s.on_hand - s.reserved AS free, i.reorder_level \
         FROM stock_levels s JOIN items i ON i.id = s.item_id \
         WHERE s.item_id IN ({}) ORDER BY s.item_id, s.location_id{lock}",
        list.join(", ")
    );
    let values: Vec<sea_orm::Value> = item_ids.iter().map(|id| (*id).into()).collect();
    db.query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?
        .iter()
        .map(|row| {
            Ok(Level {
                item_id: row.try_get("", "item_id")?,
                location_id: row.try_get("", "location_id")?,
                free: row.try_get("", "free")?,
                reorder_level: row.try_get("", "reorder_level")?,
            })
        })
        .collect()
}

/// Raises each `(item, location, quantity)` level's reservation if it has that much free, in
/// one statement; answers how many levels it raised.
async fn take_all<C: ConnectionTrait>(db: &C, takes: &[(Uuid, Uuid, i64)]) -> Result<u64, DbErr> {
    if takes.is_empty() {
        return Ok(0);
    }
    let backend = db.get_database_backend();
    let p = |n| placeholder(backend, n);
    let mut cases = String::new();
    let mut conditions = Vec::new();
    let mut values: Vec<sea_orm::Value> = Vec::new();
    for (n, (item_id, location_id, quantity)) in takes.iter().enumerate() {
        let (item, location, q) = (p(3 * n + 1), p(3 * n + 2), p(3 * n + 3));
        cases.push_str(&format!(
            " WHEN item_id = {item} AND location_id = {location} THEN {q}"
        ));
        conditions.push(format!(
            "(item_id = {item} AND location_id = {location} AND on_hand - reserved >= {q})"
        ));
        values.extend([(*item_id).into(), (*location_id).into(), (*quantity).into()]);
    }
    let sql = format!(
        "UPDATE stock_levels SET reserved = reserved + CASE{cases} ELSE 0 END WHERE {}",
        conditions.join(" OR ")
    );
    Ok(db
        .execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?
        .rows_affected())
}

/// Whether the checkout holds any stock.
pub async fn holds<C: ConnectionTrait>(txn: &C, checkout_id: Uuid) -> Result<bool, sea_orm::DbErr> {
    Ok(stock_reservations::Entity::find()
        .filter(stock_reservations::Column::CheckoutId.eq(checkout_id))
        .one(txn)
        .await?
        .is_some())
}

/// What a checkout's reservations become.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Back to what can be sold (cancelled, expired).
    Released,
    /// Out of stock: on hand falls with reserved, and the stock ledger records the movement.
    Shipped,
}

/// Releases or ships everything the checkout holds, on `txn`; released items' stock checks are
/// enqueued. Running it twice changes nothing the second time (the reservations are gone).
pub async fn settle<C: ConnectionTrait>(
    txn: &C,
    tenant_id: TenantId,
    checkout_id: Uuid,
    outcome: Outcome,
    reason: &str,
) -> Result<(), CheckoutError> {
    let held = stock_reservations::Entity::find()
        .filter(stock_reservations::Column::CheckoutId.eq(checkout_id))
        .order_by_asc(stock_reservations::Column::ItemId)
        .order_by_asc(stock_reservations::Column::LocationId)
        .all(txn)
        .await?;
    if held.is_empty() {
        return Ok(());
    }
    let backend = txn.get_database_backend();
    let p = |n| placeholder(backend, n);
    let on_hand = match outcome {
        Outcome::Released => "on_hand".to_string(),
        Outcome::Shipped => format!("on_hand - {}", p(1)),
    };
    let sql = format!(
        "UPDATE stock_levels SET reserved = reserved - {q}, on_hand = {on_hand} \
         WHERE item_id = {item} AND location_id = {location}",
        q = p(1),
        item = p(2),
        location = p(3),
    );
    let now = Utc::now();
    let mut movements = Vec::new();
    for r in &held {
        txn.execute_raw(Statement::from_sql_and_values(
            backend,
            sql.clone(),
            [r.quantity.into(), r.item_id.into(), r.location_id.into()],
        ))
        .await?;
        if outcome == Outcome::Shipped {
            movements.push(stock_movements::ActiveModel {
                id: Set(Uuid::now_v7()),
                tenant_id: Set(tenant_id),
                item_id: Set(r.item_id),
                location_id: Set(r.location_id),
                quantity: Set(-r.quantity),
                reason: Set(reason.to_string()),
                created_at: Set(now),
            });
        }
    }
    if !movements.is_empty() {
        stock_movements::Entity::insert_many(movements)
            .exec_without_returning(txn)
            .await?;
    }
    stock_reservations::Entity::delete_many()
        .filter(stock_reservations::Column::CheckoutId.eq(checkout_id))
        .exec(txn)
        .await?;
    // Shipped stock leaves on hand and reserved alike: what is available does not change, so
    // there is nothing to check. Released stock is available again.
    if outcome == Outcome::Released {
        let mut items: Vec<Uuid> = held.iter().map(|r| r.item_id).collect();
        items.dedup();
        crate::catalog::alerts::enqueue_checks(txn, tenant_id, items).await?;
    }
    Ok(())
}
