//! A shopper goes from cart to placed order; the admin takes the payment, ships and delivers
//! it; the shopper gets each mail once; another shop sees none of it.

use serde_json::json;

use super::{address, balances, cart_with, confirm, parcel_to, stock_of, stocked};
use crate::catalog::ok;
use cartwheel_testkit::shops::{app_with_mail, mails_after_drain, ready_shop, token_from};
use cartwheel_testkit::smtp::MailServer;
use cartwheel_testkit::{Backend, assert_problem};

cartwheel_testkit::on_each_backend!(a_shopper_checks_out_and_the_admin_ships_the_order);

async fn a_shopper_checks_out_and_the_admin_ships_the_order(backend: Backend) {
    let mail = MailServer::start().await;
    let app = app_with_mail(backend, &mail, &[]).await;
    let owner = ready_shop(&app, "order-shop").await;
    let shopper = owner.shopper();
    let mug = stocked(&owner, "MUG", 1000, 5).await;
    let pen = stocked(&owner, "PEN", 255, 50).await;
    let parcel = parcel_to(&owner, &["DE"], 495).await;
    let (status, rule) = owner
        .post(
            "/api/v1/admin/tax-rules",
            json!({"name": "DE VAT", "country": "DE", "rateBasisPoints": 1900}),
        )
        .await;
    assert_eq!(status, 201, "{rule}");

    let cart = cart_with(&shopper, &[(&mug, 2), (&pen, 3)]).await;
    let checkout = ok(shopper.post("checkout", json!({"cartId": cart})).await).await;
    let id = checkout["checkoutId"].as_str().unwrap().to_string();
    assert_eq!(checkout["status"], "PENDING");
    assert_eq!(checkout["lines"].as_array().unwrap().len(), 2);
    // The shop's own country (US, 10 %) until there is an address: 200 + 76.5 → 77.
    assert_eq!(
        (
            &checkout["subtotal"],
            &checkout["taxAmount"],
            &checkout["total"]
        ),
        (&json!(2765), &json!(277), &json!(3042))
    );
    let path = format!("checkout/{id}");
    let early = assert_problem(shopper.get(&format!("{path}/shipping-methods")).await, 409).await;
    assert_eq!(early["errors"][0]["field"], "shippingAddress");

    // An address in Germany: 19 % on each line (380 + 145.35 → 145), and Parcel ships there.
    let bad = assert_problem(
        shopper
            .put(&path, json!({"shippingAddress": {"name": "", "line1": "x", "city": "y", "postalCode": "1", "country": "DE"}}))
            .await,
        422,
    )
    .await;
    assert_eq!(bad["errors"][0]["field"], "shippingAddress.name");
    let updated = ok(shopper
        .put(&path, json!({"shippingAddress": address("DE")}))
        .await)
    .await;
    assert_eq!(updated["taxAmount"], 525);
    let methods = ok(shopper.get(&format!("{path}/shipping-methods")).await).await;
    assert_eq!(
        methods["items"],
        json!([{"id": parcel, "name": "Parcel", "price": 495}])
    );
    let elsewhere = uuid::Uuid::now_v7();
    let refused = assert_problem(
        shopper
            .put(&path, json!({"shippingMethodId": elsewhere}))
            .await,
        422,
    )
    .await;
    assert_eq!(refused["errors"][0]["field"], "shippingMethodId");
    let updated = ok(shopper
        .put(&path, json!({"shippingMethodId": parcel}))
        .await)
    .await;
    // Shipping is taxed at the standard rate too: 495 × 19 % = 94.05 → 94.
    assert_eq!(
        (
            &updated["shipping"],
            &updated["taxAmount"],
            &updated["total"]
        ),
        (&json!(495), &json!(619), &json!(3879))
    );
    assert_eq!(updated["billingSameAsShipping"], true);

    // Placing needs an email; the problem names it.
    let missing = assert_problem(confirm(&shopper, &id).await, 422).await;
    assert_eq!(missing["errors"][0]["field"], "email");
    ok(shopper
        .put(
            &path,
            json!({"email": "ada@example.com", "phone": "+44 20 7946 0000"}),
        )
        .await)
    .await;

    let placed = shopper
        .request(reqwest::Method::POST, &format!("{path}/confirm"))
        .header("Idempotency-Key", "confirm-1")
        .json(&json!({"paymentMethod": "manual"}))
        .send()
        .await
        .unwrap();
    let placed = ok(placed).await;
    assert_eq!(placed["orderNumber"], 1);
    assert_eq!(placed["total"], 3879);
    assert_eq!(
        (&placed["status"], &placed["paymentStatus"]),
        (&json!("pending"), &json!("pending"))
    );
    let order_id = placed["orderId"].as_str().unwrap().to_string();
    let token = placed["orderToken"].as_str().unwrap().to_string();
    // Confirming again answers with the same order (and no new token).
    let again = ok(confirm(&shopper, &id).await).await;
    assert_eq!(
        (&again["orderId"], &again["orderToken"]),
        (&placed["orderId"], &json!(null))
    );
    let done = ok(shopper.get(&path).await).await;
    assert_eq!(
        (&done["status"], &done["orderId"]),
        (&json!("COMPLETED"), &placed["orderId"])
    );
    assert_problem(shopper.put(&path, json!({"phone": "1"})).await, 409).await;
    // The cart is closed.
    assert_problem(shopper.get(&format!("cart/{cart}")).await, 404).await;
    // Stock is reserved, not yet gone.
    assert_eq!(stock_of(&owner, &mug).await.1, 2);

    // The guest reads the order with its token, and only with it.
    let order_path = format!("orders/{order_id}");
    let order = ok(shopper.get(&format!("{order_path}?token={token}")).await).await;
    assert_eq!(order["number"], 1);
    assert_eq!(order["tax"], 619);
    assert_eq!(order["shippingTax"], 94);
    assert_eq!(order["shippingAddress"]["country"], "DE");
    assert_eq!(order["billingAddress"], order["shippingAddress"]);
    assert_eq!(order["lines"][0]["taxRate"], 1900);
    assert_eq!(order["lines"][0]["tax"], 380);
    assert_eq!(order["phone"], "+44 20 7946 0000");
    assert_problem(shopper.get(&order_path).await, 404).await;
    assert_problem(shopper.get(&format!("{order_path}?token=nope")).await, 404).await;

    // The confirmation mail links to the order with the same token.
    let mails = mails_after_drain(&app, &mail, "ada@example.com", 1).await;
    assert!(mails[0].subject.contains("#1"), "{}", mails[0].subject);
    assert!(mails[0].text.contains("How to pay"), "{}", mails[0].text);
    assert_eq!(token_from(&mails[0], "/orders/"), token);

    // The admin: the list finds it, shipping before payment is processing is refused.
    let list = owner.get_ok("/api/v1/store/admin/orders?search=%231").await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["email"], "ada@example.com");
    let list = owner
        .get_ok("/api/v1/store/admin/orders?status=shipped")
        .await;
    assert_eq!(list["total"], 0);
    let admin_path = format!("/api/v1/store/admin/orders/{order_id}");
    let (status, refused) = owner
        .put(
            &format!("{admin_path}/status"),
            json!({"status": "shipped"}),
        )
        .await;
    assert_eq!(status, 409, "{refused}");
    assert!(
        refused["detail"].as_str().unwrap().contains("pending"),
        "{refused}"
    );
    let (status, paid) = owner
        .post(&format!("{admin_path}/mark-paid"), json!({}))
        .await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(
        (&paid["status"], &paid["paymentStatus"]),
        (&json!("processing"), &json!("paid"))
    );
    let (status, _) = owner
        .post(&format!("{admin_path}/mark-paid"), json!({}))
        .await;
    assert_eq!(status, 409);
    let (status, shipped) = owner
        .put(
            &format!("{admin_path}/status"),
            json!({"status": "shipped", "carrier": "DHL", "trackingNumber": "JD0001",
                   "trackingUrl": "https://track.example/JD0001"}),
        )
        .await;
    assert_eq!(status, 200, "{shipped}");
    assert_eq!(shipped["trackingNumber"], "JD0001");
    // Shipped: out of stock, recorded in the stock ledger.
    let (on_hand, reserved, reasons) = stock_of(&owner, &mug).await;
    assert_eq!((on_hand, reserved), (3, 0));
    assert_eq!(reasons[0], "order #1 shipped");
    let late = shopper
        .post(&format!("{order_path}/cancel?token={token}"), json!({}))
        .await;
    assert_eq!(late.status(), 409, "a shipped order is not cancelled");
    let (status, delivered) = owner
        .put(
            &format!("{admin_path}/status"),
            json!({"status": "delivered"}),
        )
        .await;
    assert_eq!(status, 200, "{delivered}");

    // Confirmation, receipt, shipped, delivered: each once; the review request waits its days.
    let mails = mails_after_drain(&app, &mail, "ada@example.com", 4).await;
    let shipped_mail = mails
        .iter()
        .find(|m| m.subject.contains("on its way"))
        .unwrap();
    assert!(
        shipped_mail.text.contains("https://track.example/JD0001"),
        "{}",
        shipped_mail.text
    );
    assert_eq!(
        cartwheel_testkit::job_count(&app.db, Some("order_confirmation.mail"), None).await,
        5
    );

    // The ledger: invoiced, paid to the bank, shipped at cost (2 × 600 + 3 × 153), balanced.
    let balances = balances(&owner).await;
    let expected: Vec<(&str, i64)> = vec![
        ("1120", 3879),
        ("1130", 0),
        ("1140", -1659),
        ("2120", -619),
        ("4100", -2765),
        ("4200", -495),
        ("5100", 1659),
    ];
    assert_eq!(
        balances
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect::<Vec<_>>(),
        expected
    );
    let receivable = owner
        .get_ok("/api/v1/admin/ledger/entries?account=1130")
        .await;
    assert_eq!(receivable["total"], 2);
    let kinds: Vec<&str> = receivable["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["documentKind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["payment_entry", "sales_invoice"]);

    // Another shop sees neither the checkout nor the order.
    let other = ready_shop(&app, "other-shop").await;
    let stranger = other.shopper();
    assert_problem(stranger.get(&path).await, 404).await;
    assert_problem(
        stranger.get(&format!("{order_path}?token={token}")).await,
        404,
    )
    .await;
    let (status, _) = other.get(&admin_path).await;
    assert_eq!(status, 404);
    let (status, _) = other
        .put(
            &format!("{admin_path}/status"),
            json!({"status": "cancelled"}),
        )
        .await;
    assert_eq!(status, 404);
}
