//! When the targets gathered for one merge key go: the window rule a batch
//! kind declares ([`Window`]), and the one flusher task of the batcher that
//! closes windows and sends full calls at once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{ANNOUNCEMENT_LIFETIME, Batcher, Gathering, Pend, State};
use crate::fleet::batch_call::BatchCall;
use crate::fleet::poller::woken_or_due;

/// How long a batch kind's targets wait for others to join their calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The longest, from the first target gathered.
    pub max: Duration,
    /// After a target no plan announced, how long the window stays open
    /// without a new one (`None`: until `max`).
    pub quiet: Option<Duration>,
}

impl Window {
    /// `max` from the first target, whatever comes.
    pub const fn fixed(max: Duration) -> Window {
        Window { max, quiet: None }
    }

    /// When a gathering closes: at its maximum while a plan's announced
    /// change has not arrived, at once when its newest target was
    /// announced, else after the quiet time (within the maximum).
    fn close_at(&self, g: &Gathering, awaiting_announced: bool, now: Instant) -> Instant {
        let latest = g.first + self.max;
        if awaiting_announced {
            latest
        } else if g.last_announced {
            now
        } else {
            self.quiet.map_or(latest, |q| (g.last + q).min(latest))
        }
    }
}

/// Targets taken for sending: their merge key, their call, the targets.
pub(super) type Ready = (String, Arc<dyn BatchCall>, Vec<(String, Pend)>);

impl Batcher {
    pub(super) fn start_flusher(&self, st: &mut State) {
        if st.flusher_started {
            return;
        }
        st.flusher_started = true;
        if let Some(me) = self.me.upgrade() {
            tokio::spawn(async move { me.run_flusher().await });
        }
    }

    async fn run_flusher(self: Arc<Self>) {
        loop {
            let notified = self.wake.notified();
            let (ready, next) = self.take_ready(Instant::now());
            for batch in ready {
                let me = self.clone();
                tokio::spawn(async move { me.send(batch).await });
            }
            woken_or_due(notified, next).await;
        }
    }

    /// The targets to send now (every target of a closed window, whole
    /// calls of an open one), and when to look again. A target taken is on
    /// its way from here on: a withdraw no longer finds it, so its trackers
    /// must not count it as never sent.
    pub(super) fn take_ready(&self, now: Instant) -> (Vec<Ready>, Option<Instant>) {
        let mut st = self.lock();
        let st = &mut *st;
        st.expected
            .retain(|_, at| now.duration_since(*at) < ANNOUNCEMENT_LIFETIME);
        let awaiting = !st.expected.is_empty();
        let mut ready = Vec::new();
        let mut next: Option<Instant> = None;
        for (key, g) in st.pending.iter_mut() {
            let close_at = g.call.window().close_at(g, awaiting, now);
            let take = if now >= close_at {
                g.targets.len()
            } else {
                next = Some(next.map_or(close_at, |n| n.min(close_at)));
                let max = g.call.max_ids().max(1);
                g.targets.len() / max * max
            };
            if take == 0 {
                continue;
            }
            let ids: Vec<String> = g.targets.keys().take(take).cloned().collect();
            let batch: Vec<(String, Pend)> = ids
                .into_iter()
                .filter_map(|id| g.targets.remove(&id).map(|p| (id, p)))
                .collect();
            for (id, p) in &batch {
                p.trackers.iter().for_each(|t| t.on_the_way(id));
            }
            if let Some(lane) = g.call.lane() {
                for (id, _) in &batch {
                    st.lane_pending.remove(&(lane, id.clone()));
                }
            }
            ready.push((key.clone(), g.call.clone(), batch));
        }
        st.pending.retain(|_, g| !g.targets.is_empty());
        (ready, next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn gathering(first: Instant, last: Instant, announced: bool) -> Gathering {
        Gathering {
            call: crate::fleet::batch_call::OpKind::StopPhones.call(None),
            targets: BTreeMap::new(),
            first,
            last,
            last_announced: announced,
        }
    }

    #[test]
    fn a_window_closes_by_its_rule() {
        let ms = Duration::from_millis;
        let t0 = Instant::now();
        let quiet = Window {
            max: ms(100),
            quiet: Some(ms(20)),
        };
        let g = gathering(t0, t0 + ms(10), false);
        assert_eq!(quiet.close_at(&g, false, t0), t0 + ms(30));
        assert_eq!(quiet.close_at(&g, true, t0), t0 + ms(100));
        assert_eq!(Window::fixed(ms(100)).close_at(&g, false, t0), t0 + ms(100));
        let late = gathering(t0, t0 + ms(95), false);
        assert_eq!(quiet.close_at(&late, false, t0), t0 + ms(100));
        let announced = gathering(t0, t0, true);
        assert_eq!(quiet.close_at(&announced, false, t0 + ms(1)), t0 + ms(1));
    }
}
