//! The discipline of the handbook (`docs/shifts.md`, "Discipline"; the first
//! seed's 违规处理): warnings, suspensions and disqualification of an agent.
//!
//! - A **warning** has a cause: leave asked less than the notice before the
//!   shift (`late_leave`, 1 warning), a shift missed without leave
//!   (`absence`, 2 warnings), an upheld non-business complaint
//!   (`upheld_complaint`, 1 warning).
//! - **Suspension**: when the warnings not yet used by a suspension that
//!   fall within `warning_window` (6 months) of a warning reach
//!   `warnings_to_suspend` (3), the agent is suspended for `suspension` (a
//!   month) from that warning. The warnings counted are then used: the next
//!   suspension needs three new ones (otherwise a fourth warning would
//!   suspend again at once, which the handbook does not say).
//! - **Disqualification**: `suspensions_to_disqualify` (2) suspensions
//!   starting within `suspension_window` (a year) disqualify the agent from
//!   the start of the last one, for good (until an admin reinstates them,
//!   which the caller does by leaving out what came before).
//!
//! Pure: the caller gathers the warnings (leave rows, shifts and sign-ins,
//! complaints) and gives them as a list; the order of the list does not
//! matter. All times are ms since the epoch.

use serde::{Deserialize, Serialize};

/// Why a warning was given. One source for the names: the wire, the metric
/// label and the docs use [`Cause::label`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// Leave asked less than the notice (2 hours) before the shift.
    LateLeave,
    /// A shift that ended without leave, in which the agent never signed in.
    Absence,
    /// A complaint upheld as `non_business` (the agent's conduct).
    UpheldComplaint,
}

impl Cause {
    pub const ALL: [Cause; 3] = [Cause::LateLeave, Cause::Absence, Cause::UpheldComplaint];

    pub fn label(self) -> &'static str {
        match self {
            Cause::LateLeave => "late_leave",
            Cause::Absence => "absence",
            Cause::UpheldComplaint => "upheld_complaint",
        }
    }

    /// How many warnings one of these counts for (the handbook: absence is two).
    pub fn weight(self) -> u32 {
        match self {
            Cause::Absence => 2,
            Cause::LateLeave | Cause::UpheldComplaint => 1,
        }
    }
}

/// One warning: when, why, and what it is about (a shift or complaint id).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Warning {
    pub at: i64,
    pub cause: Cause,
    /// The shift id (late leave, absence) or the complaint id.
    pub subject: String,
}

impl Warning {
    /// How many warnings this counts for.
    pub fn weight(&self) -> u32 {
        self.cause.weight()
    }
}

/// A suspension: the agent may not sign in during `[from, until)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Suspension {
    pub from: i64,
    pub until: i64,
}

/// The thresholds (config `[discipline]`; the handbook's numbers by default).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rules {
    pub warnings_to_suspend: u32,
    /// Warnings count toward a suspension within this long (ms).
    pub warning_window: i64,
    /// How long a suspension lasts (ms).
    pub suspension: i64,
    pub suspensions_to_disqualify: u32,
    /// Suspensions count toward disqualification within this long (ms).
    pub suspension_window: i64,
}

const DAY: i64 = 86_400_000;

impl Default for Rules {
    /// 3 warnings in 6 months (183 days): suspended a month (30 days); 2 suspensions in a year (365 days): disqualified.
    fn default() -> Self {
        Rules {
            warnings_to_suspend: 3,
            warning_window: 183 * DAY,
            suspension: 30 * DAY,
            suspensions_to_disqualify: 2,
            suspension_window: 365 * DAY,
        }
    }
}

/// Why an agent may not sign in at some moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Bar {
    Suspended { until: i64 },
    Disqualified { since: i64 },
}

/// An agent's discipline: the warnings (oldest first), the suspensions they
/// led to, and the disqualification if any.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub warnings: Vec<Warning>,
    pub suspensions: Vec<Suspension>,
    pub disqualified: Option<i64>,
}

impl Record {
    /// Applies the rules to an agent's warnings (in any order; duplicates
    /// of the same warning count once).
    pub fn of(rules: &Rules, warnings: impl IntoIterator<Item = Warning>) -> Record {
        let mut warnings: Vec<Warning> = warnings.into_iter().collect();
        warnings.sort();
        warnings.dedup();
        let suspensions = suspensions(rules, &warnings);
        let disqualified = disqualified(rules, &suspensions);
        Record { warnings, suspensions, disqualified }
    }

    /// The warnings given before `at`, weighted (what the agent "has").
    pub fn warnings_before(&self, at: i64) -> u32 {
        self.warnings.iter().filter(|w| w.at < at).map(Warning::weight).sum()
    }

    /// Whether the agent may not sign in at `at`, and why (disqualification first).
    pub fn bar_at(&self, at: i64) -> Option<Bar> {
        if let Some(since) = self.disqualified.filter(|since| *since <= at) {
            return Some(Bar::Disqualified { since });
        }
        let until = self.suspensions.iter().filter(|s| s.from <= at && at < s.until).map(|s| s.until).max()?;
        Some(Bar::Suspended { until })
    }
}

/// Walks the warnings in time order, keeping those not yet used; a
/// suspension starts when those within the window weigh enough.
fn suspensions(rules: &Rules, sorted: &[Warning]) -> Vec<Suspension> {
    let mut open: Vec<&Warning> = Vec::new();
    let mut found = Vec::new();
    for w in sorted {
        open.retain(|o| w.at - o.at < rules.warning_window);
        open.push(w);
        let weight: u32 = open.iter().map(|o| o.weight()).sum();
        if weight >= rules.warnings_to_suspend.max(1) {
            found.push(Suspension { from: w.at, until: w.at.saturating_add(rules.suspension) });
            open.clear();
        }
    }
    found
}

/// The start of the suspension that makes enough within the window, if any.
fn disqualified(rules: &Rules, suspensions: &[Suspension]) -> Option<i64> {
    let needed = rules.suspensions_to_disqualify.max(1) as usize;
    suspensions.iter().enumerate().find_map(|(i, s)| {
        let within = suspensions[..=i].iter().filter(|e| s.from - e.from < rules.suspension_window).count();
        (within >= needed).then_some(s.from)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(day: i64, cause: Cause) -> Warning {
        Warning { at: day * DAY, cause, subject: format!("s{day}") }
    }

    #[test]
    fn labels_are_the_serde_names_and_distinct() {
        for cause in Cause::ALL {
            assert_eq!(serde_json::to_value(cause).unwrap(), cause.label());
        }
        let mut labels: Vec<_> = Cause::ALL.iter().map(|c| c.label()).collect();
        labels.dedup();
        assert_eq!(labels.len(), Cause::ALL.len());
    }

    #[test]
    fn three_warnings_in_six_months_suspend_for_a_month_from_the_third() {
        let r = Record::of(
            &Rules::default(),
            [w(0, Cause::LateLeave), w(10, Cause::UpheldComplaint), w(20, Cause::LateLeave)],
        );
        assert_eq!(r.suspensions, vec![Suspension { from: 20 * DAY, until: 50 * DAY }]);
        assert_eq!(r.bar_at(20 * DAY), Some(Bar::Suspended { until: 50 * DAY }));
        assert_eq!(r.bar_at(50 * DAY), None);
        assert_eq!(r.bar_at(19 * DAY), None);
        assert_eq!(r.disqualified, None);
    }

    #[test]
    fn an_absence_counts_two() {
        let r = Record::of(&Rules::default(), [w(0, Cause::LateLeave), w(5, Cause::Absence)]);
        assert_eq!(r.suspensions.len(), 1);
        assert_eq!(r.warnings_before(6 * DAY), 3);
    }

    #[test]
    fn warnings_further_apart_than_the_window_do_not_add_up() {
        let r =
            Record::of(&Rules::default(), [w(0, Cause::LateLeave), w(100, Cause::LateLeave), w(183, Cause::LateLeave)]);
        assert!(r.suspensions.is_empty());
    }

    #[test]
    fn two_suspensions_in_a_year_disqualify() {
        let days = [0, 1, 2, 100, 101, 102];
        let r = Record::of(&Rules::default(), days.map(|d| w(d, Cause::LateLeave)));
        assert_eq!(r.suspensions.len(), 2);
        assert_eq!(r.disqualified, Some(102 * DAY));
        assert_eq!(r.bar_at(10_000 * DAY), Some(Bar::Disqualified { since: 102 * DAY }));
    }

    #[test]
    fn suspensions_more_than_a_year_apart_do_not_disqualify() {
        let days = [0, 1, 2, 400, 401, 402];
        let r = Record::of(&Rules::default(), days.map(|d| w(d, Cause::LateLeave)));
        assert_eq!(r.suspensions.len(), 2);
        assert_eq!(r.disqualified, None);
    }

    #[test]
    fn the_same_warning_given_twice_counts_once() {
        let r = Record::of(&Rules::default(), [w(0, Cause::LateLeave), w(0, Cause::LateLeave), w(1, Cause::LateLeave)]);
        assert!(r.suspensions.is_empty());
        assert_eq!(r.warnings.len(), 2);
    }
}
