//! A Stripe fake for integration tests: real HTTP on a random 127.0.0.1 port that answers the
//! `async-stripe` client (pointed at [`StripeFake::base_url`]) for PaymentIntents, refunds,
//! charges and events, and posts signed webhook events the way Stripe does.
//!
//! Each secret key is an account: what a key makes, only that key sees. POSTs follow Stripe's
//! idempotency rules, and a test can make the next requests fail with a 500
//! ([`StripeFake::fail_next`]) or lose their answer after they took effect
//! ([`StripeFake::drop_after_commit_next`]) to prove that its retries are safe.
//!
//! Test cards: a payment method starting with `pm_card_chargeDeclined` is declined (HTTP 402, the
//! intent back to `requires_payment_method`); any other succeeds at once (automatic capture).
//! Only these events are made: `payment_intent.succeeded`, `payment_intent.payment_failed`,
//! `payment_intent.canceled` and `charge.refunded`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use poem::http::{Method, StatusCode};
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{Body, Request, Response, Server};
use rand::Rng;
use rand::distr::Alphanumeric;
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// Attempts of an automatic webhook delivery, the first included; the waits between them double
/// from [`RETRY_BACKOFF`].
const DELIVERY_ATTEMPTS: u32 = 4;
const RETRY_BACKOFF: Duration = Duration::from_millis(50);

/// The fake: a cheap handle (clone it freely) on the server and everything it holds. The server
/// task ends with the test's runtime.
#[derive(Clone)]
pub struct StripeFake {
    port: u16,
    state: Arc<Mutex<State>>,
    http: reqwest::Client,
}

/// One event as the fake made it: `body` is the exact JSON it posts to webhook endpoints.
#[derive(Debug, Clone)]
pub struct Event {
    pub id: String,
    /// The event's type, e.g. `payment_intent.succeeded`.
    pub type_: String,
    pub body: String,
}

impl Event {
    /// The body, parsed.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("the fake's events are JSON")
    }
}

/// How [`StripeFake::deliver`] posts an event: `Delivery::default()` is one copy, freshly and
/// rightly signed.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// How many times the same event is posted (Stripe may deliver an event more than once).
    pub copies: usize,
    /// Posts the copies at once rather than one after the other.
    pub concurrent: bool,
    /// Signs with a timestamp this far in the past (a replayed or late delivery).
    pub stale_by: Option<Duration>,
    /// Signs with this secret instead of the endpoint's (a forged delivery).
    pub signing_secret_override: Option<String>,
}

impl Default for Delivery {
    fn default() -> Delivery {
        Delivery {
            copies: 1,
            concurrent: false,
            stale_by: None,
            signing_secret_override: None,
        }
    }
}

/// The `Stripe-Signature` header Stripe sends with `body` at `timestamp` (Unix seconds):
/// `t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>.<body>" keyed by the signing secret>`.
pub fn sign(secret: &str, body: &str, timestamp: i64) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let tag = ring::hmac::sign(&key, format!("{timestamp}.{body}").as_bytes());
    format!("t={timestamp},v1={}", hex::encode(tag.as_ref()))
}

impl StripeFake {
    /// Starts the server on a free 127.0.0.1 port.
    pub async fn start() -> StripeFake {
        StripeFake::start_at("127.0.0.1:0").await
    }

    /// Starts the server on `address` (`host:port`), as the `stripe-fake` command does.
    pub async fn start_at(address: &str) -> StripeFake {
        let acceptor = TcpListener::bind(address.to_string())
            .into_acceptor()
            .await
            .expect("bind the Stripe fake");
        let port = acceptor.local_addr()[0].as_socket_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let app = poem::endpoint::make(move |request: Request| {
            let state = shared.clone();
            async move { serve(&state, request).await }
        });
        tokio::spawn(Server::new_with_acceptor(acceptor).run(app));
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        StripeFake { port, state, http }
    }

    /// The base URL for `stripe::ClientBuilder::url`: `http://127.0.0.1:<port>/` (the fake
    /// listens on 127.0.0.1 in tests).
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// The next `n` API requests answer 500 `api_error` with `Stripe-Should-Retry: true`, changing
    /// nothing and remembering nothing for their idempotency keys.
    pub fn fail_next(&self, n: usize) {
        self.state().fail_next += n;
    }

    /// The next `n` API requests take effect (and their idempotency keys remember their answers)
    /// but the connection is aborted instead of answered, so the client sees an error.
    pub fn drop_after_commit_next(&self, n: usize) {
        self.state().drop_next += n;
    }

    /// How many API requests arrived (faulted, refused and replayed ones included) whose
    /// `"METHOD /path"` or `/path` starts with `prefix`: `"POST /v1/refunds"`, `"/v1/payment_intents"`.
    pub fn requests(&self, prefix: &str) -> usize {
        self.state()
            .log
            .iter()
            .filter(|line| {
                line.starts_with(prefix)
                    || line
                        .split_once(' ')
                        .is_some_and(|(_, path)| path.starts_with(prefix))
            })
            .count()
    }

    /// The account's PaymentIntents as the API shows them, oldest first.
    pub fn payment_intents(&self, secret_key: &str) -> Vec<Value> {
        self.with_account(secret_key, |a| a.intents.iter().map(Intent::json).collect())
    }

    /// The account's refunds as the API shows them, oldest first.
    pub fn refunds(&self, secret_key: &str) -> Vec<Value> {
        self.with_account(secret_key, |a| a.refunds.iter().map(Refund::json).collect())
    }

    /// The account's charges as the API shows them, oldest first.
    pub fn charges(&self, secret_key: &str) -> Vec<Value> {
        self.with_account(secret_key, |a| a.charges.iter().map(Charge::json).collect())
    }

    /// The account's events, oldest first.
    pub fn events(&self, secret_key: &str) -> Vec<Event> {
        self.with_account(secret_key, |a| a.events.clone())
    }

    /// Registers a webhook endpoint for the account: from now on each new event is posted to
    /// `url` (JSON, `Stripe-Signature` made with `signing_secret`, plus `headers`), in the
    /// background and in order, retried a few times on a non-2xx answer or a connection error.
    /// Call it inside the test's Tokio runtime.
    pub fn webhook(
        &self,
        secret_key: &str,
        url: &str,
        signing_secret: &str,
        headers: Vec<(String, String)>,
    ) {
        let target = Target {
            url: url.to_string(),
            secret: signing_secret.to_string(),
            headers,
        };
        let (queue, events) = mpsc::unbounded_channel();
        tokio::spawn(deliver_in_order(
            Arc::downgrade(&self.state),
            self.http.clone(),
            target.clone(),
            events,
        ));
        self.state()
            .accounts
            .entry(secret_key.to_string())
            .or_default()
            .endpoints
            .push(Endpoint { target, queue });
    }

    /// Whether new events go to the webhook endpoints by themselves (the default). Off, events
    /// are only kept, for the test to [`deliver`](Self::deliver) when and how it likes; turning it
    /// back on sends only the events made afterwards.
    pub fn set_auto_deliver(&self, on: bool) {
        self.state().hold_events = !on;
    }

    /// Posts the event to every webhook endpoint of the account as `delivery` says, without
    /// retries, and answers the status of each post (0: no answer), endpoint by endpoint.
    pub async fn deliver(&self, secret_key: &str, event_id: &str, delivery: Delivery) -> Vec<u16> {
        let (event, targets) = self.with_account(secret_key, |a| {
            let event = a.events.iter().find(|e| e.id == event_id).cloned();
            let targets: Vec<Target> = a.endpoints.iter().map(|e| e.target.clone()).collect();
            (event, targets)
        });
        let event = event.unwrap_or_else(|| panic!("no event {event_id} for this key"));
        assert!(!targets.is_empty(), "no webhook endpoint for this key");
        let stale = delivery.stale_by.map_or(0, |d| d.as_secs() as i64);
        let timestamp = now() - stale;
        let mut statuses = Vec::new();
        for target in &targets {
            let secret = delivery
                .signing_secret_override
                .as_deref()
                .unwrap_or(&target.secret);
            let posts =
                (0..delivery.copies).map(|_| post(&self.http, target, secret, &event, timestamp));
            if delivery.concurrent {
                statuses.extend(futures::future::join_all(posts).await);
            } else {
                for sent in posts {
                    statuses.push(sent.await);
                }
            }
        }
        let mut state = self.state();
        let attempts = state.attempts.entry(event.id.clone()).or_default();
        attempts.extend(&statuses);
        statuses
    }

    /// The status of every delivery attempt of the event so far (0: no answer), in order.
    pub fn attempts(&self, event_id: &str) -> Vec<u16> {
        self.state()
            .attempts
            .get(event_id)
            .cloned()
            .unwrap_or_default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    fn with_account<T>(&self, secret_key: &str, read: impl FnOnce(&Account) -> T) -> T {
        let mut state = self.state();
        read(state.accounts.entry(secret_key.to_string()).or_default())
    }
}

#[derive(Default)]
struct State {
    /// `"METHOD /path"` of every API request.
    log: Vec<String>,
    fail_next: usize,
    drop_next: usize,
    hold_events: bool,
    /// By secret key.
    accounts: HashMap<String, Account>,
    /// Delivery statuses by event id.
    attempts: HashMap<String, Vec<u16>>,
}

#[derive(Default)]
struct Account {
    intents: Vec<Intent>,
    charges: Vec<Charge>,
    refunds: Vec<Refund>,
    events: Vec<Event>,
    endpoints: Vec<Endpoint>,
    /// Answers remembered by idempotency key.
    idempotent: HashMap<String, Remembered>,
}

struct Remembered {
    fingerprint: String,
    status: u16,
    body: String,
    request_id: String,
}

struct Endpoint {
    target: Target,
    queue: mpsc::UnboundedSender<Event>,
}

#[derive(Clone)]
struct Target {
    url: String,
    secret: String,
    headers: Vec<(String, String)>,
}

struct Intent {
    id: String,
    client_secret: String,
    amount: i64,
    currency: String,
    metadata: BTreeMap<String, String>,
    description: Option<String>,
    receipt_email: Option<String>,
    payment_method_types: Vec<String>,
    automatic_payment_methods: bool,
    payment_method: Option<String>,
    status: &'static str,
    created: i64,
    amount_received: i64,
    latest_charge: Option<String>,
    last_payment_error: Option<Value>,
    canceled_at: Option<i64>,
    cancellation_reason: Option<String>,
}

impl Intent {
    fn json(&self) -> Value {
        let automatic = self
            .automatic_payment_methods
            .then(|| json!({"allow_redirects": "always", "enabled": true}));
        let mut object = json!({
            "id": self.id,
            "object": "payment_intent",
            "amount": self.amount,
            "amount_capturable": 0,
            "amount_received": self.amount_received,
            "automatic_payment_methods": automatic,
            "canceled_at": self.canceled_at,
            "cancellation_reason": self.cancellation_reason,
            "capture_method": "automatic",
            "client_secret": self.client_secret,
            "confirmation_method": "automatic",
            "created": self.created,
            "currency": self.currency,
            "description": self.description,
            "last_payment_error": self.last_payment_error,
            "latest_charge": self.latest_charge,
            "livemode": false,
            "metadata": self.metadata,
            "payment_method": self.payment_method,
            "payment_method_types": self.payment_method_types,
            "receipt_email": self.receipt_email,
            "status": self.status,
        });
        add_nulls(
            &mut object,
            &[
                "amount_details",
                "application",
                "application_fee_amount",
                "customer",
                "next_action",
                "on_behalf_of",
                "payment_method_configuration_details",
                "payment_method_options",
                "processing",
                "review",
                "setup_future_usage",
                "shipping",
                "source",
                "statement_descriptor",
                "statement_descriptor_suffix",
                "transfer_data",
                "transfer_group",
            ],
        );
        object
    }
}

struct Charge {
    id: String,
    payment_intent: String,
    amount: i64,
    currency: String,
    created: i64,
    payment_method: String,
    metadata: BTreeMap<String, String>,
    description: Option<String>,
    /// The decline's code and message, for a failed charge.
    failure: Option<(&'static str, &'static str)>,
    amount_refunded: i64,
}

impl Charge {
    fn json(&self) -> Value {
        let paid = self.failure.is_none();
        let mut object = json!({
            "id": self.id,
            "object": "charge",
            "amount": self.amount,
            "amount_captured": if paid { self.amount } else { 0 },
            "amount_refunded": self.amount_refunded,
            "billing_details": {
                "address": null, "email": null, "name": null, "phone": null, "tax_id": null
            },
            "captured": paid,
            "created": self.created,
            "currency": self.currency,
            "description": self.description,
            "disputed": false,
            "failure_code": self.failure.map(|f| f.0),
            "failure_message": self.failure.map(|f| f.1),
            "livemode": false,
            "metadata": self.metadata,
            "paid": paid,
            "payment_intent": self.payment_intent,
            "payment_method": self.payment_method,
            "refunded": paid && self.amount_refunded == self.amount,
            "status": if paid { "succeeded" } else { "failed" },
        });
        add_nulls(
            &mut object,
            &[
                "application",
                "application_fee",
                "application_fee_amount",
                "balance_transaction",
                "customer",
                "failure_balance_transaction",
                "on_behalf_of",
                "outcome",
                "payment_method_details",
                "receipt_email",
                "receipt_number",
                "receipt_url",
                "review",
                "shipping",
                "source_transfer",
                "statement_descriptor",
                "statement_descriptor_suffix",
                "transfer_data",
                "transfer_group",
            ],
        );
        object
    }
}

struct Refund {
    id: String,
    amount: i64,
    charge: String,
    payment_intent: String,
    currency: String,
    created: i64,
    reason: Option<String>,
    metadata: BTreeMap<String, String>,
}

impl Refund {
    fn json(&self) -> Value {
        let mut object = json!({
            "id": self.id,
            "object": "refund",
            "amount": self.amount,
            "charge": self.charge,
            "created": self.created,
            "currency": self.currency,
            "metadata": self.metadata,
            "payment_intent": self.payment_intent,
            "reason": self.reason,
            "status": "succeeded",
        });
        add_nulls(
            &mut object,
            &[
                "balance_transaction",
                "destination_details",
                "receipt_number",
                "source_transfer_reversal",
                "transfer_reversal",
            ],
        );
        object
    }
}

fn add_nulls(object: &mut Value, fields: &[&str]) {
    for field in fields {
        object[*field] = Value::Null;
    }
}

/// A request as the fake needs it.
struct Incoming {
    method: Method,
    path: String,
    query: String,
    authorization: Option<String>,
    idempotency_key: Option<String>,
    body: Vec<u8>,
}

/// What to send back.
struct Outcome {
    status: u16,
    body: String,
    headers: Vec<(&'static str, String)>,
    /// Abort the connection instead.
    drop: bool,
}

/// An API answer before it is sent: `commit` says the endpoint ran (its idempotency key
/// remembers it); refusals of bad requests are not remembered, as at Stripe.
struct Answer {
    status: u16,
    body: Value,
    commit: bool,
}

type Answered = Result<Value, Answer>;

async fn serve(state: &Mutex<State>, mut request: Request) -> Response {
    let body = request.take_body().into_vec().await.unwrap_or_default();
    let header = |name: &str| request.header(name).map(str::to_string);
    let incoming = Incoming {
        method: request.method().clone(),
        path: request.uri().path().to_string(),
        query: request.uri().query().unwrap_or_default().to_string(),
        authorization: header("authorization"),
        idempotency_key: header("idempotency-key"),
        body,
    };
    let outcome = process(&mut state.lock().unwrap(), &incoming);
    respond(outcome)
}

fn respond(outcome: Outcome) -> Response {
    if outcome.drop {
        // A body that breaks off before its announced length: the connection closes
        // mid-answer, and the client sees an error rather than a short answer.
        let broken = futures::stream::once(async {
            Err::<Vec<u8>, _>(std::io::Error::other("answer dropped by the Stripe fake"))
        });
        return Response::builder()
            .content_type("application/json")
            .header("Content-Length", outcome.body.len().max(1))
            .body(Body::from_bytes_stream(broken));
    }
    let status = StatusCode::from_u16(outcome.status).unwrap();
    let mut response = Response::builder()
        .status(status)
        .content_type("application/json");
    for (name, value) in outcome.headers {
        response = response.header(name, value);
    }
    response.body(outcome.body)
}

/// Everything but the network: faults, authentication, idempotency, then the endpoint.
fn process(state: &mut State, request: &Incoming) -> Outcome {
    state
        .log
        .push(format!("{} {}", request.method, request.path));
    let request_id = random_id("req");
    if state.fail_next > 0 {
        state.fail_next -= 1;
        let failed = error(
            500,
            "api_error",
            None,
            None,
            "An unknown error occurred (injected by the Stripe fake).".into(),
        );
        let mut outcome = outcome(&request_id, failed.status, failed.body.to_string());
        outcome
            .headers
            .push(("Stripe-Should-Retry", "true".to_string()));
        return outcome;
    }
    let drop = state.drop_next > 0;
    state.drop_next = state.drop_next.saturating_sub(1);
    let mut answered = answer(state, request, &request_id);
    answered.drop = drop;
    answered
}

fn answer(state: &mut State, request: &Incoming, request_id: &str) -> Outcome {
    let refused = |answer: Answer| outcome(request_id, answer.status, answer.body.to_string());
    let key = match api_key(request.authorization.as_deref()) {
        Ok(key) => key,
        Err(refusal) => return refused(refusal),
    };
    let raw: &[u8] = if request.method == Method::GET {
        request.query.as_bytes()
    } else {
        &request.body
    };
    let params = match Params::parse(raw) {
        Ok(params) => params,
        Err(refusal) => return refused(refusal),
    };
    let Some(call) = route(&request.method, &request.path) else {
        let message = format!(
            "Unrecognized request URL ({}: {}).",
            request.method, request.path
        );
        return refused(error(404, "invalid_request_error", None, None, message));
    };
    let account_key = match key {
        Key::Secret(key) => key,
        Key::Publishable => match publishable_account(state, &call, &params) {
            Ok(key) => key,
            Err(refusal) => return refused(refusal),
        },
    };
    let hold_events = state.hold_events;
    let account = state.accounts.entry(account_key).or_default();
    let idempotency = match (&request.method, &request.idempotency_key) {
        (&Method::POST, Some(key)) => Some((key.clone(), params.fingerprint(request))),
        _ => None,
    };
    if let Some((key, fingerprint)) = &idempotency
        && let Some(earlier) = account.idempotent.get(key)
    {
        if earlier.fingerprint != *fingerprint {
            let message = format!(
                "Keys for idempotent requests can only be used with the same parameters they were \
                 first used with. Try using a key other than '{key}' if you meant to execute a \
                 different request."
            );
            return refused(error(400, "idempotency_error", None, None, message));
        }
        let mut replay = outcome(&earlier.request_id, earlier.status, earlier.body.clone());
        replay.headers.push(("Idempotency-Key", key.clone()));
        replay
            .headers
            .push(("Idempotent-Replayed", "true".to_string()));
        return replay;
    }
    let mut cx = Cx {
        account,
        hold_events,
    };
    let answer = match cx.handle(&call, &params) {
        Ok(object) => Answer {
            status: 200,
            body: object,
            commit: true,
        },
        Err(answer) => answer,
    };
    let body = answer.body.to_string();
    let mut sent = outcome(request_id, answer.status, body.clone());
    if let Some((key, fingerprint)) = idempotency {
        sent.headers.push(("Idempotency-Key", key.clone()));
        if answer.commit {
            let remembered = Remembered {
                fingerprint,
                status: answer.status,
                body,
                request_id: request_id.to_string(),
            };
            cx.account.idempotent.insert(key, remembered);
        }
    }
    sent
}

fn outcome(request_id: &str, status: u16, body: String) -> Outcome {
    Outcome {
        status,
        body,
        headers: vec![("Request-Id", request_id.to_string())],
        drop: false,
    }
}

enum Key {
    Secret(String),
    /// A `pk_test_` key: only a PaymentIntent's confirm and retrieve, with its client secret.
    Publishable,
}

/// The key from `Authorization: Bearer <key>` (or Basic with the key as user name).
fn api_key(authorization: Option<&str>) -> Result<Key, Answer> {
    let unauthorized = |message: String| error(401, "invalid_request_error", None, None, message);
    let Some(authorization) = authorization else {
        return Err(unauthorized(
            "You did not provide an API key. You need to provide your API key in the \
             Authorization header, using Bearer auth (e.g. 'Authorization: Bearer \
             YOUR_SECRET_KEY')."
                .into(),
        ));
    };
    let key = if let Some(key) = authorization.strip_prefix("Bearer ") {
        key.trim().to_string()
    } else if let Some(encoded) = authorization.strip_prefix("Basic ") {
        let decoded = base64_decode(encoded.trim()).unwrap_or_default();
        let decoded = String::from_utf8_lossy(&decoded).to_string();
        decoded.split(':').next().unwrap_or_default().to_string()
    } else {
        String::new()
    };
    let secret = ["sk_test_", "rk_test_"]
        .iter()
        .any(|prefix| key.len() > prefix.len() && key.starts_with(prefix));
    if secret {
        return Ok(Key::Secret(key));
    }
    if key.len() > "pk_test_".len() && key.starts_with("pk_test_") {
        return Ok(Key::Publishable);
    }
    let shown: String = key.chars().take(8).collect();
    Err(unauthorized(format!(
        "Invalid API Key provided: {shown}***** (the Stripe fake takes test-mode keys only: \
         sk_test_, rk_test_, or pk_test_ with a client secret)"
    )))
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let (mut bits, mut count, mut out) = (0u32, 0u32, Vec::new());
    for c in text.trim_end_matches('=').bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(value);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    Some(out)
}

/// The account of the intent a publishable key names by its client secret.
fn publishable_account(state: &State, call: &Call, params: &Params) -> Result<String, Answer> {
    let (Call::Confirm(id) | Call::RetrieveIntent(id)) = call else {
        return Err(error(
            401,
            "invalid_request_error",
            Some("secret_key_required"),
            None,
            "This API call cannot be made with a publishable API key. Please use a secret API \
             key."
                .into(),
        ));
    };
    let Some(client_secret) = params.get("client_secret") else {
        return Err(parameter_missing("client_secret"));
    };
    let owner = state
        .accounts
        .iter()
        .find_map(|(key, a)| Some((key, a.intents.iter().find(|i| i.id == *id)?)));
    let Some((key, intent)) = owner else {
        return Err(no_such("payment_intent", id, "intent"));
    };
    if intent.client_secret != client_secret {
        return Err(invalid(
            "client_secret",
            None,
            "The client_secret provided does not match the client_secret associated with the \
             PaymentIntent."
                .into(),
        ));
    }
    Ok(key.clone())
}

enum Call<'a> {
    CreateIntent,
    RetrieveIntent(&'a str),
    Confirm(&'a str),
    Cancel(&'a str),
    CreateRefund,
    ListRefunds,
    RetrieveRefund(&'a str),
    RetrieveCharge(&'a str),
    ListEvents,
    RetrieveEvent(&'a str),
}

fn route<'a>(method: &Method, path: &'a str) -> Option<Call<'a>> {
    let segments: Vec<&str> = path.strip_prefix("/v1/")?.split('/').collect();
    let post = *method == Method::POST;
    let get = *method == Method::GET;
    Some(match segments[..] {
        ["payment_intents"] if post => Call::CreateIntent,
        ["payment_intents", id] if get => Call::RetrieveIntent(id),
        ["payment_intents", id, "confirm"] if post => Call::Confirm(id),
        ["payment_intents", id, "cancel"] if post => Call::Cancel(id),
        ["refunds"] if post => Call::CreateRefund,
        ["refunds"] if get => Call::ListRefunds,
        ["refunds", id] if get => Call::RetrieveRefund(id),
        ["charges", id] if get => Call::RetrieveCharge(id),
        ["events"] if get => Call::ListEvents,
        ["events", id] if get => Call::RetrieveEvent(id),
        _ => return None,
    })
}

/// Form (or query) parameters, nested keys flat as sent: `metadata[order]`.
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(raw: &[u8]) -> Result<Params, Answer> {
        serde_urlencoded::from_bytes(raw).map(Params).map_err(|e| {
            let message = format!("Invalid form encoding: {e}");
            error(400, "invalid_request_error", None, None, message)
        })
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `name[key]=value` pairs as a map.
    fn map(&self, name: &str) -> BTreeMap<String, String> {
        let prefix = format!("{name}[");
        self.0
            .iter()
            .filter_map(|(k, v)| {
                let key = k.strip_prefix(&prefix)?.strip_suffix(']')?;
                Some((key.to_string(), v.clone()))
            })
            .collect()
    }

    /// `name[0]=a&name[1]=b` (or `name[]=`) values, in order.
    fn list(&self, name: &str) -> Vec<String> {
        let prefix = format!("{name}[");
        self.0
            .iter()
            .filter(|(k, _)| k.starts_with(&prefix))
            .map(|(_, v)| v.clone())
            .collect()
    }

    fn any_under(&self, name: &str) -> bool {
        let prefix = format!("{name}[");
        self.0.iter().any(|(k, _)| k.starts_with(&prefix))
    }

    /// The request as Stripe's idempotency layer compares it: method, path and the parameters
    /// in any order.
    fn fingerprint(&self, request: &Incoming) -> String {
        let mut pairs = self.0.clone();
        pairs.sort();
        let params: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{} {}?{}", request.method, request.path, params.join("&"))
    }

    /// A positive integer amount; `None` when absent and not required.
    fn amount(&self, name: &str, required: bool) -> Result<Option<i64>, Answer> {
        let Some(raw) = self.get(name) else {
            return if required {
                Err(parameter_missing(name))
            } else {
                Ok(None)
            };
        };
        let code = Some("parameter_invalid_integer");
        let Ok(amount) = raw.parse::<i64>() else {
            return Err(invalid(name, code, format!("Invalid integer: {raw}")));
        };
        if amount < 1 {
            let message = "This value must be greater than or equal to 1.".to_string();
            return Err(invalid(name, code, message));
        }
        Ok(Some(amount))
    }

    /// One of `allowed`, if given.
    fn choice(&self, name: &str, allowed: &[&str]) -> Result<Option<String>, Answer> {
        match self.get(name) {
            None => Ok(None),
            Some(value) if allowed.contains(&value) => Ok(Some(value.to_string())),
            Some(value) => Err(invalid(
                name,
                None,
                format!(
                    "Invalid {name}: must be one of {} (got '{value}')",
                    allowed.join(", ")
                ),
            )),
        }
    }
}

fn error(
    status: u16,
    type_: &str,
    code: Option<&str>,
    param: Option<&str>,
    message: String,
) -> Answer {
    let mut error = json!({"type": type_, "message": message});
    if let Some(code) = code {
        error["code"] = code.into();
        error["doc_url"] = format!(
            "https://stripe.com/docs/error-codes/{}",
            code.replace('_', "-")
        )
        .into();
    }
    if let Some(param) = param {
        error["param"] = param.into();
    }
    Answer {
        status,
        body: json!({ "error": error }),
        commit: false,
    }
}

/// 400 `invalid_request_error` about `param`.
fn invalid(param: &str, code: Option<&str>, message: String) -> Answer {
    error(400, "invalid_request_error", code, Some(param), message)
}

fn parameter_missing(param: &str) -> Answer {
    let message = format!("Missing required param: {param}.");
    invalid(param, Some("parameter_missing"), message)
}

/// 404 `resource_missing`: what another key's objects (and unknown ids) answer.
fn no_such(kind: &str, id: &str, param: &str) -> Answer {
    let message = format!("No such {kind}: '{id}'");
    let code = Some("resource_missing");
    error(404, "invalid_request_error", code, Some(param), message)
}

fn unexpected_state(message: String) -> Answer {
    let code = Some("payment_intent_unexpected_state");
    error(400, "invalid_request_error", code, None, message)
}

/// The endpoints, on one account.
struct Cx<'a> {
    account: &'a mut Account,
    hold_events: bool,
}

impl Cx<'_> {
    fn handle(&mut self, call: &Call, params: &Params) -> Answered {
        match *call {
            Call::CreateIntent => self.create_intent(params),
            Call::RetrieveIntent(id) => Ok(self.account.intents[self.intent(id)?].json()),
            Call::Confirm(id) => self.confirm(id, params),
            Call::Cancel(id) => self.cancel(id, params),
            Call::CreateRefund => self.create_refund(params),
            Call::ListRefunds => self.list_refunds(params),
            Call::RetrieveRefund(id) => {
                let refund = self.account.refunds.iter().find(|r| r.id == id);
                refund
                    .map(Refund::json)
                    .ok_or_else(|| no_such("refund", id, "id"))
            }
            Call::RetrieveCharge(id) => {
                let charge = self.account.charges.iter().find(|c| c.id == id);
                charge
                    .map(Charge::json)
                    .ok_or_else(|| no_such("charge", id, "id"))
            }
            Call::ListEvents => {
                let type_ = params.get("type");
                let events = self.account.events.iter().rev();
                let events = events.filter(|e| type_.is_none_or(|t| e.type_ == t));
                list("/v1/events", events.map(Event::json).collect(), params)
            }
            Call::RetrieveEvent(id) => {
                let event = self.account.events.iter().find(|e| e.id == id);
                event
                    .map(Event::json)
                    .ok_or_else(|| no_such("event", id, "id"))
            }
        }
    }

    fn intent(&self, id: &str) -> Result<usize, Answer> {
        let index = self.account.intents.iter().position(|i| i.id == id);
        index.ok_or_else(|| no_such("payment_intent", id, "intent"))
    }

    fn create_intent(&mut self, params: &Params) -> Answered {
        let amount = params.amount("amount", true)?.unwrap_or_default();
        let Some(currency) = params.get("currency") else {
            return Err(parameter_missing("currency"));
        };
        if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(invalid(
                "currency",
                None,
                format!("Invalid currency: {currency}"),
            ));
        }
        if let Some(method) = params.get("capture_method")
            && method != "automatic"
            && method != "automatic_async"
        {
            let message = format!("The Stripe fake supports automatic capture only, not {method}");
            return Err(invalid("capture_method", None, message));
        }
        let mut payment_method_types = params.list("payment_method_types");
        if payment_method_types.is_empty() {
            payment_method_types.push("card".to_string());
        }
        let payment_method = params.get("payment_method").map(str::to_string);
        let id = random_id("pi");
        self.account.intents.push(Intent {
            client_secret: format!("{id}_secret_{}", random_chars(25)),
            id: id.clone(),
            amount,
            currency: currency.to_ascii_lowercase(),
            metadata: params.map("metadata"),
            description: params.get("description").map(str::to_string),
            receipt_email: params.get("receipt_email").map(str::to_string),
            payment_method_types,
            automatic_payment_methods: params.get("automatic_payment_methods[enabled]")
                == Some("true"),
            status: if payment_method.is_some() {
                "requires_confirmation"
            } else {
                "requires_payment_method"
            },
            payment_method,
            created: now(),
            amount_received: 0,
            latest_charge: None,
            last_payment_error: None,
            canceled_at: None,
            cancellation_reason: None,
        });
        if params.get("confirm") == Some("true") {
            return self.confirm(&id, params);
        }
        Ok(self.account.intents.last().unwrap().json())
    }

    fn confirm(&mut self, id: &str, params: &Params) -> Answered {
        let index = self.intent(id)?;
        let intent = &self.account.intents[index];
        let status = intent.status;
        if !matches!(
            status,
            "requires_payment_method" | "requires_confirmation" | "requires_action"
        ) {
            return Err(unexpected_state(format!(
                "You cannot confirm this PaymentIntent because it has a status of {status}. Only \
                 a PaymentIntent with one of the following statuses may be confirmed: \
                 requires_payment_method, requires_confirmation, requires_action."
            )));
        }
        let payment_method = match params.get("payment_method") {
            Some(method) => method.to_string(),
            None if params.any_under("payment_method_data") => "pm_card_visa".to_string(),
            None => match &intent.payment_method {
                Some(method) => method.clone(),
                None => return Err(parameter_missing("payment_method")),
            },
        };
        let decline = decline(&payment_method);
        let charge = Charge {
            id: random_id("ch"),
            payment_intent: intent.id.clone(),
            amount: intent.amount,
            currency: intent.currency.clone(),
            created: now(),
            payment_method: payment_method.clone(),
            metadata: intent.metadata.clone(),
            description: intent.description.clone(),
            failure: decline.map(|(_, message)| ("card_declined", message)),
            amount_refunded: 0,
        };
        let intent = &mut self.account.intents[index];
        intent.latest_charge = Some(charge.id.clone());
        let Some((decline_code, message)) = decline else {
            intent.payment_method = Some(payment_method);
            intent.status = "succeeded";
            intent.amount_received = intent.amount;
            intent.last_payment_error = None;
            let object = intent.json();
            self.account.charges.push(charge);
            self.emit("payment_intent.succeeded", object.clone());
            return Ok(object);
        };
        let mut failure = json!({
            "type": "card_error",
            "code": "card_declined",
            "decline_code": decline_code,
            "message": message,
            "charge": charge.id,
            "doc_url": "https://stripe.com/docs/error-codes/card-declined",
            "payment_method_type": "card",
        });
        intent.payment_method = None;
        intent.status = "requires_payment_method";
        intent.last_payment_error = Some(failure.clone());
        let object = intent.json();
        self.account.charges.push(charge);
        self.emit("payment_intent.payment_failed", object.clone());
        failure["payment_intent"] = object;
        Err(Answer {
            status: 402,
            body: json!({ "error": failure }),
            commit: true,
        })
    }

    fn cancel(&mut self, id: &str, params: &Params) -> Answered {
        let index = self.intent(id)?;
        let reasons = [
            "duplicate",
            "fraudulent",
            "requested_by_customer",
            "abandoned",
        ];
        let reason = params.choice("cancellation_reason", &reasons)?;
        let intent = &mut self.account.intents[index];
        if matches!(intent.status, "succeeded" | "canceled") {
            return Err(unexpected_state(format!(
                "You cannot cancel this PaymentIntent because it has a status of {}. Only a \
                 PaymentIntent with one of the following statuses may be canceled: \
                 requires_payment_method, requires_capture, requires_confirmation, \
                 requires_action, processing.",
                intent.status
            )));
        }
        intent.status = "canceled";
        intent.canceled_at = Some(now());
        intent.cancellation_reason = reason;
        let object = intent.json();
        self.emit("payment_intent.canceled", object.clone());
        Ok(object)
    }

    fn create_refund(&mut self, params: &Params) -> Answered {
        let index = match (params.get("payment_intent"), params.get("charge")) {
            (Some(id), _) => self.account.intents.iter().position(|i| i.id == id),
            (None, Some(id)) => {
                let charge = self.account.charges.iter().find(|c| c.id == id);
                let Some(charge) = charge else {
                    return Err(no_such("charge", id, "charge"));
                };
                self.account
                    .intents
                    .iter()
                    .position(|i| i.id == charge.payment_intent)
            }
            (None, None) => {
                let message = "One of the following params should be provided for this \
                               request: payment_intent or charge."
                    .to_string();
                return Err(error(400, "invalid_request_error", None, None, message));
            }
        };
        let Some(index) = index else {
            let id = params.get("payment_intent").unwrap_or_default();
            return Err(no_such("payment_intent", id, "payment_intent"));
        };
        let intent = &self.account.intents[index];
        let charge = self.account.charges.iter().position(|c| {
            intent.status == "succeeded" && Some(&c.id) == intent.latest_charge.as_ref()
        });
        let Some(charge) = charge else {
            let message = format!(
                "This PaymentIntent ({}) does not have a successful charge to refund.",
                intent.id
            );
            return Err(invalid("payment_intent", None, message));
        };
        let charge = &mut self.account.charges[charge];
        let left = charge.amount - charge.amount_refunded;
        if left == 0 {
            let message = format!("Charge {} has already been refunded.", charge.id);
            return Err(invalid("charge", Some("charge_already_refunded"), message));
        }
        let amount = params.amount("amount", false)?.unwrap_or(left);
        if amount > left {
            let message = format!(
                "Refund amount ({amount}) is greater than unrefunded amount on charge ({left})"
            );
            return Err(invalid("amount", Some("amount_too_large"), message));
        }
        let reasons = ["duplicate", "fraudulent", "requested_by_customer"];
        let reason = params.choice("reason", &reasons)?;
        charge.amount_refunded += amount;
        let refund = Refund {
            id: random_id("re"),
            amount,
            charge: charge.id.clone(),
            payment_intent: charge.payment_intent.clone(),
            currency: charge.currency.clone(),
            created: now(),
            reason,
            metadata: params.map("metadata"),
        };
        let charged = charge.json();
        let object = refund.json();
        self.account.refunds.push(refund);
        self.emit("charge.refunded", charged);
        Ok(object)
    }

    fn list_refunds(&self, params: &Params) -> Answered {
        let intent = params.get("payment_intent");
        let charge = params.get("charge");
        let refunds = self.account.refunds.iter().rev().filter(|r| {
            intent.is_none_or(|id| r.payment_intent == id) && charge.is_none_or(|id| r.charge == id)
        });
        list("/v1/refunds", refunds.map(Refund::json).collect(), params)
    }

    /// Records an event and, unless events are held, queues it for every webhook endpoint.
    fn emit(&mut self, type_: &str, object: Value) {
        let id = random_id("evt");
        let body = json!({
            "id": id,
            "object": "event",
            "api_version": stripe_shared::version::VERSION.as_str(),
            "created": now(),
            "data": { "object": object },
            "livemode": false,
            "pending_webhooks": 1,
            "request": { "id": null, "idempotency_key": null },
            "type": type_,
        });
        let event = Event {
            id,
            type_: type_.to_string(),
            body: body.to_string(),
        };
        if !self.hold_events {
            for endpoint in &self.account.endpoints {
                let _ = endpoint.queue.send(event.clone());
            }
        }
        self.account.events.push(event);
    }
}

/// The decline code and message of a declining test payment method.
fn decline(payment_method: &str) -> Option<(&'static str, &'static str)> {
    let kind = payment_method.strip_prefix("pm_card_chargeDeclined")?;
    Some(match kind {
        "InsufficientFunds" => ("insufficient_funds", "Your card has insufficient funds."),
        _ => ("generic_decline", "Your card was declined."),
    })
}

/// A page of `items` (newest first) as Stripe lists them: `limit` (default 10) and
/// `starting_after`.
fn list(url: &str, items: Vec<Value>, params: &Params) -> Answered {
    let limit = match params.get("limit") {
        None => 10,
        Some(raw) => match raw.parse::<usize>() {
            Ok(limit @ 1..=100) => limit,
            _ => {
                let message = "This value must be between 1 and 100.".to_string();
                return Err(invalid("limit", None, message));
            }
        },
    };
    let start = match params.get("starting_after") {
        None => 0,
        Some(after) => match items.iter().position(|item| item["id"] == after) {
            Some(position) => position + 1,
            None => return Err(no_such("object", after, "starting_after")),
        },
    };
    let rest = &items[start..];
    Ok(json!({
        "object": "list",
        "data": rest.iter().take(limit).collect::<Vec<_>>(),
        "has_more": rest.len() > limit,
        "url": url,
    }))
}

/// Posts events to one endpoint in order, each retried with a doubling backoff until a 2xx.
async fn deliver_in_order(
    state: Weak<Mutex<State>>,
    http: reqwest::Client,
    target: Target,
    mut events: mpsc::UnboundedReceiver<Event>,
) {
    while let Some(event) = events.recv().await {
        let mut backoff = RETRY_BACKOFF;
        for attempt in 0..DELIVERY_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(backoff).await;
                backoff *= 2;
            }
            let status = post(&http, &target, &target.secret, &event, now()).await;
            let Some(state) = state.upgrade() else {
                return;
            };
            let mut state = state.lock().unwrap();
            state
                .attempts
                .entry(event.id.clone())
                .or_default()
                .push(status);
            if (200..300).contains(&status) {
                break;
            }
        }
    }
}

/// One webhook post; its status, or 0 without an answer.
async fn post(
    http: &reqwest::Client,
    target: &Target,
    secret: &str,
    event: &Event,
    timestamp: i64,
) -> u16 {
    let mut request = http
        .post(&target.url)
        .header("Content-Type", "application/json; charset=utf-8")
        .header(
            "User-Agent",
            "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        )
        .header("Stripe-Signature", sign(secret, &event.body, timestamp));
    for (name, value) in &target.headers {
        request = request.header(name, value);
    }
    match request.body(event.body.clone()).send().await {
        Ok(response) => response.status().as_u16(),
        Err(_) => 0,
    }
}

fn now() -> i64 {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    since_epoch.as_secs() as i64
}

fn random_chars(n: usize) -> String {
    let chars = rand::rng().sample_iter(Alphanumeric).take(n);
    chars.map(char::from).collect()
}

fn random_id(prefix: &str) -> String {
    format!("{prefix}_{}", random_chars(24))
}
