//! One mail per email row: a claim keeps every other send of the row out while one may be in
//! flight, and a re-send to the outbox replaces its file instead of adding one.

use std::path::Path;
use std::time::Duration;

use cartwheel_domain::emails::{self, Claim, NewEmail, Template};
use cartwheel_entity::TenantId;
use cartwheel_entity::emails as email_rows;
use cartwheel_jobs::NewJob;
use cartwheel_jobs::families::email::SendEmail;
use cartwheel_testkit::shops::{app_with_mail, mails_after_drain};
use cartwheel_testkit::smtp::MailServer;
use cartwheel_testkit::{
    Backend, TestApp, drain_jobs, on_each_backend, scalar_uuid, spawn_app_with, wait_until_ready,
};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};
use uuid::Uuid;

on_each_backend!(
    a_held_claim_is_waited_out_and_the_mail_goes_once,
    three_jobs_for_one_email_send_it_once,
    an_outbox_resend_replaces_its_file,
);

/// The demo shop every test app signs up, once it is ready.
async fn demo_shop(app: &TestApp) -> TenantId {
    wait_until_ready(app, "demo").await;
    TenantId(scalar_uuid(&app.db, "SELECT id FROM tenants WHERE slug = 'demo'").await)
}

fn account_exists(tenant: TenantId, to: &str) -> NewEmail {
    NewEmail {
        tenant_id: Some(tenant),
        to: to.into(),
        template: Template::CustomerAccountExists,
        context: serde_json::json!({ "name": "Ada" }),
    }
}

async fn row(app: &TestApp, id: Uuid) -> email_rows::Model {
    email_rows::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .expect("the email row")
}

async fn a_held_claim_is_waited_out_and_the_mail_goes_once(backend: Backend) {
    let mail = MailServer::start().await;
    let app = app_with_mail(backend, &mail, &[("CARTWHEEL_SMTP_TIMEOUT_SECS", "1")]).await;
    let shop = demo_shop(&app).await;
    let to = "held@mail.example";
    let txn = app.db.begin().await.unwrap();
    let id = emails::queue(&txn, account_exists(shop, to)).await.unwrap();
    // As if another worker were in the middle of sending it when the job runs.
    let Claim::Claimed(held) = emails::claim(&txn, id, "another-worker", Duration::from_secs(2))
        .await
        .unwrap()
    else {
        panic!("a fresh row is free to claim");
    };
    txn.commit().await.unwrap();

    let mails = mails_after_drain(&app, &mail, to, 1).await;
    let sent = row(&app, id).await;
    assert_eq!(mails[0].header("Message-ID"), Some(sent.message_id.clone()));
    assert!(
        sent.sent_at.unwrap() >= held.claimed_until.unwrap(),
        "the worker waited for the other claim to end: sent {:?}, claim ended {:?}",
        sent.sent_at,
        held.claimed_until
    );
    let by = sent.claimed_by.unwrap();
    assert_ne!(by, "another-worker", "this app's worker sent it");
    assert!(sent.claimed_until.is_none(), "the claim ends with the send");
}

async fn three_jobs_for_one_email_send_it_once(backend: Backend) {
    let mail = MailServer::start().await;
    let app = app_with_mail(backend, &mail, &[]).await;
    let shop = demo_shop(&app).await;
    let to = "thrice@mail.example";
    let txn = app.db.begin().await.unwrap();
    let id = emails::queue(&txn, account_exists(shop, to)).await.unwrap();
    for _ in 0..2 {
        cartwheel_jobs::enqueue(&txn, NewJob::new(SendEmail { email_id: id }))
            .await
            .unwrap();
    }
    txn.commit().await.unwrap();
    mails_after_drain(&app, &mail, to, 1).await;
}

/// `.eml` files in `dir`, by name.
fn eml_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".eml"))
        .collect();
    names.sort();
    names
}

async fn an_outbox_resend_replaces_its_file(backend: Backend) {
    let outbox = std::env::temp_dir().join(format!("cw_outbox_{}", Uuid::new_v4().simple()));
    let outbox_dir = outbox.display().to_string();
    let app = spawn_app_with(backend, &[("CARTWHEEL_OUTBOX_DIR", outbox_dir.as_str())]).await;
    let shop = demo_shop(&app).await;
    let id = emails::queue(&app.db, account_exists(shop, "twice@mail.example"))
        .await
        .unwrap();
    drain_jobs(&app.db).await;
    let file = format!("{id}.eml");
    let before = eml_files(&outbox);
    assert!(before.contains(&file), "{file} in {before:?}");
    let first_sent = row(&app, id).await.sent_at.expect("sent");

    // A worker killed after writing the file and before marking the row: the job runs again.
    email_rows::Entity::update_many()
        .col_expr(
            email_rows::Column::SentAt,
            Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .filter(email_rows::Column::Id.eq(id))
        .exec(&app.db)
        .await
        .unwrap();
    cartwheel_jobs::enqueue(&app.db, NewJob::new(SendEmail { email_id: id }))
        .await
        .unwrap();
    drain_jobs(&app.db).await;

    let again = row(&app, id).await;
    assert!(again.sent_at.expect("sent again") > first_sent);
    assert_eq!(eml_files(&outbox), before, "the re-send replaced its file");
    let text = std::fs::read_to_string(outbox.join(&file)).unwrap();
    assert!(
        text.contains(&format!("Message-ID: {}", again.message_id)),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(outbox);
}
