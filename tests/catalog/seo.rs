//! A shop's sitemap and robots.txt, on its own host: parsed as XML, its published products and
//! categories only, with canonical URLs on the shop's subdomain, split into an index of pages
//! past 50,000 URLs; another shop's products never in it. A product's answer carries its title,
//! meta description, canonical URL, Open Graph tags and `schema.org/Product` JSON-LD, which the
//! product admin (and a CSV import) may override.

use std::collections::BTreeSet;

use cartwheel_domain::catalog::items::{self, ListingInput};
use cartwheel_domain::seo::URLS_PER_SITEMAP;
use cartwheel_entity::{TenantId, items as item_rows};
use cartwheel_testkit::shops::{app_with_mail, ready_shop};
use cartwheel_testkit::smtp::MailServer;
use cartwheel_testkit::{Backend, TestApp};
use reqwest::Method;
use serde_json::{Value, json};

use super::{create_category, create_item, item, ok};

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
                seo_title: None,
                seo_description: None,
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

/// The `seo` of the store's answer for `slug`.
async fn product_seo(owner: &cartwheel_testkit::shops::ShopAdmin<'_>, slug: &str) -> Value {
    let product = ok(owner.shopper().get(&format!("products/{slug}")).await).await;
    product["seo"].clone()
}

/// Calls `check` with every key and value of `node` and of the objects within it.
fn json_ld_nodes(node: &Value, check: &mut impl FnMut(&str, &Value)) {
    if let Some(object) = node.as_object() {
        for (key, value) in object {
            check(key, value);
            json_ld_nodes(value, check);
        }
    }
}

/// The `content` of the Open Graph tag `property`.
fn tag<'a>(seo: &'a Value, property: &str) -> Option<&'a str> {
    seo["openGraph"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["property"] == property)
        .map(|t| t["content"].as_str().unwrap())
}

cartwheel_testkit::on_each_backend!(
    a_product_answer_carries_its_seo_data_which_the_admin_overrides
);

async fn a_product_answer_carries_its_seo_data_which_the_admin_overrides(backend: Backend) {
    let mail = MailServer::start().await;
    let app = app_with_mail(backend, &mail, &[]).await;
    let owner = ready_shop(&app, "seo-data").await;
    let other = ready_shop(&app, "seo-elsewhere").await;
    let settings = owner.get_ok("/api/v1/admin/settings").await;
    let currency = settings["currency"].as_str().unwrap().to_string();
    let lamps = create_category(&owner, "Desk Lamps", "lamps", None).await;
    let mut lamp = item("LAMP", "Brass Lamp", 1299, true, Some(&lamps));
    lamp["listing"]["shortDescription"] = json!("  A brass\n desk   lamp. ");
    let id = create_item(&owner, lamp.clone()).await;

    // Derived: the name and the shop's name, the short description on one line, the product
    // on the shop's own host, out of stock until some arrives.
    let seo = product_seo(&owner, "lamp").await;
    let url = "http://seo-data.shops.test:8080/products/lamp";
    assert_eq!(seo["title"], "Brass Lamp | seo-data Supplies");
    assert_eq!(seo["description"], "A brass desk lamp.");
    assert_eq!(seo["canonicalUrl"], url);
    let properties: Vec<&str> = seo["openGraph"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["property"].as_str().unwrap())
        .collect();
    assert_eq!(
        properties,
        [
            "og:type",
            "og:title",
            "og:description",
            "og:url",
            "og:site_name",
            "og:image",
            "og:image:alt",
            "product:price:amount",
            "product:price:currency",
            "product:availability",
        ]
    );
    assert_eq!(tag(&seo, "og:type"), Some("product"));
    assert_eq!(
        tag(&seo, "og:title"),
        Some("Brass Lamp | seo-data Supplies")
    );
    assert_eq!(tag(&seo, "og:url"), Some(url));
    assert_eq!(tag(&seo, "og:site_name"), Some("seo-data Supplies"));
    assert_eq!(tag(&seo, "og:image"), Some("https://img.example/LAMP.jpg"));
    assert_eq!(tag(&seo, "product:price:amount"), Some("12.99"));
    assert_eq!(tag(&seo, "product:price:currency"), Some(currency.as_str()));
    assert_eq!(tag(&seo, "product:availability"), Some("out of stock"));

    // The JSON-LD is a schema.org Product whose offer says what the answer says.
    let ld = &seo["jsonLd"];
    assert_eq!(ld["@context"], "https://schema.org");
    assert_eq!(ld["@type"], "Product");
    assert_eq!(
        (&ld["name"], &ld["sku"], &ld["url"], &ld["category"]),
        (
            &json!("Brass Lamp"),
            &json!("LAMP"),
            &json!(url),
            &json!("Desk Lamps")
        )
    );
    assert_eq!(ld["image"], json!(["https://img.example/LAMP.jpg"]));
    assert_eq!(ld["description"], seo["description"]);
    let offer = &ld["offers"];
    assert_eq!(offer["@type"], "Offer");
    assert_eq!(offer["price"], "12.99");
    assert_eq!(offer["priceCurrency"], currency.as_str());
    assert_eq!(offer["availability"], "https://schema.org/OutOfStock");
    assert_eq!(offer["url"], url);
    let spec = &offer["priceSpecification"];
    assert_eq!(spec["@type"], "UnitPriceSpecification");
    assert_eq!(
        (&spec["price"], &spec["priceCurrency"]),
        (&offer["price"], &offer["priceCurrency"])
    );
    assert_eq!(spec["valueAddedTaxIncluded"], settings["pricesIncludeTax"]);
    // Throughout: every `@type` is one of schema.org's, every URL absolute.
    json_ld_nodes(ld, &mut |key, value| match key {
        "@type" => assert!(
            ["Product", "Offer", "UnitPriceSpecification"].contains(&value.as_str().unwrap()),
            "{value}"
        ),
        "url" | "availability" => assert!(value.as_str().unwrap().starts_with("http")),
        "image" => assert!(
            value
                .as_array()
                .unwrap()
                .iter()
                .all(|u| u.as_str().unwrap().starts_with("https://"))
        ),
        _ => {}
    });

    // Stock arrives and the tax setting flips: the answer says so at once.
    let (status, body) = owner
        .post(
            "/api/v1/admin/stock/adjustments",
            json!({"itemId": id, "location": "PICKING", "quantity": 3, "reason": "count"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let flipped = !settings["pricesIncludeTax"].as_bool().unwrap();
    let (status, body) = owner
        .put(
            "/api/v1/admin/settings",
            json!({
                "timezone": settings["timezone"],
                "country": settings["country"],
                "pricesIncludeTax": flipped,
            }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let seo = product_seo(&owner, "lamp").await;
    let offer = &seo["jsonLd"]["offers"];
    assert_eq!(offer["availability"], "https://schema.org/InStock");
    assert_eq!(
        offer["priceSpecification"]["valueAddedTaxIncluded"],
        flipped
    );
    assert_eq!(tag(&seo, "product:availability"), Some("in stock"));

    // The admin's own title and description replace the derived ones everywhere.
    lamp["listing"]["seoTitle"] = json!("  Brass desk lamp, hand made ");
    lamp["listing"]["seoDescription"] = json!("Solid brass, made to order.");
    let (status, saved) = owner
        .put(&format!("/api/v1/store/admin/products/{id}"), lamp.clone())
        .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["listing"]["seoTitle"], "Brass desk lamp, hand made");
    assert_eq!(
        saved["listing"]["seoDescription"],
        "Solid brass, made to order."
    );
    let seo = product_seo(&owner, "lamp").await;
    assert_eq!(seo["title"], "Brass desk lamp, hand made");
    assert_eq!(seo["description"], "Solid brass, made to order.");
    assert_eq!(tag(&seo, "og:title"), Some("Brass desk lamp, hand made"));
    assert_eq!(
        tag(&seo, "og:description"),
        Some("Solid brass, made to order.")
    );
    assert_eq!(seo["jsonLd"]["description"], "Solid brass, made to order.");

    // Too long is refused naming the field and changes nothing; blank goes back to derived.
    let mut too_long = lamp.clone();
    too_long["listing"]["seoTitle"] = json!("x".repeat(151));
    let (status, problem) = owner
        .put(&format!("/api/v1/store/admin/products/{id}"), too_long)
        .await;
    assert_eq!(
        (status, problem["errors"][0]["field"].as_str()),
        (422, Some("listing.seoTitle")),
        "{problem}"
    );
    assert_eq!(
        product_seo(&owner, "lamp").await["title"],
        "Brass desk lamp, hand made"
    );
    lamp["listing"]["seoTitle"] = json!(" ");
    let (status, saved) = owner
        .put(&format!("/api/v1/store/admin/products/{id}"), lamp.clone())
        .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["listing"]["seoTitle"], Value::Null);
    assert_eq!(
        product_seo(&owner, "lamp").await["title"],
        "Brass Lamp | seo-data Supplies"
    );

    // A CSV import sets them by column and keeps them when the file has no such column.
    let import = |csv: &'static str| {
        owner
            .request(Method::POST, "/api/v1/store/admin/products/import")
            .header("Content-Type", "text/csv")
            .body(csv)
            .send()
    };
    let report = ok(
        import("sku,name,price,seo_title\nLAMP,Brass Lamp,1299,Imported title\n")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(report["updated"], 1, "{report}");
    let report = ok(import("sku,name,price\nLAMP,Brass Lamp,1299\n")
        .await
        .unwrap())
    .await;
    assert_eq!(report["updated"], 1, "{report}");
    let seo = product_seo(&owner, "lamp").await;
    assert_eq!(seo["title"], "Imported title");
    assert_eq!(seo["description"], "Solid brass, made to order.");

    // A list carries no SEO data; another shop has no such product.
    let list = ok(owner.shopper().get("products").await).await;
    assert!(list["items"][0].get("seo").is_none(), "{list}");
    let elsewhere = other.shopper().get("products/lamp").await;
    assert_eq!(elsewhere.status(), 404);
}
