//! When the order tracker's wait reads what: a pure schedule of the time
//! waited, so that it is tested without a clock.
//!
//! While an order is processed, each round reads the server detail (and BSS)
//! and the pause between rounds grows: a quarter of the time waited, 0.5 s
//! to 10 s (the job poller's interval). Once BSS says the order is pending
//! payment and nothing will pay it (no `auto_pay`), nothing changes until a
//! person pays: the server is not read, and BSS is read every
//! [`UNPAID_EARLY_PAUSE`] for the first [`UNPAID_FIRST`] of that, then every
//! [`UNPAID_PAUSE`], and not again at the deadline. As soon as BSS says
//! anything else, the same round reads the server and the growing interval
//! applies again (with a last look at the deadline).

use std::time::Duration;

use super::poller::quarter_of;

/// How long after an order is first seen unpaid BSS is still read often
/// (a person paying at once in the console is seen soon).
pub const UNPAID_FIRST: Duration = Duration::from_secs(60);
/// The pause between BSS reads in that first minute.
pub const UNPAID_EARLY_PAUSE: Duration = Duration::from_secs(10);
/// The pause between BSS reads after it: at most one read per 30 s.
pub const UNPAID_PAUSE: Duration = Duration::from_secs(30);

/// The schedule of one wait. Times are offsets from the start of the wait.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schedule {
    /// When BSS first said the order is unpaid, while it still says so.
    unpaid_since: Option<Duration>,
}

impl Schedule {
    /// Whether the next round reads the server: not while the order is
    /// unpaid (it cannot change the server until it is paid).
    pub fn reads_server(&self) -> bool {
        self.unpaid_since.is_none()
    }

    /// What BSS said at `at`: whether the order is unpaid (pending payment
    /// with nothing to pay it) or not (any other status, or BSS unreadable).
    pub fn order_seen(&mut self, at: Duration, unpaid: bool) {
        self.unpaid_since = match unpaid {
            true => Some(self.unpaid_since.unwrap_or(at)),
            false => None,
        };
    }

    /// The pause after the round at `at`.
    pub fn pause(&self, at: Duration) -> Duration {
        match self.unpaid_since {
            None => quarter_of(at),
            Some(since) if at.saturating_sub(since) < UNPAID_FIRST => UNPAID_EARLY_PAUSE,
            Some(_) => UNPAID_PAUSE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: Duration = Duration::from_secs(1);

    /// The reads of a wait of `timeout` in which BSS says unpaid from
    /// `unpaid_from` on (and paid from `paid_at`), played on the schedule:
    /// (server read times, BSS read times), as the tracker's loop makes them
    /// (a round reads the server, then BSS; an unpaid round reads BSS, and
    /// the server too once BSS says otherwise; a last round at the
    /// deadline unless the order is unpaid).
    fn play(
        timeout: Duration,
        unpaid_from: Duration,
        paid_at: Duration,
    ) -> (Vec<Duration>, Vec<Duration>) {
        let (mut schedule, mut at) = (Schedule::default(), Duration::ZERO);
        let (mut server, mut bss) = (Vec::new(), Vec::new());
        let unpaid = |t: Duration| t >= unpaid_from && t < paid_at;
        loop {
            let asked = !schedule.reads_server();
            if asked {
                bss.push(at);
                schedule.order_seen(at, unpaid(at));
            }
            if schedule.reads_server() {
                server.push(at);
                if !asked {
                    bss.push(at);
                    schedule.order_seen(at, unpaid(at));
                }
            }
            if at >= timeout {
                return (server, bss);
            }
            at += schedule.pause(at).min(timeout - at);
            if !schedule.reads_server() && at >= timeout {
                return (server, bss);
            }
        }
    }

    #[test]
    fn an_unpaid_order_is_read_at_most_once_per_30s_after_the_first_minute_and_the_server_once() {
        let twenty_minutes = 20 * 60 * SEC;
        let (server, bss) = play(twenty_minutes, Duration::ZERO, Duration::MAX);
        assert_eq!(server, vec![Duration::ZERO], "the server is read once");
        for pair in bss.windows(2) {
            let gap = pair[1] - pair[0];
            match pair[0] < UNPAID_FIRST {
                true => assert_eq!(gap, UNPAID_EARLY_PAUSE, "{bss:?}"),
                false => assert!(gap >= UNPAID_PAUSE, "{bss:?}"),
            }
        }
        // 0, 10, ..., 60 s, then every 30 s to 19:30.
        assert_eq!(bss.len(), 7 + 37, "{bss:?}");
        assert_eq!(bss[7] - bss[6], UNPAID_PAUSE);
    }

    #[test]
    fn a_short_timeout_reads_each_once() {
        let (server, bss) = play(3 * SEC, Duration::ZERO, Duration::MAX);
        assert_eq!((server.len(), bss.len()), (1, 1));
    }

    #[test]
    fn once_paid_the_server_is_read_in_the_same_round_and_polling_grows_again() {
        let (server, bss) = play(5 * 60 * SEC, Duration::ZERO, 100 * SEC);
        // Unpaid at 0..90 s; the read at 120 s sees it paid and reads the
        // server at once.
        assert_eq!(server[..2], [Duration::ZERO, 120 * SEC], "{server:?}");
        let after: Vec<_> = bss.iter().filter(|t| **t >= 120 * SEC).collect();
        assert_eq!(after[0], &(120 * SEC));
        // Then server and BSS together, 10 s apart at most (the growing
        // interval's cap).
        assert!(
            after.windows(2).all(|w| *w[1] - *w[0] <= 10 * SEC),
            "{after:?}"
        );
        let together: Vec<_> = server.iter().filter(|t| **t >= 120 * SEC).collect();
        assert_eq!(together, after);
    }

    #[test]
    fn while_processing_the_interval_grows_from_half_a_second() {
        let s = Schedule::default();
        assert_eq!(s.pause(Duration::ZERO), Duration::from_millis(500));
        assert_eq!(s.pause(8 * SEC), 2 * SEC);
        assert_eq!(s.pause(3600 * SEC), 10 * SEC);
        let mut s = Schedule::default();
        s.order_seen(30 * SEC, true);
        s.order_seen(40 * SEC, true);
        assert_eq!(s.pause(89 * SEC), UNPAID_EARLY_PAUSE, "unpaid since 30 s");
        assert_eq!(s.pause(90 * SEC), UNPAID_PAUSE);
        s.order_seen(95 * SEC, false);
        assert!(s.reads_server());
    }
}
