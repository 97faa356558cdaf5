//! Bulk import from CSV: rows created and updated by sku, every bad row reported by line and
//! column, nothing half-written, and files that cannot be read refused as a whole.

use reqwest::Method;
use serde_json::Value;

use super::{create_category, create_item, item};
use cartwheel_testkit::shops::{ShopAdmin, app_with_mail, ready_shop};
use cartwheel_testkit::smtp::MailServer;
use cartwheel_testkit::{Backend, scalar};

async fn import(owner: &ShopAdmin<'_>, csv: &str) -> (u16, Value) {
    let response = owner
        .request(Method::POST, "/api/v1/store/admin/products/import")
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
    let owner = ready_shop(&app, "csv-shop").await;
    create_category(&owner, "Tea", "tea", None).await;

    let csv = "\u{feff}SKU,name,price,category,published,short_description,image_url\n\
               TEA-1,Green tea,450,tea,yes,\"Fresh, green\",https://img.example/t1.jpg\n\
               TEA-2,Black tea,abc,tea,,,\n\
               TEA-3,White tea,900,coffee,,,\n\
               \n\
               TEA-1,Green tea again,1,,,,\n\
               TEA-4,,100,,maybe,,ftp://x\n\
               TEA-5,Oolong,1200,,no,,\n\
               TEA-6,,100,,,,ftp://x\n";
    let (status, report) = import(&owner, csv).await;
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
    let (status, tea) = owner.get("/api/v1/store/products/tea-1").await;
    assert_eq!(status, 200, "{tea}");
    assert_eq!(
        (tea["name"].as_str(), tea["price"].as_i64()),
        (Some("Green tea"), Some(450))
    );
    assert_eq!(tea["category"], "tea");
    assert_eq!(tea["shortDescription"], "Fresh, green");
    assert_eq!(tea["images"][0]["url"], "https://img.example/t1.jpg");
    let (status, _) = owner.get("/api/v1/store/products/tea-5").await;
    assert_eq!(status, 404, "imported unpublished");
    assert_eq!(scalar(&app.db, "SELECT COUNT(*) FROM items WHERE tenant_id = (SELECT id FROM tenants WHERE slug = 'csv-shop')").await, 2);
    assert_eq!(scalar(&app.db, "SELECT COUNT(*) FROM listings WHERE tenant_id = (SELECT id FROM tenants WHERE slug = 'csv-shop')").await, 2);

    // A second file updates by sku; columns it lacks keep their values.
    let (status, report) = import(&owner, "sku,name,price\nTEA-1,Green tea (new),500\n").await;
    assert_eq!(
        (status, &report["updated"]),
        (200, &Value::from(1)),
        "{report}"
    );
    let (_, tea) = owner.get("/api/v1/store/products/tea-1").await;
    assert_eq!(
        (tea["name"].as_str(), tea["price"].as_i64()),
        (Some("Green tea (new)"), Some(500))
    );
    assert_eq!(tea["category"], "tea");
    assert_eq!(tea["shortDescription"], "Fresh, green");

    // Files that cannot be read are refused whole, naming `file`.
    for bad in ["sku,name\nA,B\n", "sku,name,price,colour\n", ""] {
        let (status, problem) = import(&owner, bad).await;
        assert_eq!(status, 422, "{bad:?}: {problem}");
        assert_eq!(problem["errors"][0]["field"], "file", "{problem}");
    }
    let (status, _) = owner
        .request(Method::POST, "/api/v1/store/admin/products/import")
        .header("Content-Type", "application/json")
        .body("{}")
        .send()
        .await
        .map(|r| (r.status().as_u16(), ()))
        .unwrap();
    assert_eq!(status, 415);
    assert_eq!(scalar(&app.db, "SELECT COUNT(*) FROM items WHERE tenant_id = (SELECT id FROM tenants WHERE slug = 'csv-shop')").await, 2);
}

cartwheel_testkit::on_each_backend!(a_large_import_decides_each_row_in_file_order);

async fn a_large_import_decides_each_row_in_file_order(backend: Backend) {
    let mail = MailServer::start().await;
    let app = app_with_mail(backend, &mail, &[]).await;
    let owner = ready_shop(&app, "bulk-shop").await;
    create_category(&owner, "Tea", "tea", None).await;
    let gone = create_item(&owner, item("GONE-1", "Gone", 100, true, None)).await;
    let path = format!("/api/v1/store/admin/products/{gone}");
    assert_eq!(owner.delete(&path).await.0, 204);

    let known = 1_500;
    let mut first = String::from("sku,name,price,category\n");
    for n in 0..known {
        first.push_str(&format!("B-{n:05},Item {n},{},tea\n", 100 + n));
    }
    let (status, report) = import(&owner, &first).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["created"], 1500, "{report}");
    assert_eq!(report["failed"], 0, "{report}");
    let checks_before = stock_checks(&owner).await;

    // Known and new skus alternate; every other known item gets a new reorder level (a
    // stock check each). Slugs move: one a known row gives up is taken by a later row,
    // one asked for before its holder gives it up is refused, as one write after another
    // would have it.
    let mut rows = vec!["N-EARLY,Early,1,0,b-00002,".to_string()];
    for n in 0..known {
        let slug = match n {
            1 => "moved-1",
            2 => "moved-2",
            _ => "",
        };
        let reorder = if n % 2 == 0 { 3 } else { 0 };
        rows.push(format!(
            "B-{n:05},Item {n} v2,{},{reorder},{slug},tea",
            200 + n
        ));
        rows.push(format!("N-{n:05},New {n},{n},0,,tea"));
    }
    rows.extend(
        [
            "N-FREED,Freed,5,0,b-00001,",
            "GONE-1,Back again,5,0,,",
            "N-GONE-SLUG,Gone slug,5,0,gone-1,",
            "N-00005,Twice,5,0,,",
            "N-BAD,Bad,12x,0,,",
        ]
        .map(String::from),
    );
    let line = |sku: &str, nth: usize| {
        rows.iter()
            .enumerate()
            .filter(|(_, row)| row.starts_with(&format!("{sku},")))
            .nth(nth)
            .map(|(i, _)| i as u64 + 2)
            .unwrap()
    };
    let expected = [
        (line("N-EARLY", 0), "N-EARLY", "slug"),
        (line("GONE-1", 0), "GONE-1", "sku"),
        (line("N-GONE-SLUG", 0), "N-GONE-SLUG", "slug"),
        (line("N-00005", 1), "N-00005", "sku"),
        (line("N-BAD", 0), "N-BAD", "price"),
    ];
    let second = format!(
        "sku,name,price,reorder_level,slug,category\n{}\n",
        rows.join("\n")
    );
    let (status, report) = import(&owner, &second).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["rows"], rows.len());
    assert_eq!(report["created"], 1501, "{report}");
    assert_eq!(report["updated"], 1500, "{report}");
    assert_eq!(report["failed"], 5, "{report}");
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
    assert_eq!(errors, expected, "{report}");
    assert_eq!(
        report["errors"][0]["message"],
        "The slug `b-00002` is taken."
    );
    assert_eq!(report["errors"][1]["message"], "The sku `GONE-1` is taken.");
    assert_eq!(
        report["errors"][3]["message"],
        format!("appears on line {} too", line("N-00005", 0))
    );

    assert_eq!(scalar(&app.db, "SELECT COUNT(*) FROM items WHERE tenant_id = (SELECT id FROM tenants WHERE slug = 'bulk-shop')").await, 3002);
    assert_eq!(scalar(&app.db, "SELECT COUNT(*) FROM listings WHERE tenant_id = (SELECT id FROM tenants WHERE slug = 'bulk-shop')").await, 3002);
    // Every listing carries its item's name and price, and shows only if it may.
    let mismatched = "SELECT COUNT(*) FROM listings l JOIN items i ON i.id = l.item_id \
                      WHERE l.name <> i.name OR l.price <> i.price \
                      OR l.visible <> (l.published AND i.active AND i.deleted_at IS NULL)";
    assert_eq!(scalar(&app.db, mismatched).await, 0);
    let searched = "SELECT COUNT(*) FROM listings WHERE search_text LIKE '%item 7 v2 b-00007%'";
    assert_eq!(scalar(&app.db, searched).await, 1);
    assert_eq!(
        scalar(
            &app.db,
            "SELECT COUNT(*) FROM items WHERE reorder_level = 3"
        )
        .await,
        750
    );
    assert_eq!(stock_checks(&owner).await, checks_before + 750);

    let product = |slug: &str| format!("/api/v1/store/products/{slug}");
    let (status, moved) = owner.get(&product("moved-1")).await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(
        (moved["name"].as_str(), moved["price"].as_i64()),
        (Some("Item 1 v2"), Some(201))
    );
    assert_eq!(moved["category"], "tea");
    for (slug, name) in [
        ("b-00001", "Freed"),
        ("moved-2", "Item 2 v2"),
        ("n-01499", "New 1499"),
    ] {
        let (status, found) = owner.get(&product(slug)).await;
        assert_eq!(
            (status, found["name"].as_str()),
            (200, Some(name)),
            "{found}"
        );
    }
    let (status, _) = owner.get(&product("b-00002")).await;
    assert_eq!(status, 404, "the early row that wanted b-00002 was refused");
}

/// How many `stock.check` jobs the shop has had, in any state.
async fn stock_checks(owner: &ShopAdmin<'_>) -> u64 {
    let path = "/api/v1/admin/jobs?queue=stock.check&limit=1";
    let (status, page) = owner.get(path).await;
    assert_eq!(status, 200, "{page}");
    page["total"].as_u64().unwrap()
}
