//! Every query against a naive reference: walk minute by minute, reading
//! each minute's local wall-clock time and checking it against the ranges
//! the generated schedule gives its date. Random schedules (several clauses,
//! overnight ranges, holiday hours), holidays and extra working days near the
//! instants asked about, in zones with and without DST (Lord Howe moves its
//! clocks by 30 minutes, Santiago at midnight), often right at a transition.

use std::time::Duration;

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use proptest::prelude::*;
use switchboard_calendar::{time_zone, Calendar, ServiceHours, SpecialDays};

const ZONES: [&str; 6] =
    ["Asia/Shanghai", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Santiago", "UTC"];
const DAY: u16 = 1440;
/// The reference walks this many minutes from the window's start.
const WINDOW_MINUTES: usize = 12 * 1440;
/// Queries start within this many minutes of the window's start.
const QUERY_MINUTES: usize = 3 * 1440;
const GROUP: &str = "g";

/// One `;`-separated part of a generated `service_hours`.
#[derive(Clone, Debug)]
struct Clause {
    weekdays: [bool; 7],
    holidays: bool,
    /// (start, length) in minutes; the text writes the end as a time of day.
    ranges: Vec<(u16, u16)>,
    /// Write an end at midnight as "00:00" rather than "24:00".
    midnight_as_zero: bool,
}

#[derive(Clone, Debug)]
struct Spec {
    zone: &'static str,
    clauses: Vec<Clause>,
    holidays: Vec<Date>,
    extra_working_days: Vec<Date>,
}

fn hhmm(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

impl Clause {
    fn names_a_day(&self) -> bool {
        self.holidays || self.weekdays.contains(&true)
    }

    fn text(&self) -> String {
        const NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
        let mut days: Vec<&str> = (0..7).filter(|d| self.weekdays[*d]).map(|d| NAMES[d]).collect();
        if days.len() == 7 {
            days = vec!["every day"];
        }
        if self.holidays {
            days.push("holidays");
        }
        let ranges: Vec<String> = self
            .ranges
            .iter()
            .map(|&(start, length)| {
                let end = start + length;
                let end = if end == DAY && !self.midnight_as_zero { "24:00".to_owned() } else { hhmm(end % DAY) };
                format!("{}-{end}", hhmm(start))
            })
            .collect();
        format!("{} {}", days.join(","), ranges.join(", "))
    }
}

impl Spec {
    fn service_hours(&self) -> String {
        self.clauses.iter().filter(|c| c.names_a_day()).map(Clause::text).collect::<Vec<_>>().join("; ")
    }

    fn zone(&self) -> TimeZone {
        time_zone(self.zone).unwrap()
    }

    fn calendar(&self) -> Calendar {
        let special = SpecialDays::new(self.holidays.clone(), self.extra_working_days.clone()).unwrap();
        let text = self.service_hours();
        let hours = if text.is_empty() { None } else { Some(text.parse::<ServiceHours>().unwrap()) };
        let calendar = Calendar::new(self.zone(), special);
        // No clause naming a day: a group with hours that never open ("holidays" with no holidays would do too).
        calendar.with_group(GROUP, hours.unwrap_or_else(|| "holidays 00:00-01:00".parse().unwrap()))
    }

    /// The reference's rule for the ranges (start, end) that start on `date`: the spec, read plainly.
    fn ranges_on(&self, date: Date) -> Vec<(u16, u16)> {
        let named: Vec<&Clause> = self.clauses.iter().filter(|c| c.names_a_day()).collect();
        let of_weekday = |day: usize| -> Vec<(u16, u16)> {
            named.iter().filter(|c| c.weekdays[day]).flat_map(|c| c.ranges.iter().map(|&(s, l)| (s, s + l))).collect()
        };
        if self.holidays.contains(&date) || named.is_empty() {
            let holiday_hours = named.iter().filter(|c| c.holidays).flat_map(|c| c.ranges.iter());
            let holiday_hours: Vec<(u16, u16)> = holiday_hours.map(|&(s, l)| (s, s + l)).collect();
            // The stand-in for "no day named" above is open 00:00-01:00 on holidays.
            return if named.is_empty() && self.holidays.contains(&date) { vec![(0, 60)] } else { holiday_hours };
        }
        let own = date.weekday().to_monday_zero_offset() as usize;
        if self.extra_working_days.contains(&date) {
            if let Some(first) = (0..5).map(of_weekday).find(|r| !r.is_empty()) {
                return first;
            }
        }
        of_weekday(own)
    }

    fn open_at(&self, local: DateTime) -> bool {
        let minute = (local.hour() as u16) * 60 + local.minute() as u16;
        let today = self.ranges_on(local.date()).into_iter().any(|(s, e)| s <= minute && minute < e.min(DAY));
        let yesterday = local.date().yesterday().unwrap();
        today || self.ranges_on(yesterday).into_iter().any(|(_, e)| e > DAY && minute < e - DAY)
    }

    fn is_working_day(&self, date: Date) -> bool {
        !self.ranges_on(date).is_empty()
    }
}

/// A spec, the calendar built from its text, and the reference's minutes.
struct Case {
    spec: Spec,
    calendar: Calendar,
    start: Timestamp,
    /// Whether each minute of the window is open, by the reference.
    open: Vec<bool>,
}

impl Case {
    fn new(spec: Spec, start: Timestamp) -> Case {
        let zone = spec.zone();
        let open = (0..WINDOW_MINUTES).map(|i| spec.open_at(zone.to_datetime(minute_after(start, i)))).collect();
        Case { calendar: spec.calendar(), spec, start, open }
    }

    fn at(&self, minute: usize) -> Timestamp {
        minute_after(self.start, minute)
    }

    fn end(&self) -> Timestamp {
        self.at(WINDOW_MINUTES)
    }

    /// The reference's answer if the window holds it; otherwise the real one must lie past the window.
    fn check(&self, what: &str, got: Option<Timestamp>, expected: Option<usize>) -> Result<(), TestCaseError> {
        match expected {
            Some(minute) => prop_assert_eq!(got, Some(self.at(minute)), "{} ({})", what, self.spec.service_hours()),
            None => prop_assert!(got.is_none_or(|t| t >= self.end()), "{what}: {got:?} is inside the window"),
        }
        Ok(())
    }
}

fn minute_after(start: Timestamp, minutes: usize) -> Timestamp {
    start + Duration::from_secs(60 * minutes as u64)
}

fn clause() -> impl Strategy<Value = Clause> {
    let minute = prop_oneof![3 => (0u16..48).prop_map(|h| h * 30), 1 => 0u16..DAY];
    let length = prop_oneof![3 => (1u16..48).prop_map(|h| h * 30), 1 => 1u16..DAY];
    (any::<[bool; 7]>(), prop::bool::weighted(0.2), prop::collection::vec((minute, length), 1..3), any::<bool>())
        .prop_map(|(weekdays, holidays, ranges, midnight_as_zero)| Clause {
            weekdays,
            holidays,
            ranges,
            midnight_as_zero,
        })
}

/// The window's start: anywhere in 2026, or within two days of one of the zone's transitions that year.
fn window_start(zone: &'static str) -> impl Strategy<Value = Timestamp> {
    let year_start: Timestamp = "2026-01-01T00:00Z".parse().unwrap();
    let transitions: Vec<Timestamp> =
        time_zone(zone).unwrap().following(year_start).take(2).map(|t| t.timestamp()).collect();
    let anywhere = (0i64..365 * 1440).prop_map(move |m| year_start + (m * 60).seconds());
    if transitions.is_empty() {
        return anywhere.boxed();
    }
    let near = (prop::sample::select(transitions), -2 * 1440i64..1440).prop_map(|(t, m)| t + (m * 60).seconds());
    prop_oneof![anywhere, near].boxed()
}

fn case() -> impl Strategy<Value = Case> {
    prop::sample::select(&ZONES[..]).prop_flat_map(|zone| {
        let near_dates = prop::collection::vec(-3i32..14, 0..4);
        (window_start(zone), prop::collection::vec(clause(), 0..4), near_dates.clone(), near_dates).prop_map(
            move |(start, clauses, holidays, extra)| {
                let date = time_zone(zone).unwrap().to_datetime(start).date();
                let dates = |days: Vec<i32>| -> Vec<Date> { days.into_iter().map(|d| date + d.days()).collect() };
                let holidays = dates(holidays);
                let extra_working_days = dates(extra).into_iter().filter(|d| !holidays.contains(d)).collect();
                Case::new(Spec { zone, clauses, holidays, extra_working_days }, start)
            },
        )
    })
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} from {} ({:?})", self.spec, self.start, self.spec.service_hours())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn open_next_opening_and_next_closing_match_the_walk(case in case(), queries in prop::collection::vec(0..QUERY_MINUTES, 8)) {
        for q in queries {
            let at = case.at(q);
            prop_assert_eq!(case.calendar.is_open(GROUP, at), case.open[q], "is_open at {}", at);
            let opening = (q..WINDOW_MINUTES).find(|&m| case.open[m]);
            case.check(&format!("next_opening({at})"), case.calendar.next_opening(GROUP, at), opening)?;
            let closing = (q..WINDOW_MINUTES).find(|&m| !case.open[m]);
            case.check(&format!("next_closing({at})"), case.calendar.next_closing(GROUP, at), closing)?;
        }
    }

    #[test]
    fn working_time_matches_the_walk(
        case in case(),
        queries in prop::collection::vec((0..QUERY_MINUTES, 0..WINDOW_MINUTES, 0usize..900), 8),
    ) {
        for (from, to, working) in queries {
            let open_minutes = case.open[from..to.max(from)].iter().filter(|o| **o).count();
            let between = case.calendar.working_between(GROUP, case.at(from), case.at(to));
            prop_assert_eq!(between, Duration::from_secs(60 * open_minutes as u64), "from {} to {}", from, to);

            let at = case.at(from);
            let added = case.calendar.add_working(GROUP, at, Duration::from_secs(60 * working as u64));
            // The minute in which the last of `working` open minutes is used up ends at the answer.
            let expected = if working == 0 {
                Some(from)
            } else {
                (from..WINDOW_MINUTES).filter(|&m| case.open[m]).nth(working - 1).map(|m| m + 1)
            };
            case.check(&format!("add_working({at}, {working} min)"), added, expected)?;
            if let Some(added) = added.filter(|t| *t < case.end()) {
                prop_assert_eq!(case.calendar.working_between(GROUP, at, added), Duration::from_secs(60 * working as u64));
            }
        }
    }

    #[test]
    fn working_days_match_a_walk_over_dates(case in case(), queries in prop::collection::vec((0..QUERY_MINUTES, 0u32..8), 4)) {
        let zone = case.spec.zone();
        for (q, days) in queries {
            let at = case.at(q);
            let local = zone.to_datetime(at);
            let mut date = local.date();
            let mut left = days;
            let mut walked = 0;
            while left > 0 && walked < 2000 {
                date = date.tomorrow().unwrap();
                walked += 1;
                if case.spec.is_working_day(date) {
                    left -= 1;
                }
            }
            let got = case.calendar.add_working_days(GROUP, at, days);
            if days == 0 {
                prop_assert_eq!(got, Some(at));
            } else if left == 0 {
                prop_assert_eq!(got, Some(zone.to_timestamp(date.to_datetime(local.time())).unwrap()));
                prop_assert!(case.calendar.is_working_day(GROUP, date));
            } else {
                prop_assert_eq!(got, None, "no working day for 2000 days");
            }
        }
    }
}
