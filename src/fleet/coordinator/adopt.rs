//! Jobs an earlier apply left running, taken up by a new change: followed,
//! not sent again (or holding the change back when they go elsewhere).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{Change, InFlight, RouteState, RunningJob, Waiter};

/// Follows the jobs an earlier apply left running (their request ids go to
/// `adopt` for the poller): those towards the change's route are waited for
/// by `ticket` and not sent again; those towards another route hold the
/// change's phones back until they end. Returns the phones of calls whose
/// answer never came (nothing to follow: they are sent again).
pub(super) fn adopt_running(
    st: &mut RouteState,
    change: &Change,
    ticket: &Arc<Waiter>,
    adopt: &mut Vec<(String, usize)>,
) -> Vec<String> {
    // Jobs an earlier apply left running: follow them, send nothing.
    // A call whose answer never came has nothing to follow: its
    // phones are sent again.
    let (running, resend): (Vec<&RunningJob>, Vec<&RunningJob>) = change
        .running
        .iter()
        .partition(|r| !r.request_id.is_empty());
    let mut adopted: BTreeMap<String, usize> = BTreeMap::new();
    for r in running {
        ticket.sent(
            &r.phone_id,
            &r.request_id,
            r.job_id.as_deref().unwrap_or(""),
        );
        match st.in_flight.get_mut(&r.phone_id) {
            Some(f) => f.tickets.push(ticket.clone()),
            None => {
                st.in_flight.insert(
                    r.phone_id.clone(),
                    InFlight {
                        route: change.route.clone(),
                        job_id: r.job_id.clone(),
                        request_id: Some(r.request_id.clone()),
                        tickets: vec![ticket.clone()],
                    },
                );
                *adopted.entry(r.request_id.clone()).or_default() += 1;
            }
        }
    }
    // Jobs towards another route: followed with nobody waiting on
    // them, so that the change's phones are sent after they end.
    for (route, r) in change
        .elsewhere
        .iter()
        .filter(|(_, r)| !r.request_id.is_empty())
    {
        if st.in_flight.contains_key(&r.phone_id) {
            continue;
        }
        st.in_flight.insert(
            r.phone_id.clone(),
            InFlight {
                route: route.clone(),
                job_id: r.job_id.clone(),
                request_id: Some(r.request_id.clone()),
                tickets: Vec::new(),
            },
        );
        *adopted.entry(r.request_id.clone()).or_default() += 1;
    }
    adopt.extend(adopted);
    resend.into_iter().map(|r| r.phone_id.clone()).collect()
}
