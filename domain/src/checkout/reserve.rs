//! Reserving stock for a checkout, and releasing or shipping what it holds.
//!
//! A reservation never reads and then writes: quantities are summed per item first, then each
//! stock level is raised by one conditional statement (`… WHERE on_hand - reserved >= q`), in
//! one stable order (item, then location) so concurrent confirms never deadlock. A level that
//! changed between the read that chose the amount and the statement simply matches no row; the
//! amount is read again. A shortfall reserves nothing: the caller's transaction rolls back.

use std::collections::BTreeMap;

use cartwheel_entity::{TenantId, stock_movements, stock_reservations};
use chrono::Utc;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set, Statement};
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
    let mut free = free_levels(txn, &ids).await?;
    let mut held = Vec::new();
    let mut short = Vec::new();
    for (item_id, (sku, quantity)) in &wanted {
        let mut remaining = *quantity;
        let levels = free.remove(item_id).unwrap_or_default();
        for (location_id, mut available) in levels {
            // Each failed statement means another transaction took stock here and committed;
            // the loop ends when the level is empty or the line is covered.
            while remaining > 0 && available > 0 {
                let take = remaining.min(available);
                if take_from(txn, *item_id, location_id, take).await? {
                    held.push((*item_id, location_id, take));
                    remaining -= take;
                    available -= take;
                } else {
                    available = free_at(txn, *item_id, location_id).await?;
                }
            }
            if remaining == 0 {
                break;
            }
        }
        if remaining > 0 {
            short.push(Short {
                item_id: *item_id,
                sku: sku.clone(),
                requested: *quantity,
                available: quantity - remaining,
            });
        }
    }
    if !short.is_empty() {
        return Err(CheckoutError::Shortfall(short));
    }
    let rows: Vec<stock_reservations::ActiveModel> = held
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
    crate::catalog::alerts::enqueue_checks_after_fall(txn, tenant_id, ids).await?;
    Ok(())
}

/// What each item's levels have free, by location in a stable order.
async fn free_levels<C: ConnectionTrait>(
    db: &C,
    item_ids: &[Uuid],
) -> Result<BTreeMap<Uuid, Vec<(Uuid, i64)>>, sea_orm::DbErr> {
    let levels = cartwheel_entity::stock_levels::Entity::find()
        .filter(cartwheel_entity::stock_levels::Column::ItemId.is_in(item_ids.to_vec()))
        .order_by_asc(cartwheel_entity::stock_levels::Column::ItemId)
        .order_by_asc(cartwheel_entity::stock_levels::Column::LocationId)
        .all(db)
        .await?;
    let mut free: BTreeMap<Uuid, Vec<(Uuid, i64)>> = BTreeMap::new();
    for level in levels {
        let available = level.on_hand - level.reserved;
        if available > 0 {
            free.entry(level.item_id)
                .or_default()
                .push((level.location_id, available));
        }
    }
    Ok(free)
}

async fn free_at<C: ConnectionTrait>(
    db: &C,
    item_id: Uuid,
    location_id: Uuid,
) -> Result<i64, sea_orm::DbErr> {
    Ok(
        cartwheel_entity::stock_levels::Entity::find_by_id((item_id, location_id))
            .one(db)
            .await?
            .map_or(0, |l| l.on_hand - l.reserved),
    )
}

/// Reserves `quantity` at one level if it has that much free, in one statement.
async fn take_from<C: ConnectionTrait>(
    db: &C,
    item_id: Uuid,
    location_id: Uuid,
    quantity: i64,
) -> Result<bool, sea_orm::DbErr> {
    let backend = db.get_database_backend();
    let p = |n| placeholder(backend, n);
    let sql = format!(
        "UPDATE stock_levels SET reserved = reserved + {q} \
         WHERE item_id = {item} AND location_id = {location} AND on_hand - reserved >= {q}",
        q = p(1),
        item = p(2),
        location = p(3),
    );
    let changed = db
        .execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [quantity.into(), item_id.into(), location_id.into()],
        ))
        .await?
        .rows_affected();
    Ok(changed == 1)
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
