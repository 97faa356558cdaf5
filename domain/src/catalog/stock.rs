//! Stock: every change is a ledger entry with a reason; levels per location are the running
//! totals, never below what is reserved.

use std::collections::HashMap;

use cartwheel_entity::{
    TenantId, items, stock_levels, stock_movements, warehouse_locations, warehouses,
};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::{CatalogChanges, CatalogError};
use crate::audit::{self, Action, Actor, Diff, Entity};
use crate::validation::FieldProblem;

/// The most one stock move (an adjustment, a transfer) or a reorder level counts.
pub const MAX_QUANTITY: i64 = 1_000_000_000;

/// The most a location holds of one item: 10^12.
pub const MAX_ON_HAND: i64 = 1_000_000_000_000;

/// An item's stock, summed over its locations (or one location's).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub on_hand: i64,
    pub reserved: i64,
}

impl Totals {
    /// What can still be sold: on hand less reserved, never negative. The one definition;
    /// `available_sql` says the same in SQL.
    pub fn available(&self) -> i64 {
        Ord::max(self.on_hand - self.reserved, 0)
    }
}

/// The stock totals per item, summed over locations; an item never stocked is absent.
#[tracing::instrument(skip_all)]
pub async fn totals<C: ConnectionTrait>(
    db: &C,
    item_ids: &[Uuid],
) -> Result<HashMap<Uuid, Totals>, CatalogError> {
    let levels = stock_levels::Entity::find()
        .filter(stock_levels::Column::ItemId.is_in(item_ids.to_vec()))
        .all(db)
        .await?;
    let mut totals: HashMap<Uuid, Totals> = HashMap::new();
    for level in levels {
        let entry = totals.entry(level.item_id).or_default();
        entry.on_hand += level.on_hand;
        entry.reserved += level.reserved;
    }
    Ok(totals)
}

/// What can still be sold of one item, or `None` if it was never stocked.
#[tracing::instrument(skip_all)]
pub async fn available<C: ConnectionTrait>(
    db: &C,
    item_id: Uuid,
) -> Result<Option<i64>, CatalogError> {
    Ok(totals(db, &[item_id])
        .await?
        .remove(&item_id)
        .map(|t| t.available()))
}

/// `Totals::available` in SQL, for statements that decide by it: what can be sold of the item
/// whose id is the SQL expression `item_id` (0 if never stocked).
pub fn available_sql(item_id: &str) -> String {
    // One pass over the item's levels: the sum is clamped once it is known.
    format!(
        "CAST((SELECT CASE WHEN t.n > 0 THEN t.n ELSE 0 END FROM \
           (SELECT COALESCE(SUM(sl.on_hand - sl.reserved), 0) AS n FROM stock_levels sl \
            WHERE sl.item_id = {item_id}) t) AS BIGINT)"
    )
}

/// The item's `column` (`on_hand` or `reserved`) summed over its locations, in SQL.
pub fn total_sql(column: &str, item_id: &str) -> String {
    format!(
        "CAST((SELECT COALESCE(SUM(sl.{column}), 0) FROM stock_levels sl \
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
#[tracing::instrument(skip_all, fields(tenant = %by.tenant_id))]
pub async fn adjust(
    db: &DatabaseConnection,
    changes: &CatalogChanges,
    by: &Actor,
    item_id: Uuid,
    place: Place<'_>,
    quantity: i64,
    reason: &str,
) -> Result<(), CatalogError> {
    let tenant_id = by.tenant_id;
    check_quantity_and_reason(quantity, reason, false)?;
    find_item(db, tenant_id, item_id).await?;
    let location = find_location(db, tenant_id, &place, "location").await?;
    let txn = crate::transaction::begin(db).await?;
    apply(&txn, tenant_id, item_id, location, quantity, reason).await?;
    let diff = Diff::default()
        .field("quantity", (), quantity)
        .field(
            "place",
            (),
            format!("{}/{}", place.warehouse, place.location),
        )
        .field("reason", (), reason);
    audit::record(&txn, by, Entity::Stock, item_id, Action::Adjusted, diff).await?;
    super::alerts::enqueue_check(&txn, tenant_id, item_id).await?;
    changes.commit(txn, tenant_id).await?;
    Ok(())
}

/// Moves `quantity` from one place to another: two ledger entries, one transaction.
#[tracing::instrument(skip_all, fields(tenant = %by.tenant_id))]
pub async fn transfer(
    db: &DatabaseConnection,
    changes: &CatalogChanges,
    by: &Actor,
    item_id: Uuid,
    from: Place<'_>,
    to: Place<'_>,
    quantity: i64,
    reason: &str,
) -> Result<(), CatalogError> {
    let tenant_id = by.tenant_id;
    check_quantity_and_reason(quantity, reason, true)?;
    find_item(db, tenant_id, item_id).await?;
    let diff = Diff::default()
        .field("quantity", (), quantity)
        .field(
            "place",
            format!("{}/{}", from.warehouse, from.location),
            format!("{}/{}", to.warehouse, to.location),
        )
        .field("reason", (), reason);
    let from = find_location(db, tenant_id, &from, "from").await?;
    let to = find_location(db, tenant_id, &to, "to").await?;
    if from == to {
        return Err(CatalogError::Invalid(vec![FieldProblem::new(
            "to",
            "must differ from `from`",
        )]));
    }
    let txn = crate::transaction::begin(db).await?;
    // The two levels change in location order, the order a confirm locks an item's levels in
    // (`checkout::reserve`): a transfer racing a confirm never deadlocks with it.
    let mut moves = [(from, -quantity), (to, quantity)];
    moves.sort_by_key(|(location, _)| *location);
    for (location, change) in moves {
        apply(&txn, tenant_id, item_id, location, change, reason).await?;
    }
    audit::record(&txn, by, Entity::Stock, item_id, Action::Transferred, diff).await?;
    changes.commit(txn, tenant_id).await?;
    Ok(())
}

/// One location's level of an item, with its warehouse and location codes.
pub struct Level {
    pub warehouse: String,
    pub location: String,
    pub on_hand: i64,
    pub reserved: i64,
}

/// Ledger entries, each with the code of the location it moved.
pub type Entries = Vec<(stock_movements::Model, String)>;

/// The item's levels by location, and its latest ledger entries (newest first).
#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn ledger<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    item_id: Uuid,
    latest: u64,
) -> Result<(Vec<Level>, Entries), CatalogError> {
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
    tenant_id: TenantId,
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
        let here = level.map_or(Totals::default(), |l| Totals {
            on_hand: l.on_hand,
            reserved: l.reserved,
        });
        return Err(CatalogError::InsufficientStock {
            available: here.available(),
        });
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
    tenant_id: TenantId,
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
    tenant_id: TenantId,
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
    tenant_id: TenantId,
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

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{ConnectionTrait, Database, Statement};

    #[test]
    fn available_is_on_hand_less_reserved_never_below_zero() {
        let of = |on_hand, reserved| Totals { on_hand, reserved }.available();
        assert_eq!(of(8, 2), 6);
        assert_eq!(of(2, 2), 0);
        assert_eq!(of(1, 4), 0);
        assert_eq!(Totals::default().available(), 0);
    }

    #[tokio::test]
    async fn the_sql_says_what_totals_say() {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        db.execute_unprepared(
            "CREATE TABLE stock_levels (item_id TEXT, on_hand BIGINT, reserved BIGINT); \
             INSERT INTO stock_levels VALUES ('a', 5, 2), ('a', 3, 0), ('b', 1, 4);",
        )
        .await
        .unwrap();
        for (item, totals) in [
            (
                "a",
                Totals {
                    on_hand: 8,
                    reserved: 2,
                },
            ),
            (
                "b",
                Totals {
                    on_hand: 1,
                    reserved: 4,
                },
            ),
            ("c", Totals::default()),
        ] {
            let sql = format!("SELECT {} AS v", available_sql(&format!("'{item}'")));
            let row = db
                .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
                .await
                .unwrap()
                .unwrap();
            let v: i64 = row.try_get("", "v").unwrap();
            assert_eq!(v, totals.available(), "{item}");
        }
    }
}
