//! The Stripe fake of the testkit, driven by the real `async-stripe` client: PaymentIntents made,
//! confirmed (a declined card too), canceled and refunded; Stripe's idempotency rules; injected
//! 500s and dropped answers that a retry with the same key recovers; one account per key; a
//! publishable key confirming with the client secret; and webhook events that async-stripe's
//! `Webhook::construct_event` verifies and parses, delivered by themselves (retried) or as the
//! test says (copies, concurrently, reordered, stale, forged).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cartwheel_testkit::eventually;
use cartwheel_testkit::stripe::{Delivery, StripeFake, sign};
use poem::http::StatusCode;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{Request, Server};
use serde_json::Value;
use stripe::{Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use stripe_core::charge::RetrieveCharge;
use stripe_core::payment_intent::{
    CancelPaymentIntent, ConfirmPaymentIntent, CreatePaymentIntent, RetrievePaymentIntent,
};
use stripe_core::refund::{CreateRefund, CreateRefundReason, ListRefund};
use stripe_shared::{ApiErrors, ApiErrorsCode, ApiErrorsType, PaymentIntent, PaymentIntentStatus};
use stripe_types::Currency;
use stripe_webhook::{EventObject, Webhook};

const KEY: &str = "sk_test_51NorthFakeAccount";
const OTHER_KEY: &str = "sk_test_51SouthFakeAccount";
const PUBLISHABLE: &str = "pk_test_51NorthFakeAccount";
const SIGNING_SECRET: &str = "whsec_NorthFakeSigningSecret";

fn client(fake: &StripeFake, key: &str) -> Client {
    ClientBuilder::new(key)
        .url(fake.base_url())
        .build()
        .unwrap()
}

fn idempotent(key: &str) -> RequestStrategy {
    RequestStrategy::Idempotent(IdempotencyKey::new(key).unwrap())
}

/// The error Stripe answered, and its HTTP status.
fn refusal<T: std::fmt::Debug>(result: Result<T, StripeError>) -> (ApiErrors, u16) {
    match result {
        Err(StripeError::Stripe(error, status)) => (*error, status),
        other => panic!("expected an error answered by Stripe, got {other:?}"),
    }
}

fn order_metadata(order: &str) -> HashMap<String, String> {
    HashMap::from([("order".to_string(), order.to_string())])
}

async fn paid_intent(stripe: &Client, amount: i64) -> PaymentIntent {
    let intent = CreatePaymentIntent::new(amount, Currency::USD)
        .send(stripe)
        .await
        .unwrap();
    ConfirmPaymentIntent::new(&intent.id)
        .payment_method("pm_card_visa")
        .send(stripe)
        .await
        .unwrap()
}

/// A raw form POST, for what the typed client cannot send (and to read headers).
async fn post_form(
    fake: &StripeFake,
    path: &str,
    key: &str,
    idempotency_key: Option<&str>,
    form: &str,
) -> (u16, Option<String>, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}v1{path}", fake.base_url()))
        .bearer_auth(key)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form.to_string());
    if let Some(idempotency_key) = idempotency_key {
        request = request.header("Idempotency-Key", idempotency_key);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let replayed = response
        .headers()
        .get("Idempotent-Replayed")
        .map(|v| v.to_str().unwrap().to_string());
    let body = response.text().await.unwrap();
    let json = serde_json::from_str(&body).unwrap_or_else(|_| panic!("not JSON: {body}"));
    (status, replayed, json)
}

#[tokio::test]
async fn payment_intents_are_created_retrieved_confirmed_and_canceled() {
    let fake = StripeFake::start().await;
    let stripe = client(&fake, KEY);
    // Spaces, brackets and `&` in metadata survive the client's nested form encoding.
    let metadata = HashMap::from([
        ("order".to_string(), "42".to_string()),
        ("shop name".to_string(), "North & [Sons]".to_string()),
    ]);
    let created = CreatePaymentIntent::new(2500, Currency::EUR)
        .metadata(metadata.clone())
        .description("Order 42")
        .send(&stripe)
        .await
        .unwrap();
    assert!(created.id.as_str().starts_with("pi_"), "{}", created.id);
    let secret = created.client_secret.clone().unwrap();
    assert!(
        secret.starts_with(&format!("{}_secret_", created.id)),
        "{secret}"
    );
    assert_eq!(created.status, PaymentIntentStatus::RequiresPaymentMethod);
    assert_eq!(
        (
            created.amount,
            created.amount_received,
            created.amount_capturable
        ),
        (2500, 0, 0)
    );
    assert_eq!(created.currency, Currency::EUR);
    assert_eq!(created.metadata, metadata);
    assert_eq!(created.description.as_deref(), Some("Order 42"));
    assert_eq!(created.payment_method_types, vec!["card".to_string()]);
    assert!(!created.livemode && created.latest_charge.is_none());

    let retrieved = RetrievePaymentIntent::new(&created.id)
        .send(&stripe)
        .await
        .unwrap();
    assert_eq!(retrieved.id, created.id);
    assert_eq!(retrieved.metadata, metadata);

    let paid = ConfirmPaymentIntent::new(&created.id)
        .payment_method("pm_card_visa")
        .send(&stripe)
        .await
        .unwrap();
    assert_eq!(paid.status, PaymentIntentStatus::Succeeded);
    assert_eq!(paid.amount_received, 2500);
    assert!(paid.last_payment_error.is_none());
    let charge_id = paid.latest_charge.as_ref().unwrap().id().clone();
    assert!(charge_id.as_str().starts_with("ch_"), "{charge_id}");
    let charge = RetrieveCharge::new(&charge_id).send(&stripe).await.unwrap();
    assert!(charge.paid && charge.captured && !charge.refunded);
    assert_eq!((charge.amount, charge.amount_captured), (2500, 2500));
    assert_eq!(charge.payment_intent.unwrap().id(), &created.id);

    // A succeeded intent is neither confirmed again nor canceled.
    let again = ConfirmPaymentIntent::new(&created.id)
        .payment_method("pm_card_visa")
        .send(&stripe)
        .await;
    let (error, status) = refusal(again);
    assert_eq!(status, 400);
    assert_eq!(
        error.code,
        Some(ApiErrorsCode::PaymentIntentUnexpectedState)
    );
    let (error, _) = refusal(CancelPaymentIntent::new(&created.id).send(&stripe).await);
    assert_eq!(
        error.code,
        Some(ApiErrorsCode::PaymentIntentUnexpectedState)
    );

    let other = CreatePaymentIntent::new(900, Currency::USD)
        .send(&stripe)
        .await
        .unwrap();
    let canceled = CancelPaymentIntent::new(&other.id)
        .send(&stripe)
        .await
        .unwrap();
    assert_eq!(canceled.status, PaymentIntentStatus::Canceled);
    assert!(canceled.canceled_at.is_some());
    let (error, _) = refusal(
        ConfirmPaymentIntent::new(&other.id)
            .payment_method("pm_card_visa")
            .send(&stripe)
            .await,
    );
    assert_eq!(
        error.code,
        Some(ApiErrorsCode::PaymentIntentUnexpectedState)
    );

    let types: Vec<String> = fake.events(KEY).iter().map(|e| e.type_.clone()).collect();
    assert_eq!(
        types,
        ["payment_intent.succeeded", "payment_intent.canceled"]
    );
    assert_eq!(fake.payment_intents(KEY).len(), 2);
}

#[tokio::test]
async fn a_declined_card_fails_the_intent_until_another_card_pays() {
    let fake = StripeFake::start().await;
    let stripe = client(&fake, KEY);
    let intent = CreatePaymentIntent::new(1200, Currency::USD)
        .send(&stripe)
        .await
        .unwrap();

    // As at Stripe: 402, a card_error carrying the intent, back to requires_payment_method.
    let declined = ConfirmPaymentIntent::new(&intent.id)
        .payment_method("pm_card_chargeDeclined")
        .send(&stripe)
        .await;
    let (error, status) = refusal(declined);
    assert_eq!(status, 402);
    assert_eq!(error.type_, ApiErrorsType::CardError);
    assert_eq!(error.code, Some(ApiErrorsCode::CardDeclined));
    assert_eq!(error.decline_code.as_deref(), Some("generic_decline"));
    let failed = error.payment_intent.expect("the declined intent");
    assert_eq!(failed.status, PaymentIntentStatus::RequiresPaymentMethod);
    let last = failed.last_payment_error.expect("last_payment_error");
    assert_eq!(last.code, Some(ApiErrorsCode::CardDeclined));
    assert_eq!(last.type_, ApiErrorsType::CardError);
    // The attempt left a failed charge behind, as at Stripe.
    let charge_id = failed.latest_charge.as_ref().unwrap().id().clone();
    let charge = RetrieveCharge::new(&charge_id).send(&stripe).await.unwrap();
    assert!(!charge.paid && !charge.captured);
    assert_eq!(charge.failure_code.as_deref(), Some("card_declined"));

    let retrieved = RetrievePaymentIntent::new(&intent.id)
        .send(&stripe)
        .await
        .unwrap();
    assert_eq!(retrieved.status, PaymentIntentStatus::RequiresPaymentMethod);
    assert!(retrieved.last_payment_error.is_some());
    assert_eq!(retrieved.amount_received, 0);

    let paid = ConfirmPaymentIntent::new(&intent.id)
        .payment_method("pm_card_visa")
        .send(&stripe)
        .await
        .unwrap();
    assert_eq!(paid.status, PaymentIntentStatus::Succeeded);
    assert!(paid.last_payment_error.is_none());
    let types: Vec<String> = fake.events(KEY).into_iter().map(|e| e.type_).collect();
    assert_eq!(
        types,
        ["payment_intent.payment_failed", "payment_intent.succeeded"]
    );
}

#[tokio::test]
async fn bad_amounts_are_refused_with_their_param() {
    let fake = StripeFake::start().await;
    let stripe = client(&fake, KEY);
    for amount in [0, -5] {
        let created = CreatePaymentIntent::new(amount, Currency::USD)
            .send(&stripe)
            .await;
        let (error, status) = refusal(created);
        assert_eq!(status, 400);
        assert_eq!(error.type_, ApiErrorsType::InvalidRequestError);
        assert_eq!(error.param.as_deref(), Some("amount"));
    }
    for form in [
        "currency=usd",
        "amount=12.50&currency=usd",
        "amount=abc&currency=usd",
    ] {
        let (status, _, body) = post_form(&fake, "/payment_intents", KEY, None, form).await;
        assert_eq!(status, 400, "{form}: {body}");
        assert_eq!(body["error"]["type"], "invalid_request_error", "{body}");
        assert_eq!(body["error"]["param"], "amount", "{body}");
    }
    assert!(fake.payment_intents(KEY).is_empty());
}

#[tokio::test]
async fn an_idempotency_key_replays_its_first_answer() {
    let fake = StripeFake::start().await;
    let stripe = client(&fake, KEY);
    let create = |amount: i64| {
        CreatePaymentIntent::new(amount, Currency::USD)
            .metadata(order_metadata("42"))
            .customize()
            .request_strategy(idempotent("cart-42-payment"))
            .send(&stripe)
    };
    let first = create(1500).await.unwrap();
    let second = create(1500).await.unwrap();
    assert_eq!(second.id, first.id);
    assert_eq!(second.client_secret, first.client_secret);
    assert_eq!(fake.payment_intents(KEY).len(), 1);
    assert_eq!(fake.requests("POST /v1/payment_intents"), 2);

    let (error, status) = refusal(create(1600).await);
    assert_eq!(status, 400);
    assert_eq!(error.type_, ApiErrorsType::IdempotencyError);
    let message = error.message.unwrap();
    assert!(message.contains("same parameters"), "{message}");
    assert_eq!(fake.payment_intents(KEY).len(), 1);

    // The replay is the first answer byte for byte, marked, whatever the parameters' order.
    let form = "amount=700&currency=usd&metadata[order]=7";
    let (status, replayed, first) =
        post_form(&fake, "/payment_intents", KEY, Some("k7"), form).await;
    assert_eq!((status, replayed), (200, None));
    let form = "metadata%5Border%5D=7&currency=usd&amount=700";
    let (status, replayed, again) =
        post_form(&fake, "/payment_intents", KEY, Some("k7"), form).await;
    assert_eq!((status, replayed.as_deref()), (200, Some("true")));
    assert_eq!(again, first);
    assert_eq!(fake.payment_intents(KEY).len(), 2);
}

#[tokio::test]
async fn an_injected_failure_changes_nothing() {
    let fake = StripeFake::start().await;
    let stripe = client(&fake, KEY);
    let create = || {
        CreatePaymentIntent::new(1500, Currency::USD)
            .customize()
            .request_strategy(idempotent("order-9"))
            .send(&stripe)
    };
    fake.fail_next(1);
    let (error, status) = refusal(create().await);
    assert_eq!(status, 500);
    assert_eq!(error.type_, ApiErrorsType::ApiError);
    assert!(fake.payment_intents(KEY).is_empty());
    // Nothing was remembered for the key: the same call now runs.
    let intent = create().await.unwrap();
    assert_eq!(fake.payment_intents(KEY).len(), 1);
    assert_eq!(fake.payment_intents(KEY)[0]["id"], intent.id.as_str());

    // `Stripe-Should-Retry: true` makes async-stripe's retrying strategy try again by itself.
    fake.fail_next(1);
    let retried = CreatePaymentIntent::new(800, Currency::USD)
        .customize()
        .request_strategy(RequestStrategy::Retry(2))
        .send(&stripe)
        .await
        .unwrap();
    assert_eq!(retried.amount, 800);
    assert_eq!(fake.payment_intents(KEY).len(), 2);
    assert_eq!(fake.requests("POST /v1/payment_intents"), 4);
}

#[tokio::test]
async fn a_dropped_answer_is_recovered_by_its_idempotency_key() {
    let fake = StripeFake::start().await;
    let stripe = client(&fake, KEY);
    let create = || {
        CreatePaymentIntent::new(4200, Currency::USD)
            .customize()
            .request_strategy(idempotent("order-77"))
            .send(&stripe)
    };
    fake.drop_after_commit_next(1);
    let lost = create().await;
    assert!(matches!(lost, Err(StripeError::ClientError(_))), "{lost:?}");
    // Stripe made it, though the client never heard; the retry gets that very intent.
    let made = fake.payment_intents(KEY);
    assert_eq!(made.len(), 1);
    let intent = create().await.unwrap();
    assert_eq!(made[0]["id"], intent.id.as_str());
    assert_eq!(fake.payment_intents(KEY).len(), 1);

    // A confirmation whose answer is lost: the retry replays the success instead of refusing
    // to confirm a succeeded intent, and there is one payment_intent.succeeded.
    let confirm = || {
        ConfirmPaymentIntent::new(&intent.id)
            .payment_method("pm_card_visa")
            .customize()
            .request_strategy(idempotent("order-77-confirm"))
            .send(&stripe)
    };
    fake.drop_after_commit_next(1);
    assert!(confirm().await.is_err());
    assert_eq!(fake.payment_intents(KEY)[0]["status"], "succeeded");
    let paid = confirm().await.unwrap();
    assert_eq!(paid.status, PaymentIntentStatus::Succeeded);
    assert_eq!(fake.events(KEY).len(), 1);
    assert_eq!(fake.charges(KEY).len(), 1);
}

#[tokio::test]
async fn refunds_never_exceed_what_was_paid() {
    let fake = StripeFake::start().await;
    let stripe = client(&fake, KEY);
    let unpaid = CreatePaymentIntent::new(5000, Currency::USD)
        .send(&stripe)
        .await
        .unwrap();
    let early = CreateRefund::new()
        .payment_intent(unpaid.id.as_str())
        .send(&stripe)
        .await;
    let (error, status) = refusal(early);
    assert_eq!(status, 400);
    assert_eq!(error.type_, ApiErrorsType::InvalidRequestError);

    let paid = paid_intent(&stripe, 5000).await;
    let charge_id = paid
        .latest_charge
        .as_ref()
        .unwrap()
        .id()
        .as_str()
        .to_string();
    let partial = CreateRefund::new()
        .payment_intent(paid.id.as_str())
        .amount(2000)
        .reason(CreateRefundReason::RequestedByCustomer)
        .metadata(order_metadata("42"))
        .send(&stripe)
        .await
        .unwrap();
    assert!(partial.id.as_str().starts_with("re_"), "{}", partial.id);
    assert_eq!(partial.amount, 2000);
    assert_eq!(partial.status.as_deref(), Some("succeeded"));
    assert_eq!(partial.charge.as_ref().unwrap().id().as_str(), charge_id);
    assert_eq!(partial.payment_intent.as_ref().unwrap().id(), &paid.id);
    assert_eq!(partial.metadata, Some(order_metadata("42")));

    let too_much = CreateRefund::new()
        .payment_intent(paid.id.as_str())
        .amount(3001)
        .send(&stripe)
        .await;
    let (error, status) = refusal(too_much);
    assert_eq!(status, 400);
    assert_eq!(error.code, Some(ApiErrorsCode::AmountTooLarge));
    assert_eq!(error.param.as_deref(), Some("amount"));

    // Without an amount, what is left.
    let rest = CreateRefund::new()
        .payment_intent(paid.id.as_str())
        .send(&stripe)
        .await
        .unwrap();
    assert_eq!(rest.amount, 3000);
    let nothing_left = CreateRefund::new()
        .payment_intent(paid.id.as_str())
        .amount(1)
        .send(&stripe)
        .await;
    let (error, _) = refusal(nothing_left);
    assert_eq!(error.code, Some(ApiErrorsCode::ChargeAlreadyRefunded));

    let listed = ListRefund::new()
        .payment_intent(paid.id.as_str())
        .send(&stripe)
        .await
        .unwrap();
    let ids: Vec<&str> = listed.data.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, [rest.id.as_str(), partial.id.as_str()], "newest first");
    assert!(!listed.has_more);
    assert_eq!(listed.url, "/v1/refunds");

    let charge = RetrieveCharge::new(charge_id.as_str())
        .send(&stripe)
        .await
        .unwrap();
    assert_eq!(charge.amount_refunded, 5000);
    assert!(charge.refunded);
    let refunded: Vec<Value> = fake
        .events(KEY)
        .iter()
        .filter(|e| e.type_ == "charge.refunded")
        .map(|e| e.json()["data"]["object"]["amount_refunded"].clone())
        .collect();
    assert_eq!(refunded, [serde_json::json!(2000), serde_json::json!(5000)]);
    assert_eq!(fake.refunds(KEY).len(), 2);
}

#[tokio::test]
async fn each_key_is_its_own_account() {
    let fake = StripeFake::start().await;
    let north = client(&fake, KEY);
    let south = client(&fake, OTHER_KEY);
    let paid = paid_intent(&north, 3000).await;

    let (error, status) = refusal(RetrievePaymentIntent::new(&paid.id).send(&south).await);
    assert_eq!(status, 404);
    assert_eq!(error.type_, ApiErrorsType::InvalidRequestError);
    assert_eq!(error.code, Some(ApiErrorsCode::ResourceMissing));
    let refund = CreateRefund::new()
        .payment_intent(paid.id.as_str())
        .send(&south)
        .await;
    assert_eq!(refusal(refund).1, 404);
    let listed = ListRefund::new()
        .payment_intent(paid.id.as_str())
        .send(&south)
        .await
        .unwrap();
    assert!(listed.data.is_empty());
    assert!(fake.payment_intents(OTHER_KEY).is_empty());

    // Idempotency keys are per account too.
    let mut ids = Vec::new();
    for stripe in [&north, &south] {
        let created = CreatePaymentIntent::new(100, Currency::USD)
            .customize()
            .request_strategy(idempotent("same-key"))
            .send(stripe)
            .await
            .unwrap();
        ids.push(created.id);
    }
    assert_ne!(ids[0], ids[1]);

    for key in ["sk_live_51NorthFakeAccount", "nonsense"] {
        let created = CreatePaymentIntent::new(100, Currency::USD)
            .send(&client(&fake, key))
            .await;
        let (error, status) = refusal(created);
        assert_eq!(status, 401);
        assert_eq!(error.type_, ApiErrorsType::InvalidRequestError);
    }
    let anonymous = reqwest::Client::new()
        .post(format!("{}v1/payment_intents", fake.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn a_publishable_key_confirms_with_the_client_secret() {
    let fake = StripeFake::start().await;
    let stripe = client(&fake, KEY);
    let intent = CreatePaymentIntent::new(1999, Currency::USD)
        .send(&stripe)
        .await
        .unwrap();
    let secret = intent.client_secret.clone().unwrap();
    let path = format!("/payment_intents/{}/confirm", intent.id);

    let wrong = "payment_method=pm_card_visa&client_secret=pi_x_secret_y";
    let (status, _, body) = post_form(&fake, &path, PUBLISHABLE, None, wrong).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["param"], "client_secret");
    let (status, _, body) = post_form(
        &fake,
        "/payment_intents",
        PUBLISHABLE,
        None,
        "amount=5&currency=usd",
    )
    .await;
    assert_eq!(status, 401, "{body}");

    let form = format!("payment_method=pm_card_visa&client_secret={secret}");
    let (status, _, body) = post_form(&fake, &path, PUBLISHABLE, None, &form).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "succeeded");

    // The shopper's view, through async-stripe with the publishable key.
    let shopper = client(&fake, PUBLISHABLE);
    let seen = RetrievePaymentIntent::new(&intent.id)
        .client_secret(secret)
        .send(&shopper)
        .await
        .unwrap();
    assert_eq!(seen.status, PaymentIntentStatus::Succeeded);
    assert_eq!(fake.events(KEY).len(), 1);
}

/// A shop's webhook endpoint: verifies each post with async-stripe, answers 200 (400 when it
/// does not verify, 503 while `fail_first` lasts) and keeps what it got.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    fail_first: Arc<AtomicUsize>,
}

#[derive(Clone)]
struct Received {
    status: u16,
    tenant: Option<String>,
    body: String,
    event: Result<stripe_webhook::Event, String>,
}

impl Receiver {
    /// Serves on a free port; answers its URL.
    async fn start(&self) -> String {
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .unwrap();
        let port = acceptor.local_addr()[0].as_socket_addr().unwrap().port();
        let receiver = self.clone();
        let app = poem::endpoint::make(move |mut request: Request| {
            let receiver = receiver.clone();
            async move {
                let body = request.take_body().into_string().await.unwrap();
                let signature = request.header("stripe-signature").unwrap_or_default();
                let event = Webhook::construct_event(&body, signature, SIGNING_SECRET)
                    .map_err(|e| e.to_string());
                let failing = receiver
                    .fail_first
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
                let status = match (failing, &event) {
                    (true, _) => 503,
                    (false, Ok(_)) => 200,
                    (false, Err(_)) => 400,
                };
                receiver.got.lock().unwrap().push(Received {
                    status,
                    tenant: request.header("x-tenant").map(str::to_string),
                    body,
                    event,
                });
                StatusCode::from_u16(status).unwrap()
            }
        });
        tokio::spawn(Server::new_with_acceptor(acceptor).run(app));
        format!("http://127.0.0.1:{port}/stripe/webhook")
    }

    fn got(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// The events it verified, in order of arrival.
    fn verified(&self) -> Vec<stripe_webhook::Event> {
        self.got()
            .into_iter()
            .filter_map(|r| r.event.ok())
            .collect()
    }
}

fn tenant_header() -> Vec<(String, String)> {
    vec![("X-Tenant".to_string(), "north".to_string())]
}

#[tokio::test]
async fn events_are_posted_signed_and_parse_in_async_stripe() {
    let fake = StripeFake::start().await;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    fake.webhook(KEY, &url, SIGNING_SECRET, tenant_header());
    let stripe = client(&fake, KEY);
    let paid = paid_intent(&stripe, 3000).await;
    CreateRefund::new()
        .payment_intent(paid.id.as_str())
        .amount(1000)
        .send(&stripe)
        .await
        .unwrap();

    let events = fake.events(KEY);
    eventually(Duration::from_secs(10), "both events delivered", || async {
        events.iter().all(|e| fake.attempts(&e.id) == [200])
    })
    .await;
    let got = receiver.got();
    assert_eq!(got.len(), 2);
    for (received, event) in got.iter().zip(&events) {
        assert_eq!(received.body, event.body, "posted exactly as kept");
        assert_eq!(received.tenant.as_deref(), Some("north"));
    }
    let verified = receiver.verified();
    assert_eq!(verified[0].id.as_str(), events[0].id);
    assert_eq!(
        verified[0].api_version,
        Some(stripe_shared::version::VERSION)
    );
    assert!(!verified[0].livemode);
    let EventObject::PaymentIntentSucceeded(intent) = &verified[0].data.object else {
        panic!("not a payment_intent.succeeded: {:?}", verified[0].type_);
    };
    assert_eq!(intent.id, paid.id);
    assert_eq!(intent.amount_received, 3000);
    let EventObject::ChargeRefunded(charge) = &verified[1].data.object else {
        panic!("not a charge.refunded: {:?}", verified[1].type_);
    };
    assert_eq!(charge.id, *paid.latest_charge.as_ref().unwrap().id());
    assert_eq!((charge.amount, charge.amount_refunded), (3000, 1000));
    assert!(!charge.refunded && !charge.disputed && charge.paid);
    assert_eq!(charge.payment_intent.as_ref().unwrap().id(), &paid.id);

    // The signature is Stripe's: a stale one fails verification.
    let body = &events[0].body;
    let now = chrono::Utc::now().timestamp();
    assert!(
        Webhook::construct_event(body, &sign(SIGNING_SECRET, body, now), SIGNING_SECRET).is_ok()
    );
    let stale = sign(SIGNING_SECRET, body, now - 600);
    let refused = Webhook::construct_event(body, &stale, SIGNING_SECRET);
    assert!(
        matches!(refused, Err(stripe_webhook::WebhookError::BadTimestamp(_))),
        "{refused:?}"
    );
}

#[tokio::test]
async fn held_events_are_delivered_as_the_test_says() {
    let fake = StripeFake::start().await;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    fake.set_auto_deliver(false);
    fake.webhook(KEY, &url, SIGNING_SECRET, tenant_header());
    let stripe = client(&fake, KEY);
    let intent = CreatePaymentIntent::new(1500, Currency::USD)
        .send(&stripe)
        .await
        .unwrap();
    let declined = ConfirmPaymentIntent::new(&intent.id)
        .payment_method("pm_card_chargeDeclined")
        .send(&stripe)
        .await;
    assert!(declined.is_err());
    paid_intent(&stripe, 700).await;
    let doomed = CreatePaymentIntent::new(300, Currency::USD)
        .send(&stripe)
        .await
        .unwrap();
    CancelPaymentIntent::new(&doomed.id)
        .send(&stripe)
        .await
        .unwrap();

    let events = fake.events(KEY);
    let types: Vec<&str> = events.iter().map(|e| e.type_.as_str()).collect();
    assert_eq!(
        types,
        [
            "payment_intent.payment_failed",
            "payment_intent.succeeded",
            "payment_intent.canceled"
        ]
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(receiver.got().is_empty(), "held events were posted");

    // Reordered: the newest first.
    for event in events.iter().rev() {
        let statuses = fake.deliver(KEY, &event.id, Delivery::default()).await;
        assert_eq!(statuses, [200]);
    }
    let verified = receiver.verified();
    assert!(matches!(
        verified[0].data.object,
        EventObject::PaymentIntentCanceled(_)
    ));
    assert!(matches!(
        verified[1].data.object,
        EventObject::PaymentIntentSucceeded(_)
    ));
    let EventObject::PaymentIntentPaymentFailed(failed) = &verified[2].data.object else {
        panic!(
            "not a payment_intent.payment_failed: {:?}",
            verified[2].type_
        );
    };
    let error = failed.last_payment_error.as_ref().unwrap();
    assert_eq!(error.code, Some(ApiErrorsCode::CardDeclined));

    // Duplicates, at once.
    let succeeded = &events[1].id;
    let twice = Delivery {
        copies: 2,
        concurrent: true,
        ..Delivery::default()
    };
    assert_eq!(fake.deliver(KEY, succeeded, twice).await, [200, 200]);
    // Late (a replay beyond the 5-minute tolerance) and forged deliveries do not verify.
    let stale = Delivery {
        stale_by: Some(Duration::from_secs(600)),
        ..Delivery::default()
    };
    assert_eq!(fake.deliver(KEY, succeeded, stale).await, [400]);
    let forged = Delivery {
        signing_secret_override: Some("whsec_NotTheShopsSecret".to_string()),
        ..Delivery::default()
    };
    assert_eq!(fake.deliver(KEY, succeeded, forged).await, [400]);
    let refusals: Vec<String> = receiver
        .got()
        .into_iter()
        .filter_map(|r| r.event.err())
        .collect();
    assert_eq!(refusals.len(), 2);
    assert!(refusals[0].contains("timestamp"), "{refusals:?}");
    assert!(refusals[1].contains("signature"), "{refusals:?}");
    assert_eq!(fake.attempts(succeeded), [200, 200, 200, 400, 400]);
}

#[tokio::test]
async fn failed_deliveries_are_retried() {
    let fake = StripeFake::start().await;
    let receiver = Receiver::default();
    receiver.fail_first.store(2, Ordering::SeqCst);
    let url = receiver.start().await;
    fake.webhook(KEY, &url, SIGNING_SECRET, Vec::new());
    let paid = paid_intent(&client(&fake, KEY), 1000).await;

    let event = fake.events(KEY).pop().unwrap();
    eventually(
        Duration::from_secs(10),
        "a delivery answered 200",
        || async { fake.attempts(&event.id).contains(&200) },
    )
    .await;
    assert_eq!(fake.attempts(&event.id), [503, 503, 200]);
    let got = receiver.got();
    assert!(
        got.iter()
            .all(|r| r.body == event.body && r.tenant.is_none())
    );
    assert_eq!(
        got.iter().map(|r| r.status).collect::<Vec<_>>(),
        [503, 503, 200]
    );
    assert_eq!(event.json()["data"]["object"]["id"], paid.id.as_str());
}
