//! Transfers: always with a handoff note, only to an agent with room or to a
//! group, with the customer's consent for another group.

use switchboard_router::*;

use crate::sim::*;

/// alice and bob in general, carol in refunds; alice serves session 1.
fn serving() -> Sim {
    let mut sim = Sim::new(small());
    sim.online("alice");
    sim.join(1, "general");
    sim.say(1, "I want my money back").unwrap();
    sim.reply("alice", 1, "Let me pass you to the right colleague").unwrap();
    sim.take();
    sim
}

#[test]
fn a_note_is_required_and_a_refused_transfer_changes_nothing() {
    let mut sim = serving();
    sim.online("bob");
    sim.take();
    let cases =
        [("", "handoff_note_missing"), ("   ", "handoff_note_missing"), ("too short", "handoff_note_too_short")];
    for (note, code) in cases {
        let err = sim.transfer("alice", 1, to_agent("bob"), note).unwrap_err();
        assert_eq!(err.code(), code, "note {note:?}");
    }
    let long = "x".repeat(Rules::default().handoff_note_max_chars + 1);
    assert_eq!(sim.transfer("alice", 1, to_agent("bob"), &long).unwrap_err().code(), "handoff_note_too_long");
    assert!(sim.out.is_empty(), "no output from a refused transfer");
    assert_eq!(sim.owner(1).as_deref(), Some("alice"));
}

#[test]
fn transfer_to_an_agent_carries_the_note_and_the_history() {
    let mut sim = serving();
    sim.online("bob");
    sim.transfer("alice", 1, to_agent("bob"), NOTE).unwrap();
    assert_eq!(sim.owner(1).as_deref(), Some("bob"));
    let view = sim
        .to_agent("bob")
        .into_iter()
        .find_map(|n| if let AgentNotice::SessionAssigned { session } = n { Some(session) } else { None })
        .expect("bob is told");
    assert_eq!(view.notes.len(), 1);
    assert_eq!(&*view.notes[0].text, NOTE);
    assert_eq!(view.notes[0].from, AgentId::new("alice"));
    let texts: Vec<&str> = view.history.iter().map(|h| &*h.text).collect();
    assert_eq!(texts, vec!["I want my money back", "Let me pass you to the right colleague"]);
    assert!(sim.to_agent("alice").contains(&AgentNotice::SessionEnded {
        session: SessionId(1),
        why: SessionEndedWhy::Transferred { target: to_agent("bob") },
    }));
    assert!(sim.to_customer(1).contains(&CustomerNotice::Assigned { agent_name: "Agent bob".into() }));
    assert!(sim.flags().is_empty(), "a clean transfer raises no flag");
    assert!(sim.events().iter().any(|e| matches!(e, Event::Transferred { kind: TransferKind::ToAgent, .. })));
}

#[test]
fn transfer_only_to_an_agent_online_with_room() {
    let mut sim = Sim::new(config(
        &[("general", &[])],
        &[("alice", &["general"], 2), ("bob", &["general"], 1), ("dan", &["general"], 1)],
    ));
    sim.online("alice");
    sim.join(1, "general");
    sim.join(2, "general");
    assert_eq!(sim.sessions_of("alice"), vec![1, 2]);
    sim.take();
    assert_eq!(sim.transfer("alice", 1, to_agent("bob"), NOTE).unwrap_err().code(), "target_agent_unavailable");
    sim.online("bob");
    sim.join(3, "general"); // bob is now full
    assert_eq!(sim.sessions_of("bob"), vec![3]);
    assert_eq!(
        sim.transfer("alice", 1, to_agent("bob"), NOTE).unwrap_err(),
        RuleError::TargetAgentFull(AgentId::new("bob"))
    );
    sim.online("dan");
    sim.take_break("dan").unwrap();
    assert_eq!(sim.transfer("alice", 1, to_agent("dan"), NOTE).unwrap_err().code(), "target_agent_unavailable");
    assert_eq!(sim.transfer("alice", 1, to_agent("alice"), NOTE).unwrap_err().code(), "transfer_to_self");
    assert_eq!(sim.transfer("alice", 1, to_agent("zed"), NOTE).unwrap_err().code(), "unknown_agent");
    assert_eq!(sim.transfer("alice", 1, to_group("nope"), NOTE).unwrap_err().code(), "unknown_group");
    assert_eq!(sim.transfer("bob", 1, to_group("general"), NOTE).unwrap_err().code(), "not_your_session");
    assert_eq!(sim.sessions_of("alice"), vec![1, 2]);
}

#[test]
fn transfer_to_the_own_group_requeues_at_the_front_but_not_back_to_the_sender() {
    let mut sim = Sim::new(config(&[("general", &[])], &[("alice", &["general"], 3), ("bob", &["general"], 1)]));
    sim.online("alice");
    sim.join(1, "general");
    sim.online("bob");
    sim.join(2, "general"); // bob is full with 2
    sim.join(3, "general"); // alice
    sim.join(4, "general"); // alice (bob full): alice has 1, 3, 4 → full
    assert_eq!(sim.sessions_of("alice"), vec![1, 3, 4]);
    sim.join(5, "general"); // waits
    sim.transfer("alice", 1, to_group("general"), NOTE).unwrap();
    // alice has room again, but session 1 must not bounce back to her: session 5 gets her seat.
    assert_eq!(sim.sessions_of("alice"), vec![3, 4, 5]);
    assert!(matches!(sim.status(1), Some(SessionStatus::Waiting { position: 1, .. })), "at the front");
    sim.close("bob", 2).unwrap();
    assert_eq!(sim.owner(1).as_deref(), Some("bob"));
    let view = sim.router.session_view(SessionId(1)).unwrap();
    assert_eq!(view.notes.len(), 1);
}

/// The exclusion waits for a colleague, not forever: with nobody else of the
/// group on duty the session comes back to its sender at once, and when the
/// last colleague leaves, a session waiting for them comes back too.
#[test]
fn a_session_put_back_with_no_colleague_on_duty_returns_to_the_sender() {
    let mut sim = Sim::new(config(&[("general", &[])], &[("alice", &["general"], 2), ("bob", &["general"], 1)]));
    sim.online("alice");
    sim.join(1, "general");
    sim.transfer("alice", 1, to_group("general"), NOTE).unwrap();
    assert_eq!(sim.owner(1).as_deref(), Some("alice"), "nobody else is on duty");

    sim.online("bob");
    sim.join(2, "general"); // bob is full
    assert_eq!(sim.owner(2).as_deref(), Some("bob"));
    sim.transfer("alice", 1, to_group("general"), NOTE).unwrap();
    assert!(matches!(sim.status(1), Some(SessionStatus::Waiting { .. })), "bob is on duty: wait for him");
    sim.take_break("bob").unwrap(); // no new sessions for bob, but still on duty
    sim.transfer("bob", 2, to_agent("alice"), NOTE).unwrap();
    assert!(matches!(sim.status(1), Some(SessionStatus::Waiting { .. })), "bob is on a break, still on duty");
    sim.set("bob", Availability::Offline).unwrap();
    assert_eq!(sim.owner(1).as_deref(), Some("alice"), "bob left: nobody else will serve it");
}

/// `max_queue` turns away new customers, not one already in service: a
/// customer who accepts a transfer after the target queue filled still moves.
#[test]
fn a_consent_accepted_after_the_target_queue_filled_still_moves_the_session() {
    let mut cfg = config(&[("general", &[]), ("refunds", &[])], &[("alice", &["general"], 2)]);
    cfg.groups[1].max_queue = 1;
    let mut sim = Sim::new(cfg);
    sim.online("alice");
    sim.join(1, "general");
    sim.transfer("alice", 1, to_group("refunds"), NOTE).unwrap();
    sim.join(2, "refunds");
    let join = Input::CustomerJoin {
        session: SessionId(3),
        group: GroupId::new("refunds"),
        priority: Priority::Normal,
        customer_name: None,
        customer_id: None,
    };
    assert_eq!(sim.customer(join).unwrap_err().code(), "queue_full");
    sim.customer(Input::CustomerConsent { session: SessionId(1), accept: true }).unwrap();
    assert!(
        matches!(sim.status(1), Some(SessionStatus::Waiting { ref group, position: 1 }) if group.as_str() == "refunds"),
        "{:?}",
        sim.status(1)
    );
}

#[test]
fn cross_group_transfer_asks_consent_and_moves_on_accept() {
    let mut sim = serving();
    sim.online("carol");
    sim.take();
    sim.transfer("alice", 1, to_group("refunds"), NOTE).unwrap();
    assert_eq!(sim.owner(1).as_deref(), Some("alice"), "nothing moves before the customer agrees");
    assert!(sim
        .to_customer(1)
        .iter()
        .any(|n| matches!(n, CustomerNotice::ConsentRequest { to_group, .. } if to_group.as_str() == "refunds")));
    assert_eq!(sim.transfer("alice", 1, to_group("refunds"), NOTE).unwrap_err().code(), "consent_pending");
    sim.customer(Input::CustomerConsent { session: SessionId(1), accept: true }).unwrap();
    assert_eq!(sim.owner(1).as_deref(), Some("carol"));
    assert!(sim
        .to_agent("alice")
        .contains(&AgentNotice::ConsentOutcome { session: SessionId(1), outcome: ConsentOutcome::Accepted }));
    assert!(sim.events().iter().any(|e| matches!(e, Event::Transferred { kind: TransferKind::CrossGroup, .. })));
    assert!(sim.flags().is_empty());
    assert!(matches!(sim.status(1), Some(SessionStatus::Assigned { group, .. }) if group.as_str() == "refunds"));
}

#[test]
fn declined_or_unanswered_consent_keeps_the_session() {
    let mut sim = serving();
    sim.transfer("alice", 1, to_group("refunds"), NOTE).unwrap();
    sim.customer(Input::CustomerConsent { session: SessionId(1), accept: false }).unwrap();
    assert_eq!(sim.owner(1).as_deref(), Some("alice"));
    assert!(sim
        .to_agent("alice")
        .contains(&AgentNotice::ConsentOutcome { session: SessionId(1), outcome: ConsentOutcome::Declined }));
    assert_eq!(
        sim.customer(Input::CustomerConsent { session: SessionId(1), accept: true }).unwrap_err().code(),
        "no_consent_pending"
    );
    sim.take();
    sim.transfer("alice", 1, to_group("refunds"), NOTE).unwrap();
    sim.advance(secs(60) - MS);
    assert!(sim.to_agent("alice").iter().all(|n| !matches!(n, AgentNotice::ConsentOutcome { .. })));
    sim.advance(MS);
    assert!(sim
        .to_agent("alice")
        .contains(&AgentNotice::ConsentOutcome { session: SessionId(1), outcome: ConsentOutcome::TimedOut }));
    assert_eq!(sim.owner(1).as_deref(), Some("alice"));
    assert!(sim.customer(Input::CustomerConsent { session: SessionId(1), accept: true }).is_err(), "too late");
}

#[test]
fn transfer_to_an_agent_of_another_group_is_cross_group() {
    let mut sim = serving();
    sim.online("carol");
    sim.transfer("alice", 1, to_agent("carol"), NOTE).unwrap();
    assert_eq!(sim.owner(1).as_deref(), Some("alice"), "consent first");
    sim.customer(Input::CustomerConsent { session: SessionId(1), accept: true }).unwrap();
    assert_eq!(sim.owner(1).as_deref(), Some("carol"));
}

#[test]
fn the_note_travels_through_several_transfers() {
    let mut sim = serving();
    sim.online("bob");
    sim.online("carol");
    sim.transfer("alice", 1, to_agent("bob"), NOTE).unwrap();
    sim.transfer_with("bob", 1, to_agent("carol"), "Second note: refunds must approve it", true).unwrap();
    let view = sim.router.session_view(SessionId(1)).unwrap();
    let notes: Vec<&str> = view.notes.iter().map(|n| &*n.text).collect();
    assert_eq!(notes, vec![NOTE, "Second note: refunds must approve it"]);
    assert_eq!(view.history.len(), 2);
}
