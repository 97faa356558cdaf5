use cartwheel_testkit::{Backend, assert_problem, spawn_app, spawn_app_with, wait_until_ready};

#[tokio::test]
async fn resolves_the_tenant_from_the_header() {
    let app = spawn_app().await;
    // The demo shop of a first run is provisioned through the queue; its currency comes with it.
    wait_until_ready(&app, "demo").await;
    let response = app
        .client
        .get(app.url("/api/v1/tenant"))
        .header("X-Tenant", "demo")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["slug"], "demo");
    assert_eq!(body["currency"], "USD");
}

#[tokio::test]
async fn resolves_the_tenant_from_the_host_subdomain() {
    let app = spawn_app_with(Backend::Sqlite, &[("CARTWHEEL_BASE_DOMAIN", "shops.test")]).await;
    let response = app
        .client
        .get(app.url("/api/v1/tenant"))
        .header("Host", "demo.shops.test:8080")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["slug"], "demo");
    // A host outside the base domain names no tenant.
    let response = app
        .client
        .get(app.url("/api/v1/tenant"))
        .header("Host", "demo.elsewhere.test")
        .send()
        .await
        .unwrap();
    assert_problem(response, 404).await;
}

#[tokio::test]
async fn unknown_or_missing_tenant_is_a_404_problem() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/api/v1/tenant"))
        .header("X-Tenant", "nosuchshop")
        .send()
        .await
        .unwrap();
    let body = assert_problem(response, 404).await;
    assert!(body["detail"].as_str().unwrap().contains("nosuchshop"));
    let body = assert_problem(app.get("/api/v1/tenant").await, 404).await;
    assert!(body["detail"].as_str().unwrap().contains("X-Tenant"));
}
