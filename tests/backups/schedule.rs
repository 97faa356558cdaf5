//! Three schedulers and two workers: each tick of the `backup` entry is one job, and no two
//! backups ever run at once.

use std::collections::BTreeSet;
use std::time::Duration;

use cartwheel_jobs::Job;
use cartwheel_jobs::families::backup::RunBackup;
use cartwheel_testkit::s3::S3Server;
use cartwheel_testkit::{Backend, cartwheel_process, drain_jobs, jobs, migrated_database};

#[tokio::test]
async fn three_schedulers_make_one_backup_per_tick() {
    let s3 = S3Server::start().await;
    let (_database, url, db) = migrated_database(Backend::Postgres).await;
    let dir =
        std::env::temp_dir().join(format!("cw_backup_cron_{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("cartwheel.toml");
    std::fs::write(
        &config,
        "[cron.backup]\nschedule = \"*/3 * * * * *\"\njob = \"backup.run\"\n",
    )
    .unwrap();
    let settings = s3.settings("ticks");
    let mut env: Vec<(&str, &str)> = settings
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    env.extend([
        ("DATABASE_URL", url.as_str()),
        ("CARTWHEEL_CONFIG", config.to_str().unwrap()),
    ]);
    let workers: Vec<_> = (0..2)
        .map(|_| cartwheel_process(&["worker"], &env))
        .collect();
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
    // The workers run what the ticks enqueued (retries made due at once), then stop.
    drain_jobs(&db).await;
    drop(workers);
    let _ = std::fs::remove_dir_all(&dir);

    let ticks = jobs(&db, Some(RunBackup::QUEUE)).await;
    let keys: BTreeSet<_> = ticks.iter().map(|j| j.idempotency_key.clone()).collect();
    assert!(
        (3..=4).contains(&ticks.len()),
        "{} ticks in 10 s",
        ticks.len()
    );
    assert_eq!(keys.len(), ticks.len(), "one job per tick");

    // Each job made a backup or found one in flight; the runs never overlap.
    let mut runs = cartwheel_domain::backups::recent(&db, 100).await.unwrap();
    runs.sort_by_key(|r| r.started_at);
    assert!(!runs.is_empty() && runs.len() <= ticks.len(), "{runs:?}");
    for pair in runs.windows(2) {
        let ended = pair[0].finished_at.expect("finished");
        assert!(ended <= pair[1].started_at, "overlapping runs: {pair:?}");
    }
    assert!(
        runs.iter()
            .all(|r| r.status == cartwheel_entity::backup_runs::Status::Verified),
        "{runs:?}"
    );
    // Retention keeps the newest of the day: the last run's dump and manifest.
    let stored = s3.keys().await;
    let last = &runs.last().unwrap().key;
    assert_eq!(stored, vec![last.clone(), format!("{last}.manifest.json")]);
}
