//! A saved and restored core carries on exactly as the original: the
//! server's snapshots rely on it.

mod common;

use common::*;
use switchboard_tickets::{Input, Origin, Priority, TicketId, TicketRules, TicketState, Tickets};

fn reply(id: u64, who: &str, state: TicketState) -> Input {
    Input::AgentReply { ticket: TicketId(id), agent: agent(who), state, expected_resolution: None }
}

/// Two agents, a ticket owned, one waiting, one awaiting feedback.
fn busy_desk() -> Tickets {
    let mut desk = desk();
    desk.handle(at("2026-12-22 09:00"), available("mei", &["billing"], 1)).unwrap();
    desk.handle(at("2026-12-22 09:05"), left_message(1, "billing", Origin::NobodyAvailable)).unwrap();
    desk.handle(at("2026-12-22 09:06"), left_message(2, "billing", Origin::CustomerChoice)).unwrap();
    desk.handle(at("2026-12-22 09:07"), left_message(3, "tech", Origin::GroupClosed)).unwrap();
    desk.handle(at("2026-12-22 09:08"), available("li", &["tech"], 2)).unwrap();
    desk.handle(at("2026-12-22 09:09"), reply(3, "li", TicketState::AwaitingFeedback)).unwrap();
    outputs(&mut desk);
    desk
}

#[test]
fn a_restored_core_has_the_same_state_and_the_same_future() {
    let mut original = busy_desk();
    let saved = original.save();
    let bytes = text_of(&saved);
    let mut restored = Tickets::restore(saved, calendar()).unwrap();
    assert_eq!(restored.save(), original.save());
    assert_eq!(text_of(&restored.save()), bytes, "the same state gives the same bytes");
    assert_eq!(restored.poll_timeout(), original.poll_timeout());
    assert_eq!(restored.waiting().collect::<Vec<_>>(), [TicketId(2)]);

    let later = [
        (at("2026-12-22 10:00"), available("ann", &["billing"], 3)),
        (at("2026-12-22 10:01"), Input::SetPriority { ticket: TicketId(1), priority: Priority::Urgent }),
        (at("2026-12-22 10:02"), Input::AgentAway { agent: agent("mei") }),
    ];
    for (now, input) in later {
        original.handle(now, input.clone()).unwrap();
        restored.handle(now, input).unwrap();
        assert_eq!(outputs(&mut restored), outputs(&mut original));
    }
    original.handle_timeout(at("2027-01-20 09:00"));
    restored.handle_timeout(at("2027-01-20 09:00"));
    assert_eq!(outputs(&mut restored), outputs(&mut original), "the breaches and waits fire alike");
    assert_eq!(restored.ticket(TicketId(3)).unwrap().state, TicketState::Closed);
}

#[test]
fn new_rules_apply_to_limits_started_later_and_bad_ones_are_refused() {
    let mut desk = busy_desk();
    let bad = TicketRules { feedback_wait_days: 0, ..TicketRules::default() };
    assert_eq!(desk.set_rules(bad).unwrap_err().key, "tickets.feedback_wait_days");
    let shorter = TicketRules { first_response: std::time::Duration::from_secs(60), ..TicketRules::default() };
    desk.set_rules(shorter.clone()).unwrap();
    assert_eq!(desk.rules(), &shorter);
}

/// The saved state as text: its maps are ordered, so equal states print alike.
fn text_of(saved: &switchboard_tickets::SavedTickets) -> String {
    format!("{saved:?}")
}

#[test]
fn only_done_tickets_are_forgotten() {
    let mut desk = busy_desk();
    assert!(desk.forget(TicketId(1)).is_none(), "open: kept");
    assert!(desk.forget(TicketId(9)).is_none(), "unknown");
    desk.handle(at("2026-12-22 10:00"), Input::CustomerClose { ticket: TicketId(1) }).unwrap();
    outputs(&mut desk);
    assert_eq!(desk.forget(TicketId(1)).unwrap().state, TicketState::Closed);
    assert!(desk.ticket(TicketId(1)).is_none());
    assert_eq!(desk.agent_load(&agent("mei")), Some(1), "mei took the waiting ticket 2 when 1 closed");
}
