//! The business clock: real elapsed time times `clock.scale`, in router
//! [`Millis`], starting where the recovered state left off.
//!
//! Business time counts only time the server could take work: it resumes
//! after a restart at the last logged time, and stands still while the
//! input log cannot be written. So no reply timer, grace period or break
//! allowance runs against anyone for time the platform was down (the
//! handbook excuses platform faults).

use std::time::Duration;

use tokio::time::Instant;

use crate::router::Millis;

/// Maps between real instants and the router's business milliseconds.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    /// The real instant at which business time was `base`.
    origin: Instant,
    base: Millis,
    scale: f64,
    /// Stopped at this business time (storage failing), if stopped.
    stopped_at: Option<Millis>,
}

impl Clock {
    /// A clock at business time `base` now; `scale` business seconds pass per real second.
    pub fn new(base: Millis, scale: f64) -> Clock {
        assert!(scale.is_finite() && scale > 0.0, "clock scale must be positive");
        Clock { origin: Instant::now(), base, scale, stopped_at: None }
    }

    /// Business seconds per real second.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    pub fn now(&self) -> Millis {
        self.at(Instant::now())
    }

    /// The business time at a real instant.
    pub fn at(&self, instant: Instant) -> Millis {
        if let Some(stopped) = self.stopped_at {
            return stopped;
        }
        let real = instant.saturating_duration_since(self.origin).as_secs_f64();
        Millis(self.base.0 + (real * self.scale * 1000.0).floor() as u64)
    }

    /// The real instant at which business time `at` is reached (rounded up);
    /// `None` while the clock stands still.
    pub fn instant_at(&self, at: Millis) -> Option<Instant> {
        if self.stopped_at.is_some() {
            return None;
        }
        let real_secs = at.0.saturating_sub(self.base.0) as f64 / 1000.0 / self.scale;
        Some(self.origin + Duration::from_secs_f64(real_secs) + Duration::from_micros(1))
    }

    /// Stops business time where it is now.
    pub fn stop(&mut self) {
        if self.stopped_at.is_none() {
            self.stopped_at = Some(self.now());
        }
    }

    /// Lets business time run again from where it stopped.
    pub fn start(&mut self) {
        if let Some(stopped) = self.stopped_at.take() {
            *self = Clock::new(stopped, self.scale);
        }
    }

    pub fn is_stopped(&self) -> bool {
        self.stopped_at.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled_clock_maps_both_ways() {
        let clock = Clock::new(Millis::ZERO, 600.0);
        let business = clock.at(clock.origin + Duration::from_millis(100)).0;
        assert!((59_999..=60_000).contains(&business), "{business}");
        let when = clock.instant_at(Millis(180_000)).unwrap();
        assert!(clock.at(when) >= Millis(180_000));
        assert!(when - clock.origin < Duration::from_millis(301));
    }

    #[test]
    fn a_clock_resumes_from_its_base() {
        let clock = Clock::new(Millis(5_000), 1.0);
        assert_eq!(clock.at(clock.origin), Millis(5_000));
        assert_eq!(clock.at(clock.origin + Duration::from_secs(2)), Millis(7_000));
        assert_eq!(clock.instant_at(Millis(6_000)).unwrap() - clock.origin, Duration::from_micros(1_000_001));
    }

    #[test]
    fn a_stopped_clock_stands_still_and_starts_where_it_stopped() {
        let mut clock = Clock::new(Millis(1_000), 1000.0);
        clock.stop();
        let stopped = clock.now();
        assert!(clock.is_stopped());
        assert_eq!(clock.at(Instant::now() + Duration::from_secs(60)), stopped);
        assert!(clock.instant_at(stopped + Duration::from_secs(1)).is_none(), "no timer fires meanwhile");
        clock.start();
        assert!(!clock.is_stopped());
        assert!(clock.now() >= stopped && clock.now() < stopped + Duration::from_secs(60));
    }
}
