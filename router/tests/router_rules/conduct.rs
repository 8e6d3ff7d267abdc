//! Conduct flags: malicious transfers, abusive breaks, disconnect shedding
//! (agent closes: `closes.rs`). Each is an event, told to the agent and to
//! supervisors, and counted in the agent's record.

use switchboard_router::*;

use crate::sim::*;

fn serving(groups_agents: RouterConfig) -> Sim {
    let mut sim = Sim::new(groups_agents);
    sim.online("alice");
    sim.join(1, "general");
    sim.take();
    sim
}

fn flagged(sim: &Sim, agent: &str, kind: ConductKind) -> bool {
    sim.flags().contains(&(agent.to_string(), kind))
}

#[test]
fn transfer_to_another_group_without_consent_is_malicious() {
    let mut sim = serving(small());
    sim.transfer_with("alice", 1, to_group("refunds"), NOTE, true).unwrap();
    assert!(matches!(sim.status(1), Some(SessionStatus::Waiting { group, .. }) if group.as_str() == "refunds"));
    assert!(flagged(&sim, "alice", ConductKind::TransferWithoutConsent));
    assert_eq!(sim.record("alice").flags_of(ConductKind::TransferWithoutConsent), 1);
    assert!(sim.to_supervisors().iter().any(|n| matches!(n, SupervisorNotice::ConductFlagged { .. })));
    assert!(sim.to_agent("alice").iter().any(|n| matches!(n, AgentNotice::ConductFlagged { .. })));
}

#[test]
fn ping_pong_back_to_the_sender_within_the_window() {
    let mut sim = serving(small());
    sim.online("bob");
    sim.transfer("alice", 1, to_agent("bob"), NOTE).unwrap();
    sim.advance(secs(60));
    sim.transfer("bob", 1, to_agent("alice"), NOTE).unwrap();
    assert!(flagged(&sim, "bob", ConductKind::TransferPingPong));
    assert!(!flagged(&sim, "alice", ConductKind::TransferPingPong));
}

#[test]
fn a_transfer_back_after_the_window_is_not_ping_pong() {
    let mut sim = serving(small());
    sim.online("bob");
    sim.transfer("alice", 1, to_agent("bob"), NOTE).unwrap();
    sim.reply("bob", 1, "hello").unwrap();
    sim.advance(secs(300));
    sim.say(1, "still there?").unwrap();
    sim.reply("bob", 1, "yes").unwrap();
    sim.advance(secs(301));
    sim.transfer("bob", 1, to_agent("alice"), NOTE).unwrap();
    assert!(!flagged(&sim, "bob", ConductKind::TransferPingPong));
}

#[test]
fn a_shorter_ping_pong_window_lets_a_later_transfer_back_pass() {
    let mut cfg = small();
    cfg.rules.transfers.ping_pong_window = secs(60);
    let mut sim = serving(cfg);
    sim.online("bob");
    sim.transfer("alice", 1, to_agent("bob"), NOTE).unwrap();
    sim.advance(secs(61));
    sim.transfer("bob", 1, to_agent("alice"), NOTE).unwrap();
    assert!(!flagged(&sim, "bob", ConductKind::TransferPingPong), "61 s is past a 60 s window (the default is 10 min)");
}

#[test]
fn dumping_a_session_past_the_warning_is_flagged_but_not_before() {
    let mut sim = serving(small());
    sim.online("bob");
    sim.say(1, "hello?").unwrap();
    sim.advance(secs(59));
    sim.transfer("alice", 1, to_agent("bob"), NOTE).unwrap();
    assert!(!flagged(&sim, "alice", ConductKind::TransferDumpingLateSession));
    sim.advance(secs(60)); // bob's own clock started at the transfer
    sim.take();
    sim.transfer("bob", 1, to_group("general"), NOTE).unwrap();
    assert!(flagged(&sim, "bob", ConductKind::TransferDumpingLateSession));
}

#[test]
fn too_many_transfers_of_one_session() {
    let mut sim = Sim::new(config(
        &[("general", &[])],
        &[("alice", &["general"], 2), ("bob", &["general"], 2), ("dan", &["general"], 2), ("eve", &["general"], 2)],
    ));
    for a in ["alice", "bob", "dan", "eve"] {
        sim.online(a);
    }
    sim.join(1, "general");
    let chain = [("alice", "bob"), ("bob", "dan"), ("dan", "eve")];
    for (from, to) in chain {
        sim.transfer(from, 1, to_agent(to), NOTE).unwrap();
    }
    assert!(sim.flags().iter().all(|(_, k)| *k != ConductKind::TransferTooMany), "3 transfers are allowed");
    sim.transfer("eve", 1, to_agent("alice"), NOTE).unwrap();
    assert!(flagged(&sim, "eve", ConductKind::TransferTooMany));
}

#[test]
fn break_while_customers_wait_past_the_threshold() {
    let mut sim = Sim::new(config(&[("general", &[])], &[("alice", &["general"], 1), ("bob", &["general"], 1)]));
    sim.online("alice");
    sim.online("bob");
    sim.join(1, "general");
    sim.join(2, "general");
    sim.join(3, "general"); // waits
    sim.advance(secs(59));
    sim.take_break("alice").unwrap();
    assert!(!flagged(&sim, "alice", ConductKind::BreakWhileCustomersWait), "59 s is below the threshold");
    sim.advance(secs(1));
    sim.take_break("bob").unwrap();
    assert!(flagged(&sim, "bob", ConductKind::BreakWhileCustomersWait));
    assert_eq!(sim.sessions_of("bob"), vec![2], "open sessions continue during a break");
}

#[test]
fn break_right_after_an_assignment() {
    let mut sim = serving(small());
    sim.advance(secs(30));
    sim.take_break("alice").unwrap();
    assert!(flagged(&sim, "alice", ConductKind::BreakAfterAssignment));
    sim.set("alice", Availability::Available).unwrap();
    sim.advance(secs(31));
    sim.take();
    sim.take_break("alice").unwrap();
    assert!(!flagged(&sim, "alice", ConductKind::BreakAfterAssignment));
}

#[test]
fn too_many_breaks_and_too_much_break_time_per_shift() {
    let mut sim = Sim::new(small());
    sim.online("alice");
    for _ in 0..3 {
        sim.take_break("alice").unwrap();
        sim.advance(secs(60));
        sim.set("alice", Availability::Available).unwrap();
    }
    assert!(!flagged(&sim, "alice", ConductKind::BreakTooMany));
    sim.take_break("alice").unwrap();
    assert!(flagged(&sim, "alice", ConductKind::BreakTooMany));
    // 3 minutes used; the allowance is 30 minutes: 27 more trigger the flag.
    sim.take();
    sim.advance(secs(27 * 60) - MS);
    assert!(!flagged(&sim, "alice", ConductKind::BreakTooLong));
    sim.advance(MS);
    assert!(flagged(&sim, "alice", ConductKind::BreakTooLong));
    // A new shift starts clean.
    sim.set("alice", Availability::Offline).unwrap();
    sim.set("alice", Availability::Available).unwrap();
    sim.take();
    sim.take_break("alice").unwrap();
    assert!(sim.flags().is_empty());
}

#[test]
fn a_break_stops_new_assignments_at_once() {
    let mut sim = serving(small());
    sim.take_break("alice").unwrap();
    sim.join(2, "general");
    assert_eq!(sim.owner(2), None);
    sim.say(1, "still there?").unwrap();
    assert!(sim.to_agent("alice").iter().any(|n| matches!(n, AgentNotice::CustomerMessage { .. })));
    sim.reply("alice", 1, "yes").unwrap();
}

#[test]
fn repeated_disconnects_that_shed_sessions_are_flagged() {
    let mut sim = Sim::new(small());
    sim.online("alice");
    sim.online("bob");
    sim.join(1, "general"); // alice
    let alice = AgentId::new("alice");
    sim.input(Input::AgentDisconnected { agent: alice.clone() }).unwrap();
    sim.advance(secs(30));
    assert_eq!(sim.owner(1).as_deref(), Some("bob"), "shed to bob");
    assert!(!flagged(&sim, "alice", ConductKind::DisconnectShedding), "once is not a pattern");
    sim.online("alice");
    sim.take_break("bob").unwrap();
    sim.join(2, "general"); // alice
    sim.set("bob", Availability::Available).unwrap();
    sim.input(Input::AgentDisconnected { agent: alice.clone() }).unwrap();
    sim.advance(secs(30));
    assert!(flagged(&sim, "alice", ConductKind::DisconnectShedding));
    assert!(sim.events().contains(&Event::SessionsShed { agent: alice, count: 1 }));
}
