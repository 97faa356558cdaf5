//! `spawn_app()`: the real application on 127.0.0.1:0 against a fresh database per test, and
//! helpers to run the `cartwheel` binary itself. Shared by several test binaries, each of which
//! uses a part of it.
#![allow(dead_code)]

use cartwheel::config::Config;
use cartwheel::startup::{Application, Role};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use tokio::sync::oneshot;

pub fn admin_database_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

pub enum Backend {
    Postgres,
    Sqlite,
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: DatabaseConnection,
    /// Shared with peers (`spawn_peer`); removed when the last of them ends.
    pub database: Arc<TestDatabase>,
    database_url: String,
    stop: Option<oneshot::Sender<()>>,
    pub server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
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

/// The signing key test apps use, so tests can mint tokens of their own.
pub const JWT_SECRET: &str = "test-secret-0123456789abcdef0123456789";

/// A config for tests: a random port, the given database, nothing read from the process.
pub fn test_config(database_url: &str, extra: &[(&str, &str)]) -> Config {
    let outbox = std::env::temp_dir().join(format!("cw_outbox_{}", uuid::Uuid::new_v4().simple()));
    let mut env = vec![
        ("DATABASE_URL".to_string(), database_url.to_string()),
        ("CARTWHEEL_BIND".to_string(), "127.0.0.1:0".to_string()),
        ("CARTWHEEL_JWT_SECRET".to_string(), JWT_SECRET.to_string()),
        // Every test app starts as a first run with the demo shop, on either backend.
        ("CARTWHEEL_DEMO_SHOP".to_string(), "true".to_string()),
        (
            "CARTWHEEL_OUTBOX_DIR".to_string(),
            outbox.display().to_string(),
        ),
    ];
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Config::from_sources(None, env).expect("valid test config")
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Backend::Postgres, &[]).await
}

pub async fn spawn_app_sqlite() -> TestApp {
    spawn_app_with(Backend::Sqlite, &[]).await
}

pub async fn spawn_app_with(backend: Backend, extra: &[(&str, &str)]) -> TestApp {
    if std::env::var_os("TEST_LOG").is_some() {
        cartwheel::telemetry::init(cartwheel::config::LogFormat::Pretty);
    }
    let (database, url) = TestDatabase::create(backend).await;
    start(Arc::new(database), url, Role::Serve, extra).await
}

async fn start(
    database: Arc<TestDatabase>,
    database_url: String,
    role: Role,
    extra: &[(&str, &str)],
) -> TestApp {
    let config = test_config(&database_url, extra);
    let app = Application::build(config, role)
        .await
        .expect("application builds");
    let address = format!("http://{}", app.address().expect("serve has HTTP"));
    let db = app.db().clone();
    let (stop, stopped) = oneshot::channel();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    TestApp {
        address,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        db,
        database,
        database_url,
        stop: Some(stop),
        server: Some(server),
    }
}

impl TestApp {
    /// Another API process (`cartwheel api`) on this app's database, as a second replica.
    pub async fn spawn_peer(&self, extra: &[(&str, &str)]) -> TestApp {
        start(
            self.database.clone(),
            self.database_url.clone(),
            Role::Api,
            extra,
        )
        .await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// Asks the server to stop gracefully and waits for it.
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.server.take() {
            Some(server) => server.await?,
            None => Ok(()),
        }
    }
}

/// Reads a response that must be problem+json with the given status.
pub async fn assert_problem(response: reqwest::Response, status: u16) -> serde_json::Value {
    let response_status = response.status().as_u16();
    if response_status != status {
        panic!(
            "status {response_status}, expected {status}: {}",
            response.text().await.unwrap()
        );
    }
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    assert!(response.headers().contains_key("x-request-id"));
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], status);
    assert!(body["type"].as_str().unwrap().starts_with("https://"));
    assert!(!body["title"].as_str().unwrap().is_empty());
    assert!(!body["detail"].as_str().unwrap().is_empty());
    body
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

/// A running `cartwheel` process, killed if the test ends first.
pub struct Process(pub std::process::Child);

impl Process {
    pub fn id(&self) -> u32 {
        self.0.id()
    }

    pub fn signal(&self, signal: &str) {
        let status = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &self.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -{signal}");
    }

    /// Waits for the process to exit, at most `timeout`.
    pub async fn wait(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "process did not exit within {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `cartwheel <args>` with only the given environment (plus PATH), output discarded
/// unless TEST_LOG is set.
pub fn cartwheel_process(args: &[&str], env: &[(&str, &str)]) -> Process {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_cartwheel"));
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env(
            "RUST_LOG",
            if std::env::var_os("TEST_LOG").is_some() {
                "info"
            } else {
                "warn"
            },
        )
        .envs(env.iter().copied());
    if std::env::var_os("TEST_LOG").is_none() {
        command.stdout(std::process::Stdio::null());
        command.stderr(std::process::Stdio::null());
    }
    Process(command.spawn().expect("start cartwheel"))
}

/// Polls `check` until it is true, failing the test after `timeout`.
pub async fn eventually<F, Fut>(timeout: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while !check().await {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The first column of the first row of `sql`, as an integer.
pub async fn scalar(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            sql.to_string(),
        ))
        .await
        .unwrap()
        .expect("a row");
    row.try_get_by_index::<i64>(0).unwrap()
}

/// The job table's name on this database.
pub fn jobs_table(db: &DatabaseConnection) -> &'static str {
    match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => "apalis.jobs",
        _ => "Jobs",
    }
}

/// Waits (up to 20 s) until the tenant `slug` is READY.
pub async fn wait_until_ready(app: &TestApp, slug: &str) {
    let sql = format!("SELECT COUNT(*) FROM tenants WHERE slug = '{slug}' AND status = 'READY'");
    eventually(
        Duration::from_secs(20),
        &format!("tenant {slug} READY"),
        || async { scalar(&app.db, &sql).await == 1 },
    )
    .await;
}

/// The first column of the first row of `sql`, as a uuid.
pub async fn scalar_uuid(db: &DatabaseConnection, sql: &str) -> uuid::Uuid {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            sql.to_string(),
        ))
        .await
        .unwrap()
        .expect("a row");
    row.try_get_by_index::<uuid::Uuid>(0).unwrap()
}
