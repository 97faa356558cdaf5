//! A worker SIGKILLed in the middle of provisioning: another worker finishes every shop, and
//! nothing is created twice.

use std::time::Duration;

use cartwheel_domain::provisioning::{Signup, sign_up};

use cartwheel_testkit::{Backend, cartwheel_process, eventually, migrated_database, scalar};

const SHOPS: usize = 40;

#[tokio::test]
async fn a_killed_worker_leaves_every_shop_ready_with_no_duplicates() {
    let (_database, url, db) = migrated_database(Backend::Postgres).await;
    for n in 0..SHOPS {
        sign_up(
            &db,
            Signup {
                business_name: format!("Crash {n}"),
                owner_email: format!("owner@crash-{n}.example"),
                owner_password: "tangerine-bicycle-42".into(),
                domain: format!("crash-{n}"),
                currency: None,
                timezone: None,
                country: None,
                idempotency_key: None,
            },
        )
        .await
        .unwrap();
    }
    let outbox = std::env::temp_dir().join(format!("cw_outbox_{}", uuid::Uuid::new_v4().simple()));
    let outbox = outbox.display().to_string();
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("CARTWHEEL_JOB_RECOVERY_SECS", "4"),
        ("CARTWHEEL_WORKER_POLL_MS", "100"),
        // One shop at a time, so the kill lands in the middle of the run.
        (
            "CARTWHEEL_WORKER_QUEUE_CONCURRENCY",
            "provisioning.tenant=1",
        ),
        ("CARTWHEEL_OUTBOX_DIR", outbox.as_str()),
    ];
    let ready = "SELECT COUNT(*) FROM tenants WHERE status = 'READY'";

    let first = cartwheel_process(&["worker"], &env);
    eventually(Duration::from_secs(30), "a few shops READY", || async {
        scalar(&db, ready).await >= 3
    })
    .await;
    first.signal("KILL");
    let at_kill = scalar(&db, ready).await;
    assert!(
        at_kill < SHOPS as i64,
        "the kill came before the end ({at_kill} READY)"
    );

    let _second = cartwheel_process(&["worker"], &env);
    eventually(Duration::from_secs(60), "every shop READY", || async {
        scalar(&db, ready).await == SHOPS as i64
    })
    .await;

    for (table, per_shop) in [
        ("ledger_accounts", 22),
        ("roles", 4),
        ("users", 1),
        ("warehouses", 1),
        ("warehouse_locations", 4),
        ("units", 4),
        ("tax_rules", 3),
        ("store_settings", 1),
        ("emails", 1),
    ] {
        let wrong = scalar(
            &db,
            &format!(
                "SELECT COUNT(*) FROM tenants t WHERE (SELECT COUNT(*) FROM {table} x WHERE x.tenant_id = t.id) <> {per_shop}"
            ),
        )
        .await;
        assert_eq!(wrong, 0, "every shop has exactly {per_shop} {table}");
    }
    let _ = std::fs::remove_dir_all(outbox);
}
