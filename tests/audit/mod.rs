//! The audit log: every admin change recorded with who, when, the request and a small diff,
//! written with the change (a refused change leaves none); read by `audit:read` only, one
//! shop at a time. Real Postgres and SQLite, real HTTP.

use reqwest::Method;
use serde_json::{Value, json};

use crate::catalog::{create_item, item};
use crate::orders::{confirm, parcel_to, ready_checkout, stocked};
use cartwheel_testkit::shops::{ShopAdmin, app_with_mail, ready_shop};
use cartwheel_testkit::smtp::MailServer;
use cartwheel_testkit::{Backend, drain_jobs};

/// The shop's audit rows matching `query` (newest first), all of them.
async fn audit(admin: &ShopAdmin<'_>, query: &str) -> Vec<Value> {
    let page = admin
        .get_ok(&format!("/api/v1/admin/audit?limit=100&{query}"))
        .await;
    assert!(page["total"].as_u64().unwrap() <= 100, "{page}");
    page["items"].as_array().unwrap().clone()
}

/// (entity, action) of each row, oldest first.
fn what(rows: &[Value]) -> Vec<(String, String)> {
    rows.iter()
        .rev()
        .map(|r| {
            (
                r["entity"].as_str().unwrap().to_string(),
                r["action"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn every_admin_change_is_recorded_with_who_what_and_the_request() {
    let mail = MailServer::start().await;
    let key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    let app = app_with_mail(Backend::Postgres, &mail, &[("CARTWHEEL_SECRETS_KEY", key)]).await;
    let owner = ready_shop(&app, "audit-shop").await;
    let owner_id = owner.get_ok("/api/v1/auth/me").await["user"]["id"].clone();

    // Products and prices, with the request id the client sent.
    let created = owner
        .request(Method::POST, "/api/v1/store/admin/products")
        .header("X-Request-Id", "audit-test-1")
        .json(&item("LAMP", "Lamp", 1200, true, None))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let lamp = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut cheaper = item("LAMP", "Lamp", 990, true, None);
    cheaper["listing"]["longDescription"] = json!("x".repeat(5000));
    let (status, _) = owner
        .put(&format!("/api/v1/store/admin/products/{lamp}"), cheaper)
        .await;
    assert_eq!(status, 200);
    let rows = audit(&owner, &format!("entity=product&entityId={lamp}")).await;
    assert_eq!(
        what(&rows),
        [
            ("product".into(), "created".into()),
            ("product".into(), "updated".into())
        ]
    );
    let (update, create) = (&rows[0], &rows[1]);
    assert_eq!(create["actorId"], owner_id);
    assert_eq!(create["actorEmail"], "owner@audit-shop.example");
    assert_eq!(create["requestId"], "audit-test-1");
    assert_eq!(create["diff"]["price"], json!({"after": 1200}));
    assert_eq!(create["diff"]["sku"], json!({"after": "LAMP"}));
    assert_eq!(
        update["diff"]["price"],
        json!({"before": 1200, "after": 990})
    );
    let long = update["diff"]["longDescription"]["after"].as_str().unwrap();
    assert_eq!(long.chars().count(), 201, "long text is cut");
    assert!(update["diff"].get("sku").is_none(), "only what changed");
    assert!(update["diff"].get("updatedAt").is_none());
    assert!(
        update["requestId"]
            .as_str()
            .is_some_and(|id| !id.is_empty())
    );

    // Stock, coupons, settings, tax, shipping, Stripe keys, users and roles.
    let stocked_id = stocked(&owner, "MUG", 800, 10).await;
    let (status, coupon) = owner
        .post(
            "/api/v1/store/admin/coupons",
            json!({"code": "TEN", "kind": "percent", "value": 10}),
        )
        .await;
    assert_eq!(status, 201, "{coupon}");
    let (status, _) = owner
        .put(
            "/api/v1/admin/settings",
            json!({"country": "US", "timezone": "America/New_York", "pricesIncludeTax": false}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = owner
        .post(
            "/api/v1/admin/tax-rules",
            json!({"name": "Oregon", "country": "US", "region": "OR", "rateBasisPoints": 0}),
        )
        .await;
    assert_eq!(status, 201);
    let method = parcel_to(&owner, &["US"], 500).await;
    let secret = "sk_test_audit_never_shown_1234";
    let (status, keys) = owner
        .put(
            "/api/v1/admin/payments/stripe",
            json!({"publishableKey": "pk_test_audit_public_key", "secretKey": secret, "webhookSecret": "whsec_audit_never_shown_5678"}),
        )
        .await;
    assert_eq!(status, 200, "{keys}");
    let (staff, staff_id) = owner
        .invite_admin(&mail, "sam@audit-shop.example", "Staff")
        .await;
    let (status, _) = owner
        .put(
            &format!("/api/v1/admin/users/{staff_id}/role"),
            json!({"role": "Viewer"}),
        )
        .await;
    assert_eq!(status, 200);

    // An order: placed by a shopper (not an admin change), marked paid and shipped by the owner.
    let shopper = owner.shopper();
    let checkout = ready_checkout(
        &shopper,
        &[(&stocked_id, 1)],
        "ada@example.com",
        Some(&method),
    )
    .await;
    let order = confirm(&shopper, &checkout)
        .await
        .json::<Value>()
        .await
        .unwrap();
    let order_id = order["orderId"].as_str().unwrap();
    let (status, _) = owner
        .post(
            &format!("/api/v1/store/admin/orders/{order_id}/mark-paid"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = owner
        .put(
            &format!("/api/v1/store/admin/orders/{order_id}/status"),
            json!({"status": "shipped", "carrier": "UPS", "trackingNumber": "1Z999"}),
        )
        .await;
    assert_eq!(status, 200);

    let rows = audit(&owner, "").await;
    assert_eq!(
        what(&rows),
        [
            ("product", "created"),
            ("product", "updated"),
            ("product", "created"),
            ("stock", "adjusted"),
            ("coupon", "created"),
            ("settings", "updated"),
            ("tax_rule", "created"),
            ("shipping_zone", "created"),
            ("shipping_method", "created"),
            ("stripe_settings", "created"),
            ("invitation", "created"),
            ("user", "role_changed"),
            ("order", "marked_paid"),
            ("order", "status_changed"),
        ]
        .map(|(e, a)| (e.to_string(), a.to_string()))
    );
    let find = |entity: &str, action: &str| {
        rows.iter()
            .find(|r| r["entity"] == entity && r["action"] == action)
            .unwrap()
            .clone()
    };
    assert_eq!(
        find("stock", "adjusted")["diff"],
        json!({"quantity": {"before": null, "after": 10}, "place": {"before": null, "after": "MAIN/PICKING"}, "reason": {"before": null, "after": "initial count"}})
    );
    assert_eq!(
        find("settings", "updated")["diff"]["timezone"]["after"],
        "America/New_York"
    );
    assert_eq!(
        find("user", "role_changed")["diff"],
        json!({"role": {"before": "Staff", "after": "Viewer"}})
    );
    assert_eq!(find("user", "role_changed")["entityId"], staff_id.as_str());
    let shipped = find("order", "status_changed");
    assert_eq!(
        shipped["diff"]["status"],
        json!({"before": "processing", "after": "shipped"})
    );
    assert_eq!(shipped["diff"]["carrier"]["after"], "UPS");
    assert_eq!(
        find("order", "marked_paid")["diff"]["paymentStatus"],
        json!({"before": "pending", "after": "paid"})
    );
    let stripe = find("stripe_settings", "created");
    assert_eq!(stripe["diff"]["secretKeyLast4"]["after"], "1234");
    // Never a secret or a password, anywhere in the log.
    let everything = serde_json::to_string(&rows).unwrap();
    for secret in [
        secret,
        "whsec_audit_never_shown_5678",
        "lighthouse-pickle-8",
    ] {
        assert!(!everything.contains(secret), "{secret} is in the audit log");
    }
    assert!(!everything.contains("passwordHash") && !everything.contains("$argon2"));

    // Filters: by actor, by time, paging. Sam, a Viewer now, may not read the log.
    let by_owner = audit(&owner, &format!("actorId={}", owner_id.as_str().unwrap())).await;
    assert_eq!(by_owner.len(), rows.len());
    assert!(
        audit(&owner, &format!("actorId={staff_id}"))
            .await
            .is_empty()
    );
    let later = rows[0]["at"].as_str().unwrap();
    let before_last = audit(&owner, &format!("before={}", later.replace('+', "%2B"))).await;
    assert_eq!(before_last.len(), rows.len() - 1);
    let page = owner
        .get_ok("/api/v1/admin/audit?entity=product&page=2&limit=2")
        .await;
    assert_eq!(
        (
            page["total"].as_u64(),
            page["items"].as_array().unwrap().len()
        ),
        (Some(3), 1)
    );
    let (status, problem) = staff.get("/api/v1/admin/audit").await;
    assert_eq!(status, 403, "{problem}");
    let (status, problem) = owner.get("/api/v1/admin/audit?entity=rocket").await;
    assert_eq!(
        (status, problem["errors"][0]["field"].as_str()),
        (400, Some("entity")),
        "{problem}"
    );
    drain_jobs(&app.db).await;
}

#[tokio::test]
async fn a_refused_change_leaves_no_row_and_shops_see_only_their_own() {
    let mail = MailServer::start().await;
    let app = app_with_mail(Backend::Sqlite, &mail, &[]).await;
    let owner = ready_shop(&app, "audit-one").await;
    let other = ready_shop(&app, "audit-two").await;

    let lamp = create_item(&owner, item("LAMP", "Lamp", 1200, true, None)).await;
    // A taken sku, a bad price, an unknown item, a deleted user's role: refused, unrecorded.
    let (status, _) = owner
        .post(
            "/api/v1/store/admin/products",
            item("LAMP", "Other", 1, true, None),
        )
        .await;
    assert_eq!(status, 409);
    let mut bad = item("NEW", "New", 1, true, None);
    bad["unit"] = json!("Furlong");
    let (status, _) = owner.post("/api/v1/store/admin/products", bad).await;
    assert_eq!(status, 422);
    let (status, _) = owner
        .post(
            "/api/v1/admin/stock/adjustments",
            json!({"itemId": lamp, "location": "PICKING", "quantity": -5, "reason": "breakage"}),
        )
        .await;
    assert_eq!(status, 409, "more than is there");
    // The other shop cannot touch this shop's item, and its refusal is not recorded either.
    let (status, _) = other
        .put(
            &format!("/api/v1/store/admin/products/{lamp}"),
            item("LAMP", "Mine", 1, true, None),
        )
        .await;
    assert_eq!(status, 404);
    // A save that changes nothing records nothing.
    let (status, _) = owner
        .put(
            &format!("/api/v1/store/admin/products/{lamp}"),
            item("LAMP", "Lamp", 1200, true, None),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = owner
        .delete(&format!("/api/v1/store/admin/products/{lamp}"))
        .await;
    assert_eq!(status, 204);

    let rows = audit(&owner, "").await;
    assert_eq!(
        what(&rows),
        [("product", "created"), ("product", "deleted")]
            .map(|(e, a)| (e.to_string(), a.to_string()))
    );
    assert_eq!(
        rows[0]["diff"]["sku"],
        json!({"before": "LAMP", "after": null})
    );
    assert!(audit(&other, "").await.is_empty());
    let (status, _) = other
        .get(&format!("/api/v1/admin/audit?entityId={lamp}"))
        .await;
    assert_eq!(status, 200);
    assert!(audit(&other, &format!("entityId={lamp}")).await.is_empty());
}

cartwheel_testkit::on_each_backend!(cancelling_a_shops_job_is_recorded_with_who_did_it);

async fn cancelling_a_shops_job_is_recorded_with_who_did_it(backend: Backend) {
    use cartwheel_jobs::families::noop::Noop;
    use cartwheel_jobs::{NewJob, enqueue};

    let mail = MailServer::start().await;
    let app = app_with_mail(backend, &mail, &[]).await;
    let owner = ready_shop(&app, "audit-jobs").await;
    let tenant = cartwheel_entity::TenantId(owner.tenant_id.parse().unwrap());
    let later = chrono::Utc::now() + chrono::Duration::hours(1);
    let scheduled = |tenant: Option<cartwheel_entity::TenantId>| {
        let job = NewJob::new(Noop::default()).run_at(later);
        let job = match tenant {
            Some(tenant) => job.tenant(tenant),
            None => job,
        };
        enqueue(&app.db, job)
    };
    let (mine, theirs, platform) = (
        scheduled(Some(tenant)).await.unwrap().id,
        scheduled(Some(tenant)).await.unwrap().id,
        scheduled(None).await.unwrap().id,
    );

    // The shop's admin cancels one job, the operator another and a platform job.
    let response = owner
        .request(Method::POST, &format!("/api/v1/admin/jobs/{mine}/cancel"))
        .header("X-Request-Id", "cancel-1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let by_operator = |id: String| {
        app.client
            .post(app.url(&format!("/api/v1/admin/jobs/{id}/cancel")))
            .bearer_auth("operator-secret")
            .header("X-Request-Id", "cancel-2")
            .send()
    };
    assert_eq!(by_operator(theirs.clone()).await.unwrap().status(), 200);
    assert_eq!(by_operator(platform).await.unwrap().status(), 200);
    // Cancelling again is refused and recorded nowhere.
    let (status, _) = owner
        .post(&format!("/api/v1/admin/jobs/{mine}/cancel"), json!({}))
        .await;
    assert_eq!(status, 409);

    let rows = audit(&owner, "entity=job").await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    let (operator_row, owner_row) = (&rows[0], &rows[1]);
    assert_eq!(owner_row["entityId"], mine.as_str());
    assert_eq!(owner_row["action"], "cancelled");
    assert_eq!(owner_row["actorEmail"], "owner@audit-jobs.example");
    assert_eq!(owner_row["requestId"], "cancel-1");
    assert_eq!(
        owner_row["diff"],
        json!({"state": {"before": "scheduled", "after": "cancelled"}})
    );
    assert_eq!(operator_row["entityId"], theirs.as_str());
    assert_eq!(operator_row["actorEmail"], "operator");
    assert_eq!(operator_row["actorId"], Value::Null);
    assert_eq!(operator_row["requestId"], "cancel-2");
}
