//! Signing shops up, waiting for them, logging in, requests as a shop's admin (`ShopAdmin`) or
//! one of its shoppers (`Shopper`), and reading tokens out of mails.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::smtp::{MailServer, ReceivedMail};
use crate::{Backend, TestApp, drain_jobs, spawn_app_with};

/// The password of every shop owner `signup` makes.
pub const PASSWORD: &str = "tangerine-bicycle-42";
/// The public URL of apps from `app_with_mail`; shops live on its subdomains.
pub const PUBLIC_URL: &str = "http://shops.test:8080";

/// An app that sends mail to `mail` and links to `PUBLIC_URL`.
pub async fn app_with_mail(backend: Backend, mail: &MailServer, extra: &[(&str, &str)]) -> TestApp {
    let url = mail.url();
    let mut env = vec![
        ("CARTWHEEL_SMTP_URL", url.as_str()),
        ("CARTWHEEL_PUBLIC_URL", PUBLIC_URL),
        ("CARTWHEEL_WORKER_POLL_MS", "100"),
        ("CARTWHEEL_OPERATOR_TOKEN", "operator-secret"),
    ];
    env.extend_from_slice(extra);
    spawn_app_with(backend, &env).await
}

/// A signup of the shop `domain`, owned by `owner@{domain}.example`.
pub fn signup(domain: &str) -> Value {
    json!({
        "businessName": format!("{domain} Supplies"),
        "ownerEmail": format!("owner@{domain}.example"),
        "ownerPassword": PASSWORD,
        "domain": domain,
    })
}

/// Posts `body` to the signup endpoint.
pub async fn post_signup(app: &TestApp, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/provision"))
        .json(body)
        .send()
        .await
        .unwrap()
}

/// Signs `domain` up and returns its tenant id.
pub async fn provision(app: &TestApp, domain: &str) -> String {
    let response = post_signup(app, &signup(domain)).await;
    assert_eq!(response.status(), 202, "{}", response.text().await.unwrap());
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "PENDING");
    body["tenantId"].as_str().unwrap().to_string()
}

/// The provisioning status of `tenant_id`.
pub async fn status(app: &TestApp, tenant_id: &str) -> Value {
    app.get(&format!("/api/v1/provision/{tenant_id}/status"))
        .await
        .json()
        .await
        .unwrap()
}

/// Polls the status endpoint until it says `want`; returns that status.
pub async fn wait_for_status(app: &TestApp, tenant_id: &str, want: &str) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let last = status(app, tenant_id).await;
        if last["status"] == want {
            return last;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "tenant {tenant_id} not {want} after 30 s: {last}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Provisions `domain`, waits for READY and logs its owner in.
pub async fn ready_shop<'a>(app: &'a TestApp, domain: &str) -> ShopAdmin<'a> {
    let tenant_id = provision(app, domain).await;
    wait_for_status(app, &tenant_id, "READY").await;
    log_in_owner(app, domain, tenant_id).await
}

/// Logs the owner of the ready shop `domain` (tenant `tenant_id`) in.
pub async fn log_in_owner<'a>(app: &'a TestApp, domain: &str, tenant_id: String) -> ShopAdmin<'a> {
    let token = login(app, domain, &format!("owner@{domain}.example"), PASSWORD).await;
    ShopAdmin {
        app,
        shop: domain.to_string(),
        tenant_id,
        token,
    }
}

/// Tries an admin login to the shop `slug`; the raw response.
pub async fn try_login(
    app: &TestApp,
    slug: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/auth/login"))
        .header("X-Tenant", slug)
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap()
}

/// Logs an admin of `slug` in, which must work; the bearer token.
pub async fn login(app: &TestApp, slug: &str, email: &str, password: &str) -> String {
    let response = try_login(app, slug, email, password).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["tokenType"], "Bearer");
    body["token"].as_str().unwrap().to_string()
}

/// A shop's admin, signed in: each request names the shop (`X-Tenant`) and carries the token.
/// Paths are whole (`/api/v1/...`); answers are the status and the JSON body (`Null` if none).
pub struct ShopAdmin<'a> {
    app: &'a TestApp,
    /// The shop's slug, sent as `X-Tenant`.
    pub shop: String,
    /// The shop's tenant id.
    pub tenant_id: String,
    /// The bearer token sent with each request.
    pub token: String,
}

impl<'a> ShopAdmin<'a> {
    /// The same shop with another token: another of its admins, or a token it should refuse.
    pub fn with_token(&self, token: &str) -> ShopAdmin<'a> {
        ShopAdmin {
            app: self.app,
            shop: self.shop.clone(),
            tenant_id: self.tenant_id.clone(),
            token: token.to_string(),
        }
    }

    /// An anonymous shopper of this shop.
    pub fn shopper(&self) -> Shopper<'a> {
        Shopper::new(self.app, &self.shop)
    }

    /// A request to `path` as this admin, for other headers or bodies, or the raw response.
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        assert!(path.starts_with("/api/"), "an admin path is whole: {path}");
        self.app
            .client
            .request(method, self.app.url(path))
            .header("X-Tenant", &self.shop)
            .bearer_auth(&self.token)
    }

    /// GET `path`.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.answer(Method::GET, path, None).await
    }

    /// GET `path`, which must answer 200: its JSON.
    pub async fn get_ok(&self, path: &str) -> Value {
        let (status, body) = self.get(path).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// POST `body` as JSON to `path`.
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.answer(Method::POST, path, Some(body)).await
    }

    /// PUT `body` as JSON to `path`.
    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.answer(Method::PUT, path, Some(body)).await
    }

    /// DELETE `path`.
    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.answer(Method::DELETE, path, None).await
    }

    /// Invites `email` as `role` and accepts the invitation from its mail: the new admin,
    /// signed in, and their user id.
    pub async fn invite_admin(
        &self,
        mail: &MailServer,
        email: &str,
        role: &str,
    ) -> (ShopAdmin<'a>, String) {
        let (status, body) = self
            .post(
                "/api/v1/admin/invitations",
                serde_json::json!({ "email": email, "role": role }),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let mails = mails_after_drain(self.app, mail, email, 1).await;
        let token = token_from(&mails[0], "/admin/accept-invite");
        let joined: Value = self
            .app
            .client
            .post(self.app.url("/api/v1/auth/accept-invite"))
            .header("X-Tenant", &self.shop)
            .json(&serde_json::json!({
                "token": token, "name": role, "password": "lighthouse-pickle-8"
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let admin = self.with_token(joined["token"].as_str().expect("a token"));
        (admin, joined["user"]["id"].as_str().unwrap().to_string())
    }

    async fn answer(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self.request(method, path);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

/// A shopper of a shop, anonymous or signed in as a customer. Paths follow `/api/v1/store/`;
/// answers are the raw responses, for `assert_problem` and headers.
pub struct Shopper<'a> {
    app: &'a TestApp,
    shop: String,
    token: Option<String>,
}

impl<'a> Shopper<'a> {
    /// An anonymous shopper of `shop`.
    pub fn new(app: &'a TestApp, shop: &str) -> Self {
        Shopper {
            app,
            shop: shop.to_string(),
            token: None,
        }
    }

    /// The same shop's shopper signed in with the customer token `token`.
    pub fn signed_in(&self, token: &str) -> Shopper<'a> {
        Shopper {
            app: self.app,
            shop: self.shop.clone(),
            token: Some(token.to_string()),
        }
    }

    /// A request to `/api/v1/store/{path}` as this shopper, for other headers or bodies.
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        assert!(
            !path.starts_with('/'),
            "a store path follows /api/v1/store/: {path}"
        );
        let request = self
            .app
            .client
            .request(method, self.app.url(&format!("/api/v1/store/{path}")))
            .header("X-Tenant", &self.shop);
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// Sends `body`, if any, as JSON to `path`.
    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> reqwest::Response {
        let mut request = self.request(method, path);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    /// GET `path`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.send(Method::GET, path, None).await
    }

    /// POST `body` as JSON to `path`.
    pub async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.send(Method::POST, path, Some(body)).await
    }

    /// PUT `body` as JSON to `path`.
    pub async fn put(&self, path: &str, body: Value) -> reqwest::Response {
        self.send(Method::PUT, path, Some(body)).await
    }

    /// DELETE `path`.
    pub async fn delete(&self, path: &str) -> reqwest::Response {
        self.send(Method::DELETE, path, None).await
    }
}

/// Mails to `address` received so far.
pub fn mails_to(server: &MailServer, address: &str) -> Vec<ReceivedMail> {
    server
        .messages()
        .into_iter()
        .filter(|m| m.to.iter().any(|to| to == address))
        .collect()
}

/// Runs every job to the end, retries included (`drain_jobs`), then returns the mails to
/// `address`: exactly `count` of them, or the test fails. Counted after the drain, "sent once"
/// holds against every retry that could still have come.
pub async fn mails_after_drain(
    app: &TestApp,
    server: &MailServer,
    address: &str,
    count: usize,
) -> Vec<ReceivedMail> {
    drain_jobs(&app.db).await;
    let mails = mails_to(server, address);
    let subjects: Vec<&str> = mails.iter().map(|m| m.subject.as_str()).collect();
    assert_eq!(mails.len(), count, "mails to {address}: {subjects:?}");
    mails
}

/// The `token` query parameter of the first link in the mail's text that contains `path`.
pub fn token_from(mail: &ReceivedMail, path: &str) -> String {
    let line = mail
        .text
        .lines()
        .find(|l| l.contains(path))
        .unwrap_or_else(|| panic!("no {path} link in: {}", mail.text));
    let (_, token) = line.trim().split_once("token=").expect("a token parameter");
    token.to_string()
}
