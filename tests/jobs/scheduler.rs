use std::time::Duration;

use crate::helpers::{Backend, cartwheel_process, migrated_database, scalar};

#[tokio::test]
async fn three_schedulers_enqueue_each_tick_exactly_once() {
    let (_database, url, db) = migrated_database(Backend::Postgres).await;
    let dir = std::env::temp_dir().join(format!("cw_cron_{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("cartwheel.toml");
    std::fs::write(
        &config,
        "[cron.every-second]\nschedule = \"* * * * * *\"\njob = \"noop\"\npayload = { label = \"tick\" }\n",
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let env = [("DATABASE_URL", url.as_str()), ("CARTWHEEL_CONFIG", config)];
    let mut schedulers: Vec<_> = (0..3)
        .map(|_| cartwheel_process(&["scheduler"], &env))
        .collect();
    tokio::time::sleep(Duration::from_secs(10)).await;
    for scheduler in &schedulers {
        scheduler.signal("TERM");
    }
    for scheduler in &mut schedulers {
        assert!(scheduler.wait(Duration::from_secs(10)).await.success());
    }
    let _ = std::fs::remove_dir_all(&dir);

    let ticks = "SELECT COUNT(*) FROM apalis.jobs WHERE idempotency_key LIKE 'cron:every-second:%'";
    let count = scalar(&db, ticks).await;
    assert!((8..=11).contains(&count), "{count} ticks in about 10 s");
    // One job per tick, and no tick missing between the first and the last.
    let span = "SELECT MAX(EXTRACT(EPOCH FROM run_at))::bigint - MIN(EXTRACT(EPOCH FROM run_at))::bigint + 1 \
                FROM apalis.jobs WHERE idempotency_key LIKE 'cron:every-second:%'";
    assert_eq!(scalar(&db, span).await, count);
    let distinct = "SELECT COUNT(DISTINCT run_at) FROM apalis.jobs WHERE job_type = 'noop'";
    assert_eq!(scalar(&db, distinct).await, count);
}

#[tokio::test]
async fn a_scheduler_that_was_down_catches_up_one_tick_not_the_backlog() {
    let (_database, _url, db) = migrated_database(Backend::Postgres).await;
    let entries = cartwheel_scheduler::build_table(
        vec![],
        vec![cartwheel_scheduler::CronSpec {
            name: "every-second".into(),
            schedule: "* * * * * *".into(),
            job: "noop".into(),
            payload: serde_json::json!({}),
            enabled: true,
        }],
    )
    .unwrap();
    let entry = entries.iter().find(|e| e.name == "every-second").unwrap();
    // The last tick it enqueued was a minute ago: 59 ticks were missed.
    let last = chrono::Utc::now() - chrono::Duration::seconds(60);
    let last = chrono::DateTime::from_timestamp(last.timestamp(), 0).unwrap();
    assert!(
        cartwheel_scheduler::enqueue_tick(&db, entry, last)
            .await
            .unwrap()
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let settings = cartwheel_scheduler::SchedulerSettings {
        entries: entries.clone(),
        catch_up: true,
    };
    let running = tokio::spawn(cartwheel_scheduler::run(db.clone(), settings, async {
        let _ = stopped.await;
    }));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = stop.send(());
    running.await.unwrap();
    let caught_up = format!(
        "SELECT COUNT(*) FROM apalis.jobs WHERE run_at < now() - interval '5 seconds' AND run_at > '{}'",
        last.to_rfc3339()
    );
    assert_eq!(
        scalar(&db, &caught_up).await,
        1,
        "exactly one missed tick is run"
    );
}
