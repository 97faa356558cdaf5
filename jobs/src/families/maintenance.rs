//! Housekeeping of the queue itself.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{Job, RetryPolicy};

/// Deletes finished jobs past their retention, in small batches.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PruneJobs {
    /// Succeeded and cancelled jobs older than this many seconds go (default 7 days).
    #[serde(default)]
    pub finished_older_than_secs: Option<u64>,
    /// Dead jobs older than this many seconds go (default 30 days).
    #[serde(default)]
    pub dead_older_than_secs: Option<u64>,
}

pub const DEFAULT_FINISHED_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);
pub const DEFAULT_DEAD_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);

impl Job for PruneJobs {
    const QUEUE: &'static str = "maintenance.prune";
    const RETRY: RetryPolicy =
        RetryPolicy::new(5, Duration::from_secs(30), Duration::from_secs(30 * 60));
}
