//! The transition table: every legal move is accepted, every other one is
//! refused with a stable code, directly and through the desk.

mod common;

use std::collections::BTreeSet;

use common::*;
use switchboard_tickets::{
    check_transition, Actor, Input, Origin, TicketError, TicketId, TicketState, Tickets, TRANSITIONS,
};

#[test]
fn every_move_outside_the_table_is_refused_with_a_stable_code() {
    let legal: BTreeSet<_> = TRANSITIONS.iter().copied().collect();
    assert_eq!(legal.len(), TRANSITIONS.len(), "the table lists a move twice");
    let mut refused = 0;
    for from in TicketState::ALL {
        for to in TicketState::ALL {
            for actor in Actor::ALL {
                let result = check_transition(from, to, actor);
                match (legal.contains(&(from, to, actor)), from.is_done()) {
                    (true, _) => assert_eq!(result, Ok(()), "{from:?} -> {to:?} by {actor:?}"),
                    (false, true) => assert_eq!(result.unwrap_err().code(), "ticket_done"),
                    (false, false) => assert_eq!(result.unwrap_err().code(), "ticket_transition_illegal"),
                }
                refused += usize::from(!legal.contains(&(from, to, actor)));
            }
        }
    }
    assert_eq!(refused, 7 * 7 * 3 - TRANSITIONS.len());
}

#[test]
fn done_states_have_no_way_out_and_every_open_state_can_end() {
    for (from, _, _) in TRANSITIONS {
        assert!(!from.is_done(), "{from:?} is done but the table moves it");
    }
    for state in TicketState::ALL.into_iter().filter(|s| !s.is_done()) {
        assert_eq!(check_transition(state, TicketState::Closed, Actor::Customer), Ok(()), "{state:?}");
    }
    let done: Vec<_> = TicketState::ALL.into_iter().filter(|s| s.is_done()).collect();
    assert_eq!(done, [TicketState::Resolved, TicketState::Closed]);
}

#[test]
fn error_codes_are_unique_and_state_names_are_snake_case() {
    let codes: BTreeSet<_> = TicketError::CODES.into_iter().collect();
    assert_eq!(codes.len(), TicketError::CODES.len());
    let names: Vec<_> = TicketState::ALL.iter().map(|s| s.name()).collect();
    assert_eq!(
        names,
        [
            "assigned",
            "processing",
            "awaiting_feedback",
            "customer_replied",
            "pending_confirmation",
            "resolved",
            "closed"
        ]
    );
}

/// A desk with ticket 1 owned by `mei`, brought to `state` by legal moves.
fn desk_in(state: TicketState) -> Tickets {
    let mut desk = desk();
    let now = at("2026-11-30 10:00");
    desk.handle(now, available("mei", &["billing"], 5)).unwrap();
    desk.handle(now, left_message(1, "billing", Origin::CustomerChoice)).unwrap();
    let path: &[Input] = match state {
        TicketState::Assigned => &[],
        TicketState::Processing => &[reply(TicketState::Processing)],
        TicketState::AwaitingFeedback => &[reply(TicketState::AwaitingFeedback)],
        TicketState::CustomerReplied => &[reply(TicketState::Processing), Input::CustomerMessage { ticket: T1 }],
        TicketState::PendingConfirmation => &[reply(TicketState::PendingConfirmation)],
        TicketState::Resolved => &[reply(TicketState::PendingConfirmation), Input::CustomerConfirm { ticket: T1 }],
        TicketState::Closed => &[Input::CustomerClose { ticket: T1 }],
    };
    for input in path {
        desk.handle(now, input.clone()).unwrap();
    }
    assert_eq!(desk.ticket(T1).unwrap().state, state);
    desk
}

const T1: TicketId = TicketId(1);

fn reply(state: TicketState) -> Input {
    Input::AgentReply { ticket: T1, agent: agent("mei"), state, expected_resolution: None }
}

#[test]
fn the_desk_refuses_every_illegal_agent_reply_and_changes_nothing() {
    for from in TicketState::ALL {
        for to in TicketState::ALL {
            let mut desk = desk_in(from);
            let before = desk.ticket(T1).unwrap().clone();
            let result = desk.handle(at("2026-11-30 10:01"), reply(to));
            match check_transition(from, to, Actor::Agent) {
                Ok(()) => assert_eq!(result, Ok(()), "{from:?} -> {to:?}"),
                Err(expected) => {
                    assert_eq!(result, Err(expected), "{from:?} -> {to:?}");
                    assert_eq!(desk.ticket(T1).unwrap(), &before);
                }
            }
        }
    }
}

#[test]
fn customers_cannot_confirm_what_was_not_offered_and_done_tickets_refuse_messages() {
    let mut desk = desk_in(TicketState::Processing);
    let err = desk.handle(at("2026-11-30 10:01"), Input::CustomerConfirm { ticket: T1 }).unwrap_err();
    assert_eq!(err.code(), "ticket_transition_illegal");
    let mut desk = desk_in(TicketState::Resolved);
    let err = desk.handle(at("2026-11-30 10:01"), Input::CustomerMessage { ticket: T1 }).unwrap_err();
    assert_eq!(err.code(), "ticket_done");
    let err = desk.handle(at("2026-11-30 10:01"), Input::CustomerClose { ticket: TicketId(9) }).unwrap_err();
    assert_eq!(err.code(), "ticket_unknown");
}

#[test]
fn an_expected_time_must_be_ahead_and_only_the_owner_replies() {
    let mut desk = desk_in(TicketState::Processing);
    let past = Input::AgentReply {
        ticket: T1,
        agent: agent("mei"),
        state: TicketState::Processing,
        expected_resolution: Some(at("2026-11-30 09:00")),
    };
    assert_eq!(desk.handle(at("2026-11-30 10:01"), past).unwrap_err().code(), "ticket_expected_time_invalid");
    let stranger = Input::AgentReply {
        ticket: T1,
        agent: agent("ann"),
        state: TicketState::Processing,
        expected_resolution: None,
    };
    assert_eq!(desk.handle(at("2026-11-30 10:01"), stranger).unwrap_err().code(), "ticket_not_yours");
}
