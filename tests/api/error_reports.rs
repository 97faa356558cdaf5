//! Error reports (Sentry) reach a real HTTP ingest endpoint (`ReportReceiver`) with their
//! context — request id, method, route template, shop and user for the API; queue, job id,
//! attempt and shop for jobs — and without secrets.

use cartwheel_jobs::families::noop::Noop;
use cartwheel_jobs::{NewJob, enqueue};
use cartwheel_testkit::error_reports::ReportReceiver;
use cartwheel_testkit::shops::ready_shop;
use cartwheel_testkit::{Backend, spawn_app_with, test_config};
use sea_orm::ConnectionTrait;
use serde_json::Value;

use super::errors::spawn_probe_reporting_to;

fn tag<'a>(event: &'a Value, name: &str) -> &'a str {
    event["tags"][name].as_str().unwrap_or_default()
}

/// Checks that `response` is a 500 and waits for its report; the request id and the report.
async fn report_of_500(receiver: &ReportReceiver, response: reqwest::Response) -> (String, Value) {
    assert_eq!(response.status(), 500);
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    let what = format!("for request {request_id}");
    let event = receiver
        .wait_for(&what, |e| tag(e, "request_id") == request_id)
        .await;
    (request_id, event)
}

#[tokio::test]
async fn a_500_is_reported_with_its_request_route_shop_and_user() {
    let receiver = ReportReceiver::start().await;
    let dsn = receiver.dsn();
    let app = spawn_app_with(
        Backend::Postgres,
        &[
            ("CARTWHEEL_SENTRY_DSN", dsn.as_str()),
            ("CARTWHEEL_SENTRY_ENVIRONMENT", "test-env"),
        ],
    )
    .await;
    let owner = ready_shop(&app, "north").await;
    let me = owner.get_ok("/api/v1/auth/me").await;
    // A table the endpoint needs and authentication does not: its query fails, a genuine 500.
    app.db
        .execute_unprepared("DROP TABLE tax_rules CASCADE")
        .await
        .unwrap();
    let response = owner
        .request(reqwest::Method::GET, "/api/v1/admin/tax-rules")
        .send()
        .await
        .unwrap();
    let (_, event) = report_of_500(&receiver, response).await;
    assert_eq!(event["level"], "error");
    assert_eq!(tag(&event, "method"), "GET");
    assert_eq!(tag(&event, "route"), "/api/v1/admin/tax-rules");
    assert_eq!(tag(&event, "shop"), "north");
    assert_eq!(event["user"]["id"], me["user"]["id"], "{event:#}");
    assert!(
        event["message"]
            .as_str()
            .unwrap_or_default()
            .contains("tax_rules"),
        "{event:#}"
    );
    assert_eq!(event["environment"], "test-env");
    assert!(event["release"].as_str().unwrap().starts_with("cartwheel@"));
    // The admin's token went with the request and goes nowhere else.
    let everything = serde_json::to_string(&receiver.events()).unwrap();
    assert!(!everything.contains(&owner.token), "{everything}");
}

#[tokio::test]
async fn a_panic_is_reported_once_with_its_request_and_without_secrets() {
    let receiver = ReportReceiver::start().await;
    let dsn = receiver.dsn();
    let config = test_config("sqlite::memory:", &[("CARTWHEEL_SENTRY_DSN", dsn.as_str())]);
    let base = spawn_probe_reporting_to(cartwheel::error_reports::client(&config)).await;
    let response = reqwest::Client::new()
        .get(format!("{base}/probe/panic?token=abc123&page=2"))
        .header("authorization", "Bearer supersecret-token")
        .header("x-tenant", "south")
        .send()
        .await
        .unwrap();
    let (request_id, event) = report_of_500(&receiver, response).await;
    let exception = &event["exception"]["values"][0];
    assert_eq!(exception["type"], "panic", "{event:#}");
    assert_eq!(exception["value"], "secret internals: password=[Filtered]");
    assert_eq!(tag(&event, "method"), "GET");
    assert_eq!(tag(&event, "shop"), "south");
    assert_eq!(event["contexts"]["request"]["path"], "/probe/panic");
    // Reported once: the 500 it became is that same report.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let of_request: Vec<Value> = receiver
        .events()
        .into_iter()
        .filter(|e| tag(e, "request_id") == request_id)
        .collect();
    assert_eq!(of_request.len(), 1, "{of_request:#?}");
    let everything = serde_json::to_string(&receiver.events()).unwrap();
    for secret in ["hunter2", "supersecret-token", "abc123"] {
        assert!(!everything.contains(secret), "{secret} in {everything}");
    }

    // An internal error's cause chain is reported (the answer itself shows none of it).
    let response = reqwest::Client::new()
        .get(format!("{base}/probe/fail"))
        .send()
        .await
        .unwrap();
    let (_, event) = report_of_500(&receiver, response).await;
    assert_eq!(event["message"], "disk on fire at /var/secret", "{event:#}");
}

#[tokio::test]
async fn failed_and_dead_jobs_are_reported_with_their_queue_id_attempt_and_shop() {
    let receiver = ReportReceiver::start().await;
    let dsn = receiver.dsn();
    let app = spawn_app_with(Backend::Postgres, &[("CARTWHEEL_SENTRY_DSN", dsn.as_str())]).await;
    let tenant = cartwheel_entity::TenantId(uuid::Uuid::new_v4());
    let dead = enqueue(
        &app.db,
        NewJob::new(Noop {
            fail_permanently: true,
            tenant: Some(tenant),
            ..Default::default()
        }),
    )
    .await
    .unwrap()
    .id;
    let retried = enqueue(
        &app.db,
        NewJob::new(Noop {
            fail_until_attempt: 1,
            ..Default::default()
        }),
    )
    .await
    .unwrap()
    .id;

    let event = receiver
        .wait_for("for the dead job", |e| tag(e, "job_id") == dead)
        .await;
    assert_eq!(event["level"], "error", "{event:#}");
    assert_eq!(tag(&event, "queue"), "noop");
    assert_eq!(tag(&event, "attempt"), "1");
    assert_eq!(tag(&event, "shop"), tenant.to_string());
    assert!(
        event["message"].as_str().unwrap().contains("dead"),
        "{event:#}"
    );

    let event = receiver
        .wait_for("for the failed attempt", |e| {
            tag(e, "job_id") == retried && tag(e, "attempt") == "1"
        })
        .await;
    assert_eq!(event["level"], "warning");
    assert!(
        event["message"].as_str().unwrap().contains("will retry"),
        "{event:#}"
    );
}
