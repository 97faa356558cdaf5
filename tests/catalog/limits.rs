//! Money and quantities have upper bounds, and every sum and product of them is checked: what
//! would pass a bound is a 422 naming the field, never a wrapped total or a 500, and nothing is
//! half-written. The CSV import holds to the JSON API's bounds.

use reqwest::Method;
use serde_json::{Value, json};

use super::{create_item, item, ok};
use cartwheel_testkit::shops::{ShopAdmin, app_with_mail, ready_shop};
use cartwheel_testkit::smtp::MailServer;
use cartwheel_testkit::{Backend, scalar};

const MAX_PRICE: i64 = 100_000_000_000;

async fn adjust(owner: &ShopAdmin<'_>, id: &str, quantity: i64) -> (u16, Value) {
    owner
        .post(
            "/api/v1/admin/stock/adjustments",
            json!({"itemId": id, "location": "PICKING", "quantity": quantity, "reason": "count"}),
        )
        .await
}

cartwheel_testkit::on_each_backend!(a_cart_total_beyond_the_bound_is_refused_not_wrapped);

async fn a_cart_total_beyond_the_bound_is_refused_not_wrapped(backend: Backend) {
    let mail = MailServer::start().await;
    let app = app_with_mail(backend, &mail, &[]).await;
    let owner = ready_shop(&app, "big-spender").await;
    let shopper = owner.shopper();
    let (status, problem) = owner
        .post(
            "/api/v1/store/admin/products",
            item("HUGE", "Huge", i64::MAX, true, None),
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "price", "{problem}");

    let id = create_item(&owner, item("GOLD", "Gold", MAX_PRICE, true, None)).await;
    assert_eq!(adjust(&owner, &id, 1_000_000).await.0, 201);
    let cart_id = ok(shopper.send(Method::POST, "cart", None).await).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let lines = format!("cart/{cart_id}/items");
    // 100 at the highest price is the highest total of a line (10^13); 50 such lines stay
    // within the highest total of a cart (10^15), tax on top.
    let full = ok(shopper
        .post(&lines, json!({"itemId": id, "qty": 100}))
        .await)
    .await;
    assert_eq!(full["totals"]["subtotal"], 10_000_000_000_000i64, "{full}");
    // One more, or 20,000 in all, pass the bound: refused naming qty; the line keeps its 100.
    for (method, path, qty) in [
        (Method::POST, lines.clone(), 1),
        (Method::PUT, format!("{lines}/{id}"), 20_000),
    ] {
        let response = shopper
            .send(method, &path, Some(json!({"itemId": id, "qty": qty})))
            .await;
        let status = response.status();
        let problem: Value = response.json().await.unwrap();
        assert_eq!(status, 422, "{qty}: {problem}");
        assert_eq!(problem["errors"][0]["field"], "qty", "{problem}");
    }
    let kept = ok(shopper.get(&format!("cart/{cart_id}")).await).await;
    assert_eq!(kept["lines"][0]["qty"], 100, "{kept}");
    assert!(kept["totals"]["total"].as_i64().unwrap() > 0, "{kept}");
}

cartwheel_testkit::on_each_backend!(stock_beyond_its_bounds_is_refused_not_a_server_error);

async fn stock_beyond_its_bounds_is_refused_not_a_server_error(backend: Backend) {
    let mail = MailServer::start().await;
    let app = app_with_mail(backend, &mail, &[]).await;
    let owner = ready_shop(&app, "warehouse").await;
    let id = create_item(&owner, item("BOX", "Box", 100, true, None)).await;
    for quantity in [i64::MAX, i64::MIN, 1_000_000_001] {
        let (status, problem) = adjust(&owner, &id, quantity).await;
        assert_eq!(status, 422, "{quantity}: {problem}");
        assert_eq!(problem["errors"][0]["field"], "quantity", "{problem}");
    }
    // A location holds at most 10^12: the level is near it, one more delivery is refused.
    assert_eq!(adjust(&owner, &id, 1_000_000_000).await.0, 201);
    sea_orm::ConnectionTrait::execute_unprepared(
        &app.db,
        "UPDATE stock_levels SET on_hand = 999999999999",
    )
    .await
    .unwrap();
    let (status, problem) = adjust(&owner, &id, 2).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "quantity", "{problem}");
    assert_eq!(adjust(&owner, &id, 1).await.0, 201);
    assert_eq!(
        scalar(&app.db, "SELECT MAX(on_hand) FROM stock_levels").await,
        1_000_000_000_000
    );
}

cartwheel_testkit::on_each_backend!(a_csv_import_holds_to_the_json_api_bounds);

async fn a_csv_import_holds_to_the_json_api_bounds(backend: Backend) {
    let mail = MailServer::start().await;
    let app = app_with_mail(backend, &mail, &[]).await;
    let owner = ready_shop(&app, "csv-bounds").await;
    let long = "x".repeat(20_001);
    let long_url = format!("https://img.example/{}", "a".repeat(2_000));
    let sku = "S".repeat(65);
    let csv = format!(
        "sku,name,price,reorder_level,long_description,image_url,short_description\n\
         P-1,Price,100000000001,,,,\n\
         P-2,Reorder,1,1000000001,,,\n\
         P-3,Long,1,,{long},,\n\
         P-4,Nul\u{0}name,1,,,,\n\
         P-5,Url,1,,,{long_url},\n\
         {sku},Sku,1,,,,\n\
         P-7,Bell,1,,,,ring\u{7}\n\
         P-8,Fine,1,,,,\n"
    );
    let response = owner
        .request(Method::POST, "/api/v1/store/admin/products/import")
        .header("Content-Type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let report: Value = response.json().await.unwrap();
    let errors: Vec<(u64, &str)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["column"].as_str().unwrap()))
        .collect();
    assert_eq!(
        errors,
        [
            (2, "price"),
            (3, "reorder_level"),
            (4, "long_description"),
            (5, "name"),
            (6, "image_url"),
            (7, "sku"),
            (8, "short_description"),
        ],
        "{report}"
    );
    assert_eq!(report["created"], 1, "{report}");
    // This shop's items only: the demo shop gets its goods from a task of its own meanwhile.
    let items = "SELECT COUNT(*) FROM items WHERE tenant_id = (SELECT id FROM tenants WHERE slug = 'csv-bounds')";
    assert_eq!(scalar(&app.db, items).await, 1);
}

cartwheel_testkit::on_each_backend!(a_cart_holds_at_most_fifty_lines);

async fn a_cart_holds_at_most_fifty_lines(backend: Backend) {
    let mail = MailServer::start().await;
    let app = app_with_mail(
        backend,
        &mail,
        &[("CARTWHEEL_RATE_LIMIT_PER_MINUTE", "100000")],
    )
    .await;
    let owner = ready_shop(&app, "many-lines").await;
    let shopper = owner.shopper();
    let mut ids = Vec::new();
    for n in 0..51 {
        let sku = format!("SKU-{n}");
        let id = create_item(&owner, item(&sku, &sku, 100, true, None)).await;
        assert_eq!(adjust(&owner, &id, 10).await.0, 201);
        ids.push(id);
    }
    let cart_id = ok(shopper.send(Method::POST, "cart", None).await).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let lines = format!("cart/{cart_id}/items");
    for id in &ids[..50] {
        ok(shopper.post(&lines, json!({"itemId": id, "qty": 1})).await).await;
    }
    let response = shopper
        .post(&lines, json!({"itemId": ids[50], "qty": 1}))
        .await;
    let status = response.status();
    let problem: Value = response.json().await.unwrap();
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "itemId", "{problem}");
    // The lines it holds still change.
    let more = ok(shopper
        .post(&lines, json!({"itemId": ids[0], "qty": 1}))
        .await)
    .await;
    assert_eq!(more["lines"].as_array().unwrap().len(), 50, "{more}");
    assert_eq!(more["lines"][0]["qty"], 2, "{more}");
}
