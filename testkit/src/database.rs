//! A fresh database per test: a Postgres database on the test server, or an SQLite file.

use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

/// The Postgres server tests make their databases on: `TEST_DATABASE_URL`, else the local one.
pub fn admin_database_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// The two databases Cartwheel runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// A database made for one test and removed when the test ends.
pub enum TestDatabase {
    Postgres { name: String },
    Sqlite { dir: std::path::PathBuf },
}

impl TestDatabase {
    pub async fn create(backend: Backend) -> (Self, String) {
        let id = uuid::Uuid::new_v4().simple().to_string();
        match backend {
            Backend::Postgres => {
                let name = format!("cw_test_{id}");
                let admin = Database::connect(admin_database_url()).await.expect(
                    "Postgres for tests: set TEST_DATABASE_URL or start one on 127.0.0.1:5432",
                );
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create test database");
                let url = database_url_for(&admin_database_url(), &name);
                (TestDatabase::Postgres { name }, url)
            }
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(format!("cw_test_{id}"));
                std::fs::create_dir_all(&dir).unwrap();
                let url = format!("sqlite://{}?mode=rwc", dir.join("cartwheel.db").display());
                (TestDatabase::Sqlite { dir }, url)
            }
        }
    }

    /// Drops the Postgres database now, even with open connections (for "database gone" tests).
    pub async fn drop_now(&self) {
        if let TestDatabase::Postgres { name } = self {
            let admin = Database::connect(admin_database_url()).await.unwrap();
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await
                .unwrap();
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match self {
            TestDatabase::Postgres { name } => {
                let name = name.clone();
                // Drop runs outside async; a short-lived runtime on its own thread does the DROP.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    rt.block_on(async {
                        if let Ok(admin) = Database::connect(admin_database_url()).await {
                            let _ = admin
                                .execute_unprepared(&format!(
                                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                                ))
                                .await;
                        }
                    })
                })
                .join();
            }
            TestDatabase::Sqlite { dir } => {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }
}

fn database_url_for(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin_url, String::new()),
    };
    let base = base.rsplit_once('/').map(|(b, _)| b).unwrap_or(base);
    format!("{base}/{name}{query}")
}

/// A fresh, migrated database with no application running on it.
pub async fn migrated_database(backend: Backend) -> (TestDatabase, String, DatabaseConnection) {
    let (database, url) = TestDatabase::create(backend).await;
    let db = cartwheel::database::connect(&url.clone().into())
        .await
        .unwrap();
    cartwheel::database::migrate(&db).await.unwrap();
    (database, url, db)
}
