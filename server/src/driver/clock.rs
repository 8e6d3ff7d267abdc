//! The business clock: real elapsed time times `clock.scale`, in router
//! [`Millis`], starting where the recovered state left off.
//!
//! Business time counts only time the server could take work: it resumes
//! after a restart at the last logged time, and stands still while the
//! input log cannot be written. So no reply timer, grace period or break
//! allowance runs against anyone for time the platform was down (the
//! handbook excuses platform faults).
//!
//! On the calendar (service hours, working-time deadlines), business time
//! is placed by a [`ClockAnchor`] chosen at each start ([`anchor_for_run`])
//! and logged with the start, and read through a [`BusinessCalendar`].

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use rustc_hash::FxHashMap;
use switchboard_calendar::{Calendar, ClockAnchor};
use tokio::time::Instant;

use crate::router::{GroupHours, GroupId, Millis};

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

/// Where business time sits on the calendar for a run starting at business
/// time `resume_at` (docs/durability.md, "Business time on the calendar"):
///
/// - `clock.start` set: business time 0 is that instant, so the calendar
///   runs on from where the last run stopped (downtime is not counted, as
///   for business time) and the same config always places it the same way;
/// - unset, at `clock.scale = 1`: the calendar is the real one: this start
///   is the wall-clock time now (downtime passes on the calendar, not in
///   business time);
/// - unset, at any other scale: the first start is the wall-clock time then,
///   and later starts carry on from the `saved` anchor.
pub fn anchor_for_run(
    saved: Option<ClockAnchor>,
    start: Option<Timestamp>,
    scale: f64,
    resume_at: Millis,
    wall_now: Timestamp,
) -> ClockAnchor {
    match (start, saved) {
        (Some(start), _) => ClockAnchor::new(0, start),
        (None, Some(saved)) if scale != 1.0 => saved,
        (None, _) => ClockAnchor::new(resume_at.0, wall_now),
    }
}

/// The business calendar read in business time: whether a group is open at
/// a router [`Millis`], and working-time deadlines as [`Millis`].
#[derive(Clone, Debug)]
pub struct BusinessCalendar {
    calendar: Arc<Calendar>,
    anchor: ClockAnchor,
    /// Each group's `service_hours` as written (what customers are shown).
    texts: FxHashMap<GroupId, Arc<str>>,
}

impl BusinessCalendar {
    pub fn new(calendar: Arc<Calendar>, anchor: ClockAnchor) -> BusinessCalendar {
        BusinessCalendar { calendar, anchor, texts: FxHashMap::default() }
    }

    /// The same calendar, with the groups' `service_hours` texts (from the config).
    pub fn with_texts(self, texts: FxHashMap<GroupId, Arc<str>>) -> BusinessCalendar {
        BusinessCalendar { texts, ..self }
    }

    /// A group's hours at `at`, as the router is told them.
    pub fn group_hours(&self, group: &GroupId, at: Millis) -> GroupHours {
        GroupHours {
            open: self.calendar.is_open(group.as_str(), self.instant(at)),
            next_change: self.next_change(group.as_str(), at),
            service_hours: self.texts.get(group).cloned(),
        }
    }

    pub fn calendar(&self) -> &Calendar {
        &self.calendar
    }

    pub fn anchor(&self) -> ClockAnchor {
        self.anchor
    }

    /// The calendar instant of a business time.
    pub fn instant(&self, at: Millis) -> Timestamp {
        self.anchor.instant(at.0)
    }

    /// The first business time at or after a calendar instant.
    pub fn millis(&self, at: Timestamp) -> Millis {
        Millis(self.anchor.business_ms(at))
    }

    /// When the group next opens (if closed at `at`) or closes (if open): the
    /// business time to wake up at to tell everyone; `None` if it never will.
    pub fn next_change(&self, group: &str, at: Millis) -> Option<Millis> {
        let instant = self.instant(at);
        let change = if self.calendar.is_open(group, instant) {
            self.calendar.next_closing(group, instant)
        } else {
            self.calendar.next_opening(group, instant)
        };
        change.map(|t| self.millis(t))
    }

    /// Each group's id and whether it is open at `at`, in config order.
    pub fn open_groups<'a>(&self, groups: impl IntoIterator<Item = &'a str>, at: Millis) -> Vec<(&'a str, bool)> {
        let instant = self.instant(at);
        groups.into_iter().map(|group| (group, self.calendar.is_open(group, instant))).collect()
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

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn a_configured_start_places_business_time_zero_on_every_start() {
        let start = at("2026-03-06T09:55:00+08:00");
        let first = anchor_for_run(None, Some(start), 600.0, Millis::ZERO, at("2030-01-01T00:00Z"));
        assert_eq!(first.instant(0), start);
        // A restart 40 real minutes later, after 2 business hours: the calendar carries on from 11:55.
        let again = anchor_for_run(Some(first), Some(start), 600.0, Millis(7_200_000), at("2030-01-01T00:40Z"));
        assert_eq!(again.instant(7_200_000), at("2026-03-06T11:55:00+08:00"));
    }

    #[test]
    fn without_a_start_real_time_follows_the_wall_clock_and_scaled_time_carries_on() {
        let first_start = at("2026-03-06T01:00Z");
        let first = anchor_for_run(None, None, 1.0, Millis::ZERO, first_start);
        assert_eq!(first.instant(0), first_start);
        // Down for an hour after 10 business minutes: the calendar is the wall clock again.
        let wall = at("2026-03-06T02:10Z");
        let real = anchor_for_run(Some(first), None, 1.0, Millis(600_000), wall);
        assert_eq!(real.instant(600_000), wall);
        let scaled = anchor_for_run(None, None, 600.0, Millis::ZERO, first_start);
        let resumed = anchor_for_run(Some(scaled), None, 600.0, Millis(600_000), wall);
        assert_eq!(resumed.instant(600_000), at("2026-03-06T01:10Z"), "no downtime on a simulated calendar");
    }

    #[test]
    fn the_business_calendar_answers_in_business_time() {
        let calendar = Calendar::new(switchboard_calendar::time_zone("Asia/Shanghai").unwrap(), Default::default())
            .with_group("refunds", "Mon-Fri 09:00-18:00".parse().unwrap());
        // Business time 0 is Friday 2026-03-06 17:55 in Shanghai.
        let business = BusinessCalendar::new(Arc::new(calendar), ClockAnchor::new(0, at("2026-03-06T17:55+08:00")));
        assert_eq!(
            business.open_groups(["refunds", "general"], Millis(60_000)),
            [("refunds", true), ("general", true)]
        );
        assert_eq!(business.open_groups(["refunds"], Millis(300_000)), [("refunds", false)]);
        let deadline =
            business.calendar().add_working("refunds", business.instant(Millis::ZERO), Duration::from_secs(900));
        assert_eq!(deadline, Some(at("2026-03-09T09:10+08:00")));
        assert_eq!(business.millis(deadline.unwrap()), Millis((2 * 86_400 + 15 * 3_600 + 15 * 60) * 1000));
        assert_eq!(business.next_change("refunds", Millis::ZERO), Some(Millis(300_000)), "closes at 18:00");
        let monday_nine = Millis((2 * 86_400 + 15 * 3_600 + 5 * 60) * 1000);
        assert_eq!(business.next_change("refunds", Millis(300_000)), Some(monday_nine), "opens on Monday");
        assert_eq!(business.next_change("general", Millis::ZERO), None, "no hours: never changes");
    }
}
