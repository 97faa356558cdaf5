//! Deleting old finished jobs, a batch at a time.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

use super::StorageError;
use super::dialect::dialect;
use super::monitor::JobState;

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
