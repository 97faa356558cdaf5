//! The `cartwheel` binary itself: starts, serves, stops on SIGTERM, refuses bad settings.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn cartwheel(dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cartwheel"));
    command
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn");
    command
}

fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("cw_bin_{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn serves_health_and_exits_0_on_sigterm() {
    let dir = temp_dir();
    let mut child = cartwheel(&dir)
        .arg("serve")
        .env("CARTWHEEL_BIND", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let address = tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stdout).lines();
        lines
            .find_map(|line| {
                line.ok()?
                    .strip_prefix("Cartwheel is listening on ")
                    .map(str::to_string)
            })
            .expect("the binary prints its address")
    })
    .await
    .unwrap();
    let response = reqwest::get(format!("{address}/health")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        dir.join("cartwheel.db").exists(),
        "the default SQLite database is used"
    );

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert_eq!(exit.code(), Some(0));
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn refuses_unknown_keys_and_bad_values_naming_them() {
    let dir = temp_dir();
    let output = cartwheel(&dir)
        .env("CARTWHEEL_RATE_LIMT", "5")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("CARTWHEEL_RATE_LIMT"));

    let output = cartwheel(&dir)
        .env("CARTWHEEL_BIND", "not-an-address")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("CARTWHEEL_BIND"));

    std::fs::write(dir.join("cartwheel.toml"), "listen = \"0.0.0.0:80\"\n").unwrap();
    let output = cartwheel(&dir).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("`listen`"));
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn split_roles_refuse_sqlite_and_point_to_serve() {
    let dir = temp_dir();
    for role in ["api", "worker", "scheduler"] {
        let output = cartwheel(&dir).arg(role).output().unwrap();
        assert!(!output.status.success(), "{role}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("cartwheel serve"), "{role}: {stderr}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn migrate_up_and_status() {
    let dir = temp_dir();
    let output = cartwheel(&dir).args(["migrate", "up"]).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = cartwheel(&dir)
        .args(["migrate", "status"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("Applied") && stdout.contains("create_tenants"),
        "{stdout}"
    );
    assert!(stdout.contains("job storage: ready"), "{stdout}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn every_command_has_help() {
    let dir = temp_dir();
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["api", "--help"],
        vec!["worker", "--help"],
        vec!["scheduler", "--help"],
        vec!["migrate", "--help"],
    ] {
        let output = cartwheel(&dir).args(&args).output().unwrap();
        assert!(output.status.success(), "{args:?}");
        assert!(String::from_utf8_lossy(&output.stdout).contains("Usage"));
    }
    let _ = std::fs::remove_dir_all(dir);
}
