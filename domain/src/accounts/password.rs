//! Passwords: the strength rule, and argon2id hashing off the async threads, as many at once as
//! there are cores: each takes 19 MiB and a core for tens of milliseconds, so a burst of logins
//! queues for the cores instead of taking the process's memory (512 at once would be 9.5 GiB).

use std::collections::HashSet;
use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use crate::validation::FieldProblem;

pub const MIN_LENGTH: usize = 10;

/// Common passwords of 10 characters or more (shorter ones fail the length rule anyway),
/// from the zxcvbn frequency lists.
static COMMON: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("common_passwords.txt").lines().collect());

/// At least 10 characters, at most 256, and not a well-known password.
pub fn check_strength(field: &'static str, password: &str) -> Result<(), FieldProblem> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err(FieldProblem::new(
            field,
            format!("must be at least {MIN_LENGTH} characters"),
        ));
    }
    if length > 256 {
        return Err(FieldProblem::new(field, "must be at most 256 characters"));
    }
    if COMMON.contains(password.to_lowercase().as_str()) {
        return Err(FieldProblem::new(
            field,
            "is a commonly used password; choose one that is harder to guess",
        ));
    }
    Ok(())
}

/// Hashes and checks running at once, per process.
static HASHING: LazyLock<tokio::sync::Semaphore> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    tokio::sync::Semaphore::new(cores)
});

/// Runs `work` on the blocking pool once one of the [`HASHING`] slots is free.
async fn hashing<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    let _slot = HASHING
        .acquire()
        .await
        .expect("the semaphore is never closed");
    tokio::task::spawn_blocking(work)
        .await
        .expect("hashing does not panic")
}

/// An argon2id PHC string (default parameters: 19 MiB, 2 passes).
#[tracing::instrument(skip_all)]
pub async fn hash(password: String) -> String {
    hashing(move || {
        let salt =
            SaltString::encode_b64(&rand::random::<[u8; 16]>()).expect("16 bytes is a valid salt");
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .expect("argon2 with default parameters hashes any input")
            .to_string()
    })
    .await
}

/// Checks `password` against a stored hash; `None` still spends the time of one check, so an
/// unknown account answers as slowly as a wrong password.
#[tracing::instrument(skip_all)]
pub async fn verify(password: String, stored: Option<String>) -> bool {
    hashing(move || {
        let stored = stored.unwrap_or_else(|| DUMMY_HASH.clone());
        let Ok(parsed) = PasswordHash::new(&stored) else {
            return false;
        };
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        ok && stored != *DUMMY_HASH
    })
    .await
}

static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let salt = SaltString::encode_b64(&[0u8; 16]).expect("valid salt");
    Argon2::default()
        .hash_password(b"no account has this password", &salt)
        .expect("hashes")
        .to_string()
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strength() {
        assert!(check_strength("p", "short").is_err());
        assert!(check_strength("p", "1234567890").is_err());
        assert!(check_strength("p", "Password123").is_err());
        assert!(check_strength("p", "correct horse battery").is_ok());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn hashing_runs_at_most_one_per_core() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static RUNNING: AtomicUsize = AtomicUsize::new(0);
        static PEAK: AtomicUsize = AtomicUsize::new(0);
        let burst: Vec<_> = (0..32)
            .map(|_| {
                tokio::spawn(hashing(|| {
                    let now = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
                    PEAK.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    RUNNING.fetch_sub(1, Ordering::SeqCst);
                }))
            })
            .collect();
        for task in burst {
            task.await.unwrap();
        }
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        assert!(
            PEAK.load(Ordering::SeqCst) <= cores,
            "{PEAK:?} at once on {cores} cores"
        );
    }

    #[tokio::test]
    async fn hash_and_verify() {
        let stored = hash("correct horse battery".into()).await;
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify("correct horse battery".into(), Some(stored.clone())).await);
        assert!(!verify("wrong horse battery".into(), Some(stored)).await);
        assert!(!verify("no account has this password".into(), None).await);
    }
}
