//! Runs a backup (`cartwheel_backup::run`): dump, upload, verify by restoring, retention. After
//! the last failed attempt the operator is mailed, once per job.

use anyhow::anyhow;
use cartwheel_backup::BackupError;
use cartwheel_domain::emails::{self, NewEmail, Template};
use cartwheel_jobs::Job;
use cartwheel_jobs::families::backup::RunBackup;

use crate::handler::{Handler, JobContext, JobError};

impl Handler for RunBackup {
    async fn handle(self, ctx: &JobContext) -> Result<(), JobError> {
        let Some(settings) = &ctx.operator.backup else {
            let error = anyhow!("backups are not configured: set CARTWHEEL_BACKUP_S3_URL");
            alert_operator(ctx, &error.to_string()).await?;
            return Err(JobError::permanent(error));
        };
        match cartwheel_backup::run(&ctx.db, settings, Some(&ctx.job_id)).await {
            Ok(report) => {
                tracing::info!(
                    key = %report.manifest.key,
                    size = report.manifest.size,
                    deleted = report.deleted.len(),
                    "backup made and verified"
                );
                Ok(())
            }
            // The backup in flight covers this run's tick.
            Err(BackupError::InFlight(message)) => {
                tracing::info!(%message, "no second backup while one is in flight");
                Ok(())
            }
            Err(e) => {
                let last = !e.is_retryable() || ctx.attempt >= Self::RETRY.max_attempts;
                if last {
                    alert_operator(ctx, &e.to_string()).await?;
                }
                if e.is_retryable() {
                    Err(JobError::retryable(e))
                } else {
                    Err(JobError::permanent(e))
                }
            }
        }
    }
}

/// Mails the operator that backups are failing, once per job; without an operator address
/// the error log is all there is.
async fn alert_operator(ctx: &JobContext, error: &str) -> Result<(), JobError> {
    let Some(to) = &ctx.operator.email else {
        tracing::error!(%error, "backup failed for good and CARTWHEEL_OPERATOR_EMAIL is not set: nobody is mailed");
        return Ok(());
    };
    let last_verified = cartwheel_domain::backups::last_verified(&ctx.db)
        .await
        .map_err(JobError::retryable)?
        .and_then(|run| run.verified_at)
        .map_or_else(
            || "none".to_string(),
            |at| at.format("%Y-%m-%d %H:%M UTC").to_string(),
        );
    let email = NewEmail {
        tenant_id: None,
        to: to.clone(),
        template: Template::BackupFailed,
        context: serde_json::json!({
            "tenant_name": "Cartwheel operations",
            "error": error,
            "attempts": ctx.attempt,
            "job_id": ctx.job_id,
            "last_verified": last_verified,
        }),
    };
    emails::queue_once(&ctx.db, &format!("backup-failed:{}", ctx.job_id), email)
        .await
        .map_err(JobError::retryable)?;
    tracing::error!(%error, operator = %to, "backup failed for good; the operator is mailed");
    Ok(())
}
