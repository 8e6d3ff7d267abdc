//! Roster changes while running: agents added, changed and removed, matched
//! by id; a removed agent keeps only their place.

use switchboard_router::roster::RosterChange;
use switchboard_router::*;

use crate::sim::*;

fn roster(agents: &[(&str, &[&str], u32)]) -> Vec<AgentConfig> {
    config(&[], agents).agents
}

fn change(sim: &mut Sim, agents: &[(&str, &[&str], u32)]) -> RosterChange {
    let change = sim.router.change_roster(sim.now, &roster(agents)).expect("a valid roster");
    while let Some(o) = sim.router.poll_output() {
        sim.out.push(o);
    }
    change
}

fn id(s: &str) -> AgentId {
    AgentId::new(s)
}

#[test]
fn a_removed_agent_is_cut_off_and_their_customers_go_first_to_a_colleague() {
    let mut sim = Sim::new(small());
    sim.online("alice");
    sim.join(1, "general");
    sim.join(2, "general");
    assert_eq!(sim.sessions_of("alice"), vec![1, 2]);
    sim.join(3, "general"); // waits: alice is full, bob is offline
    sim.take();

    let done = change(&mut sim, &[("bob", &["general"], 2), ("carol", &["refunds"], 2)]);
    assert_eq!(done.removed, vec![id("alice")]);
    assert!(done.added.is_empty() && done.changed.is_empty(), "{done:?}");
    assert!(!sim.router.on_roster(&id("alice")));
    assert!(sim.flags().is_empty(), "being removed is not the agent's doing: no conduct flag");
    assert_eq!(sim.input(Input::AgentConnected { agent: id("alice") }), Err(RuleError::UnknownAgent(id("alice"))));
    assert!(sim.router.snapshot(sim.now).agents.iter().all(|a| a.id != id("alice")), "not shown to supervisors");

    sim.online("bob");
    assert_eq!(sim.sessions_of("bob"), vec![1, 2], "alice's customers go before the one who waited behind them");
    assert_eq!(sim.status(3).map(|s| matches!(s, SessionStatus::Waiting { .. })), Some(true));
}

#[test]
fn an_added_agent_signs_in_and_takes_the_waiting_customer() {
    let mut sim = Sim::new(small());
    sim.join(1, "refunds");
    let done = change(
        &mut sim,
        &[("alice", &["general"], 2), ("bob", &["general"], 2), ("carol", &["refunds"], 2), ("zoe", &["refunds"], 1)],
    );
    assert_eq!(done.added, vec![id("zoe")]);
    assert!(sim.router.on_roster(&id("zoe")));
    sim.online("zoe");
    assert_eq!(sim.sessions_of("zoe"), vec![1]);
}

#[test]
fn a_changed_agent_keeps_their_chats_and_serves_their_new_groups() {
    let mut sim = Sim::new(small());
    sim.online("alice");
    sim.join(1, "general");
    sim.join(2, "refunds"); // carol is offline: waits
    let done = change(&mut sim, &[("alice", &["refunds"], 1), ("bob", &["general"], 2), ("carol", &["refunds"], 2)]);
    assert_eq!(done.changed, vec![id("alice")]);
    assert_eq!(sim.sessions_of("alice"), vec![1], "her general chat stays hers");
    assert_eq!(
        sim.status(2).map(|s| matches!(s, SessionStatus::Waiting { .. })),
        Some(true),
        "capacity 1, already serving one"
    );
    sim.reply("alice", 1, "Done, goodbye.").unwrap();
    sim.close("alice", 1).unwrap();
    assert_eq!(sim.sessions_of("alice"), vec![2], "free again: she takes the refunds customer");
}

#[test]
fn a_roster_that_does_not_validate_changes_nothing() {
    let mut sim = Sim::new(small());
    sim.online("alice");
    let before = sim.router.config().clone();
    let err = sim.router.change_roster(sim.now, &roster(&[("alice", &["nowhere"], 2)])).unwrap_err();
    assert!(err.key.contains("groups"), "{err}");
    assert_eq!(sim.router.config(), &before);
    assert!(sim.router.on_roster(&id("bob")));
    let err = sim.router.change_roster(sim.now, &roster(&[("alice", &["general"], 0)])).unwrap_err();
    assert!(err.key.contains("capacity"), "{err}");
}

#[test]
fn a_removed_agent_named_again_comes_back_offline_with_their_record() {
    let mut sim = Sim::new(small());
    sim.online("alice");
    sim.join(1, "general");
    sim.reply("alice", 1, "Hello!").unwrap();
    let replies = sim.record("alice");
    change(&mut sim, &[("bob", &["general"], 2), ("carol", &["refunds"], 2)]);
    let done = change(&mut sim, &[("alice", &["general"], 2), ("bob", &["general"], 2), ("carol", &["refunds"], 2)]);
    assert_eq!(done.changed, vec![id("alice")]);
    assert_eq!(sim.record("alice"), replies);
    sim.online("alice");
    assert_eq!(sim.sessions_of("alice"), vec![1], "the chat she left was still waiting");
}

#[test]
fn a_saved_router_keeps_its_changed_roster() {
    let mut sim = Sim::new(small());
    sim.online("bob");
    sim.join(1, "general");
    change(&mut sim, &[("bob", &["general"], 2), ("carol", &["refunds"], 2), ("zoe", &["general"], 3)]);
    let bytes = postcard::to_allocvec(&sim.router).unwrap();
    let restored: Router = postcard::from_bytes(&bytes).unwrap();
    assert_eq!(postcard::to_allocvec(&restored).unwrap(), bytes, "the same state");
    assert!(!restored.on_roster(&id("alice")) && restored.on_roster(&id("zoe")));
    let shown: Vec<_> = restored.roster().map(|a| a.id.clone()).collect();
    assert_eq!(shown, vec![id("bob"), id("carol"), id("zoe")]);
}
