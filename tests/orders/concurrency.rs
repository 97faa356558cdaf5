//! The money path under concurrency, on real Postgres: the last units are never oversold
//! (Vendure #3508), two lines of one item are counted together (Medusa #16502), a coupon's
//! usage limit holds, and one checkout confirmed many times at once places one order and sends
//! one mail (Medusa #13301, mercur #1418), with order numbers taken only by placed orders
//! (Medusa #14205).

use futures::future::join_all;
use serde_json::json;

use super::{confirm, ready_checkout, stocked};
use crate::catalog::ok;
use cartwheel_domain::checkout::CheckoutError;
use cartwheel_domain::checkout::reserve::{Wanted, reserve};
use cartwheel_entity::TenantId;
use cartwheel_testkit::shops::{app_with_mail, mails_after_drain, ready_shop};
use cartwheel_testkit::smtp::MailServer;
use cartwheel_testkit::{Backend, TestApp, scalar};

const BUSY: &[(&str, &str)] = &[("CARTWHEEL_RATE_LIMIT_PER_MINUTE", "1000000")];

async fn count(app: &TestApp, sql: &str) -> i64 {
    scalar(&app.db, sql).await
}

#[tokio::test]
async fn two_hundred_confirms_for_ten_units_place_exactly_ten_orders() {
    let mail = MailServer::start().await;
    let app = app_with_mail(Backend::Postgres, &mail, BUSY).await;
    let owner = ready_shop(&app, "rush-shop").await;
    let shopper = owner.shopper();
    // Ten units over two locations: reservations take from both.
    let lamp = stocked(&owner, "LAMP", 4900, 5).await;
    let (status, _) = owner
        .post(
            "/api/v1/admin/stock/adjustments",
            json!({"itemId": lamp, "location": "RECEIVING", "quantity": 5, "reason": "count"}),
        )
        .await;
    assert_eq!(status, 201);

    let checkouts =
        join_all((0..200).map(|n| {
            let shopper = &shopper;
            let lamp = &lamp;
            async move {
                ready_checkout(shopper, &[(lamp, 1)], &format!("s{n}@example.com"), None).await
            }
        }))
        .await;
    let answers = join_all(checkouts.iter().map(|c| confirm(&shopper, c))).await;
    let statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        10,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        190,
        "{statuses:?}"
    );
    let short = answers.into_iter().find(|r| r.status() == 409).unwrap();
    let problem: serde_json::Value = short.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], format!("items.{lamp}"));
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .ends_with("0 available"),
        "{problem}"
    );

    assert_eq!(count(&app, "SELECT COUNT(*) FROM orders").await, 10);
    let reserved =
        format!("SELECT CAST(SUM(reserved) AS BIGINT) FROM stock_levels WHERE item_id = '{lamp}'");
    assert_eq!(count(&app, &reserved).await, 10);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM stock_levels WHERE reserved > on_hand"
        )
        .await,
        0
    );
    // Numbers 1 to 10: the 190 refused confirms took none.
    assert_eq!(
        count(&app, "SELECT CAST(SUM(number) AS BIGINT) FROM orders").await,
        55
    );
    assert_eq!(count(&app, "SELECT MAX(number) FROM orders").await, 10);
}

#[tokio::test]
async fn two_lines_of_one_item_are_checked_against_its_stock_together() {
    let app = cartwheel_testkit::spawn_app_with(Backend::Postgres, &[]).await;
    let owner = ready_shop(&app, "twin-shop").await;
    let tenant = TenantId(owner.tenant_id.parse().unwrap());
    let bolt: uuid::Uuid = stocked(&owner, "BOLT", 100, 3).await.parse().unwrap();
    let lines = [
        Wanted {
            item_id: bolt,
            sku: "BOLT",
            quantity: 2,
        },
        Wanted {
            item_id: bolt,
            sku: "BOLT",
            quantity: 2,
        },
    ];
    let txn = cartwheel_domain::transaction::begin(&app.db).await.unwrap();
    let refused = reserve(&txn, tenant, uuid::Uuid::new_v4(), &lines).await;
    txn.rollback().await.unwrap();
    match refused {
        Err(CheckoutError::Shortfall(short)) => {
            assert_eq!(short.len(), 1);
            assert_eq!((short[0].requested, short[0].available), (4, 3));
        }
        other => panic!("expected a shortfall, got {:?}", other.err()),
    }
    let reserved =
        format!("SELECT CAST(SUM(reserved) AS BIGINT) FROM stock_levels WHERE item_id = '{bolt}'");
    assert_eq!(count(&app, &reserved).await, 0);
}

#[tokio::test]
async fn a_coupon_for_five_uses_is_redeemed_five_times_under_fifty_confirms() {
    let mail = MailServer::start().await;
    let app = app_with_mail(Backend::Postgres, &mail, BUSY).await;
    let owner = ready_shop(&app, "coupon-shop").await;
    let shopper = owner.shopper();
    let tea = stocked(&owner, "TEA", 500, 1000).await;
    let (status, coupon) = owner
        .post(
            "/api/v1/store/admin/coupons",
            json!({"code": "FIVE", "kind": "percent", "value": 10, "maxUses": 5}),
        )
        .await;
    assert_eq!(status, 201, "{coupon}");

    let checkouts = join_all((0..50).map(|n| {
        let shopper = &shopper;
        let tea = &tea;
        async move {
            let cart = super::cart_with(shopper, &[(tea, 1)]).await;
            ok(shopper
                .post(&format!("cart/{cart}/coupon"), json!({"code": "FIVE"}))
                .await)
            .await;
            let checkout = ok(shopper.post("checkout", json!({"cartId": cart})).await).await;
            assert_eq!(checkout["discount"], 50);
            let id = checkout["checkoutId"].as_str().unwrap().to_string();
            ok(shopper
                .put(
                    &format!("checkout/{id}"),
                    json!({"email": format!("c{n}@example.com"), "shippingAddress": super::address("US")}),
                )
                .await)
            .await;
            id
        }
    }))
    .await;
    let answers = join_all(checkouts.iter().map(|c| confirm(&shopper, c))).await;
    let statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        45,
        "{statuses:?}"
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM coupon_redemptions").await,
        5
    );
    assert_eq!(
        count(&app, "SELECT CAST(used_count AS BIGINT) FROM coupons").await,
        5
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM orders WHERE coupon_code = 'FIVE'"
        )
        .await,
        5
    );
    // The refused confirms reserved nothing.
    let reserved =
        format!("SELECT CAST(SUM(reserved) AS BIGINT) FROM stock_levels WHERE item_id = '{tea}'");
    assert_eq!(count(&app, &reserved).await, 5);
}

#[tokio::test]
async fn one_checkout_confirmed_twenty_times_at_once_is_one_order_and_one_mail() {
    let mail = MailServer::start().await;
    let app = app_with_mail(Backend::Postgres, &mail, BUSY).await;
    let owner = ready_shop(&app, "twenty-shop").await;
    let shopper = owner.shopper();
    let kite = stocked(&owner, "KITE", 2500, 3).await;
    let checkout = ready_checkout(&shopper, &[(&kite, 1)], "kid@example.com", None).await;

    let answers = join_all((0..20).map(|n| {
        shopper
            .request(
                reqwest::Method::POST,
                &format!("checkout/{checkout}/confirm"),
            )
            // Half with one key, half with none: both are the same confirm.
            .header(
                "Idempotency-Key",
                if n % 2 == 0 { "same-key" } else { "other" },
            )
            .json(&json!({"paymentMethod": "manual"}))
            .send()
    }))
    .await;
    let mut orders = Vec::new();
    for answer in answers {
        let body = ok(answer.unwrap()).await;
        orders.push(body["orderId"].as_str().unwrap().to_string());
    }
    orders.dedup();
    assert_eq!(orders.len(), 1, "{orders:?}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM orders").await, 1);
    let reserved =
        format!("SELECT CAST(SUM(reserved) AS BIGINT) FROM stock_levels WHERE item_id = '{kite}'");
    assert_eq!(count(&app, &reserved).await, 1);
    mails_after_drain(&app, &mail, "kid@example.com", 1).await;
}
