//! The cron scheduler: a table of entries and a loop that enqueues each tick exactly once,
//! however many scheduler replicas run (the tick's idempotency key is `cron:<entry>:<unix time>`).

pub mod table;

pub use table::{CronEntry, CronSpec, build_table, builtin_entries};

use cartwheel_jobs::store::enqueue::{RawJob, enqueue_raw};
use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbErr};

#[derive(Clone, Debug)]
pub struct SchedulerSettings {
    pub entries: Vec<CronEntry>,
    /// After downtime, run the first missed tick of each entry once (never a backlog).
    pub catch_up: bool,
}

/// Enqueues ticks until `shutdown` resolves.
pub async fn run(
    db: DatabaseConnection,
    settings: SchedulerSettings,
    shutdown: impl Future<Output = ()> + Send,
) {
    let entries: Vec<CronEntry> = settings.entries.into_iter().filter(|e| e.enabled).collect();
    tracing::info!(entries = ?entries.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), "scheduler starting");
    if settings.catch_up {
        for entry in &entries {
            if let Err(e) = catch_up(&db, entry, Utc::now()).await {
                tracing::error!(entry = %entry.name, error = %e, "catch-up check failed");
            }
        }
    }
    tokio::pin!(shutdown);
    let mut after = Utc::now();
    loop {
        let Some((at, due)) = next_ticks(&entries, after) else {
            tracing::info!("no enabled cron entries; scheduler idle");
            shutdown.await;
            return;
        };
        let wait = (at - Utc::now()).to_std().unwrap_or_default();
        tokio::select! {
            _ = &mut shutdown => {
                tracing::info!("scheduler stopped");
                return;
            }
            _ = tokio::time::sleep(wait) => {}
        }
        for entry in due {
            if let Err(e) = enqueue_tick(&db, entry, at).await {
                tracing::error!(entry = %entry.name, tick = %at, error = %e, "could not enqueue tick");
            }
        }
        // A scheduler that fell far behind (a suspended machine) resumes at the present.
        after = if Utc::now() - at > chrono::Duration::seconds(60) {
            Utc::now()
        } else {
            at
        };
    }
}

/// The earliest tick strictly after `after`, and every entry due at it.
fn next_ticks(
    entries: &[CronEntry],
    after: DateTime<Utc>,
) -> Option<(DateTime<Utc>, Vec<&CronEntry>)> {
    let ticks: Vec<(DateTime<Utc>, &CronEntry)> = entries
        .iter()
        .filter_map(|e| e.schedule.after(&after).next().map(|t| (t, e)))
        .collect();
    let earliest = ticks.iter().map(|(t, _)| *t).min()?;
    Some((
        earliest,
        ticks
            .into_iter()
            .filter(|(t, _)| *t == earliest)
            .map(|(_, e)| e)
            .collect(),
    ))
}

/// Enqueues `entry`'s job for the tick at `at`; false when another scheduler already did.
pub async fn enqueue_tick(
    db: &DatabaseConnection,
    entry: &CronEntry,
    at: DateTime<Utc>,
) -> Result<bool, cartwheel_jobs::EnqueueError> {
    let job = RawJob {
        payload: serde_json::to_vec(&entry.payload)?,
        tenant_id: None,
        idempotency_key: Some(tick_key(&entry.name, at)),
        run_at: Some(at),
        priority: 0,
    };
    let done = enqueue_raw(db, &entry.queue, entry.max_attempts, vec![job]).await?;
    let created = done.first().is_some_and(|d| d.created);
    if created {
        tracing::info!(entry = %entry.name, tick = %at, job_id = %done[0].id, "enqueued cron tick");
    } else {
        tracing::debug!(entry = %entry.name, tick = %at, "tick already enqueued by another scheduler");
    }
    Ok(created)
}

pub fn tick_key(entry: &str, at: DateTime<Utc>) -> String {
    format!("cron:{entry}:{}", at.timestamp())
}

/// When ticks were missed since this entry's last enqueued one, enqueue the first missed one.
/// An entry that never ran has nothing to catch up.
async fn catch_up(
    db: &DatabaseConnection,
    entry: &CronEntry,
    now: DateTime<Utc>,
) -> Result<(), cartwheel_jobs::EnqueueError> {
    let Some(last) = last_tick(db, entry).await? else {
        return Ok(());
    };
    if let Some(missed) = entry.schedule.after(&last).next().filter(|t| *t < now) {
        tracing::info!(entry = %entry.name, tick = %missed, "catching up one missed tick");
        enqueue_tick(db, entry, missed).await?;
    }
    Ok(())
}

/// The tick time of the entry's newest enqueued job still in the table.
async fn last_tick(
    db: &DatabaseConnection,
    entry: &CronEntry,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    let prefix = format!("cron:{}:", entry.name);
    let key =
        cartwheel_jobs::store::enqueue::newest_idempotency_key(db, &entry.queue, &prefix).await?;
    Ok(key
        .and_then(|key| key.strip_prefix(&prefix)?.parse::<i64>().ok())
        .and_then(|secs| DateTime::from_timestamp(secs, 0)))
}
