//! Stock: ledger entries with reasons, transfers, conflicts naming what is available, and no
//! lost or negative updates under concurrency.

use serde_json::json;

use super::{create_item, item};
use cartwheel_testkit::Backend;
use cartwheel_testkit::shops::{app_with_mail, ready_shop};
use cartwheel_testkit::smtp::MailServer;

cartwheel_testkit::on_each_backend!(stock_moves_through_the_ledger_and_never_goes_below_zero);

async fn stock_moves_through_the_ledger_and_never_goes_below_zero(backend: Backend) {
    let mail = MailServer::start().await;
    let app = app_with_mail(backend, &mail, &[]).await;
    let owner = ready_shop(&app, "stock-shop").await;
    let shopper = owner.shopper();
    let id = create_item(&owner, item("BOLT", "Bolt", 10, true, None)).await;
    let adjust = |location: &'static str, quantity: i64, reason: &'static str| {
        owner.post(
            "/api/v1/admin/stock/adjustments",
            json!({"itemId": id, "location": location, "quantity": quantity, "reason": reason}),
        )
    };

    let (status, view) = adjust("RECEIVING", 10, "delivery 42").await;
    assert_eq!(status, 201, "{view}");
    let (status, view) = owner.post("/api/v1/admin/stock/transfers",
        json!({"itemId": id, "from": "RECEIVING", "to": "PICKING", "quantity": 4, "reason": "restock shelves"})).await;
    assert_eq!(status, 201, "{view}");
    let levels: Vec<(String, i64)> = view["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["location"].as_str().unwrap().to_string(),
                l["onHand"].as_i64().unwrap(),
            )
        })
        .collect();
    assert!(
        levels.contains(&("RECEIVING".into(), 6)) && levels.contains(&("PICKING".into(), 4)),
        "{levels:?}"
    );
    let reasons: Vec<&str> = view["movements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons.len(), 3);
    assert!(reasons.contains(&"delivery 42") && reasons.contains(&"restock shelves"));

    let (status, problem) = adjust("RECEIVING", -20, "breakage").await;
    assert_eq!(status, 409);
    assert!(
        problem["detail"].as_str().unwrap().contains("6 available"),
        "{problem}"
    );
    assert_eq!(problem["errors"][0]["field"], "quantity");
    let (status, problem) = adjust("ATTIC", 1, "found").await;
    assert_eq!(
        (status, problem["errors"][0]["field"].as_str()),
        (422, Some("location"))
    );
    let (status, problem) = adjust("PICKING", 0, " ").await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"].as_array().unwrap().len(), 2);

    let product: serde_json::Value = shopper.get("products/bolt").await.json().await.unwrap();
    assert_eq!(
        product["availability"],
        json!({"inStock": true, "available": 10})
    );
}

#[tokio::test]
async fn concurrent_removals_take_exactly_what_is_there() {
    let mail = MailServer::start().await;
    let app = app_with_mail(
        Backend::Postgres,
        &mail,
        &[("CARTWHEEL_RATE_LIMIT_PER_MINUTE", "1000")],
    )
    .await;
    let owner = ready_shop(&app, "race-shop").await;
    let id = create_item(&owner, item("NUT", "Nut", 5, true, None)).await;
    let (status, _) = owner
        .post(
            "/api/v1/admin/stock/adjustments",
            json!({"itemId": id, "location": "PICKING", "quantity": 10, "reason": "count"}),
        )
        .await;
    assert_eq!(status, 201);
    let removals = (0..25).map(|_| owner.post("/api/v1/admin/stock/adjustments",
        json!({"itemId": id, "location": "PICKING", "quantity": -1, "reason": "sold at the counter"})));
    let statuses: Vec<u16> = futures::future::join_all(removals)
        .await
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        10,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        15,
        "{statuses:?}"
    );
    let (_, view) = owner.get(&format!("/api/v1/admin/stock/items/{id}")).await;
    assert_eq!(view["levels"][0]["onHand"], 0);
    assert_eq!(cartwheel_testkit::scalar(&app.db, &format!("SELECT COALESCE(SUM(quantity), 0)::bigint FROM stock_movements WHERE item_id = '{id}'")).await, 0);
}
