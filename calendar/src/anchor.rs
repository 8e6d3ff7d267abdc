//! Business time (the router's milliseconds) on the calendar.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Ties business time to the calendar: business millisecond `business_ms`
/// (the router's `Millis`) is the calendar instant `unix_ms` (milliseconds
/// since the Unix epoch), and both run at the same pace from there. The
/// server fixes one per run (see docs/durability.md, "Business time on the
/// calendar"); plain integers, so that it can be logged and saved as is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ClockAnchor {
    pub business_ms: u64,
    pub unix_ms: i64,
}

impl ClockAnchor {
    /// Business millisecond `business_ms` is the instant `at` (to the millisecond, rounded down).
    pub fn new(business_ms: u64, at: Timestamp) -> ClockAnchor {
        ClockAnchor { business_ms, unix_ms: at.as_millisecond() }
    }

    /// The calendar instant of a business millisecond (clamped to the instants there are).
    pub fn instant(&self, business_ms: u64) -> Timestamp {
        let since = business_ms as i128 - self.business_ms as i128;
        let unix_ms = i64::try_from(self.unix_ms as i128 + since).ok();
        let past_the_end = if since < 0 { Timestamp::MIN } else { Timestamp::MAX };
        unix_ms.and_then(|ms| Timestamp::from_millisecond(ms).ok()).unwrap_or(past_the_end)
    }

    /// The first business millisecond at or after `at` (a deadline's timer
    /// fires then, never before); 0 for instants before business time began.
    pub fn business_ms(&self, at: Timestamp) -> u64 {
        let nanos = at.duration_since(self.instant(self.business_ms)).as_nanos();
        let millis = nanos.div_euclid(1_000_000) + i128::from(nanos.rem_euclid(1_000_000) > 0);
        (self.business_ms as i128 + millis).clamp(0, u64::MAX as i128) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn business_time_and_instants_map_both_ways() {
        let anchor = ClockAnchor::new(60_000, at("2026-03-06T09:55:00Z"));
        assert_eq!(anchor.instant(60_000), at("2026-03-06T09:55:00Z"));
        assert_eq!(anchor.instant(0), at("2026-03-06T09:54:00Z"));
        assert_eq!(anchor.instant(360_000), at("2026-03-06T10:00:00Z"));
        assert_eq!(anchor.business_ms(at("2026-03-06T10:00:00Z")), 360_000);
        assert_eq!(anchor.business_ms(at("2026-03-06T10:00:00.000001Z")), 360_001, "rounded up");
        assert_eq!(anchor.business_ms(at("2026-03-06T10:00:00.001Z")), 360_001);
        assert_eq!(anchor.business_ms(at("2026-03-06T09:54:00.5Z")), 500);
        assert_eq!(anchor.business_ms(at("2026-03-06T09:00:00Z")), 0, "before business time began");
    }

    #[test]
    fn far_business_times_stay_within_the_instants_there_are() {
        let anchor = ClockAnchor::new(0, at("2026-03-06T09:55:00Z"));
        assert_eq!(anchor.instant(u64::MAX), Timestamp::MAX);
        assert_eq!(anchor.instant(0), at("2026-03-06T09:55:00Z"));
        let to_the_end = Timestamp::MAX.duration_since(anchor.instant(0));
        assert_eq!(anchor.business_ms(Timestamp::MAX), to_the_end.as_millis() as u64 + 1, "rounded up");
        let before = ClockAnchor::new(5_000, at("2026-03-06T09:55:00Z"));
        assert_eq!(before.business_ms(Timestamp::MIN), 0);
    }
}
