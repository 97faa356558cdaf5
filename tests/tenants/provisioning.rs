//! Signup to READY: validation, idempotency, the status endpoint, seeded data, the mail.

use reqwest::Method;
use serde_json::{Value, json};

use cartwheel_testkit::shops::*;
use cartwheel_testkit::smtp::MailServer;
use cartwheel_testkit::{Backend, assert_problem, job_count, scalar};

cartwheel_testkit::on_each_backend!(
    a_signup_becomes_a_ready_shop_with_every_default_and_a_welcome_mail
);

async fn a_signup_becomes_a_ready_shop_with_every_default_and_a_welcome_mail(backend: Backend) {
    let mail = MailServer::start().await;
    let app = app_with_mail(backend, &mail, &[]).await;

    let tenant_id = provision(&app, "acme").await;
    let first = status(&app, &tenant_id).await;
    assert!(
        [
            "PENDING",
            "CREATING_TENANT",
            "SEEDING_DATA",
            "CONFIGURING",
            "READY"
        ]
        .contains(&first["status"].as_str().unwrap()),
        "{first}"
    );
    let ready = wait_for_status(&app, &tenant_id, "READY").await;
    assert_eq!(ready["progress"], 100);
    assert_eq!(ready["estimatedSecondsRemaining"], 0);
    assert!(ready["error"].is_null());

    let count = |table: &str| {
        // SQLite keeps uuids as blobs: name the tenant by slug.
        let sql = format!(
            "SELECT COUNT(*) FROM {table} WHERE tenant_id = (SELECT id FROM tenants WHERE slug = 'acme')"
        );
        let db = app.db.clone();
        async move { scalar(&db, &sql).await }
    };
    assert_eq!(count("ledger_accounts").await, 22);
    assert_eq!(count("warehouses").await, 1);
    assert_eq!(count("warehouse_locations").await, 4);
    assert_eq!(count("units").await, 4);
    assert_eq!(count("tax_rules").await, 3);
    assert_eq!(count("roles").await, 4);
    assert_eq!(count("users").await, 1);
    assert_eq!(count("store_settings").await, 1);
    let owner_hash: i64 = scalar(
        &app.db,
        "SELECT COUNT(*) FROM users WHERE tenant_id = (SELECT id FROM tenants WHERE slug = 'acme') AND password_hash LIKE '$argon2id$%' AND active",
    )
    .await;
    assert_eq!(owner_hash, 1, "the owner's password is an argon2id hash");
    let kept_hashes = scalar(
        &app.db,
        "SELECT COUNT(*) FROM tenant_signups WHERE tenant_id = (SELECT id FROM tenants WHERE slug = 'acme') AND owner_password_hash IS NOT NULL",
    )
    .await;
    assert_eq!(
        kept_hashes, 0,
        "the signup forgets the password hash once the owner exists"
    );

    // The owner's store-ready mail, with the login link on the shop's own subdomain.
    let mails = mails_after_drain(&app, &mail, "owner@acme.example", 1).await;
    let welcome = &mails[0];
    assert_eq!(welcome.subject, "Your store acme Supplies is ready");
    assert_eq!(welcome.from, "no-reply@localhost");
    assert!(
        welcome
            .text
            .contains("http://acme.shops.test:8080/admin/login"),
        "{}",
        welcome.text
    );
    assert!(
        welcome
            .html
            .contains("href=\"http://acme.shops.test:8080/admin/login\""),
        "{}",
        welcome.html
    );

    // The owner logs in and reads every seeded list.
    let owner = log_in_owner(&app, "acme", tenant_id).await;
    let get = |path: &'static str| {
        let request = owner.request(Method::GET, path);
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200, "{path}");
            response.json::<Value>().await.unwrap()
        }
    };
    let chart = get("/api/v1/admin/ledger-accounts").await;
    let roots: Vec<&str> = chart["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["rootType"].as_str().unwrap())
        .collect();
    assert_eq!(roots, ["Asset", "Liability", "Equity", "Income", "Expense"]);
    let all_names = chart.to_string();
    for name in [
        "Cash",
        "Bank",
        "Accounts Receivable",
        "Stock Asset",
        "Accounts Payable",
        "Sales Tax Payable",
        "Owner's Equity",
        "Sales",
        "Cost of Goods Sold",
        "Expenses",
    ] {
        assert!(
            all_names.contains(&format!("\"name\":\"{name}\"")),
            "{name} in the chart"
        );
    }
    let current_assets = &chart["items"][0]["children"][0];
    assert_eq!(current_assets["name"], "Current Assets");
    assert_eq!(current_assets["children"][0]["name"], "Cash");

    let warehouses = get("/api/v1/admin/warehouses").await;
    assert_eq!(warehouses["items"][0]["name"], "Main Warehouse");
    let locations: Vec<(String, Value)> = warehouses["items"][0]["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["code"].as_str().unwrap().to_string(),
                l["parentCode"].clone(),
            )
        })
        .collect();
    assert_eq!(
        locations,
        [
            ("ROOT".to_string(), Value::Null),
            ("PICKING".to_string(), json!("ROOT")),
            ("RECEIVING".to_string(), json!("ROOT")),
            ("STAGING".to_string(), json!("ROOT")),
        ]
    );
    let units = get("/api/v1/admin/units").await;
    let codes: Vec<&str> = units["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["Box", "Kg", "L", "Nos"]);
    // The shop's country (US, as the signup named none) gets a rule for every class and one
    // each for the reduced and zero classes.
    let taxes = get("/api/v1/admin/tax-rules").await;
    let rules: Vec<(&str, Value, Value, i64)> = taxes["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["country"].as_str().unwrap(),
                r["region"].clone(),
                r["taxClass"].clone(),
                r["rateBasisPoints"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rules,
        [
            ("US", Value::Null, Value::Null, 1000),
            ("US", Value::Null, json!("reduced"), 500),
            ("US", Value::Null, json!("zero"), 0),
        ]
    );
    let settings = get("/api/v1/admin/settings").await;
    assert_eq!(
        settings,
        json!({"currency": "USD", "timezone": "UTC", "country": "US", "pricesIncludeTax": false})
    );
    let roles = get("/api/v1/admin/roles").await;
    let names: Vec<&str> = roles["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Admin", "Owner", "Staff", "Viewer"]);

    // Exactly one mail to the owner, however long we wait.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(mails_to(&mail, "owner@acme.example").len(), 1);
}

#[tokio::test]
async fn signup_errors_name_each_field() {
    let mail = MailServer::start().await;
    // More signups than the default budget of 10 a minute; that limit has its own test.
    let budget = [("CARTWHEEL_PROVISION_RATE_LIMIT_PER_MINUTE", "100")];
    let app = app_with_mail(Backend::Postgres, &mail, &budget).await;

    let body = json!({
        "businessName": "  ",
        "ownerEmail": "not-an-email",
        // Long enough for the schema, but on the common-password list.
        "ownerPassword": "Password123",
        "domain": "ab",
    });
    let problem = assert_problem(post_signup(&app, &body).await, 422).await;
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["businessName", "ownerEmail", "domain", "ownerPassword"]
    );

    for (domain, message) in [
        ("www", "reserved"),
        ("admin", "reserved"),
        ("my_shop", "a-z"),
        ("-shop", "start or end"),
        (&"x".repeat(64) as &str, "63"),
    ] {
        let mut body = signup("placeholder");
        body["domain"] = json!(domain);
        let problem = assert_problem(post_signup(&app, &body).await, 422).await;
        assert_eq!(problem["errors"][0]["field"], "domain", "{domain}");
        assert!(
            problem["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains(message),
            "{problem}"
        );
    }

    let mut common = signup("fresh-shop");
    common["ownerPassword"] = json!("Password123");
    let problem = assert_problem(post_signup(&app, &common).await, 422).await;
    assert_eq!(problem["errors"][0]["field"], "ownerPassword");
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("common")
    );

    let mut missing = signup("fresh-shop");
    missing.as_object_mut().unwrap().remove("ownerEmail");
    let problem = assert_problem(post_signup(&app, &missing).await, 422).await;
    assert_eq!(problem["errors"][0]["field"], "ownerEmail");

    // Currency and time zone come from the real lists, not their shape.
    for (field, value) in [("currency", "ABC"), ("timezone", "Europe/Atlantis")] {
        let mut unreal = signup("fresh-shop");
        unreal[field] = json!(value);
        let problem = assert_problem(post_signup(&app, &unreal).await, 422).await;
        assert_eq!(problem["errors"][0]["field"], field, "{value}: {problem}");
    }

    // `demo` exists on every first run.
    let problem = assert_problem(post_signup(&app, &signup("demo")).await, 409).await;
    assert_eq!(problem["errors"][0]["field"], "domain");
    // Case does not make a new domain.
    let problem = assert_problem(post_signup(&app, &signup("DEMO")).await, 409).await;
    assert!(problem["detail"].as_str().unwrap().contains("demo"));

    // Nothing of the rejected signups was written.
    assert_eq!(scalar(&app.db, "SELECT COUNT(*) FROM tenants").await, 1);
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_answer() {
    let mail = MailServer::start().await;
    let app = app_with_mail(Backend::Postgres, &mail, &[]).await;
    let send = |body: Value, key: &'static str| {
        let request = app
            .client
            .post(app.url("/api/v1/provision"))
            .header("Idempotency-Key", key)
            .json(&body);
        async move { request.send().await.unwrap() }
    };
    // Five concurrent retries of one request: one tenant, one answer.
    let answers =
        futures::future::join_all((0..5).map(|_| send(signup("retry-shop"), "key-1"))).await;
    let mut ids = Vec::new();
    for response in answers {
        assert_eq!(response.status(), 202);
        let body: Value = response.json().await.unwrap();
        ids.push(body["tenantId"].as_str().unwrap().to_string());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "every retry names the same tenant");
    assert_eq!(
        scalar(
            &app.db,
            "SELECT COUNT(*) FROM tenants WHERE slug = 'retry-shop'"
        )
        .await,
        1
    );
    let provisioning = job_count(&app.db, Some("provisioning.tenant"), None).await;
    assert_eq!(
        provisioning, 2,
        "one provisioning job for retry-shop, one for demo"
    );

    // The same key for a different signup is refused.
    let problem = assert_problem(send(signup("other-shop"), "key-1").await, 409).await;
    assert!(
        problem["type"]
            .as_str()
            .unwrap()
            .ends_with("idempotency-key-reused")
    );

    wait_for_status(&app, &ids[0], "READY").await;
    let again = send(signup("retry-shop"), "key-1").await;
    assert_eq!(again.status(), 202);
    let body: Value = again.json().await.unwrap();
    assert_eq!(body["tenantId"], ids[0].as_str());
    assert_eq!(body["status"], "PENDING", "the first answer, replayed");
    assert_eq!(
        mails_after_drain(&app, &mail, "owner@retry-shop.example", 1)
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn signups_have_a_stricter_rate_limit_than_the_rest() {
    let mail = MailServer::start().await;
    let app = app_with_mail(
        Backend::Postgres,
        &mail,
        &[("CARTWHEEL_PROVISION_RATE_LIMIT_PER_MINUTE", "3")],
    )
    .await;
    let mut last_id = String::new();
    for n in 0..3 {
        last_id = provision(&app, &format!("limited-{n}")).await;
    }
    let refused = post_signup(&app, &signup("limited-3")).await;
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(refused.headers()["ratelimit-limit"], "3");
    assert_problem(refused, 429).await;
    // Polling the status is not a signup.
    for _ in 0..5 {
        assert_eq!(
            app.get(&format!("/api/v1/provision/{last_id}/status"))
                .await
                .status(),
            200
        );
    }
}

#[tokio::test]
async fn a_failed_attempt_reports_failed_then_the_retry_makes_it_ready() {
    let mail = MailServer::start().await;
    let app = app_with_mail(Backend::Postgres, &mail, &[]).await;
    cartwheel_testkit::wait_until_ready(&app, "demo").await;
    // Take a seed table away so seeding fails; the job's retry finds it back.
    use sea_orm::ConnectionTrait;
    app.db
        .execute_unprepared("ALTER TABLE units RENAME TO units_away")
        .await
        .unwrap();
    let tenant_id = provision(&app, "flaky").await;
    let failed = wait_for_status(&app, &tenant_id, "FAILED").await;
    assert!(
        failed["error"].as_str().unwrap().contains("attempt 1 of 5"),
        "{failed}"
    );
    assert!(failed["estimatedSecondsRemaining"].is_null());
    assert!(
        !failed["error"].as_str().unwrap().contains("units"),
        "no internals: {failed}"
    );
    assert_eq!(
        scalar(
            &app.db,
            &format!("SELECT COUNT(*) FROM ledger_accounts WHERE tenant_id = '{tenant_id}'")
        )
        .await,
        0,
        "the failed seed left nothing behind"
    );
    app.db
        .execute_unprepared("ALTER TABLE units_away RENAME TO units")
        .await
        .unwrap();
    // The first retry waits 2.5–5 s of backoff.
    wait_for_status(&app, &tenant_id, "READY").await;
    assert_eq!(
        scalar(
            &app.db,
            &format!("SELECT COUNT(*) FROM ledger_accounts WHERE tenant_id = '{tenant_id}'")
        )
        .await,
        22
    );
    assert_eq!(
        mails_after_drain(&app, &mail, "owner@flaky.example", 1)
            .await
            .len(),
        1
    );
}
