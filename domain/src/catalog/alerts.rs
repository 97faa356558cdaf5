//! Stock alerts: admins hear once when an item's available stock falls below its reorder
//! level (again only after it has recovered), and shoppers who asked hear once when an item
//! is back in stock.
//!
//! Stock changes enqueue a `CheckStock` job for the item; its handler calls [`check`], which
//! compares the stock with what was already sent, so running it any number of times sends
//! each mail once. [`due`] finds items whose check is owed, for the periodic sweep.

use cartwheel_entity::{
    TenantId, items, listings, low_stock_alerts, roles, stock_subscriptions, users,
};
use cartwheel_jobs::NewJob;
use cartwheel_jobs::families::stock::CheckStock;
use chrono::Utc;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set,
    Statement,
};
use uuid::Uuid;

use super::{CatalogError, stock};
use crate::accounts::roles::{Permission, grants};
use crate::emails::{self, NewEmail, Template};
use crate::validation::check_email;

/// Enqueues the item's stock check on `db` (the transaction that changed its stock).
#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn enqueue_check<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    item_id: Uuid,
) -> Result<(), CatalogError> {
    enqueue_checks(db, tenant_id, vec![item_id]).await
}

/// Enqueues the stock checks of the tenant's `item_ids` on `db`, in as few statements as the
/// queue allows.
#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn enqueue_checks<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    item_ids: Vec<Uuid>,
) -> Result<(), CatalogError> {
    let jobs = item_ids
        .into_iter()
        .map(|item_id| NewJob::new(CheckStock { tenant_id, item_id }))
        .collect();
    cartwheel_jobs::enqueue_batch(db, jobs).await?;
    Ok(())
}

/// A shopper asks to hear when the published product `slug` is back in stock. Asking twice
/// is one request; asking again after being told arms it again.
#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn notify_me(
    db: &DatabaseConnection,
    tenant_id: TenantId,
    slug: &str,
    email: &str,
) -> Result<(), CatalogError> {
    let email = check_email("email", email).map_err(|p| CatalogError::Invalid(vec![p]))?;
    let listing = listings::Entity::find()
        .filter(listings::Column::TenantId.eq(tenant_id))
        .filter(listings::Column::Slug.eq(slug.to_ascii_lowercase()))
        .filter(listings::Column::Published.eq(true))
        .one(db)
        .await?
        .ok_or(CatalogError::NotFound("product"))?;
    let available = stock::available(db, listing.item_id).await?.unwrap_or(0);
    if available > 0 {
        return Err(CatalogError::Conflict {
            field: None,
            message: format!("The product is in stock ({available} available)."),
        });
    }
    stock_subscriptions::Entity::insert(stock_subscriptions::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant_id),
        item_id: Set(listing.item_id),
        email: Set(email),
        created_at: Set(Utc::now()),
        notified_at: Set(None),
    })
    .on_conflict(
        OnConflict::columns([
            stock_subscriptions::Column::ItemId,
            stock_subscriptions::Column::Email,
        ])
        .value(
            stock_subscriptions::Column::NotifiedAt,
            Expr::value(Option::<chrono::DateTime<Utc>>::None),
        )
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// What one check sent.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Checked {
    /// Low-stock alerts queued (one per admin), 0 unless the item just crossed below.
    pub low_stock_alerts: usize,
    /// Back-in-stock notices queued.
    pub back_in_stock: usize,
}

/// Compares the item's available stock with what was sent, and queues what is owed.
#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn check(
    db: &DatabaseConnection,
    tenant_id: TenantId,
    item_id: Uuid,
) -> Result<Checked, CatalogError> {
    let mut checked = Checked::default();
    let Some(item) = items::Entity::find_by_id(item_id)
        .filter(items::Column::TenantId.eq(tenant_id))
        .filter(items::Column::DeletedAt.is_null())
        .one(db)
        .await?
    else {
        return Ok(checked);
    };
    let available = stock::available(db, item_id).await?;
    // An item never stocked has not fallen below anything: no alert for a new item.
    let stocked = available.is_some();
    let available = available.unwrap_or(0);
    if stocked && item.active && available < item.reorder_level {
        checked.low_stock_alerts = alert_low_stock(db, &item, available).await?;
    } else {
        // Recovered (or no longer watched): the next fall below alerts again.
        low_stock_alerts::Entity::delete_many()
            .filter(low_stock_alerts::Column::ItemId.eq(item_id))
            .exec(db)
            .await?;
    }
    let listing = listings::Entity::find_by_id(item_id).one(db).await?;
    if let Some(listing) = listing.filter(|l| l.published && item.active && available > 0) {
        checked.back_in_stock = notify_back_in_stock(db, &item, &listing).await?;
    }
    Ok(checked)
}

/// Records the alert and queues its mails in one transaction; a second run finds the record.
async fn alert_low_stock(
    db: &DatabaseConnection,
    item: &items::Model,
    available: i64,
) -> Result<usize, CatalogError> {
    let txn = crate::transaction::begin(db).await?;
    let inserted = low_stock_alerts::Entity::insert(low_stock_alerts::ActiveModel {
        item_id: Set(item.id),
        tenant_id: Set(item.tenant_id),
        available: Set(available),
        alerted_at: Set(Utc::now()),
    })
    .on_conflict_do_nothing_on([low_stock_alerts::Column::ItemId])
    .exec_without_returning(&txn)
    .await?;
    if !matches!(inserted, sea_orm::TryInsertResult::Inserted(n) if n > 0) {
        txn.rollback().await?;
        return Ok(0);
    }
    let admins = catalog_managers(&txn, item.tenant_id).await?;
    for admin in &admins {
        emails::queue(
            &txn,
            NewEmail {
                tenant_id: Some(item.tenant_id),
                to: admin.email.clone(),
                template: Template::LowStockAlert,
                context: serde_json::json!({
                    "name": admin.name,
                    "product_name": item.name,
                    "sku": item.sku,
                    "available": available,
                    "reorder_level": item.reorder_level,
                    "item_id": item.id,
                }),
            },
        )
        .await?;
    }
    txn.commit().await?;
    Ok(admins.len())
}

/// Marks each waiting shopper notified and queues their mail, one transaction per shopper.
async fn notify_back_in_stock(
    db: &DatabaseConnection,
    item: &items::Model,
    listing: &listings::Model,
) -> Result<usize, CatalogError> {
    let waiting = stock_subscriptions::Entity::find()
        .filter(stock_subscriptions::Column::ItemId.eq(item.id))
        .filter(stock_subscriptions::Column::NotifiedAt.is_null())
        .all(db)
        .await?;
    let currency = crate::defaults::store_settings(db, item.tenant_id)
        .await?
        .map(|s| s.currency)
        .unwrap_or_else(|| "EUR".into());
    let mut sent = 0;
    for subscription in waiting {
        let txn = crate::transaction::begin(db).await?;
        let claimed = stock_subscriptions::Entity::update_many()
            .col_expr(
                stock_subscriptions::Column::NotifiedAt,
                Expr::value(Utc::now()),
            )
            .filter(stock_subscriptions::Column::Id.eq(subscription.id))
            .filter(stock_subscriptions::Column::NotifiedAt.is_null())
            .exec(&txn)
            .await?
            .rows_affected;
        if claimed == 0 {
            txn.rollback().await?;
            continue;
        }
        emails::queue(
            &txn,
            NewEmail {
                tenant_id: Some(item.tenant_id),
                to: subscription.email,
                template: Template::BackInStock,
                context: serde_json::json!({
                    "product_name": item.name,
                    "slug": listing.slug,
                    "price": item.price,
                    "currency": currency,
                }),
            },
        )
        .await?;
        txn.commit().await?;
        sent += 1;
    }
    Ok(sent)
}

/// Active admins of the tenant whose role may manage the catalog.
async fn catalog_managers<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
) -> Result<Vec<users::Model>, DbErr> {
    let managing: Vec<Uuid> = roles::Entity::find()
        .filter(roles::Column::TenantId.eq(tenant_id))
        .all(db)
        .await?
        .into_iter()
        .filter(|role| grants(&role.permissions, Permission::CatalogManage))
        .map(|role| role.id)
        .collect();
    users::Entity::find()
        .filter(users::Column::TenantId.eq(tenant_id))
        .filter(users::Column::Active.eq(true))
        .filter(users::Column::RoleId.is_in(managing))
        .all(db)
        .await
}

/// Items whose check is owed, across tenants: `(tenant id, item id)` of stocked items below
/// their reorder level without an alert, alerted items that recovered, and items in stock with
/// shoppers waiting.
#[tracing::instrument(skip_all)]
pub async fn due<C: ConnectionTrait>(db: &C) -> Result<Vec<(TenantId, Uuid)>, DbErr> {
    let available = stock::available_sql("i.id");
    let sql = format!(
        "SELECT i.tenant_id, i.id FROM items i \
         WHERE i.deleted_at IS NULL AND i.active = TRUE AND ( \
           ({available} < i.reorder_level \
             AND EXISTS (SELECT 1 FROM stock_levels l WHERE l.item_id = i.id) \
             AND NOT EXISTS (SELECT 1 FROM low_stock_alerts a WHERE a.item_id = i.id)) \
           OR ({available} >= i.reorder_level \
             AND EXISTS (SELECT 1 FROM low_stock_alerts a WHERE a.item_id = i.id)) \
           OR ({available} > 0 AND EXISTS (SELECT 1 FROM stock_subscriptions s \
             WHERE s.item_id = i.id AND s.notified_at IS NULL))) \
         LIMIT 5000",
    );
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?
        .into_iter()
        .map(|row| Ok((row.try_get_by_index(0)?, row.try_get_by_index(1)?)))
        .collect()
}
