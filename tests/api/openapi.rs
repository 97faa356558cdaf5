use crate::helpers::spawn_app_sqlite;

#[tokio::test]
async fn serves_the_openapi_document_with_error_responses() {
    let app = spawn_app_sqlite().await;
    let response = app.get("/api/v1/openapi.json").await;
    assert_eq!(response.status(), 200);
    let spec: serde_json::Value = response.json().await.unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    let paths = spec["paths"].as_object().unwrap();
    for path in ["/health", "/health/live", "/health/ready", "/api/v1/tenant"] {
        assert!(paths.contains_key(path), "missing {path}");
    }
    let tenant = &spec["paths"]["/api/v1/tenant"]["get"]["responses"];
    assert!(
        tenant["404"]["content"]["application/problem+json"].is_object(),
        "{tenant}"
    );
    let ready = &spec["paths"]["/health/ready"]["get"]["responses"];
    assert!(ready["503"]["content"]["application/problem+json"].is_object());
}

#[tokio::test]
async fn serves_swagger_ui() {
    let app = spawn_app_sqlite().await;
    let response = app.get("/docs").await;
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("swagger"));
}
