//! Shifts and leave (`docs/shifts.md`): the config's schedule written to the
//! records store at start and on reload, shifts added and cancelled by
//! supervisors, leave asked by agents. Every time here is wall-clock ms (the
//! records' clock); a shift's date and times are local to the calendar's zone.

pub mod http;

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use switchboard_records::{ShiftRow, Span, Store, StoreError};
use tracing::info;

use crate::config::PlannedShift;

/// Where a shift stands at some moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Upcoming,
    Running,
    Over,
}

impl Phase {
    pub fn of(shift: &ShiftRow, now: i64) -> Phase {
        if now < shift.starts_at {
            Phase::Upcoming
        } else if now < shift.ends_at {
            Phase::Running
        } else {
            Phase::Over
        }
    }
}

/// Leave asked at `now` for an upcoming shift: late (a warning) when less than `notice_ms` before it.
pub fn leave_is_late(shift: &ShiftRow, now: i64, notice_ms: i64) -> bool {
    shift.starts_at - now < notice_ms
}

/// The wall-clock span of a local date, start and end (an end at or before the start is the next day).
pub fn span_of(day: Date, start: Time, end: Time, zone: &TimeZone) -> Option<Span> {
    let at = |d: Date, t: Time| d.to_datetime(t).to_zoned(zone.clone()).ok().map(|z| z.timestamp().as_millisecond());
    let end_day = if end <= start { day.tomorrow().ok()? } else { day };
    Some(Span { from: at(day, start)?, to: at(end_day, end)? })
}

/// The row of a planned shift from the config.
pub fn config_row(planned: &PlannedShift, zone: &TimeZone, now: i64) -> Option<ShiftRow> {
    let span = span_of(planned.day, planned.start, planned.end, zone)?;
    Some(ShiftRow {
        shift: planned.config_id(),
        agent: planned.agent.clone(),
        day: planned.day.to_string(),
        starts_at: span.from,
        ends_at: span.to,
        groups: planned.groups.clone(),
        level: planned.level.name().to_owned(),
        source: "config".to_owned(),
        created_by: None,
        created_at: now,
        cancelled_at: None,
    })
}

/// Writes the config's shifts, and cancels config shifts no longer in it
/// that have not ended (a past shift stays as it was: it was worked, or missed).
pub async fn sync_config(store: &Store, plan: &[PlannedShift], zone: &TimeZone, now: i64) -> Result<(), StoreError> {
    let rows: Vec<ShiftRow> = plan.iter().filter_map(|p| config_row(p, zone, now)).collect();
    store.put_config_shifts(&rows).await?;
    let current = store.shifts(None, Span { from: now, to: i64::MAX }).await?;
    let gone = current.iter().filter(|s| s.source == "config" && s.cancelled_at.is_none());
    let mut cancelled = 0;
    for shift in gone.filter(|s| !rows.iter().any(|r| r.shift == s.shift)) {
        cancelled += u32::from(store.cancel_shift(&shift.shift, now).await?);
    }
    info!(shifts = rows.len(), cancelled, "shifts: the config's schedule written to the records");
    Ok(())
}

/// [`sync_config`] with the config's plan; a failure is logged (the next reload tries again).
pub async fn sync_configured(config: &crate::config::Config, store: &Store) {
    let zone = TimeZone::get(&config.calendar.time_zone).unwrap_or(TimeZone::UTC);
    let result = match config.shift_plan() {
        Ok(plan) => sync_config(store, &plan, &zone, switchboard_records::now_ms()).await,
        Err(e) => return tracing::warn!(error = %e, "shifts: the schedule is not valid"),
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, "shifts: the schedule could not be written to the records; the next reload tries again");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone() -> TimeZone {
        TimeZone::get("Asia/Shanghai").unwrap()
    }

    #[test]
    fn a_shift_ending_at_or_before_its_start_ends_the_next_day() {
        let day = Date::constant(2026, 11, 26);
        let span = span_of(day, Time::constant(22, 0, 0, 0), Time::constant(2, 0, 0, 0), &zone()).unwrap();
        assert_eq!(span.to - span.from, 4 * 3_600_000);
        let span = span_of(day, Time::constant(9, 0, 0, 0), Time::constant(11, 0, 0, 0), &zone()).unwrap();
        // 09:00 in Shanghai is 01:00 UTC.
        assert_eq!(jiff::Timestamp::from_millisecond(span.from).unwrap().to_string(), "2026-11-26T01:00:00Z");
    }

    #[test]
    fn leave_is_late_under_the_notice_and_phases_follow_the_clock() {
        let h = 3_600_000;
        let shift = ShiftRow {
            shift: "s".into(),
            agent: "ann".into(),
            day: "2026-11-26".into(),
            starts_at: 10 * h,
            ends_at: 12 * h,
            groups: vec![],
            level: "beginner".into(),
            source: "api".into(),
            created_by: None,
            created_at: 0,
            cancelled_at: None,
        };
        assert!(!leave_is_late(&shift, 8 * h, 2 * h));
        assert!(leave_is_late(&shift, 8 * h + 1, 2 * h));
        assert_eq!(Phase::of(&shift, 10 * h - 1), Phase::Upcoming);
        assert_eq!(Phase::of(&shift, 10 * h), Phase::Running);
        assert_eq!(Phase::of(&shift, 12 * h), Phase::Over);
    }
}
