//! A polling interval that keeps ticking.
//!
//! apalis 1.0's `IntervalStrategy` replaces its timer after it fires without polling the new
//! one, so once a poll finds nothing the worker sleeps until the next heartbeat (seconds later):
//! retries, delayed jobs and hand-retried jobs would wait that long. This one re-arms at once.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use apalis_core::backend::ext::poll_strategy::{PollSnapshot, PollStrategy};
use tokio::time::{Instant, Sleep};

pub struct Ticker {
    period: Duration,
    sleep: Pin<Box<Sleep>>,
}

impl Ticker {
    pub fn new(period: Duration) -> Self {
        Self {
            period,
            sleep: Box::pin(tokio::time::sleep(period)),
        }
    }
}

impl PollStrategy for Ticker {
    fn poll_drive(&mut self, cx: &mut Context<'_>, _: &PollSnapshot) -> Poll<Option<()>> {
        if self.sleep.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        self.sleep.as_mut().reset(Instant::now() + self.period);
        // Polling the fresh timer registers this task's waker for the next tick.
        let _ = self.sleep.as_mut().poll(cx);
        Poll::Ready(Some(()))
    }
}
