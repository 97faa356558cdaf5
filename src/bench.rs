//! `cartwheel bench queue`: enqueue rate, work-off rate and pickup latency of no-op jobs
//! against `DATABASE_URL`, printed as one JSON line.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::Context;
use cartwheel_jobs::families::noop::Noop;
use cartwheel_jobs::{Job, NewJob, enqueue, enqueue_batch};
use cartwheel_worker::WorkerSettings;
use futures::StreamExt;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement, TransactionTrait};

use crate::cli::{BenchTarget, EnqueueMode};
use crate::config::Config;
use crate::database;

pub async fn run(target: BenchTarget, config: Config) -> anyhow::Result<()> {
    let BenchTarget::Queue {
        jobs,
        concurrency,
        batch_size,
        mode,
        latency_samples,
    } = target;
    let db = database::connect(&config.database_url).await?;
    database::migrate(&db).await?;
    let table = match db.get_database_backend() {
        DatabaseBackend::Postgres => "apalis.jobs",
        _ => "Jobs",
    };
    execute(
        &db,
        &format!("DELETE FROM {table} WHERE job_type = '{}'", Noop::QUEUE),
    )
    .await?;
    // Each run starts from a table without the dead rows of the last one, so runs compare.
    if db.get_database_backend() == DatabaseBackend::Postgres {
        execute(&db, &format!("VACUUM {table}")).await?;
    }

    let started = Instant::now();
    match mode {
        EnqueueMode::Batch => {
            for chunk in (0..jobs).collect::<Vec<_>>().chunks(5_000) {
                let txn = db.begin().await?;
                let batch = chunk.iter().map(|_| NewJob::new(Noop::default())).collect();
                enqueue_batch(&txn, batch).await?;
                txn.commit().await?;
            }
        }
        EnqueueMode::PerTxn => {
            futures::stream::iter(0..jobs)
                .map(|_| async {
                    let txn = db.begin().await?;
                    enqueue(&txn, NewJob::new(Noop::default())).await?;
                    txn.commit().await?;
                    anyhow::Ok(())
                })
                .buffer_unordered(concurrency.min(32))
                .collect::<Vec<_>>()
                .await
                .into_iter()
                .collect::<anyhow::Result<Vec<()>>>()?;
        }
    }
    let enqueue_secs = started.elapsed().as_secs_f64();
    // Fresh planner statistics for the new backlog, as autovacuum would keep them.
    execute(&db, &format!("ANALYZE {table}")).await?;

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let settings = WorkerSettings {
        concurrency: 1,
        queue_concurrency: HashMap::from([(Noop::QUEUE.to_string(), concurrency)]),
        batch_size: config.worker_batch_size,
        queue_batch_size: match batch_size {
            Some(n) => HashMap::from([(Noop::QUEUE.to_string(), n)]),
            None => config.worker_queue_batch_size.clone(),
        },
        poll_interval: Duration::from_millis(100),
        recovery_bound: Duration::from_secs(60),
        shutdown_timeout: Duration::from_secs(10),
        mail: config.mail(),
    };
    let settings_batch = settings.batch_size_for(Noop::QUEUE);
    let worker = tokio::spawn(cartwheel_worker::run(db.clone(), settings, async {
        let _ = stopped.await;
    }));
    let started = Instant::now();
    let unfinished = format!(
        "SELECT COUNT(*) AS n FROM {table} WHERE job_type = '{}' AND status IN ('Pending', 'Queued', 'Running', 'Failed')",
        Noop::QUEUE
    );
    while count(&db, &unfinished).await? > 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let work_secs = started.elapsed().as_secs_f64();
    // Every job must have finished, on its first attempt: a fast wrong answer is no result.
    let done_once = count(
        &db,
        &format!(
            "SELECT COUNT(*) AS n FROM {table} WHERE job_type = '{}' AND status = 'Done' AND attempts = 1",
            Noop::QUEUE
        ),
    )
    .await?;

    let latency = if db.get_database_backend() == DatabaseBackend::Postgres && latency_samples > 0 {
        Some(pickup_latency(&db, latency_samples).await?)
    } else {
        None
    };
    let _ = stop.send(());
    worker.await.context("worker task")??;

    let report = serde_json::json!({
        "backend": format!("{:?}", db.get_database_backend()).to_lowercase(),
        "jobs": jobs,
        "concurrency": concurrency,
        "batch_size": settings_batch,
        "mode": format!("{mode:?}").to_lowercase(),
        "done_on_first_attempt": done_once,
        "enqueue_per_sec": (jobs as f64 / enqueue_secs).round(),
        "jobs_per_sec": (jobs as f64 / work_secs).round(),
        "work_off_secs": (work_secs * 1000.0).round() / 1000.0,
        "pickup_latency_ms": latency.map(|(p50, p99)| serde_json::json!({"p50": p50, "p99": p99})),
    });
    println!("{report}");
    Ok(())
}

/// Enqueues one job at a time on an idle queue and reads how long each waited to be locked
/// (`lock_at - run_at`, both stamped by Postgres).
async fn pickup_latency(db: &DatabaseConnection, samples: usize) -> anyhow::Result<(f64, f64)> {
    execute(
        db,
        &format!("DELETE FROM apalis.jobs WHERE job_type = '{}'", Noop::QUEUE),
    )
    .await?;
    for _ in 0..samples {
        let txn = db.begin().await?;
        let job = enqueue(&txn, NewJob::new(Noop::default())).await?;
        txn.commit().await?;
        let done = format!(
            "SELECT COUNT(*) AS n FROM apalis.jobs WHERE id = '{}' AND status = 'Done'",
            job.id
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        while count(db, &done).await? == 0 {
            anyhow::ensure!(
                Instant::now() < deadline,
                "job {} not picked up in 10 s",
                job.id
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        // Idle again before the next sample.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let row = db
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            format!(
                "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50, \
                        percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99 \
                 FROM (SELECT EXTRACT(EPOCH FROM (lock_at - run_at)) * 1000 AS ms \
                       FROM apalis.jobs WHERE job_type = '{}') samples",
                Noop::QUEUE
            ),
        ))
        .await?
        .context("no latency samples")?;
    let round = |v: f64| (v * 100.0).round() / 100.0;
    Ok((
        round(row.try_get::<f64>("", "p50")?),
        round(row.try_get::<f64>("", "p99")?),
    ))
}

async fn execute(db: &DatabaseConnection, sql: &str) -> anyhow::Result<()> {
    db.execute_unprepared(sql).await?;
    Ok(())
}

async fn count(db: &DatabaseConnection, sql: &str) -> anyhow::Result<i64> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            sql.to_string(),
        ))
        .await?
        .context("count returned no row")?;
    Ok(row.try_get("", "n")?)
}
