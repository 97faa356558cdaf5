//! Prometheus metrics: this process's counters, plus queue depth and age and the last verified
//! backup read from the database
//! (at most every [`QUEUE_GAUGE_INTERVAL`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use poem::Request;
use poem::web::Data;
use poem_openapi::payload::PlainText;
use poem_openapi::{ApiResponse, OpenApi, Tags};
use sea_orm::{DatabaseConnection, DbErr};

use crate::problem::ProblemJson;
use crate::state::AppState;

#[derive(Tags)]
enum ApiTags {
    /// Prometheus scrape endpoint; never rate limited; behind a bearer token when
    /// `CARTWHEEL_METRICS_TOKEN` is set.
    Metrics,
}

pub struct MetricsApi;

#[derive(ApiResponse)]
enum MetricsResponse {
    /// Prometheus text exposition format.
    #[oai(status = 200, content_type = "text/plain; version=0.0.4")]
    Ok(PlainText<String>),
    /// `CARTWHEEL_METRICS_TOKEN` is set and the request does not carry it as a bearer token.
    #[oai(status = 401)]
    Unauthorized(ProblemJson),
    /// The queue gauges could not be read.
    #[oai(status = 500)]
    Internal(ProblemJson),
}

#[OpenApi(tag = "ApiTags::Metrics")]
impl MetricsApi {
    /// HTTP and job counters of this process, queue depth and oldest pending age per queue,
    /// and the time and size of the last verified backup.
    /// The queue gauges are read at most every 10 seconds per process.
    #[oai(path = "/metrics", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn metrics(&self, req: &Request, state: Data<&AppState>) -> MetricsResponse {
        if let Some(expected) = state
            .metrics_token
            .as_ref()
            .map(secrecy::ExposeSecret::expose_secret)
        {
            let given = req
                .headers()
                .get(poem::http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or("");
            if !crate::auth::constant_time_eq(expected.as_bytes(), given.as_bytes()) {
                return MetricsResponse::Unauthorized(crate::auth::session::unauthorized(
                    "Send the metrics token: `Authorization: Bearer <CARTWHEEL_METRICS_TOKEN>`.",
                ));
            }
        }
        if let Err(e) = state.queue_gauges.refresh(&state.db).await {
            return MetricsResponse::Internal(ProblemJson::internal(&e));
        }
        MetricsResponse::Ok(PlainText(state.metrics.render()))
    }
}

/// How old the queue gauges may be. Reading them counts jobs by state across the job table, so
/// a process does it at most this often, however many scrapers ask.
pub const QUEUE_GAUGE_INTERVAL: Duration = Duration::from_secs(10);

/// When this process last read the queue gauges. Concurrent scrapes that find them old wait for
/// one reading instead of each making their own.
#[derive(Clone, Default)]
pub struct QueueGauges(Arc<tokio::sync::Mutex<Option<Instant>>>);

impl QueueGauges {
    async fn refresh(&self, db: &DatabaseConnection) -> Result<(), DbErr> {
        let mut read_at = self.0.lock().await;
        if read_at.is_some_and(|at| at.elapsed() < QUEUE_GAUGE_INTERVAL) {
            return Ok(());
        }
        for queue in cartwheel_jobs::store::monitor::queue_stats(db, None).await? {
            let depth = (queue.pending + queue.scheduled + queue.retrying) as f64;
            metrics::gauge!("cartwheel_queue_depth", "queue" => queue.queue.clone()).set(depth);
            metrics::gauge!("cartwheel_queue_running", "queue" => queue.queue.clone())
                .set(queue.running as f64);
            metrics::gauge!("cartwheel_queue_dead", "queue" => queue.queue.clone())
                .set(queue.dead as f64);
            metrics::gauge!("cartwheel_queue_oldest_pending_seconds", "queue" => queue.queue)
                .set(queue.oldest_pending_secs.unwrap_or(0.0));
        }
        if let Some(run) = cartwheel_domain::backups::last_verified(db).await? {
            let at = run.verified_at.map_or(0, |at| at.timestamp());
            metrics::gauge!("cartwheel_backup_last_verified_timestamp_seconds").set(at as f64);
            metrics::gauge!("cartwheel_backup_last_verified_size_bytes")
                .set(run.size.unwrap_or(0) as f64);
        }
        *read_at = Some(Instant::now());
        Ok(())
    }
}
