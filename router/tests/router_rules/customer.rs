//! The customer side: leaving, idling out, dropping and resuming, rating.

use switchboard_router::*;

use crate::sim::*;

fn chatting() -> Sim {
    let mut sim = Sim::new(small());
    sim.online("alice");
    sim.join(1, "general");
    sim.say(1, "hi").unwrap();
    sim.reply("alice", 1, "hello, how can I help?").unwrap();
    sim.take();
    sim
}

#[test]
fn messages_flow_both_ways_with_typing() {
    let mut sim = chatting();
    sim.customer(Input::CustomerTyping { session: SessionId(1) }).unwrap();
    sim.say(1, "my order").unwrap();
    assert!(sim.to_agent("alice").contains(&AgentNotice::CustomerTyping { session: SessionId(1) }));
    assert!(sim
        .to_agent("alice")
        .contains(&AgentNotice::CustomerMessage { session: SessionId(1), text: "my order".into() }));
    sim.input(Input::AgentTyping { agent: AgentId::new("alice"), session: SessionId(1) }).unwrap();
    sim.reply("alice", 1, "checking").unwrap();
    assert_eq!(
        sim.to_customer(1),
        vec![
            CustomerNotice::AgentTyping,
            CustomerNotice::AgentMessage { agent_name: "Agent alice".into(), text: "checking".into() }
        ]
    );
    assert_eq!(sim.say(1, "   ").unwrap_err().code(), "message_empty");
    let long = "x".repeat(Rules::default().message_max_chars + 1);
    assert_eq!(sim.say(1, &long).unwrap_err().code(), "message_too_long");
}

#[test]
fn the_customer_leaving_ends_the_session_and_tells_the_agent() {
    let mut sim = chatting();
    sim.customer(Input::CustomerLeave { session: SessionId(1) }).unwrap();
    assert!(sim.to_agent("alice").contains(&AgentNotice::SessionEnded {
        session: SessionId(1),
        why: SessionEndedWhy::Closed { reason: CloseReason::CustomerLeft },
    }));
    assert!(sim.sessions_of("alice").is_empty());
    assert_eq!(sim.say(1, "wait").unwrap_err().code(), "session_closed");
    assert_eq!(sim.customer(Input::CustomerLeave { session: SessionId(1) }).unwrap_err().code(), "session_closed");
    assert!(sim.flags().is_empty());
}

#[test]
fn a_waiting_customer_can_leave_the_queue() {
    let mut sim = Sim::new(small());
    sim.join(1, "general");
    sim.join(2, "general");
    sim.customer(Input::CustomerLeave { session: SessionId(1) }).unwrap();
    assert_eq!(sim.positions(2), vec![2, 1]);
    assert_eq!(sim.router.snapshot(sim.now).groups[0].waiting, 1);
}

#[test]
fn a_silent_customer_idles_out_after_the_agents_reply() {
    let mut sim = chatting();
    sim.advance(secs(599));
    assert!(sim.status(1).is_some_and(|s| matches!(s, SessionStatus::Assigned { .. })));
    sim.advance(secs(1));
    assert_eq!(sim.status(1), Some(SessionStatus::Closed { reason: CloseReason::CustomerIdle, can_rate: true }));
}

#[test]
fn customer_activity_pushes_the_idle_deadline() {
    let mut sim = chatting();
    sim.advance(secs(500));
    sim.say(1, "still here").unwrap();
    sim.reply("alice", 1, "ok").unwrap();
    sim.advance(secs(500));
    assert!(matches!(sim.status(1), Some(SessionStatus::Assigned { .. })));
    sim.advance(secs(100));
    assert!(matches!(sim.status(1), Some(SessionStatus::Closed { reason: CloseReason::CustomerIdle, .. })));
}

#[test]
fn a_dropped_customer_has_a_grace_period_to_resume() {
    let mut sim = chatting();
    sim.customer(Input::CustomerDisconnected { session: SessionId(1) }).unwrap();
    sim.advance(secs(119));
    sim.customer(Input::CustomerReconnected { session: SessionId(1) }).unwrap();
    sim.advance(secs(10));
    assert!(matches!(sim.status(1), Some(SessionStatus::Assigned { .. })));
    sim.customer(Input::CustomerDisconnected { session: SessionId(1) }).unwrap();
    sim.advance(secs(120));
    assert_eq!(sim.status(1), Some(SessionStatus::Closed { reason: CloseReason::CustomerLost, can_rate: false }));
}

#[test]
fn rating_after_close_counts_for_the_agent_once() {
    let mut sim = chatting();
    let rate = |r| Input::CustomerRate { session: SessionId(1), rating: r };
    assert_eq!(sim.customer(rate(Rating::Satisfied)).unwrap_err().code(), "rating_not_open");
    sim.close("alice", 1).unwrap();
    assert!(sim
        .to_customer(1)
        .contains(&CustomerNotice::Closed { reason: CloseReason::Agent(AgentCloseReason::Resolved), can_rate: true }));
    sim.customer(rate(Rating::Dissatisfied)).unwrap();
    assert_eq!(sim.customer(rate(Rating::Satisfied)).unwrap_err().code(), "already_rated");
    let record = sim.record("alice");
    assert_eq!((record.satisfied, record.dissatisfied), (0, 1));
    assert!(sim.events().iter().any(|e| matches!(e, Event::Rated { rating: Rating::Dissatisfied, .. })));
}

#[test]
fn the_rating_window_closes() {
    let mut sim = chatting();
    sim.close("alice", 1).unwrap();
    sim.advance(secs(600) - MS);
    assert!(!sim.events().contains(&Event::SessionForgotten { session: SessionId(1) }));
    sim.advance(MS);
    assert!(
        sim.events().contains(&Event::SessionForgotten { session: SessionId(1) }),
        "whoever keeps state for it is told"
    );
    let err = sim.customer(Input::CustomerRate { session: SessionId(1), rating: Rating::Satisfied }).unwrap_err();
    assert_eq!(err.code(), "unknown_session", "the session is forgotten after the window");
}

#[test]
fn a_session_that_never_had_an_agent_cannot_be_rated() {
    let mut sim = Sim::new(small());
    sim.join(1, "general");
    sim.customer(Input::CustomerLeave { session: SessionId(1) }).unwrap();
    assert_eq!(sim.status(1), Some(SessionStatus::Closed { reason: CloseReason::CustomerLeft, can_rate: false }));
}
