//! The SQL that differs between the Postgres and SQLite job storages, in one place.

use sea_orm::{DatabaseBackend, DbErr, Statement, Value};

use super::monitor::JobState;

/// The `last_result` a cancelled job carries; apalis has no status of its own for it.
pub(crate) const CANCELLED_RESULT: &str = r#"{"Err":"Cancelled"}"#;

/// SQL fragments that differ between the two storages.
pub(crate) struct Dialect {
    pub backend: DatabaseBackend,
    pub table: &'static str,
    pub workers: &'static str,
    pub now: &'static str,
    pub epoch: fn(&str) -> String,
    pub age_secs: fn(&str) -> String,
    pub tenant: &'static str,
    pub last_result: &'static str,
    pub cancelled: &'static str,
}

pub(crate) fn dialect(backend: DatabaseBackend) -> Result<Dialect, DbErr> {
    match backend {
        DatabaseBackend::Postgres => Ok(Dialect {
            backend,
            table: "apalis.jobs",
            workers: "apalis.workers",
            now: "now()",
            epoch: |col| format!("EXTRACT(EPOCH FROM {col})::float8"),
            age_secs: |col| format!("EXTRACT(EPOCH FROM (now() - {col}))::float8"),
            tenant: "(metadata -> 'tenant_id')",
            last_result: "last_result::text",
            cancelled: "COALESCE(last_result = '{\"Err\":\"Cancelled\"}'::jsonb, false)",
        }),
        DatabaseBackend::Sqlite => Ok(Dialect {
            backend,
            table: "Jobs",
            workers: "Workers",
            now: "CAST(strftime('%s','now') AS INTEGER)",
            epoch: |col| format!("CAST({col} AS REAL)"),
            age_secs: |col| format!("CAST(CAST(strftime('%s','now') AS INTEGER) - {col} AS REAL)"),
            tenant: "json_extract(metadata, '$.tenant_id')",
            last_result: "last_result",
            cancelled: "COALESCE(last_result = '{\"Err\":\"Cancelled\"}', false)",
        }),
        other => Err(DbErr::Custom(format!(
            "job storage does not support {other:?}"
        ))),
    }
}

impl Dialect {
    /// The one definition of each admin-facing state in apalis's columns. The conditions
    /// exclude one another and cover every status apalis writes.
    pub fn state_condition(&self, state: JobState) -> String {
        let now = self.now;
        let cancelled = self.cancelled;
        match state {
            JobState::Pending => format!("status = 'Pending' AND run_at <= {now}"),
            JobState::Scheduled => format!("status = 'Pending' AND run_at > {now}"),
            JobState::Running => "status IN ('Queued', 'Running')".into(),
            JobState::Retrying => "status = 'Failed' AND attempts < max_attempts".into(),
            JobState::Succeeded => "status = 'Done'".into(),
            JobState::Dead => format!(
                "((status = 'Killed' AND NOT ({cancelled})) OR (status = 'Failed' AND attempts >= max_attempts))"
            ),
            JobState::Cancelled => format!("status = 'Killed' AND {cancelled}"),
        }
    }

    /// A job's state name (`JobState::as_str`), from `state_condition`.
    fn state_name(&self) -> String {
        let cases: String = JobState::ALL
            .iter()
            .map(|state| {
                format!(
                    "WHEN {} THEN '{}' ",
                    self.state_condition(*state),
                    state.as_str()
                )
            })
            .collect();
        format!("CASE {cases}END")
    }

    pub fn columns(&self) -> String {
        format!(
            "id, job_type, status, attempts, max_attempts, COALESCE(priority, 0) AS priority, \
             {} AS run_at, {} AS lock_at, lock_by, {} AS done_at, {} AS last_result, \
             {} AS tenant_id, idempotency_key, job, {} AS state",
            (self.epoch)("run_at"),
            (self.epoch)("lock_at"),
            (self.epoch)("done_at"),
            self.last_result,
            self.tenant,
            self.state_name(),
        )
    }

    /// A timestamp expression `secs` seconds before now.
    pub fn seconds_ago(&self, secs: u64) -> String {
        match self.backend {
            DatabaseBackend::Postgres => format!("now() - interval '{secs} seconds'"),
            _ => format!("{} - {secs}", self.now),
        }
    }

    pub fn statement(&self, sql: String, values: Vec<Value>) -> Statement {
        Statement::from_sql_and_values(self.backend, sql, values)
    }
}

/// The `n`th (1-based) bind parameter; numbered on both databases so a parameter can repeat.
pub(crate) fn placeholder(backend: DatabaseBackend, n: usize) -> String {
    match backend {
        DatabaseBackend::Postgres => format!("${n}"),
        _ => format!("?{n}"),
    }
}
