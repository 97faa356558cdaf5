//! A change to a shop's public catalog (products, categories, stock) announces itself from the
//! domain call that makes it, whichever way that call was reached:
//!
//! - on Postgres, a `NOTIFY` on [`CHANNEL`] inside the change's own transaction, so every
//!   process that listens (each API process's catalog cache) hears of it if and only if it
//!   commits;
//! - right after the commit, to this process's listener, so the process that made the change
//!   answers with it at once (also on SQLite, where there is no `NOTIFY`).
//!
//! Whatever changes a catalog outside these calls (a shop suspended by hand, say) must send the
//! same `NOTIFY`.

use std::sync::{Arc, OnceLock};

use cartwheel_entity::{TenantId, tenants};
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseTransaction, DbErr, EntityTrait, QuerySelect,
    Statement,
};

/// The Postgres notification channel; the payload is the slug of the shop whose catalog changed.
pub const CHANNEL: &str = "cartwheel_store_cache";

type Listener = Arc<dyn Fn(&str) + Send + Sync>;

/// Where catalog changes are announced; one per application, shared by its handlers and its
/// catalog cache. A clone announces to the same listener.
#[derive(Clone, Default)]
pub struct CatalogChanges {
    local: Arc<OnceLock<Listener>>,
}

impl CatalogChanges {
    /// Sets the one in-process listener, called with the shop's slug after each change commits.
    /// A second listener is ignored, with a warning.
    pub fn listen(&self, listener: impl Fn(&str) + Send + Sync + 'static) {
        if self.local.set(Arc::new(listener)).is_err() {
            tracing::warn!("catalog changes already have a listener; ignoring another");
        }
    }

    /// Commits `txn`, which changed `tenant_id`'s catalog, and announces the change.
    pub async fn commit(&self, txn: DatabaseTransaction, tenant_id: TenantId) -> Result<(), DbErr> {
        let slug = notify(&txn, tenant_id).await?;
        txn.commit().await?;
        if let (Some(listener), Some(slug)) = (self.local.get(), slug) {
            listener(&slug);
        }
        Ok(())
    }
}

/// Looks up the shop's slug and, on Postgres, queues the `NOTIFY` in `txn`.
async fn notify(txn: &DatabaseTransaction, tenant_id: TenantId) -> Result<Option<String>, DbErr> {
    let slug: Option<String> = tenants::Entity::find_by_id(tenant_id)
        .select_only()
        .column(tenants::Column::Slug)
        .into_tuple()
        .one(txn)
        .await?;
    if let (Some(slug), DatabaseBackend::Postgres) = (&slug, txn.get_database_backend()) {
        txn.execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [CHANNEL.into(), slug.as_str().into()],
        ))
        .await?;
    }
    Ok(slug)
}
