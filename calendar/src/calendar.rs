//! The calendar and its queries.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, Zoned};

use crate::intervals::{quiet_after, OpenIntervals};
use crate::{CalendarError, ServiceHours, SpecialDays};

/// A deployment's business calendar: its time zone, holidays and extra
/// working days, and each skill group's service hours. Sans-IO: every query
/// takes the instant it is about.
///
/// A group the calendar does not list (or listed with
/// [`ServiceHours::ALWAYS`]) is always open: a group without `service_hours`
/// never closes.
#[derive(Clone, Debug)]
pub struct Calendar {
    zone: TimeZone,
    special: SpecialDays,
    groups: BTreeMap<String, ServiceHours>,
}

/// Looks up an IANA time zone name ("Asia/Shanghai", "Europe/Berlin", "UTC"):
/// in the system's database (`/usr/share/zoneinfo`, kept current by the OS),
/// else in the copy built into the binary, so that a machine without one
/// still runs.
pub fn time_zone(name: &str) -> Result<TimeZone, CalendarError> {
    TimeZone::get(name).map_err(|_| CalendarError::UnknownTimeZone(name.to_owned()))
}

impl Calendar {
    /// A calendar with no groups yet (each is added with [`Calendar::with_group`]).
    pub fn new(zone: TimeZone, special: SpecialDays) -> Calendar {
        Calendar { zone, special, groups: BTreeMap::new() }
    }

    /// Adds (or replaces) a group's service hours.
    pub fn with_group(mut self, group: impl Into<String>, hours: ServiceHours) -> Calendar {
        self.groups.insert(group.into(), hours);
        self
    }

    pub fn zone(&self) -> &TimeZone {
        &self.zone
    }

    pub fn special_days(&self) -> &SpecialDays {
        &self.special
    }

    /// A group's service hours ([`ServiceHours::ALWAYS`] for a group not listed).
    pub fn hours(&self, group: &str) -> &ServiceHours {
        self.groups.get(group).unwrap_or(&ServiceHours::ALWAYS)
    }

    /// An instant in the calendar's time zone (to show it, or to read its local date).
    pub fn local(&self, at: Timestamp) -> Zoned {
        at.to_zoned(self.zone.clone())
    }

    fn open_intervals<'a>(&'a self, group: &str, from: Timestamp) -> OpenIntervals<'a> {
        OpenIntervals::new(&self.zone, self.hours(group), &self.special, from)
    }

    /// True if the group is open at `at`: its local wall-clock time falls in
    /// one of the group's ranges for that date.
    pub fn is_open(&self, group: &str, at: Timestamp) -> bool {
        self.open_intervals(group, at).next().is_some_and(|(start, _)| start == at)
    }

    /// The first instant at or after `at` at which the group is open (`at`
    /// itself when it is open then); `None` if it never opens again.
    pub fn next_opening(&self, group: &str, at: Timestamp) -> Option<Timestamp> {
        self.open_intervals(group, at).next().map(|(start, _)| start)
    }

    /// The first instant at or after `at` at which the group is closed (`at`
    /// itself when it is closed then); `None` if it never closes (always
    /// open, or open without a break for [`QUIET_DAYS`](crate::QUIET_DAYS)
    /// days after the last listed holiday or extra working day).
    pub fn next_closing(&self, group: &str, at: Timestamp) -> Option<Timestamp> {
        let mut intervals = self.open_intervals(group, at);
        let Some((start, mut end)) = intervals.next() else { return Some(at) };
        if start > at {
            return Some(at);
        }
        let horizon = self.horizon(at);
        loop {
            if end >= horizon {
                return None;
            }
            match intervals.next() {
                Some((next_start, next_end)) if next_start == end => end = next_end,
                _ => return Some(end),
            }
        }
    }

    /// Midnight [`QUIET_DAYS`](crate::QUIET_DAYS) days after `at`'s date or
    /// the last listed date, whichever is later: open that long, open for good.
    fn horizon(&self, at: Timestamp) -> Timestamp {
        let date = self.zone.to_datetime(at).date();
        let last = self.special.last().map_or(date, |last| last.max(date));
        self.zone.to_timestamp(quiet_after(last).to_datetime(Time::midnight())).unwrap_or(Timestamp::MAX)
    }

    /// The instant at which the group will have been open for `working`
    /// since `at`: the earliest `t` with `working_between(at, t) == working`
    /// ("15 working minutes after this moment"). `at` itself for zero;
    /// otherwise always within (or at the end of) open time. `None` if the
    /// group never gets that much open time.
    pub fn add_working(&self, group: &str, at: Timestamp, working: Duration) -> Option<Timestamp> {
        if working.is_zero() {
            return Some(at);
        }
        let mut left = SignedDuration::try_from(working).ok()?;
        for (start, end) in self.open_intervals(group, at) {
            let length = end.duration_since(start);
            if left <= length {
                return start.checked_add(left).ok();
            }
            left -= length;
        }
        None
    }

    /// Open time of the group from `from` to `to` (zero if `to` is not after `from`).
    pub fn working_between(&self, group: &str, from: Timestamp, to: Timestamp) -> Duration {
        let mut total = SignedDuration::ZERO;
        for (start, end) in self.open_intervals(group, from).take_while(|(start, _)| *start < to) {
            total += end.min(to).duration_since(start);
        }
        Duration::try_from(total).unwrap_or(Duration::ZERO)
    }

    /// True if `date` is one of the group's working days: a date on which
    /// one of its ranges starts, after holidays and extra working days (every
    /// date for a group that is always open).
    pub fn is_working_day(&self, group: &str, date: Date) -> bool {
        self.hours(group).is_working_day(date, &self.special)
    }

    /// "`days` working days later": the same local wall-clock time as `at`
    /// on the `days`-th working day of the group after `at`'s local date
    /// (`at` itself for zero). Days that are not working days are skipped,
    /// whether or not `at` falls on one: from a Friday or a Saturday, one
    /// working day later is Monday (for a Mon-Fri group without holidays),
    /// at the same wall-clock time. A time that does not exist on that day
    /// (clocks went forward) is moved on by the length of the gap; a time
    /// that exists twice (clocks went back) is the first. `None` if the group
    /// runs out of working days.
    pub fn add_working_days(&self, group: &str, at: Timestamp, days: u32) -> Option<Timestamp> {
        if days == 0 {
            return Some(at);
        }
        let hours = self.hours(group);
        let local = self.zone.to_datetime(at);
        let mut date = local.date();
        let mut quiet_until = quiet_after(self.special.last().map_or(date, |last| last.max(date)));
        let mut left = days;
        while left > 0 {
            date = date.tomorrow().ok().filter(|d| *d <= quiet_until)?;
            if hours.is_working_day(date, &self.special) {
                left -= 1;
                quiet_until = quiet_until.max(quiet_after(date));
            }
        }
        self.zone.to_timestamp(date.to_datetime(local.time())).ok()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_built_in_time_zone_database_serves_a_machine_without_one() {
        let bundled = jiff::tz::TimeZoneDatabase::bundled();
        for name in ["Asia/Shanghai", "Europe/Berlin", "America/New_York", "UTC"] {
            assert!(bundled.get(name).is_ok(), "{name}");
        }
    }
}
