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

/// A step of the roster property: chats coming and going while the roster
/// changes under them.
#[derive(Clone, Debug)]
enum Step {
    Join {
        group: usize,
    },
    Online {
        agent: usize,
    },
    Offline {
        agent: usize,
    },
    Reply {
        agent: usize,
        session: u64,
    },
    Close {
        agent: usize,
        session: u64,
    },
    /// Keep the agents whose bit is set (alice, bob, carol, zoe), with these capacities.
    Roster {
        keep: u8,
        capacities: [u32; 4],
    },
    Wait {
        secs: u64,
    },
}

const NAMES: [&str; 4] = ["alice", "bob", "carol", "zoe"];
const HOMES: [&str; 4] = ["general", "general", "refunds", "refunds"];

fn step() -> impl proptest::strategy::Strategy<Value = Step> {
    use proptest::prelude::*;
    prop_oneof![
        3 => (0usize..2).prop_map(|group| Step::Join { group }),
        3 => (0usize..4).prop_map(|agent| Step::Online { agent }),
        1 => (0usize..4).prop_map(|agent| Step::Offline { agent }),
        3 => (0usize..4, 1u64..12).prop_map(|(agent, session)| Step::Reply { agent, session }),
        2 => (0usize..4, 1u64..12).prop_map(|(agent, session)| Step::Close { agent, session }),
        2 => (any::<u8>(), [1u32..4, 1u32..4, 1u32..4, 1u32..4]).prop_map(|(keep, capacities)| Step::Roster { keep, capacities }),
        2 => (1u64..90).prop_map(|secs| Step::Wait { secs }),
    ]
}

fn run(sim: &mut Sim, step: &Step, next_session: &mut u64) {
    match *step {
        Step::Join { group } => {
            sim.join(*next_session, ["general", "refunds"][group]);
            *next_session += 1;
        }
        Step::Online { agent } => {
            if sim.router.on_roster(&id(NAMES[agent])) {
                sim.online(NAMES[agent]);
            }
        }
        Step::Offline { agent } => {
            let _ = sim.input(Input::AgentDisconnected { agent: id(NAMES[agent]) });
        }
        Step::Reply { agent, session } => {
            let _ = sim.reply(NAMES[agent], session, "On it.");
        }
        Step::Close { agent, session } => {
            let _ = sim.close(NAMES[agent], session);
        }
        Step::Roster { keep, capacities } => {
            let kept: Vec<(&str, &[&str], u32)> = (0..4)
                .filter(|i| keep & (1 << i) != 0)
                .map(|i| (NAMES[i], std::slice::from_ref(&HOMES[i]), capacities[i]))
                .collect();
            change(sim, &kept);
        }
        Step::Wait { secs: s } => sim.advance(secs(s)),
    }
}

/// Whatever the roster did, the state stays one a restart can resume (the
/// restore checks every cross-reference: owners, agents' session lists,
/// queue orders), saving it again gives the same bytes, and nobody off the
/// roster holds a chat, is listed for one, or is shown.
fn check(sim: &Sim) {
    let bytes = postcard::to_allocvec(&sim.router).expect("saves");
    let restored: Router = postcard::from_bytes(&bytes).unwrap_or_else(|e| panic!("restores: {e}"));
    assert_eq!(postcard::to_allocvec(&restored).unwrap(), bytes);
    let shown: Vec<AgentId> = sim.router.snapshot(sim.now).agents.into_iter().map(|a| a.id).collect();
    for name in NAMES {
        let on = sim.router.on_roster(&id(name));
        assert_eq!(shown.contains(&id(name)), on, "{name} shown exactly while on the roster");
        if !on {
            assert!(sim.router.agent_sessions(&id(name)).unwrap_or_default().is_empty(), "{name} is off the roster");
        }
    }
    let agents_total: u32 = sim.router.snapshot(sim.now).groups.iter().map(|g| g.agents.values().sum::<u32>()).sum();
    let members = sim.router.roster().map(|a| a.groups.len() as u32).sum::<u32>();
    assert_eq!(agents_total, members, "each group counts exactly its rostered members");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
    #[test]
    fn roster_changes_under_live_chats_keep_the_state_whole(steps in proptest::collection::vec(step(), 1..60)) {
        let mut sim = Sim::new(small());
        let mut next_session = 1;
        for step in &steps {
            run(&mut sim, step, &mut next_session);
            check(&sim);
        }
    }
}
