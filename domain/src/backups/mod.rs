//! The backup run log (`backup_runs`): at most one run in flight, what each run wrote and how it
//! ended. The dump, the storage and the verification are in the `backup` crate; this is the part
//! the API (metrics) and the worker share.

use std::time::Duration;

use cartwheel_entity::backup_runs::{self, Status};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use uuid::Uuid;

pub use cartwheel_entity::backup_runs::Model as Run;

/// How often a running backup renews its heartbeat.
pub const HEARTBEAT: Duration = Duration::from_secs(15);
/// A running backup whose heartbeat is older than this died with its worker.
pub const STALE_AFTER: Duration = Duration::from_secs(90);

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("another backup is in flight ({key}, started {started_at})")]
    InFlight {
        key: String,
        started_at: DateTime<Utc>,
    },
    #[error(transparent)]
    Database(#[from] DbErr),
}

/// Starts a run writing `key`, unless another one is in flight. A run whose heartbeat went
/// stale is marked failed first (its worker died), and so is one of the same job (an earlier
/// attempt of this job, whose worker died before the job ran again); the partial unique index
/// on running runs makes two concurrent starts end with one run.
pub async fn start<C: ConnectionTrait>(
    db: &C,
    key: &str,
    job_id: Option<&str>,
) -> Result<Run, StartError> {
    let now = Utc::now();
    let stale = now - chrono::Duration::from_std(STALE_AFTER).unwrap_or_default();
    backup_runs::Entity::update_many()
        .col_expr(backup_runs::Column::Status, Expr::value(Status::Failed))
        .col_expr(
            backup_runs::Column::Error,
            Expr::value("its worker stopped while it ran"),
        )
        .col_expr(backup_runs::Column::FinishedAt, Expr::value(now))
        .filter(backup_runs::Column::Status.eq(Status::Running))
        .filter(
            Condition::any()
                .add(backup_runs::Column::HeartbeatAt.lt(stale))
                .add(backup_runs::Column::JobId.eq(job_id)),
        )
        .exec(db)
        .await?;
    let inserted = backup_runs::ActiveModel {
        id: Set(Uuid::now_v7()),
        key: Set(key.to_string()),
        job_id: Set(job_id.map(str::to_string)),
        status: Set(Status::Running),
        size: Set(None),
        sha256: Set(None),
        error: Set(None),
        started_at: Set(now),
        heartbeat_at: Set(now),
        finished_at: Set(None),
        verified_at: Set(None),
    }
    .insert(db)
    .await;
    match inserted {
        Ok(run) => Ok(run),
        Err(e)
            if matches!(
                e.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            let running = in_flight(db).await?;
            Err(StartError::InFlight {
                key: running.as_ref().map_or_else(String::new, |r| r.key.clone()),
                started_at: running.map_or(now, |r| r.started_at),
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// The run in flight, if any.
pub async fn in_flight<C: ConnectionTrait>(db: &C) -> Result<Option<Run>, DbErr> {
    backup_runs::Entity::find()
        .filter(backup_runs::Column::Status.eq(Status::Running))
        .one(db)
        .await
}

/// Renews a running run's heartbeat.
pub async fn heartbeat<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<(), DbErr> {
    backup_runs::Entity::update_many()
        .col_expr(backup_runs::Column::HeartbeatAt, Expr::value(Utc::now()))
        .filter(backup_runs::Column::Id.eq(id))
        .filter(backup_runs::Column::Status.eq(Status::Running))
        .exec(db)
        .await?;
    Ok(())
}

/// The object is uploaded whole: its size and checksum.
pub async fn uploaded<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    size: i64,
    sha256: &str,
) -> Result<(), DbErr> {
    backup_runs::Entity::update_many()
        .col_expr(backup_runs::Column::Size, Expr::value(size))
        .col_expr(backup_runs::Column::Sha256, Expr::value(sha256))
        .filter(backup_runs::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// How a run ended: `Verified`, `Unverified` or `Failed` (with the error for the last two). A
/// run already ended (taken over as stale) stays as it was.
pub async fn finish<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    status: Status,
    error: Option<&str>,
) -> Result<(), DbErr> {
    let now = Utc::now();
    let verified_at = (status == Status::Verified).then_some(now);
    backup_runs::Entity::update_many()
        .col_expr(backup_runs::Column::Status, Expr::value(status))
        .col_expr(backup_runs::Column::Error, Expr::value(error))
        .col_expr(backup_runs::Column::FinishedAt, Expr::value(now))
        .col_expr(backup_runs::Column::VerifiedAt, Expr::value(verified_at))
        .filter(backup_runs::Column::Id.eq(id))
        .filter(backup_runs::Column::Status.eq(Status::Running))
        .exec(db)
        .await?;
    Ok(())
}

/// A restore found the object `key` corrupt: it no longer counts as verified.
pub async fn mark_unverified<C: ConnectionTrait>(
    db: &C,
    key: &str,
    error: &str,
) -> Result<(), DbErr> {
    backup_runs::Entity::update_many()
        .col_expr(backup_runs::Column::Status, Expr::value(Status::Unverified))
        .col_expr(backup_runs::Column::Error, Expr::value(error))
        .col_expr(
            backup_runs::Column::VerifiedAt,
            Expr::value(None::<DateTime<Utc>>),
        )
        .filter(backup_runs::Column::Key.eq(key))
        .exec(db)
        .await?;
    Ok(())
}

/// In a database just restored from the backup `key`, the run that made it was in flight when
/// its snapshot was taken: it ends as its manifest says (verified or not), not as a run whose
/// worker died.
pub async fn restored<C: ConnectionTrait>(
    db: &C,
    key: &str,
    size: i64,
    sha256: &str,
    verified_at: Option<DateTime<Utc>>,
) -> Result<(), DbErr> {
    let status = if verified_at.is_some() {
        Status::Verified
    } else {
        Status::Unverified
    };
    backup_runs::Entity::update_many()
        .col_expr(backup_runs::Column::Status, Expr::value(status))
        .col_expr(backup_runs::Column::Size, Expr::value(size))
        .col_expr(backup_runs::Column::Sha256, Expr::value(sha256))
        .col_expr(backup_runs::Column::FinishedAt, Expr::value(verified_at))
        .col_expr(backup_runs::Column::VerifiedAt, Expr::value(verified_at))
        .filter(backup_runs::Column::Key.eq(key))
        .filter(backup_runs::Column::Status.eq(Status::Running))
        .exec(db)
        .await?;
    Ok(())
}

/// How recent the newest verified backup must be: the default daily schedule with two hours'
/// slack. An older one (or none) is on the operator's attention list (docs/BACKUPS.md alerts
/// on it too).
pub const VERIFIED_WITHIN: chrono::TimeDelta = chrono::TimeDelta::hours(26);

/// Once backups exist (any run, whatever its end): whether none was verified within
/// [`VERIFIED_WITHIN`] of `now`. `None` on a platform that has never run a backup.
pub async fn none_verified_lately<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
) -> Result<Option<bool>, DbErr> {
    if recent(db, 1).await?.is_empty() {
        return Ok(None);
    }
    let last = last_verified(db).await?.and_then(|run| run.verified_at);
    Ok(Some(last.is_none_or(|at| now - at > VERIFIED_WITHIN)))
}

/// The newest verified run, for the metrics and the dashboard's attention list.
pub async fn last_verified<C: ConnectionTrait>(db: &C) -> Result<Option<Run>, DbErr> {
    backup_runs::Entity::find()
        .filter(backup_runs::Column::Status.eq(Status::Verified))
        .order_by_desc(backup_runs::Column::VerifiedAt)
        .one(db)
        .await
}

/// Every run, newest first (at most `limit`).
pub async fn recent<C: ConnectionTrait>(db: &C, limit: u64) -> Result<Vec<Run>, DbErr> {
    use sea_orm::QuerySelect;
    backup_runs::Entity::find()
        .order_by_desc(backup_runs::Column::StartedAt)
        .limit(limit)
        .all(db)
        .await
}
