//! What a waiting customer is told: whether anyone can take them now (and
//! when that changes), the wait estimate, and overflow to other groups.

use switchboard_router::*;

use crate::sim::*;

fn connect(sim: &mut Sim, agent: &str) {
    sim.input(Input::AgentConnected { agent: AgentId::new(agent) }).unwrap();
}

fn disconnect(sim: &mut Sim, agent: &str) {
    sim.input(Input::AgentDisconnected { agent: AgentId::new(agent) }).unwrap();
}

/// The customer's availability notices since the last `take`, in order.
fn availability(sim: &Sim, session: u64) -> Vec<&'static str> {
    sim.to_customer(session)
        .iter()
        .filter_map(|n| match n {
            CustomerNotice::NoAgentOnline { .. } => Some("nobody"),
            CustomerNotice::AgentOnline { .. } => Some("someone"),
            _ => None,
        })
        .collect()
}

/// The estimates the customer was told since the last `take`, in order.
fn estimates(sim: &Sim, session: u64) -> Vec<WaitEstimate> {
    sim.to_customer(session)
        .into_iter()
        .filter_map(|n| if let CustomerNotice::Queued { estimated_wait, .. } = n { Some(estimated_wait) } else { None })
        .collect()
}

fn last_estimate(sim: &Sim, session: u64) -> WaitEstimate {
    *estimates(sim, session).last().unwrap_or_else(|| panic!("session {session} was told no estimate"))
}

fn one_group(agents: &[(&str, u32)]) -> RouterConfig {
    let agents: Vec<(&str, &[&str], u32)> = agents.iter().map(|&(id, cap)| (id, &["general"][..], cap)).collect();
    config(&[("general", &[])], &agents)
}

/// Customers waiting, each session closed by its agent after `held`: the
/// group's chat time is then measured as exactly `held`.
fn measure_chat_time(sim: &mut Sim, agents: &[&str], chats: u64, held: std::time::Duration) {
    for s in 1000..1000 + chats {
        sim.join(s, "general");
    }
    sim.advance(held);
    for agent in agents {
        for s in sim.sessions_of(agent) {
            sim.close(agent, s).unwrap();
        }
    }
    sim.take();
}

#[test]
fn a_customer_is_told_nobody_can_serve_whatever_keeps_the_agents_away() {
    type Setup = fn(&mut Sim);
    let states: [(&str, Setup); 5] = [
        ("nobody connected", |_| {}),
        ("connected, not available", |sim| connect(sim, "alice")),
        ("on a break", |sim| {
            sim.online("alice");
            sim.take_break("alice").unwrap();
        }),
        ("disconnected, within the grace period", |sim| {
            sim.online("alice");
            sim.join(9, "general");
            disconnect(sim, "alice");
        }),
        ("signed out", |sim| {
            sim.online("alice");
            sim.set("alice", Availability::Offline).unwrap();
            disconnect(sim, "alice");
        }),
    ];
    for (state, setup) in states {
        let mut sim = Sim::new(one_group(&[("alice", 2)]));
        setup(&mut sim);
        sim.take();
        sim.join(1, "general");
        assert_eq!(availability(&sim, 1), ["nobody"], "{state}");
        assert_eq!(estimates(&sim, 1), [WaitEstimate::Unknown], "{state}: no number is made up");
        assert!(
            sim.to_customer(1).contains(&CustomerNotice::NoAgentOnline {
                group: GroupId::new("general"),
                service_hours: Some("Mon-Fri 09:00-18:00".into()),
            }),
            "{state}: the notice carries the service hours"
        );
    }
}

#[test]
fn an_available_agent_counts_even_at_capacity_and_so_does_an_overflow_group() {
    let mut sim = Sim::new(one_group(&[("alice", 1)]));
    sim.online("alice");
    sim.join(1, "general");
    sim.join(2, "general");
    assert_eq!(sim.owner(1).as_deref(), Some("alice"));
    assert_eq!(availability(&sim, 2), Vec::<&str>::new(), "alice is busy, not away: she takes 2 when 1 ends");
    let per_agent = Rules::default().default_wait_per_position;
    assert_eq!(estimates(&sim, 2), [WaitEstimate::Assumed(per_agent)], "nothing measured yet: the configured pace");

    // Nobody of refunds, but general's agents take refunds' customers after `overflow_after`.
    let mut sim = Sim::new(config(&[("refunds", &["general"]), ("general", &[])], &[("alice", &["general"], 1)]));
    sim.online("alice");
    sim.join(1, "refunds");
    assert_eq!(availability(&sim, 1), Vec::<&str>::new());
    assert_eq!(estimates(&sim, 1), [WaitEstimate::Assumed(secs(120))], "alice has a free seat: overflow_after");
    sim.advance(secs(120));
    assert_eq!(sim.owner(1).as_deref(), Some("alice"));
}

#[test]
fn waiting_customers_hear_when_the_last_agent_leaves_and_when_someone_is_back() {
    let mut sim = Sim::new(one_group(&[("alice", 1), ("bob", 1)]));
    sim.online("alice");
    sim.join(1, "general"); // alice
    sim.join(2, "general"); // waits
    connect(&mut sim, "bob"); // connected, not available: does not count
    assert_eq!(availability(&sim, 2), Vec::<&str>::new());
    sim.take();

    sim.take_break("alice").unwrap();
    assert_eq!(availability(&sim, 2), ["nobody"]);
    assert_eq!(estimates(&sim, 2), [WaitEstimate::Unknown]);
    sim.take();
    sim.set("alice", Availability::Available).unwrap();
    assert_eq!(availability(&sim, 2), ["someone"], "the counterpart notice");
    assert!(matches!(last_estimate(&sim, 2), WaitEstimate::Assumed(_)), "with a number again");
    sim.take();

    disconnect(&mut sim, "alice");
    assert_eq!(availability(&sim, 2), ["nobody"], "an agent whose connection dropped cannot take anyone");
    sim.take();
    connect(&mut sim, "alice");
    assert_eq!(availability(&sim, 2), ["someone"], "back within the grace period, still available");
    sim.take();

    sim.set("bob", Availability::Available).unwrap();
    assert_eq!(sim.owner(2).as_deref(), Some("bob"));
    assert_eq!(availability(&sim, 2), Vec::<&str>::new(), "nothing to say about an unchanged state");
}

/// Like positions, availability is told at once to the front of the queue
/// and within `queue_update_interval` to the rest; a change undone within
/// the interval is never told to the back of the queue.
#[test]
fn availability_changes_are_coalesced_like_positions() {
    let mut cfg = one_group(&[("alice", 1)]);
    cfg.rules.queue_update_front = 2;
    let mut sim = Sim::new(cfg);
    sim.online("alice");
    for s in 1..=5 {
        sim.join(s, "general"); // 1 with alice, 2..=5 wait
    }
    sim.take();
    sim.take_break("alice").unwrap();
    assert_eq!(availability(&sim, 2), ["nobody"]);
    assert_eq!(availability(&sim, 3), ["nobody"]);
    assert_eq!(availability(&sim, 4), Vec::<&str>::new(), "the back of the queue waits for the tick");
    sim.advance(secs(5));
    assert_eq!(availability(&sim, 4), ["nobody"]);
    assert_eq!(availability(&sim, 5), ["nobody"]);
    sim.take();

    sim.set("alice", Availability::Available).unwrap();
    sim.take_break("alice").unwrap();
    sim.advance(secs(5));
    assert_eq!(availability(&sim, 2), ["someone", "nobody"], "the front hears every change");
    assert_eq!(availability(&sim, 5), Vec::<&str>::new(), "the back: nothing changed in the end");
}

#[test]
fn the_estimate_counts_the_seats_of_those_who_can_serve_and_their_measured_chat_time() {
    let mut sim = Sim::new(one_group(&[("alice", 2), ("bob", 2)]));
    sim.online("alice");
    sim.online("bob");
    // Chats of 10 minutes, ended while nobody waited.
    measure_chat_time(&mut sim, &["alice", "bob"], 4, secs(600));

    for s in 11..=14 {
        sim.join(s, "general"); // the 4 seats
    }
    for s in 21..=24 {
        sim.join(s, "general"); // positions 1..=4
    }
    // A seat frees every 600 s / 4 seats = 150 s.
    for (s, wait) in [(21, 150), (22, 300), (23, 450), (24, 600)] {
        assert_eq!(estimates(&sim, s), [WaitEstimate::Measured(secs(wait))], "session {s}");
    }
    sim.take();
    // Alice goes on a break with her 2 chats: 2 seats left, half the pace.
    sim.take_break("alice").unwrap();
    for (s, wait) in [(21, 300), (22, 600), (23, 900), (24, 1200)] {
        assert_eq!(estimates(&sim, s), [WaitEstimate::Measured(secs(wait))], "session {s}");
    }
    sim.take();
    sim.take_break("bob").unwrap();
    for s in 21..=24 {
        assert_eq!(estimates(&sim, s), [WaitEstimate::Unknown], "session {s}");
        assert_eq!(availability(&sim, s), ["nobody"]);
    }
}

/// The estimate the old router gave: after an agent came back and took a
/// burst of customers at once, the gaps between those assignments (zero)
/// were taken for the pace and the next customers heard "0.1 s".
#[test]
fn a_burst_of_assignments_when_an_agent_returns_says_nothing_about_the_pace() {
    let mut sim = Sim::new(one_group(&[("alice", 3)]));
    sim.online("alice");
    measure_chat_time(&mut sim, &["alice"], 3, secs(600));
    sim.take_break("alice").unwrap();
    for s in 1..=6 {
        sim.join(s, "general");
    }
    sim.take();
    sim.set("alice", Availability::Available).unwrap();
    assert_eq!(sim.sessions_of("alice"), vec![1, 2, 3]);
    for (s, wait) in [(4, 200), (5, 400), (6, 600)] {
        assert_eq!(last_estimate(&sim, s), WaitEstimate::Measured(secs(wait)), "session {s}");
    }
}

/// The complaint: "Estimated wait: less than a minute", unchanged after
/// nine minutes. While nobody is served for longer than twice the pace,
/// the estimate grows, in a few messages (only changes of a quarter).
#[test]
fn an_estimate_grows_while_nobody_is_served_and_is_retold_sparingly() {
    let mut sim = Sim::new(one_group(&[("alice", 1)]));
    sim.online("alice");
    measure_chat_time(&mut sim, &["alice"], 1, secs(120));
    sim.join(1, "general"); // alice, for a long time
    sim.join(2, "general");
    assert_eq!(estimates(&sim, 2), [WaitEstimate::Measured(secs(120))]);
    sim.advance(secs(20 * 60));
    let told = estimates(&sim, 2);
    let waits: Vec<_> = told.iter().map(|e| e.wait().unwrap()).collect();
    assert!(waits.windows(2).all(|w| w[0] < w[1]), "growing: {waits:?}");
    // At 20 minutes the pace is 20 min x 1 seat / 2 = 10 min; told once it moved by a quarter.
    let last = *waits.last().unwrap();
    assert!(last >= secs(8 * 60) && last <= secs(10 * 60), "{waits:?}");
    assert!(told.len() <= 8, "a handful of updates in 20 minutes, not one per 5 s tick: {told:?}");
    assert!(told.iter().all(|e| matches!(e, WaitEstimate::Measured(_))));
}

#[test]
fn an_overflowing_customer_is_told_and_the_agent_sees_where_the_chat_came_from() {
    let mut cfg = config(
        &[("refunds", &["general", "logistics"]), ("general", &[]), ("logistics", &[])],
        &[("alice", &["general"], 1), ("bob", &["refunds"], 1)],
    );
    cfg.groups[1].name = Some("General questions".into());
    let mut sim = Sim::new(cfg);
    sim.online("alice");
    sim.online("bob");
    sim.join(1, "general"); // alice
    sim.join(2, "refunds"); // bob
    sim.join(3, "refunds"); // waits
    sim.advance(secs(119));
    assert!(!sim.to_customer(3).iter().any(|n| matches!(n, CustomerNotice::Overflowed { .. })));
    sim.advance(secs(1));
    let overflowed: Vec<_> =
        sim.to_customer(3).into_iter().filter(|n| matches!(n, CustomerNotice::Overflowed { .. })).collect();
    assert_eq!(
        overflowed,
        [CustomerNotice::Overflowed {
            group: GroupId::new("refunds"),
            to_groups: vec![
                (GroupId::new("general"), "General questions".into()),
                (GroupId::new("logistics"), "logistics".into())
            ],
        }]
    );
    sim.take();

    sim.close("alice", 1).unwrap();
    assert_eq!(sim.owner(3).as_deref(), Some("alice"), "served through overflow");
    let assigned = sim.to_agent("alice").into_iter().find_map(|n| match n {
        AgentNotice::SessionAssigned { session } => Some(session),
        _ => None,
    });
    let view = assigned.expect("alice is given session 3");
    assert_eq!(view.group, GroupId::new("refunds"), "the chat stays refunds'");
    assert_eq!(view.overflowed_from, Some(GroupId::new("refunds")));
    assert_eq!(sim.router.session_view(SessionId(2)).unwrap().overflowed_from, None, "bob is of refunds");

    // A reconnect lists it the same way.
    disconnect(&mut sim, "alice");
    sim.take();
    connect(&mut sim, "alice");
    let sessions = sim.to_agent("alice").into_iter().find_map(|n| match n {
        AgentNotice::State { sessions, .. } => Some(sessions),
        _ => None,
    });
    assert_eq!(sessions.unwrap()[0].overflowed_from, Some(GroupId::new("refunds")));
}

#[test]
fn a_customer_served_before_overflow_time_hears_nothing_of_it() {
    let mut sim = Sim::new(config(&[("refunds", &["general"]), ("general", &[])], &[("bob", &["refunds"], 1)]));
    sim.join(1, "refunds");
    sim.advance(secs(60));
    sim.online("bob");
    sim.advance(secs(600));
    assert_eq!(sim.owner(1).as_deref(), Some("bob"));
    assert!(!sim.to_customer(1).iter().any(|n| matches!(n, CustomerNotice::Overflowed { .. })));
    assert_eq!(sim.router.session_view(SessionId(1)).unwrap().overflowed_from, None);
}
