//! Database backups to object storage.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{Job, RetryPolicy};

/// Backs the whole database up to the configured storage, verifies the backup by restoring it,
/// and applies retention. The cron entry `backup` enqueues it (daily); `cartwheel backup run`
/// runs the same by hand. A run that finds another in flight ends without a second backup.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunBackup {}

impl Job for RunBackup {
    const QUEUE: &'static str = "backup.run";
    /// Three attempts, 5 and then 10 minutes apart; after the last the operator is mailed.
    const RETRY: RetryPolicy =
        RetryPolicy::new(3, Duration::from_secs(300), Duration::from_secs(3600));
}
