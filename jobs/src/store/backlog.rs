//! Whole-queue operations for benchmarks and test drains.

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr};

use super::dialect::{dialect, placeholder};
#[cfg(feature = "testing")]
use super::{dialect::CANCELLED_RESULT, monitor::JobState};

/// Deletes every job of `queue`; on Postgres also vacuums the table, so a benchmark run starts
/// without the dead rows of the last one.
pub async fn clear_queue(db: &DatabaseConnection, queue: &str) -> Result<(), DbErr> {
    let d = dialect(db.get_database_backend())?;
    let sql = format!(
        "DELETE FROM {} WHERE job_type = {}",
        d.table,
        placeholder(d.backend, 1)
    );
    db.execute_raw(d.statement(sql, vec![queue.into()])).await?;
    if d.backend == DatabaseBackend::Postgres {
        db.execute_unprepared(&format!("VACUUM {}", d.table))
            .await?;
    }
    Ok(())
}

/// Fresh planner statistics for the jobs table, as autovacuum would keep them.
pub async fn refresh_statistics(db: &DatabaseConnection) -> Result<(), DbErr> {
    let d = dialect(db.get_database_backend())?;
    db.execute_unprepared(&format!("ANALYZE {}", d.table))
        .await?;
    Ok(())
}

/// Makes every job waiting out a retry backoff due now, so a test drain runs each retry that
/// could still happen instead of waiting seconds for it. Returns how many it moved.
#[cfg(feature = "testing")]
pub async fn run_retries_now(db: &DatabaseConnection) -> Result<u64, DbErr> {
    let d = dialect(db.get_database_backend())?;
    let sql = format!(
        "UPDATE {} SET run_at = {} WHERE {}",
        d.table,
        d.now,
        d.state_condition(JobState::Retrying)
    );
    Ok(db
        .execute_raw(d.statement(sql, vec![]))
        .await?
        .rows_affected())
}

/// How `end_jobs` ends a job, as a worker or an admin would have.
#[cfg(feature = "testing")]
#[derive(Clone, Copy, Debug)]
pub enum Ending {
    Succeeded,
    Cancelled,
    /// Failed on its last attempt.
    OutOfAttempts,
    /// Failed with an error that is never retried.
    FailedPermanently,
}

/// Marks the jobs `ids` as ended `ending`, `ago` before now: tests of what becomes of old jobs
/// make them this way instead of waiting days.
#[cfg(feature = "testing")]
pub async fn end_jobs(
    db: &DatabaseConnection,
    ids: &[String],
    ending: Ending,
    ago: std::time::Duration,
) -> Result<u64, DbErr> {
    let d = dialect(db.get_database_backend())?;
    let set = match ending {
        Ending::Succeeded => "status = 'Done'".to_string(),
        Ending::Cancelled => format!("status = 'Killed', last_result = '{CANCELLED_RESULT}'"),
        Ending::OutOfAttempts => "status = 'Failed', attempts = max_attempts".to_string(),
        Ending::FailedPermanently => {
            "status = 'Killed', last_result = '{\"Err\":\"boom\"}'".to_string()
        }
    };
    let list: Vec<String> = (1..=ids.len()).map(|n| placeholder(d.backend, n)).collect();
    let sql = format!(
        "UPDATE {} SET {set}, done_at = {} WHERE id IN ({})",
        d.table,
        d.seconds_ago(ago.as_secs()),
        list.join(", ")
    );
    let values = ids.iter().map(|id| id.clone().into()).collect();
    Ok(db
        .execute_raw(d.statement(sql, values))
        .await?
        .rows_affected())
}
