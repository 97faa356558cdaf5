//! The `cartwheel` binary as a child process, for tests where processes matter.

use std::path::PathBuf;
use std::time::{Duration, Instant};

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
    let mut command = std::process::Command::new(binary());
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

/// The `cartwheel` binary cargo built beside the test binary (`target/<profile>/cartwheel`;
/// test binaries live in `target/<profile>/deps`).
pub fn binary() -> PathBuf {
    let test = std::env::current_exe().expect("the test binary's path");
    let profile = test
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test binaries live in target/<profile>/deps");
    let binary = profile.join("cartwheel");
    assert!(
        binary.exists(),
        "{} is missing: run the tests with cargo, which builds it",
        binary.display()
    );
    binary
}
