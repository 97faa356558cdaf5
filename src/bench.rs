//! `cartwheel bench queue`: enqueue rate, work-off rate and pickup latency of no-op jobs
//! against `DATABASE_URL`, printed as one JSON line.

use std::time::{Duration, Instant};

use anyhow::Context;
use cartwheel_jobs::families::noop::Noop;
use cartwheel_jobs::store::monitor::{JobFilter, JobState, count_jobs, get_job, queue_stats};
use cartwheel_jobs::store::{clear_queue, refresh_statistics};
use cartwheel_jobs::{Job, NewJob, enqueue, enqueue_batch};
use futures::StreamExt;
use sea_orm::{DatabaseConnection, TransactionTrait};

use crate::cli::{BenchTarget, EnqueueMode};
use crate::config::Config;
use crate::database;
use crate::startup::worker_settings;

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
    // Each run starts from a table without the rows of the last one, so runs compare.
    clear_queue(&db, Noop::QUEUE).await?;

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
                .buffer_unordered(32)
                .collect::<Vec<_>>()
                .await
                .into_iter()
                .collect::<anyhow::Result<Vec<()>>>()?;
        }
    }
    let enqueue_secs = started.elapsed().as_secs_f64();
    refresh_statistics(&db).await?;

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    // The worker's own settings, but only the no-op queue has work.
    let mut settings = worker_settings(&config);
    if let Some(n) = concurrency {
        settings
            .queue_concurrency
            .insert(Noop::QUEUE.to_string(), n);
    }
    if let Some(n) = batch_size {
        settings.queue_batch_size.insert(Noop::QUEUE.to_string(), n);
    }
    let concurrency = settings.concurrency_for(Noop::QUEUE, Noop::CONCURRENCY_SCALE);
    let settings_batch = match settings.batch_size_for(Noop::QUEUE) {
        Some(n) => serde_json::json!(n),
        None => serde_json::json!("adaptive"),
    };
    let worker = tokio::spawn(cartwheel_worker::run(db.clone(), settings, async {
        let _ = stopped.await;
    }));
    let started = Instant::now();
    while unfinished(&db).await? > 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let work_secs = started.elapsed().as_secs_f64();
    // Every job must have succeeded: a fast wrong answer is no result.
    let succeeded = JobFilter {
        queue: Some(Noop::QUEUE.to_string()),
        state: Some(JobState::Succeeded),
        ..Default::default()
    };
    let succeeded = count_jobs(&db, &succeeded).await?;

    let latency = if latency_samples > 0 {
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
        "succeeded": succeeded,
        "enqueue_per_sec": (jobs as f64 / enqueue_secs).round(),
        "jobs_per_sec": (jobs as f64 / work_secs).round(),
        "work_off_secs": (work_secs * 1000.0).round() / 1000.0,
        "pickup_latency_ms": latency.map(|(p50, p99)| serde_json::json!({"p50": p50, "p99": p99})),
    });
    println!("{report}");
    Ok(())
}

/// The no-op queue's jobs that have yet to finish (scheduled ones aside: the bench has none).
async fn unfinished(db: &DatabaseConnection) -> anyhow::Result<u64> {
    let stats = queue_stats(db, None).await?;
    Ok(stats
        .iter()
        .filter(|s| s.queue == Noop::QUEUE)
        .map(|s| s.pending + s.running + s.retrying)
        .sum())
}

/// Enqueues one job at a time on an idle queue and reads how long each waited to be claimed
/// (`locked_at - run_at`, both stamped by the database: to the second on SQLite).
async fn pickup_latency(db: &DatabaseConnection, samples: usize) -> anyhow::Result<(f64, f64)> {
    clear_queue(db, Noop::QUEUE).await?;
    let mut waits = Vec::with_capacity(samples);
    for _ in 0..samples {
        let txn = db.begin().await?;
        let job = enqueue(&txn, NewJob::new(Noop::default())).await?;
        txn.commit().await?;
        let deadline = Instant::now() + Duration::from_secs(10);
        let record = loop {
            let record = get_job(db, &job.id, None)
                .await?
                .context("the job vanished")?;
            if record.state == JobState::Succeeded {
                break record;
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "job {} not picked up in 10 s",
                job.id
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        let locked_at = record
            .locked_at
            .context("a finished job without a lock time")?;
        waits.push((locked_at - record.run_at).num_microseconds().unwrap_or(0) as f64 / 1000.0);
        // Idle again before the next sample.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    waits.sort_by(f64::total_cmp);
    let at = |q: f64| waits[((waits.len() - 1) as f64 * q).round() as usize];
    let round = |v: f64| (v * 100.0).round() / 100.0;
    Ok((round(at(0.5)), round(at(0.99))))
}
