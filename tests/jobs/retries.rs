use std::time::Duration;

use cartwheel_jobs::families::noop::Noop;
use cartwheel_jobs::store::monitor::{JobRecord, JobState, get_job};
use cartwheel_jobs::{NewJob, enqueue};

use cartwheel_testkit::{Backend, TestApp, spawn_app_with};

pub const OPERATOR: &str = "operator-secret";

pub async fn app(backend: Backend) -> TestApp {
    spawn_app_with(
        backend,
        &[
            ("CARTWHEEL_WORKER_POLL_MS", "100"),
            ("CARTWHEEL_OPERATOR_TOKEN", OPERATOR),
        ],
    )
    .await
}

pub async fn job(app: &TestApp, id: &str) -> JobRecord {
    get_job(&app.db, id, None)
        .await
        .unwrap()
        .expect("job exists")
}

pub async fn wait_for_state(
    app: &TestApp,
    id: &str,
    state: JobState,
    timeout: Duration,
) -> JobRecord {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let record = job(app, id).await;
        if record.state == state {
            return record;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "job {id} not {} after {timeout:?}: {record:?}",
            state.as_str()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

cartwheel_testkit::on_each_backend!(a_failed_job_waits_its_backoff_then_runs_again);

async fn a_failed_job_waits_its_backoff_then_runs_again(backend: Backend) {
    let app = app(backend).await;
    let id = enqueue(
        &app.db,
        NewJob::new(Noop {
            fail_until_attempt: 1,
            ..Default::default()
        }),
    )
    .await
    .unwrap()
    .id;
    let failed = wait_for_state(&app, &id, JobState::Retrying, Duration::from_secs(10)).await;
    assert_eq!(failed.attempts, 1);
    assert!(
        failed
            .last_error
            .as_deref()
            .unwrap()
            .contains("asked to fail")
    );
    let done_at = failed.done_at.expect("the failure is stamped");
    // Noop's policy: 1 s base delay with equal jitter, so at least 0.5 s (1 s on SQLite's whole seconds).
    let wait = failed.run_at - done_at;
    assert!(
        wait >= chrono::Duration::milliseconds(350),
        "run_at moved only {wait:?}"
    );

    let done = wait_for_state(&app, &id, JobState::Succeeded, Duration::from_secs(10)).await;
    assert_eq!(done.attempts, 2);
    assert!(done.done_at.unwrap() >= failed.run_at - chrono::Duration::seconds(1));
}

#[tokio::test]
async fn out_of_attempts_is_dead_with_its_last_error_and_an_operator_can_retry_it() {
    let app = app(Backend::Postgres).await;
    let id = enqueue(
        &app.db,
        NewJob::new(Noop {
            fail_until_attempt: 3,
            ..Default::default()
        }),
    )
    .await
    .unwrap()
    .id;
    let dead = wait_for_state(&app, &id, JobState::Dead, Duration::from_secs(15)).await;
    assert_eq!((dead.attempts, dead.max_attempts), (3, 3));
    assert!(
        dead.last_error
            .unwrap()
            .contains("asked to fail until attempt 3")
    );
    // Dead stays dead: nothing fetches it again.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(job(&app, &id).await.attempts, 3);

    let response = app
        .client
        .post(app.url(&format!("/api/v1/admin/jobs/{id}/retry")))
        .bearer_auth(OPERATOR)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["maxAttempts"], 6);
    let done = wait_for_state(&app, &id, JobState::Succeeded, Duration::from_secs(10)).await;
    assert_eq!(done.attempts, 4);
}

#[tokio::test]
async fn a_permanent_failure_is_dead_at_once() {
    let app = app(Backend::Postgres).await;
    let id = enqueue(
        &app.db,
        NewJob::new(Noop {
            fail_permanently: true,
            ..Default::default()
        }),
    )
    .await
    .unwrap()
    .id;
    let dead = wait_for_state(&app, &id, JobState::Dead, Duration::from_secs(10)).await;
    assert_eq!(dead.attempts, 1);
    assert!(dead.last_error.unwrap().contains("permanently"));
}
