use cartwheel_testkit::spawn_app;

#[tokio::test]
async fn generates_an_id_when_none_is_sent() {
    let app = spawn_app().await;
    let first = app.get("/health").await;
    let second = app.get("/health").await;
    let a = first.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    let b = second.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(a.len(), 36, "a UUID: {a}");
    assert_ne!(a, b);
}

#[tokio::test]
async fn propagates_the_clients_id_on_success_and_on_errors() {
    let app = spawn_app().await;
    for path in ["/health", "/no/such/route"] {
        let response = app
            .client
            .get(app.url(path))
            .header("X-Request-Id", "trace-abc_123")
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["x-request-id"], "trace-abc_123");
    }
}

#[tokio::test]
async fn replaces_an_unsafe_id() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/health"))
        .header("X-Request-Id", "bad id with spaces")
        .send()
        .await
        .unwrap();
    assert_ne!(response.headers()["x-request-id"], "bad id with spaces");
}
