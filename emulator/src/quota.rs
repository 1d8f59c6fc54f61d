//! The API gateway's throttling: at most `quota_per_second` calls to each API
//! in each second, as Huawei Cloud's gateway counts them (per API, in fixed
//! windows). A call over the quota is answered 429 `APIGW.0308` without a
//! `Retry-After`, so a client must find its own pace. Off (0) by default.

use std::collections::HashMap;
use std::time::Instant;

/// Calls per API in the current one-second window.
#[derive(Debug)]
pub struct Quota {
    epoch: Instant,
    windows: HashMap<&'static str, (u64, u64)>,
    /// Calls answered 429 since the counters were last reset.
    pub throttled: u64,
}

impl Default for Quota {
    fn default() -> Self {
        Quota {
            epoch: Instant::now(),
            windows: HashMap::new(),
            throttled: 0,
        }
    }
}

impl Quota {
    /// Counts a call to `api` at `now`; false when it is over `per_second`
    /// (0: no quota) and must be refused.
    pub fn admit(&mut self, api: &'static str, per_second: u64, now: Instant) -> bool {
        if per_second == 0 {
            return true;
        }
        let second = now.saturating_duration_since(self.epoch).as_secs();
        let (window, count) = self.windows.entry(api).or_insert((second, 0));
        if *window != second {
            *window = second;
            *count = 0;
        }
        if *count >= per_second {
            self.throttled += 1;
            return false;
        }
        *count += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn each_api_gets_its_quota_in_each_second() {
        let mut q = Quota::default();
        let t = q.epoch;
        assert!(q.admit("list_jobs", 2, t));
        assert!(q.admit("list_jobs", 2, t));
        assert!(!q.admit("list_jobs", 2, t + Duration::from_millis(900)));
        assert!(q.admit("phones_traffic", 2, t));
        assert!(q.admit("list_jobs", 2, t + Duration::from_millis(1000)));
        assert_eq!(q.throttled, 1);
        assert!(q.admit("list_jobs", 0, t), "0 is no quota");
    }
}
