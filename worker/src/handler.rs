//! The contract every job handler meets, and the wrapper that gives apalis retries with backoff,
//! dead jobs, panic safety, metrics and error reports.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use apalis::prelude::{AbortError, Attempt, BoxDynError, Data, TaskId};
use cartwheel_jobs::Job;
use futures::FutureExt;
use sea_orm::DatabaseConnection;
use sentry::SentryFutureExt;
use tracing::Instrument;

use crate::mail::{MailSettings, Mailer};
use crate::pace::Pace;

/// What a handler gets besides its payload.
#[derive(Clone)]
pub struct JobContext {
    pub db: DatabaseConnection,
    /// The job's id (a ULID), stable across attempts: handlers key their side effects on it.
    pub job_id: String,
    /// 1 on the first run.
    pub attempt: u32,
    /// This worker process (`host-pid-random`), as claims on rows name it.
    pub worker: Arc<str>,
    pub mail: Arc<Mail>,
    pub operator: Arc<Operator>,
    /// How shops' card payments reach Stripe.
    pub stripe: cartwheel_domain::payments::stripe::Stripe,
}

/// What the platform operator set up for the jobs that are theirs rather than a shop's.
pub struct Operator {
    pub backup: Option<cartwheel_backup::Settings>,
    pub email: Option<String>,
}

/// The mail transport and the settings templates need.
pub struct Mail {
    pub mailer: Mailer,
    pub settings: MailSettings,
}

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Worth another attempt (after backoff): a timeout, an unreachable server.
    #[error("{0:#}")]
    Retryable(anyhow::Error),
    /// Never worth retrying: the job is dead at once.
    #[error("{0:#}")]
    Permanent(anyhow::Error),
}

impl JobError {
    pub fn retryable(error: impl Into<anyhow::Error>) -> Self {
        Self::Retryable(error.into())
    }

    pub fn permanent(error: impl Into<anyhow::Error>) -> Self {
        Self::Permanent(error.into())
    }
}

/// A job type the worker can run. Handlers must be idempotent: delivery is at least once.
pub trait Handler: Job {
    fn handle(self, ctx: &JobContext) -> impl Future<Output = Result<(), JobError>> + Send;
}

/// What every apalis worker shares.
#[derive(Clone)]
pub struct Deps {
    pub db: DatabaseConnection,
    pub worker: Arc<str>,
    pub mail: Arc<Mail>,
    pub operator: Arc<Operator>,
    pub stripe: cartwheel_domain::payments::stripe::Stripe,
    pub error_reports: Option<Arc<sentry::Client>>,
}

/// The apalis handler for job type `J`.
pub async fn execute<J: Handler>(
    job: J,
    id: TaskId,
    attempt: Attempt,
    deps: Data<Deps>,
    pace: Data<Arc<Pace>>,
) -> Result<(), BoxDynError> {
    let queue = J::QUEUE;
    let ctx = JobContext {
        db: deps.db.clone(),
        job_id: id.to_string(),
        attempt: attempt.current().max(1) as u32,
        worker: deps.worker.clone(),
        mail: deps.mail.clone(),
        operator: deps.operator.clone(),
        stripe: deps.stripe.clone(),
    };
    let started = Instant::now();
    metrics::counter!("cartwheel_jobs_started_total", "queue" => queue).increment(1);
    let span = tracing::info_span!(
        "job",
        queue,
        job_id = %ctx.job_id,
        attempt = ctx.attempt,
        tenant = job.tenant().map(tracing::field::display),
    );
    // Error reports of this job (a panic in its handler included) carry its queue, id, attempt
    // and shop.
    let reports = deps.error_reports.as_ref().map(|client| {
        let hub = Arc::new(sentry::Hub::new(
            Some(client.clone()),
            Arc::new(sentry::Scope::default()),
        ));
        hub.configure_scope(|scope| {
            scope.set_tag("queue", queue);
            scope.set_tag("job_id", &ctx.job_id);
            scope.set_tag("attempt", ctx.attempt);
            if let Some(shop) = job.tenant() {
                scope.set_tag("shop", shop);
            }
            scope.set_transaction(Some(queue));
        });
        hub
    });
    let report = |level: sentry::Level, message: String| {
        if let Some(hub) = &reports {
            hub.capture_message(&message, level);
        }
    };
    let hub = reports.clone().unwrap_or_else(sentry::Hub::current);
    let outcome = AssertUnwindSafe(job.handle(&ctx))
        .catch_unwind()
        .bind_hub(hub)
        .instrument(span)
        .await;
    let took = started.elapsed();
    pace.record(took);
    metrics::histogram!("cartwheel_job_duration_seconds", "queue" => queue)
        .record(took.as_secs_f64());
    // A panic was reported by sentry's panic hook already, with this job's hub.
    let panicked = outcome.is_err();
    let error = match outcome {
        Ok(Ok(())) => {
            metrics::counter!("cartwheel_jobs_succeeded_total", "queue" => queue).increment(1);
            return Ok(());
        }
        Ok(Err(JobError::Permanent(e))) => {
            let error = format!("{e:#}");
            tracing::warn!(queue, job_id = %ctx.job_id, %error, "job failed permanently; it is dead");
            metrics::counter!("cartwheel_jobs_failed_total", "queue" => queue).increment(1);
            metrics::counter!("cartwheel_jobs_dead_total", "queue" => queue).increment(1);
            report(sentry::Level::Error, format!("{queue} job dead: {error}"));
            return Err(AbortError::new(error).into());
        }
        Ok(Err(JobError::Retryable(e))) => format!("{e:#}"),
        Err(panic) => format!("handler panicked: {}", panic_message(&panic)),
    };
    metrics::counter!("cartwheel_jobs_failed_total", "queue" => queue).increment(1);
    let delay = J::RETRY.backoff(ctx.attempt, rand::random::<f64>());
    match cartwheel_jobs::store::schedule_retry(&ctx.db, &ctx.job_id, ctx.attempt, delay).await {
        Ok(true) => {
            metrics::counter!("cartwheel_jobs_retried_total", "queue" => queue).increment(1);
            tracing::warn!(queue, job_id = %ctx.job_id, attempt = ctx.attempt, retry_in_ms = delay.as_millis() as u64, error = %error, "job failed; will retry");
            if !panicked {
                report(
                    sentry::Level::Warning,
                    format!(
                        "{queue} job failed (attempt {}, will retry): {error}",
                        ctx.attempt
                    ),
                );
            }
        }
        Ok(false) => {
            metrics::counter!("cartwheel_jobs_dead_total", "queue" => queue).increment(1);
            tracing::warn!(queue, job_id = %ctx.job_id, attempt = ctx.attempt, error = %error, "job failed on its last attempt; it is dead");
            report(
                sentry::Level::Error,
                format!("{queue} job dead after attempt {}: {error}", ctx.attempt),
            );
        }
        Err(e) => {
            tracing::error!(queue, job_id = %ctx.job_id, error = %e, "could not schedule the retry");
            report(
                sentry::Level::Error,
                format!("{queue} job failed and its retry could not be scheduled: {e}"),
            );
        }
    }
    Err(error.into())
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}
