//! A storage that stays down: the job retries, then dies, and the operator gets one mail.

use cartwheel_jobs::Job;
use cartwheel_jobs::families::backup::RunBackup;
use cartwheel_jobs::store::monitor::JobState;
use cartwheel_testkit::shops::{app_with_mail, mails_after_drain};
use cartwheel_testkit::smtp::{MailServer, free_port};
use cartwheel_testkit::{Backend, drain_jobs, jobs};

use super::{OPERATOR, run_backup_job};

#[tokio::test]
async fn storage_down_retries_then_mails_the_operator_once() {
    let mail = MailServer::start().await;
    // Nothing listens here: every request to the storage is refused.
    let down = format!("http://127.0.0.1:{}", free_port());
    let app = app_with_mail(
        Backend::Postgres,
        &mail,
        &[
            ("CARTWHEEL_BACKUP_S3_URL", "s3://backups/nightly"),
            ("CARTWHEEL_BACKUP_S3_ENDPOINT", &down),
            ("CARTWHEEL_BACKUP_S3_ACCESS_KEY_ID", "test"),
            ("CARTWHEEL_BACKUP_S3_SECRET_ACCESS_KEY", "test"),
            ("CARTWHEEL_OPERATOR_EMAIL", OPERATOR),
        ],
    )
    .await;
    run_backup_job(&app).await;
    // Drained again after the mails: every retry that could run has run.
    drain_jobs(&app.db).await;

    let job = jobs(&app.db, Some(RunBackup::QUEUE)).await.remove(0);
    assert_eq!(job.state, JobState::Dead, "{job:?}");
    assert_eq!(job.attempts as u32, RunBackup::RETRY.max_attempts);
    let mails = mails_after_drain(&app, &mail, OPERATOR, 1).await;
    assert!(
        mails[0].subject.contains("backup failed"),
        "{}",
        mails[0].subject
    );
    assert!(
        mails[0].text.contains("backup storage"),
        "{}",
        mails[0].text
    );
    let runs = cartwheel_domain::backups::recent(&app.db, 10)
        .await
        .unwrap();
    assert_eq!(runs.len(), 3, "one run per attempt: {runs:?}");
    assert!(
        runs.iter()
            .all(|r| r.status == cartwheel_entity::backup_runs::Status::Failed)
    );
}
