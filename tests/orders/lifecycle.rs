//! An order's life apart from the happy path: a customer's checkout with a saved address and
//! their order history, cancelling before shipping, an unpaid manual order expiring, and moves
//! the state machine refuses.

use cartwheel_entity::orders;
use cartwheel_jobs::NewJob;
use cartwheel_jobs::families::order_confirmation::ExpireUnpaidOrders;
use sea_orm::EntityTrait;
use sea_orm::sea_query::Expr;
use serde_json::json;

use super::{balances, confirm, ready_checkout, stock_of, stocked};
use crate::catalog::ok;
use cartwheel_testkit::shops::{app_with_mail, mails_after_drain, ready_shop};
use cartwheel_testkit::smtp::MailServer;
use cartwheel_testkit::{Backend, assert_problem};

const PASSWORD: &str = "correct horse battery staple";

cartwheel_testkit::on_each_backend!(orders_are_cancelled_expired_and_kept_in_order);

async fn orders_are_cancelled_expired_and_kept_in_order(backend: Backend) {
    let mail = MailServer::start().await;
    let app = app_with_mail(backend, &mail, &[]).await;
    let owner = ready_shop(&app, "life-shop").await;
    let shopper = owner.shopper();
    let sock = stocked(&owner, "SOCK", 800, 10).await;
    let available = |item: String| {
        let owner = &owner;
        async move {
            let (on_hand, reserved, _) = stock_of(owner, &item).await;
            on_hand - reserved
        }
    };

    // A customer checks out with a saved address; a guest's token cannot see their checkout.
    let registered = ok(shopper
        .post(
            "auth/register",
            json!({"email": "kim@example.com", "firstName": "Kim", "lastName": "Park", "password": PASSWORD}),
        )
        .await)
    .await;
    let kim = shopper.signed_in(registered["token"].as_str().unwrap());
    let saved = ok(kim
        .post(
            "auth/addresses",
            json!({"name": "Kim Park", "line1": "5 Elm St", "city": "Springfield",
                   "region": "IL", "postalCode": "62701", "country": "US"}),
        )
        .await)
    .await;
    let cart = super::cart_with(&kim, &[(&sock, 3)]).await;
    let checkout = ok(kim.post("checkout", json!({"cartId": cart})).await).await;
    assert_eq!(checkout["email"], "kim@example.com");
    let id = checkout["checkoutId"].as_str().unwrap().to_string();
    assert_problem(shopper.get(&format!("checkout/{id}")).await, 404).await;
    let updated = ok(kim
        .put(
            &format!("checkout/{id}"),
            json!({"shippingAddressId": saved["id"]}),
        )
        .await)
    .await;
    assert_eq!(updated["shippingAddress"]["region"], "IL");
    let placed = ok(confirm(&kim, &id).await).await;
    let kims_order = placed["orderId"].as_str().unwrap().to_string();
    assert_eq!(available(sock.clone()).await, 7);

    // The customer's history; they read their order without a token, cancel it, and the
    // stock comes back.
    let history = ok(kim.get("orders").await).await;
    assert_eq!(history["total"], 1);
    assert_eq!(history["items"][0]["id"], kims_order);
    assert_problem(shopper.get("orders").await, 401).await;
    ok(kim.get(&format!("orders/{kims_order}")).await).await;
    let cancelled = ok(kim
        .post(&format!("orders/{kims_order}/cancel"), json!({}))
        .await)
    .await;
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(available(sock.clone()).await, 10);
    assert_problem(
        kim.post(&format!("orders/{kims_order}/cancel"), json!({}))
            .await,
        409,
    )
    .await;
    let (status, refused) = owner
        .put(
            &format!("/api/v1/store/admin/orders/{kims_order}/status"),
            json!({"status": "processing"}),
        )
        .await;
    assert_eq!(status, 409, "{refused}");
    assert!(
        refused["detail"].as_str().unwrap().contains("cancelled"),
        "{refused}"
    );

    // A guest's unpaid manual order past its due time is cancelled by the expiry job; an order
    // paid in time is not.
    let unpaid = ready_checkout(&shopper, &[(&sock, 2)], "late@example.com", None).await;
    let unpaid = ok(confirm(&shopper, &unpaid).await).await;
    let unpaid_id = unpaid["orderId"].as_str().unwrap().to_string();
    let paid = ready_checkout(&shopper, &[(&sock, 1)], "early@example.com", None).await;
    let paid = ok(confirm(&shopper, &paid).await).await;
    let paid_id = paid["orderId"].as_str().unwrap().to_string();
    let (status, _) = owner
        .post(
            &format!("/api/v1/store/admin/orders/{paid_id}/mark-paid"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(available(sock.clone()).await, 7);
    let past = chrono::Utc::now() - chrono::Duration::hours(1);
    orders::Entity::update_many()
        .col_expr(orders::Column::PaymentDueAt, Expr::value(past))
        .exec(&app.db)
        .await
        .unwrap();
    cartwheel_jobs::enqueue(&app.db, NewJob::new(ExpireUnpaidOrders {}))
        .await
        .unwrap();
    let mails = mails_after_drain(&app, &mail, "late@example.com", 2).await;
    assert!(
        mails.iter().any(|m| m.subject.contains("cancelled")),
        "{:?}",
        mails.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );
    let expired = owner
        .get_ok(&format!("/api/v1/store/admin/orders/{unpaid_id}"))
        .await;
    assert_eq!(expired["status"], "cancelled");
    let kept = owner
        .get_ok(&format!("/api/v1/store/admin/orders/{paid_id}"))
        .await;
    assert_eq!(
        (&kept["status"], &kept["paymentStatus"]),
        (&json!("processing"), &json!("paid"))
    );
    assert_eq!(available(sock.clone()).await, 9);

    // A paid order cancelled by the admin owes the shopper their money.
    let (status, refund) = owner
        .put(
            &format!("/api/v1/store/admin/orders/{paid_id}/status"),
            json!({"status": "cancelled"}),
        )
        .await;
    assert_eq!(status, 200, "{refund}");
    assert_eq!(refund["refundDue"], refund["total"]);
    assert_eq!(available(sock.clone()).await, 10);
    // Every posting balanced; what is owed back shows as a credit on the receivable.
    let balances = balances(&owner).await;
    assert_eq!(balances["1130"], -refund["refundDue"].as_i64().unwrap());
    assert_eq!(balances["4100"], 0, "every sale was cancelled");
    // Confirmation, receipt, cancellation.
    mails_after_drain(&app, &mail, "early@example.com", 3).await;
}
