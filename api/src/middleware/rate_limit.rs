//! Per-client request budget, in this process: `governor`'s keyed GCRA, a burst of the
//! per-minute limit refilled evenly over the minute. A client is an IPv4 address or an IPv6
//! /64 (what one subscriber is given, so rotating addresses inside it buys nothing). Idle
//! clients are forgotten once a minute, off the request path.

use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter as Gcra};
use poem::http::{Method, StatusCode};
use poem::{Endpoint, IntoResponse, Request, Response, Result};

use super::Step;
use super::client_ip::client_ip;
use crate::problem::ProblemJson;

type Budgets =
    Gcra<IpAddr, DefaultKeyedStateStore<IpAddr>, DefaultClock, StateInformationMiddleware>;

/// Paths that are never limited: probes and scrapers must always get through.
fn is_exempt(path: &str) -> bool {
    path == "/health"
        || path.starts_with("/health/")
        || path == "/metrics"
        // Stripe delivers a shop's events from a few addresses, as fast as they happen; each
        // is checked against the shop's signing secret before anything is stored.
        || path == "/api/v1/store/payments/webhook"
}

#[derive(Clone)]
pub struct RateLimiter {
    limit: u32,
    /// How long one request's share takes to come back.
    refill: Duration,
    /// Limits only this method and path when set (a stricter budget for one endpoint).
    only: Option<(Method, &'static str)>,
    trusted_proxies: Arc<Vec<IpAddr>>,
    budgets: Arc<Budgets>,
}

/// What the limiter decided for one request.
pub struct Decision {
    pub allowed: bool,
    pub remaining: u32,
    /// Until the next request would be allowed (refused), or the full budget is back (allowed).
    pub reset_after: Duration,
}

impl RateLimiter {
    /// `limit` requests a minute per client (at least 1).
    pub fn new(limit: u32, trusted_proxies: Vec<IpAddr>) -> Self {
        let limit = NonZeroU32::new(limit).unwrap_or(NonZeroU32::MIN);
        Self::with_quota(Quota::per_minute(limit), trusted_proxies)
    }

    fn with_quota(quota: Quota, trusted_proxies: Vec<IpAddr>) -> Self {
        let budgets = Arc::new(Gcra::keyed(quota).with_middleware::<StateInformationMiddleware>());
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let weak = Arc::downgrade(&budgets);
            runtime.spawn(async move {
                let mut every = tokio::time::interval(Duration::from_secs(60));
                loop {
                    every.tick().await;
                    let Some(budgets) = weak.upgrade() else {
                        return;
                    };
                    budgets.retain_recent();
                    budgets.shrink_to_fit();
                }
            });
        }
        Self {
            limit: quota.burst_size().get(),
            refill: quota.replenish_interval(),
            only: None,
            trusted_proxies: Arc::new(trusted_proxies),
            budgets,
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

    pub fn check(&self, ip: IpAddr) -> Decision {
        match self.budgets.check_key(&client_of(ip)) {
            Ok(state) => {
                let remaining = state.remaining_burst_capacity();
                Decision {
                    allowed: true,
                    remaining,
                    reset_after: self.refill * (self.limit - remaining),
                }
            }
            Err(refused) => Decision {
                allowed: false,
                remaining: 0,
                reset_after: refused.wait_time_from(self.budgets.clock().now()),
            },
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
        let decision = self.check(ip);
        let limit = self.limit.to_string();
        let remaining = decision.remaining.to_string();
        let reset = decision
            .reset_after
            .as_secs_f64()
            .ceil()
            .max(1.0)
            .to_string();
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

    /// A budget of `burst` that refills one request every 50 ms.
    fn quick(burst: u32) -> RateLimiter {
        let quota = Quota::with_period(Duration::from_millis(50))
            .unwrap()
            .allow_burst(NonZeroU32::new(burst).unwrap());
        RateLimiter::with_quota(quota, vec![])
    }

    #[test]
    fn the_limit_plus_one_is_refused_until_a_share_comes_back() {
        let limiter = quick(3);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for expected_remaining in [2, 1, 0] {
            let d = limiter.check(ip);
            assert!(d.allowed);
            assert_eq!(d.remaining, expected_remaining);
        }
        let refused = limiter.check(ip);
        assert!(!refused.allowed);
        assert!(refused.reset_after <= Duration::from_millis(50));
        assert!(limiter.check("10.0.0.2".parse().unwrap()).allowed);
        std::thread::sleep(Duration::from_millis(60));
        assert!(limiter.check(ip).allowed);
    }

    #[test]
    fn a_minute_limit_is_a_burst_of_it() {
        let limiter = RateLimiter::new(100, vec![]);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let first = limiter.check(ip);
        assert_eq!(first.remaining, 99);
        assert_eq!(first.reset_after, Duration::from_millis(600));
    }

    #[test]
    fn an_ipv6_client_is_its_slash_64() {
        let limiter = quick(2);
        for host in ["2001:db8:1:2::1", "2001:db8:1:2::2"] {
            assert!(limiter.check(host.parse().unwrap()).allowed);
        }
        let same_64: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert!(!limiter.check(same_64).allowed);
        let next_64: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert!(limiter.check(next_64).allowed);
        // An IPv4 client reached over IPv6 is the IPv4 client.
        let v4 = quick(1);
        assert!(v4.check("192.0.2.1".parse().unwrap()).allowed);
        assert!(!v4.check("::ffff:192.0.2.1".parse().unwrap()).allowed);
    }
}
