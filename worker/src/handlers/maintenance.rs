//! Runs queue housekeeping: pruning finished and dead jobs past their retention.

use std::time::Duration;

use cartwheel_jobs::families::maintenance::{
    DEFAULT_DEAD_RETENTION, DEFAULT_FINISHED_RETENTION, PruneJobs,
};

use crate::handler::{Handler, JobContext, JobError};

impl Handler for PruneJobs {
    async fn handle(self, ctx: &JobContext) -> Result<(), JobError> {
        let finished = self
            .finished_older_than_secs
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_FINISHED_RETENTION);
        let dead = self
            .dead_older_than_secs
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_DEAD_RETENTION);
        let report = cartwheel_jobs::store::prune(&ctx.db, finished, dead)
            .await
            .map_err(JobError::retryable)?;
        tracing::info!(
            finished = report.finished,
            dead = report.dead,
            "pruned old jobs"
        );
        Ok(())
    }
}
