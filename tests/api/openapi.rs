use cartwheel_testkit::spawn_app_sqlite;

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
        "/api/v1/provision/{tenantId}/status",
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
        "/api/v1/admin/tax-rules",
        "/api/v1/admin/tax-rules/{id}",
        "/api/v1/admin/audit",
    ] {
        assert!(
            paths.contains_key(path),
            "missing {path}: {:?}",
            paths.keys()
        );
    }
    // Stored enums are documented with their values, in answers as in requests.
    let schemas = &spec["components"]["schemas"];
    // Countries are one schema listing every ISO 3166-1 alpha-2 code.
    let countries = schemas["Country"]["enum"].as_array().unwrap();
    assert_eq!(countries.len(), 249);
    assert!(countries.contains(&serde_json::json!("DE")));
    assert_eq!(
        schemas["TaxRuleRequest"]["properties"]["country"]["$ref"],
        "#/components/schemas/Country"
    );
    // Permissions by their one name, the one roles store.
    let permissions = schemas["Permission"]["enum"].as_array().unwrap();
    assert_eq!(permissions.len(), 12);
    assert!(permissions.contains(&serde_json::json!("users:read")));
    assert_eq!(
        schemas["RoleView"]["properties"]["permissions"]["items"]["$ref"],
        "#/components/schemas/Permission"
    );
    for (schema, field, values) in [
        ("CouponView", "kind", vec!["percent", "fixed"]),
        ("CouponRequest", "kind", vec!["percent", "fixed"]),
        (
            "TenantView",
            "status",
            vec![
                "PENDING",
                "CREATING_TENANT",
                "SEEDING_DATA",
                "CONFIGURING",
                "READY",
                "FAILED",
            ],
        ),
    ] {
        let property = &schemas[schema]["properties"][field];
        let reference = property["$ref"]
            .as_str()
            .or_else(|| property["allOf"][0]["$ref"].as_str())
            .unwrap_or_else(|| panic!("{schema}.{field} is no enum: {property}"));
        let name = reference.trim_start_matches("#/components/schemas/");
        assert_eq!(
            schemas[name]["enum"],
            serde_json::json!(values),
            "{schema}.{field}"
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

/// The plan's endpoints (../shared/SEED-API.md), the public contract, as `:x` path parameters.
const PLAN: &[(&str, &str)] = &[
    ("GET", "/health"),
    ("GET", "/health/ready"),
    ("GET", "/health/live"),
    ("POST", "/api/v1/provision"),
    ("GET", "/api/v1/provision/:tenantId/status"),
    ("GET", "/api/v1/store/products"),
    ("GET", "/api/v1/store/products/:slug"),
    ("GET", "/api/v1/store/categories"),
    ("POST", "/api/v1/store/admin/products"),
    ("PUT", "/api/v1/store/admin/products/:id"),
    ("DELETE", "/api/v1/store/admin/products/:id"),
    ("POST", "/api/v1/store/cart"),
    ("GET", "/api/v1/store/cart/:id"),
    ("POST", "/api/v1/store/cart/:id/items"),
    ("PUT", "/api/v1/store/cart/:id/items/:itemId"),
    ("DELETE", "/api/v1/store/cart/:id/items/:itemId"),
    ("POST", "/api/v1/store/cart/:id/coupon"),
    ("DELETE", "/api/v1/store/cart/:id/coupon"),
    ("POST", "/api/v1/store/checkout"),
    ("GET", "/api/v1/store/checkout/:id"),
    ("PUT", "/api/v1/store/checkout/:id"),
    ("POST", "/api/v1/store/checkout/:id/confirm"),
    ("POST", "/api/v1/store/auth/register"),
    ("POST", "/api/v1/store/auth/login"),
    ("GET", "/api/v1/store/auth/me"),
    ("PUT", "/api/v1/store/auth/profile"),
    ("POST", "/api/v1/store/auth/forgot-password"),
    ("POST", "/api/v1/store/auth/reset-password"),
    ("GET", "/api/v1/store/auth/addresses"),
    ("POST", "/api/v1/store/auth/addresses"),
    ("PUT", "/api/v1/store/auth/addresses/:id"),
    ("DELETE", "/api/v1/store/auth/addresses/:id"),
    ("POST", "/api/v1/store/payments/webhook"),
    ("POST", "/api/v1/store/payments/:orderId/refund"),
    ("GET", "/api/v1/store/orders"),
    ("GET", "/api/v1/store/orders/:id"),
    ("POST", "/api/v1/store/orders/:id/cancel"),
    ("GET", "/api/v1/store/admin/orders"),
    ("PUT", "/api/v1/store/admin/orders/:id/status"),
    ("GET", "/api/v1/dashboard/summary"),
    ("GET", "/api/v1/dashboard/attention"),
    ("GET", "/api/v1/dashboard/revenue"),
    ("GET", "/api/v1/dashboard/orders"),
    ("GET", "/api/v1/dashboard/inventory"),
];

/// `/a/:b/c` as OpenAPI writes it: `/a/{b}/c`.
fn openapi_path(plan_path: &str) -> String {
    plan_path
        .split('/')
        .map(|segment| match segment.strip_prefix(':') {
            Some(name) => format!("{{{name}}}"),
            None => segment.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn every_endpoint_of_the_plan_is_at_its_path() {
    let app = spawn_app_sqlite().await;
    let spec: serde_json::Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    let documented = |method: &str, path: &str| {
        spec["paths"][openapi_path(path)][method.to_ascii_lowercase()].is_object()
    };
    let missing: Vec<String> = PLAN
        .iter()
        .filter(|(method, path)| !documented(method, path))
        .map(|(method, path)| format!("{method} {path}"))
        .collect();
    assert!(
        missing.is_empty(),
        "the plan's endpoints missing: {missing:?}"
    );
    assert_eq!(PLAN.len(), 44);
}
