//! Liveness and readiness probes for load balancers and orchestrators.

use std::time::Duration;

use poem::http::StatusCode;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use sea_orm::ConnectionTrait;

use crate::problem::{FieldError, ProblemJson};
use crate::state::AppState;

const CHECK_TIMEOUT: Duration = Duration::from_secs(1);

#[derive(Tags)]
enum ApiTags {
    /// Probes; never rate limited.
    Health,
}

pub struct HealthApi;

#[derive(Object)]
struct Health {
    status: String,
    version: String,
    timestamp: chrono::DateTime<chrono::Utc>,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct Ready {
    status: String,
    database: String,
    job_storage: String,
}

#[derive(ApiResponse)]
enum ReadyResponse {
    /// The database and the job storage answer.
    #[oai(status = 200)]
    Ready(Json<Ready>),
    /// A check failed; `errors` names it.
    #[oai(status = 503)]
    Unavailable(ProblemJson),
}

#[OpenApi(tag = "ApiTags::Health")]
impl HealthApi {
    /// Up and serving, with the running version.
    #[oai(path = "/health", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn health(&self) -> Json<Health> {
        Json(Health {
            status: "ok".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            timestamp: chrono::Utc::now(),
        })
    }

    /// The process is alive; does no I/O.
    #[oai(path = "/health/live", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn live(&self) -> Json<Health> {
        self.health().await
    }

    /// Ready for traffic: the database answers `SELECT 1` and the job storage is reachable, each within 1 s.
    #[oai(path = "/health/ready", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn ready(&self, state: Data<&AppState>) -> ReadyResponse {
        let db = &state.db;
        let database = check(async {
            db.execute_unprepared("SELECT 1")
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
        .await;
        let job_storage = check(async {
            cartwheel_jobs::store::check(db)
                .await
                .map_err(|e| e.to_string())
        })
        .await;
        let failed: Vec<FieldError> = [("database", &database), ("jobStorage", &job_storage)]
            .into_iter()
            .filter_map(|(name, result)| {
                result.as_ref().err().map(|message| FieldError {
                    field: name.into(),
                    message: message.clone(),
                })
            })
            .collect();
        if failed.is_empty() {
            return ReadyResponse::Ready(Json(Ready {
                status: "ready".into(),
                database: "ok".into(),
                job_storage: "ok".into(),
            }));
        }
        let names: Vec<String> = failed.iter().map(|f| f.field.clone()).collect();
        tracing::warn!(failed = ?failed, "readiness check failed");
        // The cause (a database error's text) goes to the log only, never to the caller.
        let failed = failed
            .into_iter()
            .map(|f| FieldError {
                field: f.field,
                message: "did not answer; the server log has the cause".into(),
            })
            .collect();
        ReadyResponse::Unavailable(
            ProblemJson::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "not-ready",
                format!("Not ready: the {} check failed.", names.join(" and ")),
            )
            .with_errors(failed),
        )
    }
}

async fn check(probe: impl Future<Output = Result<(), String>>) -> Result<(), String> {
    match tokio::time::timeout(CHECK_TIMEOUT, probe).await {
        Ok(result) => result,
        Err(_) => Err(format!("no answer within {} s", CHECK_TIMEOUT.as_secs())),
    }
}
