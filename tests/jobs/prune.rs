use std::time::Duration;

use cartwheel_jobs::families::maintenance::PruneJobs;
use cartwheel_jobs::families::noop::Noop;
use cartwheel_jobs::store::monitor::JobState;
use cartwheel_jobs::store::{Ending, end_jobs};
use cartwheel_jobs::{Job, NewJob, enqueue, enqueue_batch};
use sea_orm::DatabaseConnection;

use super::retries::{app, wait_for_state};
use cartwheel_testkit::{Backend, jobs};

/// `n` no-op jobs labelled `label`, ended `ending` `ago` before now (`None`: left waiting, due
/// in a day).
async fn labelled(
    db: &DatabaseConnection,
    label: &str,
    n: usize,
    ending: Option<(Ending, Duration)>,
) {
    // Scheduled for later so the worker leaves them alone until they are ended below.
    let later = chrono::Utc::now() + chrono::Duration::days(1);
    let jobs = (0..n)
        .map(|_| {
            NewJob::new(Noop {
                label: label.into(),
                ..Default::default()
            })
            .run_at(later)
        })
        .collect();
    let ids: Vec<String> = enqueue_batch(db, jobs)
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.id)
        .collect();
    if let Some((ending, ago)) = ending {
        assert_eq!(end_jobs(db, &ids, ending, ago).await.unwrap(), n as u64);
    }
}

const DAY: Duration = Duration::from_secs(24 * 3600);

#[tokio::test]
async fn the_prune_job_deletes_only_jobs_past_their_retention() {
    let app = app(Backend::Postgres).await;
    let db = &app.db;
    labelled(db, "old-done", 2_500, Some((Ending::Succeeded, 8 * DAY))).await;
    labelled(db, "recent-done", 3, Some((Ending::Succeeded, DAY))).await;
    labelled(db, "old-cancelled", 2, Some((Ending::Cancelled, 8 * DAY))).await;
    labelled(db, "old-dead", 2, Some((Ending::OutOfAttempts, 31 * DAY))).await;
    labelled(
        db,
        "old-killed",
        1,
        Some((Ending::FailedPermanently, 31 * DAY)),
    )
    .await;
    labelled(
        db,
        "recent-dead",
        4,
        Some((Ending::FailedPermanently, 10 * DAY)),
    )
    .await;
    labelled(db, "waiting", 5, None).await;

    let prune = enqueue(db, NewJob::new(PruneJobs::default()))
        .await
        .unwrap()
        .id;
    wait_for_state(&app, &prune, JobState::Succeeded, Duration::from_secs(20)).await;

    let left = jobs(db, Some(Noop::QUEUE)).await;
    let count = |label: &'static str| {
        let left = &left;
        async move {
            left.iter()
                .filter(|job| job.payload["label"] == label)
                .count()
        }
    };
    assert_eq!(count("old-done").await, 0);
    assert_eq!(count("old-cancelled").await, 0);
    assert_eq!(count("old-dead").await, 0);
    assert_eq!(count("old-killed").await, 0);
    assert_eq!(count("recent-done").await, 3);
    assert_eq!(count("recent-dead").await, 4);
    assert_eq!(count("waiting").await, 5);
}
