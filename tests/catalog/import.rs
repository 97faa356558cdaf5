//! Bulk import from CSV: rows created and updated by sku, every bad row reported by line and
//! column, nothing half-written, and files that cannot be read refused as a whole.

use reqwest::Method;
use serde_json::Value;

use crate::{create_category, send};
use cartwheel_testkit::shops::{admin, app_with_mail, ready_shop};
use cartwheel_testkit::smtp::MailServer;
use cartwheel_testkit::{Backend, TestApp, scalar};

async fn import(app: &TestApp, shop: &str, token: &str, csv: &str) -> (u16, Value) {
    let response = admin(
        app,
        Method::POST,
        "/api/v1/store/admin/products/import",
        shop,
        token,
    )
    .header("Content-Type", "text/csv")
    .body(csv.to_string())
    .send()
    .await
    .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

cartwheel_testkit::on_each_backend!(a_csv_import_writes_good_rows_and_reports_every_bad_one);

async fn a_csv_import_writes_good_rows_and_reports_every_bad_one(backend: Backend) {
    let mail = MailServer::start().await;
    let app = app_with_mail(backend, &mail, &[]).await;
    let (_, token) = ready_shop(&app, "csv-shop").await;
    let shop = "csv-shop";
    create_category(&app, shop, &token, "Tea", "tea", None).await;

    let csv = "\u{feff}SKU,name,price,category,published,short_description,image_url\n\
               TEA-1,Green tea,450,tea,yes,\"Fresh, green\",https://img.example/t1.jpg\n\
               TEA-2,Black tea,abc,tea,,,\n\
               TEA-3,White tea,900,coffee,,,\n\
               \n\
               TEA-1,Green tea again,1,,,,\n\
               TEA-4,,100,,maybe,,ftp://x\n\
               TEA-5,Oolong,1200,,no,,\n\
               TEA-6,,100,,,,ftp://x\n";
    let (status, report) = import(&app, shop, &token, csv).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["rows"], 7);
    assert_eq!(report["created"], 2);
    assert_eq!(report["updated"], 0);
    assert_eq!(report["failed"], 5);
    let errors: Vec<(u64, &str, &str)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap(),
                e["sku"].as_str().unwrap(),
                e["column"].as_str().unwrap(),
            )
        })
        .collect();
    // A row's own cells are checked first (TEA-4's `published`); its other faults show once
    // those are fixed.
    assert_eq!(
        errors,
        [
            (3, "TEA-2", "price"),
            (4, "TEA-3", "category"),
            (6, "TEA-1", "sku"),
            (7, "TEA-4", "published"),
            (9, "TEA-6", "name"),
            (9, "TEA-6", "image_url"),
        ]
    );
    assert!(
        report["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("`abc`")
    );

    // The good rows are whole items with their listings; the bad ones left nothing.
    let (status, tea) = send(
        &app,
        Method::GET,
        "/api/v1/store/products/tea-1",
        shop,
        &token,
        None,
    )
    .await;
    assert_eq!(status, 200, "{tea}");
    assert_eq!(
        (tea["name"].as_str(), tea["price"].as_i64()),
        (Some("Green tea"), Some(450))
    );
    assert_eq!(tea["category"], "tea");
    assert_eq!(tea["shortDescription"], "Fresh, green");
    assert_eq!(tea["images"][0]["url"], "https://img.example/t1.jpg");
    let (status, _) = send(
        &app,
        Method::GET,
        "/api/v1/store/products/tea-5",
        shop,
        &token,
        None,
    )
    .await;
    assert_eq!(status, 404, "imported unpublished");
    assert_eq!(scalar(&app.db, "SELECT COUNT(*) FROM items").await, 2);
    assert_eq!(scalar(&app.db, "SELECT COUNT(*) FROM listings").await, 2);

    // A second file updates by sku; columns it lacks keep their values.
    let (status, report) = import(
        &app,
        shop,
        &token,
        "sku,name,price\nTEA-1,Green tea (new),500\n",
    )
    .await;
    assert_eq!(
        (status, &report["updated"]),
        (200, &Value::from(1)),
        "{report}"
    );
    let (_, tea) = send(
        &app,
        Method::GET,
        "/api/v1/store/products/tea-1",
        shop,
        &token,
        None,
    )
    .await;
    assert_eq!(
        (tea["name"].as_str(), tea["price"].as_i64()),
        (Some("Green tea (new)"), Some(500))
    );
    assert_eq!(tea["category"], "tea");
    assert_eq!(tea["shortDescription"], "Fresh, green");

    // Files that cannot be read are refused whole, naming `file`.
    for bad in ["sku,name\nA,B\n", "sku,name,price,colour\n", ""] {
        let (status, problem) = import(&app, shop, &token, bad).await;
        assert_eq!(status, 422, "{bad:?}: {problem}");
        assert_eq!(problem["errors"][0]["field"], "file", "{problem}");
    }
    let (status, _) = admin(
        &app,
        Method::POST,
        "/api/v1/store/admin/products/import",
        shop,
        &token,
    )
    .header("Content-Type", "application/json")
    .body("{}")
    .send()
    .await
    .map(|r| (r.status().as_u16(), ()))
    .unwrap();
    assert_eq!(status, 415);
    assert_eq!(scalar(&app.db, "SELECT COUNT(*) FROM items").await, 2);
}
