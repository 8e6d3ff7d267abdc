//! Invariants of the figures: the service ratio stays within 0..=100%, time
//! in service never exceeds the shift, and days sum to their month.

use proptest::prelude::*;
use switchboard_performance::{
    shift_figures, AgentState, Change, Event, EventKind, Figures, ShiftInput, Span, Targets,
};

const MIN: i64 = 60_000;
const DAY: i64 = 24 * 60 * MIN;

fn state() -> impl Strategy<Value = AgentState> {
    prop::sample::select(AgentState::ALL.to_vec())
}

/// A shift of up to 10 h starting within a day, with state changes from an hour before to an hour after.
fn shift_input(day: i64) -> impl Strategy<Value = ShiftInput> {
    (0..DAY - 10 * 60 * MIN, MIN..10 * 60 * MIN).prop_flat_map(move |(offset, length)| {
        let start = day * DAY + offset;
        let end = start + length;
        let changes = prop::collection::vec((start - 60 * MIN..end + 60 * MIN, state()), 0..20);
        let assigned = prop::collection::vec(start - MIN..end + MIN, 0..30);
        (changes, assigned).prop_map(move |(mut changes, assigned_at)| {
            changes.sort_by_key(|c| c.0);
            ShiftInput {
                start,
                end,
                changes: changes.into_iter().map(|(at, to)| Change { at, to }).collect(),
                assigned_at,
            }
        })
    })
}

fn event(days: i64) -> impl Strategy<Value = Event> {
    let kind = prop_oneof![
        Just(EventKind::Assigned),
        any::<bool>().prop_map(|satisfied| EventKind::Rated { satisfied }),
        Just(EventKind::SlowReply),
        Just(EventKind::ReplyWarning),
        prop::sample::select(vec!["close_unanswered", "break_too_many"]).prop_map(|k| EventKind::Flag(k.into())),
        Just(EventKind::ComplaintUpheld),
        any::<bool>().prop_map(|passed| EventKind::SpotCheck { passed }),
    ];
    (0..days * DAY, kind).prop_map(|(at, kind)| Event { at, kind })
}

proptest! {
    #[test]
    fn in_service_time_stays_within_the_shift(s in shift_input(0), now in -DAY..2 * DAY, grace in 0..5 * MIN) {
        let f = shift_figures(&s, now, grace);
        prop_assert!(f.in_service_ms >= 0 && f.in_service_ms <= f.elapsed_ms);
        prop_assert!(f.elapsed_ms <= s.end - s.start);
        prop_assert!(!(f.absent && (f.late || f.left_early)), "absent excludes late and early");
        let figures = Figures::of(Span { from: 0, to: DAY }, &[f], &[]);
        if let Some(bp) = figures.service_ratio_bp() {
            prop_assert!(bp <= 10_000);
        }
    }

    #[test]
    fn always_in_service_is_a_full_ratio_and_never_late(s in shift_input(0), to in prop::sample::select(vec![AgentState::Available, AgentState::Busy])) {
        let s = ShiftInput { changes: vec![Change { at: s.start - 1, to }], ..s };
        let f = shift_figures(&s, s.end, 0);
        prop_assert_eq!(f.in_service_ms, s.end - s.start);
        prop_assert!(!f.late && !f.left_early && !f.absent);
    }

    #[test]
    fn days_sum_to_their_month(
        shifts in prop::collection::vec((0..30i64).prop_flat_map(shift_input), 0..12),
        events in prop::collection::vec(event(30), 0..100),
    ) {
        let done: Vec<_> = shifts.iter().map(|s| shift_figures(s, 40 * DAY, MIN)).collect();
        let month = Figures::of(Span { from: 0, to: 30 * DAY }, &done, &events);
        let mut summed = Figures::default();
        for day in 0..30 {
            let span = Span { from: day * DAY, to: (day + 1) * DAY };
            // A shift belongs to the day it starts on.
            let of_day: Vec<_> = done.iter().copied().filter(|f| span.contains(f.start)).collect();
            summed.merge(&Figures::of(span, &of_day, &events));
        }
        prop_assert_eq!(summed, month);
    }

    #[test]
    fn targets_are_met_exactly_at_their_edge(satisfied in 0u32..200, dissatisfied in 0u32..200) {
        let mut f = Figures::default();
        f.tally.satisfied = satisfied;
        f.tally.dissatisfied = dissatisfied;
        let checks = Targets::default().check(&f);
        let ratings = satisfied + dissatisfied;
        let sat = checks.iter().find(|c| c.figure == "satisfaction_bp").unwrap();
        prop_assert_eq!(sat.met, ratings == 0 || satisfied * 100 >= 80 * ratings);
        let dis = checks.iter().find(|c| c.figure == "dissatisfaction_bp").unwrap();
        prop_assert_eq!(dis.met, ratings == 0 || dissatisfied * 100 <= 5 * ratings);
    }
}

#[test]
fn an_hour_at_fifteen_customers_meets_the_target_and_fourteen_does_not() {
    let assigned_at: Vec<i64> = (0..15).map(|i| i * 4 * MIN).collect();
    let s =
        ShiftInput { start: 0, end: 60 * MIN, changes: vec![Change { at: 0, to: AgentState::Available }], assigned_at };
    let f = Figures::of(Span { from: 0, to: DAY }, &[shift_figures(&s, DAY, 0)], &[]);
    assert_eq!(f.served_per_hour_centi(), Some(1500));
    assert!(Targets::default().check(&f).iter().all(|c| c.met), "{:?}", Targets::default().check(&f));
    let s = ShiftInput { assigned_at: s.assigned_at[1..].to_vec(), ..s };
    let f = Figures::of(Span { from: 0, to: DAY }, &[shift_figures(&s, DAY, 0)], &[]);
    let missed: Vec<_> = Targets::default().check(&f).into_iter().filter(|c| !c.met).map(|c| c.figure).collect();
    assert_eq!(missed, ["served_per_hour_centi"]);
}

#[test]
fn tickets_breached_are_not_within_limits() {
    let events: Vec<Event> = [EventKind::TicketAssigned(1), EventKind::TicketAssigned(2), EventKind::TicketBreached(2)]
        .into_iter()
        .map(|kind| Event { at: 5, kind })
        .collect();
    let f = Figures::of(Span { from: 0, to: 10 }, &[], &events);
    assert_eq!((f.tally.tickets_answered(), f.tally.tickets_within_limits()), (2, 1));
}
