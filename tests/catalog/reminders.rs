//! The storefront's jobs end to end with a real SMTP server: abandoned-cart reminders, low-stock
//! alerts and back-in-stock notices, each sent once.

use cartwheel_jobs::NewJob;
use cartwheel_jobs::families::abandoned_cart::{FindAbandonedCarts, RemindAbandonedCart};
use cartwheel_jobs::families::stock::SweepStock;
use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

use super::{create_item, item, ok};
use cartwheel_testkit::shops::{
    ShopAdmin, Shopper, app_with_mail, mails_after_drain, mails_to, ready_shop,
};
use cartwheel_testkit::smtp::MailServer;
use cartwheel_testkit::{Backend, TestApp, assert_problem, drain_jobs, on_each_backend, scalar};

/// A cart holding `qty` of `item`, with `email` if given; returns its id.
async fn filled_cart(shopper: &Shopper<'_>, item: &str, qty: i64, email: Option<&str>) -> String {
    let id = ok(shopper.send(Method::POST, "cart", None).await).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    if qty > 0 {
        ok(shopper
            .post(
                &format!("cart/{id}/items"),
                json!({"itemId": item, "qty": qty}),
            )
            .await)
        .await;
    }
    if let Some(email) = email {
        let view = ok(shopper
            .put(&format!("cart/{id}/email"), json!({"email": email}))
            .await)
        .await;
        assert_eq!(view["email"], email.to_lowercase());
    }
    id
}

async fn adjust(admin: &ShopAdmin<'_>, item: &str, quantity: i64) {
    let (status, body) = admin.post("/api/v1/admin/stock/adjustments",
        json!({"itemId": item, "location": "RECEIVING", "quantity": quantity, "reason": "count"}))
    .await;
    assert_eq!(status, 201, "{body}");
}

/// Pretends `hours` passed since the cart last changed.
async fn age(app: &TestApp, cart_id: &str, hours: i64) {
    use sea_orm::ConnectionTrait;
    app.db
        .execute_unprepared(&format!(
            "UPDATE carts SET updated_at = updated_at - interval '{hours} hours' WHERE id = '{cart_id}'"
        ))
        .await
        .unwrap();
}

async fn scan(app: &TestApp) {
    cartwheel_jobs::enqueue(
        &app.db,
        NewJob::new(FindAbandonedCarts { idle_minutes: 240 }),
    )
    .await
    .unwrap();
}

fn subjects(mail: &MailServer, to: &str, containing: &str) -> usize {
    mails_to(mail, to)
        .iter()
        .filter(|m| m.subject.contains(containing))
        .count()
}

#[tokio::test]
async fn an_abandoned_cart_gets_one_reminder_and_no_other_cart_gets_any() {
    let mail = MailServer::start().await;
    let app = app_with_mail(Backend::Postgres, &mail, &[]).await;
    let admin = ready_shop(&app, "cart-shop").await;
    let shopper = admin.shopper();
    let tea = create_item(&admin, item("TEA", "Green <Tea>", 1250, true, None)).await;
    adjust(&admin, &tea, 50).await;

    let left = filled_cart(&shopper, &tea, 2, Some("Left@Example.com")).await;
    let anonymous = filled_cart(&shopper, &tea, 1, None).await;
    let empty = filled_cart(&shopper, &tea, 0, Some("empty@example.com")).await;
    let closed = filled_cart(&shopper, &tea, 1, Some("closed@example.com")).await;
    let recent = filled_cart(&shopper, &tea, 1, Some("recent@example.com")).await;
    for id in [&left, &anonymous, &empty, &closed] {
        age(&app, id, 5).await;
    }
    age(&app, &recent, 3).await;
    // A closed cart (merged at login; checkout will close carts too) is never reminded.
    use sea_orm::ConnectionTrait;
    app.db
        .execute_unprepared(&format!(
            "UPDATE carts SET status = 'merged' WHERE id = '{closed}'"
        ))
        .await
        .unwrap();

    // Two hourly ticks, and a reminder job enqueued again by hand: one mail.
    scan(&app).await;
    let reminder = mails_after_drain(&app, &mail, "left@example.com", 1).await;
    assert_eq!(
        reminder[0].subject,
        "You left something in your cart at cart-shop Supplies"
    );
    assert!(
        reminder[0].text.contains("2 × Green <Tea>  25.00 USD"),
        "{}",
        reminder[0].text
    );
    assert!(
        reminder[0]
            .text
            .contains(&format!("http://cart-shop.shops.test:8080/cart/{left}"))
    );
    assert!(reminder[0].html.contains("Green &lt;Tea&gt;"));
    scan(&app).await;
    cartwheel_jobs::enqueue(
        &app.db,
        NewJob::new(RemindAbandonedCart {
            cart_id: left.parse::<Uuid>().unwrap(),
            idle_minutes: 240,
        }),
    )
    .await
    .unwrap();
    drain_jobs(&app.db).await;
    let reminders: Vec<_> = mail
        .messages()
        .into_iter()
        .filter(|m| m.subject.starts_with("You left"))
        .collect();
    assert_eq!(
        reminders.len(),
        1,
        "one reminder in all: {:?}",
        reminders.iter().map(|m| &m.to).collect::<Vec<_>>()
    );
    assert_eq!(
        scalar(
            &app.db,
            &format!("SELECT COUNT(*) FROM carts WHERE reminded_at IS NOT NULL AND id = '{left}'")
        )
        .await,
        1
    );
    // The recent cart becomes due later and is reminded then, once.
    age(&app, &recent, 2).await;
    scan(&app).await;
    mails_after_drain(&app, &mail, "recent@example.com", 1).await;
    let reminded: Vec<Vec<String>> = mail
        .messages()
        .into_iter()
        .filter(|m| m.subject.starts_with("You left"))
        .map(|m| m.to)
        .collect();
    assert_eq!(
        reminded,
        [["left@example.com"], ["recent@example.com"]],
        "one reminder for each abandoned cart"
    );
}

#[tokio::test]
async fn admins_hear_once_per_fall_below_the_reorder_level() {
    let mail = MailServer::start().await;
    let app = app_with_mail(Backend::Postgres, &mail, &[]).await;
    let admin = ready_shop(&app, "low-shop").await;
    let owner = "owner@low-shop.example";
    let mut body = item("ROPE", "Rope", 900, true, None);
    body["reorderLevel"] = json!(5);
    let rope = create_item(&admin, body).await;

    adjust(&admin, &rope, 10).await;
    adjust(&admin, &rope, -6).await; // 4 left: below 5
    let alerts = drained_subjects(&app, &mail, owner, "Low stock", 1).await;
    assert_eq!(alerts[0].subject, "Low stock: Rope (ROPE) has 4 left");
    assert!(alerts[0].text.contains(&format!(
        "http://low-shop.shops.test:8080/admin/catalog/items/{rope}"
    )));
    adjust(&admin, &rope, -1).await; // further sales: no new alert
    adjust(&admin, &rope, -1).await;
    drain_jobs(&app.db).await;
    assert_eq!(subjects(&mail, owner, "Low stock"), 1);

    adjust(&admin, &rope, 20).await; // recovered: 22
    // Its check must see the recovery: a check sees the stock as it is when it runs, and one
    // that ran only after the next fall would find the item still below (no new crossing).
    drain_jobs(&app.db).await;
    adjust(&admin, &rope, -20).await; // 2 left: a new crossing
    let alerts = drained_subjects(&app, &mail, owner, "Low stock", 2).await;
    assert_eq!(alerts[1].subject, "Low stock: Rope (ROPE) has 2 left");
    // The sweep finds nothing owed, so it sends nothing more.
    cartwheel_jobs::enqueue(&app.db, NewJob::new(SweepStock {}))
        .await
        .unwrap();
    drain_jobs(&app.db).await;
    assert_eq!(subjects(&mail, owner, "Low stock"), 2);
}

on_each_backend!(shoppers_who_asked_hear_once_when_stock_returns);

async fn shoppers_who_asked_hear_once_when_stock_returns(backend: Backend) {
    let mail = MailServer::start().await;
    let app = app_with_mail(backend, &mail, &[]).await;
    let admin = ready_shop(&app, "back-shop").await;
    let shopper = admin.shopper();
    let other = ready_shop(&app, "other-shop").await.shopper();
    let kite = create_item(&admin, item("KITE", "Kite", 2999, true, None)).await;

    for email in ["ann@example.com", "bob@example.com", "ANN@example.com"] {
        assert_eq!(notify(&shopper, "kite", email).await.status(), 202);
    }
    let bad = assert_problem(notify(&shopper, "kite", "not-an-email").await, 422).await;
    assert_eq!(bad["errors"][0]["field"], "email");
    assert_problem(
        notify(&shopper, "no-such-kite", "ann@example.com").await,
        404,
    )
    .await;
    assert_problem(notify(&other, "kite", "ann@example.com").await, 404).await;

    adjust(&admin, &kite, 3).await;
    let ann = mails_after_drain(&app, &mail, "ann@example.com", 1).await;
    assert_eq!(
        ann[0].subject,
        "Kite is back in stock at back-shop Supplies"
    );
    assert!(
        ann[0]
            .text
            .contains("http://back-shop.shops.test:8080/products/kite")
    );
    assert!(ann[0].text.contains("29.99 USD"), "{}", ann[0].text);
    mails_after_drain(&app, &mail, "bob@example.com", 1).await;
    adjust(&admin, &kite, 2).await;
    drain_jobs(&app.db).await;
    assert_eq!(mails_to(&mail, "ann@example.com").len(), 1);
    assert_eq!(mails_to(&mail, "bob@example.com").len(), 1);
    let in_stock = assert_problem(notify(&shopper, "kite", "cy@example.com").await, 409).await;
    assert!(in_stock["detail"].as_str().unwrap().contains("5 available"));

    // Sold out again, Ann asks again; stock comes back by a path that enqueued no check
    // (a direct write), and the periodic sweep finds her.
    adjust(&admin, &kite, -5).await;
    assert_eq!(
        notify(&shopper, "kite", "ann@example.com").await.status(),
        202
    );
    use sea_orm::ConnectionTrait;
    app.db
        .execute_unprepared("UPDATE stock_levels SET on_hand = 1 WHERE on_hand = 0")
        .await
        .unwrap();
    cartwheel_jobs::enqueue(&app.db, NewJob::new(SweepStock {}))
        .await
        .unwrap();
    mails_after_drain(&app, &mail, "ann@example.com", 2).await;
    drain_jobs(&app.db).await;
    assert_eq!(mails_to(&mail, "bob@example.com").len(), 1);
    assert_eq!(mails_to(&mail, "ann@example.com").len(), 2);
}

/// Asks to hear by mail at `email` when the product `slug` is back in stock.
async fn notify(shopper: &Shopper<'_>, slug: &str, email: &str) -> reqwest::Response {
    let path = format!("products/{slug}/notify-me");
    shopper.post(&path, json!({ "email": email })).await
}

/// After every job has run (`drain_jobs`): the mails to `to` whose subject has `containing`,
/// exactly `count` of them.
async fn drained_subjects(
    app: &TestApp,
    mail: &MailServer,
    to: &str,
    containing: &str,
    count: usize,
) -> Vec<cartwheel_testkit::smtp::ReceivedMail> {
    drain_jobs(&app.db).await;
    let found: Vec<_> = mails_to(mail, to)
        .into_iter()
        .filter(|m| m.subject.contains(containing))
        .collect();
    assert_eq!(found.len(), count, "`{containing}` mails to {to}");
    found
}
