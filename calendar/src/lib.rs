//! Switchboard's business calendar: when each skill group is open, and
//! working-time arithmetic ("15 working minutes after this moment", "7
//! working days later") on that.
//!
//! Sans-IO like the router: no clock, no tokio. Every query takes the
//! instant ([`jiff::Timestamp`]) it is about; [`ClockAnchor`] maps the
//! router's business milliseconds to instants and back.
//!
//! - A [`Calendar`] has a time zone (an IANA name, see [`time_zone`]), the
//!   deployment's [`SpecialDays`] (holidays and extra working days), and per
//!   skill group its [`ServiceHours`], parsed from the `service_hours` text
//!   (grammar in [`hours`]).
//! - Open means: the instant's local wall-clock time in the calendar's zone
//!   falls in one of the group's ranges for that date. On a holiday the
//!   group has its `holidays` ranges (none unless it lists some); on an extra
//!   working day it has the ranges of its first weekday (Monday to Friday)
//!   that has any; on any other date the ranges of that weekday. A range
//!   belongs to the date it starts on, overnight ranges included.
//! - Across DST changes the wall-clock rule decides: a range over the hour
//!   that clocks skip is that much shorter, a range over the hour they repeat
//!   is that much longer (01:30-03:00 lasts 30 minutes on the spring-forward
//!   day in Europe/Berlin, 2 h 30 on the fall-back day).
//! - Working time is open time: [`Calendar::working_between`] adds it up,
//!   [`Calendar::add_working`] finds when a given amount has passed,
//!   [`Calendar::add_working_days`] counts working days (dates with hours).
//!
//! The definitions, for operators, are in docs/domain.md ("Service hours and
//! the business calendar"). Property tests (`tests/properties.rs`) hold every
//! query to a naive walk, minute by minute in local time.

mod anchor;
mod calendar;
mod days;
pub mod hours;
mod intervals;

pub use anchor::ClockAnchor;
pub use calendar::{time_zone, Calendar};
pub use days::SpecialDays;
pub use hours::{HoursError, ServiceHours};
pub use intervals::QUIET_DAYS;
pub use jiff;

use jiff::civil::Date;

/// A calendar that cannot be built. Each says which value is wrong; the
/// caller names the config key.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("`{0}` is not a time zone this server knows: use an IANA name such as \"Asia/Shanghai\", \"Europe/Berlin\" or \"UTC\"")]
    UnknownTimeZone(String),
    /// `index`: the date's place in the list of extra working days.
    #[error("{date} is also listed as a holiday: a date is a holiday or an extra working day, not both")]
    HolidayAndWorkingDay { date: Date, index: usize },
}
