//! Customer accounts: register, login, audiences, tenants, cart merge, reset by mail, addresses.

use reqwest::Method;
use serde_json::{Value, json};

use super::{create_item, item, ok};
use cartwheel_testkit::shops::{app_with_mail, mails_after_drain, ready_shop, token_from};
use cartwheel_testkit::smtp::MailServer;
use cartwheel_testkit::{Backend, assert_problem, scalar};

const PASSWORD: &str = "velvet-otter-3000";

async fn json_of(response: reqwest::Response, status: u16) -> Value {
    let got = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "{body}");
    body
}

#[tokio::test]
async fn customers_register_log_in_and_stay_in_their_shop() {
    let mail = MailServer::start().await;
    let app = app_with_mail(Backend::Postgres, &mail, &[]).await;
    let owner = ready_shop(&app, "shop-c").await;
    let shop_d = ready_shop(&app, "shop-d").await.shopper();
    let shopper = owner.shopper();

    let registered = json_of(
        shopper
            .post(
                "auth/register",
                json!({"email": "Kim@Example.com", "firstName": "Kim", "lastName": "Park", "password": PASSWORD}),
            )
            .await,
        201,
    )
    .await;
    assert_eq!(registered["customer"]["email"], "kim@example.com");
    let token = registered["token"].as_str().unwrap().to_string();
    let kim = shopper.signed_in(&token);
    let welcome = mails_after_drain(&app, &mail, "kim@example.com", 1).await;
    assert_eq!(welcome[0].subject, "Welcome to shop-c Supplies");
    assert!(
        welcome[0]
            .text
            .contains("http://shop-c.shops.test:8080/account/login")
    );

    // A taken address answers as a new one would; its owner is told by mail instead, and the
    // answer's token opens nothing.
    let taken = json_of(
        shopper
            .post(
                "auth/register",
                json!({"email": "kim@example.com", "firstName": "Kim", "lastName": "Park", "password": PASSWORD}),
            )
            .await,
        201,
    )
    .await;
    let shape = |v: &Value| {
        let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    assert_eq!(shape(&taken), shape(&registered));
    assert_eq!(shape(&taken["customer"]), shape(&registered["customer"]));
    assert_ne!(taken["customerId"], registered["customerId"]);
    let notice = mails_after_drain(&app, &mail, "kim@example.com", 2).await;
    assert!(
        notice
            .iter()
            .any(|m| m.subject == "Your shop-c Supplies account"
                && m.text.contains("already has one")),
        "{:?}",
        notice.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );
    assert_eq!(
        scalar(
            &app.db,
            "SELECT COUNT(*) FROM customers WHERE email = 'kim@example.com'"
        )
        .await,
        1
    );
    let weak = assert_problem(
        shopper
            .post(
                "auth/register",
                json!({"email": "lee@example.com", "firstName": " ", "lastName": "Lee", "password": "password12"}),
            )
            .await,
        422,
    )
    .await;
    let fields: Vec<&str> = weak["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["firstName", "password"]);

    let wrong = assert_problem(
        shopper
            .post(
                "auth/login",
                json!({"email": "kim@example.com", "password": "not-it-at-all"}),
            )
            .await,
        401,
    )
    .await;
    let unknown = assert_problem(
        shopper
            .post(
                "auth/login",
                json!({"email": "nobody@example.com", "password": PASSWORD}),
            )
            .await,
        401,
    )
    .await;
    assert_eq!(wrong["detail"], unknown["detail"]);
    // Kim does not exist in another shop, and Kim's token is refused there.
    assert_problem(
        shop_d
            .post(
                "auth/login",
                json!({"email": "kim@example.com", "password": PASSWORD}),
            )
            .await,
        401,
    )
    .await;
    assert_problem(shop_d.signed_in(&token).get("auth/me").await, 401).await;

    let me = json_of(kim.get("auth/me").await, 200).await;
    assert_eq!(
        (me["firstName"].as_str(), me["lastName"].as_str()),
        (Some("Kim"), Some("Park"))
    );
    let updated = json_of(
        kim.put(
            "auth/profile",
            json!({"firstName": "Kim", "lastName": "Park-Lee", "phone": "+49 30 1234"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        (updated["lastName"].as_str(), updated["phone"].as_str()),
        (Some("Park-Lee"), Some("+49 30 1234"))
    );

    // Audiences: a customer token is no admin token, and the other way round.
    let (status, _) = owner
        .with_token(&token)
        .get("/api/v1/store/admin/products")
        .await;
    assert_eq!(status, 401);
    assert_problem(shopper.signed_in(&owner.token).get("auth/me").await, 401).await;

    // Forgotten password, by mail, once.
    assert_eq!(
        shopper
            .post("auth/forgot-password", json!({"email": "kim@example.com"}))
            .await
            .status(),
        202
    );
    assert_eq!(
        shopper
            .post(
                "auth/forgot-password",
                json!({"email": "ghost@example.com"})
            )
            .await
            .status(),
        202
    );
    // Known and unknown addresses were answered alike, each by queueing the same job before any
    // lookup (so in the same time); only the known one got a mail.
    let asked = cartwheel_testkit::job_count(&app.db, Some("email.password_reset"), None).await;
    assert_eq!(asked, 2);
    let mails = mails_after_drain(&app, &mail, "kim@example.com", 3).await;
    let reset_mail = mails
        .iter()
        .find(|m| m.subject.starts_with("Reset"))
        .expect("a reset mail");
    let reset_token = token_from(reset_mail, "/account/reset-password");
    let reset = |password: &'static str| {
        shopper.post(
            "auth/reset-password",
            json!({"token": reset_token, "newPassword": password}),
        )
    };
    assert_eq!(kim.get("auth/me").await.status(), 200);
    // Admins and customers share one table of reset tokens: a customer's token is no admin's.
    let as_admin = app
        .client
        .post(app.url("/api/v1/auth/reset-password"))
        .header("X-Tenant", &owner.shop)
        .json(&json!({"token": reset_token, "password": "new-velvet-otter-1"}))
        .send()
        .await
        .unwrap();
    assert_problem(as_admin, 400).await;
    assert_eq!(reset("new-velvet-otter-1").await.status(), 204);
    assert_problem(reset("another-otter-22").await, 400).await;
    // The reset ended the session that was open before it.
    let ended = kim.get("auth/me").await;
    let ended = assert_problem(ended, 401).await;
    assert!(
        ended["detail"]
            .as_str()
            .unwrap()
            .contains("password was reset"),
        "{ended}"
    );
    json_of(
        shopper
            .post(
                "auth/login",
                json!({"email": "kim@example.com", "password": "new-velvet-otter-1"}),
            )
            .await,
        200,
    )
    .await;
}

cartwheel_testkit::on_each_backend!(
    logging_in_merges_the_anonymous_cart_into_a_cart_only_the_customer_reaches
);

async fn logging_in_merges_the_anonymous_cart_into_a_cart_only_the_customer_reaches(
    backend: Backend,
) {
    let mail = MailServer::start().await;
    let app = app_with_mail(backend, &mail, &[]).await;
    let owner = ready_shop(&app, "merge-shop").await;
    let shopper = owner.shopper();
    let mut ids = Vec::new();
    for (sku, qty) in [("MUG", 5), ("PEN", 50), ("CUP", 9)] {
        let id = create_item(&owner, item(sku, sku, 1000, true, None)).await;
        let (status, _) = owner
            .post(
                "/api/v1/admin/stock/adjustments",
                json!({"itemId": id, "location": "PICKING", "quantity": qty, "reason": "count"}),
            )
            .await;
        assert_eq!(status, 201);
        ids.push(id);
    }
    let (mug, pen, cup) = (ids[0].clone(), ids[1].clone(), ids[2].clone());
    let (status, _) = owner
        .post(
            "/api/v1/store/admin/coupons",
            json!({"code": "FIVER", "kind": "fixed", "value": 500}),
        )
        .await;
    assert_eq!(status, 201);

    // Registering with an anonymous cart moves its lines into a new cart of the customer's:
    // whoever knew the anonymous id (it may have been planted) holds no key to it.
    let first = ok(shopper.send(Method::POST, "cart", None).await).await;
    let first_id = first["id"].as_str().unwrap().to_string();
    ok(shopper
        .post(
            &format!("cart/{first_id}/items"),
            json!({"itemId": mug, "qty": 2}),
        )
        .await)
    .await;
    let registered = json_of(shopper.post("auth/register",
        json!({"email": "max@example.com", "firstName": "Max", "lastName": "Mann", "password": PASSWORD, "cartId": first_id})).await, 201).await;
    let customer_cart = registered["cartId"].as_str().unwrap().to_string();
    let max = shopper.signed_in(registered["token"].as_str().unwrap());
    assert_ne!(customer_cart, first_id, "the merged cart has a fresh id");
    let planted = shopper.get(&format!("cart/{first_id}")).await;
    assert_eq!(planted.status(), 404, "the anonymous cart is closed");
    // The customer's cart answers only to the customer's token, for every operation.
    let own = format!("cart/{customer_cart}");
    for (method, path, body) in [
        (Method::GET, own.clone(), None),
        (
            Method::POST,
            format!("{own}/items"),
            Some(json!({"itemId": pen, "qty": 1})),
        ),
        (
            Method::PUT,
            format!("{own}/items/{mug}"),
            Some(json!({"qty": 1})),
        ),
        (Method::DELETE, format!("{own}/items/{mug}"), None),
        (
            Method::PUT,
            format!("{own}/email"),
            Some(json!({"email": "thief@example.com"})),
        ),
        (
            Method::POST,
            format!("{own}/coupon"),
            Some(json!({"code": "FIVER"})),
        ),
        (Method::DELETE, format!("{own}/coupon"), None),
    ] {
        let response = shopper.send(method.clone(), &path, body).await;
        assert_eq!(response.status(), 404, "{method} {path} without the token");
    }
    let mine = max.get(&own).await;
    let mine = json_of(mine, 200).await;
    assert_eq!(mine["lines"][0]["qty"], 2, "{mine}");
    assert_eq!(mine["email"], "max@example.com");
    // Another customer's token is no key either.
    let other = json_of(shopper.post("auth/register",
        json!({"email": "eve@example.com", "firstName": "Eve", "lastName": "Ever", "password": PASSWORD})).await, 201).await;
    let eve = shopper.signed_in(other["token"].as_str().unwrap());
    let theirs = eve.get(&own).await;
    assert_eq!(theirs.status(), 404);

    // Later, anonymous again: a new cart with more mugs, a pen and a coupon.
    let second = ok(shopper.send(Method::POST, "cart", None).await).await;
    let second_id = second["id"].as_str().unwrap().to_string();
    ok(shopper
        .post(
            &format!("cart/{second_id}/items"),
            json!({"itemId": mug, "qty": 4}),
        )
        .await)
    .await;
    ok(shopper
        .post(
            &format!("cart/{second_id}/items"),
            json!({"itemId": pen, "qty": 1}),
        )
        .await)
    .await;
    ok(shopper
        .post(
            &format!("cart/{second_id}/coupon"),
            json!({"code": "FIVER"}),
        )
        .await)
    .await;

    // A product taken off sale since it was put in the cart does not join.
    ok(shopper
        .post(
            &format!("cart/{second_id}/items"),
            json!({"itemId": cup, "qty": 1}),
        )
        .await)
    .await;
    let (status, _) = owner
        .put(
            &format!("/api/v1/store/admin/products/{cup}"),
            item("CUP", "CUP", 1000, false, None),
        )
        .await;
    assert_eq!(status, 200);

    let login = json_of(
        shopper
            .post(
                "auth/login",
                json!({"email": "max@example.com", "password": PASSWORD, "cartId": second_id}),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(
        login["cartId"],
        customer_cart.as_str(),
        "the customer's own cart stays theirs"
    );
    let merged = max.get(&own).await;
    let merged = json_of(merged, 200).await;
    let lines: Vec<(String, i64)> = merged["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["sku"].as_str().unwrap().to_string(),
                l["qty"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [("MUG".to_string(), 5), ("PEN".to_string(), 1)],
        "2 + 4 mugs capped at the 5 in stock"
    );
    assert_eq!(merged["coupon"]["code"], "FIVER");
    assert_eq!(merged["totals"]["discount"], 500);
    // The anonymous cart is gone.
    let gone = shopper.get(&format!("cart/{second_id}")).await;
    assert_eq!(gone.status(), 404);
}

#[tokio::test]
async fn the_address_book_keeps_one_default() {
    let mail = MailServer::start().await;
    let app = app_with_mail(Backend::Postgres, &mail, &[]).await;
    let shopper = ready_shop(&app, "addr-shop").await.shopper();
    let register = |email: &'static str| {
        shopper.post(
            "auth/register",
            json!({"email": email, "firstName": "Ada", "lastName": "Lovelace", "password": PASSWORD}),
        )
    };
    let ada = json_of(register("ada@example.com").await, 201).await;
    let ada = shopper.signed_in(ada["token"].as_str().unwrap());
    let bob = json_of(register("bob@example.com").await, 201).await;
    let bob = shopper.signed_in(bob["token"].as_str().unwrap());
    let address = |city: &str, default: bool| json!({"name": "Ada", "line1": "1 Main St", "city": city, "postalCode": "10115", "country": "DE", "isDefault": default});

    let home = json_of(
        ada.post("auth/addresses", address("Berlin", false)).await,
        201,
    )
    .await;
    assert_eq!(
        (home["isDefault"].as_bool(), home["country"].as_str()),
        (Some(true), Some("DE")),
        "the first address is the default"
    );
    let work = json_of(
        ada.post("auth/addresses", address("Hamburg", true)).await,
        201,
    )
    .await;
    let list = json_of(ada.get("auth/addresses").await, 200).await;
    let defaults: Vec<(&str, bool)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["city"].as_str().unwrap(),
                a["isDefault"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(defaults, [("Hamburg", true), ("Berlin", false)]);

    let work_id = work["id"].as_str().unwrap();
    assert_problem(bob.delete(&format!("auth/addresses/{work_id}")).await, 404).await;
    assert_eq!(
        ada.delete(&format!("auth/addresses/{work_id}"))
            .await
            .status(),
        204
    );
    let list = json_of(ada.get("auth/addresses").await, 200).await;
    assert_eq!(
        list["items"][0]["isDefault"], true,
        "the remaining address took over"
    );

    let bad = assert_problem(
        ada.post(
            "auth/addresses",
            json!({"name": "Ada", "line1": "x", "city": "y", "postalCode": "1", "country": "1"}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(bad["errors"][0]["field"], "country");
    assert_problem(shopper.get("auth/addresses").await, 401).await;
}
