//! Shipping zones and methods: admins keep them, a country ships by one zone of a shop, and
//! the methods for an address and a subtotal are the right ones at the right price.

use serde_json::json;

use cartwheel_domain::shipping;
use cartwheel_entity::TenantId;
use cartwheel_testkit::shops::ready_shop;
use cartwheel_testkit::{Backend, spawn_app_with};

cartwheel_testkit::on_each_backend!(zones_and_methods_decide_what_ships_where_and_for_how_much);

async fn zones_and_methods_decide_what_ships_where_and_for_how_much(backend: Backend) {
    let app = spawn_app_with(backend, &[]).await;
    let owner = ready_shop(&app, "ship-shop").await;
    let shop = TenantId(owner.tenant_id.parse().unwrap());

    let (status, eu) = owner
        .post(
            "/api/v1/admin/shipping/zones",
            json!({"name": "EU", "countries": ["FR", "DE", "AT"]}),
        )
        .await;
    assert_eq!(status, 201, "{eu}");
    assert_eq!(eu["countries"], json!(["AT", "DE", "FR"]));
    let eu_id = eu["id"].as_str().unwrap().to_string();

    // A country ships by one zone of a shop; and it must be a country.
    let (status, taken) = owner
        .post(
            "/api/v1/admin/shipping/zones",
            json!({"name": "DACH", "countries": ["CH", "DE"]}),
        )
        .await;
    assert_eq!(status, 409, "{taken}");
    assert_eq!(taken["errors"][0]["field"], "countries");
    let (status, bad) = owner
        .post(
            "/api/v1/admin/shipping/zones",
            json!({"name": "Nowhere", "countries": ["XX"]}),
        )
        .await;
    assert_eq!(status, 422, "{bad}");
    assert!(
        bad["errors"][0]["field"]
            .as_str()
            .unwrap()
            .starts_with("countries"),
        "{bad}"
    );

    let method = |name: &str, price: i64, extra: serde_json::Value| {
        let mut body = json!({"zoneId": eu_id, "name": name, "price": price});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    for body in [
        method("Parcel", 495, json!({"freeOver": 5000})),
        method("Freight", 2500, json!({"minSubtotal": 10_000})),
        method("Courier", 1500, json!({"maxSubtotal": 8000})),
        method("Pigeon", 1, json!({"active": false})),
    ] {
        let (status, created) = owner.post("/api/v1/admin/shipping/methods", body).await;
        assert_eq!(status, 201, "{created}");
    }
    let (status, bad) = owner
        .post(
            "/api/v1/admin/shipping/methods",
            method("Odd", 1, json!({"minSubtotal": 10, "maxSubtotal": 5})),
        )
        .await;
    assert_eq!(status, 422, "{bad}");
    assert_eq!(bad["errors"][0]["field"], "maxSubtotal");
    let (status, bad) = owner
        .post(
            "/api/v1/admin/shipping/methods",
            json!({"zoneId": uuid::Uuid::now_v7(), "name": "Lost", "price": 1}),
        )
        .await;
    assert_eq!(status, 422, "{bad}");
    assert_eq!(bad["errors"][0]["field"], "zoneId");

    // What ships to Germany, cheapest first, by the goods' subtotal.
    let quote = |country: &'static str, subtotal: i64| {
        let db = app.db.clone();
        async move {
            shipping::for_destination(&db, shop, country, subtotal)
                .await
                .unwrap()
                .into_iter()
                .map(|m| (m.name.clone(), shipping::price(&m, subtotal)))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        quote("DE", 3000).await,
        [("Parcel".to_string(), 495), ("Courier".to_string(), 1500)]
    );
    assert_eq!(
        quote("DE", 12_000).await,
        [("Parcel".to_string(), 0), ("Freight".to_string(), 2500)]
    );
    assert!(quote("US", 3000).await.is_empty());

    // Another shop cannot touch the zone; deleting it takes its methods along.
    let other = ready_shop(&app, "other-ship-shop").await;
    let (status, _) = other
        .put(
            &format!("/api/v1/admin/shipping/zones/{eu_id}"),
            json!({"name": "Mine", "countries": []}),
        )
        .await;
    assert_eq!(status, 404);
    let (status, bad) = other
        .post(
            "/api/v1/admin/shipping/methods",
            json!({"zoneId": eu_id, "name": "Sneaky", "price": 1}),
        )
        .await;
    assert_eq!(status, 422, "{bad}");
    let (status, moved) = owner
        .put(
            &format!("/api/v1/admin/shipping/zones/{eu_id}"),
            json!({"name": "Europe", "countries": ["DE", "CH"]}),
        )
        .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["countries"], json!(["CH", "DE"]));
    assert!(quote("FR", 3000).await.is_empty());
    let (status, _) = owner
        .delete(&format!("/api/v1/admin/shipping/zones/{eu_id}"))
        .await;
    assert_eq!(status, 204);
    let (_, methods) = owner.get("/api/v1/admin/shipping/methods").await;
    assert_eq!(methods["items"], json!([]));
    assert!(quote("DE", 3000).await.is_empty());
}
