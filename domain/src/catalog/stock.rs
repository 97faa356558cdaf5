//! Stock: every change is a ledger entry with a reason; levels per location are the running
//! totals, never below what is reserved.

use std::collections::HashMap;

use cartwheel_entity::{items, stock_levels, stock_movements, warehouse_locations, warehouses};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::CatalogError;
use crate::validation::FieldProblem;

/// The most one stock move (an adjustment, a transfer) or a reorder level counts.
pub const MAX_QUANTITY: i64 = 1_000_000_000;

/// The most a location holds of one item: 10^12.
pub const MAX_ON_HAND: i64 = 1_000_000_000_000;

/// `(on hand, reserved)` per item, summed over locations.
pub async fn totals<C: ConnectionTrait>(
    db: &C,
    item_ids: &[Uuid],
) -> Result<HashMap<Uuid, (i64, i64)>, CatalogError> {
    let levels = stock_levels::Entity::find()
        .filter(stock_levels::Column::ItemId.is_in(item_ids.to_vec()))
        .all(db)
        .await?;
    let mut totals: HashMap<Uuid, (i64, i64)> = HashMap::new();
    for level in levels {
        let entry = totals.entry(level.item_id).or_default();
        entry.0 += level.on_hand;
        entry.1 += level.reserved;
    }
    Ok(totals)
}

/// What can still be sold of one item (never negative), or `None` if it was never stocked.
pub async fn available<C: ConnectionTrait>(
    db: &C,
    item_id: Uuid,
) -> Result<Option<i64>, CatalogError> {
    Ok(totals(db, &[item_id])
        .await?
        .remove(&item_id)
        .map(|(on_hand, reserved)| Ord::max(on_hand - reserved, 0)))
}

/// The same in SQL, for statements that decide by it: what can be sold of the item whose id is
/// the SQL expression `item_id`, summed over locations (0 if never stocked).
pub fn available_sql(item_id: &str) -> String {
    format!(
        "CAST((SELECT COALESCE(SUM(sl.on_hand - sl.reserved), 0) FROM stock_levels sl \
         WHERE sl.item_id = {item_id}) AS BIGINT)"
    )
}

/// A place stock is kept: `warehouse` code (MAIN unless given) and location code.
pub struct Place<'a> {
    pub warehouse: &'a str,
    pub location: &'a str,
}

/// Adds `quantity` (negative removes) at a place, with a reason. Removing more than is
/// available there is a conflict naming what is available. The item's stock alerts are
/// checked after the change (a `CheckStock` job in the same transaction).
pub async fn adjust(
    db: &DatabaseConnection,
    tenant_id: Uuid,
    item_id: Uuid,
    place: Place<'_>,
    quantity: i64,
    reason: &str,
) -> Result<(), CatalogError> {
    check_quantity_and_reason(quantity, reason, false)?;
    find_item(db, tenant_id, item_id).await?;
    let location = find_location(db, tenant_id, &place, "location").await?;
    let txn = crate::transaction::begin(db).await?;
    apply(&txn, tenant_id, item_id, location, quantity, reason).await?;
    super::alerts::enqueue_check(&txn, tenant_id, item_id).await?;
    txn.commit().await?;
    Ok(())
}

/// Moves `quantity` from one place to another: two ledger entries, one transaction.
pub async fn transfer(
    db: &DatabaseConnection,
    tenant_id: Uuid,
    item_id: Uuid,
    from: Place<'_>,
    to: Place<'_>,
    quantity: i64,
    reason: &str,
) -> Result<(), CatalogError> {
    check_quantity_and_reason(quantity, reason, true)?;
    find_item(db, tenant_id, item_id).await?;
    let from = find_location(db, tenant_id, &from, "from").await?;
    let to = find_location(db, tenant_id, &to, "to").await?;
    if from == to {
        return Err(CatalogError::Invalid(vec![FieldProblem::new(
            "to",
            "must differ from `from`",
        )]));
    }
    let txn = crate::transaction::begin(db).await?;
    apply(&txn, tenant_id, item_id, from, -quantity, reason).await?;
    apply(&txn, tenant_id, item_id, to, quantity, reason).await?;
    txn.commit().await?;
    Ok(())
}

/// One location's level of an item, with its warehouse and location codes.
pub struct Level {
    pub warehouse: String,
    pub location: String,
    pub on_hand: i64,
    pub reserved: i64,
}

/// The item's levels by location, and its latest ledger entries (newest first).
pub async fn ledger<C: ConnectionTrait>(
    db: &C,
    tenant_id: Uuid,
    item_id: Uuid,
    latest: u64,
) -> Result<(Vec<Level>, Vec<(stock_movements::Model, String)>), CatalogError> {
    find_item(db, tenant_id, item_id).await?;
    let places = places(db, tenant_id).await?;
    let name = |location: Uuid| {
        places
            .get(&location)
            .map(|(w, l)| (w.clone(), l.clone()))
            .unwrap_or_default()
    };
    let levels = stock_levels::Entity::find()
        .filter(stock_levels::Column::ItemId.eq(item_id))
        .all(db)
        .await?
        .into_iter()
        .map(|level| {
            let (warehouse, location) = name(level.location_id);
            Level {
                warehouse,
                location,
                on_hand: level.on_hand,
                reserved: level.reserved,
            }
        })
        .collect();
    let movements = stock_movements::Entity::find()
        .filter(stock_movements::Column::ItemId.eq(item_id))
        .order_by_desc(stock_movements::Column::CreatedAt)
        .order_by_desc(stock_movements::Column::Id)
        .limit(latest)
        .all(db)
        .await?
        .into_iter()
        .map(|m| {
            let (warehouse, location) = name(m.location_id);
            (m, format!("{warehouse}/{location}"))
        })
        .collect();
    Ok((levels, movements))
}

async fn apply<C: ConnectionTrait>(
    db: &C,
    tenant_id: Uuid,
    item_id: Uuid,
    location_id: Uuid,
    quantity: i64,
    reason: &str,
) -> Result<(), CatalogError> {
    // Make sure the level row exists, then change it in one conditional statement, so
    // concurrent changes neither lose an update, nor go below what is reserved, nor above
    // MAX_ON_HAND.
    stock_levels::Entity::insert(stock_levels::ActiveModel {
        item_id: Set(item_id),
        location_id: Set(location_id),
        tenant_id: Set(tenant_id),
        on_hand: Set(0),
        reserved: Set(0),
    })
    .on_conflict_do_nothing_on([
        stock_levels::Column::ItemId,
        stock_levels::Column::LocationId,
    ])
    .exec(db)
    .await?;
    let changed = stock_levels::Entity::update_many()
        .col_expr(
            stock_levels::Column::OnHand,
            Expr::col(stock_levels::Column::OnHand).add(quantity),
        )
        .filter(stock_levels::Column::ItemId.eq(item_id))
        .filter(stock_levels::Column::LocationId.eq(location_id))
        .filter(
            Expr::col(stock_levels::Column::OnHand)
                .add(quantity)
                .gte(Expr::col(stock_levels::Column::Reserved)),
        )
        .filter(Expr::col(stock_levels::Column::OnHand).lte(MAX_ON_HAND - quantity))
        .exec(db)
        .await?
        .rows_affected;
    if changed == 0 {
        let level = stock_levels::Entity::find_by_id((item_id, location_id))
            .one(db)
            .await?;
        if level
            .as_ref()
            .is_some_and(|l| l.on_hand > MAX_ON_HAND - quantity)
        {
            return Err(CatalogError::Invalid(vec![FieldProblem::new(
                "quantity",
                format!("would put more than {MAX_ON_HAND} on hand at the location"),
            )]));
        }
        let available = Ord::max(level.map(|l| l.on_hand - l.reserved).unwrap_or(0), 0);
        return Err(CatalogError::InsufficientStock { available });
    }
    stock_movements::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant_id),
        item_id: Set(item_id),
        location_id: Set(location_id),
        quantity: Set(quantity),
        reason: Set(reason.trim().to_string()),
        created_at: Set(chrono::Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

fn check_quantity_and_reason(
    quantity: i64,
    reason: &str,
    positive: bool,
) -> Result<(), CatalogError> {
    let mut problems = Vec::new();
    if quantity == 0 || (positive && quantity < 0) || quantity.unsigned_abs() > MAX_QUANTITY as u64
    {
        problems.push(FieldProblem::new(
            "quantity",
            if positive {
                format!("must be 1 to {MAX_QUANTITY}")
            } else {
                format!("must be -{MAX_QUANTITY} to {MAX_QUANTITY}, not zero")
            },
        ));
    }
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 200 {
        problems.push(FieldProblem::new("reason", "must be 1 to 200 characters"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(CatalogError::Invalid(problems))
    }
}

async fn find_item<C: ConnectionTrait>(
    db: &C,
    tenant_id: Uuid,
    id: Uuid,
) -> Result<(), CatalogError> {
    items::Entity::find_by_id(id)
        .filter(items::Column::TenantId.eq(tenant_id))
        .filter(items::Column::DeletedAt.is_null())
        .one(db)
        .await?
        .map(|_| ())
        .ok_or(CatalogError::NotFound("item"))
}

async fn find_location<C: ConnectionTrait>(
    db: &C,
    tenant_id: Uuid,
    place: &Place<'_>,
    field: &'static str,
) -> Result<Uuid, CatalogError> {
    let wanted = (
        place.warehouse.trim().to_uppercase(),
        place.location.trim().to_uppercase(),
    );
    places(db, tenant_id)
        .await?
        .into_iter()
        .find(|(_, (w, l))| (w.clone(), l.clone()) == wanted)
        .map(|(id, _)| id)
        .ok_or_else(|| {
            CatalogError::Invalid(vec![FieldProblem::new(
                field,
                format!("`{}/{}` is not a location of this shop", wanted.0, wanted.1),
            )])
        })
}

/// Location id → (warehouse code, location code).
async fn places<C: ConnectionTrait>(
    db: &C,
    tenant_id: Uuid,
) -> Result<HashMap<Uuid, (String, String)>, CatalogError> {
    let warehouses = warehouses::Entity::find()
        .filter(warehouses::Column::TenantId.eq(tenant_id))
        .all(db)
        .await?;
    let locations = warehouse_locations::Entity::find()
        .filter(warehouse_locations::Column::TenantId.eq(tenant_id))
        .all(db)
        .await?;
    Ok(locations
        .into_iter()
        .filter_map(|l| {
            let warehouse = warehouses.iter().find(|w| w.id == l.warehouse_id)?;
            Some((l.id, (warehouse.code.clone(), l.code.clone())))
        })
        .collect())
}
