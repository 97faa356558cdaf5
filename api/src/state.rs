//! What every handler can reach: the database and the settings the API needs.

use std::time::Duration;

use metrics_exporter_prometheus::PrometheusHandle;
use sea_orm::DatabaseConnection;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    /// Bearer token for the job-monitoring endpoints; unset disables them (401).
    pub operator_token: Option<String>,
    pub metrics: PrometheusHandle,
    /// A worker whose heartbeat is older than this counts as gone.
    pub worker_liveness: Duration,
}
