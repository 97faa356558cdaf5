//! Outgoing email: a row saying what to send, and a `SendEmail` job in the same transaction
//! (or, for an order's mails, the order's mail job, which sends its row itself). The worker
//! claims the row ([`claim`]), sends it and records the send ([`mark_sent`]) right
//! after the server's reply, so a finished send never goes again and two sends of one row never
//! run at once. What that guarantees, and the one window it cannot close, is in
//! docs/ARCHITECTURE.md ("Mail").

use std::time::Duration;

use cartwheel_entity::{TenantId, emails};
use cartwheel_jobs::families::email::SendEmail;
use cartwheel_jobs::{EnqueueError, NewJob};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use uuid::Uuid;

pub use cartwheel_entity::emails::Template;

pub struct NewEmail {
    pub tenant_id: Option<TenantId>,
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
    insert(db, Uuid::now_v7(), email).await
}

/// As [`queue`], but at most once per `key` however often it is called: the row's id is
/// [`id_for`] the key, so a second call finds it and queues nothing. For mails a retried job
/// may ask for again (an alert after a job's last attempt).
pub async fn queue_once<C: ConnectionTrait>(
    db: &C,
    key: &str,
    email: NewEmail,
) -> Result<Uuid, EnqueueError> {
    let id = id_for(key);
    if emails::Entity::find_by_id(id).one(db).await?.is_some() {
        return Ok(id);
    }
    insert(db, id, email).await
}

/// The email row id a mail asked for under `key` gets: the same key, the same row.
pub fn id_for(key: &str) -> Uuid {
    use sha2::Digest;
    let hash = sha2::Sha256::digest(format!("cartwheel-email:{key}").as_bytes());
    uuid::Builder::from_random_bytes(hash[..16].try_into().expect("16 bytes")).into_uuid()
}

async fn insert<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    email: NewEmail,
) -> Result<Uuid, EnqueueError> {
    let tenant_id = email.tenant_id;
    store(db, id, email).await?;
    let job = NewJob::new(SendEmail { email_id: id });
    let job = match tenant_id {
        Some(tenant) => job.tenant(tenant),
        None => job,
    };
    cartwheel_jobs::enqueue(db, job).await?;
    Ok(id)
}

/// Stores email row `id` without a `SendEmail` job: for a job that sends the row itself right
/// after its transaction commits (an order's mails), with the same claim and record of the send.
pub async fn store<C: ConnectionTrait>(db: &C, id: Uuid, email: NewEmail) -> Result<(), DbErr> {
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
        claimed_by: Set(None),
        claimed_until: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// What [`claim`] found.
#[derive(Debug)]
pub enum Claim {
    /// The row is this worker's to send until the claim ends.
    Claimed(emails::Model),
    /// It went already; nothing to do.
    Sent,
    /// Another send holds it (`by`, until `until`); try again after that.
    Held { by: String, until: DateTime<Utc> },
    /// No such email.
    Missing,
}

/// Claims email `id` for `worker` for `hold` (longer than a send may take), unless it was sent
/// or another claim still holds. One statement, so two workers never both win; it answers the
/// claimed row.
#[tracing::instrument(skip(db))]
pub async fn claim<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    worker: &str,
    hold: Duration,
) -> Result<Claim, DbErr> {
    let now = Utc::now();
    // A hold too long to add (a huge configured timeout) is a claim that never runs out.
    let until = chrono::Duration::from_std(hold)
        .ok()
        .and_then(|hold| now.checked_add_signed(hold))
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    let claimed = emails::Entity::update_many()
        .col_expr(emails::Column::ClaimedBy, Expr::value(worker))
        .col_expr(emails::Column::ClaimedUntil, Expr::value(until))
        .filter(emails::Column::Id.eq(id))
        .filter(emails::Column::SentAt.is_null())
        .filter(
            Condition::any()
                .add(emails::Column::ClaimedUntil.is_null())
                .add(emails::Column::ClaimedUntil.lte(now)),
        )
        .exec_with_returning(db)
        .await?
        .pop();
    if let Some(email) = claimed {
        return Ok(Claim::Claimed(email));
    }
    // Not claimed: the row says why (sent, held by another send, or gone).
    let Some(email) = emails::Entity::find_by_id(id).one(db).await? else {
        return Ok(Claim::Missing);
    };
    Ok(match (email.sent_at, &email.claimed_until) {
        (Some(_), _) => Claim::Sent,
        (None, until) => Claim::Held {
            by: email.claimed_by.clone().unwrap_or_default(),
            until: until.unwrap_or(now),
        },
    })
}

/// Records that `worker`'s send of email `id` went: the time, the subject, and the context
/// without its secrets. The claim ends with it.
#[tracing::instrument(skip(db, context))]
pub async fn mark_sent<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    subject: &str,
    context: &serde_json::Value,
) -> Result<(), DbErr> {
    emails::Entity::update_many()
        .col_expr(emails::Column::SentAt, Expr::value(Utc::now()))
        .col_expr(
            emails::Column::Context,
            Expr::value(without_secrets(context)),
        )
        .col_expr(emails::Column::Subject, Expr::value(subject))
        .col_expr(
            emails::Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(emails::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Ends `worker`'s claim on email `id` after a failed send, so the retry need not wait it out.
#[tracing::instrument(skip(db))]
pub async fn release<C: ConnectionTrait>(db: &C, id: Uuid, worker: &str) -> Result<(), DbErr> {
    emails::Entity::update_many()
        .col_expr(
            emails::Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(emails::Column::Id.eq(id))
        .filter(emails::Column::ClaimedBy.eq(worker))
        .filter(emails::Column::SentAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}
