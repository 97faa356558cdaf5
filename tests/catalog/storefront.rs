//! The public catalog: only published products of this shop, filters, search, sort, paging.

use serde_json::Value;

use super::{create_category, create_item, item};
use cartwheel_testkit::shops::{Shopper, app_with_mail, ready_shop};
use cartwheel_testkit::smtp::MailServer;
use cartwheel_testkit::{Backend, assert_problem};

async fn skus(shopper: &Shopper<'_>, query: &str) -> (Vec<String>, Value) {
    let response = shopper.get(query).await;
    assert_eq!(response.status(), 200, "{query}");
    let body: Value = response.json().await.unwrap();
    let skus = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["sku"].as_str().unwrap().to_string())
        .collect();
    (skus, body)
}

cartwheel_testkit::on_each_backend!(
    shoppers_see_published_products_filtered_searched_sorted_and_paged
);

async fn shoppers_see_published_products_filtered_searched_sorted_and_paged(backend: Backend) {
    let mail = MailServer::start().await;
    let app = app_with_mail(backend, &mail, &[]).await;
    let owner = ready_shop(&app, "tools").await;
    let shopper = owner.shopper();
    let garden = create_category(&owner, "Garden", "garden", None).await;
    let hand = create_category(&owner, "Hand tools", "hand-tools", None).await;
    let saws = create_category(&owner, "Saws", "saws", Some(&hand)).await;

    create_item(
        &owner,
        item("HAM-1", "Claw Hammer", 1500, true, Some(&hand)),
    )
    .await;
    create_item(&owner, item("SAW-1", "Panel Saw", 2500, true, Some(&saws))).await;
    create_item(&owner, item("SAW-2", "Coping Saw", 900, true, Some(&saws))).await;
    create_item(
        &owner,
        item("HOSE-1", "Garden Hose", 3000, true, Some(&garden)),
    )
    .await;
    create_item(
        &owner,
        item("SECRET-1", "Prototype Saw", 100, false, Some(&saws)),
    )
    .await;

    let (all, body) = skus(&shopper, "products").await;
    assert_eq!(body["total"], 4, "unpublished items are invisible");
    assert!(!all.contains(&"SECRET-1".to_string()));
    let first = &body["items"][0];
    assert_eq!(first["availability"]["inStock"], false);
    assert_eq!(first["availability"]["available"], 0);
    assert!(
        first["longDescription"].is_null(),
        "lists carry the short description only"
    );

    // A category includes its sub-categories.
    let (in_hand, _) = skus(&shopper, "products?category=hand-tools&sort=price_asc").await;
    assert_eq!(in_hand, ["SAW-2", "HAM-1", "SAW-1"]);
    let (in_saws, _) = skus(&shopper, "products?category=saws&sort=price_desc").await;
    assert_eq!(in_saws, ["SAW-1", "SAW-2"]);
    let unknown = assert_problem(shopper.get("products?category=nope").await, 400).await;
    assert_eq!(unknown["errors"][0]["field"], "category");

    // Search: name, sku and description, any case; `%` is a literal.
    let (found, _) = skus(&shopper, "products?search=SAW&sort=name").await;
    assert_eq!(found, ["SAW-2", "SAW-1"]);
    let (found, _) = skus(&shopper, "products?search=hos").await;
    assert_eq!(found, ["HOSE-1"]);
    let (found, _) = skus(&shopper, "products?search=about%20the%20claw").await;
    assert_eq!(found, ["HAM-1"]);
    let (found, _) = skus(&shopper, "products?search=%25").await;
    assert!(found.is_empty());

    // Sorting and paging edges.
    let (by_name, _) = skus(&shopper, "products?sort=name").await;
    assert_eq!(by_name, ["HAM-1", "SAW-2", "HOSE-1", "SAW-1"]);
    let (newest, _) = skus(&shopper, "products?sort=newest").await;
    assert_eq!(newest, ["HOSE-1", "SAW-2", "SAW-1", "HAM-1"]);
    let (page2, body) = skus(&shopper, "products?sort=name&limit=3&page=2").await;
    assert_eq!(page2, ["SAW-1"]);
    assert_eq!(
        (
            body["page"].as_u64(),
            body["limit"].as_u64(),
            body["total"].as_u64()
        ),
        (Some(2), Some(3), Some(4))
    );
    let (beyond, body) = skus(&shopper, "products?limit=3&page=3").await;
    assert!(beyond.is_empty());
    assert_eq!(body["total"], 4);
    assert_problem(shopper.get("products?limit=101").await, 400).await;
    assert_problem(shopper.get("products?page=0").await, 400).await;
    let bad_sort = assert_problem(shopper.get("products?sort=cheapest").await, 400).await;
    assert_eq!(bad_sort["errors"][0]["field"], "sort");

    // One product, with its long description; unpublished and unknown slugs are 404.
    let one = shopper.get("products/saw-1").await;
    assert_eq!(one.status(), 200);
    let one: Value = one.json().await.unwrap();
    assert_eq!(one["longDescription"], "All about the Panel Saw.");
    assert_eq!(one["category"], "saws");
    assert_eq!(one["images"][0]["url"], "https://img.example/SAW-1.jpg");
    assert_problem(shopper.get("products/secret-1").await, 404).await;
    assert_problem(shopper.get("products/nothing").await, 404).await;

    // The category tree.
    let tree: Value = shopper.get("categories").await.json().await.unwrap();
    let roots: Vec<&str> = tree["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["slug"].as_str().unwrap())
        .collect();
    assert_eq!(roots, ["garden", "hand-tools"]);
    assert_eq!(tree["items"][1]["children"][0]["slug"], "saws");

    // A category with nothing in it is an empty page, not an unknown category.
    create_category(&owner, "Empty", "empty", Some(&garden)).await;
    let (none, body) = skus(&shopper, "products?category=empty").await;
    assert!(none.is_empty());
    assert_eq!(body["total"], 0);

    // Another shop knows none of it.
    let other = ready_shop(&app, "other").await.shopper();
    assert_problem(other.get("products/saw-1").await, 404).await;
    let (theirs, _) = skus(&other, "products").await;
    assert!(theirs.is_empty());
    assert_problem(other.get("products?category=saws").await, 400).await;
}

#[tokio::test]
async fn the_seed_command_fills_a_shop_for_load_tests() {
    use cartwheel_testkit::{cartwheel_process, migrated_database, scalar};
    let (_database, url, db) = migrated_database(Backend::Postgres).await;
    let mut seed = cartwheel_process(
        &[
            "seed",
            "catalog",
            "--shop",
            "seeded",
            "--products",
            "120",
            "--categories",
            "20",
        ],
        &[("DATABASE_URL", url.as_str())],
    );
    let status = seed.wait(std::time::Duration::from_secs(60)).await;
    assert!(status.success(), "{status:?}");
    let shop = "(SELECT id FROM tenants WHERE slug = 'seeded' AND status = 'READY')";
    assert_eq!(
        scalar(
            &db,
            &format!("SELECT COUNT(*) FROM items WHERE tenant_id = {shop}")
        )
        .await,
        120
    );
    assert_eq!(
        scalar(
            &db,
            &format!("SELECT COUNT(*) FROM categories WHERE tenant_id = {shop}")
        )
        .await,
        20
    );
    assert_eq!(
        scalar(
            &db,
            &format!(
                "SELECT COUNT(*) FROM categories WHERE tenant_id = {shop} AND parent_id IS NULL"
            )
        )
        .await,
        2
    );
    assert_eq!(
        scalar(&db, &format!("SELECT COUNT(*) FROM listings WHERE tenant_id = {shop} AND published AND category_id IS NOT NULL")).await,
        120
    );
    // The stock levels are the ledger's sums.
    assert_eq!(
        scalar(&db, &format!("SELECT ((SELECT SUM(on_hand) FROM stock_levels WHERE tenant_id = {shop}) - (SELECT SUM(quantity) FROM stock_movements WHERE tenant_id = {shop}))::bigint")).await,
        0
    );
}
