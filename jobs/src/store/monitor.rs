//! What admins see of the queue: per-queue counts, job lists and details, retry and cancel,
//! live workers; and the counts tests and benchmarks check. On Postgres and on SQLite.

use cartwheel_entity::TenantId;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, QueryResult, Value};

use super::dialect::{Dialect, dialect, placeholder};

/// A job's state as admins see it, derived from apalis's status, attempts and run_at. Its
/// names are `as_str`'s (the document's too, with the `openapi` feature).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "lowercase"))]
pub enum JobState {
    /// Waiting to run now.
    Pending,
    /// Waiting for its `run_at`.
    Scheduled,
    /// Fetched by a worker.
    Running,
    /// Failed, with attempts left; waits for its backoff.
    Retrying,
    Succeeded,
    /// Out of attempts, or failed permanently.
    Dead,
    /// Cancelled by an admin before it ran.
    Cancelled,
}

impl JobState {
    pub const ALL: [JobState; 7] = [
        JobState::Pending,
        JobState::Scheduled,
        JobState::Running,
        JobState::Retrying,
        JobState::Succeeded,
        JobState::Dead,
        JobState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Pending => "pending",
            JobState::Scheduled => "scheduled",
            JobState::Running => "running",
            JobState::Retrying => "retrying",
            JobState::Succeeded => "succeeded",
            JobState::Dead => "dead",
            JobState::Cancelled => "cancelled",
        }
    }
}

use super::dialect::CANCELLED_RESULT;

/// A job as the admin API shows it.
#[derive(Clone, Debug)]
pub struct JobRecord {
    pub id: String,
    pub queue: String,
    pub state: JobState,
    pub status: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub priority: i32,
    pub run_at: DateTime<Utc>,
    pub locked_at: Option<DateTime<Utc>>,
    pub locked_by: Option<String>,
    pub done_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub tenant_id: Option<TenantId>,
    pub idempotency_key: Option<String>,
    pub payload: serde_json::Value,
}

#[derive(Clone, Debug, Default)]
pub struct JobFilter {
    pub queue: Option<String>,
    pub state: Option<JobState>,
    pub tenant_id: Option<TenantId>,
}

/// One page of jobs. `total` is exact up to `COUNT_CAP`; beyond it `total_capped` is set,
/// so a million finished jobs never cost a full count.
#[derive(Clone, Debug)]
pub struct JobPage {
    pub items: Vec<JobRecord>,
    pub total: u64,
    pub total_capped: bool,
}

pub const COUNT_CAP: u64 = 10_000;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueueStats {
    pub queue: String,
    pub pending: u64,
    pub scheduled: u64,
    pub running: u64,
    pub retrying: u64,
    pub dead: u64,
    pub succeeded_last_minute: u64,
    pub failed_last_minute: u64,
    pub oldest_pending_secs: Option<f64>,
}

#[derive(Clone, Debug)]
pub struct WorkerRecord {
    pub id: String,
    pub queue: String,
    pub last_seen: DateTime<Utc>,
}

/// Why a retry or cancel did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error("no such job")]
    NotFound,
    #[error("the job is {} and cannot be {action}", .state.as_str())]
    WrongState {
        state: JobState,
        action: &'static str,
    },
    #[error(transparent)]
    Database(#[from] DbErr),
}

fn timestamp(seconds: f64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros((seconds * 1_000_000.0).round() as i64).unwrap_or_default()
}

fn record(row: &QueryResult) -> Result<JobRecord, DbErr> {
    let status: String = row.try_get("", "status")?;
    let state: Option<String> = row.try_get("", "state")?;
    let state = state
        .and_then(|name| JobState::ALL.into_iter().find(|s| s.as_str() == name))
        .ok_or_else(|| DbErr::Custom(format!("job status {status} has no state")))?;
    let last_result: Option<String> = row.try_get("", "last_result")?;
    let last_result: Option<serde_json::Value> = last_result
        .as_deref()
        .and_then(|r| serde_json::from_str(r).ok());
    let last_error = last_result
        .and_then(|v| {
            v.get("Err")
                .map(|e| e.as_str().map(str::to_string).unwrap_or(e.to_string()))
        })
        // apalis marks permanent failures with its error type's name; admins need the message.
        .map(|e| {
            e.strip_prefix("AbortError: ")
                .map(str::to_string)
                .unwrap_or(e)
        });
    let payload: Vec<u8> = row.try_get("", "job")?;
    let tenant: Option<String> = row.try_get("", "tenant_id")?;
    Ok(JobRecord {
        id: row.try_get("", "id")?,
        queue: row.try_get("", "job_type")?,
        state,
        status,
        attempts: row.try_get("", "attempts")?,
        max_attempts: row.try_get("", "max_attempts")?,
        priority: row.try_get("", "priority")?,
        run_at: timestamp(row.try_get("", "run_at")?),
        locked_at: row.try_get::<Option<f64>>("", "lock_at")?.map(timestamp),
        locked_by: row.try_get("", "lock_by")?,
        done_at: row.try_get::<Option<f64>>("", "done_at")?.map(timestamp),
        last_error,
        tenant_id: tenant.and_then(|t| t.parse().ok()).map(TenantId),
        idempotency_key: row.try_get("", "idempotency_key")?,
        payload: serde_json::from_slice(&payload).unwrap_or_else(|_| {
            serde_json::Value::String(String::from_utf8_lossy(&payload).into())
        }),
    })
}

/// Jobs matching `filter`, newest first (ULID ids sort by creation time).
pub async fn list_jobs<C: ConnectionTrait>(
    db: &C,
    filter: &JobFilter,
    page: u64,
    limit: u64,
) -> Result<JobPage, DbErr> {
    let d = dialect(db.get_database_backend())?;
    let (condition, values) = filter_condition(&d, filter);
    let offset = page.saturating_sub(1).saturating_mul(limit);
    let sql = format!(
        "SELECT {} FROM {} WHERE {condition} ORDER BY id DESC LIMIT {limit} OFFSET {offset}",
        d.columns(),
        d.table
    );
    let rows = db.query_all_raw(d.statement(sql, values.clone())).await?;
    let items = rows.iter().map(record).collect::<Result<Vec<_>, _>>()?;
    let count_sql = format!(
        "SELECT COUNT(*) AS n FROM (SELECT 1 FROM {} WHERE {condition} LIMIT {}) capped",
        d.table,
        COUNT_CAP + 1
    );
    let total: i64 = db
        .query_one_raw(d.statement(count_sql, values))
        .await?
        .map(|row| row.try_get("", "n"))
        .transpose()?
        .unwrap_or(0);
    let total = total as u64;
    Ok(JobPage {
        items,
        total: total.min(COUNT_CAP),
        total_capped: total > COUNT_CAP,
    })
}

/// How many jobs match `filter`, exactly (a full count: for tests and benchmarks, not pages).
pub async fn count_jobs<C: ConnectionTrait>(db: &C, filter: &JobFilter) -> Result<u64, DbErr> {
    let d = dialect(db.get_database_backend())?;
    let (condition, values) = filter_condition(&d, filter);
    let sql = format!("SELECT COUNT(*) AS n FROM {} WHERE {condition}", d.table);
    let n: i64 = db
        .query_one_raw(d.statement(sql, values))
        .await?
        .map(|row| row.try_get("", "n"))
        .transpose()?
        .unwrap_or(0);
    Ok(n as u64)
}

fn filter_condition(d: &Dialect, filter: &JobFilter) -> (String, Vec<Value>) {
    let mut conditions = vec!["1 = 1".to_string()];
    let mut values: Vec<Value> = Vec::new();
    if let Some(queue) = &filter.queue {
        values.push(queue.clone().into());
        conditions.push(format!(
            "job_type = {}",
            placeholder(d.backend, values.len())
        ));
    }
    if let Some(state) = filter.state {
        conditions.push(d.state_condition(state));
    }
    if let Some(tenant) = filter.tenant_id {
        values.push(tenant.to_string().into());
        conditions.push(format!(
            "{} = {}",
            d.tenant,
            placeholder(d.backend, values.len())
        ));
    }
    (conditions.join(" AND "), values)
}

/// One job, optionally only if it belongs to `tenant`.
pub async fn get_job<C: ConnectionTrait>(
    db: &C,
    id: &str,
    tenant: Option<TenantId>,
) -> Result<Option<JobRecord>, DbErr> {
    let d = dialect(db.get_database_backend())?;
    let mut values: Vec<Value> = vec![id.into()];
    let mut sql = format!(
        "SELECT {} FROM {} WHERE id = {}",
        d.columns(),
        d.table,
        placeholder(d.backend, 1)
    );
    if let Some(tenant) = tenant {
        values.push(tenant.to_string().into());
        sql.push_str(&format!(
            " AND {} = {}",
            d.tenant,
            placeholder(d.backend, 2)
        ));
    }
    db.query_one_raw(d.statement(sql, values))
        .await?
        .as_ref()
        .map(record)
        .transpose()
}

/// Runs a dead or retrying job again now, with as many attempts again as it had at first.
pub async fn retry_job<C: ConnectionTrait>(
    db: &C,
    id: &str,
    tenant: Option<TenantId>,
) -> Result<JobChange, ChangeError> {
    change(
        db,
        id,
        tenant,
        "retried",
        &[JobState::Dead, JobState::Retrying],
        |d| {
            format!(
                "status = 'Pending', max_attempts = attempts + max_attempts, run_at = {}, \
             lock_by = NULL, lock_at = NULL, done_at = NULL",
                d.now
            )
        },
    )
    .await
}

/// Cancels a job that has not started: pending, scheduled or waiting to retry.
pub async fn cancel_job<C: ConnectionTrait>(
    db: &C,
    id: &str,
    tenant: Option<TenantId>,
) -> Result<JobChange, ChangeError> {
    change(
        db,
        id,
        tenant,
        "cancelled",
        &[JobState::Pending, JobState::Scheduled, JobState::Retrying],
        |d| {
            format!(
                "status = 'Killed', last_result = '{CANCELLED_RESULT}', done_at = {}",
                d.now
            )
        },
    )
    .await
}

/// A retried or cancelled job: its state before, and the job as it is now.
#[derive(Clone, Debug)]
pub struct JobChange {
    pub before: JobState,
    pub job: JobRecord,
}

async fn change<C: ConnectionTrait>(
    db: &C,
    id: &str,
    tenant: Option<TenantId>,
    action: &'static str,
    allowed: &[JobState],
    set: impl Fn(&Dialect) -> String,
) -> Result<JobChange, ChangeError> {
    let d = dialect(db.get_database_backend())?;
    let job = get_job(db, id, tenant)
        .await?
        .ok_or(ChangeError::NotFound)?;
    if !allowed.contains(&job.state) {
        return Err(ChangeError::WrongState {
            state: job.state,
            action,
        });
    }
    // The state is checked again in the UPDATE, so a worker that grabbed the job meanwhile wins.
    let states: Vec<String> = allowed.iter().map(|s| d.state_condition(*s)).collect();
    let sql = format!(
        "UPDATE {} SET {} WHERE id = {} AND (({}))",
        d.table,
        set(&d),
        placeholder(d.backend, 1),
        states.join(") OR (")
    );
    let result = db.execute_raw(d.statement(sql, vec![id.into()])).await?;
    let before = job.state;
    let job = get_job(db, id, tenant)
        .await?
        .ok_or(ChangeError::NotFound)?;
    if result.rows_affected() == 0 {
        return Err(ChangeError::WrongState {
            state: job.state,
            action,
        });
    }
    Ok(JobChange { before, job })
}

/// Per-queue counts of unfinished jobs, dead jobs, and the last minute's throughput.
/// Every count here is served by an index on a small slice of the table.
pub async fn queue_stats<C: ConnectionTrait>(
    db: &C,
    tenant: Option<TenantId>,
) -> Result<Vec<QueueStats>, DbErr> {
    let d = dialect(db.get_database_backend())?;
    let (tenant_condition, values): (String, Vec<Value>) = match tenant {
        Some(t) => (
            format!(" AND {} = {}", d.tenant, placeholder(d.backend, 1)),
            vec![t.to_string().into()],
        ),
        None => (String::new(), vec![]),
    };
    let counted = [
        JobState::Pending,
        JobState::Scheduled,
        JobState::Running,
        JobState::Retrying,
        JobState::Dead,
    ];
    let mut parts: Vec<String> = counted
        .iter()
        .map(|state| {
            format!(
                "SELECT job_type, '{}' AS metric, COUNT(*) AS n, CAST(NULL AS REAL) AS oldest FROM {} WHERE {}{tenant_condition} GROUP BY job_type",
                state.as_str(),
                d.table,
                d.state_condition(*state)
            )
        })
        .collect();
    let minute_ago = d.seconds_ago(60);
    for (metric, condition) in [
        ("succeeded_last_minute", "status = 'Done'".to_string()),
        (
            "failed_last_minute",
            "status IN ('Failed', 'Killed')".to_string(),
        ),
    ] {
        parts.push(format!(
            "SELECT job_type, '{metric}' AS metric, COUNT(*) AS n, CAST(NULL AS REAL) AS oldest FROM {} \
             WHERE done_at > {minute_ago} AND {condition}{tenant_condition} GROUP BY job_type",
            d.table
        ));
    }
    parts.push(format!(
        "SELECT job_type, 'oldest' AS metric, 0 AS n, {} AS oldest FROM {} WHERE {}{tenant_condition} GROUP BY job_type",
        (d.age_secs)("MIN(run_at)"),
        d.table,
        d.state_condition(JobState::Pending)
    ));
    let sql = parts.join(" UNION ALL ");
    let rows = db.query_all_raw(d.statement(sql, values)).await?;
    let mut stats: std::collections::BTreeMap<String, QueueStats> = Default::default();
    for row in rows {
        let queue: String = row.try_get("", "job_type")?;
        let metric: String = row.try_get("", "metric")?;
        let n: i64 = row.try_get("", "n")?;
        let entry = stats.entry(queue.clone()).or_insert_with(|| QueueStats {
            queue,
            ..Default::default()
        });
        let n = n as u64;
        match metric.as_str() {
            "pending" => entry.pending = n,
            "scheduled" => entry.scheduled = n,
            "running" => entry.running = n,
            "retrying" => entry.retrying = n,
            "dead" => entry.dead = n,
            "succeeded_last_minute" => entry.succeeded_last_minute = n,
            "failed_last_minute" => entry.failed_last_minute = n,
            _ => entry.oldest_pending_secs = row.try_get::<Option<f64>>("", "oldest")?,
        }
    }
    Ok(stats.into_values().collect())
}

/// Workers whose heartbeat is newer than `within_secs`.
pub async fn live_workers<C: ConnectionTrait>(
    db: &C,
    within_secs: u64,
) -> Result<Vec<WorkerRecord>, DbErr> {
    let d = dialect(db.get_database_backend())?;
    let since = d.seconds_ago(within_secs);
    let sql = format!(
        "SELECT id, worker_type, {} AS last_seen FROM {} WHERE last_seen > {since} ORDER BY worker_type, id",
        (d.epoch)("last_seen"),
        d.workers
    );
    db.query_all_raw(d.statement(sql, vec![]))
        .await?
        .iter()
        .map(|row| {
            Ok(WorkerRecord {
                id: row.try_get("", "id")?,
                queue: row.try_get("", "worker_type")?,
                last_seen: timestamp(row.try_get("", "last_seen")?),
            })
        })
        .collect()
}
