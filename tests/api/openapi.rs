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

    for path in [
        "/api/v1/provision",
        "/api/v1/provision/{tenant_id}/status",
        "/api/v1/auth/login",
        "/api/v1/auth/me",
        "/api/v1/auth/forgot-password",
        "/api/v1/auth/reset-password",
        "/api/v1/auth/accept-invite",
        "/api/v1/admin/users",
        "/api/v1/admin/invitations",
        "/api/v1/admin/users/{id}/role",
        "/api/v1/admin/ledger-accounts",
        "/api/v1/admin/warehouses",
        "/api/v1/admin/jobs",
    ] {
        assert!(
            paths.contains_key(path),
            "missing {path}: {:?}",
            paths.keys()
        );
    }
    // Every API operation documents its errors as problem+json; admin ones need a token.
    for (path, operations) in paths.iter().filter(|(p, _)| p.starts_with("/api/v1/")) {
        if path == "/api/v1/openapi.json" {
            continue;
        }
        for (method, operation) in operations.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            let problems = responses
                .iter()
                .filter(|(status, r)| {
                    status.starts_with('4') && r["content"]["application/problem+json"].is_object()
                })
                .count();
            assert!(
                problems > 0,
                "{method} {path} documents no problem+json error"
            );
            if path.starts_with("/api/v1/admin/") || path == "/api/v1/auth/me" {
                assert!(
                    operation["security"]
                        .as_array()
                        .is_some_and(|s| !s.is_empty()),
                    "{method} {path} has no security requirement"
                );
            }
        }
    }
}

#[tokio::test]
async fn serves_swagger_ui() {
    let app = spawn_app_sqlite().await;
    let response = app.get("/docs").await;
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("swagger"));
}
