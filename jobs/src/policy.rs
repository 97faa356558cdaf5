//! Retry policies: how many attempts a job gets and how far apart they are.

use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total runs, the first included; after the last failed one the job is dead.
    pub max_attempts: u32,
    /// Delay before the second attempt; it doubles for each attempt after that.
    pub base_delay: Duration,
    /// No retry waits longer than this.
    pub max_delay: Duration,
}

impl RetryPolicy {
    pub const fn new(max_attempts: u32, base_delay: Duration, max_delay: Duration) -> Self {
        Self {
            max_attempts,
            base_delay,
            max_delay,
        }
    }

    /// The wait after failed attempt number `attempt` (1-based): exponential, capped, with
    /// "equal jitter" (half fixed, half random) so a burst of failures does not retry in lockstep.
    pub fn backoff(&self, attempt: u32, random: f64) -> Duration {
        let exponent = attempt.saturating_sub(1).min(30);
        let full = self
            .base_delay
            .saturating_mul(1u32 << exponent)
            .min(self.max_delay);
        let half = full / 2;
        half + half.mul_f64(random.clamp(0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: RetryPolicy =
        RetryPolicy::new(5, Duration::from_secs(2), Duration::from_secs(60));

    #[test]
    fn backoff_doubles_within_jitter_and_is_capped() {
        for attempt in 1..=4 {
            let full = Duration::from_secs(2 << (attempt - 1));
            assert_eq!(POLICY.backoff(attempt, 0.0), full / 2);
            assert_eq!(POLICY.backoff(attempt, 1.0), full);
        }
        assert_eq!(POLICY.backoff(20, 1.0), Duration::from_secs(60));
        assert_eq!(POLICY.backoff(u32::MAX, 1.0), Duration::from_secs(60));
    }
}
