//! A backup made by the job restores, through the CLI, into a fresh database with the same rows
//! in every table and the same data in the shop's tables; one byte changed in the object and
//! the restore is refused.

use cartwheel_entity::backup_runs::Status;
use cartwheel_entity::{carts, items, ledger_entries, order_lines, orders};
use cartwheel_testkit::s3::S3Server;
use cartwheel_testkit::smtp::MailServer;
use cartwheel_testkit::{Backend, TestDatabase};
use sea_orm::{Database, DatabaseConnection, EntityTrait, QueryOrder};

use super::{backup_app, backup_keys, busy_shop, cartwheel_cli, manifest, run_backup_job};

cartwheel_testkit::on_each_backend!(a_backup_restores_into_a_fresh_database);

async fn a_backup_restores_into_a_fresh_database(backend: Backend) {
    let (mail, s3) = (MailServer::start().await, S3Server::start().await);
    let app = backup_app(backend, &mail, &s3, "nightly", &[]).await;
    busy_shop(&app).await;
    run_backup_job(&app).await;

    let keys = backup_keys(&s3).await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    let key = &keys[0];
    assert!(key.starts_with("nightly/cartwheel-"), "{key}");
    let manifest = manifest(&s3, key).await;
    assert!(manifest["verifiedAt"].is_string(), "{manifest}");
    assert_eq!(manifest["size"], s3.get(key).await.len());
    let run = cartwheel_domain::backups::last_verified(&app.db)
        .await
        .unwrap()
        .expect("a verified run");
    assert_eq!(
        (run.key.as_str(), run.status),
        (key.as_str(), Status::Verified)
    );
    // The operator's metrics show it (the gauges are the process's, shared by the tests' apps:
    // the value is some test's last verified backup, the names are there).
    let metrics = app.get("/metrics").await.text().await.unwrap();
    for gauge in [
        "cartwheel_backup_last_verified_timestamp_seconds ",
        "cartwheel_backup_last_verified_size_bytes ",
    ] {
        assert!(metrics.contains(gauge), "{gauge} missing from {metrics}");
    }

    let (_target, url) = TestDatabase::create(backend).await;
    let restored = cartwheel_cli(
        &app,
        &s3,
        "nightly",
        &["backup", "restore", key, "--into", &url],
    );
    assert!(
        restored.status.success(),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    let target = Database::connect(&url).await.unwrap();

    // Every table has the rows the manifest counted; the shop's tables hold the same data.
    let counts = cartwheel_backup::row_counts(&target).await.unwrap();
    let expected: std::collections::BTreeMap<String, i64> =
        serde_json::from_value(manifest["tables"].clone()).unwrap();
    assert_eq!(counts, expected);
    let orders_table = if backend == Backend::Postgres {
        "public.orders"
    } else {
        "orders"
    };
    assert_eq!(counts[orders_table], 2);
    same_rows::<items::Entity>(&app.db, &target, &[items::Column::Id]).await;
    same_rows::<orders::Entity>(&app.db, &target, &[orders::Column::Id]).await;
    let lines = [order_lines::Column::OrderId, order_lines::Column::Position];
    same_rows::<order_lines::Entity>(&app.db, &target, &lines).await;
    same_rows::<ledger_entries::Entity>(&app.db, &target, &[ledger_entries::Column::Id]).await;
    same_rows::<carts::Entity>(&app.db, &target, &[carts::Column::Id]).await;

    // In the copy, the run that made the backup is done (it was in flight in its snapshot).
    let copied = cartwheel_domain::backups::last_verified(&target)
        .await
        .unwrap();
    assert_eq!(copied.map(|r| r.key), Some(key.clone()));

    // A second restore into the now full database is refused without --force.
    let again = cartwheel_cli(
        &app,
        &s3,
        "nightly",
        &["backup", "restore", key, "--into", &url],
    );
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    // With --force it replaces what is there: the same rows again, not twice as many.
    let forced = cartwheel_cli(
        &app,
        &s3,
        "nightly",
        &["backup", "restore", key, "--into", &url, "--force"],
    );
    assert!(
        forced.status.success(),
        "{}",
        String::from_utf8_lossy(&forced.stderr)
    );
    assert_eq!(
        cartwheel_backup::row_counts(&target).await.unwrap(),
        expected
    );
    target.close().await.unwrap();
}

/// The rows of `E` in both databases, in the order of `order`, are equal (and there are some).
async fn same_rows<E>(source: &DatabaseConnection, target: &DatabaseConnection, order: &[E::Column])
where
    E: EntityTrait,
    E::Model: PartialEq + std::fmt::Debug,
{
    async fn read<E: EntityTrait>(db: &DatabaseConnection, order: &[E::Column]) -> Vec<E::Model> {
        let mut query = E::find();
        for column in order {
            query = query.order_by_asc(*column);
        }
        query.all(db).await.unwrap()
    }
    let (a, b) = (
        read::<E>(source, order).await,
        read::<E>(target, order).await,
    );
    assert!(!a.is_empty());
    assert_eq!(a, b);
}

#[tokio::test]
async fn a_corrupt_backup_is_refused_and_loses_its_verified_mark() {
    let (mail, s3) = (MailServer::start().await, S3Server::start().await);
    let app = backup_app(Backend::Postgres, &mail, &s3, "nightly", &[]).await;
    busy_shop(&app).await;
    run_backup_job(&app).await;
    let key = backup_keys(&s3).await.remove(0);

    let mut object = s3.get(&key).await;
    let middle = object.len() / 2;
    object[middle] ^= 0x01;
    s3.put(&key, object).await;

    let (_target, url) = TestDatabase::create(Backend::Postgres).await;
    let refused = cartwheel_cli(
        &app,
        &s3,
        "nightly",
        &["backup", "restore", &key, "--into", &url],
    );
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("corrupt"), "{stderr}");
    // Nothing reached the target, and neither the manifest nor the run counts it verified.
    let target = Database::connect(&url).await.unwrap();
    assert!(
        cartwheel_backup::row_counts(&target)
            .await
            .unwrap()
            .is_empty()
    );
    let manifest = manifest(&s3, &key).await;
    assert!(manifest["verifiedAt"].is_null(), "{manifest}");
    assert!(manifest["error"].as_str().unwrap().contains("corrupt"));
    assert!(
        cartwheel_domain::backups::last_verified(&app.db)
            .await
            .unwrap()
            .is_none()
    );
    let listed = cartwheel_cli(&app, &s3, "nightly", &["backup", "list"]);
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed
            .lines()
            .any(|l| l.contains(&key) && l.contains(" no ")),
        "{listed}"
    );
    target.close().await.unwrap();
}
