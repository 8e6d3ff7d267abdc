//! Agent performance figures (`docs/performance-figures.md`; the handbook's
//! 绩效考核, digest in `docs/domain.md`): per shift, and summed over any
//! period (a day, a month, a date range).
//!
//! Plain rows in, figures out, no I/O: the caller reads the shifts, the
//! agent's state changes and the events from the records store. Times are
//! wall-clock milliseconds; ratios are basis points (1/100 of a percent),
//! rounded down, so a target's edge is never missed by a rounding error.

mod shift;
mod tally;
mod targets;

pub use shift::{in_service, present, shift_figures, state_from_label, AgentState, Change, ShiftFigures, ShiftInput};
pub use tally::{Event, EventKind, Tally};
pub use targets::{Check, Targets};

use serde::Serialize;

/// A half-open span of wall-clock time, `[from, to)`, in ms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Span {
    pub from: i64,
    pub to: i64,
}

impl Span {
    pub fn contains(&self, at: i64) -> bool {
        self.from <= at && at < self.to
    }
}

/// The figures of one agent over a period: the shifts that belong to it and
/// the events that happened in it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Figures {
    pub shifts: u32,
    /// Scheduled time of those shifts that has passed (all of it once a shift is over), ms.
    pub shift_ms: i64,
    /// Of that, time `available` or `busy`, ms.
    pub in_service_ms: i64,
    pub late: u32,
    pub left_early: u32,
    pub absent: u32,
    /// Sessions assigned to the agent during their shifts (the numerator of customers per hour).
    pub assigned_in_shifts: u32,
    #[serde(flatten)]
    pub tally: Tally,
}

impl Figures {
    /// The figures of a period: `shifts` are those that belong to it (by their
    /// day), `events` are counted when they happened inside `span`.
    pub fn of(span: Span, shifts: &[ShiftFigures], events: &[Event]) -> Figures {
        let mut figures = Figures { tally: Tally::of(span, events), ..Figures::default() };
        for s in shifts {
            figures.add_shift(s);
        }
        figures
    }

    fn add_shift(&mut self, s: &ShiftFigures) {
        self.shifts += 1;
        self.shift_ms += s.elapsed_ms;
        self.in_service_ms += s.in_service_ms;
        self.late += u32::from(s.late);
        self.left_early += u32::from(s.left_early);
        self.absent += u32::from(s.absent);
        self.assigned_in_shifts += s.assigned;
    }

    /// Sums two periods' figures (days into a month); ticket sets are joined.
    pub fn merge(&mut self, other: &Figures) {
        self.shifts += other.shifts;
        self.shift_ms += other.shift_ms;
        self.in_service_ms += other.in_service_ms;
        self.late += other.late;
        self.left_early += other.left_early;
        self.absent += other.absent;
        self.assigned_in_shifts += other.assigned_in_shifts;
        self.tally.merge(&other.tally);
    }

    /// (serving + waiting for assignment) / shift time, basis points; `None` without shift time.
    pub fn service_ratio_bp(&self) -> Option<u32> {
        ratio_bp(self.in_service_ms, self.shift_ms)
    }

    /// Sessions assigned per shift hour, in hundredths; `None` without shift time.
    pub fn served_per_hour_centi(&self) -> Option<u32> {
        (self.shift_ms > 0).then(|| (i64::from(self.assigned_in_shifts) * 360_000_000 / self.shift_ms) as u32)
    }

    pub fn ratings(&self) -> u32 {
        self.tally.satisfied + self.tally.dissatisfied
    }

    pub fn satisfaction_bp(&self) -> Option<u32> {
        ratio_bp(i64::from(self.tally.satisfied), i64::from(self.ratings()))
    }

    pub fn dissatisfaction_bp(&self) -> Option<u32> {
        ratio_bp(i64::from(self.tally.dissatisfied), i64::from(self.ratings()))
    }

    pub fn spot_check_pass_bp(&self) -> Option<u32> {
        ratio_bp(i64::from(self.tally.spot_checks_passed), i64::from(self.tally.spot_checks))
    }

    /// Not late, not left early, not absent, in every shift.
    pub fn punctual(&self) -> bool {
        self.late + self.left_early + self.absent == 0
    }
}

/// `part / whole` in basis points, rounded down; `None` when `whole` is 0.
pub fn ratio_bp(part: i64, whole: i64) -> Option<u32> {
    (whole > 0).then(|| (part.clamp(0, whole) * 10_000 / whole) as u32)
}
