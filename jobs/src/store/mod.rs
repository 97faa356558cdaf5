//! Everything that knows apalis's storage: its tables (`apalis.jobs` on Postgres, `Jobs` on
//! SQLite), its status strings, the cancelled marker and Cartwheel's indexes. No other module,
//! crate or test writes SQL against them; they use this API: enqueue, the admin views (state,
//! retry, cancel, counts, workers), retry backoff, pruning, and the backlog helpers of
//! benchmarks and test drains.

mod backlog;
mod dialect;
pub mod enqueue;
pub mod monitor;
mod prune;
mod retry;
mod schema;

#[cfg(feature = "testing")]
pub use backlog::{Ending, end_jobs, run_retries_now};
pub use backlog::{clear_queue, refresh_statistics};
pub use prune::{PRUNE_BATCH, PruneReport, prune};
pub use retry::schedule_retry;
pub use schema::{StorageError, check, setup};
