use cartwheel_jobs::families::noop::Noop;
use cartwheel_jobs::{NewJob, enqueue, enqueue_batch};
use sea_orm::{ConnectionTrait, TransactionTrait};

use cartwheel_jobs::store::monitor::JobState;
use cartwheel_testkit::{Backend, job_count, jobs, migrated_database, on_each_backend};

fn noop(label: &str) -> NewJob<Noop> {
    NewJob::new(Noop {
        label: label.into(),
        ..Default::default()
    })
}

on_each_backend!(
    rollback_leaves_no_job_and_commit_leaves_one,
    idempotency_key_reports_the_existing_job_without_breaking_the_transaction,
);

async fn rollback_leaves_no_job_and_commit_leaves_one(backend: Backend) {
    let (_database, _url, db) = migrated_database(backend).await;
    let txn = db.begin().await.unwrap();
    enqueue(&txn, noop("rolled back")).await.unwrap();
    txn.rollback().await.unwrap();
    assert_eq!(job_count(&db, None, None).await, 0);

    let txn = db.begin().await.unwrap();
    let job = enqueue(&txn, noop("kept")).await.unwrap();
    txn.commit().await.unwrap();
    assert!(job.created);
    let all = jobs(&db, None).await;
    assert_eq!(all.len(), 1);
    assert_eq!(
        (all[0].id.as_str(), all[0].queue.as_str()),
        (job.id.as_str(), "noop")
    );
    assert_eq!(all[0].state, JobState::Pending);
}

async fn idempotency_key_reports_the_existing_job_without_breaking_the_transaction(
    backend: Backend,
) {
    let (_database, _url, db) = migrated_database(backend).await;
    let first = enqueue(&db, noop("a").idempotency_key("order-42"))
        .await
        .unwrap();
    assert!(first.created);

    let txn = db.begin().await.unwrap();
    let again = enqueue(&txn, noop("b").idempotency_key("order-42"))
        .await
        .unwrap();
    assert_eq!(again.id, first.id);
    assert!(!again.created);
    // The transaction is still usable after the no-op.
    let other = enqueue(&txn, noop("c").idempotency_key("order-43"))
        .await
        .unwrap();
    assert!(other.created);
    txn.execute_unprepared("SELECT 1").await.unwrap();
    txn.commit().await.unwrap();

    // A batch mixing new and existing keys creates only the new ones.
    let batch = enqueue_batch(
        &db,
        vec![
            noop("d").idempotency_key("order-42"),
            noop("e").idempotency_key("order-44"),
            noop("f"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(batch[0].id, first.id);
    assert!(!batch[0].created && batch[1].created && batch[2].created);
    assert_eq!(job_count(&db, None, None).await, 4);
}

#[tokio::test]
async fn records_tenant_run_at_and_max_attempts() {
    let (_database, _url, db) = migrated_database(Backend::Postgres).await;
    let tenant = cartwheel_entity::TenantId(uuid::Uuid::new_v4());
    let later = chrono::Utc::now() + chrono::Duration::hours(1);
    let job = enqueue(&db, noop("later").tenant(tenant).run_at(later))
        .await
        .unwrap();
    let record = cartwheel_jobs::store::monitor::get_job(&db, &job.id, Some(tenant))
        .await
        .unwrap()
        .expect("found by its tenant");
    assert_eq!(record.tenant_id, Some(tenant));
    assert_eq!(record.max_attempts, 3);
    assert_eq!(record.state, JobState::Scheduled);
    assert!((record.run_at - later).num_milliseconds().abs() < 5);
    assert_eq!(record.payload["label"], "later");
    // Another tenant does not see it.
    let other = cartwheel_jobs::store::monitor::get_job(
        &db,
        &job.id,
        Some(cartwheel_entity::TenantId(uuid::Uuid::new_v4())),
    )
    .await
    .unwrap();
    assert!(other.is_none());
}
