//! The run log's guard: one run in flight; a run whose worker died (stale heartbeat, or the
//! same job run again after recovery) is failed and a new one starts; a run taken over cannot
//! end as verified afterwards.

use cartwheel_domain::backups::{self, StartError};
use cartwheel_entity::backup_runs::{self, Status};
use cartwheel_testkit::{Backend, migrated_database};
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};

cartwheel_testkit::on_each_backend!(one_run_in_flight_and_dead_runs_are_taken_over);

async fn one_run_in_flight_and_dead_runs_are_taken_over(backend: Backend) {
    let (_database, _url, db) = migrated_database(backend).await;
    let status = |id| {
        let db = db.clone();
        async move {
            backup_runs::Entity::find_by_id(id)
                .one(&db)
                .await
                .unwrap()
                .unwrap()
                .status
        }
    };
    let first = backups::start(&db, "a", Some("job-1")).await.unwrap();
    // Another job, or a run by hand, while it is in flight: no second run.
    for job in [Some("job-2"), None] {
        let refused = backups::start(&db, "b", job).await;
        assert!(matches!(refused, Err(StartError::InFlight { ref key, .. }) if key == "a"));
    }
    // The same job again: its worker died and the job was recovered before the heartbeat went
    // stale. The old run fails, the new one starts.
    let again = backups::start(&db, "c", Some("job-1")).await.unwrap();
    assert_eq!(status(first.id).await, Status::Failed);
    // A heartbeat older than the bound: anyone takes over.
    let mut stale = again.clone().into_active_model();
    stale.heartbeat_at = Set(chrono::Utc::now() - chrono::Duration::seconds(120));
    stale.update(&db).await.unwrap();
    let third = backups::start(&db, "d", Some("job-3")).await.unwrap();
    assert_eq!(status(again.id).await, Status::Failed);
    // The taken-over run, still working somewhere, cannot end as verified.
    backups::finish(&db, again.id, Status::Verified, None)
        .await
        .unwrap();
    assert_eq!(status(again.id).await, Status::Failed);
    backups::finish(&db, third.id, Status::Verified, None)
        .await
        .unwrap();
    assert_eq!(status(third.id).await, Status::Verified);
    let last = backups::last_verified(&db).await.unwrap().unwrap();
    assert_eq!(last.key, "d");
}
