//! The admin dashboard against what the orders say: revenue per period in the shop's timezone
//! (edges included), the pipeline, top sellers, stock alerts, customers and attention counts,
//! each equal to a direct SQL count or sum, as orders are placed, cancelled and shipped and
//! stock changes. Real Postgres and SQLite, real HTTP.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::catalog::ok;
use crate::orders::{confirm, parcel_to, ready_checkout, stocked};
use cartwheel_domain::dashboard::rollups;
use cartwheel_entity::{backup_runs, order_lines, orders};
use cartwheel_testkit::shops::{ShopAdmin, app_with_mail, ready_shop};
use cartwheel_testkit::smtp::MailServer;
use cartwheel_testkit::{Backend, TestApp, drain_jobs, scalar};

/// Places a manual order of `lines` (item, quantity) through the API; its id.
async fn place(owner: &ShopAdmin<'_>, method: &str, lines: &[(&str, i64)]) -> String {
    let shopper = owner.shopper();
    let checkout = ready_checkout(&shopper, lines, "ada@example.com", Some(method)).await;
    let placed = ok(confirm(&shopper, &checkout).await).await;
    placed["orderId"].as_str().unwrap().to_string()
}

/// A copy of order `model` placed at `at` with `status`, written as placing it then would
/// have: the row, its lines, and the rollups by the placing's own function.
async fn copy_at(
    app: &TestApp,
    model: &str,
    number: i64,
    at: DateTime<Utc>,
    status: orders::Status,
) -> Uuid {
    let model: Uuid = model.parse().unwrap();
    let order = orders::Entity::find_by_id(model)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let lines = order_lines::Entity::find()
        .filter(order_lines::Column::OrderId.eq(model))
        .all(&app.db)
        .await
        .unwrap();
    let id = Uuid::now_v7();
    let copy = orders::Model {
        id,
        number,
        checkout_id: Uuid::now_v7(),
        idempotency_key: None,
        token_hash: format!("copy-{id}"),
        status,
        placed_at: at,
        updated_at: at,
        ..order
    };
    let lines: Vec<order_lines::Model> = lines
        .into_iter()
        .map(|l| order_lines::Model { order_id: id, ..l })
        .collect();
    let txn = sea_orm::TransactionTrait::begin(&app.db).await.unwrap();
    copy.clone()
        .into_active_model()
        .reset_all()
        .insert(&txn)
        .await
        .unwrap();
    for line in &lines {
        line.clone()
            .into_active_model()
            .reset_all()
            .insert(&txn)
            .await
            .unwrap();
    }
    rollups::order_changed(&txn, None, &copy, Some(&lines))
        .await
        .unwrap();
    txn.commit().await.unwrap();
    id
}

/// The orders placed in `[from, to)` that stand, and their total less refunds, by SQL.
async fn direct(app: &TestApp, tenant: &str, from: &str, to: &str) -> (i64, i64) {
    let filter = format!(
        "FROM orders WHERE tenant_id = '{tenant}' AND status <> 'cancelled' \
         AND placed_at >= '{from}' AND placed_at < '{to}'"
    );
    (
        scalar(&app.db, &format!("SELECT COUNT(*) {filter}")).await,
        scalar(
            &app.db,
            &format!("SELECT CAST(COALESCE(SUM(total - refunded), 0) AS BIGINT) {filter}"),
        )
        .await,
    )
}

fn at(value: &Value) -> DateTime<Utc> {
    value.as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn figures_equal_what_the_orders_say_across_period_edges() {
    let mail = MailServer::start().await;
    let app = app_with_mail(
        Backend::Postgres,
        &mail,
        &[("CARTWHEEL_RATE_LIMIT_PER_MINUTE", "100000")],
    )
    .await;
    let owner = ready_shop(&app, "dash-shop").await;
    let tenant = owner.tenant_id.clone();
    // Kathmandu is 5:45 ahead of UTC: its days begin at 18:15 UTC, so the shop's days and
    // the rollups' UTC days never line up.
    let (status, _) = owner
        .put(
            "/api/v1/admin/settings",
            json!({"country": "US", "timezone": "Asia/Kathmandu", "pricesIncludeTax": false}),
        )
        .await;
    assert_eq!(status, 200);
    let lamp = stocked(&owner, "LAMP", 1500, 100).await;
    let mug = stocked(&owner, "MUG", 400, 100).await;
    let method = parcel_to(&owner, &["US"], 500).await;

    // Today's orders, placed through the API: one cancelled, one paid and shipped.
    let first = place(&owner, &method, &[(&lamp, 1), (&mug, 2)]).await;
    let second = place(&owner, &method, &[(&mug, 3)]).await;
    let third = place(&owner, &method, &[(&lamp, 2)]).await;
    let (status, _) = owner
        .put(
            &format!("/api/v1/store/admin/orders/{second}/status"),
            json!({"status": "cancelled"}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = owner
        .post(
            &format!("/api/v1/store/admin/orders/{third}/mark-paid"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = owner
        .put(
            &format!("/api/v1/store/admin/orders/{third}/status"),
            json!({"status": "shipped"}),
        )
        .await;
    assert_eq!(status, 200);

    // Copies of the first placed a minute either side of every edge the periods have: the
    // shop's midnights today, yesterday, this week's Monday and this month's first, the UTC
    // midnights between them, and the point as long ago in each period before.
    let revenue = owner.get_ok("/api/v1/dashboard/revenue").await;
    assert_eq!(revenue["timezone"], "Asia/Kathmandu");
    let now = at(&revenue["today"]["to"]);
    let today = at(&revenue["today"]["from"]);
    assert_eq!(
        today.format("%H:%M").to_string(),
        "18:15",
        "the shop's midnight in UTC"
    );
    let mut edges = vec![now - Duration::days(40)];
    for period in ["today", "week", "month"] {
        edges.push(at(&revenue[period]["from"]));
        edges.push(at(&revenue[period]["previousFrom"]));
        edges.push(at(&revenue[period]["previousTo"]));
    }
    let utc_midnight = now.date_naive().and_hms_opt(0, 0, 0).unwrap().and_utc();
    edges.push(utc_midnight);
    edges.push(utc_midnight - Duration::days(1));
    let mut number = 1000;
    let mut copies = Vec::new();
    for edge in edges {
        for at in [edge - Duration::minutes(1), edge + Duration::minutes(1)] {
            if at >= now {
                continue;
            }
            number += 1;
            // Every third copy is delivered, the rest wait for payment.
            let status = if number % 3 == 0 {
                orders::Status::Delivered
            } else {
                orders::Status::Pending
            };
            copies.push(copy_at(&app, &first, number, at, status).await);
        }
    }
    // Some copies are cancelled after the fact, through the API.
    for copy in copies.iter().step_by(4) {
        let (status, body) = owner
            .put(
                &format!("/api/v1/store/admin/orders/{copy}/status"),
                json!({"status": "cancelled"}),
            )
            .await;
        assert!(status == 200 || status == 409, "{body}");
    }

    let revenue = owner.get_ok("/api/v1/dashboard/revenue").await;
    for period in ["today", "week", "month"] {
        let p = &revenue[period];
        let fmt = |v: &Value| at(v).to_rfc3339();
        let current = direct(&app, &tenant, &fmt(&p["from"]), &fmt(&p["to"])).await;
        let previous = direct(
            &app,
            &tenant,
            &fmt(&p["previousFrom"]),
            &fmt(&p["previousTo"]),
        )
        .await;
        assert_eq!(
            (
                p["orders"].as_i64().unwrap(),
                p["revenue"].as_i64().unwrap()
            ),
            current,
            "{period}: {p}"
        );
        assert_eq!(
            (
                p["previousOrders"].as_i64().unwrap(),
                p["previousRevenue"].as_i64().unwrap()
            ),
            previous,
            "{period} before: {p}"
        );
        assert!(current.0 > 0, "{period} has orders: {p}");
        if previous.1 > 0 {
            let change = (current.1 - previous.1) as f64 * 100.0 / previous.1 as f64;
            let shown = p["changePercent"].as_f64().unwrap();
            assert!(
                (shown - change).abs() < 0.051,
                "{period}: {shown} against {change}"
            );
        }
    }

    // The pipeline: every status as counted.
    let pipeline = owner.get_ok("/api/v1/dashboard/orders").await;
    for (field, status) in [
        ("pendingPayment", "pending"),
        ("toFulfil", "processing"),
        ("shipped", "shipped"),
        ("delivered", "delivered"),
        ("cancelled", "cancelled"),
    ] {
        let counted = scalar(
            &app.db,
            &format!(
                "SELECT COUNT(*) FROM orders WHERE tenant_id = '{tenant}' AND status = '{status}'"
            ),
        )
        .await;
        assert_eq!(
            pipeline[field].as_i64(),
            Some(counted),
            "{field}: {pipeline}"
        );
    }

    // The month's top sellers: units and revenue of the lines of the orders that stand.
    let summary = owner.get_ok("/api/v1/dashboard/summary").await;
    let month = &summary["revenue"]["month"];
    for seller in summary["topSellers"]["byUnits"].as_array().unwrap() {
        let sold = |column: &str| {
            format!(
                "SELECT CAST(COALESCE(SUM({column}), 0) AS BIGINT) FROM order_lines l \
                 JOIN orders o ON o.id = l.order_id WHERE o.tenant_id = '{tenant}' \
                 AND o.status <> 'cancelled' AND l.item_id = '{}' \
                 AND o.placed_at >= '{}' AND o.placed_at < '{}'",
                seller["itemId"].as_str().unwrap(),
                at(&month["from"]).to_rfc3339(),
                at(&month["to"]).to_rfc3339()
            )
        };
        assert_eq!(
            seller["units"].as_i64(),
            Some(scalar(&app.db, &sold("l.quantity")).await)
        );
        assert_eq!(
            seller["revenue"].as_i64(),
            Some(scalar(&app.db, &sold("l.line_total - l.discount")).await)
        );
    }
    let by_units: Vec<&str> = summary["topSellers"]["byUnits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sku"].as_str().unwrap())
        .collect();
    assert_eq!(by_units, ["MUG", "LAMP"], "{summary}");
    assert_eq!(summary["topSellers"]["byRevenue"][0]["sku"], "LAMP");
    // The recent activity is the audit log's newest rows.
    let activity = summary["recentActivity"].as_array().unwrap();
    assert_eq!(activity.len(), 10);
    assert_eq!(activity[0]["entity"], "order");

    // Attention moves as orders ship and stock falls.
    let count = |attention: &Value, kind: &str| {
        attention["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["kind"] == kind)
            .unwrap()["count"]
            .as_u64()
            .unwrap()
    };
    let before = owner.get_ok("/api/v1/dashboard/attention").await;
    assert_eq!(count(&before, "lowStock") + count(&before, "outOfStock"), 0);
    let (status, _) = owner
        .post(
            &format!("/api/v1/store/admin/orders/{first}/mark-paid"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    let paid = owner.get_ok("/api/v1/dashboard/attention").await;
    assert_eq!(
        count(&paid, "ordersToShip"),
        count(&before, "ordersToShip") + 1
    );
    let (status, _) = owner
        .put(
            &format!("/api/v1/store/admin/orders/{first}/status"),
            json!({"status": "shipped"}),
        )
        .await;
    assert_eq!(status, 200);
    let shipped = owner.get_ok("/api/v1/dashboard/attention").await;
    assert_eq!(
        count(&shipped, "ordersToShip"),
        count(&before, "ordersToShip")
    );
    // The mug falls to 2 (reorder level 0 by default: set 5), the lamp to none left.
    for (item, sku, reorder) in [(&mug, "MUG", 5), (&lamp, "LAMP", 5)] {
        let mut body = crate::catalog::item(sku, sku, 100, true, None);
        body["reorderLevel"] = json!(reorder);
        let (status, _) = owner
            .put(&format!("/api/v1/store/admin/products/{item}"), body)
            .await;
        assert_eq!(status, 200);
    }
    for (item, take) in [(&mug, 2), (&lamp, 0)] {
        let (_, stock) = owner
            .get(&format!("/api/v1/admin/stock/items/{item}"))
            .await;
        let levels = stock["levels"].as_array().unwrap();
        let available: i64 = levels
            .iter()
            .map(|l| l["onHand"].as_i64().unwrap() - l["reserved"].as_i64().unwrap())
            .sum();
        let (status, body) = owner
            .post(
                "/api/v1/admin/stock/adjustments",
                json!({"itemId": item, "location": "PICKING", "quantity": take - available, "reason": "count"}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    drain_jobs(&app.db).await;
    let inventory = owner.get_ok("/api/v1/dashboard/inventory").await;
    assert_eq!(
        (
            inventory["lowStock"].as_u64(),
            inventory["outOfStock"].as_u64()
        ),
        (Some(1), Some(1))
    );
    let listed: Vec<(&str, i64)> = inventory["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["sku"].as_str().unwrap(), i["available"].as_i64().unwrap()))
        .collect();
    assert_eq!(listed, [("LAMP", 0), ("MUG", 2)], "worst first");
    let low = owner.get_ok("/api/v1/dashboard/attention").await;
    assert_eq!((count(&low, "lowStock"), count(&low, "outOfStock")), (1, 1));
    assert_eq!(
        count(&low, "overduePayments"),
        scalar(
            &app.db,
            &format!(
                "SELECT COUNT(*) FROM orders WHERE tenant_id = '{tenant}' AND status = 'pending' \
                 AND payment_due_at < now()"
            )
        )
        .await as u64
    );
}

#[tokio::test]
async fn customers_roles_and_shops_on_sqlite() {
    let mail = MailServer::start().await;
    let app = app_with_mail(Backend::Sqlite, &mail, &[]).await;
    let owner = ready_shop(&app, "dash-lite").await;
    let other = ready_shop(&app, "dash-other").await;
    let mug = stocked(&owner, "MUG", 400, 50).await;
    let method = parcel_to(&owner, &["US"], 500).await;
    let kept = place(&owner, &method, &[(&mug, 2)]).await;
    let cancelled = place(&owner, &method, &[(&mug, 1)]).await;
    let (status, _) = owner
        .put(
            &format!("/api/v1/store/admin/orders/{cancelled}/status"),
            json!({"status": "cancelled"}),
        )
        .await;
    assert_eq!(status, 200);
    for email in ["c1@example.com", "c2@example.com"] {
        let response = owner
            .shopper()
            .post(
                "auth/register",
                json!({"email": email, "password": "lighthouse-pickle-8", "firstName": "C", "lastName": "One"}),
            )
            .await;
        assert_eq!(response.status(), 201);
    }

    let (viewer, _) = owner
        .invite_admin(&mail, "vic@dash-lite.example", "Viewer")
        .await;
    let summary = viewer.get_ok("/api/v1/dashboard/summary").await;
    let total = owner
        .get_ok(&format!("/api/v1/store/admin/orders/{kept}"))
        .await["total"]
        .as_i64()
        .unwrap();
    assert_eq!(summary["revenue"]["today"]["revenue"].as_i64(), Some(total));
    assert_eq!(summary["revenue"]["today"]["orders"], 1);
    assert_eq!(summary["orders"]["pendingPayment"], 1);
    assert_eq!(summary["orders"]["cancelled"], 1);
    assert_eq!(
        summary["customers"],
        json!({"total": 2, "newThisWeek": 2, "newThisMonth": 2})
    );
    assert_eq!(summary["topSellers"]["byUnits"][0]["units"], 2);

    // Another shop's dashboard knows none of it; another shop's token is refused.
    let theirs = other.get_ok("/api/v1/dashboard/summary").await;
    assert_eq!(theirs["revenue"]["today"]["orders"], 0);
    assert_eq!(theirs["orders"]["pendingPayment"], 0);
    assert_eq!(theirs["customers"]["total"], 0);
    let (status, _) = owner
        .with_token(&other.token)
        .get("/api/v1/dashboard/revenue")
        .await;
    assert_eq!(status, 401);
    let (status, _) = owner
        .with_token("not-a-token")
        .get("/api/v1/dashboard/attention")
        .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn the_operator_sees_whether_a_backup_was_verified_in_26_hours() {
    let mail = MailServer::start().await;
    let app = app_with_mail(Backend::Sqlite, &mail, &[]).await;
    let owner = ready_shop(&app, "dash-ops").await;
    let operator = |shop: Option<&str>, token: &str| {
        let request = app
            .client
            .get(app.url("/api/v1/dashboard/attention"))
            .bearer_auth(token);
        match shop {
            Some(shop) => request.header("X-Tenant", shop),
            None => request,
        }
        .send()
    };
    let backup_item = |attention: &Value| {
        attention["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["kind"] == "noVerifiedBackup")
            .cloned()
    };
    let run = |hours_ago: i64, status: backup_runs::Status| {
        let at = Utc::now() - Duration::hours(hours_ago);
        let verified = status == backup_runs::Status::Verified;
        backup_runs::ActiveModel {
            id: sea_orm::Set(Uuid::now_v7()),
            key: sea_orm::Set(format!("cartwheel/test-{hours_ago}.dump")),
            job_id: sea_orm::Set(None),
            status: sea_orm::Set(status),
            size: sea_orm::Set(Some(1)),
            sha256: sea_orm::Set(None),
            error: sea_orm::Set(None),
            started_at: sea_orm::Set(at),
            heartbeat_at: sea_orm::Set(at),
            finished_at: sea_orm::Set(Some(at)),
            verified_at: sea_orm::Set(verified.then_some(at)),
        }
        .insert(&app.db)
    };

    // A shop's admins never see the platform's backups.
    let theirs = owner.get_ok("/api/v1/dashboard/attention").await;
    assert_eq!(backup_item(&theirs), None, "{theirs}");
    let summary = owner.get_ok("/api/v1/dashboard/summary").await;
    assert_eq!(backup_item(&summary["attention"]), None);

    // The operator sees the shop's counts, with links only to what its token opens; no
    // backup item before any backup has run.
    let seen = ok(operator(Some("dash-ops"), "operator-secret").await.unwrap()).await;
    assert_eq!(backup_item(&seen), None, "{seen}");
    let tenant = &owner.tenant_id;
    for item in seen["items"].as_array().unwrap() {
        let link = match item["kind"].as_str().unwrap() {
            "deadJobs" => json!(format!("/api/v1/admin/jobs?state=dead&tenant={tenant}")),
            _ => Value::Null,
        };
        assert_eq!(item["link"], link, "{item}");
    }
    // A failed run: backups exist and none is verified. One verified 27 hours ago is too
    // old; one 25 hours ago will do.
    run(2, backup_runs::Status::Failed).await.unwrap();
    let seen = ok(operator(Some("dash-ops"), "operator-secret").await.unwrap()).await;
    assert_eq!(seen["items"].as_array().unwrap().len(), 8, "{seen}");
    assert_eq!(
        backup_item(&seen),
        Some(json!({"kind": "noVerifiedBackup", "count": 1, "link": null}))
    );
    run(27, backup_runs::Status::Verified).await.unwrap();
    let seen = ok(operator(Some("dash-ops"), "operator-secret").await.unwrap()).await;
    assert_eq!(backup_item(&seen).unwrap()["count"], 1);
    run(25, backup_runs::Status::Verified).await.unwrap();
    let seen = ok(operator(Some("dash-ops"), "operator-secret").await.unwrap()).await;
    assert_eq!(backup_item(&seen).unwrap()["count"], 0);

    // The operator names a shop; a wrong token is no one.
    let response = operator(None, "operator-secret").await.unwrap();
    assert_eq!(response.status(), 404);
    let response = operator(Some("dash-ops"), "operator-secreT").await.unwrap();
    assert_eq!(response.status(), 401);
}
