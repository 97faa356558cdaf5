use cartwheel_testkit::{Backend, assert_problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn health_reports_status_version_and_time() {
    let app = spawn_app().await;
    let response = app.get("/health").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert!(body["timestamp"].as_str().unwrap().contains('T'));
    assert_eq!(app.get("/health/live").await.status(), 200);
}

cartwheel_testkit::on_each_backend!(ready_on_postgres_and_sqlite);

async fn ready_on_postgres_and_sqlite(backend: Backend) {
    let app = spawn_app_with(backend, &[]).await;
    let response = app.get("/health/ready").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["database"], "ok");
    assert_eq!(body["jobStorage"], "ok");
}

#[tokio::test]
async fn ready_is_503_naming_the_database_when_it_is_gone() {
    let app = spawn_app().await;
    assert_eq!(app.get("/health/ready").await.status(), 200);
    app.database.drop_now().await;
    let body = assert_problem(app.get("/health/ready").await, 503).await;
    let failed: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(failed.contains(&"database"), "{body}");
    assert!(body["detail"].as_str().unwrap().contains("database"));
    // The database's own error text stays in the log.
    for error in body["errors"].as_array().unwrap() {
        assert_eq!(
            error["message"], "did not answer; the server log has the cause",
            "{body}"
        );
    }
    // Liveness does no I/O, so it stays up.
    assert_eq!(app.get("/health/live").await.status(), 200);
}

/// `cartwheel health`, the container's health check: exit 0 against a live API, and not 0
/// (naming the address) where nothing listens.
#[tokio::test]
async fn the_health_command_checks_the_live_endpoint() {
    let app = spawn_app().await;
    let bind = app.address.trim_start_matches("http://").to_string();
    let health = |bind: String| async move {
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(cartwheel_testkit::process::binary())
                .arg("health")
                .env_clear()
                .env("CARTWHEEL_BIND", bind)
                .output()
                .expect("run cartwheel health")
        })
        .await
        .unwrap()
    };
    let live = health(bind.clone()).await;
    assert!(live.status.success(), "{live:?}");

    // A port nothing listens on: the listener bound and dropped.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let down = health(closed.to_string()).await;
    assert!(!down.status.success());
    assert!(
        String::from_utf8_lossy(&down.stderr).contains(&closed.to_string()),
        "{down:?}"
    );
}
