//! Tax by address: the rules a shop is seeded with for its country, admins keeping them, items'
//! tax classes, and a cart's tax following the rules and whether prices include tax.

use reqwest::Method;
use serde_json::{Value, json};

use super::{create_item, item, ok};
use cartwheel_testkit::shops::{
    ShopAdmin, log_in_owner, post_signup, ready_shop, signup, wait_for_status,
};
use cartwheel_testkit::{Backend, spawn_app_with};

async fn stocked(owner: &ShopAdmin<'_>, sku: &str, price: i64, class: &str) -> String {
    let mut body = item(sku, sku, price, true, None);
    body["taxClass"] = json!(class);
    let id = create_item(owner, body).await;
    let (status, body) = owner
        .post(
            "/api/v1/admin/stock/adjustments",
            json!({"itemId": id, "location": "PICKING", "quantity": 10, "reason": "count"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    id
}

/// The id of the shop's rule for `country` and `class` (`None`: every class).
async fn rule_id(owner: &ShopAdmin<'_>, country: &str, class: Option<&str>) -> String {
    let (status, rules) = owner.get("/api/v1/admin/tax-rules").await;
    assert_eq!(status, 200, "{rules}");
    rules["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["country"] == country && r["taxClass"] == json!(class))
        .unwrap_or_else(|| panic!("no {country} {class:?} rule in {rules}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

cartwheel_testkit::on_each_backend!(a_carts_tax_follows_the_rules_classes_and_price_display);

async fn a_carts_tax_follows_the_rules_classes_and_price_display(backend: Backend) {
    let app = spawn_app_with(backend, &[]).await;
    let owner = ready_shop(&app, "tax-shop").await;
    let tea = stocked(&owner, "TEA", 1000, "reduced").await;
    let mug = stocked(&owner, "MUG", 2000, "standard").await;
    let (_, detail) = owner
        .get(&format!("/api/v1/store/admin/products/{tea}"))
        .await;
    assert_eq!(detail["taxClass"], "reduced");

    let shopper = owner.shopper();
    let cart = ok(shopper.send(Method::POST, "cart", None).await).await;
    let id = cart["id"].as_str().unwrap().to_string();
    for item_id in [&tea, &mug] {
        ok(shopper
            .post(
                &format!("cart/{id}/items"),
                json!({"itemId": item_id, "qty": 1}),
            )
            .await)
        .await;
    }
    let totals = || async { ok(shopper.get(&format!("cart/{id}")).await).await["totals"].clone() };
    // US (the signup named no country): reduced 5 % of 1000, standard 10 % of 2000.
    assert_eq!(
        totals().await,
        json!({"subtotal": 3000, "discount": 0, "tax": 250, "total": 3250})
    );

    // An admin changes the reduced rate.
    let reduced = rule_id(&owner, "US", Some("reduced")).await;
    let (status, changed) = owner
        .put(
            &format!("/api/v1/admin/tax-rules/{reduced}"),
            json!({"name": "Reduced", "country": "US", "taxClass": "reduced", "rateBasisPoints": 700}),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(totals().await["tax"], 70 + 200);

    // One rule per country, region and class.
    let (status, taken) = owner
        .post(
            "/api/v1/admin/tax-rules",
            json!({"name": "Again", "country": "US", "taxClass": "reduced", "rateBasisPoints": 1}),
        )
        .await;
    assert_eq!(status, 409, "{taken}");
    assert_eq!(taken["errors"][0]["field"], "country");
    let (status, bad) = owner
        .post(
            "/api/v1/admin/tax-rules",
            json!({"name": "Nowhere", "country": "XX", "rateBasisPoints": 1}),
        )
        .await;
    assert_eq!(status, 422, "{bad}");
    assert_eq!(bad["errors"][0]["field"], "country");
    let (status, bad) = owner
        .post(
            "/api/v1/admin/tax-rules",
            json!({"name": "Too much", "country": "US", "rateBasisPoints": 10_001}),
        )
        .await;
    assert_eq!(status, 422, "{bad}");
    assert_eq!(bad["errors"][0]["field"], "rateBasisPoints");

    // The shop moves to Germany with prices that include tax: no German rule yet, no tax.
    let (status, settings) = owner
        .put(
            "/api/v1/admin/settings",
            json!({"timezone": "Europe/Berlin", "country": "DE", "pricesIncludeTax": true}),
        )
        .await;
    assert_eq!(status, 200, "{settings}");
    assert_eq!(
        settings,
        json!({"currency": "USD", "timezone": "Europe/Berlin", "country": "DE", "pricesIncludeTax": true})
    );
    assert_eq!(
        totals().await,
        json!({"subtotal": 3000, "discount": 0, "tax": 0, "total": 3000})
    );
    let (status, created) = owner
        .post(
            "/api/v1/admin/tax-rules",
            json!({"name": "MwSt", "country": "DE", "rateBasisPoints": 1900}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    // 19 % inside each price: 1000 − 840 = 160 and 2000 − 1681 = 319; the total is the prices.
    assert_eq!(
        totals().await,
        json!({"subtotal": 3000, "discount": 0, "tax": 479, "total": 3000})
    );
    let (status, bad) = owner
        .put(
            "/api/v1/admin/settings",
            json!({"timezone": "Mars/Olympus", "country": "DE", "pricesIncludeTax": true}),
        )
        .await;
    assert_eq!(status, 422, "{bad}");
    assert_eq!(bad["errors"][0]["field"], "timezone");

    // Another shop's admin cannot see, change or delete these rules.
    let other = ready_shop(&app, "other-tax-shop").await;
    let german = created["id"].as_str().unwrap();
    let (status, _) = other
        .put(
            &format!("/api/v1/admin/tax-rules/{german}"),
            json!({"name": "Mine", "country": "DE", "rateBasisPoints": 0}),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = other
        .delete(&format!("/api/v1/admin/tax-rules/{german}"))
        .await;
    assert_eq!(status, 404);
    let (status, deleted) = owner
        .delete(&format!("/api/v1/admin/tax-rules/{german}"))
        .await;
    assert_eq!(status, 204, "{deleted}");
    assert_eq!(totals().await["tax"], 0);
}

cartwheel_testkit::on_each_backend!(a_shop_signed_up_in_a_country_gets_its_rules);

async fn a_shop_signed_up_in_a_country_gets_its_rules(backend: Backend) {
    let app = spawn_app_with(backend, &[]).await;
    let mut body = signup("berlin-shop");
    body["country"] = json!("DE");
    let response = post_signup(&app, &body).await;
    assert_eq!(response.status(), 202);
    let tenant_id = response.json::<Value>().await.unwrap()["tenantId"]
        .as_str()
        .unwrap()
        .to_string();
    wait_for_status(&app, &tenant_id, "READY").await;
    let owner = log_in_owner(&app, "berlin-shop", tenant_id).await;
    let (_, settings) = owner.get("/api/v1/admin/settings").await;
    assert_eq!(settings["country"], "DE");
    rule_id(&owner, "DE", None).await;
    rule_id(&owner, "DE", Some("reduced")).await;

    let mut body = signup("nowhere-shop");
    body["country"] = json!("XX");
    let response = post_signup(&app, &body).await;
    assert_eq!(response.status(), 422);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "country");
}
