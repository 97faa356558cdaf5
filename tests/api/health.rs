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
