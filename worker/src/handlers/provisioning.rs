//! Runs the provisioning job: builds the tenant, or records a readable failure and retries.

use cartwheel_domain::provisioning::{self, Outcome, ProvisionError};
use cartwheel_jobs::Job;
use cartwheel_jobs::families::provisioning::ProvisionTenant;

use crate::handler::{Handler, JobContext, JobError};

impl Handler for ProvisionTenant {
    async fn handle(self, ctx: &JobContext) -> Result<(), JobError> {
        let tenant_id = self.tenant_id;
        match provisioning::provision(&ctx.db, tenant_id).await {
            Ok(Outcome::MadeReady) => {
                tracing::info!(%tenant_id, "tenant provisioned");
                Ok(())
            }
            Ok(Outcome::AlreadyReady) => {
                tracing::info!(%tenant_id, "tenant was already provisioned");
                Ok(())
            }
            Err(e @ ProvisionError::Missing(_)) => Err(JobError::permanent(e)),
            Err(e) => {
                let max = Self::RETRY.max_attempts;
                let message = if ctx.attempt >= max {
                    format!(
                        "Setting up the shop failed {max} times and will not be retried; \
                         please contact support."
                    )
                } else {
                    format!(
                        "Setting up the shop failed (attempt {} of {max}); it is retried \
                         automatically.",
                        ctx.attempt
                    )
                };
                if let Err(mark) = provisioning::mark_failed(&ctx.db, tenant_id, &message).await {
                    tracing::error!(%tenant_id, error = %mark, "could not record the failure");
                }
                Err(JobError::retryable(e))
            }
        }
    }
}
