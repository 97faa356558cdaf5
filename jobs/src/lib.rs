//! The job queue's vocabulary: job families with their payloads, queues and retry policies;
//! transactional enqueue; the apalis storage on Postgres and SQLite; and the queries admins use.

pub mod families;
pub mod policy;
pub mod store;

pub use policy::RetryPolicy;
use serde::Serialize;
use serde::de::DeserializeOwned;
pub use store::enqueue::{EnqueueError, Enqueued, NewJob, enqueue, enqueue_batch};

/// Mail jobs run this many times `worker_concurrency` at once (32 at the default 8).
pub const MAIL_CONCURRENCY_SCALE: usize = 4;

/// A kind of job: its payload type names the queue it runs on and how failures are retried.
pub trait Job: Serialize + DeserializeOwned + Send + Sync + Unpin + 'static {
    /// The queue (apalis `job_type`) this job is stored and fetched under.
    const QUEUE: &'static str;
    /// How often and how far apart failures are retried.
    const RETRY: RetryPolicy;
    /// How many times the worker's `worker_concurrency` jobs of this queue run at once, when
    /// the settings name no number for the queue. Jobs that mostly wait on another server (a
    /// mail's SMTP conversation) run more.
    const CONCURRENCY_SCALE: usize = 1;

    /// The tenant the job works for, when its payload names one: the job's log span shows it,
    /// and [`NewJob::new`] files the job under it.
    fn tenant(&self) -> Option<cartwheel_entity::TenantId> {
        None
    }
}
