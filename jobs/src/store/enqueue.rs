//! Transactional enqueue: jobs are rows written on the caller's connection or transaction,
//! so a rollback leaves no job. An idempotency key makes a repeated enqueue a no-op.

use cartwheel_entity::TenantId;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement, Value};

use super::dialect::{dialect, placeholder};
use crate::Job;

/// A job about to be enqueued, with the options that travel with it.
#[derive(Clone, Debug)]
pub struct NewJob<J> {
    pub job: J,
    pub tenant_id: Option<TenantId>,
    pub idempotency_key: Option<String>,
    pub run_at: Option<DateTime<Utc>>,
    pub priority: i32,
}

impl<J: Job> NewJob<J> {
    /// A job for the tenant its payload names ([`Job::tenant`]), if any.
    pub fn new(job: J) -> Self {
        Self {
            tenant_id: job.tenant(),
            job,
            idempotency_key: None,
            run_at: None,
            priority: 0,
        }
    }

    /// The tenant the job works for, when its payload does not name it; admins filter by it.
    pub fn tenant(mut self, tenant_id: TenantId) -> Self {
        self.tenant_id = Some(tenant_id);
        self
    }

    /// A second enqueue with the same key on the same queue reports the first job instead.
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    /// Not before this time (default: now).
    pub fn run_at(mut self, at: DateTime<Utc>) -> Self {
        self.run_at = Some(at);
        self
    }
}

/// The job that now exists for a request: new, or found by its idempotency key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enqueued {
    pub id: String,
    pub created: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum EnqueueError {
    #[error("cannot encode the job payload: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("cannot write the job: {0}")]
    Database(#[from] DbErr),
    #[error("job storage needs Postgres or SQLite")]
    UnsupportedBackend,
}

/// Enqueues one job on `db` (use the caller's transaction).
pub async fn enqueue<C: ConnectionTrait, J: Job>(
    db: &C,
    job: NewJob<J>,
) -> Result<Enqueued, EnqueueError> {
    let mut done = enqueue_batch(db, vec![job]).await?;
    Ok(done.remove(0))
}

/// Enqueues many jobs of one type in as few statements as the database allows.
pub async fn enqueue_batch<C: ConnectionTrait, J: Job>(
    db: &C,
    jobs: Vec<NewJob<J>>,
) -> Result<Vec<Enqueued>, EnqueueError> {
    let rows = jobs
        .into_iter()
        .map(|job| {
            Ok(RawJob {
                payload: serde_json::to_vec(&job.job)?,
                tenant_id: job.tenant_id,
                idempotency_key: job.idempotency_key,
                run_at: job.run_at,
                priority: job.priority,
            })
        })
        .collect::<Result<Vec<_>, EnqueueError>>()?;
    enqueue_raw(db, J::QUEUE, J::RETRY.max_attempts, rows).await
}

/// A job whose payload is already encoded; the scheduler enqueues these from its cron table.
#[derive(Clone, Debug)]
pub struct RawJob {
    pub payload: Vec<u8>,
    pub tenant_id: Option<TenantId>,
    pub idempotency_key: Option<String>,
    pub run_at: Option<DateTime<Utc>>,
    pub priority: i32,
}

const COLUMNS: &str = "id, job_type, job, status, attempts, max_attempts, run_at, priority, metadata, idempotency_key";

/// Rows per INSERT: 8 parameters a row stays well under both databases' parameter limits.
const CHUNK: usize = 500;

pub async fn enqueue_raw<C: ConnectionTrait>(
    db: &C,
    queue: &str,
    max_attempts: u32,
    jobs: Vec<RawJob>,
) -> Result<Vec<Enqueued>, EnqueueError> {
    let backend = db.get_database_backend();
    let (table, row) = match backend {
        DatabaseBackend::Postgres => (
            "apalis.jobs",
            "($, $, $, 'Pending', 0, $, COALESCE($::timestamptz, now()), $, \
             CASE WHEN $::text IS NULL THEN NULL ELSE hstore('tenant_id', $::text) END, $)",
        ),
        DatabaseBackend::Sqlite => (
            "Jobs",
            "($, $, $, 'Pending', 0, $, COALESCE($, CAST(strftime('%s','now') AS INTEGER)), $, $, $)",
        ),
        _ => return Err(EnqueueError::UnsupportedBackend),
    };
    let ids: Vec<String> = jobs
        .iter()
        .map(|_| ulid::Ulid::generate().to_string())
        .collect();
    let mut inserted = std::collections::HashSet::new();
    for (chunk_index, chunk) in jobs.chunks(CHUNK).enumerate() {
        let mut sql = format!("INSERT INTO {table} ({COLUMNS}) VALUES ");
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 10);
        for (i, job) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            let id = &ids[chunk_index * CHUNK + i];
            let tenant = job.tenant_id.map(|t| t.to_string());
            values.push(id.clone().into());
            values.push(queue.into());
            values.push(job.payload.clone().into());
            values.push((max_attempts as i32).into());
            match backend {
                DatabaseBackend::Postgres => {
                    values.push(job.run_at.into());
                    values.push(job.priority.into());
                    values.push(tenant.clone().into());
                    values.push(tenant.into());
                }
                _ => {
                    values.push(job.run_at.map(|t| t.timestamp()).into());
                    values.push(job.priority.into());
                    let metadata = match tenant {
                        Some(t) => serde_json::json!({ "tenant_id": t }),
                        None => serde_json::json!({}),
                    };
                    values.push(metadata.to_string().into());
                }
            }
            values.push(job.idempotency_key.clone().into());
            sql.push_str(&numbered(row, backend, values.len() - count_params(row)));
        }
        sql.push_str(" ON CONFLICT (job_type, idempotency_key) DO NOTHING RETURNING id");
        let returned = db
            .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
        for row in returned {
            inserted.insert(row.try_get::<String>("", "id")?);
        }
    }
    let mut result: Vec<Enqueued> = ids
        .iter()
        .map(|id| Enqueued {
            id: id.clone(),
            created: inserted.contains(id),
        })
        .collect();
    // Jobs that hit an existing idempotency key report the job that holds it.
    for (job, enqueued) in jobs.iter().zip(result.iter_mut()) {
        if enqueued.created {
            continue;
        }
        let key = job.idempotency_key.clone().unwrap_or_default();
        let sql = format!(
            "SELECT id FROM {table} WHERE job_type = {} AND idempotency_key = {}",
            placeholder(backend, 1),
            placeholder(backend, 2)
        );
        let existing = db
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [queue.into(), key.clone().into()],
            ))
            .await?
            .ok_or_else(|| DbErr::RecordNotFound(format!("job with idempotency key `{key}`")))?;
        enqueued.id = existing.try_get::<String>("", "id")?;
    }
    Ok(result)
}

fn count_params(template: &str) -> usize {
    template.matches('$').count()
}

/// Replaces each `$` in a row template with the next numbered placeholder, starting after `offset`.
fn numbered(template: &str, backend: DatabaseBackend, offset: usize) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut n = offset;
    for c in template.chars() {
        if c == '$' {
            n += 1;
            out.push_str(&placeholder(backend, n));
        } else {
            out.push(c);
        }
    }
    out
}

/// The newest job's idempotency key on `queue` that starts with `prefix` (newest by id, which
/// sorts by creation time); the scheduler finds its last enqueued tick this way.
pub async fn newest_idempotency_key<C: ConnectionTrait>(
    db: &C,
    queue: &str,
    prefix: &str,
) -> Result<Option<String>, DbErr> {
    let d = dialect(db.get_database_backend())?;
    let sql = format!(
        "SELECT idempotency_key FROM {} WHERE job_type = {} AND idempotency_key LIKE {} \
         ORDER BY id DESC LIMIT 1",
        d.table,
        placeholder(d.backend, 1),
        placeholder(d.backend, 2)
    );
    db.query_one_raw(d.statement(sql, vec![queue.into(), format!("{prefix}%").into()]))
        .await?
        .map(|row| row.try_get::<String>("", "idempotency_key"))
        .transpose()
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::NewJob;
    use crate::families::email::SendEmail;
    use crate::families::stock::CheckStock;

    #[test]
    fn a_job_is_filed_under_the_tenant_its_payload_names() {
        let tenant_id = cartwheel_entity::TenantId(Uuid::now_v7());
        let item_id = Uuid::now_v7();
        let check = NewJob::new(CheckStock { tenant_id, item_id });
        assert_eq!(check.tenant_id, Some(tenant_id));

        let email_id = Uuid::now_v7();
        assert_eq!(NewJob::new(SendEmail { email_id }).tenant_id, None);
        let filed = NewJob::new(SendEmail { email_id }).tenant(tenant_id);
        assert_eq!(filed.tenant_id, Some(tenant_id));
    }
}
