use std::collections::BTreeSet;
use std::time::Duration;

use cartwheel_testkit::{Backend, cartwheel_process, jobs, migrated_database};

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

    let all = jobs(&db, Some("noop")).await;
    let ticks: Vec<_> = all
        .iter()
        .filter(|job| {
            let key = job.idempotency_key.as_deref().unwrap_or_default();
            key.starts_with("cron:every-second:")
        })
        .collect();
    let count = ticks.len() as i64;
    assert!((8..=11).contains(&count), "{count} ticks in about 10 s");
    // One job per tick, and no tick missing between the first and the last.
    let seconds: BTreeSet<i64> = ticks.iter().map(|job| job.run_at.timestamp()).collect();
    let span = seconds.last().unwrap() - seconds.first().unwrap() + 1;
    assert_eq!(span, count);
    assert_eq!(seconds.len() as i64, count, "one job per second");
    assert_eq!(all.len() as i64, count, "no other noop job");
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
    let five_seconds_ago = chrono::Utc::now() - chrono::Duration::seconds(5);
    let caught_up = jobs(&db, Some("noop"))
        .await
        .into_iter()
        .filter(|job| job.run_at < five_seconds_ago && job.run_at > last)
        .count();
    assert_eq!(caught_up, 1, "exactly one missed tick is run");
}
