//! Skill groups, queues and assignment.

use switchboard_router::*;

use crate::sim::*;

#[test]
fn agents_start_offline_and_get_sessions_only_when_available() {
    let mut sim = Sim::new(small());
    sim.input(Input::AgentConnected { agent: AgentId::new("alice") }).unwrap();
    sim.join(1, "general");
    assert_eq!(sim.owner(1), None, "a connected but not available agent gets nothing");
    sim.set("alice", Availability::Available).unwrap();
    assert_eq!(sim.owner(1).as_deref(), Some("alice"));
}

#[test]
fn a_session_goes_only_to_an_agent_of_its_group() {
    let mut sim = Sim::new(small());
    sim.online("carol"); // refunds only
    sim.join(1, "general");
    assert_eq!(sim.owner(1), None);
    sim.join(2, "refunds");
    assert_eq!(sim.owner(2).as_deref(), Some("carol"));
}

#[test]
fn capacity_is_never_exceeded_and_busy_agents_wait_for_room() {
    let mut sim = Sim::new(config(&[("general", &[])], &[("alice", &["general"], 2)]));
    sim.online("alice");
    for s in 1..=3 {
        sim.join(s, "general");
    }
    assert_eq!(sim.sessions_of("alice"), vec![1, 2]);
    assert!(matches!(sim.status(3), Some(SessionStatus::Waiting { position: 1, .. })));
    let snap = sim.router.snapshot(sim.now);
    assert_eq!(snap.agents[0].state, AgentState::Busy);
    sim.close("alice", 1).unwrap();
    assert_eq!(sim.sessions_of("alice"), vec![2, 3], "the freed seat goes to the waiting customer");
}

#[test]
fn priority_first_then_arrival() {
    let mut sim = Sim::new(config(&[("general", &[])], &[("alice", &["general"], 1)]));
    sim.join(1, "general");
    sim.join(2, "general");
    sim.join_with(3, "general", Priority::Urgent);
    sim.join_with(4, "general", Priority::High);
    sim.join(5, "general");
    sim.online("alice");
    let mut served = Vec::new();
    for _ in 0..5 {
        let s = sim.sessions_of("alice")[0];
        served.push(s);
        sim.reply("alice", s, "hello").unwrap();
        sim.close("alice", s).unwrap();
    }
    assert_eq!(served, vec![3, 4, 1, 2, 5]);
}

#[test]
fn least_loaded_agent_is_chosen_and_ties_go_to_the_longest_idle() {
    let mut sim = Sim::new(config(
        &[("general", &[])],
        &[("alice", &["general"], 3), ("bob", &["general"], 3), ("dan", &["general"], 3)],
    ));
    sim.online("alice");
    sim.online("bob");
    sim.online("dan");
    for s in 1..=6 {
        sim.join(s, "general");
    }
    // Round after round, loads stay level, and nobody gets two before the others got one.
    assert_eq!(sim.sessions_of("alice"), vec![1, 4]);
    assert_eq!(sim.sessions_of("bob"), vec![2, 5]);
    assert_eq!(sim.sessions_of("dan"), vec![3, 6]);
    sim.close("bob", 2).unwrap();
    sim.close("bob", 5).unwrap();
    sim.join(7, "general");
    assert_eq!(sim.owner(7).as_deref(), Some("bob"), "the least loaded agent wins");
}

#[test]
fn experts_are_preferred_by_level() {
    let mut cfg = config(&[("general", &[])], &[("alice", &["general"], 3), ("bob", &["general"], 3)]);
    cfg.agents[1].groups[0].level = 3;
    let mut sim = Sim::new(cfg);
    sim.online("alice");
    sim.online("bob");
    sim.join(1, "general");
    sim.join(2, "general");
    assert_eq!(sim.sessions_of("bob"), vec![1, 2], "the higher-level agent fills first");
}

#[test]
fn longest_idle_strategy_ignores_load() {
    let mut cfg = config(&[("general", &[])], &[("alice", &["general"], 3), ("bob", &["general"], 3)]);
    cfg.rules.assignment_strategy = AssignmentStrategy::LongestIdle;
    let mut sim = Sim::new(cfg);
    sim.online("alice");
    sim.online("bob");
    sim.join(1, "general"); // alice (never assigned, first in roster)
    sim.join(2, "general"); // bob
    sim.close("bob", 2).unwrap();
    sim.join(3, "general"); // alice: her last assignment is older than bob's, despite her load
    assert_eq!(sim.owner(3).as_deref(), Some("alice"));
}

#[test]
fn round_robin_strategy_ignores_level() {
    let mut cfg = config(&[("general", &[])], &[("alice", &["general"], 3), ("bob", &["general"], 3)]);
    cfg.rules.assignment_strategy = AssignmentStrategy::RoundRobin;
    cfg.agents[1].groups[0].level = 5;
    let mut sim = Sim::new(cfg);
    sim.online("alice");
    sim.online("bob");
    for s in 1..=4 {
        sim.join(s, "general");
    }
    assert_eq!(sim.sessions_of("alice"), vec![1, 3]);
    assert_eq!(sim.sessions_of("bob"), vec![2, 4]);
}

#[test]
fn overflow_groups_serve_only_after_the_configured_wait() {
    let mut sim = Sim::new(config(&[("refunds", &["general"]), ("general", &[])], &[("alice", &["general"], 2)]));
    sim.online("alice");
    sim.join(1, "refunds");
    sim.advance(secs(119));
    assert_eq!(sim.owner(1), None, "not before overflow_after (120 s)");
    sim.take();
    sim.advance(secs(1));
    assert_eq!(sim.owner(1).as_deref(), Some("alice"));
    let assigned = sim.events().into_iter().find_map(|e| match e {
        Event::SessionAssigned { overflow, waited, .. } => Some((overflow, waited)),
        _ => None,
    });
    assert_eq!(assigned, Some((true, secs(120))));
}

#[test]
fn overflow_sessions_take_turns_with_the_groups_own_by_priority_and_arrival() {
    let mut sim = Sim::new(config(&[("refunds", &["general"]), ("general", &[])], &[("alice", &["general"], 1)]));
    sim.join(1, "refunds");
    sim.advance(secs(130)); // session 1 overflows to general
    sim.join(2, "general");
    sim.online("alice");
    assert_eq!(sim.owner(1).as_deref(), Some("alice"), "the overflowed session arrived first");
    sim.close("alice", 1).unwrap();
    assert_eq!(sim.owner(2).as_deref(), Some("alice"));
}

#[test]
fn joining_tells_position_and_estimate_and_errors_change_nothing() {
    let mut sim = Sim::new(small());
    sim.online("alice");
    sim.take_break("alice").unwrap();
    sim.join(1, "general");
    sim.join(2, "general");
    assert_eq!(sim.positions(2), vec![2]);
    let estimate = sim.to_customer(2).into_iter().find_map(|n| match n {
        CustomerNotice::Queued { estimated_wait, .. } => Some(estimated_wait),
        _ => None,
    });
    assert_eq!(estimate, Some(WaitEstimate::Unknown), "nobody can serve: no number is made up");
    sim.take();
    let dup = sim.input(Input::CustomerJoin {
        session: SessionId(1),
        group: GroupId::new("general"),
        priority: Priority::Normal,
        customer_name: None,
        customer_id: None,
    });
    assert_eq!(dup.unwrap_err().code(), "session_exists");
    let unknown = sim.input(Input::CustomerJoin {
        session: SessionId(9),
        group: GroupId::new("nope"),
        priority: Priority::Normal,
        customer_name: None,
        customer_id: None,
    });
    assert_eq!(unknown.unwrap_err().code(), "unknown_group");
    assert!(sim.out.is_empty(), "refused inputs produce nothing");
}

#[test]
fn nobody_online_is_said_with_service_hours() {
    let mut sim = Sim::new(small());
    sim.join(1, "general");
    assert!(sim.to_customer(1).contains(&CustomerNotice::NoAgentOnline {
        group: GroupId::new("general"),
        service_hours: Some("Mon-Fri 09:00-18:00".into()),
    }));
    sim.online("alice");
    sim.join(2, "general");
    assert!(
        !sim.to_customer(2).iter().any(|n| matches!(n, CustomerNotice::NoAgentOnline { .. })),
        "an available agent serves at once"
    );
}

#[test]
fn a_full_queue_refuses_new_customers() {
    let mut cfg = small();
    cfg.groups[0].max_queue = 2;
    let mut sim = Sim::new(cfg);
    sim.join(1, "general");
    sim.join(2, "general");
    let r = sim.input(Input::CustomerJoin {
        session: SessionId(3),
        group: GroupId::new("general"),
        priority: Priority::Normal,
        customer_name: None,
        customer_id: None,
    });
    assert_eq!(r.unwrap_err(), RuleError::QueueFull(GroupId::new("general")));
}

#[test]
fn queue_positions_are_coalesced_front_hears_every_change_the_rest_once_per_interval() {
    let mut cfg = config(&[("general", &[])], &[("alice", &["general"], 1)]);
    cfg.rules.queue_update_front = 3;
    cfg.rules.queue_update_interval = secs(5);
    let mut sim = Sim::new(cfg);
    for s in 1..=1000 {
        sim.join(s, "general");
    }
    sim.take();
    sim.online("alice"); // takes session 1: everyone moves up one
    let updates = sim
        .out
        .iter()
        .filter(|o| matches!(o, Output::ToCustomer { notice: CustomerNotice::Queued { .. }, .. }))
        .count();
    assert_eq!(updates, 3, "one assignment tells only the front of the queue");
    assert_eq!(sim.positions(2), vec![1]);
    sim.close("alice", 1).unwrap();
    sim.close("alice", 2).unwrap(); // two more moves
    assert_eq!(sim.positions(3), vec![2, 1], "the front follows every change");
    assert!(sim.positions(500).is_empty(), "the back waits for the tick");
    sim.take();
    sim.advance(secs(5));
    assert_eq!(sim.positions(500), vec![497], "one update per interval, with the latest position");
    assert_eq!(sim.positions(1000), vec![997]);
    sim.take();
    sim.advance(secs(60));
    // Nobody moved: no new position. (Estimates may be told again: while
    // nobody is served they grow, see the `waiting` tests.)
    for s in [4, 5, 500, 1000] {
        let told = sim.positions(s);
        assert!(told.iter().all(|&p| p == s as u32 - 3), "session {s}: {told:?}");
    }
    assert!(sim.to_agent("alice").is_empty() && sim.events().is_empty());
}

#[test]
fn an_agent_of_several_groups_serves_the_longest_waiting_customer_first() {
    let mut sim = Sim::new(config(&[("general", &[]), ("refunds", &[])], &[("alice", &["general", "refunds"], 1)]));
    sim.join(1, "refunds");
    sim.join(2, "general");
    sim.join(3, "refunds");
    sim.online("alice");
    let mut served = Vec::new();
    for _ in 0..3 {
        let s = sim.sessions_of("alice")[0];
        served.push(s);
        sim.reply("alice", s, "done").unwrap();
        sim.close("alice", s).unwrap();
    }
    assert_eq!(served, vec![1, 2, 3], "arrival order across groups, not the groups' listing order");
}
