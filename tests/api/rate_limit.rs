use cartwheel_testkit::{Backend, assert_problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn a_client_gets_a_burst_of_the_minute_limit_then_429() {
    // The default: 100 a minute.
    let app = spawn_app().await;
    let response = app.get("/api/v1/openapi.json").await;
    assert_eq!(response.headers()["ratelimit-limit"], "100");
    assert_eq!(response.headers()["ratelimit-remaining"], "99");
    // 5 a minute: one share comes back every 12 s, so the burst below is exact.
    let app = spawn_app_with(Backend::Sqlite, &[("CARTWHEEL_RATE_LIMIT_PER_MINUTE", "5")]).await;
    for i in 1..=5 {
        let response = app.get("/api/v1/openapi.json").await;
        assert_eq!(response.status(), 200, "request {i}");
        assert_eq!(response.headers()["ratelimit-limit"], "5");
        assert_eq!(
            response.headers()["ratelimit-remaining"].to_str().unwrap(),
            (5 - i).to_string()
        );
    }
    let response = app.get("/api/v1/openapi.json").await;
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=12).contains(&retry_after), "{retry_after}");
    assert_eq!(response.headers()["ratelimit-remaining"], "0");
    assert_problem(response, 429).await;
    // Probes are never limited.
    for _ in 0..5 {
        assert_eq!(app.get("/health").await.status(), 200);
        assert_eq!(app.get("/health/ready").await.status(), 200);
    }
}

#[tokio::test]
async fn forwarded_for_is_ignored_from_untrusted_peers() {
    let app = spawn_app_with(Backend::Sqlite, &[("CARTWHEEL_RATE_LIMIT_PER_MINUTE", "2")]).await;
    for (i, client) in ["1.1.1.1", "2.2.2.2", "3.3.3.3"].iter().enumerate() {
        let response = app
            .client
            .get(app.url("/api/v1/openapi.json"))
            .header("X-Forwarded-For", *client)
            .send()
            .await
            .unwrap();
        let expected = if i < 2 { 200 } else { 429 };
        assert_eq!(response.status(), expected, "request {i}");
    }
}

#[tokio::test]
async fn forwarded_for_names_the_client_behind_a_trusted_proxy() {
    let app = spawn_app_with(
        Backend::Sqlite,
        &[
            ("CARTWHEEL_RATE_LIMIT_PER_MINUTE", "2"),
            ("CARTWHEEL_TRUSTED_PROXIES", "127.0.0.1"),
        ],
    )
    .await;
    let send = |client: &'static str| {
        app.client
            .get(app.url("/api/v1/openapi.json"))
            .header("X-Forwarded-For", client)
            .send()
    };
    assert_eq!(send("1.1.1.1").await.unwrap().status(), 200);
    assert_eq!(send("1.1.1.1").await.unwrap().status(), 200);
    assert_eq!(send("1.1.1.1").await.unwrap().status(), 429);
    // A different client behind the same proxy has its own budget; spoofed hops to the left are ignored.
    assert_eq!(send("9.9.9.9, 2.2.2.2").await.unwrap().status(), 200);
}
