//! Transactional emails, rendered and sent by the worker, never twice after success.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{Job, RetryPolicy};

/// Renders and sends the stored email `email_id` (a row in `emails`). The payload holds only the
/// id, so one-time tokens in the email's variables never show in job listings.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SendEmail {
    pub email_id: uuid::Uuid,
}

impl Job for SendEmail {
    const QUEUE: &'static str = "email.send";
    const RETRY: RetryPolicy =
        RetryPolicy::new(8, Duration::from_secs(10), Duration::from_secs(3600));
}
