//! A per-node sliding-window rate limiter for login and sign-up.
//!
//! State lives in this process's memory: with several `facteur serve` nodes each node counts on its
//! own, so the effective limit is "limit × nodes" — acceptable for slowing password guessing, and
//! documented in the README. Keys are free strings such as `login:email:alice@x.fr` or `login:ip:1.2.3.4`.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use time::{Duration, OffsetDateTime};

/// How many events a key may record within `window`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub window: Duration,
}

/// Limits applied by the account use cases.
#[derive(Clone, Copy, Debug)]
pub struct RateLimits {
    /// Failed logins per e-mail address.
    pub login_per_email: Limit,
    /// Failed logins per client key (IP address as seen by the web layer).
    pub login_per_client: Limit,
    /// Sign-ups (and activation re-sends) per client key.
    pub signup_per_client: Limit,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            login_per_email: Limit {
                max: 10,
                window: Duration::minutes(15),
            },
            login_per_client: Limit {
                max: 50,
                window: Duration::minutes(15),
            },
            signup_per_client: Limit {
                max: 20,
                window: Duration::hours(1),
            },
        }
    }
}

/// Sliding-window counters keyed by string.
#[derive(Debug, Default)]
pub struct RateLimiter {
    events: Mutex<HashMap<String, VecDeque<OffsetDateTime>>>,
}

impl RateLimiter {
    /// Seconds to wait when `key` has reached `limit` at `now`, else `None` (nothing is recorded).
    pub fn check(&self, key: &str, limit: Limit, now: OffsetDateTime) -> Option<u64> {
        let mut map = self.events.lock().unwrap_or_else(|p| p.into_inner());
        let q = map.get_mut(key)?;
        prune(q, now - limit.window);
        if q.len() >= limit.max as usize {
            let oldest = q.front().copied().unwrap_or(now);
            let wait = (oldest + limit.window - now).whole_seconds().max(1);
            Some(u64::try_from(wait).unwrap_or(1))
        } else {
            None
        }
    }

    /// Records one event for `key`.
    pub fn record(&self, key: &str, limit: Limit, now: OffsetDateTime) {
        let mut map = self.events.lock().unwrap_or_else(|p| p.into_inner());
        // Bound memory: drop idle keys once the table grows large.
        if map.len() > 100_000 {
            map.retain(|_, q| q.back().is_some_and(|t| *t > now - limit.window));
        }
        let q = map.entry(key.to_owned()).or_default();
        prune(q, now - limit.window);
        q.push_back(now);
    }

    /// Forgets a key (after a successful login the e-mail's failure count restarts).
    pub fn clear(&self, key: &str) {
        let mut map = self.events.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(key);
    }
}

fn prune(q: &mut VecDeque<OffsetDateTime>, horizon: OffsetDateTime) {
    while q.front().is_some_and(|t| *t <= horizon) {
        q.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_max_then_recovers() {
        let rl = RateLimiter::default();
        let limit = Limit {
            max: 3,
            window: Duration::minutes(1),
        };
        let t0 = OffsetDateTime::UNIX_EPOCH;
        for i in 0..3 {
            assert_eq!(rl.check("k", limit, t0 + Duration::seconds(i)), None);
            rl.record("k", limit, t0 + Duration::seconds(i));
        }
        let wait = rl.check("k", limit, t0 + Duration::seconds(10));
        assert_eq!(wait, Some(50));
        assert_eq!(rl.check("other", limit, t0), None);
        assert_eq!(rl.check("k", limit, t0 + Duration::seconds(61)), None);
        rl.clear("k");
        assert_eq!(rl.check("k", limit, t0 + Duration::seconds(10)), None);
    }
}
