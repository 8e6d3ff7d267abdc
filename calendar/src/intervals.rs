//! The open time of a schedule, as instants: every query is a walk over it.
//!
//! Two levels. [`CivilIntervals`] lists the open ranges in local civil time
//! (dates and wall-clock times, where there is no DST), date by date.
//! [`OpenIntervals`] turns them into instants piece by piece, a piece being
//! a stretch between two of the time zone's transitions: within a piece the
//! offset is fixed, so civil time and instants map one to one, and a civil
//! range becomes an instant range by subtracting the offset. So an instant is
//! open exactly when its local wall-clock time falls in an open range: in the
//! hour skipped when clocks go forward nothing is open, and in the hour
//! repeated when they go back the open ranges are open twice.
//!
//! Both levels yield disjoint ranges in order, not merged: two ranges may
//! touch (`[a, b)` then `[b, c)`), and callers that need the whole stretch
//! (the next closing) walk on.

use std::collections::VecDeque;

use jiff::civil::{Date, DateTime};
use jiff::tz::{Offset, TimeZone};
use jiff::{Timestamp, ToSpan};

use crate::hours::{DayRange, DAY_MINUTES};
use crate::{ServiceHours, SpecialDays};

/// A schedule with no open time in this many days after the last listed
/// date (and after the last open range) never opens again: past the listed
/// dates it repeats every week, and a time zone skips a given local hour on
/// at most a few days a year.
pub const QUIET_DAYS: i32 = 400;

/// `date` plus [`QUIET_DAYS`], or the last date there is.
pub(crate) fn quiet_after(date: Date) -> Date {
    date.checked_add(QUIET_DAYS.days()).unwrap_or(Date::MAX)
}

/// The open time of a weekly schedule in local civil time, from `from` on:
/// disjoint `[start, end)` ranges in order. Ends after [`QUIET_DAYS`] without any.
pub(crate) struct CivilIntervals<'a> {
    hours: &'a ServiceHours,
    special: &'a SpecialDays,
    /// The next date whose ranges are read.
    next_date: Option<Date>,
    /// Ranges read but not yielded, in order of their start.
    queue: VecDeque<(DateTime, DateTime)>,
    /// Nothing before this is yielded (again): what keeps the output disjoint.
    from: DateTime,
    quiet_until: Date,
}

impl<'a> CivilIntervals<'a> {
    pub(crate) fn new(hours: &'a ServiceHours, special: &'a SpecialDays, from: DateTime) -> CivilIntervals<'a> {
        let date = from.date();
        CivilIntervals {
            hours,
            special,
            // The day before: its overnight ranges reach into `from`'s day.
            next_date: date.yesterday().ok().or(Some(date)),
            queue: VecDeque::new(),
            from,
            quiet_until: quiet_after(special.last().map_or(date, |last| last.max(date))),
        }
    }

    /// Queues the ranges that start on the next date.
    fn read_next_date(&mut self) -> Option<()> {
        let date = self.next_date.filter(|d| *d <= self.quiet_until)?;
        self.next_date = date.tomorrow().ok();
        let ranges = self.hours.ranges_on(date, self.special).unwrap_or_default();
        // Ranges of one date are sorted by start, and start before any of the next date's.
        self.queue.extend(ranges.iter().filter_map(|range| civil_range(date, *range)));
        Some(())
    }
}

/// A day's range as civil datetimes (`None` past the last date there is).
fn civil_range(date: Date, range: DayRange) -> Option<(DateTime, DateTime)> {
    Some((civil_at(date, range.start)?, civil_at(date, range.end)?))
}

/// `minutes` after the midnight that starts `date` (up to two days).
fn civil_at(date: Date, minutes: u16) -> Option<DateTime> {
    let (date, minutes) =
        if minutes >= DAY_MINUTES { (date.tomorrow().ok()?, minutes - DAY_MINUTES) } else { (date, minutes) };
    Some(date.at((minutes / 60) as i8, (minutes % 60) as i8, 0, 0))
}

impl Iterator for CivilIntervals<'_> {
    type Item = (DateTime, DateTime);

    fn next(&mut self) -> Option<(DateTime, DateTime)> {
        loop {
            while self.queue.is_empty() {
                self.read_next_date()?;
            }
            let (start, end) = self.queue.pop_front()?;
            if end <= self.from {
                continue;
            }
            let start = start.max(self.from);
            self.from = end;
            self.quiet_until = self.quiet_until.max(quiet_after(end.date()));
            return Some((start, end));
        }
    }
}

/// The open time as instants from a given instant on: disjoint `[start, end)`
/// ranges in order (see the module docs).
pub(crate) enum OpenIntervals<'a> {
    /// Open all the time: one range to the end of time.
    Always(Option<Timestamp>),
    Weekly(ZonedIntervals<'a>),
}

impl<'a> OpenIntervals<'a> {
    pub(crate) fn new(
        zone: &'a TimeZone,
        hours: &'a ServiceHours,
        special: &'a SpecialDays,
        from: Timestamp,
    ) -> OpenIntervals<'a> {
        if hours.is_always() {
            return OpenIntervals::Always(Some(from));
        }
        let piece = Piece::at(zone, from);
        let civil = CivilIntervals::new(hours, special, piece.offset.to_datetime(from));
        OpenIntervals::Weekly(ZonedIntervals { zone, hours, special, piece, civil })
    }
}

impl Iterator for OpenIntervals<'_> {
    type Item = (Timestamp, Timestamp);

    fn next(&mut self) -> Option<(Timestamp, Timestamp)> {
        match self {
            OpenIntervals::Always(from) => from.take().map(|from| (from, Timestamp::MAX)),
            OpenIntervals::Weekly(zoned) => zoned.next(),
        }
    }
}

/// A stretch of time with one UTC offset: up to the zone's next transition.
struct Piece {
    offset: Offset,
    /// Where it ends, as an instant and as local civil time (`None`: no later transition).
    end: Option<(Timestamp, DateTime)>,
}

impl Piece {
    fn at(zone: &TimeZone, start: Timestamp) -> Piece {
        let offset = zone.to_offset(start);
        let next = zone.following(start).map(|t| t.timestamp()).find(|t| *t > start);
        Piece { offset, end: next.map(|end| (end, offset.to_datetime(end))) }
    }
}

/// [`OpenIntervals`] of a weekly schedule: civil ranges, piece by piece.
pub(crate) struct ZonedIntervals<'a> {
    zone: &'a TimeZone,
    hours: &'a ServiceHours,
    special: &'a SpecialDays,
    piece: Piece,
    /// The civil ranges from the start of the current piece.
    civil: CivilIntervals<'a>,
}

impl ZonedIntervals<'_> {
    /// Moves on to the piece that starts at `start`, reading civil time again from its local time
    /// (earlier than where the last piece ended when clocks went back, later when they went forward).
    fn enter_piece(&mut self, start: Timestamp) {
        self.piece = Piece::at(self.zone, start);
        self.civil = CivilIntervals::new(self.hours, self.special, self.piece.offset.to_datetime(start));
    }

    fn instant(&self, civil: DateTime) -> Option<Timestamp> {
        self.piece.offset.to_timestamp(civil).ok()
    }
}

impl Iterator for ZonedIntervals<'_> {
    type Item = (Timestamp, Timestamp);

    fn next(&mut self) -> Option<(Timestamp, Timestamp)> {
        loop {
            let (start, end) = self.civil.next()?;
            match self.piece.end {
                Some((piece_end, civil_end)) if start >= civil_end => self.enter_piece(piece_end),
                Some((piece_end, civil_end)) if end > civil_end => {
                    // The rest of this range, if any, comes again from the next piece's civil time.
                    let start = self.instant(start)?;
                    self.enter_piece(piece_end);
                    return Some((start, piece_end));
                }
                _ => return Some((self.instant(start)?, self.instant(end)?)),
            }
        }
    }
}
