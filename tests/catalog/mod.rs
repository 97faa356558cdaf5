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
use cartwheel_testkit::shops::admin;

/// Sends `body` as the shop's owner and returns the status and JSON answer.
pub async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    slug: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = admin(app, method, path, slug, token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A storefront request as a shopper of `shop`, signed in with `token` if given; `path`
/// follows `/api/v1/store/`.
pub async fn shopper(
    app: &TestApp,
    shop: &str,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = app
        .client
        .request(method, app.url(&format!("/api/v1/store/{path}")))
        .header("X-Tenant", shop);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

/// A public storefront GET; `path` follows `/api/v1/store/`.
pub async fn store(app: &TestApp, shop: &str, path: &str) -> reqwest::Response {
    shopper(app, shop, Method::GET, path, None, None).await
}

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
