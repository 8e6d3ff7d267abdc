//! The ticket rules as readable stories, on the Shanghai calendar of
//! `common` (billing: Mon-Fri 09:00-18:00; 2027-01-01 a holiday).

mod common;

use common::*;
use switchboard_tickets::{Actor, BreachKind, Input, Limit, Origin, Output, Priority, Reminder, TicketId, TicketState};

const T1: TicketId = TicketId(1);

fn reply(id: TicketId, who: &str, state: TicketState, expected: Option<&str>) -> Input {
    Input::AgentReply { ticket: id, agent: agent(who), state, expected_resolution: expected.map(at) }
}

#[test]
fn a_message_left_on_friday_night_is_answered_on_monday_morning_without_a_breach() {
    let mut desk = desk();
    // Friday 2026-11-27, 21:00: billing is closed, the customer leaves a message.
    desk.handle(at("2026-11-27 21:00"), left_message(1, "billing", Origin::GroupClosed)).unwrap();
    assert_eq!(outputs(&mut desk), [Output::Waiting { ticket: T1 }]);
    // The first response is owed 15 working minutes later: Monday 09:15.
    assert_eq!(desk.poll_timeout(), Some(at("2026-11-30 09:15")));
    assert_eq!(desk.ticket(T1).unwrap().deadlines[&Limit::NoReply], at("2026-11-30 13:00"));

    desk.handle(at("2026-11-30 09:02"), available("mei", &["billing"], 5)).unwrap();
    assert_eq!(outputs(&mut desk), [Output::Assigned { ticket: T1, agent: agent("mei") }]);
    desk.handle(at("2026-11-30 09:10"), reply(T1, "mei", TicketState::Processing, None)).unwrap();
    // Answered: only the expected resolution time is still owed, at 09:30.
    assert_eq!(desk.poll_timeout(), Some(at("2026-11-30 09:30")));
    desk.handle(at("2026-11-30 09:25"), reply(T1, "mei", TicketState::Processing, Some("2026-11-30 15:00"))).unwrap();
    assert_eq!(desk.poll_timeout(), None);

    desk.handle_timeout(at("2026-12-07 09:00"));
    let all = outputs(&mut desk);
    assert!(breaches(&all).is_empty(), "{all:?}");
    assert_eq!(desk.ticket(T1).unwrap().state, TicketState::Processing);
}

/// Ticket 1, owned by `mei`, awaiting the customer's order number since
/// Tuesday 2026-12-22 10:00.
fn desk_awaiting_feedback() -> switchboard_tickets::Tickets {
    let mut desk = desk();
    desk.handle(at("2026-12-22 09:00"), available("mei", &["billing"], 5)).unwrap();
    desk.handle(at("2026-12-22 09:50"), left_message(1, "billing", Origin::NobodyAvailable)).unwrap();
    desk.handle(at("2026-12-22 10:00"), reply(T1, "mei", TicketState::AwaitingFeedback, None)).unwrap();
    // Asking for feedback answers the customer and owes no expected time: only the wait runs.
    let deadlines = &desk.ticket(T1).unwrap().deadlines;
    assert_eq!(deadlines.keys().copied().collect::<Vec<_>>(), [Limit::FeedbackWait]);
    desk
}

#[test]
fn the_seven_plus_three_working_day_path_crosses_weekends_and_a_holiday() {
    let mut desk = desk_awaiting_feedback();
    let all = outputs(&mut desk);
    assert!(all.contains(&Output::RemindCustomer { ticket: T1, reminder: Reminder::FeedbackRequested }));

    // 7 working days: Dec 23, 24, 25, (weekend), 28, 29, 30, 31.
    desk.handle_timeout(at("2026-12-31 09:59"));
    assert_eq!(desk.ticket(T1).unwrap().state, TicketState::AwaitingFeedback);
    desk.handle_timeout(at("2026-12-31 10:00"));
    let pending = Output::StateChanged {
        ticket: T1,
        from: TicketState::AwaitingFeedback,
        to: TicketState::PendingConfirmation,
        actor: Actor::System,
        at: at("2026-12-31 10:00"),
    };
    assert_eq!(
        outputs(&mut desk),
        [pending, Output::RemindCustomer { ticket: T1, reminder: Reminder::PendingConfirmation }]
    );

    // 3 working days: Jan 1 is a holiday, then a weekend: Jan 4, 5, 6.
    desk.handle_timeout(at("2027-01-06 09:59"));
    assert_eq!(desk.ticket(T1).unwrap().state, TicketState::PendingConfirmation);
    desk.handle_timeout(at("2027-01-06 10:00"));
    assert_eq!(desk.ticket(T1).unwrap().state, TicketState::Closed);
    assert_eq!(desk.agent_load(&agent("mei")), Some(0));
    assert_eq!(desk.poll_timeout(), None);
}

#[test]
fn a_late_wake_up_moves_the_ticket_as_of_each_deadline() {
    let mut desk = desk_awaiting_feedback();
    outputs(&mut desk);
    // The caller sleeps through both waits.
    desk.handle_timeout(at("2027-02-01 12:00"));
    let moves: Vec<_> = outputs(&mut desk)
        .into_iter()
        .filter_map(|o| match o {
            Output::StateChanged { to, at, .. } => Some((to, at)),
            _ => None,
        })
        .collect();
    assert_eq!(
        moves,
        [(TicketState::PendingConfirmation, at("2026-12-31 10:00")), (TicketState::Closed, at("2027-01-06 10:00"))]
    );
}

#[test]
fn the_customer_answering_stops_the_feedback_wait_and_starts_the_reply_limit() {
    let mut desk = desk_awaiting_feedback();
    desk.handle(at("2026-12-24 17:00"), Input::CustomerMessage { ticket: T1 }).unwrap();
    let ticket = desk.ticket(T1).unwrap();
    assert_eq!(ticket.state, TicketState::CustomerReplied);
    // 4 working hours from Thursday 17:00: 1 h on Thursday, 3 h on Friday.
    assert_eq!(ticket.deadlines.keys().copied().collect::<Vec<_>>(), [Limit::NoReply]);
    assert_eq!(ticket.deadlines[&Limit::NoReply], at("2026-12-25 12:00"));
    desk.handle(at("2026-12-25 09:30"), reply(T1, "mei", TicketState::PendingConfirmation, None)).unwrap();
    desk.handle(at("2026-12-25 11:00"), Input::CustomerConfirm { ticket: T1 }).unwrap();
    assert_eq!(desk.ticket(T1).unwrap().state, TicketState::Resolved);
    assert!(desk.ticket(T1).unwrap().deadlines.is_empty());
}

/// Creates ticket 1 at `created` with `mei` available, drops the outputs.
fn desk_with_ticket(created: &str) -> switchboard_tickets::Tickets {
    let mut desk = desk();
    desk.handle(at(created), available("mei", &["billing"], 5)).unwrap();
    desk.handle(at(created), left_message(1, "billing", Origin::CustomerChoice)).unwrap();
    outputs(&mut desk);
    desk
}

/// Nothing a minute before `deadline`; at it, exactly one breach of `kind` with that deadline.
fn assert_breach_exactly_at(desk: &mut switchboard_tickets::Tickets, kind: BreachKind, deadline: &str) {
    let minute_before = at(deadline) - jiff::SignedDuration::from_mins(1);
    desk.handle_timeout(minute_before);
    let early = outputs(desk);
    assert!(breaches(&early).iter().all(|b| !matches!(b, Output::Breach { kind: k, .. } if *k == kind)), "{early:?}");
    desk.handle_timeout(at(deadline));
    let due = outputs(desk);
    let expected = Output::Breach { kind, ticket: T1, agent: Some(agent("mei")), deadline: at(deadline) };
    assert_eq!(breaches(&due), [&expected]);
}

#[test]
fn first_response_breaches_fifteen_working_minutes_later_across_the_close() {
    // Monday 17:50: 10 minutes before closing, 5 more on Tuesday morning.
    let mut desk = desk_with_ticket("2026-11-30 17:50");
    assert_breach_exactly_at(&mut desk, BreachKind::FirstResponse, "2026-12-01 09:05");
}

#[test]
fn expected_time_breaches_thirty_working_minutes_after_creation() {
    let mut desk = desk_with_ticket("2026-11-30 10:00");
    desk.handle(at("2026-11-30 10:05"), reply(T1, "mei", TicketState::Processing, None)).unwrap();
    assert_breach_exactly_at(&mut desk, BreachKind::ExpectedTime, "2026-11-30 10:30");
}

#[test]
fn no_reply_breaches_four_working_hours_after_the_customer_wrote() {
    let mut desk = desk_with_ticket("2026-11-30 10:00");
    let answer = reply(T1, "mei", TicketState::Processing, Some("2026-12-02 12:00"));
    desk.handle(at("2026-11-30 10:05"), answer).unwrap();
    // Monday 16:00: 2 h left on Monday, 2 h on Tuesday.
    desk.handle(at("2026-11-30 16:00"), Input::CustomerMessage { ticket: T1 }).unwrap();
    assert_breach_exactly_at(&mut desk, BreachKind::NoReply, "2026-12-01 11:00");
}

#[test]
fn a_chat_turned_into_a_ticket_stays_with_its_agent_and_owes_only_the_expected_time() {
    let mut desk = desk();
    desk.handle(at("2026-11-30 10:00"), available("mei", &["billing"], 5)).unwrap();
    desk.handle(at("2026-11-30 10:00"), available("ann", &["billing"], 5)).unwrap();
    let origin = Origin::FromChat { agent: agent("mei"), note: "refund needs finance, check Tuesday".into() };
    let create = Input::Create { ticket: T1, group: group("billing"), origin, priority: Priority::Urgent };
    desk.handle(at("2026-11-30 10:10"), create).unwrap();
    let ticket = desk.ticket(T1).unwrap();
    assert_eq!(ticket.owner, Some(agent("mei")));
    assert_eq!(ticket.deadlines.keys().copied().collect::<Vec<_>>(), [Limit::ExpectedTime]);

    let short = Origin::FromChat { agent: agent("mei"), note: "  see  ".into() };
    let err = desk.handle(at("2026-11-30 10:11"), left_message(2, "billing", short)).unwrap_err();
    assert_eq!(err.code(), "handoff_note_too_short");
    assert!(desk.ticket(TicketId(2)).is_none());
}
