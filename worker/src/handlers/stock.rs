//! Runs stock checks (after each stock change) and the periodic sweep behind them.

use cartwheel_domain::catalog::alerts;
use cartwheel_jobs::NewJob;
use cartwheel_jobs::families::stock::{CheckStock, SweepStock};

use crate::handler::{Handler, JobContext, JobError};

impl Handler for CheckStock {
    async fn handle(self, ctx: &JobContext) -> Result<(), JobError> {
        let checked = alerts::check(&ctx.db, self.tenant_id, self.item_id)
            .await
            .map_err(JobError::retryable)?;
        tracing::info!(
            item_id = %self.item_id,
            low_stock_alerts = checked.low_stock_alerts,
            back_in_stock = checked.back_in_stock,
            "stock checked"
        );
        Ok(())
    }
}

impl Handler for SweepStock {
    async fn handle(self, ctx: &JobContext) -> Result<(), JobError> {
        let due = alerts::due(&ctx.db).await.map_err(JobError::retryable)?;
        let count = due.len();
        let jobs = due
            .into_iter()
            .map(|(tenant_id, item_id)| NewJob::new(CheckStock { tenant_id, item_id }))
            .collect();
        cartwheel_jobs::enqueue_batch(&ctx.db, jobs)
            .await
            .map_err(JobError::retryable)?;
        tracing::info!(items = count, "stock sweep enqueued checks");
        Ok(())
    }
}
