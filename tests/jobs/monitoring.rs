use std::time::Duration;

use cartwheel_jobs::families::noop::Noop;
use cartwheel_jobs::store::monitor::JobState;
use cartwheel_jobs::{NewJob, enqueue};

use super::retries::{OPERATOR, app, job, wait_for_state};
use cartwheel_testkit::{Backend, assert_problem, eventually};

#[tokio::test]
async fn monitoring_needs_the_operator_token() {
    let app = app(Backend::Postgres).await;
    for path in [
        "/api/v1/admin/queues",
        "/api/v1/admin/jobs",
        "/api/v1/admin/workers",
    ] {
        assert_problem(app.get(path).await, 401).await;
        let wrong = app
            .client
            .get(app.url(path))
            .bearer_auth("nope")
            .send()
            .await
            .unwrap();
        assert_problem(wrong, 401).await;
    }
}

cartwheel_testkit::on_each_backend!(queues_jobs_workers_retry_and_cancel);

async fn queues_jobs_workers_retry_and_cancel(backend: Backend) {
    let app = app(backend).await;
    let get = |path: String| {
        let request = app.client.get(app.url(&path)).bearer_auth(OPERATOR).send();
        async move {
            let response = request.await.unwrap();
            assert_eq!(response.status(), 200, "{path}");
            response.json::<serde_json::Value>().await.unwrap()
        }
    };
    let tenant = cartwheel_entity::TenantId(uuid::Uuid::new_v4());
    let done = enqueue(&app.db, NewJob::new(Noop::default()).tenant(tenant))
        .await
        .unwrap()
        .id;
    let dead = enqueue(
        &app.db,
        NewJob::new(Noop {
            fail_permanently: true,
            ..Default::default()
        }),
    )
    .await
    .unwrap()
    .id;
    let later = chrono::Utc::now() + chrono::Duration::hours(1);
    let scheduled = enqueue(&app.db, NewJob::new(Noop::default()).run_at(later))
        .await
        .unwrap()
        .id;
    wait_for_state(&app, &done, JobState::Succeeded, Duration::from_secs(10)).await;
    wait_for_state(&app, &dead, JobState::Dead, Duration::from_secs(10)).await;

    let queues = get("/api/v1/admin/queues".into()).await;
    let noop = queues["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["queue"] == "noop")
        .expect("the noop queue is listed");
    assert_eq!(noop["scheduled"], 1);
    assert_eq!(noop["dead"], 1);
    assert_eq!(noop["succeededLastMinute"], 1);

    let page = get("/api/v1/admin/jobs?queue=noop&state=dead".into()).await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["items"][0]["id"], dead.as_str());
    assert_eq!(page["items"][0]["lastError"], "asked to fail permanently");
    let page = get(format!("/api/v1/admin/jobs?tenant={tenant}")).await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["items"][0]["id"], done.as_str());
    let page = get("/api/v1/admin/jobs?queue=noop&limit=2&page=2".into()).await;
    assert_eq!(
        (page["total"].as_u64(), page["page"].as_u64()),
        (Some(3), Some(2))
    );
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["totalCapped"], false);

    let one = get(format!("/api/v1/admin/jobs/{scheduled}")).await;
    assert_eq!(one["state"], "scheduled");
    assert_eq!(one["payload"]["fail_permanently"], false);

    let workers = get("/api/v1/admin/workers".into()).await;
    assert!(
        workers["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["queue"] == "noop")
    );

    // Cancel the scheduled job; a finished job cannot be cancelled; retry the dead one.
    let post = |path: String| app.client.post(app.url(&path)).bearer_auth(OPERATOR).send();
    let response = post(format!("/api/v1/admin/jobs/{scheduled}/cancel"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(job(&app, &scheduled).await.state, JobState::Cancelled);
    let response = post(format!("/api/v1/admin/jobs/{done}/cancel"))
        .await
        .unwrap();
    let body = assert_problem(response, 409).await;
    assert!(body["detail"].as_str().unwrap().contains("succeeded"));
    let response = post(format!("/api/v1/admin/jobs/{done}/retry"))
        .await
        .unwrap();
    assert_problem(response, 409).await;
    let response = post(format!("/api/v1/admin/jobs/{dead}/retry"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    eventually(
        Duration::from_secs(10),
        "the retried job to run again",
        || async { job(&app, &dead).await.attempts == 2 },
    )
    .await;
    let response = post("/api/v1/admin/jobs/01JDZ6X2Q8M4T9ZK1V3C7B5N2R/retry".into())
        .await
        .unwrap();
    assert_problem(response, 404).await;
}

#[tokio::test]
async fn bad_filters_are_400_naming_the_parameter() {
    let app = app(Backend::Postgres).await;
    for (query, field) in [
        ("state=bogus", "state"),
        ("tenant=not-a-uuid", "tenant"),
        ("limit=500", "limit"),
        ("limit=0", "limit"),
        ("page=0", "page"),
        ("page=abc", "page"),
    ] {
        let response = app
            .client
            .get(app.url(&format!("/api/v1/admin/jobs?{query}")))
            .bearer_auth(OPERATOR)
            .send()
            .await
            .unwrap();
        let body = assert_problem(response, 400).await;
        assert_eq!(body["errors"][0]["field"], field, "{query}");
    }
    let response = app
        .client
        .get(app.url("/api/v1/admin/jobs/nope"))
        .bearer_auth(OPERATOR)
        .send()
        .await
        .unwrap();
    assert_problem(response, 404).await;
}

#[tokio::test]
async fn metrics_show_http_and_job_series() {
    let app = app(Backend::Postgres).await;
    let id = enqueue(&app.db, NewJob::new(Noop::default()))
        .await
        .unwrap()
        .id;
    wait_for_state(&app, &id, JobState::Succeeded, Duration::from_secs(10)).await;
    let later = chrono::Utc::now() + chrono::Duration::hours(1);
    enqueue(&app.db, NewJob::new(Noop::default()).run_at(later))
        .await
        .unwrap();
    assert_eq!(app.get("/health").await.status(), 200);
    let text = app.get("/metrics").await.text().await.unwrap();
    for series in [
        "cartwheel_http_requests_total",
        "cartwheel_http_request_duration_seconds",
        "cartwheel_jobs_started_total{queue=\"noop\"}",
        "cartwheel_jobs_succeeded_total{queue=\"noop\"}",
        "cartwheel_job_duration_seconds",
        "cartwheel_queue_depth{queue=\"noop\"}",
        "cartwheel_queue_oldest_pending_seconds",
    ] {
        assert!(text.contains(series), "missing {series} in:\n{text}");
    }
}

#[tokio::test]
async fn metrics_can_be_put_behind_a_bearer_token() {
    let app = cartwheel_testkit::spawn_app_with(
        Backend::Sqlite,
        &[("CARTWHEEL_METRICS_TOKEN", "scrape-secret")],
    )
    .await;
    assert_problem(app.get("/metrics").await, 401).await;
    let wrong = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("scrape-secreT")
        .send()
        .await
        .unwrap();
    assert_problem(wrong, 401).await;
    let scraped = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("scrape-secret")
        .send()
        .await
        .unwrap();
    assert_eq!(scraped.status(), 200);
    assert!(scraped.text().await.unwrap().contains("cartwheel_"));
}
