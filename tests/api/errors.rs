//! Every error is problem+json: routing, method, size, JSON, validation, panics.

use cartwheel_api::json_body::JsonBody;
use cartwheel_api::problem::{CommonError, ProblemJson};
use cartwheel_api::{AppState, HttpSettings, with_middleware};
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{Route, Server};
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, OpenApiService};

use cartwheel_testkit::{assert_problem, spawn_app};

#[tokio::test]
async fn unknown_route_is_404() {
    let app = spawn_app().await;
    let body = assert_problem(app.get("/api/v1/nothing-here").await, 404).await;
    assert_eq!(body["type"], "https://cartwheel.dev/problems/not-found");
}

#[tokio::test]
async fn wrong_method_is_405() {
    let app = spawn_app().await;
    let response = app.client.delete(app.url("/health")).send().await.unwrap();
    let body = assert_problem(response, 405).await;
    assert!(body["detail"].as_str().unwrap().contains("DELETE"));
}

#[tokio::test]
async fn oversized_bodies_are_413_with_or_without_content_length() {
    let app = spawn_app().await;
    let big = vec![b'x'; 1024 * 1024 + 1];
    let response = app
        .client
        .post(app.url("/api/v1/tenant"))
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_problem(response, 413).await;

    let chunks = futures::stream::iter(
        big.chunks(64 * 1024)
            .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
            .collect::<Vec<_>>(),
    );
    let response = app
        .client
        .post(app.url("/api/v1/tenant"))
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_problem(response, 413).await;
}

/// A probe API behind the real middleware, for error paths the product API has no endpoint for yet.
struct ProbeApi;

#[derive(Object)]
struct Signup {
    #[oai(validator(max_length = 10))]
    name: String,
    age: u8,
}

#[OpenApi]
impl ProbeApi {
    #[oai(path = "/probe", method = "post")]
    async fn create(&self, body: JsonBody<Signup>) -> Result<Json<String>, CommonError> {
        Ok(Json(format!("{} {}", body.name, body.age)))
    }

    #[oai(path = "/probe", method = "get")]
    async fn list(&self, #[oai(validator(maximum(value = "100")))] limit: Query<u32>) -> Json<u32> {
        Json(limit.0)
    }

    #[oai(path = "/probe/panic", method = "get")]
    async fn panic(&self) -> Json<String> {
        panic!("secret internals: password=hunter2");
    }

    #[oai(path = "/probe/fail", method = "get")]
    async fn fail(&self) -> Result<Json<String>, CommonError> {
        let cause = std::io::Error::other("disk on fire at /var/secret");
        Err(CommonError::Internal(ProblemJson::internal(&cause)))
    }
}

async fn spawn_probe() -> String {
    spawn_probe_reporting_to(None).await
}

/// The probe API, its errors reported to `error_reports` (tests/api/error_reports.rs).
pub async fn spawn_probe_reporting_to(
    error_reports: Option<std::sync::Arc<sentry::Client>>,
) -> String {
    let db = sea_orm::Database::connect("sqlite::memory:").await.unwrap();
    let routes = Route::new().nest("/", OpenApiService::new(ProbeApi, "probe", "1"));
    let endpoint = with_middleware(
        routes,
        AppState {
            stripe_inbox: cartwheel_domain::payments::events::Inbox::start(db.clone()),
            db,
            operator_token: None,
            metrics_token: None,
            secrets: None,
            stripe: Default::default(),
            jwt: cartwheel_api::auth::jwt::Jwt::new(
                cartwheel_testkit::JWT_SECRET.as_bytes(),
                std::time::Duration::from_secs(60),
            ),
            metrics: cartwheel::telemetry::metrics(),
            queue_gauges: Default::default(),
            cart_ttl: std::time::Duration::from_secs(3600),
            orders: cartwheel_domain::orders::status::Timing {
                payment_window: std::time::Duration::from_secs(3600),
                review_after: std::time::Duration::from_secs(3600),
            },
            worker_liveness: std::time::Duration::from_secs(60),
            throttles: Default::default(),
            tenants: Default::default(),
            catalog_changes: Default::default(),
            public_url: "http://localhost:8080".into(),
        },
        HttpSettings {
            base_domain: "localhost".into(),
            rate_limit_per_minute: 1000,
            provision_rate_limit_per_minute: 1000,
            trusted_proxies: vec![],
            body_limit_bytes: 1024,
            store_cache_ttl: std::time::Duration::ZERO,
            error_reports,
        },
    );
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .unwrap();
    let address = acceptor.local_addr()[0].as_socket_addr().copied().unwrap();
    tokio::spawn(Server::new_with_acceptor(acceptor).run(endpoint));
    format!("http://{address}")
}

fn post_json(base: &str, body: &'static str) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .post(format!("{base}/probe"))
        .header("content-type", "application/json")
        .body(body)
}

#[tokio::test]
async fn malformed_json_is_400() {
    let base = spawn_probe().await;
    let response = post_json(&base, "{\"name\": ").send().await.unwrap();
    let body = assert_problem(response, 400).await;
    assert_eq!(
        body["type"],
        "https://cartwheel.dev/problems/malformed-json"
    );
}

#[tokio::test]
async fn invalid_fields_are_422_naming_the_field() {
    let base = spawn_probe().await;
    let response = post_json(&base, r#"{"name": "far too long a name", "age": 3}"#)
        .send()
        .await
        .unwrap();
    let body = assert_problem(response, 422).await;
    assert_eq!(body["errors"][0]["field"], "name");

    let response = post_json(&base, r#"{"name": "ok", "age": "three"}"#)
        .send()
        .await
        .unwrap();
    let body = assert_problem(response, 422).await;
    assert_eq!(body["errors"][0]["field"], "age");

    let response = post_json(&base, r#"{"name": "ok"}"#).send().await.unwrap();
    let body = assert_problem(response, 422).await;
    assert_eq!(body["errors"][0]["field"], "age");

    let response = post_json(&base, r#"{"name": "ok", "age": 3}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn wrong_content_type_is_415() {
    let base = spawn_probe().await;
    let response = reqwest::Client::new()
        .post(format!("{base}/probe"))
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_problem(response, 415).await;
}

#[tokio::test]
async fn bad_query_parameters_are_400_naming_the_parameter() {
    let base = spawn_probe().await;
    for query in ["limit=500", "limit=abc", ""] {
        let response = reqwest::get(format!("{base}/probe?{query}")).await.unwrap();
        let body = assert_problem(response, 400).await;
        assert_eq!(body["errors"][0]["field"], "limit", "{query}");
    }
}

#[tokio::test]
async fn configured_body_limit_applies() {
    let base = spawn_probe().await;
    let big = format!(r#"{{"name": "{}", "age": 1}}"#, "x".repeat(2000));
    let response = reqwest::Client::new()
        .post(format!("{base}/probe"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_problem(response, 413).await;
}

#[tokio::test]
async fn panics_and_internal_errors_are_500_without_internals() {
    let base = spawn_probe().await;
    for path in ["/probe/panic", "/probe/fail"] {
        let response = reqwest::get(format!("{base}{path}")).await.unwrap();
        let body = assert_problem(response, 500).await;
        let text = body.to_string();
        assert!(
            !text.contains("hunter2") && !text.contains("secret"),
            "{text}"
        );
    }
}
