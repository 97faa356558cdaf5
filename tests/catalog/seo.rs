//! A shop's sitemap and robots.txt, on its own host: parsed as XML, its published products and
//! categories only, with canonical URLs on the shop's subdomain, split into an index of pages
//! past 50,000 URLs; another shop's products never in it.

use std::collections::BTreeSet;

use cartwheel_domain::catalog::items::{self, ListingInput};
use cartwheel_domain::seo::URLS_PER_SITEMAP;
use cartwheel_entity::{TenantId, items as item_rows};
use cartwheel_testkit::shops::{app_with_mail, ready_shop};
use cartwheel_testkit::smtp::MailServer;
use cartwheel_testkit::{Backend, TestApp};
use reqwest::Method;

use super::{create_category, create_item, item};

/// The XML at `path` of `shop`: its content type and its root element's name and `<loc>`s.
async fn sitemap(app: &TestApp, shop: &str, path: &str) -> (String, Vec<String>) {
    let response = app
        .client
        .get(app.url(path))
        .header("X-Tenant", shop)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        content_type.starts_with("application/xml"),
        "{content_type}"
    );
    let text = response.text().await.unwrap();
    let xml = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let root = xml.root_element();
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.sitemaps.org/schemas/sitemap/0.9")
    );
    let locs = root
        .descendants()
        .filter(|n| n.has_tag_name("loc"))
        .map(|n| n.text().unwrap().to_string())
        .collect();
    // Every URL of a page has its lastmod, as W3C datetime.
    for url in root.children().filter(|n| n.has_tag_name("url")) {
        let lastmod = url
            .children()
            .find(|n| n.has_tag_name("lastmod"))
            .and_then(|n| n.text())
            .unwrap();
        chrono::DateTime::parse_from_rfc3339(lastmod).unwrap();
    }
    (root.tag_name().name().to_string(), locs)
}

#[tokio::test]
async fn the_sitemap_lists_what_the_store_shows_and_robots_point_at_it() {
    let mail = MailServer::start().await;
    let app = app_with_mail(Backend::Postgres, &mail, &[]).await;
    let owner = ready_shop(&app, "seo-shop").await;
    let other = ready_shop(&app, "seo-other").await;
    let lamps = create_category(&owner, "Lamps", "lamps", None).await;
    create_item(&owner, item("LAMP", "Lamp", 1200, true, Some(&lamps))).await;
    create_item(&owner, item("DRAFT", "Draft", 100, false, None)).await;
    let gone = create_item(&owner, item("GONE", "Gone", 100, true, None)).await;
    let (status, _) = owner
        .delete(&format!("/api/v1/store/admin/products/{gone}"))
        .await;
    assert_eq!(status, 204);
    create_item(&other, item("THEIRS", "Theirs", 100, true, None)).await;

    let (root, locs) = sitemap(&app, "seo-shop", "/sitemap.xml").await;
    assert_eq!(root, "urlset");
    assert_eq!(
        locs,
        [
            "http://seo-shop.shops.test:8080/products/lamp",
            "http://seo-shop.shops.test:8080/categories/lamps",
        ]
    );
    // A page past the last is a 404 problem; page 1 is the same list.
    assert_eq!(
        sitemap(&app, "seo-shop", "/sitemap.xml?page=1").await.1,
        locs
    );
    let past = app
        .client
        .get(app.url("/sitemap.xml?page=2"))
        .header("X-Tenant", "seo-shop")
        .send()
        .await
        .unwrap();
    assert_eq!(past.status(), 404);

    let robots = app
        .client
        .request(Method::GET, app.url("/robots.txt"))
        .header("X-Tenant", "seo-shop")
        .send()
        .await
        .unwrap();
    assert_eq!(robots.status(), 200);
    assert!(
        robots.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let robots = robots.text().await.unwrap();
    for line in [
        "User-agent: *",
        "Disallow: /cart",
        "Disallow: /checkout",
        "Disallow: /account",
        "Sitemap: http://seo-shop.shops.test:8080/sitemap.xml",
    ] {
        assert!(robots.lines().any(|l| l == line), "{line} in {robots}");
    }
}

#[tokio::test]
async fn past_fifty_thousand_urls_the_sitemap_is_an_index_of_pages() {
    let mail = MailServer::start().await;
    let app = app_with_mail(Backend::Postgres, &mail, &[]).await;
    let owner = ready_shop(&app, "seo-big").await;
    create_category(&owner, "Lamps", "lamps", None).await;
    // 50,000 products written as an import writes them, one more through the API.
    let tenant = TenantId(owner.tenant_id.parse().unwrap());
    let now = chrono::Utc::now();
    let rows: Vec<(item_rows::Model, ListingInput)> = (0..URLS_PER_SITEMAP)
        .map(|n| {
            let item = item_rows::Model {
                id: uuid::Uuid::now_v7(),
                tenant_id: tenant,
                sku: format!("SKU-{n:05}"),
                name: format!("Product {n}"),
                unit_code: "Nos".into(),
                price: 100,
                tax_class: "standard".into(),
                cost_price: 50,
                reorder_level: 0,
                active: true,
                deleted_at: None,
                created_at: now,
                updated_at: now,
            };
            let listing = ListingInput {
                published: true,
                slug: format!("p-{n:05}"),
                short_description: String::new(),
                long_description: String::new(),
                images: vec![],
                category_id: None,
                display_order: 0,
            };
            (item, listing)
        })
        .collect();
    let txn = sea_orm::TransactionTrait::begin(&app.db).await.unwrap();
    let item_list: Vec<item_rows::Model> = rows.iter().map(|r| r.0.clone()).collect();
    items::write_items(&txn, &item_list).await.unwrap();
    let listings: Vec<(&item_rows::Model, &ListingInput)> =
        rows.iter().map(|(i, l)| (i, l)).collect();
    items::write_listings(&txn, &listings).await.unwrap();
    txn.commit().await.unwrap();
    create_item(&owner, item("ZZZ", "Last", 100, true, None)).await;

    let (root, pages) = sitemap(&app, "seo-big", "/sitemap.xml").await;
    assert_eq!(root, "sitemapindex");
    assert_eq!(
        pages,
        [
            "http://seo-big.shops.test:8080/sitemap.xml?page=1",
            "http://seo-big.shops.test:8080/sitemap.xml?page=2",
        ]
    );
    let (root, first) = sitemap(&app, "seo-big", "/sitemap.xml?page=1").await;
    assert_eq!(root, "urlset");
    assert_eq!(first.len() as u64, URLS_PER_SITEMAP);
    let (_, second) = sitemap(&app, "seo-big", "/sitemap.xml?page=2").await;
    assert_eq!(
        second,
        [
            "http://seo-big.shops.test:8080/products/zzz",
            "http://seo-big.shops.test:8080/categories/lamps",
        ]
    );
    let all: BTreeSet<&String> = first.iter().chain(&second).collect();
    assert_eq!(all.len() as u64, URLS_PER_SITEMAP + 2, "no URL twice");
}
