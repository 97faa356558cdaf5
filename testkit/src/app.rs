//! `spawn_app()`: the real application on 127.0.0.1:0 against a fresh database per test.

use std::sync::Arc;
use std::time::Duration;

use cartwheel::config::Config;
use cartwheel::startup::{Application, Role};
use sea_orm::DatabaseConnection;
use tokio::sync::oneshot;

use crate::database::{Backend, TestDatabase};
use crate::sql::scalar;
use crate::wait::eventually;

/// The application serving on a random port, with its own database.
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

    /// The URL of the app's database (for a process run against it).
    pub fn database_url(&self) -> &str {
        &self.database_url
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
