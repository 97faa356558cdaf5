//! How many jobs one fetch claims.
//!
//! apalis fetches a new batch only when the last one has started and writes acknowledgements
//! between fetches, so jobs per fetch set the pace of a backlog of short jobs: 8 at a time drain
//! about 600 no-op jobs a second, 2,000 at a time about 17,000. But claimed jobs wait in the
//! worker that claimed them, so for slow jobs a big batch lets one worker hoard a burst while
//! another idles. The adaptive pace claims about `AHEAD` of work at the speed jobs of the
//! queue have been running in this process: never fewer than the concurrency, never more than
//! `MAX_BATCH`. No-op jobs claim 2,000; 200 ms jobs claim the concurrency.

use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use apalis_core::backend::{Backend, BackendConfig, WireFormatBackend};
use apalis_core::worker::context::WorkerContext;
use apalis_postgres::PostgresStorage;
use apalis_sqlite::SqliteStorage;

/// The most jobs one fetch claims.
pub const MAX_BATCH: usize = 2_000;
/// How much work, at the recent pace, one fetch claims ahead.
pub const AHEAD: Duration = Duration::from_millis(50);

/// A queue's batch rule and the running average of its jobs' durations.
#[derive(Debug)]
pub struct Pace {
    concurrency: usize,
    /// A batch size set in the settings; `None` adapts.
    fixed: Option<usize>,
    /// Moving average of job durations, in nanoseconds; 0 until a job has run.
    average_nanos: AtomicU64,
}

impl Pace {
    pub fn new(concurrency: usize, fixed: Option<usize>) -> Self {
        Self {
            concurrency: concurrency.max(1),
            fixed: fixed.map(|n| n.max(1)),
            average_nanos: AtomicU64::new(0),
        }
    }

    /// Adds one job's duration to the average (weight 1/8). Concurrent updates may lose a
    /// sample; the average stays an average.
    pub fn record(&self, took: Duration) {
        let sample = took.as_nanos().min(u64::MAX as u128) as u64;
        let old = self.average_nanos.load(Ordering::Relaxed);
        let new = if old == 0 {
            sample.max(1)
        } else {
            (old - old / 8 + sample / 8).max(1)
        };
        self.average_nanos.store(new, Ordering::Relaxed);
    }

    /// Jobs the next fetch claims.
    pub fn batch(&self) -> usize {
        if let Some(n) = self.fixed {
            return n;
        }
        let average = self.average_nanos.load(Ordering::Relaxed);
        if average == 0 {
            return self.concurrency;
        }
        let ahead = (AHEAD.as_nanos() as u64 / average).saturating_mul(self.concurrency as u64);
        usize::try_from(ahead)
            .unwrap_or(usize::MAX)
            .clamp(self.concurrency, self.largest())
    }

    /// The largest batch this pace can ask for: acknowledgements of a whole batch must fit
    /// apalis's event channel, which is sized from the batch when the worker starts.
    fn largest(&self) -> usize {
        self.fixed.unwrap_or(MAX_BATCH.max(self.concurrency))
    }
}

/// A storage whose batch size can change between fetches. apalis reads the batch size from
/// the storage's config on each fetch; `with_config` keeps the storage's fetch state.
pub trait Rebatch: Clone {
    fn batch_size(&self) -> usize;
    fn with_batch_size(self, n: usize) -> Self;
}

impl<J> Rebatch for PostgresStorage<J> {
    fn batch_size(&self) -> usize {
        self.config().batch_size
    }

    fn with_batch_size(self, n: usize) -> Self {
        let config = self.config().clone().batch_size(n);
        self.with_config(config)
    }
}

impl<J> Rebatch for SqliteStorage<J> {
    fn batch_size(&self) -> usize {
        BackendConfig::config(self).batch_size
    }

    fn with_batch_size(self, n: usize) -> Self {
        let config = BackendConfig::config(&self).clone().batch_size(n);
        self.with_config(config)
    }
}

/// A storage that claims `pace.batch()` jobs per fetch.
#[derive(Clone)]
pub struct Paced<S> {
    storage: S,
    pace: std::sync::Arc<Pace>,
}

impl<S: Rebatch> Paced<S> {
    pub fn new(storage: S, pace: std::sync::Arc<Pace>) -> Self {
        Self { storage, pace }
    }

    fn set_batch(&mut self, n: usize) {
        if self.storage.batch_size() != n {
            // `with_batch_size` takes the storage by value; a clone holds its place meanwhile.
            let placeholder = self.storage.clone();
            let storage = std::mem::replace(&mut self.storage, placeholder);
            self.storage = storage.with_batch_size(n);
        }
    }
}

impl<S: Backend + Rebatch> Backend for Paced<S> {
    type Task = S::Task;
    type Error = S::Error;

    fn poll_ready(
        &mut self,
        cx: &mut Context<'_>,
        worker: &WorkerContext,
    ) -> Poll<Result<(), S::Error>> {
        self.storage.poll_ready(cx, worker)
    }

    fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
        worker: &WorkerContext,
    ) -> Poll<Option<Result<S::Task, S::Error>>> {
        let batch = self.pace.batch();
        self.set_batch(batch);
        self.storage.poll_next(cx, worker)
    }

    fn poll_close(
        &mut self,
        cx: &mut Context<'_>,
        worker: &WorkerContext,
    ) -> Poll<Result<(), S::Error>> {
        self.storage.poll_close(cx, worker)
    }
}

impl<S: BackendConfig + Rebatch> BackendConfig for Paced<S> {
    type Args = S::Args;
    type Id = S::Id;
    type Kind = S::Kind;
    type Config = S::Config;
    type Layer = S::Layer;

    fn config(&self) -> &S::Config {
        self.storage.config()
    }

    /// apalis sizes the acknowledgement channel from the batch size here, once: size it for the
    /// largest batch, then start from the current one.
    fn middleware(&mut self, worker: &mut WorkerContext) -> S::Layer {
        let current = self.pace.batch();
        self.set_batch(self.pace.largest());
        let layer = self.storage.middleware(worker);
        self.set_batch(current);
        layer
    }
}

impl<S: WireFormatBackend> WireFormatBackend for Paced<S> {
    type Codec = S::Codec;
    type Compact = S::Compact;

    fn codec(&self) -> &S::Codec {
        self.storage.codec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_at_the_concurrency() {
        assert_eq!(Pace::new(8, None).batch(), 8);
    }

    #[test]
    fn instant_jobs_claim_the_most() {
        let pace = Pace::new(8, None);
        pace.record(Duration::from_micros(20));
        assert_eq!(pace.batch(), MAX_BATCH);
    }

    #[test]
    fn slow_jobs_claim_the_concurrency() {
        let pace = Pace::new(8, None);
        pace.record(Duration::from_millis(200));
        assert_eq!(pace.batch(), 8);
    }

    #[test]
    fn medium_jobs_claim_about_fifty_milliseconds_of_work() {
        let pace = Pace::new(8, None);
        pace.record(Duration::from_millis(2));
        // 25 jobs of 2 ms fit 50 ms in each of the 8 slots.
        assert_eq!(pace.batch(), 200);
    }

    #[test]
    fn the_average_follows_recent_jobs() {
        let pace = Pace::new(8, None);
        pace.record(Duration::from_millis(200));
        for _ in 0..100 {
            pace.record(Duration::from_micros(10));
        }
        assert_eq!(pace.batch(), MAX_BATCH);
    }

    #[test]
    fn a_set_batch_size_stays() {
        let pace = Pace::new(8, Some(100));
        pace.record(Duration::from_micros(10));
        assert_eq!(pace.batch(), 100);
        assert_eq!(pace.largest(), 100);
    }

    #[test]
    fn a_concurrency_above_the_maximum_is_the_floor() {
        let pace = Pace::new(4_000, None);
        pace.record(Duration::from_micros(10));
        assert_eq!(pace.batch(), 4_000);
        assert_eq!(pace.largest(), 4_000);
    }
}
