use cartwheel_jobs::families::noop::Noop;
use cartwheel_jobs::{NewJob, enqueue, enqueue_batch};
use sea_orm::{ConnectionTrait, TransactionTrait};

use crate::helpers::{Backend, jobs_table, migrated_database, scalar};

fn noop(label: &str) -> NewJob<Noop> {
    NewJob::new(Noop {
        label: label.into(),
        ..Default::default()
    })
}

#[tokio::test]
async fn rollback_leaves_no_job_and_commit_leaves_one() {
    for backend in [Backend::Postgres, Backend::Sqlite] {
        let (_database, _url, db) = migrated_database(backend).await;
        let table = jobs_table(&db);
        let txn = db.begin().await.unwrap();
        enqueue(&txn, noop("rolled back")).await.unwrap();
        txn.rollback().await.unwrap();
        assert_eq!(
            scalar(&db, &format!("SELECT COUNT(*) FROM {table}")).await,
            0
        );

        let txn = db.begin().await.unwrap();
        let job = enqueue(&txn, noop("kept")).await.unwrap();
        txn.commit().await.unwrap();
        assert!(job.created);
        let sql = format!(
            "SELECT COUNT(*) FROM {table} WHERE id = '{}' AND status = 'Pending' AND job_type = 'noop'",
            job.id
        );
        assert_eq!(scalar(&db, &sql).await, 1);
    }
}

#[tokio::test]
async fn idempotency_key_reports_the_existing_job_without_breaking_the_transaction() {
    for backend in [Backend::Postgres, Backend::Sqlite] {
        let (_database, _url, db) = migrated_database(backend).await;
        let table = jobs_table(&db);
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
        assert_eq!(
            scalar(&db, &format!("SELECT COUNT(*) FROM {table}")).await,
            4
        );
    }
}

#[tokio::test]
async fn records_tenant_run_at_and_max_attempts() {
    let (_database, _url, db) = migrated_database(Backend::Postgres).await;
    let tenant = uuid::Uuid::new_v4();
    let later = chrono::Utc::now() + chrono::Duration::hours(1);
    let job = enqueue(&db, noop("later").tenant(tenant).run_at(later))
        .await
        .unwrap();
    let record = cartwheel_jobs::monitor::get_job(&db, &job.id, Some(tenant))
        .await
        .unwrap()
        .expect("found by its tenant");
    assert_eq!(record.tenant_id, Some(tenant));
    assert_eq!(record.max_attempts, 3);
    assert_eq!(record.state, cartwheel_jobs::monitor::JobState::Scheduled);
    assert!((record.run_at - later).num_milliseconds().abs() < 5);
    assert_eq!(record.payload["label"], "later");
    // Another tenant does not see it.
    let other = cartwheel_jobs::monitor::get_job(&db, &job.id, Some(uuid::Uuid::new_v4()))
        .await
        .unwrap();
    assert!(other.is_none());
}
