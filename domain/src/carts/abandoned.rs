//! Abandoned carts: finding carts a shopper left, and reminding them once.
//!
//! A cart is abandoned when it is open (not merged or expired), has lines and a known email, has
//! not changed for the idle time, and was never reminded. The reminder claims the cart
//! (`reminded_at`) and queues its email in one transaction, so it goes out once however often
//! the job runs. Only an open cart is reminded, so checkout will only have to close it.

use std::time::Duration;

use cartwheel_entity::{TenantId, cart_lines, carts, customers};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use super::{CartError, Status, view};
use crate::emails::{self, NewEmail, Template};

/// At most this many carts per scan; the next scan finds the rest.
pub const SCAN_LIMIT: u64 = 5_000;

/// Abandoned carts as of `now`, oldest change first: `(tenant id, cart id)`.
#[tracing::instrument(skip_all)]
pub async fn find<C: ConnectionTrait>(
    db: &C,
    idle: Duration,
    now: DateTime<Utc>,
) -> Result<Vec<(TenantId, Uuid)>, DbErr> {
    Ok(abandoned(carts::Entity::find(), idle, now)
        .order_by_asc(carts::Column::UpdatedAt)
        .limit(SCAN_LIMIT)
        .all(db)
        .await?
        .into_iter()
        .map(|cart| (cart.tenant_id, cart.id))
        .collect())
}

pub enum Reminder {
    /// The email was queued now.
    Queued,
    /// Already reminded, ordered, emptied, changed since, or gone: nothing to send.
    NotDue,
}

/// Claims the cart and queues its reminder in one transaction, if it is still abandoned.
#[tracing::instrument(skip_all)]
pub async fn remind(
    db: &DatabaseConnection,
    cart_id: Uuid,
    idle: Duration,
    now: DateTime<Utc>,
) -> Result<Reminder, CartError> {
    let txn = crate::transaction::begin(db).await?;
    let claimed = abandoned(carts::Entity::update_many(), idle, now)
        .col_expr(carts::Column::RemindedAt, Expr::value(now))
        .filter(carts::Column::Id.eq(cart_id))
        .exec(&txn)
        .await?
        .rows_affected;
    let cart = match claimed {
        0 => None,
        _ => carts::Entity::find_by_id(cart_id).one(&txn).await?,
    };
    let Some(cart) = cart else {
        txn.rollback().await?;
        return Ok(Reminder::NotDue);
    };
    let to = cart.email.clone().unwrap_or_default();
    let name = match cart.customer_id {
        Some(id) => customers::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .map(|c| c.first_name),
        None => None,
    };
    let currency = crate::defaults::store_settings(&txn, cart.tenant_id)
        .await?
        .map(|s| s.currency)
        .unwrap_or_else(|| "EUR".into());
    let tenant_id = cart.tenant_id;
    let cart = view(&txn, cart).await?;
    let lines: Vec<serde_json::Value> = cart
        .lines
        .iter()
        .map(|l| serde_json::json!({"name": l.name, "qty": l.quantity, "line_total": l.line_total}))
        .collect();
    emails::queue(
        &txn,
        NewEmail {
            tenant_id: Some(tenant_id),
            to,
            template: Template::AbandonedCart,
            context: serde_json::json!({
                "name": name,
                "cart_id": cart_id,
                "lines": lines,
                "subtotal": cart.totals.subtotal,
                "currency": currency,
            }),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(Reminder::Queued)
}

/// Narrows a select or update of carts to the abandoned ones.
fn abandoned<Q: QueryFilter>(query: Q, idle: Duration, now: DateTime<Utc>) -> Q {
    let idle_since = now - chrono::Duration::from_std(idle).unwrap_or(chrono::Duration::MAX);
    query
        .filter(carts::Column::Status.eq(Status::Open))
        .filter(carts::Column::RemindedAt.is_null())
        .filter(carts::Column::Email.is_not_null())
        .filter(carts::Column::UpdatedAt.lt(idle_since))
        .filter(carts::Column::ExpiresAt.gt(now))
        .filter(
            carts::Column::Id.in_subquery(
                Query::select()
                    .column(cart_lines::Column::CartId)
                    .from(cart_lines::Entity)
                    .to_owned(),
            ),
        )
}

/// Gives a guest cart the email its reminder goes to (a customer's cart has theirs).
#[tracing::instrument(skip_all)]
pub async fn set_email(
    db: &DatabaseConnection,
    key: super::CartKey,
    email: &str,
) -> Result<super::CartView, CartError> {
    let email =
        crate::validation::check_email("email", email).map_err(|p| CartError::Invalid(vec![p]))?;
    let changed = carts::Entity::update_many()
        .col_expr(carts::Column::Email, Expr::value(email))
        .filter(carts::Column::Id.eq(key.id))
        .filter(carts::Column::TenantId.eq(key.tenant_id))
        .filter(key.held())
        .filter(carts::Column::Status.eq(Status::Open))
        .filter(carts::Column::ExpiresAt.gt(Utc::now()))
        .exec(db)
        .await?
        .rows_affected;
    if changed == 0 {
        return Err(CartError::NotFound("cart"));
    }
    super::get(db, key).await
}
