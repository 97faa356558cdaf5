//! Checkout and orders: the journey from cart to delivered order with its mails, the
//! concurrency the money path must survive (no oversell, coupon limits, one order per
//! checkout), order states, expiry, and another shop's 404s.

mod concurrency;
mod crash;
mod journey;
mod lifecycle;

use reqwest::Method;
use serde_json::{Value, json};

use crate::catalog::{create_item, item, ok};
use cartwheel_testkit::shops::{ShopAdmin, Shopper};

/// A published item of `price`, costing the shop 60 % of it, with `qty` in stock; its id.
pub async fn stocked(owner: &ShopAdmin<'_>, sku: &str, price: i64, qty: i64) -> String {
    let mut body = item(sku, sku, price, true, None);
    body["costPrice"] = json!(price * 60 / 100);
    let id = create_item(owner, body).await;
    let (status, body) = owner
        .post(
            "/api/v1/admin/stock/adjustments",
            json!({"itemId": id, "location": "PICKING", "quantity": qty, "reason": "initial count"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    id
}

/// An item's stock over its locations: (on hand, reserved), and its ledger's reasons.
pub async fn stock_of(owner: &ShopAdmin<'_>, item: &str) -> (i64, i64, Vec<String>) {
    let view = owner
        .get_ok(&format!("/api/v1/admin/stock/items/{item}"))
        .await;
    let levels = view["levels"].as_array().unwrap();
    let sum = |key: &str| levels.iter().map(|l| l[key].as_i64().unwrap()).sum();
    let reasons = view["movements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["reason"].as_str().unwrap().to_string())
        .collect();
    (sum("onHand"), sum("reserved"), reasons)
}

/// The shop's trial balance: each account's balance (debit less credit) by code, after
/// checking that debits and credits are equal.
pub async fn balances(owner: &ShopAdmin<'_>) -> std::collections::BTreeMap<String, i64> {
    let trial = owner.get_ok("/api/v1/admin/ledger/trial-balance").await;
    assert_eq!(trial["debit"], trial["credit"], "{trial}");
    trial["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["code"].as_str().unwrap().to_string(),
                a["balance"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// A shipping zone for `countries` with one method, Parcel at `price`; the method's id.
pub async fn parcel_to(owner: &ShopAdmin<'_>, countries: &[&str], price: i64) -> String {
    let (status, zone) = owner
        .post(
            "/api/v1/admin/shipping/zones",
            json!({"name": "Zone", "countries": countries}),
        )
        .await;
    assert_eq!(status, 201, "{zone}");
    let (status, method) = owner
        .post(
            "/api/v1/admin/shipping/methods",
            json!({"zoneId": zone["id"], "name": "Parcel", "price": price}),
        )
        .await;
    assert_eq!(status, 201, "{method}");
    method["id"].as_str().unwrap().to_string()
}

pub fn address(country: &str) -> Value {
    json!({
        "name": "Ada Lovelace",
        "line1": "1 Analytical Way",
        "city": "London",
        "postalCode": "N1 9GU",
        "country": country,
    })
}

/// A new cart holding `lines` (item id, quantity); its id.
pub async fn cart_with(shopper: &Shopper<'_>, lines: &[(&str, i64)]) -> String {
    let cart = ok(shopper.send(Method::POST, "cart", None).await).await;
    let id = cart["id"].as_str().unwrap().to_string();
    for (item, qty) in lines {
        ok(shopper
            .post(
                &format!("cart/{id}/items"),
                json!({"itemId": item, "qty": qty}),
            )
            .await)
        .await;
    }
    id
}

/// A checkout of a new cart holding `lines`, with email, a US address and `method` (if any)
/// set: ready to confirm. Its id.
pub async fn ready_checkout(
    shopper: &Shopper<'_>,
    lines: &[(&str, i64)],
    email: &str,
    method: Option<&str>,
) -> String {
    let cart = cart_with(shopper, lines).await;
    let checkout = ok(shopper.post("checkout", json!({"cartId": cart})).await).await;
    let id = checkout["checkoutId"].as_str().unwrap().to_string();
    let mut changes = json!({"email": email, "shippingAddress": address("US")});
    if let Some(method) = method {
        changes["shippingMethodId"] = json!(method);
    }
    ok(shopper.put(&format!("checkout/{id}"), changes).await).await;
    id
}

/// Confirms a checkout with manual payment: the raw answer.
pub async fn confirm(shopper: &Shopper<'_>, checkout: &str) -> reqwest::Response {
    shopper
        .post(
            &format!("checkout/{checkout}/confirm"),
            json!({"paymentMethod": "manual"}),
        )
        .await
}
