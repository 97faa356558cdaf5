//! The apalis job tables: created by `migrate`, probed by readiness checks, pruned by maintenance.

use std::time::Duration;

use apalis_postgres::PostgresStorage;
use apalis_sqlite::SqliteStorage;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, Statement};

use crate::dialect::{dialect, placeholder};
use crate::monitor::JobState;

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

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PruneReport {
    pub finished: u64,
    pub dead: u64,
}

/// Rows deleted per statement: each batch is its own short transaction.
pub const PRUNE_BATCH: u64 = 1_000;

/// Deletes succeeded and cancelled jobs finished before `finished_age` ago, and dead jobs
/// finished before `dead_age` ago, `PRUNE_BATCH` rows at a time.
pub async fn prune(
    db: &DatabaseConnection,
    finished_age: Duration,
    dead_age: Duration,
) -> Result<PruneReport, StorageError> {
    let d = dialect(db.get_database_backend())?;
    let finished = format!(
        "(({}) OR ({}))",
        d.state_condition(JobState::Succeeded),
        d.state_condition(JobState::Cancelled)
    );
    let dead = d.state_condition(JobState::Dead);
    let mut report = PruneReport::default();
    for (condition, age, count) in [
        (finished, finished_age, &mut report.finished),
        (dead, dead_age, &mut report.dead),
    ] {
        let table = d.table;
        let sql = format!(
            "DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE done_at < {} AND {condition} LIMIT {PRUNE_BATCH})",
            d.seconds_ago(age.as_secs())
        );
        loop {
            let deleted = db
                .execute_raw(Statement::from_string(d.backend, sql.clone()))
                .await?
                .rows_affected();
            *count += deleted;
            if deleted < PRUNE_BATCH {
                break;
            }
        }
    }
    Ok(report)
}

/// After failed attempt number `attempt`: when the job's row allows more attempts, pushes its
/// `run_at` out by `delay` (apalis fetches failed jobs as soon as `run_at` has passed) and
/// returns true; otherwise the job is dead and this returns false.
pub async fn schedule_retry(
    db: &DatabaseConnection,
    id: &str,
    attempt: u32,
    delay: Duration,
) -> Result<bool, StorageError> {
    let d = dialect(db.get_database_backend())?;
    let run_at = match d.backend {
        DatabaseBackend::Postgres => {
            format!("now() + interval '{} milliseconds'", delay.as_millis())
        }
        _ => format!("{} + {}", d.now, delay.as_secs_f64().ceil() as u64),
    };
    let sql = format!(
        "UPDATE {} SET run_at = {run_at} WHERE id = {} AND max_attempts > {}",
        d.table,
        placeholder(d.backend, 1),
        placeholder(d.backend, 2)
    );
    let result = db
        .execute_raw(Statement::from_sql_and_values(
            d.backend,
            sql,
            [id.into(), (attempt as i32).into()],
        ))
        .await?;
    Ok(result.rows_affected() > 0)
}
