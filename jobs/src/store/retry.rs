//! Backoff between attempts: apalis retries a failed job as soon as its `run_at` has passed.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};

use super::StorageError;
use super::dialect::{dialect, placeholder};

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
