//! Time source. Neither the use cases nor the store call `OffsetDateTime::now_utc()` directly:
//! the application's clock is handed to the store ([`crate::Store::with_clock`]), so every
//! timestamp written (`created_at`, audit lines, decisions) comes from the same clock, and tests
//! move time forward for both (activation links expire after 60 minutes, sessions after their
//! lifetime, deadlines and retries will depend on it).

use std::sync::{Arc, Mutex};

use time::{Duration, OffsetDateTime};

/// The application clock: the system clock, or a manual one in tests.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    manual: Option<Arc<Mutex<OffsetDateTime>>>,
}

impl Clock {
    /// The real UTC clock.
    pub fn system() -> Self {
        Self { manual: None }
    }

    /// A clock frozen at `start` that only moves with [`Clock::advance`].
    pub fn manual(start: OffsetDateTime) -> Self {
        Self {
            manual: Some(Arc::new(Mutex::new(start))),
        }
    }

    /// Current UTC time in whole seconds, as the store keeps timestamps on both backends.
    pub fn now(&self) -> OffsetDateTime {
        let t = match &self.manual {
            Some(m) => *m.lock().unwrap_or_else(|p| p.into_inner()),
            None => OffsetDateTime::now_utc(),
        };
        crate::normalize_time(t)
    }

    /// Moves a manual clock forward; no effect on the system clock.
    pub fn advance(&self, by: Duration) {
        if let Some(m) = &self.manual {
            let mut guard = m.lock().unwrap_or_else(|p| p.into_inner());
            *guard += by;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let start = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000) + Duration::seconds(7);
        let c = Clock::manual(start);
        assert_eq!(c.now(), start);
        c.advance(Duration::minutes(61));
        assert_eq!(c.now(), start + Duration::minutes(61));
    }
}
