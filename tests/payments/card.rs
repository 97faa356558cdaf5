//! Paying a checkout by card through Stripe (the testkit's fake, over real HTTP): the stock is
//! held while the shopper pays, the webhook's events are checked, stored once and acted on
//! once, the shopper's confirm-again and the webhook race to one order, a declined card gives
//! the stock back, Stripe failing or losing an answer makes one PaymentIntent, and money that
//! can place no order is refunded.

use std::time::Duration;

use cartwheel_testkit::shops::{ShopAdmin, Shopper, app_with_mail, mails_after_drain, ready_shop};
use cartwheel_testkit::smtp::MailServer;
use cartwheel_testkit::stripe::{Delivery, StripeFake};
use cartwheel_testkit::{Backend, TestApp, drain_jobs, scalar};
use serde_json::{Value, json};

use crate::orders::{balances, parcel_to, ready_checkout, stock_of, stocked};

const KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const PUBLISHABLE: &str = "pk_test_51CardShopPublishable";
const SECRET: &str = "sk_test_51CardShopSecretKey";
const SIGNING: &str = "whsec_CardShopSigningSecret";
const WEBHOOK: &str = "/api/v1/store/payments/webhook";

struct CardShop<'a> {
    fake: StripeFake,
    owner: ShopAdmin<'a>,
    shopper: Shopper<'a>,
    item: String,
    method: String,
}

/// An app whose shop `slug` has Stripe keys (the fake's account `SECRET`) and a webhook
/// endpoint there, one item of 1,000 in `stock`, and parcels to the US at 500.
async fn card_shop<'a>(app: &'a TestApp, fake: StripeFake, slug: &str, stock: i64) -> CardShop<'a> {
    let owner = ready_shop(app, slug).await;
    let (status, body) = owner
        .put(
            "/api/v1/admin/payments/stripe",
            json!({"publishableKey": PUBLISHABLE, "secretKey": SECRET, "webhookSecret": SIGNING}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    fake.webhook(
        SECRET,
        &app.url(WEBHOOK),
        SIGNING,
        vec![("X-Tenant".into(), slug.into())],
    );
    let item = stocked(&owner, "MUG", 1000, stock).await;
    let method = parcel_to(&owner, &["US"], 500).await;
    let shopper = owner.shopper();
    CardShop {
        fake,
        owner,
        shopper,
        item,
        method,
    }
}

async fn app(backend: Backend, mail: &MailServer, fake: &StripeFake) -> TestApp {
    app_with_mail(
        backend,
        mail,
        &[
            ("CARTWHEEL_SECRETS_KEY", KEY),
            ("CARTWHEEL_STRIPE_API_BASE", &fake.base_url()),
            ("CARTWHEEL_RATE_LIMIT_PER_MINUTE", "100000"),
        ],
    )
    .await
}

impl CardShop<'_> {
    async fn checkout(&self, email: &str, qty: i64) -> String {
        ready_checkout(
            &self.shopper,
            &[(self.item.as_str(), qty)],
            email,
            Some(&self.method),
        )
        .await
    }

    /// Confirms the checkout by card: the status and the answer.
    async fn confirm(&self, checkout: &str) -> (u16, Value) {
        let response = self
            .shopper
            .post(
                &format!("checkout/{checkout}/confirm"),
                json!({"paymentMethod": "stripe"}),
            )
            .await;
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Pays the PaymentIntent with `card` as the shopper's browser does: its publishable key
    /// and client secret, straight to Stripe.
    async fn pay(&self, pending: &Value, card: &str) -> Value {
        let intent = pending["paymentIntentId"].as_str().unwrap();
        let response = reqwest::Client::new()
            .post(format!(
                "{}v1/payment_intents/{intent}/confirm",
                self.fake.base_url()
            ))
            .bearer_auth(pending["publishableKey"].as_str().unwrap())
            .form(&[
                ("payment_method", card),
                ("client_secret", pending["clientSecret"].as_str().unwrap()),
            ])
            .send()
            .await
            .unwrap();
        response.json().await.unwrap()
    }

    /// A checkout of `qty` for `email`, confirmed by card and paid: the confirm's 202 answer and
    /// the order the webhook placed.
    async fn paid_order(&self, app: &TestApp, email: &str, qty: i64) -> (Value, String) {
        let checkout = self.checkout(email, qty).await;
        let (_, pending) = self.confirm(&checkout).await;
        self.pay(&pending, "pm_card_visa").await;
        cartwheel_testkit::eventually(Duration::from_secs(10), "the order placed", || async {
            drain_jobs(&app.db).await;
            orders_for(app, email).await == 1
        })
        .await;
        let (_, placed) = self.confirm(&checkout).await;
        (pending, placed["orderId"].as_str().unwrap().to_string())
    }

    /// The fake's events of `type_` for the shop's account, oldest first.
    fn events(&self, type_: &str) -> Vec<String> {
        self.fake
            .events(SECRET)
            .into_iter()
            .filter(|e| e.type_ == type_)
            .map(|e| e.id)
            .collect()
    }
}

fn copies(copies: usize, concurrent: bool) -> Delivery {
    Delivery {
        copies,
        concurrent,
        ..Delivery::default()
    }
}

/// The orders placed for `email` (each test's checkouts have their own).
async fn orders_for(app: &TestApp, email: &str) -> i64 {
    scalar(
        &app.db,
        &format!("SELECT COUNT(*) FROM orders WHERE email = '{email}'"),
    )
    .await
}

cartwheel_testkit::on_each_backend!(
    a_card_payment_places_one_paid_order_however_often_stripe_calls
);

async fn a_card_payment_places_one_paid_order_however_often_stripe_calls(backend: Backend) {
    let mail = MailServer::start().await;
    let fake = StripeFake::start().await;
    let app = app(backend, &mail, &fake).await;
    let shop = card_shop(&app, fake, "cards", 5).await;
    shop.fake.set_auto_deliver(false);
    let checkout = shop.checkout("ada@example.com", 2).await;

    let (status, pending) = shop.confirm(&checkout).await;
    assert_eq!(status, 202, "{pending}");
    assert_eq!(pending["status"], "PAYMENT_PENDING");
    assert_eq!(pending["publishableKey"], PUBLISHABLE);
    let view = shop.shopper.get(&format!("checkout/{checkout}")).await;
    let total = view.json::<Value>().await.unwrap()["total"]
        .as_i64()
        .unwrap();
    assert_eq!(pending["amount"], total);
    assert!(
        pending["clientSecret"]
            .as_str()
            .unwrap()
            .starts_with(pending["paymentIntentId"].as_str().unwrap()),
        "{pending}"
    );
    // The stock is held while the shopper pays; confirming again continues the same payment.
    assert_eq!(stock_of(&shop.owner, &shop.item).await.1, 2);
    let (status, again) = shop.confirm(&checkout).await;
    assert_eq!((status, &again), (202, &pending));
    assert_eq!(shop.fake.payment_intents(SECRET).len(), 1);
    let intent = &shop.fake.payment_intents(SECRET)[0];
    assert_eq!(intent["metadata"]["checkout"], checkout.as_str());
    assert_eq!(intent["currency"], "usd");

    let paid = shop.pay(&pending, "pm_card_visa").await;
    assert_eq!(paid["status"], "succeeded", "{paid}");
    let succeeded = shop.events("payment_intent.succeeded");
    assert_eq!(succeeded.len(), 1);
    // 100 deliveries one after another, then 20 at once: each is acknowledged.
    let statuses = shop
        .fake
        .deliver(SECRET, &succeeded[0], copies(100, false))
        .await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let statuses = shop
        .fake
        .deliver(SECRET, &succeeded[0], copies(20, true))
        .await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");

    let mails = mails_after_drain(&app, &mail, "ada@example.com", 2).await;
    let mut subjects: Vec<&str> = mails.iter().map(|m| m.subject.as_str()).collect();
    subjects.sort_unstable();
    assert!(
        subjects[0].starts_with("Payment received for order #1"),
        "{subjects:?}"
    );
    assert!(subjects[1].starts_with("Your order #1"), "{subjects:?}");
    assert_eq!(orders_for(&app, "ada@example.com").await, 1);
    assert_eq!(
        scalar(&app.db, "SELECT COUNT(*) FROM stripe_events").await,
        1
    );

    // The order is paid by card, the stock is reserved for it, and the money sits in Stripe
    // Clearing until Stripe pays it out.
    let (status, placed) = shop.confirm(&checkout).await;
    assert_eq!(status, 200, "{placed}");
    assert_eq!(placed["orderNumber"], 1);
    assert_eq!(placed["paymentStatus"], "paid");
    assert_eq!(placed["status"], "processing");
    assert_eq!(placed["paymentInstructions"], "");
    let order = shop
        .owner
        .get_ok(&format!(
            "/api/v1/store/admin/orders/{}",
            placed["orderId"].as_str().unwrap()
        ))
        .await;
    assert_eq!(order["paymentMethod"], "stripe", "{order}");
    assert_eq!(stock_of(&shop.owner, &shop.item).await.1, 2);
    let ledger = balances(&shop.owner).await;
    assert_eq!(ledger["1150"], total, "{ledger:?}");
    assert_eq!(ledger["1130"], 0, "{ledger:?}");
    assert_eq!(shop.fake.payment_intents(SECRET).len(), 1);
}

#[tokio::test]
async fn the_shoppers_confirm_and_the_webhook_race_to_one_order() {
    let mail = MailServer::start().await;
    let fake = StripeFake::start().await;
    let app = app(Backend::Postgres, &mail, &fake).await;
    let shop = card_shop(&app, fake, "race", 100).await;
    for round in 0..50 {
        let checkout = shop.checkout(&format!("racer{round}@example.com"), 1).await;
        let (status, pending) = shop.confirm(&checkout).await;
        assert_eq!(status, 202, "{pending}");
        // The fake posts payment_intent.succeeded by itself as the shopper's client confirms
        // again: both paths complete the same checkout.
        shop.pay(&pending, "pm_card_visa").await;
        let (a, b) = tokio::join!(shop.confirm(&checkout), shop.confirm(&checkout));
        assert_eq!((a.0, b.0), (200, 200), "{a:?} {b:?}");
        assert_eq!(a.1["orderId"], b.1["orderId"]);
    }
    // Every event delivered (the fake retries failures), every job run.
    cartwheel_testkit::eventually(Duration::from_secs(30), "every event delivered", || async {
        let events = shop.fake.events(SECRET);
        events
            .iter()
            .all(|e| shop.fake.attempts(&e.id).last() == Some(&200))
    })
    .await;
    drain_jobs(&app.db).await;
    assert_eq!(scalar(&app.db, "SELECT COUNT(*) FROM orders").await, 50);
    assert_eq!(
        scalar(
            &app.db,
            "SELECT COUNT(*) FROM (SELECT checkout_id FROM orders GROUP BY checkout_id HAVING COUNT(*) > 1) t"
        )
        .await,
        0
    );
    assert_eq!(stock_of(&shop.owner, &shop.item).await.1, 50);
    let paid: i64 = scalar(&app.db, "SELECT CAST(SUM(total) AS BIGINT) FROM orders").await;
    assert_eq!(balances(&shop.owner).await["1150"], paid);
    for round in [0, 25, 49] {
        mails_after_drain(&app, &mail, &format!("racer{round}@example.com"), 2).await;
    }
}

cartwheel_testkit::on_each_backend!(
    a_declined_card_gives_the_stock_back_and_a_late_failure_changes_nothing
);

async fn a_declined_card_gives_the_stock_back_and_a_late_failure_changes_nothing(backend: Backend) {
    let mail = MailServer::start().await;
    let fake = StripeFake::start().await;
    let app = app(backend, &mail, &fake).await;
    let shop = card_shop(&app, fake, "declines", 3).await;
    let checkout = shop.checkout("grace@example.com", 3).await;
    let (_, first) = shop.confirm(&checkout).await;
    assert_eq!(stock_of(&shop.owner, &shop.item).await.1, 3);

    let declined = shop.pay(&first, "pm_card_chargeDeclined").await;
    assert_eq!(declined["error"]["code"], "card_declined", "{declined}");
    cartwheel_testkit::eventually(
        Duration::from_secs(10),
        "the checkout's payment failed",
        || async {
            drain_jobs(&app.db).await;
            let view = shop
                .shopper
                .get(&format!("checkout/{checkout}"))
                .await
                .json::<Value>()
                .await
                .unwrap();
            view["status"] == "PAYMENT_FAILED"
        },
    )
    .await;
    assert_eq!(stock_of(&shop.owner, &shop.item).await.1, 0);

    // Confirming again starts a second attempt: a new PaymentIntent, the stock held again.
    let (status, second) = shop.confirm(&checkout).await;
    assert_eq!(status, 202, "{second}");
    assert_ne!(second["paymentIntentId"], first["paymentIntentId"]);
    assert_eq!(stock_of(&shop.owner, &shop.item).await.1, 3);
    shop.pay(&second, "pm_card_visa").await;
    cartwheel_testkit::eventually(Duration::from_secs(10), "the order placed", || async {
        drain_jobs(&app.db).await;
        orders_for(&app, "grace@example.com").await == 1
    })
    .await;

    // The first attempt's failure, delivered again late and out of order, changes nothing.
    let failed = shop.events("payment_intent.payment_failed");
    let statuses = shop
        .fake
        .deliver(SECRET, &failed[0], copies(3, false))
        .await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    drain_jobs(&app.db).await;
    let (status, placed) = shop.confirm(&checkout).await;
    assert_eq!(status, 200, "{placed}");
    assert_eq!(placed["paymentStatus"], "paid");
    assert_eq!(stock_of(&shop.owner, &shop.item).await.1, 3);
    mails_after_drain(&app, &mail, "grace@example.com", 2).await;
}

cartwheel_testkit::on_each_backend!(a_webhook_not_signed_by_the_shop_stores_nothing);

async fn a_webhook_not_signed_by_the_shop_stores_nothing(backend: Backend) {
    let mail = MailServer::start().await;
    let fake = StripeFake::start().await;
    let app = app(backend, &mail, &fake).await;
    let shop = card_shop(&app, fake, "signed", 3).await;
    shop.fake.set_auto_deliver(false);
    let checkout = shop.checkout("lin@example.com", 1).await;
    let (_, pending) = shop.confirm(&checkout).await;
    shop.pay(&pending, "pm_card_visa").await;
    let event = &shop.events("payment_intent.succeeded")[0];

    for delivery in [
        Delivery {
            signing_secret_override: Some("whsec_SomeoneElsesSecret".into()),
            ..Delivery::default()
        },
        Delivery {
            stale_by: Some(Duration::from_secs(301)),
            ..Delivery::default()
        },
    ] {
        assert_eq!(shop.fake.deliver(SECRET, event, delivery).await, vec![400]);
    }
    // Another shop's secret, at another shop's endpoint.
    let body = shop.fake.events(SECRET)[0].body.clone();
    let response = reqwest::Client::new()
        .post(app.url(WEBHOOK))
        .header("X-Tenant", "signed")
        .header("Content-Type", "application/json")
        .header(
            "Stripe-Signature",
            cartwheel_testkit::stripe::sign("whsec_OtherShopSecret", &body, chrono_now()),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    let problem = cartwheel_testkit::assert_problem(response, 400).await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("signing secret"),
        "{problem}"
    );
    assert_eq!(
        scalar(&app.db, "SELECT COUNT(*) FROM stripe_events").await,
        0
    );
    drain_jobs(&app.db).await;
    assert_eq!(orders_for(&app, "lin@example.com").await, 0);

    // An event of a type nothing acts on is stored and acknowledged.
    let unknown =
        json!({"id": "evt_unknown_1", "object": "event", "type": "customer.tax_id.teleported",
        "created": chrono_now(), "livemode": false, "pending_webhooks": 1,
        "data": {"object": {"id": "txi_1", "object": "tax_id"}}})
        .to_string();
    let response = reqwest::Client::new()
        .post(app.url(WEBHOOK))
        .header("X-Tenant", "signed")
        .header("Content-Type", "application/json")
        .header(
            "Stripe-Signature",
            cartwheel_testkit::stripe::sign(SIGNING, &unknown, chrono_now()),
        )
        .body(unknown)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    drain_jobs(&app.db).await;
    assert_eq!(
        scalar(
            &app.db,
            "SELECT COUNT(*) FROM stripe_events WHERE processed_at IS NOT NULL"
        )
        .await,
        1
    );
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn stripe_failing_or_losing_its_answer_makes_one_payment_intent() {
    let mail = MailServer::start().await;
    let fake = StripeFake::start().await;
    let app = app(Backend::Postgres, &mail, &fake).await;
    let shop = card_shop(&app, fake, "flaky", 5).await;

    // Stripe answers 500 (Stripe-Should-Retry) once: the retry, with the same key, succeeds.
    let checkout = shop.checkout("ivy@example.com", 1).await;
    shop.fake.fail_next(1);
    let (status, pending) = shop.confirm(&checkout).await;
    assert_eq!(status, 202, "{pending}");
    assert_eq!(shop.fake.payment_intents(SECRET).len(), 1);

    // Stripe makes the PaymentIntent but the answer is lost: the retry gets the same one.
    let checkout = shop.checkout("joy@example.com", 1).await;
    shop.fake.drop_after_commit_next(1);
    let (status, lost) = shop.confirm(&checkout).await;
    assert_eq!(status, 202, "{lost}");
    assert_eq!(shop.fake.payment_intents(SECRET).len(), 2);

    // Stripe down for longer than the confirm's retries: 503, stock still held, and the next
    // confirm continues the same payment.
    let checkout = shop.checkout("kim@example.com", 1).await;
    shop.fake.fail_next(3);
    let (status, problem) = shop.confirm(&checkout).await;
    assert_eq!(status, 503, "{problem}");
    assert_eq!(shop.fake.payment_intents(SECRET).len(), 2);
    let (status, pending) = shop.confirm(&checkout).await;
    assert_eq!(status, 202, "{pending}");
    assert_eq!(shop.fake.payment_intents(SECRET).len(), 3);
    assert_eq!(stock_of(&shop.owner, &shop.item).await.1, 3);
}

#[tokio::test]
async fn money_that_arrives_after_its_stock_went_is_refunded() {
    let mail = MailServer::start().await;
    let fake = StripeFake::start().await;
    let app = app(Backend::Postgres, &mail, &fake).await;
    let shop = card_shop(&app, fake, "sellout", 1).await;
    shop.fake.set_auto_deliver(false);

    // The first shopper's card is declined: the last unit goes back on sale, and a second
    // shopper buys it by bank transfer.
    let slow = shop.checkout("slow@example.com", 1).await;
    let (_, pending) = shop.confirm(&slow).await;
    shop.pay(&pending, "pm_card_chargeDeclined").await;
    let failed = &shop.events("payment_intent.payment_failed")[0];
    shop.fake.deliver(SECRET, failed, Delivery::default()).await;
    drain_jobs(&app.db).await;
    let fast = shop.checkout("fast@example.com", 1).await;
    let response = crate::orders::confirm(&shop.shopper, &fast).await;
    assert_eq!(response.status(), 200);

    // Then the first shopper pays the same PaymentIntent after all: no order, no oversell,
    // the money goes back and the shopper hears why.
    let paid = shop.pay(&pending, "pm_card_visa").await;
    assert_eq!(paid["status"], "succeeded", "{paid}");
    let succeeded = &shop.events("payment_intent.succeeded")[0];
    shop.fake.deliver(SECRET, succeeded, copies(5, true)).await;
    let mails = mails_after_drain(&app, &mail, "slow@example.com", 1).await;
    assert!(
        mails[0].subject.contains("refunded"),
        "{}",
        mails[0].subject
    );
    assert_eq!(orders_for(&app, "slow@example.com").await, 0);
    let refunds = shop.fake.refunds(SECRET);
    assert_eq!(refunds.len(), 1, "{refunds:?}");
    assert_eq!(refunds[0]["amount"], pending["amount"]);
    let (on_hand, reserved, _) = stock_of(&shop.owner, &shop.item).await;
    assert_eq!((on_hand, reserved), (1, 1));
    let ledger = balances(&shop.owner).await;
    assert_eq!(ledger.get("1150").copied().unwrap_or(0), 0, "{ledger:?}");
}

#[tokio::test]
async fn refunds_never_pay_back_more_than_was_paid() {
    let mail = MailServer::start().await;
    let fake = StripeFake::start().await;
    let app = app(Backend::Postgres, &mail, &fake).await;
    let shop = card_shop(&app, fake, "refunds", 5).await;
    let (pending, order) = shop.paid_order(&app, "max@example.com", 2).await;
    let total = pending["amount"].as_i64().unwrap();
    let path = format!("/api/v1/store/payments/{order}/refund");

    // A refund made in Stripe's dashboard reaches the order through the webhook.
    let response = reqwest::Client::new()
        .post(format!("{}v1/refunds", shop.fake.base_url()))
        .bearer_auth(SECRET)
        .form(&[
            (
                "payment_intent",
                pending["paymentIntentId"].as_str().unwrap(),
            ),
            ("amount", "100"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    cartwheel_testkit::eventually(Duration::from_secs(10), "the dashboard refund", || async {
        drain_jobs(&app.db).await;
        let view = shop
            .owner
            .get_ok(&format!("/api/v1/store/admin/orders/{order}"))
            .await;
        view["refunded"] == 100
    })
    .await;

    // Twelve admins refund a tenth of the total at once: never more than what is left.
    let tenth = total / 10;
    let asks = (0..12).map(|_| {
        shop.owner.post(
            &path,
            json!({"amount": tenth, "reason": "damaged in transit"}),
        )
    });
    let answers = futures::future::join_all(asks).await;
    let refunded: Vec<&Value> = answers
        .iter()
        .filter(|(status, _)| *status == 200)
        .map(|(_, body)| body)
        .collect();
    let refused = answers.iter().filter(|(status, _)| *status == 422).count();
    let fits = ((total - 100) / tenth) as usize;
    assert_eq!((refunded.len(), refused), (fits, 12 - fits), "{answers:?}");
    assert!(
        refunded.iter().all(|r| r["status"] == "succeeded"),
        "{refunded:?}"
    );

    // The rest, then nothing more.
    let (status, rest) = shop.owner.post(&path, json!({"reason": "the rest"})).await;
    assert_eq!(status, 200, "{rest}");
    assert_eq!(rest["orderRefunded"], total);
    assert_eq!(rest["orderPaymentStatus"], "refunded");
    let (status, body) = shop
        .owner
        .post(&path, json!({"amount": 1, "reason": "once more"}))
        .await;
    assert_eq!(status, 409, "{body}");

    // Stripe paid back exactly the total; the webhook's reports of the same refunds count
    // nothing twice; the money left Stripe Clearing and the books balance.
    cartwheel_testkit::eventually(Duration::from_secs(30), "every event delivered", || async {
        shop.fake
            .events(SECRET)
            .iter()
            .all(|e| shop.fake.attempts(&e.id).last() == Some(&200))
    })
    .await;
    drain_jobs(&app.db).await;
    let paid_back: i64 = shop
        .fake
        .refunds(SECRET)
        .iter()
        .map(|r| r["amount"].as_i64().unwrap())
        .sum();
    assert_eq!(paid_back, total);
    let view = shop
        .owner
        .get_ok(&format!("/api/v1/store/admin/orders/{order}"))
        .await;
    assert_eq!(view["refunded"], total, "{view}");
    assert_eq!(view["paymentStatus"], "refunded");
    let ledger = balances(&shop.owner).await;
    assert_eq!(ledger.get("1150").copied().unwrap_or(0), 0, "{ledger:?}");
    // Confirmation, receipt, and one mail per refund.
    let refunds = shop.fake.refunds(SECRET).len();
    mails_after_drain(&app, &mail, "max@example.com", 2 + refunds).await;

    // Another shop's admin cannot refund it; a manual order is not refunded through Stripe.
    let other = ready_shop(&app, "other-refunds").await;
    let (status, body) = other
        .post(&path, json!({"amount": 1, "reason": "not mine"}))
        .await;
    assert_eq!(status, 404, "{body}");
    let manual = shop.checkout("nat@example.com", 1).await;
    let placed: Value = crate::orders::confirm(&shop.shopper, &manual)
        .await
        .json()
        .await
        .unwrap();
    let (status, body) = shop
        .owner
        .post(
            &format!(
                "/api/v1/store/payments/{}/refund",
                placed["orderId"].as_str().unwrap()
            ),
            json!({"reason": "manual"}),
        )
        .await;
    assert_eq!(status, 409, "{body}");
}

#[tokio::test]
async fn a_card_checkout_left_unpaid_gives_its_stock_back() {
    use cartwheel_entity::checkouts;
    use cartwheel_jobs::NewJob;
    use cartwheel_jobs::families::order_confirmation::ExpireUnpaidOrders;
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

    let mail = MailServer::start().await;
    let fake = StripeFake::start().await;
    let app = app(Backend::Postgres, &mail, &fake).await;
    let shop = card_shop(&app, fake, "abandons", 2).await;
    let gone = shop.checkout("gone@example.com", 2).await;
    let (_, pending) = shop.confirm(&gone).await;
    assert_eq!(stock_of(&shop.owner, &shop.item).await.1, 2);

    // An hour and more without a payment: the expiry run releases the stock.
    let past = chrono::Utc::now() - chrono::Duration::minutes(61);
    checkouts::Entity::update_many()
        .col_expr(checkouts::Column::UpdatedAt, Expr::value(past))
        .filter(checkouts::Column::Id.eq(gone.parse::<uuid::Uuid>().unwrap()))
        .exec(&app.db)
        .await
        .unwrap();
    cartwheel_jobs::enqueue(&app.db, NewJob::new(ExpireUnpaidOrders {}))
        .await
        .unwrap();
    drain_jobs(&app.db).await;
    assert_eq!(stock_of(&shop.owner, &shop.item).await.1, 0);
    let view: Value = shop
        .shopper
        .get(&format!("checkout/{gone}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["status"], "PAYMENT_FAILED", "{view}");

    // The shopper pays after all, while the stock is still there: the order is placed.
    shop.pay(&pending, "pm_card_visa").await;
    cartwheel_testkit::eventually(Duration::from_secs(10), "the late order placed", || async {
        drain_jobs(&app.db).await;
        orders_for(&app, "gone@example.com").await == 1
    })
    .await;
    assert_eq!(stock_of(&shop.owner, &shop.item).await.1, 2);
}

cartwheel_testkit::on_each_backend!(cancelling_a_card_paid_order_refunds_what_is_left);

async fn cancelling_a_card_paid_order_refunds_what_is_left(backend: Backend) {
    let mail = MailServer::start().await;
    let fake = StripeFake::start().await;
    let app = app(backend, &mail, &fake).await;
    let shop = card_shop(&app, fake, "cancels", 5).await;
    let (pending, order) = shop.paid_order(&app, "ola@example.com", 2).await;
    let total = pending["amount"].as_i64().unwrap();
    let admin_path = format!("/api/v1/store/admin/orders/{order}");

    // Part refunded first; cancelling pays back the rest, once, however often it is asked.
    let (status, body) = shop
        .owner
        .post(
            &format!("/api/v1/store/payments/{order}/refund"),
            json!({"amount": 300, "reason": "scratched"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // The dashboard's revenue is the order less its refund; cancelled, nothing.
    let today = || async { shop.owner.get_ok("/api/v1/dashboard/revenue").await["today"].clone() };
    assert_eq!(
        (
            today().await["orders"].as_i64(),
            today().await["revenue"].as_i64()
        ),
        (Some(1), Some(total - 300))
    );
    let status_path = format!("{admin_path}/status");
    let cancel = || shop.owner.put(&status_path, json!({"status": "cancelled"}));
    let (status, body) = cancel().await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = cancel().await;
    assert_eq!(status, 409, "{body}");
    drain_jobs(&app.db).await;

    let amounts: Vec<i64> = shop
        .fake
        .refunds(SECRET)
        .iter()
        .map(|r| r["amount"].as_i64().unwrap())
        .collect();
    assert_eq!(amounts, [300, total - 300]);
    assert_eq!(
        (
            today().await["orders"].as_i64(),
            today().await["revenue"].as_i64()
        ),
        (Some(0), Some(0))
    );
    let pipeline = shop.owner.get_ok("/api/v1/dashboard/orders").await;
    assert_eq!(
        (&pipeline["cancelled"], &pipeline["toFulfil"]),
        (&json!(1), &json!(0))
    );
    let view = shop.owner.get_ok(&admin_path).await;
    assert_eq!(
        (&view["status"], &view["paymentStatus"], &view["refunded"]),
        (&json!("cancelled"), &json!("refunded"), &json!(total)),
        "{view}"
    );
    assert_eq!(stock_of(&shop.owner, &shop.item).await.1, 0);
    // Paid in, paid back: Stripe Clearing and receivables are empty, and no sale is left.
    let ledger = balances(&shop.owner).await;
    let sold: i64 = ["4100", "4200", "2120"]
        .iter()
        .map(|code| ledger.get(*code).copied().unwrap_or(0))
        .sum();
    assert_eq!(
        (
            ledger.get("1150").copied().unwrap_or(0),
            ledger.get("1130").copied().unwrap_or(0),
            sold
        ),
        (0, 0, 0),
        "{ledger:?}"
    );
    // Confirmation, receipt, two refunds, and the cancellation.
    mails_after_drain(&app, &mail, "ola@example.com", 5).await;
}

#[tokio::test]
async fn new_stripe_keys_are_used_at_once() {
    let mail = MailServer::start().await;
    let fake = StripeFake::start().await;
    let app = app(Backend::Postgres, &mail, &fake).await;
    let shop = card_shop(&app, fake, "rekeys", 5).await;
    let first = shop.checkout("uma@example.com", 1).await;
    let (status, _) = shop.confirm(&first).await;
    assert_eq!(status, 202);

    // The owner moves the shop to another Stripe account (and its webhook secret).
    const OTHER_SECRET: &str = "sk_test_51CardShopOtherAccount";
    const OTHER_SIGNING: &str = "whsec_CardShopOtherSigning";
    let (status, body) = shop
        .owner
        .put(
            "/api/v1/admin/payments/stripe",
            json!({"publishableKey": PUBLISHABLE, "secretKey": OTHER_SECRET, "webhookSecret": OTHER_SIGNING}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    shop.fake.webhook(
        OTHER_SECRET,
        &app.url(WEBHOOK),
        OTHER_SIGNING,
        vec![("X-Tenant".into(), "rekeys".into())],
    );
    let second = shop.checkout("vic@example.com", 1).await;
    let (status, pending) = shop.confirm(&second).await;
    assert_eq!(status, 202, "{pending}");
    assert_eq!(shop.fake.payment_intents(SECRET).len(), 1);
    assert_eq!(shop.fake.payment_intents(OTHER_SECRET).len(), 1);
    // Its events are checked with the new signing secret, and place the order.
    shop.pay(&pending, "pm_card_visa").await;
    cartwheel_testkit::eventually(Duration::from_secs(10), "the order placed", || async {
        drain_jobs(&app.db).await;
        orders_for(&app, "vic@example.com").await == 1
    })
    .await;
}
