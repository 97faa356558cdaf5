//! Catalog tests: admin items, listings, categories and stock; the public storefront catalog.
//! Real Postgres (and SQLite), real HTTP, shops provisioned through the queue.

mod admin;
mod cache;
mod cart;
mod customers;
mod drafts;
mod import;
mod limits;
mod reminders;
mod seo;
mod shipping;
mod stock;
mod storefront;
mod tax;
mod tree;

use serde_json::{Value, json};

use cartwheel_testkit::shops::ShopAdmin;

/// The JSON answer of a request that must succeed.
pub async fn ok(response: reqwest::Response) -> Value {
    let status = response.status();
    let path = response.url().path().to_string();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "{path}: {status} {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"))
}

/// An item request with sensible defaults.
pub fn item(sku: &str, name: &str, price: i64, published: bool, category: Option<&str>) -> Value {
    json!({
        "sku": sku,
        "name": name,
        "unit": "Nos",
        "price": price,
        "listing": {
            "published": published,
            "slug": sku.to_lowercase(),
            "shortDescription": format!("The {name}"),
            "longDescription": format!("All about the {name}."),
            "images": [{"url": format!("https://img.example/{sku}.jpg"), "alt": name}],
            "categoryId": category,
        }
    })
}

/// Creates an item as `owner` and returns its id.
pub async fn create_item(owner: &ShopAdmin<'_>, body: Value) -> String {
    let (status, created) = owner.post("/api/v1/store/admin/products", body).await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_str().unwrap().to_string()
}

/// Creates a category as `owner` and returns its id.
pub async fn create_category(
    owner: &ShopAdmin<'_>,
    name: &str,
    slug: &str,
    parent: Option<&str>,
) -> String {
    let (status, created) = owner
        .post(
            "/api/v1/store/admin/categories",
            json!({"name": name, "slug": slug, "parentId": parent}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_str().unwrap().to_string()
}
