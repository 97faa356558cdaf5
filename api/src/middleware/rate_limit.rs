//! Per-client request budget per minute, in this process (fixed one-minute windows). A client
//! is an IPv4 address or an IPv6 /64 (what one subscriber is given, so rotating addresses
//! inside it buys nothing).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use poem::http::{Method, StatusCode};
use poem::{Endpoint, IntoResponse, Request, Response, Result};

use super::Step;
use super::client_ip::client_ip;
use crate::problem::ProblemJson;

const WINDOW: Duration = Duration::from_secs(60);

/// Paths that are never limited: probes and scrapers must always get through.
fn is_exempt(path: &str) -> bool {
    path == "/health" || path.starts_with("/health/") || path == "/metrics"
}

#[derive(Clone)]
pub struct RateLimiter {
    limit: u32,
    /// Limits only this method and path when set (a stricter budget for one endpoint).
    only: Option<(Method, &'static str)>,
    trusted_proxies: Arc<Vec<IpAddr>>,
    windows: Arc<Mutex<HashMap<IpAddr, Window>>>,
}

#[derive(Clone, Copy)]
struct Window {
    started: Instant,
    count: u32,
}

/// What the limiter decided for one request.
pub struct Decision {
    pub allowed: bool,
    pub remaining: u32,
    pub reset_after: Duration,
}

impl RateLimiter {
    pub fn new(limit: u32, trusted_proxies: Vec<IpAddr>) -> Self {
        Self {
            limit,
            only: None,
            trusted_proxies: Arc::new(trusted_proxies),
            windows: Arc::default(),
        }
    }

    /// Limits only requests with this method to this path (with or without a trailing `/`).
    pub fn only(mut self, method: Method, path: &'static str) -> Self {
        self.only = Some((method, path));
        self
    }

    fn applies_to(&self, req: &Request) -> bool {
        let path = req.uri().path();
        match &self.only {
            Some((method, only)) => req.method() == method && path.trim_end_matches('/') == *only,
            None => !is_exempt(path),
        }
    }

    pub fn check(&self, ip: IpAddr, now: Instant) -> Decision {
        let ip = client_of(ip);
        let mut windows = self.windows.lock().expect("rate limiter lock poisoned");
        if windows.len() > 10_000 {
            windows.retain(|_, w| now.duration_since(w.started) < WINDOW);
        }
        let window = windows.entry(ip).or_insert(Window {
            started: now,
            count: 0,
        });
        if now.duration_since(window.started) >= WINDOW {
            *window = Window {
                started: now,
                count: 0,
            };
        }
        let reset_after = WINDOW.saturating_sub(now.duration_since(window.started));
        if window.count >= self.limit {
            return Decision {
                allowed: false,
                remaining: 0,
                reset_after,
            };
        }
        window.count += 1;
        Decision {
            allowed: true,
            remaining: self.limit - window.count,
            reset_after,
        }
    }
}

/// The budget an address counts against: IPv4 as is (also when mapped into IPv6), IPv6 by its
/// /64 prefix.
fn client_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let prefix = u128::from(v6) & (u128::MAX << 64);
                IpAddr::V6(Ipv6Addr::from(prefix))
            }
        },
    }
}

impl Step for RateLimiter {
    async fn handle<E: Endpoint>(&self, next: &E, req: Request) -> Result<Response> {
        if !self.applies_to(&req) {
            return next.call(req).await.map(IntoResponse::into_response);
        }
        let Some(ip) = client_ip(&req, &self.trusted_proxies) else {
            return next.call(req).await.map(IntoResponse::into_response);
        };
        let decision = self.check(ip, Instant::now());
        let limit = self.limit.to_string();
        let remaining = decision.remaining.to_string();
        let reset = decision.reset_after.as_secs().max(1).to_string();
        let mut response = if decision.allowed {
            next.call(req).await?.into_response()
        } else {
            let mut response = ProblemJson::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                format!(
                    "More than {} requests a minute from this address; retry in {reset} s.",
                    self.limit
                ),
            )
            .into_response();
            response.headers_mut().insert(
                "retry-after",
                reset.parse().expect("digits are a header value"),
            );
            response
        };
        let headers = response.headers_mut();
        headers.insert("ratelimit-limit", limit.parse().expect("digits"));
        headers.insert("ratelimit-remaining", remaining.parse().expect("digits"));
        headers.insert("ratelimit-reset", reset.parse().expect("digits"));
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_plus_one_is_refused_until_the_window_ends() {
        let limiter = RateLimiter::new(3, vec![]);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let start = Instant::now();
        for expected_remaining in [2, 1, 0] {
            let d = limiter.check(ip, start);
            assert!(d.allowed);
            assert_eq!(d.remaining, expected_remaining);
        }
        assert!(!limiter.check(ip, start).allowed);
        assert!(limiter.check("10.0.0.2".parse().unwrap(), start).allowed);
        assert!(limiter.check(ip, start + WINDOW).allowed);
    }

    #[test]
    fn an_ipv6_client_is_its_slash_64() {
        let limiter = RateLimiter::new(2, vec![]);
        let start = Instant::now();
        for host in ["2001:db8:1:2::1", "2001:db8:1:2::2"] {
            assert!(limiter.check(host.parse().unwrap(), start).allowed);
        }
        let same_64: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert!(!limiter.check(same_64, start).allowed);
        let next_64: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert!(limiter.check(next_64, start).allowed);
        // An IPv4 client reached over IPv6 is the IPv4 client.
        let v4 = RateLimiter::new(1, vec![]);
        assert!(v4.check("192.0.2.1".parse().unwrap(), start).allowed);
        assert!(!v4.check("::ffff:192.0.2.1".parse().unwrap(), start).allowed);
    }
}
