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
    const CONCURRENCY_SCALE: usize = crate::MAIL_CONCURRENCY_SCALE;
}

/// Whose password a reset is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Account {
    Admin,
    Customer,
}

/// A password reset asked for at a shop by `email`. The request is answered once this job is
/// queued, before anyone looks the address up; the job mails a link if an account has the
/// address and does nothing otherwise, so known and unknown addresses answer alike and in the
/// same time.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RequestPasswordReset {
    pub tenant_id: cartwheel_entity::TenantId,
    pub email: String,
    pub account: Account,
}

impl Job for RequestPasswordReset {
    const QUEUE: &'static str = "email.password_reset";
    const RETRY: RetryPolicy =
        RetryPolicy::new(8, Duration::from_secs(10), Duration::from_secs(3600));

    fn tenant(&self) -> Option<cartwheel_entity::TenantId> {
        Some(self.tenant_id)
    }
}
