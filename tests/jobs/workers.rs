use std::collections::HashMap;
use std::time::Duration;

use cartwheel_jobs::Job;
use cartwheel_jobs::families::noop::Noop;
use cartwheel_jobs::store::monitor::{JobState, get_job, live_workers};
use cartwheel_jobs::{NewJob, enqueue, enqueue_batch};

use cartwheel_testkit::{
    Backend, cartwheel_process, eventually, job_count, jobs, migrated_database,
};
use sea_orm::DatabaseConnection;

#[tokio::test]
async fn two_worker_processes_run_each_of_2000_jobs_exactly_once() {
    let (_database, url, db) = migrated_database(Backend::Postgres).await;
    let jobs = (0..2000)
        .map(|i| {
            NewJob::new(Noop {
                label: i.to_string(),
                ..Default::default()
            })
        })
        .collect();
    enqueue_batch(&db, jobs).await.unwrap();
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("CARTWHEEL_WORKER_CONCURRENCY", "8"),
    ];
    let _a = cartwheel_process(&["worker"], &env);
    let _b = cartwheel_process(&["worker"], &env);
    eventually(Duration::from_secs(60), "2000 jobs done", || async {
        job_count(&db, None, Some(JobState::Succeeded)).await == 2000
    })
    .await;
    let per_process = jobs_per_process(&db).await;
    assert_eq!(
        per_process.len(),
        2,
        "both processes took jobs: {per_process:?}"
    );
}

#[tokio::test]
async fn a_sigkilled_workers_job_runs_again_on_another_worker_within_the_bound() {
    let (_database, url, db) = migrated_database(Backend::Postgres).await;
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("CARTWHEEL_JOB_RECOVERY_SECS", "4"),
        ("CARTWHEEL_WORKER_POLL_MS", "100"),
    ];
    let mut first = cartwheel_process(&["worker"], &env);
    let job = NewJob::new(Noop {
        sleep_ms: 60_000,
        sleep_until_attempt: 1,
        ..Default::default()
    });
    let id = enqueue(&db, job).await.unwrap().id;
    eventually(
        Duration::from_secs(10),
        "the first worker to start the job",
        || async { get_job(&db, &id, None).await.unwrap().unwrap().state == JobState::Running },
    )
    .await;
    let held_by = get_job(&db, &id, None)
        .await
        .unwrap()
        .unwrap()
        .locked_by
        .unwrap();
    first.signal("KILL");
    first.wait(Duration::from_secs(5)).await;

    let started = std::time::Instant::now();
    let _second = cartwheel_process(&["worker"], &env);
    eventually(
        Duration::from_secs(15),
        "the job to run again and succeed",
        || async { get_job(&db, &id, None).await.unwrap().unwrap().state == JobState::Succeeded },
    )
    .await;
    let job = get_job(&db, &id, None).await.unwrap().unwrap();
    assert_ne!(job.locked_by.unwrap(), held_by);
    assert_eq!(job.attempts, 2);
    // The configured bound is 4 s; allow start-up time on a busy machine.
    assert!(
        started.elapsed() < Duration::from_secs(12),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn sigterm_finishes_the_running_job_and_leaves_the_rest_for_others() {
    let (_database, url, db) = migrated_database(Backend::Postgres).await;
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("CARTWHEEL_WORKER_QUEUE_CONCURRENCY", "noop=1"),
        ("CARTWHEEL_WORKER_POLL_MS", "100"),
        ("CARTWHEEL_SHUTDOWN_TIMEOUT_SECS", "20"),
    ];
    let mut worker = cartwheel_process(&["worker"], &env);
    let jobs = (0..4)
        .map(|_| {
            NewJob::new(Noop {
                sleep_ms: 1_500,
                ..Default::default()
            })
        })
        .collect();
    enqueue_batch(&db, jobs).await.unwrap();
    eventually(Duration::from_secs(10), "a job claimed", || async {
        job_count(&db, None, Some(JobState::Running)).await >= 1
    })
    .await;
    // A claimed job starts within milliseconds; each runs for 1.5 s.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stopping = std::time::Instant::now();
    worker.signal("TERM");
    let status = worker.wait(Duration::from_secs(10)).await;
    assert!(status.success(), "exit status {status:?}");
    // It waited for the running job only, not for the queue.
    assert!(
        stopping.elapsed() < Duration::from_millis(2_900),
        "took {:?}",
        stopping.elapsed()
    );
    assert_eq!(job_count(&db, None, Some(JobState::Succeeded)).await, 1);
    assert_eq!(unclaimed(&db).await, 3);
}

#[tokio::test]
async fn sigterm_hands_fetched_but_unstarted_jobs_back_at_once() {
    let (_database, url, db) = migrated_database(Backend::Postgres).await;
    let jobs = (0..4)
        .map(|_| {
            NewJob::new(Noop {
                sleep_ms: 1_500,
                ..Default::default()
            })
        })
        .collect();
    enqueue_batch(&db, jobs).await.unwrap();
    // One job at a time, but four claimed per fetch: three wait inside the worker.
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("CARTWHEEL_WORKER_QUEUE_CONCURRENCY", "noop=1"),
        ("CARTWHEEL_WORKER_QUEUE_BATCH_SIZE", "noop=4"),
        ("CARTWHEEL_WORKER_POLL_MS", "100"),
        ("CARTWHEEL_SHUTDOWN_TIMEOUT_SECS", "20"),
    ];
    let mut worker = cartwheel_process(&["worker"], &env);
    // apalis marks a job Running lazily (with its next batch of events), so a claimed job shows
    // Queued or Running; all four are claimed once the first fetch returns.
    eventually(Duration::from_secs(10), "four claimed", || async {
        job_count(&db, None, Some(JobState::Running)).await == 4
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    worker.signal("TERM");
    let status = worker.wait(Duration::from_secs(10)).await;
    assert!(status.success(), "exit status {status:?}");
    assert_eq!(job_count(&db, None, Some(JobState::Succeeded)).await, 1);
    // The three it held are free for other workers the moment it is gone.
    assert_eq!(unclaimed(&db).await, 3);
    let _other = cartwheel_process(&["worker"], &env);
    eventually(
        Duration::from_secs(15),
        "another worker runs them",
        || async { job_count(&db, None, Some(JobState::Succeeded)).await == 4 },
    )
    .await;
}

#[tokio::test]
async fn two_workers_with_default_settings_share_a_burst_of_slow_jobs() {
    let (_database, url, db) = migrated_database(Backend::Postgres).await;
    let env = [("DATABASE_URL", url.as_str())];
    let _a = cartwheel_process(&["worker"], &env);
    let _b = cartwheel_process(&["worker"], &env);
    eventually(
        Duration::from_secs(20),
        "both workers listening",
        || async {
            let workers = live_workers(&db, 60).await.unwrap();
            workers.iter().filter(|w| w.queue == Noop::QUEUE).count() == 2
        },
    )
    .await;
    let jobs = (0..40)
        .map(|_| {
            NewJob::new(Noop {
                sleep_ms: 200,
                ..Default::default()
            })
        })
        .collect();
    enqueue_batch(&db, jobs).await.unwrap();
    eventually(Duration::from_secs(30), "40 jobs done", || async {
        job_count(&db, None, Some(JobState::Succeeded)).await == 40
    })
    .await;
    let per_process = jobs_per_process(&db).await;
    assert_eq!(per_process.len(), 2, "{per_process:?}");
    assert!(per_process.values().all(|&n| n >= 15), "{per_process:?}");
}

/// Jobs each worker process ran, every one of them exactly once (`attempts` counts starts).
async fn jobs_per_process(db: &DatabaseConnection) -> HashMap<String, usize> {
    let mut per_process = HashMap::new();
    for job in jobs(db, None).await {
        assert_eq!(job.attempts, 1, "job {} ran {} times", job.id, job.attempts);
        // Worker names are `<process>:<queue>:<restarts>`.
        let locked_by = job.locked_by.expect("a finished job names its worker");
        let process = locked_by.split(':').next().unwrap().to_string();
        *per_process.entry(process).or_default() += 1;
    }
    per_process
}

/// Jobs waiting to run that no worker holds.
async fn unclaimed(db: &DatabaseConnection) -> usize {
    jobs(db, None)
        .await
        .iter()
        .filter(|job| job.state == JobState::Pending && job.locked_by.is_none())
        .count()
}
