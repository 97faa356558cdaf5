use std::time::Duration;

use cartwheel_jobs::families::maintenance::PruneJobs;
use cartwheel_jobs::families::noop::Noop;
use cartwheel_jobs::monitor::JobState;
use cartwheel_jobs::{NewJob, enqueue, enqueue_batch};
use sea_orm::ConnectionTrait;

use crate::helpers::{Backend, scalar};
use crate::retries::{app, wait_for_state};

async fn labelled(db: &sea_orm::DatabaseConnection, label: &str, n: usize, set: &str) {
    // Scheduled for later so the worker leaves them alone until they are rewritten below.
    let later = chrono::Utc::now() + chrono::Duration::hours(1);
    let jobs = (0..n)
        .map(|_| {
            NewJob::new(Noop {
                label: label.into(),
                ..Default::default()
            })
            .run_at(later)
        })
        .collect();
    enqueue_batch(db, jobs).await.unwrap();
    db.execute_unprepared(&format!(
        "UPDATE apalis.jobs SET {set} WHERE convert_from(job, 'UTF8')::jsonb ->> 'label' = '{label}'"
    ))
    .await
    .unwrap();
}

#[tokio::test]
async fn the_prune_job_deletes_only_jobs_past_their_retention() {
    let app = app(Backend::Postgres).await;
    let db = &app.db;
    labelled(
        db,
        "old-done",
        2_500,
        "status = 'Done', done_at = now() - interval '8 days'",
    )
    .await;
    labelled(
        db,
        "recent-done",
        3,
        "status = 'Done', done_at = now() - interval '1 day'",
    )
    .await;
    labelled(db, "old-cancelled", 2, "status = 'Killed', last_result = '{\"Err\":\"Cancelled\"}', done_at = now() - interval '8 days'").await;
    labelled(
        db,
        "old-dead",
        2,
        "status = 'Failed', attempts = 3, done_at = now() - interval '31 days'",
    )
    .await;
    labelled(db, "old-killed", 1, "status = 'Killed', last_result = '{\"Err\":\"boom\"}', done_at = now() - interval '31 days'").await;
    labelled(db, "recent-dead", 4, "status = 'Killed', last_result = '{\"Err\":\"boom\"}', done_at = now() - interval '10 days'").await;
    labelled(db, "waiting", 5, "run_at = now() + interval '1 day'").await;

    let prune = enqueue(db, NewJob::new(PruneJobs::default()))
        .await
        .unwrap()
        .id;
    wait_for_state(&app, &prune, JobState::Succeeded, Duration::from_secs(20)).await;

    let count = |label: &'static str| async move {
        scalar(
            db,
            &format!(
                "SELECT COUNT(*) FROM apalis.jobs WHERE convert_from(job, 'UTF8')::jsonb ->> 'label' = '{label}'"
            ),
        )
        .await
    };
    assert_eq!(count("old-done").await, 0);
    assert_eq!(count("old-cancelled").await, 0);
    assert_eq!(count("old-dead").await, 0);
    assert_eq!(count("old-killed").await, 0);
    assert_eq!(count("recent-done").await, 3);
    assert_eq!(count("recent-dead").await, 4);
    assert_eq!(count("waiting").await, 5);
}
