//! Job monitoring: queues, jobs, retry and cancel, live workers. The operator sees every
//! tenant; a tenant's admins see their own tenant's jobs.

mod auth;

use cartwheel_entity::TenantId;
use cartwheel_jobs::store::monitor::{
    self, ChangeError, JobChange, JobFilter, JobRecord, JobState, QueueStats,
};
use poem::http::StatusCode;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};

use crate::paging::{PageNumber, PageSize};
use crate::problem::ProblemJson;
use crate::state::AppState;
use auth::{JobsAuth, JobsViewer};
use cartwheel_domain::audit::{self, Action, Diff, Entity};
use cartwheel_domain::transaction::begin;

#[derive(Tags)]
enum ApiTags {
    /// Watching and steering background jobs (operator token, or a tenant admin's token).
    Jobs,
}

pub struct JobsApi;

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct QueueView {
    queue: String,
    pending: u64,
    scheduled: u64,
    running: u64,
    retrying: u64,
    dead: u64,
    succeeded_last_minute: u64,
    failed_last_minute: u64,
    /// Age of the oldest job waiting to run, in seconds.
    #[oai(nullable)]
    oldest_pending_secs: Option<f64>,
}

#[derive(Object)]
struct QueueList {
    items: Vec<QueueView>,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct JobView {
    id: String,
    queue: String,
    state: JobState,
    attempts: i32,
    max_attempts: i32,
    priority: i32,
    run_at: chrono::DateTime<chrono::Utc>,
    #[oai(nullable)]
    locked_at: Option<chrono::DateTime<chrono::Utc>>,
    #[oai(nullable)]
    locked_by: Option<String>,
    #[oai(nullable)]
    done_at: Option<chrono::DateTime<chrono::Utc>>,
    #[oai(nullable)]
    last_error: Option<String>,
    #[oai(nullable)]
    tenant_id: Option<TenantId>,
    #[oai(nullable)]
    idempotency_key: Option<String>,
    payload: serde_json::Value,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct JobList {
    items: Vec<JobView>,
    page: u64,
    limit: u64,
    /// Exact up to 10,000; beyond that `totalCapped` is true and the count stops there.
    total: u64,
    total_capped: bool,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct WorkerView {
    id: String,
    queue: String,
    last_heartbeat: chrono::DateTime<chrono::Utc>,
}

#[derive(Object)]
struct WorkerList {
    items: Vec<WorkerView>,
}

#[derive(ApiResponse)]
enum JobsError {
    /// A filter or paging parameter is invalid; `errors` names it (answered by the parameter
    /// parser).
    #[allow(dead_code)]
    #[oai(status = 400)]
    BadRequest(ProblemJson),
    /// No valid operator or admin token (answered by the `JobsAuth` check).
    #[allow(dead_code)]
    #[oai(status = 401)]
    Unauthorized(ProblemJson),
    /// The admin's role does not allow this.
    #[oai(status = 403)]
    Forbidden(ProblemJson),
    /// No such job.
    #[oai(status = 404)]
    NotFound(ProblemJson),
    /// The job is not in a state that allows this.
    #[oai(status = 409)]
    Conflict(ProblemJson),
    /// Too many requests from this client; see `Retry-After` (answered by the rate limiter).
    #[allow(dead_code)]
    #[oai(status = 429)]
    TooManyRequests(ProblemJson),
    /// An unexpected error; the log has the details under the request id.
    #[oai(status = 500)]
    Internal(ProblemJson),
}

impl JobsError {
    fn internal(error: &dyn std::error::Error) -> Self {
        Self::Internal(ProblemJson::internal(error))
    }

    fn from_change(error: ChangeError, id: &str) -> Self {
        match error {
            ChangeError::NotFound => Self::NotFound(not_found(id)),
            ChangeError::WrongState { .. } => Self::Conflict(ProblemJson::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("Job `{id}`: {error}."),
            )),
            ChangeError::Database(e) => Self::internal(&e),
        }
    }
}

fn not_found(id: &str) -> ProblemJson {
    ProblemJson::not_found(format!("No job `{id}`."))
}

impl From<QueueStats> for QueueView {
    fn from(s: QueueStats) -> Self {
        QueueView {
            queue: s.queue,
            pending: s.pending,
            scheduled: s.scheduled,
            running: s.running,
            retrying: s.retrying,
            dead: s.dead,
            succeeded_last_minute: s.succeeded_last_minute,
            failed_last_minute: s.failed_last_minute,
            oldest_pending_secs: s.oldest_pending_secs,
        }
    }
}

impl From<JobRecord> for JobView {
    fn from(j: JobRecord) -> Self {
        JobView {
            id: j.id,
            queue: j.queue,
            state: j.state,
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            priority: j.priority,
            run_at: j.run_at,
            locked_at: j.locked_at,
            locked_by: j.locked_by,
            done_at: j.done_at,
            last_error: j.last_error,
            tenant_id: j.tenant_id,
            idempotency_key: j.idempotency_key,
            payload: j.payload,
        }
    }
}

#[OpenApi(prefix_path = "/api/v1/admin", tag = "ApiTags::Jobs")]
impl JobsApi {
    /// Every queue with its job counts by state, oldest pending age and last-minute throughput.
    #[oai(path = "/queues", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn queues(
        &self,
        auth: JobsAuth,
        state: Data<&AppState>,
    ) -> Result<Json<QueueList>, JobsError> {
        let stats = monitor::queue_stats(&state.db, auth.0.tenant_scope())
            .await
            .map_err(|e| JobsError::internal(&e))?;
        Ok(Json(QueueList {
            items: stats.into_iter().map(QueueView::from).collect(),
        }))
    }

    /// Jobs, newest first, filtered by queue, state and tenant.
    #[oai(path = "/jobs", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn jobs(
        &self,
        auth: JobsAuth,
        state: Data<&AppState>,
        /// Queue name, e.g. `email.send`.
        queue: Query<Option<String>>,
        #[oai(name = "state")] job_state: Query<Option<JobState>>,
        tenant: Query<Option<TenantId>>,
        page: Query<PageNumber>,
        limit: Query<PageSize>,
    ) -> Result<Json<JobList>, JobsError> {
        let filter = JobFilter {
            queue: queue.0,
            state: job_state.0,
            // A tenant admin sees only their own tenant's jobs, whatever they ask for.
            tenant_id: auth.0.tenant_scope().or(tenant.0),
        };
        let found = monitor::list_jobs(&state.db, &filter, page.0.0, limit.0.0)
            .await
            .map_err(|e| JobsError::internal(&e))?;
        Ok(Json(JobList {
            items: found.items.into_iter().map(JobView::from).collect(),
            page: page.0.0,
            limit: limit.0.0,
            total: found.total,
            total_capped: found.total_capped,
        }))
    }

    /// One job with its payload, attempts, schedule and last error.
    #[oai(path = "/jobs/:id", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn job(
        &self,
        auth: JobsAuth,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> Result<Json<JobView>, JobsError> {
        match monitor::get_job(&state.db, &id, auth.0.tenant_scope()).await {
            Ok(Some(job)) => Ok(Json(job.into())),
            Ok(None) => Err(JobsError::NotFound(not_found(&id))),
            Err(e) => Err(JobsError::internal(&e)),
        }
    }

    /// Runs a dead or retrying job again now, with a fresh set of attempts.
    #[oai(path = "/jobs/:id/retry", method = "post")]
    #[tracing::instrument(skip_all)]
    async fn retry(
        &self,
        auth: JobsAuth,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> Result<Json<JobView>, JobsError> {
        auth.0.require_manage().map_err(JobsError::Forbidden)?;
        let txn = begin(&state.db).await?;
        let change = monitor::retry_job(&txn, &id, auth.0.tenant_scope())
            .await
            .map_err(|e| JobsError::from_change(e, &id))?;
        audited(txn, &auth.0, change, Action::Retried).await
    }

    /// Cancels a job that has not started (pending, scheduled or waiting to retry).
    #[oai(path = "/jobs/:id/cancel", method = "post")]
    #[tracing::instrument(skip_all)]
    async fn cancel(
        &self,
        auth: JobsAuth,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> Result<Json<JobView>, JobsError> {
        auth.0.require_manage().map_err(JobsError::Forbidden)?;
        let txn = begin(&state.db).await?;
        let change = monitor::cancel_job(&txn, &id, auth.0.tenant_scope())
            .await
            .map_err(|e| JobsError::from_change(e, &id))?;
        audited(txn, &auth.0, change, Action::Cancelled).await
    }

    /// Workers whose heartbeat is recent, with the queue each serves.
    #[oai(path = "/workers", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn workers(
        &self,
        auth: JobsAuth,
        state: Data<&AppState>,
    ) -> Result<Json<WorkerList>, JobsError> {
        auth.0.require_operator().map_err(JobsError::Forbidden)?;
        let workers = monitor::live_workers(&state.db, state.worker_liveness.as_secs().max(1))
            .await
            .map_err(|e| JobsError::internal(&e))?;
        Ok(Json(WorkerList {
            items: workers
                .into_iter()
                .map(|w| WorkerView {
                    id: w.id,
                    queue: w.queue,
                    last_heartbeat: w.last_seen,
                })
                .collect(),
        }))
    }
}

/// Commits a retry or cancel with its audit row (for a shop's job; the platform's own jobs,
/// backups say, belong to no shop's log).
async fn audited(
    txn: sea_orm::DatabaseTransaction,
    viewer: &JobsViewer,
    change: JobChange,
    action: Action,
) -> Result<Json<JobView>, JobsError> {
    if let Some(tenant_id) = change.job.tenant_id {
        let diff =
            Diff::default().field("state", change.before.as_str(), change.job.state.as_str());
        let actor = viewer.actor(tenant_id);
        audit::record(&txn, &actor, Entity::Job, &change.job.id, action, diff).await?;
    }
    txn.commit().await?;
    Ok(Json(change.job.into()))
}

impl From<sea_orm::DbErr> for JobsError {
    fn from(error: sea_orm::DbErr) -> Self {
        Self::internal(&error)
    }
}

#[cfg(test)]
mod tests {
    use poem_openapi::types::ToJSON;

    use super::JobState;

    #[test]
    fn the_document_names_job_states_as_the_queries_do() {
        for state in JobState::ALL {
            assert_eq!(state.to_json(), Some(serde_json::json!(state.as_str())));
        }
    }
}
