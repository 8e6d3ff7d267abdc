//! Owners: least-loaded assignment with a ticket capacity, priority,
//! agents leaving, transfers with a handoff note.

mod common;

use common::*;
use switchboard_tickets::{Input, Origin, Output, Priority, TicketId, TicketState, Tickets};

const NOW: &str = "2026-11-30 10:00";

fn owner(desk: &Tickets, id: u64) -> Option<String> {
    desk.ticket(TicketId(id)).unwrap().owner.as_ref().map(|a| a.0.clone())
}

fn create(desk: &mut Tickets, id: u64, priority: Priority) {
    let input =
        Input::Create { ticket: TicketId(id), group: group("billing"), origin: Origin::NobodyAvailable, priority };
    desk.handle(at(NOW), input).unwrap();
}

#[test]
fn tickets_go_to_the_least_loaded_agent_of_the_group_within_capacity() {
    let mut desk = desk();
    desk.handle(at(NOW), available("ann", &["billing"], 2)).unwrap();
    desk.handle(at(NOW), available("bo", &["billing"], 1)).unwrap();
    desk.handle(at(NOW), available("cy", &["tech"], 9)).unwrap();
    for id in 1..=4 {
        create(&mut desk, id, Priority::Normal);
    }
    let owners: Vec<_> = (1..=4).map(|id| owner(&desk, id)).collect();
    assert_eq!(owners, [Some("ann".into()), Some("bo".into()), Some("ann".into()), None]);
    assert_eq!(desk.waiting().collect::<Vec<_>>(), [TicketId(4)]);
    // Ann's customer closes ticket 1: the room goes to the waiting ticket.
    desk.handle(at(NOW), Input::CustomerClose { ticket: TicketId(1) }).unwrap();
    assert_eq!(owner(&desk, 4), Some("ann".into()));
    assert_eq!(desk.agent_load(&agent("ann")), Some(2));
}

#[test]
fn urgent_tickets_get_an_owner_before_older_normal_ones() {
    let mut desk = desk();
    create(&mut desk, 1, Priority::Normal);
    create(&mut desk, 2, Priority::Normal);
    desk.handle(at(NOW), Input::SetPriority { ticket: TicketId(2), priority: Priority::Urgent }).unwrap();
    create(&mut desk, 3, Priority::Urgent);
    assert_eq!(desk.waiting().collect::<Vec<_>>(), [TicketId(2), TicketId(3), TicketId(1)]);
    desk.handle(at(NOW), available("ann", &["billing"], 2)).unwrap();
    assert_eq!((owner(&desk, 1), owner(&desk, 2), owner(&desk, 3)), (None, Some("ann".into()), Some("ann".into())));
}

#[test]
fn an_agent_going_away_hands_open_tickets_on_and_keeps_done_ones() {
    let mut desk = desk();
    desk.handle(at(NOW), available("ann", &["billing"], 5)).unwrap();
    create(&mut desk, 1, Priority::Normal);
    create(&mut desk, 2, Priority::Normal);
    desk.handle(at(NOW), Input::CustomerClose { ticket: TicketId(2) }).unwrap();
    desk.handle(at(NOW), available("bo", &["billing"], 5)).unwrap();
    outputs(&mut desk);
    desk.handle(at(NOW), Input::AgentAway { agent: agent("ann") }).unwrap();
    assert_eq!(
        outputs(&mut desk),
        [Output::Waiting { ticket: TicketId(1) }, Output::Assigned { ticket: TicketId(1), agent: agent("bo") }]
    );
    assert_eq!(owner(&desk, 2), Some("ann".into()));
    assert_eq!(desk.ticket(TicketId(2)).unwrap().state, TicketState::Closed);
}

fn transfer(to: &str, note: &str) -> Input {
    Input::Transfer { ticket: TicketId(1), from: agent("ann"), to: agent(to), note: note.into() }
}

#[test]
fn a_transfer_needs_a_note_and_an_available_agent_of_the_group_with_room() {
    let mut desk = desk();
    desk.handle(at(NOW), available("ann", &["billing"], 5)).unwrap();
    create(&mut desk, 1, Priority::Normal);
    desk.handle(at(NOW), available("bo", &["billing"], 1)).unwrap();
    create(&mut desk, 2, Priority::Normal); // bo is now full
    desk.handle(at(NOW), available("cy", &["tech"], 5)).unwrap();
    desk.handle(at(NOW), available("di", &["billing"], 5)).unwrap();
    desk.handle(at(NOW), Input::AgentAway { agent: agent("di") }).unwrap();
    let note = "asked for the invoice; finance must refund";
    let refusals = [
        (transfer("ann", note), "ticket_transfer_to_self"),
        (transfer("zed", note), "ticket_agent_unknown"),
        (transfer("di", note), "ticket_agent_unavailable"),
        (transfer("cy", note), "ticket_agent_not_in_group"),
        (transfer("bo", note), "ticket_agent_full"),
        (
            Input::Transfer { ticket: TicketId(1), from: agent("bo"), to: agent("cy"), note: note.into() },
            "ticket_not_yours",
        ),
    ];
    for (input, code) in refusals {
        assert_eq!(desk.handle(at(NOW), input).unwrap_err().code(), code);
    }
    desk.handle(at(NOW), available("di", &["billing"], 5)).unwrap();
    assert_eq!(desk.handle(at(NOW), transfer("di", " refund ")).unwrap_err().code(), "handoff_note_too_short");
    outputs(&mut desk);
    desk.handle(at(NOW), transfer("di", note)).unwrap();
    assert_eq!(
        outputs(&mut desk),
        [Output::Transferred { ticket: TicketId(1), from: agent("ann"), to: agent("di"), note: note.into() }]
    );
    assert_eq!((desk.agent_load(&agent("ann")), desk.agent_load(&agent("di"))), (Some(0), Some(1)));
}

#[test]
fn bad_agents_groups_and_ids_are_refused_with_codes() {
    let mut desk = desk();
    assert_eq!(desk.handle(at(NOW), available("ann", &["billing"], 0)).unwrap_err().code(), "ticket_capacity_invalid");
    assert_eq!(desk.handle(at(NOW), available("ann", &["sales"], 1)).unwrap_err().code(), "ticket_group_unknown");
    assert_eq!(
        desk.handle(at(NOW), Input::AgentAway { agent: agent("ann") }).unwrap_err().code(),
        "ticket_agent_unknown"
    );
    create(&mut desk, 1, Priority::Normal);
    let again = left_message(1, "billing", Origin::CustomerChoice);
    assert_eq!(desk.handle(at(NOW), again).unwrap_err().code(), "ticket_exists");
    let elsewhere = left_message(2, "sales", Origin::CustomerChoice);
    assert_eq!(desk.handle(at(NOW), elsewhere).unwrap_err().code(), "ticket_group_unknown");
}
