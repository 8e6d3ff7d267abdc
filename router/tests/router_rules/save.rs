//! Saving and restoring the whole router (postcard, the snapshot format),
//! and changing the rules when a restart resumes it.

use std::sync::Arc;

use serde_json::{json, Value};
use switchboard_router::*;

use crate::sim::*;

fn saved(router: &Router) -> Vec<u8> {
    postcard::to_allocvec(router).expect("a drained router saves")
}

fn restored(sim: &Sim) -> Sim {
    let router = postcard::from_bytes(&saved(&sim.router)).expect("restores");
    Sim { router, now: sim.now, out: Vec::new() }
}

/// Something of everything: sessions waiting, assigned and closed, a
/// transfer waiting for consent, an agent on break, a conduct flag, history.
fn busy() -> Sim {
    let mut sim = Sim::new(small());
    sim.online("alice");
    sim.online("carol");
    sim.online("bob");
    sim.take_break("bob").unwrap();
    for s in 1..=4 {
        sim.join(s, "general");
    }
    sim.say(1, "where is my refund?").unwrap();
    sim.reply("alice", 1, "Checking, one moment.").unwrap();
    sim.say(2, "hello?").unwrap();
    sim.transfer("alice", 2, to_group("refunds"), NOTE).unwrap();
    sim.advance(secs(10));
    sim.join(5, "refunds");
    sim.close("carol", 5).unwrap();
    sim.take();
    sim
}

#[test]
fn a_restored_router_carries_on_exactly_like_the_original() {
    let mut sim = busy();
    let mut copy = restored(&sim);
    assert_eq!(saved(&copy.router), saved(&sim.router), "canonical: the same state saves the same bytes");
    assert_eq!(copy.router.poll_timeout(), sim.router.poll_timeout());
    for sim in [&mut sim, &mut copy] {
        // The consent prompt times out, reply clocks run, a customer waits.
        sim.advance(secs(200));
        sim.customer(Input::CustomerConsent { session: SessionId(2), accept: true }).unwrap_err();
        sim.set("bob", Availability::Available).unwrap();
        sim.reply("alice", 1, "Your refund was approved.").unwrap();
        sim.advance(secs(700));
    }
    assert!(!sim.out.is_empty());
    assert_eq!(copy.take(), sim.take());
    assert_eq!(copy.router.snapshot(copy.now), sim.router.snapshot(sim.now));
    assert_eq!(saved(&copy.router), saved(&sim.router));
}

#[test]
fn saving_with_outputs_not_drained_is_refused() {
    let mut router = Router::new(small()).unwrap();
    router.handle(Millis(5), Input::AgentConnected { agent: AgentId::new("alice") }).unwrap();
    assert!(matches!(router.save(), Err(SaveError::PendingOutputs { count }) if count > 0));
    assert!(postcard::to_allocvec(&router).is_err());
    let err = serde_json::to_string(&router).unwrap_err();
    assert!(err.to_string().contains("poll_output"), "{err}");
    while router.poll_output().is_some() {}
    assert!(router.save().is_ok());
}

#[test]
fn truncated_or_foreign_bytes_are_refused() {
    let bytes = saved(&busy().router);
    for len in 0..bytes.len() {
        assert!(postcard::from_bytes::<Router>(&bytes[..len]).is_err(), "{len} of {} bytes restored", bytes.len());
    }
    let mut newer = bytes.clone();
    newer[0] += 1;
    assert!(postcard::from_bytes::<Router>(&newer).is_err(), "another format version");
    assert!(postcard::from_bytes::<Router>(b"{\"format\":1}").is_err());
    let mut json: Value = serde_json::to_value(&busy().router).unwrap();
    let format = json["format"].as_u64().unwrap();
    json["format"] = json!(format + 1);
    let err = serde_json::from_value::<Router>(json).unwrap_err();
    let expected = format!("format {}, this build reads format {format}", format + 1);
    assert!(err.to_string().contains(&expected), "{err}");
}

/// Every byte flipped in turn: each restore is refused or gives a router
/// that saves again; none panics.
#[test]
fn corrupted_bytes_never_panic() {
    let bytes = saved(&busy().router);
    for i in 0..bytes.len() {
        let mut bad = bytes.clone();
        bad[i] ^= 0xa5;
        if let Ok(router) = postcard::from_bytes::<Router>(&bad) {
            postcard::to_allocvec(&router).unwrap();
        }
    }
}

/// The state edited as JSON, restored, and the error's text.
fn refusal(edit: impl FnOnce(&mut Value)) -> String {
    let mut json = serde_json::to_value(&busy().router).unwrap();
    edit(&mut json);
    serde_json::from_value::<Router>(json).expect_err("an inconsistent state must be refused").to_string()
}

fn session(json: &mut Value, id: u64) -> &mut Value {
    let sessions = json["sessions"].as_array_mut().unwrap();
    sessions.iter_mut().find(|s| s["id"] == json!(id)).unwrap()
}

#[test]
fn a_state_that_refers_to_what_does_not_exist_is_refused() {
    let err = refusal(|j| session(j, 1)["phase"]["Assigned"]["agent"] = json!(99));
    assert!(err.contains("session 1: an agent"), "{err}");
    let err = refusal(|j| session(j, 3)["group"] = json!(7));
    assert!(err.contains("session 3: group index 7"), "{err}");
    let err = refusal(|j| j["agents"][2]["sessions"] = json!([1]));
    assert!(err.contains("agent `carol` lists session 1"), "{err}");
    let err = refusal(|j| j["agents"][0]["sessions"] = json!([1]));
    assert!(err.contains("sessions are assigned, but agents list"), "{err}");
    let err = refusal(|j| j["sessions"].as_array_mut().unwrap().swap(0, 1));
    assert!(err.contains("out of id order"), "{err}");
    let err = refusal(|j| j["dirty_groups"] = json!([2]));
    assert!(err.contains("group index 2"), "{err}");
    let err = refusal(|j| {
        j["agents"].as_array_mut().unwrap().pop();
    });
    assert!(err.contains("2 agents and 2 groups saved for a roster of 3 and 2"), "{err}");
    let err = refusal(|j| {
        let order = session(j, 3)["phase"]["Waiting"]["order"].clone();
        session(j, 4)["phase"]["Waiting"]["order"] = order;
    });
    assert!(err.contains("share a queue order"), "{err}");
    let err = refusal(|j| j["config"]["rules"]["max_history"] = json!(0));
    assert!(err.contains("rules.max_history"), "{err}");
}

#[test]
fn restored_ids_share_the_roster_strings() {
    let sim = restored(&busy());
    let roster = sim.router.snapshot(sim.now);
    let alice = &roster.agents.iter().find(|a| a.id.as_str() == "alice").unwrap().id;
    let view = sim.router.session_view(SessionId(1)).unwrap();
    let replied = view.history.iter().find_map(|e| match &e.from {
        Speaker::Agent(id) => Some(id),
        Speaker::Customer => None,
    });
    assert!(Arc::ptr_eq(&replied.unwrap().0, &alice.0), "a history entry points at the roster's id");
    let carol = &roster.agents.iter().find(|a| a.id.as_str() == "carol").unwrap().id;
    let flag = &sim.router.agent_record(carol).unwrap().recent_flags[0];
    assert!(Arc::ptr_eq(&flag.agent.0, &carol.0), "so does a conduct flag");
}

// ---- changing the rules on a restart ----

#[test]
fn bad_rules_are_refused_naming_the_key_and_change_nothing() {
    let mut sim = busy();
    let before = saved(&sim.router);
    let rules = Rules { reply_warning: secs(600), ..Rules::default() };
    let err = sim.router.set_rules(rules).unwrap_err();
    assert_eq!(err.key, "rules.reply_warning");
    let rules = Rules { max_history: 0, ..Rules::default() };
    assert_eq!(sim.router.set_rules(rules).unwrap_err().key, "rules.max_history");
    assert_eq!(saved(&sim.router), before);
}

#[test]
fn armed_timers_keep_their_deadlines_and_later_ones_use_the_new_rules() {
    let mut sim = Sim::new(small());
    sim.online("alice");
    sim.join(1, "general");
    sim.say(1, "hello?").unwrap();
    sim.router.set_rules(Rules { reply_warning: secs(30), reply_violation: secs(120), ..Rules::default() }).unwrap();
    let warnings =
        |sim: &Sim| sim.to_agent("alice").iter().filter(|n| matches!(n, AgentNotice::ReplyWarning { .. })).count();
    sim.advance(secs(59));
    assert_eq!(warnings(&sim), 0, "the warning armed under the old rules keeps its deadline");
    sim.advance(secs(1));
    assert_eq!(warnings(&sim), 1);
    sim.take();
    sim.advance(secs(60));
    assert!(sim.to_agent("alice").contains(&AgentNotice::SlowReply { session: SessionId(1), waited: secs(120) }));
    sim.join(2, "general");
    sim.say(2, "anyone?").unwrap();
    sim.take();
    sim.advance(secs(30));
    assert!(sim.to_agent("alice").contains(&AgentNotice::ReplyWarning { session: SessionId(2), waited: secs(30) }));
}

#[test]
fn a_new_strategy_orders_the_agents_from_then_on() {
    let mut cfg = config(&[("general", &[])], &[("alice", &["general"], 3), ("bob", &["general"], 3)]);
    cfg.agents[0].groups[0].level = 2;
    cfg.rules.assignment_strategy = AssignmentStrategy::RoundRobin;
    let mut sim = Sim::new(cfg);
    sim.online("alice");
    sim.online("bob");
    for s in 1..=3 {
        sim.join(s, "general");
    }
    assert_eq!((sim.sessions_of("alice"), sim.sessions_of("bob")), (vec![1, 3], vec![2]), "round robin");
    let rules = Rules { assignment_strategy: AssignmentStrategy::LongestIdle, ..sim.router.config().rules.clone() };
    sim.router.set_rules(rules).unwrap();
    sim.join(4, "general");
    assert_eq!(sim.owner(4).as_deref(), Some("alice"), "longest idle prefers the higher level");
    sim.join(5, "general");
    assert_eq!(sim.owner(5).as_deref(), Some("bob"), "alice is full: she left the eligible set");
}

#[test]
fn a_lower_max_history_trims_histories_at_once() {
    let mut sim = busy();
    let rules = Rules { max_history: 1, ..sim.router.config().rules.clone() };
    sim.router.set_rules(rules).unwrap();
    let history = sim.router.session_view(SessionId(1)).unwrap().history;
    assert_eq!(history.len(), 1);
    assert_eq!(&*history[0].text, "Checking, one moment.", "the newest entry is kept");
}

#[test]
fn a_chat_keeps_at_most_max_history_bytes_of_text_newest_first() {
    let mut cfg = small();
    cfg.rules.message_max_chars = 10;
    cfg.rules.max_history_bytes = 45;
    let mut sim = Sim::new(cfg);
    sim.online("alice");
    sim.join(1, "general");
    for i in 0..20 {
        sim.say(1, &format!("message {i:02}")).unwrap(); // 10 bytes each
    }
    let history = sim.router.session_view(SessionId(1)).unwrap().history;
    let bytes: usize = history.iter().map(|e| e.text.len()).sum();
    assert_eq!(history.len(), 4, "four 10-byte messages fit in 45 bytes, a fifth does not");
    assert!(bytes <= 45, "{bytes} bytes kept");
    assert_eq!(&*history[3].text, "message 19", "the newest is kept");
    assert_eq!(&*history[0].text, "message 16", "the oldest go first");
}

#[test]
fn a_lower_max_history_bytes_trims_histories_at_once() {
    let mut sim = busy();
    let longest = sim.router.session_view(SessionId(1)).unwrap().history.last().unwrap().text.len();
    let rules = Rules { max_history_bytes: longest, message_max_chars: 1, ..sim.router.config().rules.clone() };
    sim.router.set_rules(rules).unwrap();
    let history = sim.router.session_view(SessionId(1)).unwrap().history;
    assert_eq!(history.len(), 1);
    assert_eq!(&*history[0].text, "Checking, one moment.", "the newest entry is kept");
}

#[test]
fn max_history_bytes_must_hold_the_longest_message() {
    let mut sim = busy();
    let rules = Rules { max_history_bytes: 19_999, message_max_chars: 5000, ..sim.router.config().rules.clone() };
    let err = sim.router.set_rules(rules).unwrap_err();
    assert_eq!(err.key, "rules.max_history_bytes");
    assert!(err.problem.contains("20000"), "{}", err.problem);
}
