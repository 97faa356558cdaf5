//! Backups through a real S3-compatible server (moto) and real Postgres and SQLite: a shop's
//! backup restores into a fresh database with the same rows, a corrupt object is refused,
//! retention keeps exactly its set, three schedulers make one backup per tick, and a storage
//! that stays down ends with one mail to the operator, and a run whose worker died is taken
//! over.

mod failures;
mod restore;
mod retention;
mod runs;
mod schedule;

use std::process::Output;
use std::time::Duration;

use cartwheel_jobs::NewJob;
use cartwheel_jobs::families::backup::RunBackup;
use cartwheel_testkit::s3::S3Server;
use cartwheel_testkit::shops::{ShopAdmin, app_with_mail, ready_shop};
use cartwheel_testkit::smtp::MailServer;
use cartwheel_testkit::{Backend, TestApp, drain_jobs, eventually, scalar};

use crate::catalog::ok;
use crate::orders::{cart_with, confirm, parcel_to, ready_checkout, stocked};

pub const OPERATOR: &str = "ops@platform.example";

/// An app whose backups go to `s3` under `prefix`, failures mailed to [`OPERATOR`] via `mail`.
pub async fn backup_app(
    backend: Backend,
    mail: &MailServer,
    s3: &S3Server,
    prefix: &str,
    extra: &[(&str, &str)],
) -> TestApp {
    let settings = s3.settings(prefix);
    let mut env: Vec<(&str, &str)> = settings
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    env.push(("CARTWHEEL_OPERATOR_EMAIL", OPERATOR));
    env.extend_from_slice(extra);
    app_with_mail(backend, mail, &env).await
}

/// A shop with a catalog, an open cart and two placed orders; every job they queued has run.
pub async fn busy_shop<'a>(app: &'a TestApp) -> ShopAdmin<'a> {
    let owner = ready_shop(app, "backed-up").await;
    let shopper = owner.shopper();
    let mug = stocked(&owner, "MUG", 1200, 20).await;
    let pen = stocked(&owner, "PEN", 250, 100).await;
    let parcel = parcel_to(&owner, &["US"], 495).await;
    for email in ["ann@shopper.example", "bob@shopper.example"] {
        let checkout =
            ready_checkout(&shopper, &[(&mug, 1), (&pen, 3)], email, Some(&parcel)).await;
        ok(confirm(&shopper, &checkout).await).await;
    }
    cart_with(&shopper, &[(&pen, 2)]).await;
    // The demo shop's goods arrive from a task of their own: all there (ours 1 method, the
    // demo's 2) before anything is backed up and compared.
    eventually(
        Duration::from_secs(30),
        "the demo shop's shipping",
        || async { scalar(&app.db, "SELECT count(*) FROM shipping_methods").await >= 3 },
    )
    .await;
    drain_jobs(&app.db).await;
    owner
}

/// Runs one backup the way the cron entry does: a `backup.run` job, drained.
pub async fn run_backup_job(app: &TestApp) {
    cartwheel_jobs::enqueue(&app.db, NewJob::new(RunBackup {}))
        .await
        .unwrap();
    drain_jobs(&app.db).await;
}

/// `cartwheel <args>` with the app's database and the backup settings of `s3`/`prefix`, run to
/// its end.
pub fn cartwheel_cli(app: &TestApp, s3: &S3Server, prefix: &str, args: &[&str]) -> Output {
    std::process::Command::new(cartwheel_testkit::process::binary())
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn")
        .env("DATABASE_URL", app.database_url())
        .envs(s3.settings(prefix))
        .output()
        .expect("run cartwheel")
}

/// The backup keys (without manifests) in the bucket.
pub async fn backup_keys(s3: &S3Server) -> Vec<String> {
    s3.keys()
        .await
        .into_iter()
        .filter(|k| !k.ends_with(".manifest.json"))
        .collect()
}

pub async fn manifest(s3: &S3Server, key: &str) -> serde_json::Value {
    serde_json::from_slice(&s3.get(&format!("{key}.manifest.json")).await).unwrap()
}
