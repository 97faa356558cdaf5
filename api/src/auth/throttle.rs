//! Budgets per account, in this process: failed logins and reset requests, counted by shop,
//! kind of account and email address (whether or not an account has the address, so a refusal
//! tells nothing) in fixed windows. The per-address rate limit cannot stop one account being
//! guessed at from many addresses; this does.

use cartwheel_entity::TenantId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use poem::http::StatusCode;

use crate::problem::ProblemJson;

/// `(shop, "admin" or "customer", email as given, trimmed and lowercased)`.
pub type Key = (TenantId, &'static str, String);

pub fn key(tenant_id: TenantId, account: &'static str, email: &str) -> Key {
    (tenant_id, account, email.trim().to_ascii_lowercase())
}

#[derive(Clone)]
pub struct AccountThrottle {
    limit: u32,
    window: Duration,
    what: &'static str,
    counts: Arc<Mutex<HashMap<Key, (Instant, u32)>>>,
}

impl AccountThrottle {
    pub fn new(limit: u32, window: Duration, what: &'static str) -> Self {
        Self {
            limit,
            window,
            what,
            counts: Arc::default(),
        }
    }

    /// A 429 saying when to retry if the account's budget is spent.
    pub fn check(&self, key: &Key) -> Result<(), ProblemJson> {
        let now = Instant::now();
        let counts = crate::locks::lock(&self.counts);
        match counts.get(key) {
            Some((started, count)) if *count >= self.limit && now < *started + self.window => {
                let wait = (*started + self.window - now).as_secs().max(1);
                Err(ProblemJson::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate-limited",
                    format!(
                        "Too many {} for this account; retry in {wait} s.",
                        self.what
                    ),
                )
                .with_retry_after(wait))
            }
            _ => Ok(()),
        }
    }

    /// Counts one attempt against the account.
    pub fn spend(&self, key: &Key) {
        let now = Instant::now();
        let mut counts = crate::locks::lock(&self.counts);
        if counts.len() > 100_000 {
            let window = self.window;
            counts.retain(|_, (started, _)| now < *started + window);
        }
        let entry = counts.entry(key.clone()).or_insert((now, 0));
        if now >= entry.0 + self.window {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }

    /// Forgets the account's attempts (after a successful login).
    pub fn clear(&self, key: &Key) {
        crate::locks::lock(&self.counts).remove(key);
    }
}

/// The budgets: 10 failed logins per account per 15 minutes, 5 reset requests per hour.
#[derive(Clone)]
pub struct Throttles {
    pub logins: AccountThrottle,
    pub resets: AccountThrottle,
}

impl Default for Throttles {
    fn default() -> Self {
        Self {
            logins: AccountThrottle::new(10, Duration::from_secs(15 * 60), "failed logins"),
            resets: AccountThrottle::new(5, Duration::from_secs(3600), "reset requests"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn a_spent_budget_refuses_until_cleared_or_the_window_ends() {
        let throttle = AccountThrottle::new(2, Duration::from_secs(60), "tries");
        let kim = key(TenantId(Uuid::nil()), "customer", " Kim@Example.com");
        let lee = key(TenantId(Uuid::nil()), "customer", "lee@example.com");
        throttle.spend(&kim);
        assert!(throttle.check(&kim).is_ok());
        throttle.spend(&kim);
        let refused = throttle.check(&kim).unwrap_err();
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(
            throttle
                .check(&key(TenantId(Uuid::nil()), "customer", "kim@example.com"))
                .is_err()
        );
        assert!(throttle.check(&lee).is_ok());
        throttle.clear(&kim);
        assert!(throttle.check(&kim).is_ok());
    }
}
