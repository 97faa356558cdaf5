//! Retention after a verified backup: the newest of each of the last `keep_daily` days and
//! `keep_weekly` weeks stay, the rest go, and an unverified backup older than the newest
//! verified one goes too.

use cartwheel_testkit::Backend;
use cartwheel_testkit::s3::S3Server;
use cartwheel_testkit::smtp::MailServer;
use chrono::{Duration, Utc};
use serde_json::json;

use super::{backup_app, backup_keys, run_backup_job};

#[tokio::test]
async fn retention_keeps_exactly_the_configured_set() {
    let (mail, s3) = (MailServer::start().await, S3Server::start().await);
    // Backups made 7, 14, 21 and 28 days ago (each in an ISO week of its own, none in this
    // one), verified; and one 10 days ago that never verified.
    let mut old = Vec::new();
    for (days, verified) in [(7, true), (14, true), (21, true), (28, true), (10, false)] {
        let at = Utc::now() - Duration::days(days);
        let key = format!(
            "kept/cartwheel-{}-old{days}.dump",
            at.format("%Y%m%dT%H%M%SZ")
        );
        s3.put(&key, b"an old dump".to_vec()).await;
        let manifest = json!({
            "key": key, "format": "postgres-custom", "createdAt": at, "size": 11,
            "sha256": "0", "cartwheelVersion": "0.1.0", "migration": null, "tables": {},
            "verifiedAt": if verified { json!(at) } else { json!(null) }, "error": null,
        });
        s3.put(
            &format!("{key}.manifest.json"),
            manifest.to_string().into_bytes(),
        )
        .await;
        old.push(key);
    }
    let app = backup_app(
        Backend::Postgres,
        &mail,
        &s3,
        "kept",
        &[
            ("CARTWHEEL_BACKUP_KEEP_DAILY", "2"),
            ("CARTWHEEL_BACKUP_KEEP_WEEKLY", "3"),
        ],
    )
    .await;
    run_backup_job(&app).await;

    // Days: today's new backup and the one 7 days ago; weeks: this week's, and the two weeks
    // before with a backup (7 and 14 days ago). 21, 28 and the unverified 10 go.
    let keys = backup_keys(&s3).await;
    let new: Vec<&String> = keys.iter().filter(|k| !old.contains(k)).collect();
    assert_eq!(new.len(), 1, "{keys:?}");
    let mut expected = vec![old[0].clone(), old[1].clone(), new[0].clone()];
    expected.sort();
    assert_eq!(keys, expected);
    // Each kept backup still has its manifest; the deleted ones have none.
    let all = s3.keys().await;
    for key in &expected {
        assert!(all.contains(&format!("{key}.manifest.json")), "{key}");
    }
    assert_eq!(all.len(), 6, "{all:?}");
}
