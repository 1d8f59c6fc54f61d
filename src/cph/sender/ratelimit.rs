//! The sender's rate limiter, shared by every clone of a
//! [`Client`](crate::cph::Client) so that Terraform's parallel operations
//! cannot flood the API, and adaptive so that a throttled client backs off.
//!
//! It owns the pace of calls:
//! - a token bucket in its GCRA form: one call every `1/rate` seconds on
//!   average, with bursts of up to `rate` calls (one second's worth) while
//!   running at the configured rate;
//! - on a 429 the rate halves (at most once a second, never below 1/16 of the
//!   configured rate) and, when the answer said `Retry-After`, no call starts
//!   before that time has passed (capped at [`MAX_RETRY_AFTER`]);
//! - every successful call gives back a tenth of the configured rate until it
//!   is reached again.
//!
//! Each slow-down and recovery step is logged at DEBUG. Time is tokio's, so
//! tests run it on a paused clock.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

use super::retry::MAX_RETRY_AFTER;

/// The rate never falls below the configured one divided by this.
const MIN_RATE_DIVISOR: f64 = 16.0;
/// Each successful call raises the rate by the configured one divided by this.
const RECOVERY_STEPS: f64 = 10.0;
/// Concurrent 429s within this time halve the rate once.
const SLOWDOWN_GUARD: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub(crate) struct RateLimiter {
    /// Configured calls per second; `None`: unlimited.
    configured: Option<f64>,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// Calls per second now: the configured rate, or less after a 429.
    current: f64,
    /// Theoretical arrival time of the next call.
    tat: Option<Instant>,
    /// No call starts before this (a `Retry-After`).
    paused_until: Option<Instant>,
    /// When the rate was last halved.
    last_slowdown: Option<Instant>,
}

impl RateLimiter {
    /// `max_requests_per_second` zero (or not a positive number) disables
    /// pacing; `Retry-After` pauses still apply.
    pub(crate) fn new(max_requests_per_second: f64) -> RateLimiter {
        let configured = (max_requests_per_second.is_finite() && max_requests_per_second > 0.0)
            .then_some(max_requests_per_second);
        RateLimiter {
            configured,
            state: Mutex::new(State {
                current: configured.unwrap_or(0.0),
                tat: None,
                paused_until: None,
                last_slowdown: None,
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The rate calls are spaced at now; `None` when unlimited.
    #[cfg(test)]
    pub(crate) fn current_rate(&self) -> Option<f64> {
        self.configured.map(|_| self.state().current)
    }

    /// Reserves the next slot and returns how long the caller must wait
    /// before sending (zero when a slot is free now).
    pub(crate) fn reserve(&self) -> Duration {
        let now = Instant::now();
        let mut state = self.state();
        let start = state.paused_until.map_or(now, |p| p.max(now));
        let Some(configured) = self.configured else {
            return start - now;
        };
        let interval = interval(state.current);
        let burst_window = burst_window(configured, state.current, interval);
        let next = state.tat.map_or(start, |t| t.max(start));
        state.tat = Some(next + interval);
        let allowed_at = next.checked_sub(burst_window).unwrap_or(start).max(start);
        allowed_at - now
    }

    /// Time left of a `Retry-After` pause, if one is running: a caller whose
    /// slot came up during a pause waits for its end too.
    pub(crate) fn pause_left(&self) -> Option<Duration> {
        let now = Instant::now();
        self.state()
            .paused_until
            .filter(|p| *p > now)
            .map(|p| p - now)
    }

    /// Waits for a slot and for the end of any pause (tests; the sender
    /// waits in a way that a cancellation interrupts).
    #[cfg(test)]
    pub(crate) async fn acquire(&self) {
        tokio::time::sleep(self.reserve()).await;
        while let Some(left) = self.pause_left() {
            tokio::time::sleep(left).await;
        }
    }

    /// The API answered 429: slow down, and pause for `retry_after` when the
    /// answer said how long.
    pub(crate) fn throttled(&self, retry_after: Option<Duration>) {
        let now = Instant::now();
        let mut state = self.state();
        if let Some(delay) = retry_after {
            let until = now + delay.min(MAX_RETRY_AFTER);
            if state.paused_until.is_none_or(|p| p < until) {
                state.paused_until = Some(until);
                tracing::debug!(
                    target: "cph",
                    pause_ms = millis(delay.min(MAX_RETRY_AFTER)),
                    "rate limit: throttled by the API, no call before Retry-After has passed"
                );
            }
        }
        let Some(configured) = self.configured else {
            return;
        };
        let recent = state
            .last_slowdown
            .is_some_and(|at| now.saturating_duration_since(at) < SLOWDOWN_GUARD);
        if recent {
            return;
        }
        let slower = slowed_rate(configured, state.current);
        state.last_slowdown = Some(now);
        if slower < state.current {
            tracing::debug!(
                target: "cph",
                from = state.current,
                to = slower,
                configured,
                "rate limit: throttled by the API, slowing down"
            );
            state.current = slower;
        }
    }

    /// A call succeeded: recover a step towards the configured rate.
    pub(crate) fn succeeded(&self) {
        let Some(configured) = self.configured else {
            return;
        };
        let mut state = self.state();
        if state.current >= configured {
            return;
        }
        let faster = recovered_rate(configured, state.current);
        tracing::debug!(
            target: "cph",
            from = state.current,
            to = faster,
            configured,
            "rate limit: recovering after successful calls"
        );
        state.current = faster;
    }
}

/// Time between two calls at `rate` (whole nanoseconds, rounded).
fn interval(rate: f64) -> Duration {
    Duration::from_nanos((1e9 / rate).round().min(u64::MAX as f64) as u64)
}

/// How far ahead of the schedule a burst may run: a second's worth at the
/// configured rate; none while slowed down.
fn burst_window(configured: f64, current: f64, interval: Duration) -> Duration {
    if current < configured {
        return Duration::ZERO;
    }
    let extra = (configured.floor() - 1.0).max(0.0);
    interval.mul_f64(extra)
}

/// The rate after a 429: half, but not below the floor.
fn slowed_rate(configured: f64, current: f64) -> f64 {
    (current / 2.0).max(configured / MIN_RATE_DIVISOR)
}

/// The rate after a success: one step up, but not above the configured one.
fn recovered_rate(configured: f64, current: f64) -> f64 {
    (current + configured / RECOVERY_STEPS).min(configured)
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unlimited_never_waits() {
        let l = RateLimiter::new(0.0);
        for _ in 0..1000 {
            assert_eq!(l.reserve(), Duration::ZERO);
        }
    }

    #[test]
    fn bursts_then_spaces_requests() {
        let l = RateLimiter::new(10.0);
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

    /// Starts `n` calls one after the other and returns when each could start.
    async fn start_times(l: &RateLimiter, n: usize) -> Vec<Duration> {
        let t0 = Instant::now();
        let mut at = Vec::new();
        for _ in 0..n {
            l.acquire().await;
            at.push(Instant::now() - t0);
        }
        at
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_halves_the_rate_and_drops_the_burst() {
        let l = RateLimiter::new(10.0);
        l.throttled(None);
        assert_eq!(l.current_rate(), Some(5.0));
        let at = start_times(&l, 3).await;
        assert_eq!(
            at,
            vec![
                Duration::ZERO,
                Duration::from_millis(200),
                Duration::from_millis(400)
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_429s_halve_once_and_never_below_the_floor() {
        let l = RateLimiter::new(16.0);
        l.throttled(None);
        l.throttled(None);
        assert_eq!(l.current_rate(), Some(8.0));
        for _ in 0..10 {
            tokio::time::advance(SLOWDOWN_GUARD).await;
            l.throttled(None);
        }
        assert_eq!(l.current_rate(), Some(1.0));
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_pauses_every_caller() {
        let l = RateLimiter::new(100.0);
        // A caller holding a slot already waits for the pause too.
        let t0 = Instant::now();
        let early = l.reserve();
        assert_eq!(early, Duration::ZERO);
        l.throttled(Some(Duration::from_secs(3)));
        assert_eq!(l.pause_left(), Some(Duration::from_secs(3)));
        l.acquire().await;
        assert!(Instant::now() - t0 >= Duration::from_secs(3));
        assert_eq!(l.pause_left(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_applies_when_unlimited_and_is_capped() {
        let l = RateLimiter::new(0.0);
        l.throttled(Some(Duration::from_secs(2)));
        assert_eq!(l.reserve(), Duration::from_secs(2));
        assert_eq!(l.current_rate(), None);
        l.throttled(Some(Duration::from_secs(3600)));
        assert_eq!(l.pause_left(), Some(MAX_RETRY_AFTER));
    }

    #[tokio::test(start_paused = true)]
    async fn recovers_step_by_step_to_the_configured_rate() {
        let l = RateLimiter::new(20.0);
        l.throttled(None);
        assert_eq!(l.current_rate(), Some(10.0));
        let mut seen = Vec::new();
        for _ in 0..8 {
            l.succeeded();
            seen.push(l.current_rate().unwrap_or_default());
        }
        assert_eq!(seen, vec![12.0, 14.0, 16.0, 18.0, 20.0, 20.0, 20.0, 20.0]);
        // At the configured rate the burst is back.
        let at = start_times(&l, 20).await;
        assert!(at.iter().all(|t| t.is_zero()), "{at:?}");
    }

    #[test]
    fn slow_down_and_recovery_are_logged() {
        use std::io::Write;
        use std::sync::Arc;
        #[derive(Clone, Default)]
        struct Buf(Arc<Mutex<Vec<u8>>>);
        impl Write for Buf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                if let Ok(mut v) = self.0.lock() {
                    v.extend_from_slice(b);
                }
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf = Buf::default();
        let writer = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let l = RateLimiter::new(20.0);
            l.throttled(Some(Duration::from_secs(1)));
            l.succeeded();
        });
        let logs = String::from_utf8(buf.0.lock().map(|b| b.clone()).unwrap_or_default())
            .unwrap_or_default();
        assert!(logs.contains("DEBUG"), "{logs}");
        assert!(logs.contains("slowing down"), "{logs}");
        assert!(logs.contains("Retry-After"), "{logs}");
        assert!(logs.contains("recovering"), "{logs}");
    }
}
