//! Carts: stock checks, price snapshots, totals with tax, coupons each way, expiry, tenants,
//! concurrent adds, and the cart a session or a customer opens.

use reqwest::Method;
use serde_json::{Value, json};

use super::{create_item, item, ok};
use cartwheel_testkit::shops::{ShopAdmin, app_with_mail, ready_shop};
use cartwheel_testkit::smtp::MailServer;
use cartwheel_testkit::{Backend, assert_problem};

async fn stocked(owner: &ShopAdmin<'_>, sku: &str, price: i64, qty: i64) -> String {
    let id = create_item(owner, item(sku, sku, price, true, None)).await;
    let (status, body) = owner.post("/api/v1/admin/stock/adjustments",
        json!({"itemId": id, "location": "PICKING", "quantity": qty, "reason": "initial count"})).await;
    assert_eq!(status, 201, "{body}");
    id
}

cartwheel_testkit::on_each_backend!(a_cart_checks_stock_keeps_prices_and_totals_up);

async fn a_cart_checks_stock_keeps_prices_and_totals_up(backend: Backend) {
    let mail = MailServer::start().await;
    let app = app_with_mail(backend, &mail, &[]).await;
    let owner = ready_shop(&app, "cart-shop").await;
    let shopper = owner.shopper();
    let mug = stocked(&owner, "MUG", 1000, 5).await;
    let pen = stocked(&owner, "PEN", 255, 50).await;

    let cart = ok(shopper.send(Method::POST, "cart", None).await).await;
    let id = cart["id"].as_str().unwrap().to_string();
    assert_eq!(
        cart["totals"],
        json!({"subtotal": 0, "discount": 0, "tax": 0, "total": 0})
    );

    let cart = ok(shopper
        .post(
            &format!("cart/{id}/items"),
            json!({"itemId": mug, "qty": 2}),
        )
        .await)
    .await;
    assert_eq!(cart["lines"][0]["qty"], 2);
    // Default tax rate 10 %: 2000 → 200.
    assert_eq!(
        cart["totals"],
        json!({"subtotal": 2000, "discount": 0, "tax": 200, "total": 2200})
    );
    let refused = assert_problem(
        shopper
            .post(
                &format!("cart/{id}/items"),
                json!({"itemId": mug, "qty": 4}),
            )
            .await,
        409,
    )
    .await;
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .contains("Only 5 available"),
        "{refused}"
    );
    let cart = ok(shopper
        .put(&format!("cart/{id}/items/{mug}"), json!({"qty": 5}))
        .await)
    .await;
    assert_eq!(cart["lines"][0]["qty"], 5);
    assert_problem(
        shopper
            .put(&format!("cart/{id}/items/{mug}"), json!({"qty": 6}))
            .await,
        409,
    )
    .await;

    // The price in the cart is the price when added.
    let mut dearer = item("MUG", "MUG", 1500, true, None);
    dearer["listing"]["slug"] = json!("mug");
    let (status, _) = owner
        .put(&format!("/api/v1/store/admin/products/{mug}"), dearer)
        .await;
    assert_eq!(status, 200);
    let cart = ok(shopper
        .post(
            &format!("cart/{id}/items"),
            json!({"itemId": pen, "qty": 3}),
        )
        .await)
    .await;
    assert_eq!(cart["lines"][0]["unitPrice"], 1000);
    assert_eq!(cart["lines"][1]["lineTotal"], 765);
    // Tax per line, half up: 5000 → 500, 765 → 76.5 → 77.
    assert_eq!(
        cart["totals"],
        json!({"subtotal": 5765, "discount": 0, "tax": 577, "total": 6342})
    );

    let cart = ok(shopper
        .put(&format!("cart/{id}/items/{pen}"), json!({"qty": 0}))
        .await)
    .await;
    assert_eq!(cart["lines"].as_array().unwrap().len(), 1);
    // Removing a line that is not there changes nothing and is no error (DELETE is
    // idempotent).
    let unchanged = ok(shopper.delete(&format!("cart/{id}/items/{pen}")).await).await;
    assert_eq!(unchanged["lines"].as_array().unwrap().len(), 1);
    let bad = assert_problem(
        shopper
            .post(&format!("cart/{id}/items"), json!({"itemId": id, "qty": 1}))
            .await,
        422,
    )
    .await;
    assert_eq!(bad["errors"][0]["field"], "itemId");
    let bad = assert_problem(
        shopper
            .post(
                &format!("cart/{id}/items"),
                json!({"itemId": mug, "qty": 0}),
            )
            .await,
        422,
    )
    .await;
    assert_eq!(bad["errors"][0]["field"], "qty");

    // Another shop, an unknown id and an expired cart are all 404.
    let elsewhere = ready_shop(&app, "elsewhere").await.shopper();
    assert_problem(elsewhere.get(&format!("cart/{id}")).await, 404).await;
    assert_problem(
        shopper.get(&format!("cart/{}", uuid::Uuid::new_v4())).await,
        404,
    )
    .await;
    use cartwheel_entity::carts;
    use sea_orm::{EntityTrait, sea_query::Expr};
    carts::Entity::update_many()
        .col_expr(
            carts::Column::ExpiresAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::minutes(1)),
        )
        .exec(&app.db)
        .await
        .unwrap();
    assert_problem(shopper.get(&format!("cart/{id}")).await, 404).await;
}

#[tokio::test]
async fn coupons_apply_or_say_why_not() {
    let mail = MailServer::start().await;
    let app = app_with_mail(Backend::Postgres, &mail, &[]).await;
    let owner = ready_shop(&app, "deal-shop").await;
    let shopper = owner.shopper();
    let lamp = stocked(&owner, "LAMP", 2000, 10).await;
    let coupon = |body: Value| owner.post("/api/v1/store/admin/coupons", body);
    let now = chrono::Utc::now();
    for body in [
        json!({"code": "ten", "kind": "percent", "value": 10, "minSubtotal": 3000}),
        json!({"code": "FIVER", "kind": "fixed", "value": 500}),
        json!({"code": "OLD", "kind": "fixed", "value": 500, "endsAt": now - chrono::Duration::days(1)}),
        json!({"code": "SOON", "kind": "fixed", "value": 500, "startsAt": now + chrono::Duration::days(1)}),
        json!({"code": "OFF", "kind": "fixed", "value": 500, "active": false}),
        json!({"code": "ONCE", "kind": "fixed", "value": 500, "maxUses": 1}),
    ] {
        let (status, created) = coupon(body).await;
        assert_eq!(status, 201, "{created}");
    }
    let (status, problem) = coupon(json!({"code": "TEN", "kind": "percent", "value": 5})).await;
    assert_eq!(
        (status, problem["errors"][0]["field"].as_str()),
        (409, Some("code"))
    );
    let (status, problem) = coupon(json!({"code": "BAD", "kind": "percent", "value": 150})).await;
    assert_eq!(
        (status, problem["errors"][0]["field"].as_str()),
        (422, Some("value"))
    );

    // A coupon used up elsewhere (a redemption by an order).
    let (_, list) = owner.get("/api/v1/store/admin/coupons").await;
    let once = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "ONCE")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    use sea_orm::ConnectionTrait;
    app.db
        .execute_unprepared(&format!(
            "UPDATE coupons SET used_count = 1 WHERE id = '{once}'"
        ))
        .await
        .unwrap();

    let cart = ok(shopper.send(Method::POST, "cart", None).await).await;
    let id = cart["id"].as_str().unwrap().to_string();
    ok(shopper
        .post(
            &format!("cart/{id}/items"),
            json!({"itemId": lamp, "qty": 1}),
        )
        .await)
    .await;
    let coupon_path = format!("cart/{id}/coupon");
    let apply = |code: &'static str| shopper.post(&coupon_path, json!({"code": code}));
    // A shopper is told what they can change (the subtotal); an unknown code and one that is
    // expired, not started, inactive or used up read exactly alike.
    let problem = assert_problem(apply("TEN").await, 422).await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("at least 3000"),
        "{problem}"
    );
    let unknown = assert_problem(apply("NOPE").await, 422).await;
    assert_eq!(unknown["errors"][0]["field"], "code");
    for code in ["OLD", "SOON", "OFF", "ONCE"] {
        let problem = assert_problem(apply(code).await, 422).await;
        assert_eq!(problem, unknown, "{code}");
    }
    let cart = ok(apply("fiver").await).await;
    assert_eq!(cart["coupon"]["code"], "FIVER");
    // 2000 − 500, tax 200 − 50.
    assert_eq!(
        cart["totals"],
        json!({"subtotal": 2000, "discount": 500, "tax": 150, "total": 1650})
    );

    ok(shopper
        .put(&format!("cart/{id}/items/{lamp}"), json!({"qty": 2}))
        .await)
    .await;
    let cart = ok(apply("TEN").await).await;
    assert_eq!(cart["totals"]["discount"], 400);
    // Below the minimum again: the coupon stays but gives nothing, and says why.
    let cart = ok(shopper
        .put(&format!("cart/{id}/items/{lamp}"), json!({"qty": 1}))
        .await)
    .await;
    assert_eq!(cart["totals"]["discount"], 0);
    assert!(
        cart["coupon"]["notApplied"]
            .as_str()
            .unwrap()
            .contains("3000")
    );
    let cart = ok(shopper.delete(&format!("cart/{id}/coupon")).await).await;
    assert!(cart["coupon"].is_null());
}

#[tokio::test]
async fn concurrent_adds_to_one_cart_lose_nothing() {
    let mail = MailServer::start().await;
    let app = app_with_mail(
        Backend::Postgres,
        &mail,
        &[("CARTWHEEL_RATE_LIMIT_PER_MINUTE", "1000")],
    )
    .await;
    let owner = ready_shop(&app, "busy-shop").await;
    let shopper = owner.shopper();
    let cup = stocked(&owner, "CUP", 300, 100).await;
    let cart = ok(shopper.send(Method::POST, "cart", None).await).await;
    let id = cart["id"].as_str().unwrap().to_string();
    let items_path = format!("cart/{id}/items");
    let adds = (0..20).map(|_| shopper.post(&items_path, json!({"itemId": cup, "qty": 1})));
    for response in futures::future::join_all(adds).await {
        assert_eq!(response.status(), 200);
    }
    let cart = ok(shopper.get(&format!("cart/{id}")).await).await;
    assert_eq!(cart["lines"][0]["qty"], 20);
}

cartwheel_testkit::on_each_backend!(a_session_finds_its_cart_and_a_customer_theirs);

async fn a_session_finds_its_cart_and_a_customer_theirs(backend: Backend) {
    let mail = MailServer::start().await;
    let app = app_with_mail(
        backend,
        &mail,
        &[("CARTWHEEL_RATE_LIMIT_PER_MINUTE", "1000")],
    )
    .await;
    let owner = ready_shop(&app, "session-shop").await;
    let other = ready_shop(&app, "other-session-shop").await.shopper();
    let shopper = owner.shopper();
    let mug = stocked(&owner, "MUG", 1000, 5).await;
    let session = json!({"sessionId": "storefront-session-0123456789"});

    // The first request of a session makes its cart; the next ones get it back.
    let opened = shopper.post("cart", session.clone()).await;
    assert_eq!(opened.status(), 201);
    let id = ok(opened).await["id"].as_str().unwrap().to_string();
    ok(shopper
        .post(
            &format!("cart/{id}/items"),
            json!({"itemId": mug, "qty": 2}),
        )
        .await)
    .await;
    let again = shopper.post("cart", session.clone()).await;
    assert_eq!(again.status(), 200);
    let again = ok(again).await;
    assert_eq!(again["id"], id.as_str());
    assert_eq!(again["lines"][0]["qty"], 2);
    // Concurrent first requests of a new session agree on one cart.
    let fresh = json!({"sessionId": "another-session-abcdefghij"});
    let racing = (0..8).map(|_| shopper.post("cart", fresh.clone()));
    let mut ids = Vec::new();
    for response in futures::future::join_all(racing).await {
        ids.push(ok(response).await["id"].as_str().unwrap().to_string());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
    // Without a session, or in another shop, it is a new cart each time.
    for (who, body) in [
        (&shopper, None),
        (&shopper, None),
        (&other, Some(session.clone())),
    ] {
        let response = who.send(Method::POST, "cart", body).await;
        assert_eq!(response.status(), 201);
        assert_ne!(ok(response).await["id"], id.as_str());
    }
    // A session id too short to be a secret, or a body that is not JSON, is refused.
    let problem = assert_problem(
        shopper.post("cart", json!({"sessionId": "short"})).await,
        422,
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "sessionId", "{problem}");
    let response = shopper
        .request(Method::POST, "cart")
        .header("Content-Type", "text/plain")
        .body("storefront-session-0123456789")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);

    // Registering merges the session's cart away; the customer's token then finds the
    // customer's cart, and the session starts over with an empty one.
    let registered = shopper.post("auth/register",
        json!({"email": "sam@example.com", "firstName": "Sam", "lastName": "Lee", "password": "velvet-otter-3000", "cartId": id})).await;
    assert_eq!(registered.status(), 201);
    let registered = ok(registered).await;
    let customer_token = registered["token"].as_str().unwrap();
    let theirs = shopper
        .signed_in(customer_token)
        .post("cart", session.clone())
        .await;
    assert_eq!(theirs.status(), 200);
    let theirs = ok(theirs).await;
    assert_eq!(theirs["id"], registered["cartId"]);
    assert_eq!(theirs["lines"][0]["qty"], 2);
    assert_eq!(theirs["email"], "sam@example.com");
    let restarted = shopper.post("cart", session.clone()).await;
    assert_eq!(restarted.status(), 201);
    let restarted = ok(restarted).await;
    assert_ne!(restarted["id"], id.as_str());
    assert_eq!(restarted["lines"], json!([]));
}
