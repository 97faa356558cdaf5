//! Outgoing email: a row saying what to send, and a `SendEmail` job in the same transaction.
//! The worker renders and sends it; the row records when it went, so it never goes twice.

use cartwheel_entity::emails;
use cartwheel_jobs::families::email::SendEmail;
use cartwheel_jobs::{EnqueueError, NewJob};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use uuid::Uuid;

pub use cartwheel_entity::emails::Template;

pub struct NewEmail {
    pub tenant_id: Option<Uuid>,
    pub to: String,
    pub template: Template,
    /// The template's variables; the worker adds the tenant's name and links.
    pub context: serde_json::Value,
}

/// The context keys that hold a secret (a reset or invitation token): the mail needs them, and
/// once it is sent the row keeps none of them ([`without_secrets`]).
pub const SECRET_KEYS: &[&str] = &["token"];

/// `context` with its secrets removed, as an email row keeps it after the send.
pub fn without_secrets(context: &serde_json::Value) -> serde_json::Value {
    let mut context = context.clone();
    if let Some(map) = context.as_object_mut() {
        for key in SECRET_KEYS {
            map.remove(*key);
        }
    }
    context
}

/// Stores the email and enqueues its `SendEmail` job on `db` (the caller's transaction).
#[tracing::instrument(skip_all)]
pub async fn queue<C: ConnectionTrait>(db: &C, email: NewEmail) -> Result<Uuid, EnqueueError> {
    let id = Uuid::now_v7();
    emails::ActiveModel {
        id: Set(id),
        tenant_id: Set(email.tenant_id),
        to_address: Set(email.to),
        template: Set(email.template),
        context: Set(email.context),
        message_id: Set(format!("<{}@cartwheel>", id.simple())),
        subject: Set(None),
        sent_at: Set(None),
        created_at: Set(chrono::Utc::now()),
    }
    .insert(db)
    .await?;
    let job = NewJob::new(SendEmail { email_id: id });
    let job = match email.tenant_id {
        Some(tenant) => job.tenant(tenant),
        None => job,
    };
    cartwheel_jobs::enqueue(db, job).await?;
    Ok(id)
}
