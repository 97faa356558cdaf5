//! The one test harness of Cartwheel's integration tests: a fresh database per test (Postgres or
//! SQLite), the real application on a random port, the real binary as a process, a real SMTP
//! server, a real S3-compatible server, shops signed up through the queue, and `drain_jobs` for
//! counts that must hold after every retry.

pub mod app;
pub mod database;
pub mod edge;
pub mod error_reports;
pub mod jobs;
pub mod process;
pub mod s3;
pub mod shops;
pub mod smtp;
pub mod sql;
pub mod stripe;
pub mod wait;

pub use app::{
    JWT_SECRET, TestApp, assert_problem, spawn_app, spawn_app_sqlite, spawn_app_with, test_config,
    wait_until_ready,
};
pub use database::{Backend, TestDatabase, admin_database_url, migrated_database};
pub use jobs::{drain_jobs, job_count, jobs};
pub use process::{Process, cartwheel_process};
pub use sql::{scalar, scalar_uuid};
pub use stripe::StripeFake;
pub use wait::eventually;

/// `on_each_backend!(name)` runs `async fn name(backend: Backend)` as two tests, `name::postgres`
/// and `name::sqlite`, so a failure names its backend.
#[macro_export]
macro_rules! on_each_backend {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn postgres() {
                super::$name($crate::Backend::Postgres).await
            }

            #[tokio::test]
            async fn sqlite() {
                super::$name($crate::Backend::Sqlite).await
            }
        }
    )+};
}
