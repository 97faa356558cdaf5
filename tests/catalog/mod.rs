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
mod stock;
mod storefront;
mod tree;

use reqwest::Method;
use serde_json::{Value, json};

use cartwheel_testkit::TestApp;
pub use cartwheel_testkit::shops::{send, shopper, store};

/// A storefront cart request; `path` follows `/api/v1/store/cart`.
pub async fn cart_call(
    app: &TestApp,
    shop: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    shopper(app, shop, method, &format!("cart{path}"), None, body).await
}

/// A cart request that must succeed; its JSON answer.
pub async fn cart(
    app: &TestApp,
    shop: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Value {
    let response = cart_call(app, shop, method, path, body).await;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{path}: {status} {body}");
    body
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

/// Creates an item as the owner and returns its id.
pub async fn create_item(app: &TestApp, slug: &str, token: &str, body: Value) -> String {
    let (status, created) = send(
        app,
        Method::POST,
        "/api/v1/store/admin/products",
        slug,
        token,
        Some(body),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_str().unwrap().to_string()
}

/// Creates a category and returns its id.
pub async fn create_category(
    app: &TestApp,
    slug: &str,
    token: &str,
    name: &str,
    category_slug: &str,
    parent: Option<&str>,
) -> String {
    let (status, created) = send(
        app,
        Method::POST,
        "/api/v1/store/admin/categories",
        slug,
        token,
        Some(json!({"name": name, "slug": category_slug, "parentId": parent})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_str().unwrap().to_string()
}
