//! Admin accounts end to end: login, me, resets and invitations by real mail, roles, tokens.

use std::time::Duration;

use cartwheel_api::auth::jwt::Jwt;
use reqwest::Method;
use serde_json::{Value, json};

use cartwheel_jobs::store::monitor::JobState;
use cartwheel_testkit::shops::*;
use cartwheel_testkit::smtp::MailServer;
use cartwheel_testkit::{Backend, JWT_SECRET, assert_problem, drain_jobs, eventually, scalar};

#[tokio::test]
async fn the_owner_logs_in_and_wrong_credentials_all_look_alike() {
    let mail = MailServer::start().await;
    let app = app_with_mail(Backend::Postgres, &mail, &[]).await;
    let owner = ready_shop(&app, "login-shop").await;

    let me: Value = owner.get_ok("/api/v1/auth/me").await;
    assert_eq!(me["user"]["email"], "owner@login-shop.example");
    assert_eq!(me["user"]["role"], "Owner");
    assert_eq!(me["tenantId"], owner.tenant_id.as_str());
    assert!(
        me["user"]["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("users:manage"))
    );
    assert!(!me["user"]["lastLoginAt"].is_null());

    let wrong_password = try_login(
        &app,
        "login-shop",
        "owner@login-shop.example",
        "not-the-password",
    )
    .await;
    let wrong_password = assert_problem(wrong_password, 401).await;
    let unknown_email = try_login(&app, "login-shop", "nobody@login-shop.example", PASSWORD).await;
    let unknown_email = assert_problem(unknown_email, 401).await;
    assert_eq!(wrong_password["detail"], unknown_email["detail"]);
    // The owner of one shop is nobody in another.
    assert_problem(
        try_login(&app, "demo", "owner@login-shop.example", PASSWORD).await,
        401,
    )
    .await;
    // Logging in names the shop.
    let no_tenant = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": "owner@login-shop.example", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_problem(no_tenant, 404).await;
    // No token at all.
    let anonymous = app
        .client
        .get(app.url("/api/v1/auth/me"))
        .header("X-Tenant", "login-shop")
        .send()
        .await
        .unwrap();
    assert_problem(anonymous, 401).await;
}

#[tokio::test]
async fn tokens_of_another_shop_another_audience_or_past_expiry_are_refused() {
    let mail = MailServer::start().await;
    let app = app_with_mail(Backend::Postgres, &mail, &[]).await;
    let a = ready_shop(&app, "shop-a").await;
    let b = ready_shop(&app, "shop-b").await;

    for (shop, token) in [(&b, &a.token), (&a, &b.token)] {
        let response = shop
            .with_token(token)
            .request(Method::GET, "/api/v1/admin/settings")
            .send()
            .await
            .unwrap();
        assert_problem(response, 401).await;
    }
    let owner_id: String = {
        let me: Value = a.get_ok("/api/v1/auth/me").await;
        me["user"]["id"].as_str().unwrap().to_string()
    };
    let jwt = Jwt::new(JWT_SECRET.as_bytes(), Duration::from_secs(3600));
    let (user, tenant) = (owner_id.parse().unwrap(), a.tenant_id.parse().unwrap());
    let (storefront, _) = jwt.issue(
        user,
        tenant,
        0,
        "Owner",
        "storefront",
        Duration::from_secs(3600),
    );
    let response = a
        .with_token(&storefront)
        .request(Method::GET, "/api/v1/auth/me")
        .send()
        .await
        .unwrap();
    assert_problem(response, 401).await;
    let (expired, _) = jwt.issue(user, tenant, 0, "Owner", "admin", Duration::ZERO);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let response = a
        .with_token(&expired)
        .request(Method::GET, "/api/v1/auth/me")
        .send()
        .await
        .unwrap();
    assert_problem(response, 401).await;
    let forged = Jwt::new(
        b"some-other-secret-0123456789abcdef",
        Duration::from_secs(60),
    );
    let (forged, _) = forged.issue(user, tenant, 0, "Owner", "admin", Duration::from_secs(60));
    let response = a
        .with_token(&forged)
        .request(Method::GET, "/api/v1/auth/me")
        .send()
        .await
        .unwrap();
    assert_problem(response, 401).await;
    // A well-made token for the right shop still works.
    let (fresh, _) = jwt.issue(user, tenant, 0, "Owner", "admin", Duration::from_secs(60));
    let response = a
        .with_token(&fresh)
        .request(Method::GET, "/api/v1/auth/me")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    // Job monitoring: an admin sees their own shop's jobs only; the workers are the operator's.
    let jobs: Value = a.get_ok("/api/v1/admin/jobs?limit=100").await;
    let items = jobs["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(
        items.iter().all(|j| j["tenantId"] == a.tenant_id.as_str()),
        "{jobs}"
    );
    let b_job: Value = b.get_ok("/api/v1/admin/jobs?limit=1").await;
    let b_job_id = b_job["items"][0]["id"].as_str().unwrap();
    let response = a
        .request(Method::GET, &format!("/api/v1/admin/jobs/{b_job_id}"))
        .send()
        .await
        .unwrap();
    assert_problem(response, 404).await;
    let response = a
        .request(Method::GET, "/api/v1/admin/workers")
        .send()
        .await
        .unwrap();
    assert_problem(response, 403).await;
    let operator = app
        .client
        .get(app.url("/api/v1/admin/jobs?limit=100"))
        .bearer_auth("operator-secret")
        .send()
        .await
        .unwrap();
    let all: Value = operator.json().await.unwrap();
    let tenants: std::collections::HashSet<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|j| j["tenantId"].as_str())
        .collect();
    assert!(
        tenants.len() >= 3,
        "the operator sees every shop: {tenants:?}"
    );
}

cartwheel_testkit::on_each_backend!(a_password_reset_works_once_within_the_hour);

async fn a_password_reset_works_once_within_the_hour(backend: Backend) {
    let mail = MailServer::start().await;
    let app = app_with_mail(backend, &mail, &[]).await;
    let shop = ready_shop(&app, "reset-shop").await;
    let owner = "owner@reset-shop.example";
    let forgot = |email: &'static str| {
        let request = app
            .client
            .post(app.url("/api/v1/auth/forgot-password"))
            .header("X-Tenant", "reset-shop")
            .json(&json!({ "email": email }));
        async move { request.send().await.unwrap().status() }
    };
    assert_eq!(forgot("owner@reset-shop.example").await, 202);
    assert_eq!(
        forgot("stranger@reset-shop.example").await,
        202,
        "no account enumeration"
    );

    // The store-ready mail and the reset mail may arrive in either order.
    let mails = mails_after_drain(&app, &mail, owner, 2).await;
    let resets: Vec<_> = mails
        .iter()
        .filter(|m| m.subject.starts_with("Reset"))
        .collect();
    assert_eq!(resets.len(), 1);
    let reset_mail = resets[0];
    assert_eq!(
        reset_mail.subject,
        "Reset your reset-shop Supplies admin password"
    );
    assert!(
        reset_mail
            .html
            .contains("http://reset-shop.shops.test:8080/admin/reset-password?token=")
    );
    let token = token_from(reset_mail, "/admin/reset-password");
    assert_eq!(token.len(), 64);
    assert_eq!(
        scalar(
            &app.db,
            &format!("SELECT COUNT(*) FROM reset_tokens WHERE token_hash = '{token}'")
        )
        .await,
        0,
        "only the token's hash is stored"
    );

    let reset = |token: String, password: &'static str| {
        let request = app
            .client
            .post(app.url("/api/v1/auth/reset-password"))
            .header("X-Tenant", "reset-shop")
            .json(&json!({ "token": token, "password": password }));
        async move { request.send().await.unwrap() }
    };
    // A session from before, and a second reset link asked for meanwhile.
    let before = shop.with_token(&login(&app, "reset-shop", owner, PASSWORD).await);
    assert_eq!(forgot("owner@reset-shop.example").await, 202);
    let mails = mails_after_drain(&app, &mail, owner, 3).await;
    let other = mails
        .iter()
        .filter(|m| m.subject.starts_with("Reset"))
        .map(|m| token_from(m, "/admin/reset-password"))
        .find(|t| *t != token)
        .unwrap();
    let weak = reset(token.clone(), "1234567890").await;
    let weak = assert_problem(weak, 422).await;
    assert_eq!(weak["errors"][0]["field"], "password");
    assert_eq!(
        reset(token.clone(), "marmalade-harbour-77").await.status(),
        204
    );
    // The reset ends the sessions issued before it and the account's other links.
    let me = before
        .request(Method::GET, "/api/v1/auth/me")
        .send()
        .await
        .unwrap();
    assert_problem(me, 401).await;
    assert_problem(reset(other.clone(), "another-password-99").await, 400).await;
    // Sent mails keep no token in their row (the mail had it; the row keeps hashes only).
    for secret in [&token, &other] {
        eventually(
            Duration::from_secs(10),
            "the sent mail's row forgets its token",
            || async {
                scalar(
                    &app.db,
                    &format!(
                        "SELECT COUNT(*) FROM emails WHERE CAST(context AS TEXT) LIKE '%{secret}%'"
                    ),
                )
                .await
                    == 0
            },
        )
        .await;
    }
    login(&app, "reset-shop", owner, "marmalade-harbour-77").await;
    assert_problem(try_login(&app, "reset-shop", owner, PASSWORD).await, 401).await;
    let reused = assert_problem(reset(token.clone(), "another-password-99").await, 400).await;
    assert_eq!(reused["errors"][0]["field"], "token");

    // An expired token is refused too.
    assert_eq!(forgot("owner@reset-shop.example").await, 202);
    let mails = mails_after_drain(&app, &mail, owner, 4).await;
    let late: Vec<String> = mails
        .iter()
        .filter(|m| m.subject.starts_with("Reset"))
        .map(|m| token_from(m, "/admin/reset-password"))
        .filter(|t| *t != token && *t != other)
        .collect();
    assert_eq!(late.len(), 1);
    let late = late[0].clone();
    use cartwheel_entity::reset_tokens;
    use sea_orm::{EntityTrait, sea_query::Expr};
    reset_tokens::Entity::update_many()
        .col_expr(
            reset_tokens::Column::ExpiresAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::minutes(1)),
        )
        .exec(&app.db)
        .await
        .unwrap();
    assert_problem(reset(late, "another-password-99").await, 400).await;
    // Nobody else got a mail.
    assert!(mails_to(&mail, "stranger@reset-shop.example").is_empty());
}

#[tokio::test]
async fn an_invited_admin_joins_and_roles_are_enforced() {
    let mail = MailServer::start().await;
    let app = app_with_mail(Backend::Postgres, &mail, &[]).await;
    let owner = ready_shop(&app, "team-shop").await;
    let slug = "team-shop";
    let invite = |by: &ShopAdmin<'_>, email: &str, role: &str| {
        by.request(Method::POST, "/api/v1/admin/invitations")
            .json(&json!({ "email": email, "role": role }))
            .send()
    };

    let bad_role = assert_problem(
        invite(&owner, "sam@example.com", "Boss").await.unwrap(),
        422,
    )
    .await;
    assert_eq!(bad_role["errors"][0]["field"], "role");
    let taken = assert_problem(
        invite(&owner, "owner@team-shop.example", "Staff")
            .await
            .unwrap(),
        409,
    )
    .await;
    assert!(taken["detail"].as_str().unwrap().contains("already"));
    let created = invite(&owner, "Sam@Example.com", "Staff").await.unwrap();
    assert_eq!(created.status(), 201);

    let mails = mails_after_drain(&app, &mail, "sam@example.com", 1).await;
    let invitation = &mails[0];
    assert_eq!(
        invitation.subject,
        "owner invited you to team-shop Supplies"
    );
    assert!(invitation.text.contains("as Staff"));
    let token = token_from(invitation, "/admin/accept-invite");
    assert!(invitation.html.contains(&format!(
        "http://team-shop.shops.test:8080/admin/accept-invite?token={token}"
    )));

    let accept = |token: String| {
        app.client
            .post(app.url("/api/v1/auth/accept-invite"))
            .header("X-Tenant", slug)
            .json(
                &json!({ "token": token, "name": "Sam Staff", "password": "lighthouse-pickle-8" }),
            )
            .send()
    };
    let joined = accept(token.clone()).await.unwrap();
    assert_eq!(joined.status(), 201);
    let joined: Value = joined.json().await.unwrap();
    assert_eq!(joined["user"]["role"], "Staff");
    assert_eq!(joined["user"]["name"], "Sam Staff");
    let staff = owner.with_token(joined["token"].as_str().unwrap());
    assert_problem(accept(token).await.unwrap(), 400).await;
    // The invitation is for this shop only.
    let sam_id = joined["user"]["id"].as_str().unwrap().to_string();

    // Staff may read settings but not manage users or see other admins' jobs controls.
    let settings = staff
        .request(Method::GET, "/api/v1/admin/settings")
        .send()
        .await
        .unwrap();
    assert_eq!(settings.status(), 200);
    assert_problem(
        invite(&staff, "eve@example.com", "Admin").await.unwrap(),
        403,
    )
    .await;

    // Role changes: an Admin cannot make Owners; the last Owner stays one.
    let set_role = |by: &ShopAdmin<'_>, id: &str, role: &str| {
        by.request(Method::PUT, &format!("/api/v1/admin/users/{id}/role"))
            .json(&json!({ "role": role }))
            .send()
    };
    let promoted = set_role(&owner, &sam_id, "Admin").await.unwrap();
    assert_eq!(promoted.status(), 200);
    let promoted: Value = promoted.json().await.unwrap();
    assert_eq!(promoted["role"], "Admin");
    // The same token now carries the new role's rights: roles are read per request.
    assert_eq!(
        invite(&staff, "vic@example.com", "Viewer")
            .await
            .unwrap()
            .status(),
        201
    );
    assert_problem(
        invite(&staff, "olga@example.com", "Owner").await.unwrap(),
        403,
    )
    .await;
    assert_problem(set_role(&staff, &sam_id, "Owner").await.unwrap(), 403).await;

    let users: Value = owner.get_ok("/api/v1/admin/users").await;
    assert_eq!(users["total"], 2);
    let owner_id = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["role"] == "Owner")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let last_owner = assert_problem(set_role(&owner, &owner_id, "Admin").await.unwrap(), 409).await;
    assert!(
        last_owner["detail"]
            .as_str()
            .unwrap()
            .contains("last active Owner")
    );
    let deactivate = |by: &ShopAdmin<'_>, id: &str| {
        by.request(
            Method::POST,
            &format!("/api/v1/admin/users/{id}/deactivate"),
        )
        .send()
    };
    assert_problem(deactivate(&owner, &owner_id).await.unwrap(), 409).await;
    assert_problem(deactivate(&staff, &owner_id).await.unwrap(), 403).await;

    // Deactivating Sam stops Sam's token at once and refuses Sam's login.
    assert_eq!(deactivate(&owner, &sam_id).await.unwrap().status(), 200);
    let me = staff
        .request(Method::GET, "/api/v1/auth/me")
        .send()
        .await
        .unwrap();
    assert_problem(me, 401).await;
    assert_problem(
        try_login(&app, slug, "sam@example.com", "lighthouse-pickle-8").await,
        401,
    )
    .await;
    // A user of another shop is a 404 here.
    let other = ready_shop(&app, "other-team").await;
    let other_users: Value = other.get_ok("/api/v1/admin/users").await;
    let other_owner = other_users["items"][0]["id"].as_str().unwrap().to_string();
    assert_problem(deactivate(&owner, &other_owner).await.unwrap(), 404).await;
    // One invitation mail each, never two.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(mails_to(&mail, "sam@example.com").len(), 1);
    assert_eq!(mails_to(&mail, "vic@example.com").len(), 1);
}

#[tokio::test]
async fn a_mail_that_cannot_be_sent_is_retried_with_backoff_and_sent_once() {
    use cartwheel_testkit::smtp::free_port;
    use cartwheel_testkit::{spawn_app_with, wait_until_ready};
    // The SMTP server is down at first: the port is closed.
    let port = free_port();
    let url = format!("smtp://127.0.0.1:{port}");
    let app = spawn_app_with(
        Backend::Postgres,
        &[
            ("CARTWHEEL_SMTP_URL", url.as_str()),
            ("CARTWHEEL_WORKER_POLL_MS", "100"),
        ],
    )
    .await;
    wait_until_ready(&app, "demo").await;
    cartwheel_testkit::eventually(
        Duration::from_secs(20),
        "the store-ready mail waiting to retry",
        || async {
            let mails = cartwheel_testkit::jobs(&app.db, Some("email.send")).await;
            let now = chrono::Utc::now();
            mails.len() == 1
                && mails[0].state == JobState::Retrying
                && mails[0].attempts == 1
                && mails[0].run_at > now
        },
    )
    .await;
    assert_eq!(
        scalar(
            &app.db,
            "SELECT COUNT(*) FROM emails WHERE sent_at IS NOT NULL"
        )
        .await,
        0
    );
    let mail = MailServer::start_on(port).await;
    // The drain runs the retry at once (it would come 5–10 s after the failure) and every
    // other that could follow.
    drain_jobs(&app.db).await;
    let mails = mail.messages();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].subject, "Your store Demo Shop is ready");
    assert_eq!(
        scalar(
            &app.db,
            "SELECT COUNT(*) FROM emails WHERE sent_at IS NOT NULL"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn failed_logins_are_limited_per_account_whatever_the_address() {
    let mail = MailServer::start().await;
    let app = app_with_mail(Backend::Sqlite, &mail, &[]).await;
    ready_shop(&app, "guarded").await;
    let owner = "owner@guarded.example";
    for _ in 0..10 {
        assert_problem(
            try_login(&app, "guarded", owner, "not-the-password-1").await,
            401,
        )
        .await;
    }
    // The account's budget is spent: even the right password waits, and says how long.
    let response = try_login(&app, "guarded", owner, PASSWORD).await;
    let wait: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait > 0 && wait <= 15 * 60, "{wait}");
    assert_problem(response, 429).await;
    // An address with no account is limited the same way, so a 429 tells nothing.
    let ghost = "ghost@guarded.example";
    for _ in 0..10 {
        assert_problem(
            try_login(&app, "guarded", ghost, "not-the-password-1").await,
            401,
        )
        .await;
    }
    assert_problem(try_login(&app, "guarded", ghost, PASSWORD).await, 429).await;
    // Reset requests have their own budget: 5 an hour per address.
    for attempt in 0..6 {
        let status = app
            .client
            .post(app.url("/api/v1/auth/forgot-password"))
            .header("X-Tenant", "guarded")
            .json(&json!({ "email": owner }))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(
            status,
            if attempt < 5 { 202 } else { 429 },
            "request {attempt}"
        );
    }
}
