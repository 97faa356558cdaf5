//! `cartwheel serve` on an empty database provisions a `demo` shop through the queue and prints
//! its owner login once; the login works within seconds.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

/// Starts `cartwheel serve` in `dir` with `env` and reads stdout up to the listening line.
fn serve(
    dir: &std::path::Path,
    env: &[(&str, &str)],
) -> (std::process::Child, Vec<String>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cartwheel"))
        .arg("serve")
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn")
        .env("CARTWHEEL_BIND", "127.0.0.1:0")
        .env("CARTWHEEL_WORKER_POLL_MS", "100")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut before = Vec::new();
    let address = loop {
        let line = lines.next().expect("output until listening").unwrap();
        if let Some(address) = line.strip_prefix("Cartwheel is listening on ") {
            break address.to_string();
        }
        before.push(line);
    };
    (child, before, address)
}

fn stop(mut child: std::process::Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

fn value_after<'a>(lines: &'a [String], label: &str) -> Option<&'a str> {
    lines
        .iter()
        .find_map(|l| l.trim().strip_prefix(label).map(str::trim))
}

#[tokio::test]
async fn the_first_serve_prints_a_demo_login_that_works() {
    let dir = std::env::temp_dir().join(format!("cw_first_{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let (child, printed, address) = tokio::task::spawn_blocking({
        let dir = dir.clone();
        move || serve(&dir, &[])
    })
    .await
    .unwrap();
    let email = value_after(&printed, "email:")
        .expect("the owner's email is printed")
        .to_string();
    let password = value_after(&printed, "password:")
        .expect("the password is printed")
        .to_string();
    assert_eq!(email, "owner@demo.example");
    assert!(password.len() >= 16);

    let client = reqwest::Client::new();
    let started = Instant::now();
    let token = loop {
        let response = client
            .post(format!("{address}/api/v1/auth/login"))
            .header("X-Tenant", "demo")
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .unwrap();
        if response.status() == 200 {
            let body: serde_json::Value = response.json().await.unwrap();
            break body["token"].as_str().unwrap().to_string();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "demo login within 20 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let me = client
        .get(format!("{address}/api/v1/auth/me"))
        .header("X-Tenant", "demo")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    // Without SMTP the store-ready mail lands in the outbox folder.
    let deadline = Instant::now() + Duration::from_secs(10);
    let outbox = dir.join("outbox");
    let eml_files = || {
        std::fs::read_dir(&outbox)
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                    .count()
            })
            .unwrap_or(0)
    };
    while eml_files() == 0 {
        assert!(
            Instant::now() < deadline,
            "an .eml file in {}",
            outbox.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop(child);

    // A second start prints no login: the demo shop exists.
    let (child, printed, _) = tokio::task::spawn_blocking({
        let dir = dir.clone();
        move || serve(&dir, &[])
    })
    .await
    .unwrap();
    assert!(value_after(&printed, "password:").is_none(), "{printed:?}");
    stop(child);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn serve_on_an_empty_postgres_makes_no_demo_shop_unless_asked() {
    use cartwheel_testkit::{Backend, TestDatabase, scalar};
    let (database, url) = TestDatabase::create(Backend::Postgres).await;
    let dir = std::env::temp_dir().join(format!("cw_pg_first_{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let secret = "a-test-secret-of-at-least-32-characters";
    let (child, printed, _) = tokio::task::spawn_blocking({
        let (dir, url) = (dir.clone(), url.clone());
        move || {
            serve(
                &dir,
                &[("DATABASE_URL", &url), ("CARTWHEEL_JWT_SECRET", secret)],
            )
        }
    })
    .await
    .unwrap();
    stop(child);
    assert!(value_after(&printed, "password:").is_none(), "{printed:?}");
    let db = sea_orm::Database::connect(&url).await.unwrap();
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM tenants").await, 0);

    // Asked for, it does.
    let (child, printed, _) = tokio::task::spawn_blocking({
        let (dir, url) = (dir.clone(), url.clone());
        move || {
            let env = [
                ("DATABASE_URL", url.as_str()),
                ("CARTWHEEL_JWT_SECRET", secret),
                ("CARTWHEEL_DEMO_SHOP", "true"),
            ];
            serve(&dir, &env)
        }
    })
    .await
    .unwrap();
    stop(child);
    assert!(value_after(&printed, "password:").is_some(), "{printed:?}");
    db.close().await.unwrap();
    drop(database);
    let _ = std::fs::remove_dir_all(dir);
}
