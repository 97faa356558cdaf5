//! apalis's job tables: created by `migrate` with Cartwheel's indexes, probed by readiness checks.

use apalis_postgres::PostgresStorage;
use apalis_sqlite::SqliteStorage;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr};

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("job storage migration failed: {0}")]
    Migrate(String),
    #[error("job storage is not reachable: {0}")]
    Unreachable(#[from] DbErr),
    #[error("job storage needs Postgres or SQLite")]
    UnsupportedBackend,
}

/// Indexes the admin views and pruning need on top of apalis's own (which serve fetching).
/// Each index costs every status change a write, so there are few: state listings and counts
/// use (status, id), throughput and pruning use done_at, tenant filters a partial index that
/// jobs without a tenant never enter.
///
/// On Postgres, apalis's full indexes on `lock_by` are replaced by a partial one over running
/// jobs: `lock_by` stays set after a job finishes, and with those indexes Postgres plans the
/// acknowledgement query through them, reading every job the worker ever ran on each ack (it
/// slowed a 50,000-job backlog to a crawl). `unique_job_id` repeats the primary key.
const POSTGRES_INDEXES: &[&str] = &[
    "DROP INDEX IF EXISTS apalis.lidx",
    "DROP INDEX IF EXISTS apalis.idx_apalis_jobs_lock_by",
    "DROP INDEX IF EXISTS apalis.unique_job_id",
    "CREATE INDEX IF NOT EXISTS cw_jobs_running_lock_by ON apalis.jobs (lock_by) \
     WHERE status IN ('Queued', 'Running')",
    "DROP INDEX IF EXISTS apalis.cw_jobs_queue_status_id",
    "CREATE INDEX IF NOT EXISTS cw_jobs_status_id ON apalis.jobs (status, id)",
    "CREATE INDEX IF NOT EXISTS cw_jobs_done_at ON apalis.jobs (done_at) WHERE done_at IS NOT NULL",
    "DROP INDEX IF EXISTS apalis.cw_jobs_tenant",
    "CREATE INDEX IF NOT EXISTS cw_jobs_tenant_id ON apalis.jobs ((metadata -> 'tenant_id'), id) \
     WHERE (metadata -> 'tenant_id') IS NOT NULL",
];
const SQLITE_INDEXES: &[&str] = &[
    "DROP INDEX IF EXISTS cw_jobs_queue_status_id",
    "CREATE INDEX IF NOT EXISTS cw_jobs_status_id ON Jobs (status, id)",
    "CREATE INDEX IF NOT EXISTS cw_jobs_done_at ON Jobs (done_at)",
    "DROP INDEX IF EXISTS cw_jobs_tenant",
    "CREATE INDEX IF NOT EXISTS cw_jobs_tenant_id ON Jobs (json_extract(metadata, '$.tenant_id'), id) \
     WHERE json_extract(metadata, '$.tenant_id') IS NOT NULL",
];

/// Creates or upgrades apalis's own tables (schema `apalis` on Postgres, `Jobs` on SQLite),
/// then Cartwheel's indexes on them.
pub async fn setup(db: &DatabaseConnection) -> Result<(), StorageError> {
    let indexes = match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            PostgresStorage::<()>::setup(db.get_postgres_connection_pool())
                .await
                .map_err(|e| StorageError::Migrate(e.to_string()))?;
            POSTGRES_INDEXES
        }
        DatabaseBackend::Sqlite => {
            SqliteStorage::<()>::setup(db.get_sqlite_connection_pool())
                .await
                .map_err(|e| StorageError::Migrate(e.to_string()))?;
            SQLITE_INDEXES
        }
        _ => return Err(StorageError::UnsupportedBackend),
    };
    for sql in indexes {
        db.execute_unprepared(sql).await?;
    }
    Ok(())
}

/// Succeeds when the jobs table answers a query.
pub async fn check<C: ConnectionTrait>(db: &C) -> Result<(), StorageError> {
    let sql = match db.get_database_backend() {
        DatabaseBackend::Postgres => "SELECT 1 FROM apalis.jobs LIMIT 1",
        DatabaseBackend::Sqlite => "SELECT 1 FROM Jobs LIMIT 1",
        _ => return Err(StorageError::UnsupportedBackend),
    };
    db.execute_unprepared(sql).await?;
    Ok(())
}
