//! Runs the `noop` job: nothing, unless a test asks it to fail or sleep.

use anyhow::anyhow;
use cartwheel_jobs::families::noop::Noop;

use crate::handler::{Handler, JobContext, JobError};

impl Handler for Noop {
    async fn handle(self, ctx: &JobContext) -> Result<(), JobError> {
        if self.sleep_ms > 0
            && (self.sleep_until_attempt == 0 || ctx.attempt <= self.sleep_until_attempt)
        {
            tokio::time::sleep(std::time::Duration::from_millis(self.sleep_ms)).await;
        }
        if self.fail_permanently {
            return Err(JobError::permanent(anyhow!("asked to fail permanently")));
        }
        if ctx.attempt <= self.fail_until_attempt {
            return Err(JobError::retryable(anyhow!(
                "asked to fail until attempt {}",
                self.fail_until_attempt
            )));
        }
        Ok(())
    }
}
