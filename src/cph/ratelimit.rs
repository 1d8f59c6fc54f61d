//! A client-side rate limiter shared by every clone of a [`Client`], so that
//! Terraform's parallel resource operations cannot flood the API.
//!
//! It is a token bucket in its GCRA form: one request every `1/rate`
//! seconds on average, with bursts of up to `rate` requests (one second's
//! worth). Waiting callers are spaced out fairly; nobody spins.
//!
//! [`Client`]: super::Client

use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct RateLimiter {
    /// Time between two requests at the sustained rate; `None`: unlimited.
    interval: Option<Duration>,
    /// How far ahead of the theoretical schedule a burst may run.
    burst_window: Duration,
    /// Theoretical arrival time of the next request.
    tat: Mutex<Option<Instant>>,
}

impl RateLimiter {
    /// `requests_per_second == 0` disables limiting.
    pub fn new(requests_per_second: u32) -> RateLimiter {
        let interval = (requests_per_second > 0)
            .then(|| Duration::from_secs_f64(1.0 / f64::from(requests_per_second)));
        let burst_window = interval
            .map(|i| i * requests_per_second.saturating_sub(1))
            .unwrap_or_default();
        RateLimiter {
            interval,
            burst_window,
            tat: Mutex::new(None),
        }
    }

    /// Reserves the next slot and returns how long the caller must wait
    /// before sending (zero when a slot is free now).
    pub fn reserve(&self) -> Duration {
        let Some(interval) = self.interval else {
            return Duration::ZERO;
        };
        let now = Instant::now();
        let mut tat = match self.tat.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let next = match *tat {
            Some(t) if t > now => t,
            _ => now,
        };
        *tat = Some(next + interval);
        let allowed_at = next.checked_sub(self.burst_window).unwrap_or(now);
        allowed_at.saturating_duration_since(now)
    }

    /// Waits for a slot.
    pub async fn acquire(&self) {
        let wait = self.reserve();
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unlimited_never_waits() {
        let l = RateLimiter::new(0);
        for _ in 0..1000 {
            assert_eq!(l.reserve(), Duration::ZERO);
        }
    }

    #[test]
    fn bursts_then_spaces_requests() {
        let l = RateLimiter::new(10);
        // A burst of 10 goes through at once.
        for _ in 0..10 {
            assert!(l.reserve() < Duration::from_millis(5));
        }
        // The next ones are spaced 100 ms apart.
        let w1 = l.reserve();
        let w2 = l.reserve();
        assert!(w1 > Duration::from_millis(50), "{w1:?}");
        assert!(w2 > w1 + Duration::from_millis(50), "{w1:?} {w2:?}");
    }
}
