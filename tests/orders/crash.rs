//! Order confirmations while workers are SIGKILLed over and over, with every confirmation job
//! enqueued twice (a duplicate, as a retried enqueue would make): each order gets exactly one
//! confirmation email row, and the outbox exactly one file per order.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use cartwheel_entity::{TenantId, emails as email_rows, orders, tenants};
use cartwheel_jobs::NewJob;
use cartwheel_jobs::families::order_confirmation::{OrderMail, SendOrderMail};
use cartwheel_jobs::store::monitor::JobState;
use cartwheel_testkit::{
    Backend, Process, cartwheel_process, drain_jobs, job_count, migrated_database, scalar,
};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};
use uuid::Uuid;

const ORDERS: usize = 250;
const WORKERS: usize = 3;
const KILL_EVERY: Duration = Duration::from_millis(500);

#[tokio::test]
async fn killed_workers_and_duplicate_jobs_send_each_confirmation_once() {
    let (_database, url, db) = migrated_database(Backend::Postgres).await;
    let outbox = std::env::temp_dir().join(format!("cw_orders_{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&outbox).unwrap();

    // A ready shop and its placed orders, each with its confirmation job twice.
    let txn = db.begin().await.unwrap();
    let shop = TenantId(Uuid::now_v7());
    let now = chrono::Utc::now();
    tenants::ActiveModel {
        id: Set(shop),
        slug: Set("crash".into()),
        name: Set("Crash Supplies".into()),
        status: Set(tenants::Status::Ready),
        progress: Set(100),
        failure: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .unwrap();
    for n in 0..ORDERS {
        let order = order(shop, n as i64 + 1, now).insert(&txn).await.unwrap();
        let job = SendOrderMail {
            tenant_id: shop,
            order_id: order.id,
            mail: OrderMail::Confirmation,
            token: Some(format!("token-{n}")),
        };
        // No idempotency key: both copies are queued and both run.
        for _ in 0..2 {
            cartwheel_jobs::enqueue(&txn, NewJob::new(job.clone()))
                .await
                .unwrap();
        }
    }
    txn.commit().await.unwrap();

    let outbox_dir = outbox.display().to_string();
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("CARTWHEEL_JOB_RECOVERY_SECS", "2"),
        ("CARTWHEEL_WORKER_POLL_MS", "100"),
        ("CARTWHEEL_OUTBOX_DIR", outbox_dir.as_str()),
    ];
    let mut workers: Vec<Process> = (0..WORKERS)
        .map(|_| cartwheel_process(&["worker"], &env))
        .collect();
    let unsent = "SELECT COUNT(*) FROM orders o WHERE NOT EXISTS \
                  (SELECT 1 FROM emails e WHERE e.sent_at IS NOT NULL \
                   AND e.context->>'order_id' = CAST(o.id AS TEXT))";
    let mut kills = 0;
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline && scalar(&db, unsent).await > 0 {
        tokio::time::sleep(KILL_EVERY).await;
        let mut victim = workers.remove(0);
        victim.signal("KILL");
        victim.wait(Duration::from_secs(5)).await;
        kills += 1;
        workers.push(cartwheel_process(&["worker"], &env));
    }
    assert!(kills >= 3, "the backlog outlived several kills ({kills})");
    drain_jobs(&db).await;
    let dead: Vec<String> = cartwheel_testkit::jobs(&db, None)
        .await
        .into_iter()
        .filter(|j| j.state == JobState::Dead)
        .take(3)
        .map(|j| format!("{}: {:?}", j.queue, j.last_error))
        .collect();
    assert!(dead.is_empty(), "{dead:?}");
    assert_eq!(
        job_count(&db, None, Some(JobState::Dead)).await,
        0,
        "no job gave up"
    );
    drop(workers);

    // One confirmation row per order, each sent, each one file.
    let rows = email_rows::Entity::find()
        .filter(email_rows::Column::Template.eq(email_rows::Template::OrderConfirmation))
        .all(&db)
        .await
        .unwrap();
    let mut per_order: BTreeMap<String, usize> = BTreeMap::new();
    for row in &rows {
        assert!(row.sent_at.is_some(), "mail {} unsent", row.id);
        *per_order
            .entry(row.context["order_id"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    assert_eq!(per_order.len(), ORDERS);
    assert!(per_order.values().all(|n| *n == 1), "{per_order:?}");
    let files = std::fs::read_dir(&outbox)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".eml"))
        .count();
    assert_eq!(files, ORDERS);
    // The link's token went out and was not kept.
    assert!(rows.iter().all(|r| r.context.get("token").is_none()));
    println!("{ORDERS} orders, {kills} kills, one confirmation each");
    let _ = std::fs::remove_dir_all(outbox);
}

fn order(shop: TenantId, number: i64, now: chrono::DateTime<chrono::Utc>) -> orders::ActiveModel {
    // As `domain::postal::Address` writes it: every member present.
    let address = serde_json::json!({"name": "Ada", "line1": "1 Main St", "line2": "",
        "city": "Springfield", "region": "IL", "postalCode": "62701", "country": "US", "phone": ""});
    orders::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(shop),
        number: Set(number),
        checkout_id: Set(Uuid::new_v4()),
        idempotency_key: Set(None),
        customer_id: Set(None),
        email: Set(format!("shopper-{number}@mail.example")),
        phone: Set(String::new()),
        status: Set(orders::Status::Pending),
        payment_status: Set(orders::PaymentStatus::Pending),
        payment_method: Set(orders::PaymentMethod::Manual),
        currency: Set("USD".into()),
        prices_include_tax: Set(false),
        subtotal: Set(1000),
        discount: Set(0),
        shipping: Set(0),
        shipping_tax: Set(0),
        tax: Set(100),
        total: Set(1100),
        refunded: Set(0),
        refund_due: Set(0),
        coupon_code: Set(None),
        shipping_method: Set(String::new()),
        shipping_address: Set(address.clone()),
        billing_address: Set(address),
        token_hash: Set(String::new()),
        carrier: Set(None),
        tracking_number: Set(None),
        tracking_url: Set(None),
        placed_at: Set(now),
        updated_at: Set(now),
        payment_due_at: Set(None),
        paid_at: Set(None),
        shipped_at: Set(None),
        delivered_at: Set(None),
        cancelled_at: Set(None),
    }
}
