//! Agent loss and leaving: the grace period, re-queueing at the front, and
//! handing every session over before going offline.

use switchboard_router::*;

use crate::sim::*;

fn disconnect(sim: &mut Sim, agent: &str) {
    sim.input(Input::AgentDisconnected { agent: AgentId::new(agent) }).unwrap();
}

#[test]
fn reconnecting_within_the_grace_period_keeps_every_session() {
    let mut sim = Sim::new(small());
    sim.online("alice");
    sim.online("bob");
    sim.join(1, "general");
    sim.say(1, "hello").unwrap();
    disconnect(&mut sim, "alice");
    assert_eq!(sim.router.snapshot(sim.now).agents[0].state, AgentState::Disconnected);
    sim.join(2, "general");
    assert_eq!(sim.owner(2).as_deref(), Some("bob"), "no new sessions while disconnected");
    sim.advance(secs(30) - MS);
    sim.take();
    sim.input(Input::AgentConnected { agent: AgentId::new("alice") }).unwrap();
    assert_eq!(sim.owner(1).as_deref(), Some("alice"));
    let state = sim.to_agent("alice").into_iter().find_map(|n| match n {
        AgentNotice::State { state, sessions } => Some((state, sessions)),
        _ => None,
    });
    let (state, sessions) = state.expect("the agent is told their state and sessions");
    assert_eq!(state, AgentState::Available, "availability survives a reconnect");
    assert_eq!(sessions.len(), 1);
    assert_eq!(&*sessions[0].history[0].text, "hello");
    sim.advance(secs(60));
    assert_eq!(sim.owner(1).as_deref(), Some("alice"), "the grace timer was cancelled");
}

#[test]
fn past_the_grace_period_sessions_go_to_the_front_of_the_queue_with_history_and_notes() {
    let mut sim = Sim::new(config(&[("general", &[])], &[("alice", &["general"], 3), ("bob", &["general"], 1)]));
    sim.online("alice");
    sim.online("bob");
    sim.join(1, "general"); // alice
    sim.join(2, "general"); // bob
    sim.transfer("bob", 2, to_agent("alice"), NOTE).unwrap();
    sim.join(3, "general"); // bob
    sim.join(4, "general"); // alice: 1, 2, 4
    sim.join(5, "general"); // waits
    sim.say(1, "first customer").unwrap();
    assert_eq!(sim.sessions_of("alice"), vec![1, 2, 4]);
    disconnect(&mut sim, "alice");
    sim.advance(secs(30));
    // In their original order, ahead of session 5.
    for (s, pos) in [(1, 1), (2, 2), (4, 3), (5, 4)] {
        assert!(
            matches!(sim.status(s), Some(SessionStatus::Waiting { position, .. }) if position == pos),
            "session {s}: {:?}",
            sim.status(s)
        );
    }
    let snap = sim.router.snapshot(sim.now);
    assert_eq!(snap.agents[0].state, AgentState::Offline);
    sim.close("bob", 3).unwrap();
    assert_eq!(sim.owner(1).as_deref(), Some("bob"));
    let view = sim.router.session_view(SessionId(2)).unwrap();
    assert_eq!(view.notes.len(), 1, "notes survive");
    let view = sim.router.session_view(SessionId(1)).unwrap();
    assert_eq!(&*view.history[0].text, "first customer");
    assert!(sim.events().iter().any(|e| matches!(e, Event::SessionQueued { reason: QueueReason::AgentLost, .. })));
    // Reconnecting after the grace period is a fresh start: offline until they choose.
    sim.input(Input::AgentConnected { agent: AgentId::new("alice") }).unwrap();
    assert_eq!(sim.router.snapshot(sim.now).agents[0].state, AgentState::Offline);
    assert!(sim.sessions_of("alice").is_empty());
}

#[test]
fn going_offline_with_open_sessions_is_refused_until_each_is_handed_over() {
    let mut sim = Sim::new(small());
    sim.online("alice");
    sim.online("bob");
    sim.join(1, "general");
    sim.take();
    let err = sim.set("alice", Availability::Offline).unwrap_err();
    assert_eq!(err, RuleError::OpenSessions { count: 1 });
    assert!(sim.out.is_empty());
    assert_eq!(sim.router.snapshot(sim.now).agents[0].state, AgentState::Available);
    sim.transfer("alice", 1, to_agent("bob"), NOTE).unwrap();
    sim.set("alice", Availability::Offline).unwrap();
    assert_eq!(sim.router.snapshot(sim.now).agents[0].state, AgentState::Offline);
}

#[test]
fn commands_from_unknown_or_disconnected_agents_are_refused() {
    let mut sim = Sim::new(small());
    let err = sim.input(Input::AgentConnected { agent: AgentId::new("mallory") }).unwrap_err();
    assert_eq!(err.code(), "unknown_agent");
    assert_eq!(sim.set("alice", Availability::Available).unwrap_err().code(), "agent_not_connected");
    sim.online("alice");
    sim.join(1, "general");
    disconnect(&mut sim, "alice");
    assert_eq!(sim.reply("alice", 1, "hi").unwrap_err().code(), "agent_not_connected");
    assert_eq!(sim.reply("bob", 1, "hi").unwrap_err().code(), "agent_not_connected");
    sim.online("bob");
    assert_eq!(sim.reply("bob", 1, "hi").unwrap_err().code(), "not_your_session");
    assert_eq!(sim.reply("bob", 99, "hi").unwrap_err().code(), "unknown_session");
}

#[test]
fn agent_state_changes_are_events() {
    let mut sim = Sim::new(config(&[("general", &[])], &[("alice", &["general"], 1)]));
    sim.online("alice");
    sim.join(1, "general");
    sim.take_break("alice").unwrap();
    let changes: Vec<(AgentState, AgentState)> = sim
        .events()
        .into_iter()
        .filter_map(|e| if let Event::AgentStateChanged { from, to, .. } = e { Some((from, to)) } else { None })
        .collect();
    assert_eq!(
        changes,
        vec![
            (AgentState::Offline, AgentState::Available),
            (AgentState::Available, AgentState::Busy),
            (AgentState::Busy, AgentState::OnBreak)
        ]
    );
}

/// The grace period keeps an agent's sessions and availability; an agent who
/// was offline with nothing open has neither, so they leave at once and a
/// new customer hears that nobody is online instead of waiting on them.
#[test]
fn an_offline_agent_with_no_sessions_leaves_without_a_grace_period() {
    let mut sim = Sim::new(config(&[("general", &[])], &[("alice", &["general"], 1)]));
    sim.input(Input::AgentConnected { agent: AgentId::new("alice") }).unwrap();
    assert_eq!(sim.router.snapshot(sim.now).agents[0].state, AgentState::Offline);
    disconnect(&mut sim, "alice");
    assert_eq!(sim.router.snapshot(sim.now).agents[0].state, AgentState::Offline, "not `disconnected`");
    assert_eq!(sim.router.poll_timeout(), None, "no grace timer");
    sim.join(1, "general");
    assert!(
        sim.to_customer(1).iter().any(|n| matches!(n, CustomerNotice::NoAgentOnline { .. })),
        "nobody is on duty: {:?}",
        sim.to_customer(1)
    );
    let changes = sim.events().into_iter().filter(|e| matches!(e, Event::AgentStateChanged { .. })).count();
    assert_eq!(changes, 0, "offline all along");
}
