//! Job platform tests: enqueue, retries, workers, the scheduler, pruning and monitoring, against
//! real Postgres (and SQLite where it applies), with the real `cartwheel` binary where processes matter.

mod enqueue;
mod monitoring;
mod prune;
mod retries;
mod scheduler;
mod workers;
