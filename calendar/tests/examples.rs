//! The calendar's rules, one readable case each: weekends, holidays, extra
//! working days, overnight hours, DST changes (Europe/Berlin,
//! America/New_York) and the deployment default Asia/Shanghai (no DST).

use std::time::Duration;

use jiff::civil::Date;
use jiff::Timestamp;
use switchboard_calendar::{time_zone, Calendar, CalendarError, ServiceHours, SpecialDays};

const MIN: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

fn dates(list: &[&str]) -> Vec<Date> {
    list.iter().map(|d| d.parse().unwrap()).collect()
}

/// A calendar in `zone` with the given holidays, extra working days and `(group, service_hours)`.
fn calendar(zone: &str, holidays: &[&str], extra: &[&str], groups: &[(&str, &str)]) -> Calendar {
    let special = SpecialDays::new(dates(holidays), dates(extra)).unwrap();
    groups.iter().fold(Calendar::new(time_zone(zone).unwrap(), special), |calendar, (group, hours)| {
        calendar.with_group(*group, hours.parse::<ServiceHours>().unwrap())
    })
}

/// A local wall-clock time in the calendar's zone ("2026-03-06 17:55").
fn local(calendar: &Calendar, text: &str) -> Timestamp {
    let civil: jiff::civil::DateTime = text.parse().unwrap();
    calendar.zone().to_timestamp(civil).unwrap()
}

/// An instant with its offset ("2026-03-29T03:00+02:00").
fn instant(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn shanghai() -> Calendar {
    calendar(
        "Asia/Shanghai",
        // National Day 2026, with the weekend days worked instead.
        &["2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07"],
        &["2026-09-27", "2026-10-10"],
        &[
            ("refunds", "Mon-Fri 09:00-18:00"),
            ("general", "every day 08:00-22:00"),
            ("vip", "every day 08:00-22:00; holidays 10:00-16:00"),
            ("night", "Fri 22:00-02:00"),
        ],
    )
}

#[test]
fn a_weekday_group_closes_for_the_weekend() {
    let c = shanghai();
    // 2026-03-06 is a Friday.
    assert!(c.is_open("refunds", local(&c, "2026-03-06 17:59")));
    assert!(!c.is_open("refunds", local(&c, "2026-03-06 18:00")), "a range ends before its end time");
    assert!(!c.is_open("refunds", local(&c, "2026-03-07 10:00")));
    assert_eq!(c.next_opening("refunds", local(&c, "2026-03-06 18:00")), Some(local(&c, "2026-03-09 09:00")));
    assert_eq!(c.next_opening("refunds", local(&c, "2026-03-06 10:00")), Some(local(&c, "2026-03-06 10:00")));
    assert_eq!(c.next_closing("refunds", local(&c, "2026-03-06 10:00")), Some(local(&c, "2026-03-06 18:00")));
    assert_eq!(c.next_closing("refunds", local(&c, "2026-03-07 10:00")), Some(local(&c, "2026-03-07 10:00")));
}

#[test]
fn working_minutes_skip_the_night_and_the_weekend() {
    let c = shanghai();
    let friday = local(&c, "2026-03-06 17:55");
    assert_eq!(c.add_working("refunds", friday, 15 * MIN), Some(local(&c, "2026-03-09 09:10")));
    assert_eq!(c.add_working("refunds", friday, 5 * MIN), Some(local(&c, "2026-03-06 18:00")), "the end of open time");
    assert_eq!(c.add_working("refunds", friday, Duration::ZERO), Some(friday));
    assert_eq!(c.add_working("refunds", local(&c, "2026-03-07 12:00"), 4 * HOUR), Some(local(&c, "2026-03-09 13:00")));
    assert_eq!(c.working_between("refunds", local(&c, "2026-03-06 17:00"), local(&c, "2026-03-09 10:00")), 2 * HOUR);
    assert_eq!(c.working_between("general", local(&c, "2026-03-06 21:00"), local(&c, "2026-03-07 09:00")), 2 * HOUR);
    assert_eq!(
        c.working_between("refunds", local(&c, "2026-03-09 10:00"), local(&c, "2026-03-06 17:00")),
        Duration::ZERO
    );
}

#[test]
fn holidays_close_every_group_unless_it_has_holiday_hours() {
    let c = shanghai();
    let national_day = local(&c, "2026-10-01 12:00");
    assert!(!c.is_open("refunds", national_day));
    assert!(!c.is_open("general", national_day), "every day means every day but holidays");
    assert!(c.is_open("vip", national_day));
    assert!(!c.is_open("vip", local(&c, "2026-10-01 09:00")), "holiday hours replace the weekday's");
    assert_eq!(c.next_opening("general", national_day), Some(local(&c, "2026-10-03 08:00")), "the 3rd is no holiday");
    assert!(c.is_open("unlisted", national_day), "a group without service hours never closes");
}

#[test]
fn an_extra_working_day_is_worked_like_a_weekday() {
    let c = shanghai();
    // Sunday 2026-09-27 is worked.
    assert!(c.is_open("refunds", local(&c, "2026-09-27 09:00")));
    assert!(!c.is_open("refunds", local(&c, "2026-09-27 18:30")));
    assert!(c.is_working_day("refunds", "2026-09-27".parse().unwrap()));
    assert!(!c.is_working_day("refunds", "2026-09-26".parse().unwrap()));
    assert!(c.is_open("general", local(&c, "2026-09-27 21:00")), "keeps its own hours: Monday's are the same");
}

#[test]
fn seven_working_days_then_three_across_a_holiday_week() {
    let c = shanghai();
    // Awaiting feedback from Wednesday 2026-09-30 15:00: 1-7 October are holidays but the 3rd and 4th
    // (a weekend), the 10th (a Saturday) is worked.
    let asked = local(&c, "2026-09-30 15:00");
    let pending = c.add_working_days("refunds", asked, 7).unwrap();
    assert_eq!(pending, local(&c, "2026-10-15 15:00"), "8th, 9th, 10th, 12th, 13th, 14th, 15th");
    assert_eq!(c.add_working_days("refunds", pending, 3), Some(local(&c, "2026-10-20 15:00")));
    assert_eq!(c.add_working_days("refunds", asked, 0), Some(asked));
    // Counting starts the next day, whatever day `at` is.
    assert_eq!(c.add_working_days("refunds", local(&c, "2026-03-07 23:00"), 1), Some(local(&c, "2026-03-09 23:00")));
    assert_eq!(c.add_working_days("general", local(&c, "2026-09-30 15:00"), 1), Some(local(&c, "2026-10-03 15:00")));
}

#[test]
fn an_overnight_range_belongs_to_the_day_it_starts() {
    let c = shanghai();
    assert!(c.is_open("night", local(&c, "2026-03-06 23:00")));
    assert!(c.is_open("night", local(&c, "2026-03-07 01:59")));
    assert!(!c.is_open("night", local(&c, "2026-03-07 02:00")));
    assert_eq!(c.next_closing("night", local(&c, "2026-03-06 22:00")), Some(local(&c, "2026-03-07 02:00")));
    assert_eq!(c.working_between("night", local(&c, "2026-03-06 00:00"), local(&c, "2026-03-13 00:00")), 4 * HOUR);
    let friday_holiday = calendar("Asia/Shanghai", &["2026-03-06"], &[], &[("night", "Fri 22:00-02:00")]);
    assert!(!friday_holiday.is_open("night", local(&friday_holiday, "2026-03-07 01:00")));
    let saturday_holiday = calendar("Asia/Shanghai", &["2026-03-07"], &[], &[("night", "Fri 22:00-02:00")]);
    assert!(saturday_holiday.is_open("night", local(&saturday_holiday, "2026-03-07 01:00")));
}

#[test]
fn spring_forward_shortens_a_range_over_the_skipped_hour() {
    // Europe/Berlin, Sunday 2026-03-29: 02:00 CET becomes 03:00 CEST.
    let c = calendar("Europe/Berlin", &[], &[], &[("early", "Sun 01:30-03:00"), ("day", "every day 00:00-24:00")]);
    let (opens, closes) = (instant("2026-03-29T01:30+01:00"), instant("2026-03-29T03:00+02:00"));
    assert_eq!(closes.duration_since(opens).as_secs(), 30 * 60);
    assert_eq!(c.next_opening("early", instant("2026-03-28T12:00+01:00")), Some(opens));
    assert_eq!(c.next_closing("early", opens), Some(closes));
    assert_eq!(
        c.working_between("early", instant("2026-03-29T00:00+01:00"), instant("2026-03-30T00:00+02:00")),
        30 * MIN
    );
    assert_eq!(c.add_working("early", opens, 45 * MIN), Some(instant("2026-04-05T01:45+02:00")), "a week later");
    assert_eq!(
        c.working_between("day", instant("2026-03-29T00:00+01:00"), instant("2026-03-30T00:00+02:00")),
        23 * HOUR
    );
    // The same wall-clock time a working day later, moved past the gap when it does not exist.
    assert_eq!(
        c.add_working_days("day", instant("2026-03-28T02:30+01:00"), 1),
        Some(instant("2026-03-29T03:30+02:00"))
    );
}

#[test]
fn fall_back_lengthens_a_range_over_the_repeated_hour() {
    // Europe/Berlin, Sunday 2026-10-25: 03:00 CEST becomes 02:00 CET.
    let c = calendar("Europe/Berlin", &[], &[], &[("early", "Sun 01:30-03:00")]);
    let (opens, closes) = (instant("2026-10-25T01:30+02:00"), instant("2026-10-25T03:00+01:00"));
    assert_eq!(c.next_closing("early", opens), Some(closes));
    assert_eq!(c.working_between("early", opens, closes), 150 * MIN);
    assert!(c.is_open("early", instant("2026-10-25T02:30+02:00")));
    assert!(c.is_open("early", instant("2026-10-25T02:30+01:00")), "the repeated hour is open twice");
    assert_eq!(c.add_working("early", opens, 2 * HOUR), Some(instant("2026-10-25T02:30+01:00")));
}

#[test]
fn new_york_changes_clocks_inside_a_range() {
    // 2026-03-08: 02:00 EST becomes 03:00 EDT; 2026-11-01: 02:00 EDT becomes 01:00 EST.
    let c = calendar(
        "America/New_York",
        &[],
        &[],
        &[("early", "every day 01:30-03:00"), ("office", "Mon-Fri 09:00-17:00")],
    );
    let spring = (instant("2026-03-08T00:00-05:00"), instant("2026-03-09T00:00-04:00"));
    assert_eq!(c.working_between("early", spring.0, spring.1), 30 * MIN);
    let fall = (instant("2026-11-01T00:00-04:00"), instant("2026-11-02T00:00-05:00"));
    assert_eq!(c.working_between("early", fall.0, fall.1), 2 * HOUR, "01:30-02:00 EDT, then 01:30-03:00 EST");
    // 01:00-01:30 EST comes again after 01:59 EDT and is closed: two openings that day.
    assert_eq!(c.next_closing("early", instant("2026-11-01T01:45-04:00")), Some(instant("2026-11-01T01:00-05:00")));
    assert_eq!(c.next_opening("early", instant("2026-11-01T01:00-05:00")), Some(instant("2026-11-01T01:30-05:00")));
    // Friday 16:00 EST + 2 working hours: Monday 10:00, now EDT.
    assert_eq!(
        c.add_working("office", instant("2026-03-06T16:00-05:00"), 2 * HOUR),
        Some(instant("2026-03-09T10:00-04:00"))
    );
}

#[test]
fn never_and_always() {
    let c = calendar(
        "UTC",
        &["2027-01-01"],
        &[],
        &[("holidays only", "holidays 10:00-12:00"), ("round the clock", "every day 00:00-24:00")],
    );
    let at = instant("2026-12-30T12:00Z");
    assert_eq!(c.next_opening("holidays only", at), Some(instant("2027-01-01T10:00Z")));
    let later = instant("2027-01-02T00:00Z");
    assert_eq!(c.next_opening("holidays only", later), None, "no holiday left");
    assert_eq!(c.next_closing("holidays only", later), Some(later));
    assert_eq!(c.add_working("holidays only", later, MIN), None);
    assert_eq!(c.add_working_days("holidays only", later, 1), None);
    assert_eq!(c.next_closing("round the clock", at), Some(instant("2027-01-01T00:00Z")), "closed on the holiday");
    assert_eq!(c.next_closing("round the clock", later), None);
    assert_eq!(c.next_closing("unlisted", at), None);
    assert_eq!(c.add_working("unlisted", at, 3 * HOUR), Some(instant("2026-12-30T15:00Z")));
    assert_eq!(c.add_working_days("unlisted", at, 2), Some(instant("2027-01-01T12:00Z")), "every day is worked");
}

#[test]
fn a_calendar_refuses_what_cannot_be() {
    assert_eq!(time_zone("Mars/Olympus").unwrap_err(), CalendarError::UnknownTimeZone("Mars/Olympus".into()));
    let err = SpecialDays::new(dates(&["2026-10-01"]), dates(&["2026-09-27", "2026-10-01"])).unwrap_err();
    assert_eq!(err, CalendarError::HolidayAndWorkingDay { date: "2026-10-01".parse().unwrap(), index: 1 });
}
