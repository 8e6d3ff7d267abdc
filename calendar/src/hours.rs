//! The `service_hours` grammar: a skill group's weekly opening hours.
//!
//! ```text
//! service_hours = clause { ";" clause }
//! clause        = days ranges
//! days          = day-item { "," day-item }
//! day-item      = weekday | weekday "-" weekday | "every day" | "daily" | "holidays"
//! weekday       = Mon | Tue | Wed | Thu | Fri | Sat | Sun   (or the full name; any case)
//! ranges        = range { "," range }
//! range         = time "-" time
//! time          = H:MM | HH:MM                              (00:00 to 24:00)
//! ```
//!
//! A span of weekdays runs forward through the week (`Fri-Mon` is Friday,
//! Saturday, Sunday and Monday). A range ends before it starts when it runs
//! overnight (`22:00-02:00`: from 22:00 on each listed day to 02:00 the day
//! after); `24:00` ends a range at midnight. Clauses add up: a day listed in
//! two clauses has the ranges of both. `holidays` gives the hours on the
//! calendar's holidays (without it the group is closed on holidays).
//! Whitespace around the separators is ignored. The whole definition, with
//! how holidays and extra working days apply, is in docs/domain.md
//! ("Service hours and the business calendar").

use std::str::FromStr;

use jiff::civil::Date;

use crate::SpecialDays;

/// Minutes in a day.
pub(crate) const DAY_MINUTES: u16 = 24 * 60;

/// One opening range of a day, in minutes after that day's midnight:
/// `start < end <= start + 1440`; an `end` past 1440 runs overnight into the next day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct DayRange {
    pub(crate) start: u16,
    pub(crate) end: u16,
}

/// When a skill group is open: always (a group without `service_hours`),
/// or on a weekly pattern with hours of its own on holidays.
///
/// Parsed from the `service_hours` text (`"Mon-Fri 09:00-18:00"`,
/// `"every day 08:00-22:00"`, ...; the grammar is in this module's docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceHours(Schedule);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Schedule {
    Always,
    Weekly {
        /// Monday first; each day's ranges sorted by start.
        days: [Vec<DayRange>; 7],
        holidays: Vec<DayRange>,
    },
}

/// Why a `service_hours` text does not parse: says which part is wrong and how to write it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct HoursError(String);

impl ServiceHours {
    /// Open at every instant, holidays included: a group without `service_hours`.
    pub const ALWAYS: ServiceHours = ServiceHours(Schedule::Always);

    /// True for [`ServiceHours::ALWAYS`].
    pub fn is_always(&self) -> bool {
        self.0 == Schedule::Always
    }

    /// The ranges that start on `date`, sorted by start; `None` means open all the time.
    pub(crate) fn ranges_on(&self, date: Date, special: &SpecialDays) -> Option<&[DayRange]> {
        let Schedule::Weekly { days, holidays } = &self.0 else { return None };
        if special.is_holiday(date) {
            return Some(holidays);
        }
        let own = &days[weekday_index(date)];
        if special.is_extra_working_day(date) {
            // Worked like a regular weekday: the hours of the group's first weekday (Mon..Fri) with any.
            return Some(days[..5].iter().find(|d| !d.is_empty()).unwrap_or(own));
        }
        Some(own)
    }

    /// True if `date` has opening hours (for [`ServiceHours::ALWAYS`], every date).
    pub(crate) fn is_working_day(&self, date: Date, special: &SpecialDays) -> bool {
        self.ranges_on(date, special).is_none_or(|r| !r.is_empty())
    }
}

/// Monday 0 ... Sunday 6.
pub(crate) fn weekday_index(date: Date) -> usize {
    date.weekday().to_monday_zero_offset() as usize
}

impl FromStr for ServiceHours {
    type Err = HoursError;

    fn from_str(text: &str) -> Result<ServiceHours, HoursError> {
        if text.trim().is_empty() {
            return Err(HoursError(
                "is empty: give hours such as \"Mon-Fri 09:00-18:00\", or leave the key out for a group that \
                 never closes"
                    .into(),
            ));
        }
        let mut days: [Vec<DayRange>; 7] = Default::default();
        let mut holidays = Vec::new();
        for clause in text.split(';').map(str::trim) {
            if clause.is_empty() {
                return Err(HoursError(format!("`{text}` has an empty part between `;`: remove the extra `;`")));
            }
            let (selected, ranges) = parse_clause(clause)?;
            for (day, _) in selected.weekdays.iter().enumerate().filter(|(_, on)| **on) {
                days[day].extend(&ranges);
            }
            if selected.holidays {
                holidays.extend(&ranges);
            }
        }
        for ranges in days.iter_mut().chain([&mut holidays]) {
            ranges.sort_unstable();
        }
        Ok(ServiceHours(Schedule::Weekly { days, holidays }))
    }
}

/// The days a clause names.
#[derive(Default)]
struct DaySet {
    weekdays: [bool; 7],
    holidays: bool,
}

fn parse_clause(clause: &str) -> Result<(DaySet, Vec<DayRange>), HoursError> {
    let Some(split) = clause.find(|c: char| c.is_ascii_digit()) else {
        return Err(HoursError(format!("`{clause}` has no hours: add time ranges, e.g. \"Mon-Fri 09:00-18:00\"")));
    };
    let (day_text, range_text) = clause.split_at(split);
    let days = parse_days(day_text.trim(), clause)?;
    let ranges = range_text.split(',').map(|r| parse_range(r.trim())).collect::<Result<Vec<_>, _>>()?;
    Ok((days, ranges))
}

fn parse_days(text: &str, clause: &str) -> Result<DaySet, HoursError> {
    if text.is_empty() {
        return Err(HoursError(format!(
            "`{clause}` names no days: start with the days, e.g. \"Mon-Fri 09:00-18:00\", \"Sat,Sun 10:00-16:00\" \
             or \"every day 08:00-22:00\""
        )));
    }
    let mut set = DaySet::default();
    for item in text.split(',').map(str::trim) {
        let words: Vec<String> = item.split_whitespace().map(str::to_ascii_lowercase).collect();
        if words == ["every", "day"] || words == ["daily"] {
            set.weekdays = [true; 7];
            continue;
        }
        if words == ["holidays"] {
            set.holidays = true;
            continue;
        }
        let (first, last) = match item.split_once('-') {
            Some((a, b)) => (weekday(a.trim())?, weekday(b.trim())?),
            None => (weekday(item)?, weekday(item)?),
        };
        // A span runs forward through the week: Fri-Mon is Fri, Sat, Sun, Mon.
        let mut day = first;
        loop {
            set.weekdays[day] = true;
            if day == last {
                break;
            }
            day = (day + 1) % 7;
        }
    }
    Ok(set)
}

const WEEKDAYS: [(&str, &str); 7] = [
    ("mon", "monday"),
    ("tue", "tuesday"),
    ("wed", "wednesday"),
    ("thu", "thursday"),
    ("fri", "friday"),
    ("sat", "saturday"),
    ("sun", "sunday"),
];

fn weekday(word: &str) -> Result<usize, HoursError> {
    let lower = word.to_ascii_lowercase();
    WEEKDAYS.iter().position(|(short, long)| lower == *short || lower == *long).ok_or_else(|| {
        HoursError(format!(
            "`{word}` is not a day: use Mon, Tue, Wed, Thu, Fri, Sat, Sun (or their full names), a span such as \
             Mon-Fri, \"every day\" or \"holidays\""
        ))
    })
}

fn parse_range(text: &str) -> Result<DayRange, HoursError> {
    let malformed = || HoursError(format!("`{text}` is not a time range: write it as HH:MM-HH:MM, e.g. 09:00-18:00"));
    let (start, end) = text.split_once('-').ok_or_else(malformed)?;
    let (start, end) = (time(start.trim()).ok_or_else(malformed)?, time(end.trim()).ok_or_else(malformed)?);
    if start == DAY_MINUTES {
        return Err(HoursError(format!("`{text}` starts at 24:00: a range starts at 23:59 at the latest")));
    }
    if start == end {
        return Err(HoursError(format!("`{text}` is empty: for a whole day write 00:00-24:00")));
    }
    // An end before the start runs overnight into the next day.
    let end = if end < start { end + DAY_MINUTES } else { end };
    Ok(DayRange { start, end })
}

/// `H:MM` or `HH:MM`, 00:00 to 24:00, in minutes after midnight.
fn time(text: &str) -> Option<u16> {
    let (hours, minutes) = text.split_once(':')?;
    let digits = |s: &str, lengths: &[usize]| lengths.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(hours, &[1, 2]) || !digits(minutes, &[2]) {
        return None;
    }
    let (hours, minutes): (u16, u16) = (hours.parse().ok()?, minutes.parse().ok()?);
    let total = hours * 60 + minutes;
    (minutes < 60 && total <= DAY_MINUTES).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weekly(text: &str) -> ([Vec<DayRange>; 7], Vec<DayRange>) {
        match text.parse::<ServiceHours>().unwrap().0 {
            Schedule::Weekly { days, holidays } => (days, holidays),
            Schedule::Always => unreachable!(),
        }
    }

    fn r(start: u16, end: u16) -> DayRange {
        DayRange { start, end }
    }

    #[test]
    fn the_forms_the_shipped_config_uses_parse() {
        let (days, holidays) = weekly("every day 08:00-22:00");
        assert!(days.iter().all(|d| d == &[r(480, 1320)]));
        assert!(holidays.is_empty(), "closed on holidays unless said");
        let (days, _) = weekly("Mon-Fri 09:00-18:00");
        assert!(days[..5].iter().all(|d| d == &[r(540, 1080)]));
        assert!(days[5..].iter().all(Vec::is_empty));
    }

    #[test]
    fn lists_spans_several_ranges_overnight_and_holidays() {
        let (days, holidays) = weekly("mon,Wed 09:00-12:00, 13:00-18:00; Fri-Mon 22:00-02:00; holidays 10:00-24:00");
        assert_eq!(days[0], [r(540, 720), r(780, 1080), r(1320, 1560)]);
        assert_eq!(days[1], []);
        assert_eq!(days[2], [r(540, 720), r(780, 1080)]);
        assert_eq!(days[4], [r(1320, 1560)]);
        assert_eq!(days[5], [r(1320, 1560)]);
        assert_eq!(days[6], [r(1320, 1560)]);
        assert_eq!(holidays, [r(600, 1440)]);
        let (days, _) = weekly("Saturday , sunday 0:00 - 24:00 ;daily 9:30-9:45");
        assert_eq!(days[6], [r(0, 1440), r(570, 585)]);
        assert_eq!(days[0], [r(570, 585)]);
        let (days, holidays) = weekly("Every  Day, holidays 10:00-16:00");
        assert!(days.iter().chain([&holidays]).all(|d| d == &[r(600, 960)]));
    }

    #[test]
    fn each_mistake_is_named() {
        let problem = |text: &str| text.parse::<ServiceHours>().unwrap_err().to_string();
        assert!(problem("").contains("is empty"));
        assert!(problem("Mon-Fry 09:00-18:00").contains("`Fry` is not a day"), "{}", problem("Mon-Fry 09:00-18:00"));
        assert!(problem("09:00-18:00").contains("names no days"));
        assert!(problem("Mon-Fri").contains("has no hours"));
        assert!(problem("Mon 9-18").contains("`9-18` is not a time range"));
        assert!(problem("Mon 09:00-25:00").contains("is not a time range"));
        assert!(problem("Mon 09:60-10:00").contains("is not a time range"));
        assert!(problem("Mon 09:00-09:00").contains("is empty"));
        assert!(problem("Mon 24:00-02:00").contains("starts at 24:00"));
        assert!(problem("Mon 09:00-18:00;").contains("empty part"));
        assert!(problem("Mon,,Tue 09:00-18:00").contains("`` is not a day"));
    }
}
