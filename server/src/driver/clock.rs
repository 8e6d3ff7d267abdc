//! The business clock: real elapsed time times `clock.scale`, in router [`Millis`].

use std::time::Duration;

use tokio::time::Instant;

use crate::router::Millis;

/// Maps between real instants and the router's business milliseconds.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    origin: Instant,
    scale: f64,
}

impl Clock {
    /// A clock starting at business time zero now; `scale` business seconds pass per real second.
    pub fn new(scale: f64) -> Clock {
        assert!(scale.is_finite() && scale > 0.0, "clock scale must be positive");
        Clock { origin: Instant::now(), scale }
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
        let real = instant.saturating_duration_since(self.origin).as_secs_f64();
        Millis((real * self.scale * 1000.0).floor() as u64)
    }

    /// The real instant at which business time `at` is reached (rounded up).
    pub fn instant_at(&self, at: Millis) -> Instant {
        let real_secs = at.0 as f64 / 1000.0 / self.scale;
        self.origin + Duration::from_secs_f64(real_secs) + Duration::from_micros(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled_clock_maps_both_ways() {
        let clock = Clock::new(600.0);
        let business = clock.at(clock.origin + Duration::from_millis(100)).0;
        assert!((59_999..=60_000).contains(&business), "{business}");
        let when = clock.instant_at(Millis(180_000));
        assert!(clock.at(when) >= Millis(180_000));
        assert!(when - clock.origin < Duration::from_millis(301));
    }
}
