//! The storefront's catalog cache: answers are reused, an admin change reaches every API
//! process at once, and a stale answer is recomputed in the background.

use std::time::Duration;

use super::{create_item, item};
use cartwheel_testkit::shops::{ShopAdmin, Shopper, app_with_mail, ready_shop};
use cartwheel_testkit::smtp::MailServer;
use cartwheel_testkit::{Backend, TestApp, eventually, scalar};

/// The first product's name on the shop's product list, and the `x-cache` header.
async fn first_name(app: &TestApp, shop: &str) -> (String, String) {
    let response = Shopper::new(app, shop).get("products").await;
    assert_eq!(response.status(), 200);
    let cache = response.headers()["x-cache"].to_str().unwrap().to_string();
    let body: serde_json::Value = response.json().await.unwrap();
    (
        body["items"][0]["name"].as_str().unwrap().to_string(),
        cache,
    )
}

/// Renames the shop's one lamp through the admin API.
async fn rename_lamp(owner: &ShopAdmin<'_>, id: &str, name: &str) {
    let (status, body) = owner
        .put(
            &format!("/api/v1/store/admin/products/{id}"),
            item("LAMP-1", name, 1200, true, None),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn an_admin_change_reaches_the_cache_of_every_api_process() {
    let mail = MailServer::start().await;
    // An hour: only the change itself can explain a fresh answer.
    let long = [("CARTWHEEL_STORE_CACHE_MS", "3600000")];
    let app = app_with_mail(Backend::Postgres, &mail, &long).await;
    let peer = app.spawn_peer(&long).await;
    let owner = ready_shop(&app, "lamps").await;
    let id = create_item(&owner, item("LAMP-1", "Desk Lamp", 1200, true, None)).await;

    // A process keeps answers once it listens for other processes' changes.
    for process in [&app, &peer] {
        eventually(Duration::from_secs(5), "a cached answer", || async {
            first_name(process, "lamps").await == ("Desk Lamp".into(), "hit".into())
        })
        .await;
    }

    // Changed through the first process; the peer hears of it by NOTIFY.
    rename_lamp(&owner, &id, "Reading Lamp").await;
    assert_eq!(first_name(&app, "lamps").await.0, "Reading Lamp");
    eventually(
        Duration::from_secs(5),
        "the peer drops its entry",
        || async { first_name(&peer, "lamps").await.0 == "Reading Lamp" },
    )
    .await;
    assert_eq!(
        first_name(&peer, "lamps").await,
        ("Reading Lamp".into(), "hit".into())
    );

    // Cut both listeners' connections: each process drops what it holds, listens again, and
    // hears the next change.
    let cut = scalar(
        &app.db,
        "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN%cartwheel_store_cache%'",
    )
    .await;
    assert_eq!(cut, 2);
    eventually(
        Duration::from_secs(10),
        "the peer drops its entries",
        || async { first_name(&peer, "lamps").await.1 == "miss" },
    )
    .await;
    eventually(Duration::from_secs(10), "the peer caches again", || async {
        first_name(&peer, "lamps").await == ("Reading Lamp".into(), "hit".into())
    })
    .await;
    rename_lamp(&owner, &id, "Floor Lamp").await;
    eventually(
        Duration::from_secs(5),
        "the peer hears the change",
        || async { first_name(&peer, "lamps").await.0 == "Floor Lamp" },
    )
    .await;
}

cartwheel_testkit::on_each_backend!(a_stale_answer_is_served_while_the_background_recomputes_it);

async fn a_stale_answer_is_served_while_the_background_recomputes_it(backend: Backend) {
    let mail = MailServer::start().await;
    let app = app_with_mail(backend, &mail, &[("CARTWHEEL_STORE_CACHE_MS", "3000")]).await;
    let owner = ready_shop(&app, "mugs").await;
    create_item(&owner, item("MUG-1", "Tea Mug", 800, true, None)).await;
    eventually(Duration::from_secs(5), "a cached answer", || async {
        first_name(&app, "mugs").await == ("Tea Mug".into(), "hit".into())
    })
    .await;

    // A change that bypasses the admin API, as a future order moving stock would.
    sea_orm::ConnectionTrait::execute_unprepared(
        &app.db,
        "UPDATE items SET name = 'Coffee Mug' WHERE sku = 'MUG-1'",
    )
    .await
    .unwrap();
    assert_eq!(
        first_name(&app, "mugs").await,
        ("Tea Mug".into(), "hit".into())
    );

    tokio::time::sleep(Duration::from_millis(3100)).await;
    // Past its freshness: this caller gets the old answer at once and starts a refresh.
    assert_eq!(
        first_name(&app, "mugs").await,
        ("Tea Mug".into(), "stale".into())
    );
    // Within 2 s, well before the stale answer would expire on its own (6 s after it was
    // made): only the background refresh can bring the new name this soon.
    eventually(Duration::from_secs(2), "the refresh lands", || async {
        first_name(&app, "mugs").await == ("Coffee Mug".into(), "hit".into())
    })
    .await;
}

#[tokio::test]
async fn parameters_the_catalog_does_not_read_share_one_entry() {
    let mail = MailServer::start().await;
    let long = [("CARTWHEEL_STORE_CACHE_MS", "3600000")];
    let app = app_with_mail(Backend::Sqlite, &mail, &long).await;
    let owner = ready_shop(&app, "lamps").await;
    create_item(&owner, item("LAMP-1", "Desk Lamp", 1200, true, None)).await;
    let shopper = owner.shopper();
    let cache = |path: &'static str| {
        let shopper = &shopper;
        async move {
            let response = shopper.get(path).await;
            assert_eq!(response.status(), 200);
            response.headers()["x-cache"].to_str().unwrap().to_string()
        }
    };
    assert_eq!(cache("products?page=1&limit=5").await, "miss");
    // Tracking tags, junk and another order of the same parameters find the same entry.
    for path in [
        "products?limit=5&page=1",
        "products?page=1&limit=5&utm_source=news",
        "products?fbclid=abc&page=1&limit=5&x=1",
    ] {
        assert_eq!(cache(path).await, "hit", "{path}");
    }
}
