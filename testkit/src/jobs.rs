//! The queue as tests see it: counts, records and `drain_jobs`, all through the jobs crate's
//! store (no test names apalis's tables).

use std::time::{Duration, Instant};

use cartwheel_jobs::store::monitor::{
    JobFilter, JobRecord, JobState, count_jobs, list_jobs, queue_stats,
};
use cartwheel_jobs::store::run_retries_now;
use sea_orm::DatabaseConnection;

/// How many jobs of `queue` (every queue: `None`) are in `state` (any: `None`).
pub async fn job_count(
    db: &DatabaseConnection,
    queue: Option<&str>,
    state: Option<JobState>,
) -> u64 {
    let filter = JobFilter {
        queue: queue.map(str::to_string),
        state,
        ..Default::default()
    };
    count_jobs(db, &filter).await.unwrap()
}

/// Every job of `queue` (every queue: `None`), newest first.
pub async fn jobs(db: &DatabaseConnection, queue: Option<&str>) -> Vec<JobRecord> {
    let filter = JobFilter {
        queue: queue.map(str::to_string),
        ..Default::default()
    };
    list_jobs(db, &filter, 1, 100_000).await.unwrap().items
}

/// Waits until the running app's worker has run every job that can run, each retry included:
/// a job waiting out its backoff is made due at once, so a "never twice" count taken after the
/// drain has seen every retry that could ever happen. Jobs scheduled for later by design
/// (`run_at` in the future, not a retry) stay scheduled. Fails the test after 60 s.
pub async fn drain_jobs(db: &DatabaseConnection) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        run_retries_now(db).await.unwrap();
        let stats = queue_stats(db, None).await.unwrap();
        if stats
            .iter()
            .all(|s| s.pending + s.running + s.retrying == 0)
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "jobs still to run after 60 s: {stats:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
