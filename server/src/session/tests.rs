//! The session layer on its own: requests in, actions out, no sockets.

use serde_json::Value;
use switchboard_protocol::agent::AgentCommand;
use switchboard_protocol::customer::CustomerCommand;

use super::*;
use crate::router::input::Priority;
use crate::router::RouterConfig;

const ROSTER: &str = r#"
[[groups]]
id = "general"

[[agents]]
id = "ann"
capacity = 1
groups = [{ group = "general" }]

[[agents]]
id = "sue"
role = "supervisor"
groups = []
"#;

fn layer() -> SessionLayer {
    let config: RouterConfig = toml::from_str(ROSTER).unwrap();
    let router = Router::new(config).unwrap();
    SessionLayer::new(router, SessionConfig { replay_buffer: 8, recent_command_ids: 4 }, 1.0)
}

/// Prepares and, if it changes state, applies a request; returns every action.
fn submit(layer: &mut SessionLayer, now: u64, request: Request) -> Vec<Action> {
    if let Some(entry) = layer.prepare(Millis(now), request) {
        layer.apply(Millis(now), entry);
    }
    std::iter::from_fn(|| layer.poll_action()).collect()
}

/// The JSON frames sent to `conn`, in order (batches flattened, a closing frame included).
fn frames_to(actions: &[Action], to: ConnId) -> Vec<Value> {
    let mut out = Vec::new();
    for action in actions {
        match action {
            Action::Send { conn, frame } | Action::Answer { conn, frame } if *conn == to => out.push(frame.as_str()),
            Action::SendBatch { conn, frames } if *conn == to => out.extend(frames.iter().map(|f| f.as_str())),
            Action::Close { conn, last, .. } if *conn == to => out.push(last.as_str()),
            _ => {}
        }
    }
    out.into_iter().map(|f| serde_json::from_str(f).unwrap()).collect()
}

fn types(frames: &[Value]) -> Vec<&str> {
    frames.iter().map(|f| f["type"].as_str().unwrap()).collect()
}

fn join(layer: &mut SessionLayer, conn: ConnId) -> (Value, Vec<Action>) {
    let open = CustomerOpen::New {
        group: Some("general".into()),
        name: Some(" Wei ".into()),
        priority: Ok(Priority::Normal),
        identity: CustomerIdentity::Anonymous,
        time_zone: None,
    };
    let actions = submit(layer, 0, Request::CustomerOpen { conn, open });
    let welcome = frames_to(&actions, conn).remove(0);
    (welcome, actions)
}

fn customer_says(id: &str, text: &str) -> CustomerCommand {
    serde_json::from_value(serde_json::json!({"type": "message", "id": id, "text": text})).unwrap()
}

fn agent_command(value: Value) -> AgentCommand {
    serde_json::from_value(value).unwrap()
}

#[test]
fn a_new_customer_gets_a_welcome_with_a_token_then_numbered_news() {
    let mut layer = layer();
    let (welcome, actions) = join(&mut layer, 1);
    assert_eq!(welcome["type"], "welcome");
    assert_eq!(welcome["token"].as_str().unwrap().len(), 32);
    let frames = frames_to(&actions, 1);
    assert_eq!(types(&frames), ["welcome", "queued", "no_agent_online"]);
    assert_eq!((frames[1]["seq"].as_u64(), frames[2]["seq"].as_u64()), (Some(1), Some(2)));
}

#[test]
fn a_missing_group_or_an_unknown_token_is_refused_without_an_entry() {
    let mut layer = layer();
    let open = CustomerOpen::New {
        group: None,
        name: None,
        priority: Ok(Priority::Normal),
        identity: CustomerIdentity::Anonymous,
        time_zone: None,
    };
    assert!(layer.prepare(Millis(0), Request::CustomerOpen { conn: 1, open }).is_none());
    let open = CustomerOpen::Resume { token: "nope".into(), last_seq: 0 };
    assert!(layer.prepare(Millis(0), Request::CustomerOpen { conn: 2, open }).is_none());
    let actions: Vec<Action> = std::iter::from_fn(|| layer.poll_action()).collect();
    let codes: Vec<_> = actions
        .iter()
        .filter_map(|a| match a {
            Action::Close { reason, code, .. } => Some((*reason, *code)),
            _ => None,
        })
        .collect();
    assert_eq!(codes, [("missing_group", 1008), ("invalid_token", 1008)]);
}

#[test]
fn a_resume_replays_what_was_missed_and_replaces_the_older_connection() {
    let mut layer = layer();
    let (welcome, _) = join(&mut layer, 1);
    let token = welcome["token"].as_str().unwrap().to_owned();
    let ann = submit(&mut layer, 10, Request::AgentOpen { conn: 2, agent: Some("ann".into()), last_seq: None });
    assert!(types(&frames_to(&ann, 2)).contains(&"welcome"));
    submit(
        &mut layer,
        20,
        Request::AgentCommand {
            conn: 2,
            command: agent_command(serde_json::json!({"type": "set_availability", "id": "a1", "state": "available"})),
        },
    );
    let open = CustomerOpen::Resume { token, last_seq: 2 };
    let actions = submit(&mut layer, 30, Request::CustomerOpen { conn: 3, open });
    let old = frames_to(&actions, 1);
    assert_eq!(old[0]["code"], "replaced", "the older connection is told why it closes");
    let new = frames_to(&actions, 3);
    assert_eq!(types(&new), ["welcome", "assigned"], "the welcome, then what came after seq 2");
    assert_eq!(new[0]["resumed"], true);
    assert_eq!(new[0]["replay_complete"], true);
    assert_eq!(new[1]["seq"], 3);
}

#[test]
fn a_retried_command_is_acknowledged_as_a_duplicate_without_an_entry() {
    let mut layer = layer();
    join(&mut layer, 1);
    let first = submit(&mut layer, 5, Request::CustomerCommand { conn: 1, command: customer_says("c1", "hello") });
    assert_eq!(frames_to(&first, 1).last().unwrap()["duplicate"], false);
    let again = layer.prepare(Millis(6), Request::CustomerCommand { conn: 1, command: customer_says("c1", "hello") });
    assert!(again.is_none(), "a retry changes nothing, so nothing is logged");
    let frames = frames_to(&std::iter::from_fn(|| layer.poll_action()).collect::<Vec<_>>(), 1);
    assert_eq!(frames[0]["duplicate"], true);
    let other = layer.prepare(Millis(7), Request::CustomerCommand { conn: 1, command: customer_says("c1", "bye") });
    assert!(other.is_some(), "the same id with another command is a new command");
}

#[test]
fn a_ping_is_acknowledged_and_not_logged() {
    let mut layer = layer();
    join(&mut layer, 1);
    let ping: CustomerCommand = serde_json::from_value(serde_json::json!({"type": "ping", "id": "p"})).unwrap();
    assert!(layer.prepare(Millis(1), Request::CustomerCommand { conn: 1, command: ping }).is_none());
    let frames = frames_to(&std::iter::from_fn(|| layer.poll_action()).collect::<Vec<_>>(), 1);
    assert_eq!(types(&frames), ["ack"]);
}

#[test]
fn a_refused_command_gets_the_rules_code_and_is_counted() {
    let mut layer = layer();
    join(&mut layer, 1);
    let actions = submit(&mut layer, 1, Request::CustomerCommand { conn: 1, command: customer_says("c1", "") });
    assert!(actions.iter().any(|a| matches!(a, Action::Refused { code: "message_empty" })));
    assert_eq!(frames_to(&actions, 1).last().unwrap()["code"], "message_empty");
}

#[test]
fn a_slow_consumer_is_cut_off_and_its_owner_disconnected() {
    let mut layer = layer();
    submit(&mut layer, 0, Request::AgentOpen { conn: 7, agent: Some("ann".into()), last_seq: None });
    let actions = submit(&mut layer, 1, Request::SlowConsumer { conn: 7 });
    assert!(actions.iter().any(|a| matches!(a, Action::Kill { conn: 7 })));
    assert!(actions.iter().any(|a| matches!(a, Action::SlowConsumer)));
    assert_eq!(layer.connections().count(), 0);
    assert!(layer.prepare(Millis(2), Request::SlowConsumer { conn: 7 }).is_none(), "only once");
}

#[test]
fn after_a_restart_every_old_connection_is_gone_and_tokens_still_resume() {
    let mut layer = layer();
    let (welcome, _) = join(&mut layer, 1);
    submit(&mut layer, 0, Request::AgentOpen { conn: 2, agent: Some("ann".into()), last_seq: None });
    let clock = switchboard_calendar::ClockAnchor { business_ms: 100, unix_ms: 1_772_762_100_000 };
    layer.apply(Millis(100), Entry::Restarted { clock });
    assert_eq!(layer.clock_anchor(), Some(clock), "kept for the next start and for snapshots");
    assert_eq!(layer.connections().count(), 0);
    assert_eq!(layer.last_conn(), 2, "new connections are numbered after the old ones");
    let ann = layer.router().snapshot(Millis(100)).agents.into_iter().find(|a| a.id.as_str() == "ann").unwrap();
    assert_eq!(ann.state.label(), "offline", "ann had nothing open, so she is simply offline");
    let token = welcome["token"].as_str().unwrap().to_owned();
    let actions =
        submit(&mut layer, 200, Request::CustomerOpen { conn: 3, open: CustomerOpen::Resume { token, last_seq: 0 } });
    let frames = frames_to(&actions, 3);
    assert_eq!(frames[0]["resumed"], true);
    assert_eq!(types(&frames), ["welcome", "queued", "no_agent_online"], "everything is replayed");
}

#[test]
fn a_closed_connection_is_logged_only_if_it_was_in_the_table() {
    let mut layer = layer();
    join(&mut layer, 1);
    assert!(layer.prepare(Millis(1), Request::Closed { conn: 99 }).is_none());
    assert!(matches!(layer.prepare(Millis(1), Request::Closed { conn: 1 }), Some(Entry::Closed { conn: 1 })));
}

#[test]
fn only_supervisors_get_a_snapshot() {
    let mut layer = layer();
    submit(&mut layer, 0, Request::AgentOpen { conn: 1, agent: Some("ann".into()), last_seq: None });
    submit(&mut layer, 0, Request::AgentOpen { conn: 2, agent: Some("sue".into()), last_seq: None });
    let snapshot = || agent_command(serde_json::json!({"type": "snapshot", "id": "s1"}));
    let ann = submit(&mut layer, 1, Request::AgentCommand { conn: 1, command: snapshot() });
    assert_eq!(frames_to(&ann, 1)[0]["code"], "supervisors_only");
    let sue = submit(&mut layer, 1, Request::AgentCommand { conn: 2, command: snapshot() });
    assert_eq!(types(&frames_to(&sue, 2)), ["snapshot", "ack"]);
}

#[test]
fn a_token_command_never_becomes_a_logged_entry() {
    // The gateway checks tokens and passes a ping on instead; one that got here anyway is refused, not logged.
    let mut layer = layer();
    submit(&mut layer, 0, Request::AgentOpen { conn: 1, agent: Some("ann".into()), last_seq: None });
    let command = agent_command(serde_json::json!({"type": "token", "id": "t1", "token": "eyJ.x.y"}));
    assert!(layer.prepare(Millis(1), Request::AgentCommand { conn: 1, command: command.clone() }).is_none());
    let answer = submit(&mut layer, 1, Request::AgentCommand { conn: 1, command });
    assert_eq!(frames_to(&answer, 1)[0]["code"], "internal");
}

#[test]
fn a_copy_for_a_snapshot_images_the_state_it_was_taken_from_while_the_original_moves_on() {
    let mut layer = layer();
    join(&mut layer, 1);
    submit(&mut layer, 0, Request::AgentOpen { conn: 2, agent: Some("ann".into()), last_seq: None });
    submit(&mut layer, 10, Request::CustomerCommand { conn: 1, command: customer_says("m1", "where is my parcel") });
    let before = layer.image().unwrap();
    let copy = layer.copy_for_image();
    submit(&mut layer, 20, Request::CustomerCommand { conn: 1, command: customer_says("m2", "hello?") });
    join(&mut layer, 3);
    assert_eq!(copy.image().unwrap(), before, "the copy is the state when it was taken");
    assert_ne!(layer.image().unwrap(), before, "the original moved on");
}

fn closes(actions: &[Action]) -> Vec<(&'static str, u16)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Close { reason, code, .. } => Some((*reason, *code)),
            _ => None,
        })
        .collect()
}

#[test]
fn resume_tokens_are_128_random_bits_in_hex() {
    let tokens: std::collections::HashSet<String> = (0..2000).map(|_| Token::mint().as_str().to_owned()).collect();
    assert_eq!(tokens.len(), 2000, "no repeats");
    for t in &tokens {
        assert_eq!(t.len(), 32, "128 bits as hex: {t}");
        assert!(t.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)), "{t}");
    }
    // Every bit position varies across tokens (a constant or counter-like part would not).
    let ones: Vec<usize> = (0..128)
        .map(|bit| tokens.iter().filter(|t| u128::from_str_radix(t, 16).unwrap() >> bit & 1 == 1).count())
        .collect();
    assert!(ones.iter().all(|&n| (800..1200).contains(&n)), "bit frequencies {ones:?}");
}

#[test]
fn a_token_differing_in_one_character_is_refused() {
    let mut layer = layer();
    let (welcome, _) = join(&mut layer, 1);
    let token = welcome["token"].as_str().unwrap().to_owned();
    for i in [0, 15, 31] {
        let mut near = token.clone().into_bytes();
        near[i] = if near[i] == b'0' { b'1' } else { b'0' };
        let open = CustomerOpen::Resume { token: String::from_utf8(near).unwrap(), last_seq: 0 };
        assert!(layer.prepare(Millis(0), Request::CustomerOpen { conn: 2, open }).is_none(), "char {i}");
        let actions: Vec<Action> = std::iter::from_fn(|| layer.poll_action()).collect();
        assert_eq!(closes(&actions), [("invalid_token", 1008)]);
    }
    for wrong in [&token[..31], &format!("{token}0"), &token.to_uppercase(), ""] {
        let open = CustomerOpen::Resume { token: wrong.to_owned(), last_seq: 0 };
        assert!(layer.prepare(Millis(0), Request::CustomerOpen { conn: 2, open }).is_none(), "{wrong}");
    }
    let open = CustomerOpen::Resume { token, last_seq: 0 };
    assert!(matches!(
        layer.prepare(Millis(0), Request::CustomerOpen { conn: 3, open }),
        Some(Entry::CustomerResume { .. })
    ));
}

/// A layer where agent `ann` is connected on `conn` and available.
fn layer_with_ann_available_on(conn: ConnId) -> SessionLayer {
    let mut layer = layer();
    submit(&mut layer, 0, Request::AgentOpen { conn, agent: Some("ann".into()), last_seq: None });
    let available = agent_command(serde_json::json!({"type": "set_availability", "id": "a1", "state": "available"}));
    submit(&mut layer, 0, Request::AgentCommand { conn, command: available });
    layer
}

fn open_as(identity: CustomerIdentity) -> CustomerOpen {
    CustomerOpen::New {
        group: Some("general".into()),
        name: Some("Wei".into()),
        priority: Ok(Priority::Normal),
        identity,
        time_zone: None,
    }
}

#[test]
fn a_verified_customer_reaches_the_agent_with_id_and_mark_and_an_invalid_claim_is_refused() {
    let mut layer = layer_with_ann_available_on(10);

    let verified = open_as(CustomerIdentity::Verified("user-42".into()));
    let entry = layer.prepare(Millis(1), Request::CustomerOpen { conn: 1, open: verified }).unwrap();
    let Entry::CustomerJoin(join) = &entry else { panic!("a join: {entry:?}") };
    assert_eq!(join.customer_id.as_deref(), Some("user-42"), "the log records the outcome");
    layer.apply(Millis(1), entry);
    let actions: Vec<Action> = std::iter::from_fn(|| layer.poll_action()).collect();
    let assigned = frames_to(&actions, 10).into_iter().find(|f| f["type"] == "session_assigned").unwrap();
    assert_eq!(assigned["session"]["customer_id"], "user-42", "{assigned}");
    assert_eq!(assigned["session"]["verified"], true, "{assigned}");

    let invalid = open_as(CustomerIdentity::Invalid("identifier_hash does not match the identifier"));
    assert!(layer.prepare(Millis(2), Request::CustomerOpen { conn: 2, open: invalid }).is_none());
    let actions: Vec<Action> = std::iter::from_fn(|| layer.poll_action()).collect();
    assert_eq!(closes(&actions), [("identity_invalid", 1008)]);
    assert_eq!(frames_to(&actions, 2)[0]["code"], "identity_invalid");
}

#[test]
fn a_signed_priority_is_logged_and_a_refused_one_closes_with_its_code() {
    let mut layer = layer_with_ann_available_on(10);
    let mut urgent = open_as(CustomerIdentity::Verified("user-42".into()));
    if let CustomerOpen::New { priority, .. } = &mut urgent {
        *priority = Ok(Priority::Urgent);
    }
    let entry = layer.prepare(Millis(1), Request::CustomerOpen { conn: 1, open: urgent }).unwrap();
    let Entry::CustomerJoin(join) = &entry else { panic!("a join: {entry:?}") };
    assert_eq!(join.priority, Priority::Urgent, "the log records the outcome, not the hash");

    let mut forged = open_as(CustomerIdentity::Verified("user-42".into()));
    if let CustomerOpen::New { priority, .. } = &mut forged {
        *priority = Err("priority_hash does not match the identifier and priority");
    }
    assert!(layer.prepare(Millis(2), Request::CustomerOpen { conn: 2, open: forged }).is_none());
    let actions: Vec<Action> = std::iter::from_fn(|| layer.poll_action()).collect();
    assert_eq!(closes(&actions), [("priority_invalid", 1008)]);
    let error = &frames_to(&actions, 2)[0];
    assert_eq!(error["code"], "priority_invalid");
    assert!(error["message"].as_str().unwrap().contains("does not match"), "{error}");
}

#[test]
fn an_unverified_customer_is_shown_as_unverified() {
    let mut layer = layer_with_ann_available_on(10);
    let actions = submit(&mut layer, 1, Request::CustomerOpen { conn: 1, open: open_as(CustomerIdentity::Anonymous) });
    let assigned = frames_to(&actions, 10).into_iter().find(|f| f["type"] == "session_assigned").unwrap();
    assert_eq!(assigned["session"]["verified"], false, "{assigned}");
    assert!(assigned["session"].get("customer_id").is_none(), "{assigned}");
    assert_eq!(assigned["session"]["customer_name"], "Wei");
}

/// The ticket desk is part of the deterministic state: the same entries give
/// the same image, live or replayed, and a snapshot restores it as it was.
#[test]
fn the_ticket_desk_replays_and_restores_to_the_same_state() {
    use crate::tickets::{AgentReply, LeftBecause, NewTicket, TicketEntry};
    use switchboard_tickets::TicketState;

    let mut live = layer();
    let mut log: Vec<(u64, Entry)> = Vec::new();
    let mut record = |layer: &mut SessionLayer, now: u64, entry: Entry| {
        log.push((now, entry.clone()));
        layer.apply(Millis(now), entry);
        while layer.poll_action().is_some() {}
    };
    let start = "2026-03-02T09:00:00+08:00".parse().unwrap();
    record(&mut live, 0, Entry::Restarted { clock: switchboard_calendar::ClockAnchor::new(0, start) });
    let open = Request::AgentOpen { conn: 1, agent: Some("ann".into()), last_seq: None };
    let entry = live.prepare(Millis(10), open).unwrap();
    record(&mut live, 10, entry);
    let available = agent_command(serde_json::json!({"type": "set_availability", "id": "a1", "state": "available"}));
    let entry = live.prepare(Millis(20), Request::AgentCommand { conn: 1, command: available }).unwrap();
    record(&mut live, 20, entry);
    let customer = Token::mint().digest();
    let new = NewTicket {
        group: GroupId::new("general"),
        text: "Where is my order?".into(),
        customer_name: None,
        reason: LeftBecause::CustomerChoice,
        customer,
    };
    record(&mut live, 30, Entry::Ticket(TicketEntry::Create(new)));
    let id = live.take_ticket_outcome().unwrap().unwrap();
    let reply = AgentReply {
        text: "Checking.".into(),
        state: TicketState::Processing,
        expected_resolution: None,
        content: Default::default(),
    };
    record(&mut live, 40, Entry::Ticket(TicketEntry::AgentReply { ticket: id, agent: AgentId::new("ann"), reply }));
    // 30 business minutes later the expected time is overdue: a breach.
    assert!(live.poll_timeout().is_some_and(|at| at <= Millis(30 * 60_000 + 30)));
    record(&mut live, 31 * 60_000, Entry::Tick);

    let (ticket, file) = live.desk().ticket(id).unwrap();
    assert_eq!((ticket.state, ticket.owner.as_ref().map(|o| o.0.as_str())), (TicketState::Processing, Some("ann")));
    assert_eq!(file.messages.len(), 2);
    assert_eq!(live.desk().ticket_of(&customer), Some(id));
    assert_eq!(live.desk().breaches().count(), 1);

    let mut replayed = layer();
    for (now, entry) in log {
        replayed.apply(Millis(now), entry);
    }
    let image = live.image().unwrap();
    assert_eq!(replayed.image().unwrap(), image, "a replay gives the live state");
    let restored = SessionLayer::from_image(&image, 1.0).unwrap();
    assert_eq!(restored.image().unwrap(), image, "a snapshot restores it");
    assert_eq!(restored.desk().ticket_of(&customer), Some(id), "the token table is rebuilt");
}

/// Content rules: the verdict is logged with the reply, so a replay under
/// other rules (here none at all) raises the same flags and blocks the same
/// reply; the agent is told `content_blocked` and the customer gets nothing.
#[test]
fn content_flags_replay_whatever_the_rules_say_by_then() {
    let mut live = layer();
    let mut log: Vec<(u64, Entry)> = Vec::new();
    let mut step = |layer: &mut SessionLayer, now: u64, request: Request| -> Vec<Action> {
        if let Some(entry) = layer.prepare(Millis(now), request) {
            log.push((now, entry.clone()));
            layer.apply(Millis(now), entry);
        }
        std::iter::from_fn(|| layer.poll_action()).collect()
    };
    step(&mut live, 0, Request::AgentOpen { conn: 1, agent: Some("ann".into()), last_seq: None });
    let available = agent_command(serde_json::json!({"type": "set_availability", "id": "a1", "state": "available"}));
    step(&mut live, 1, Request::AgentCommand { conn: 1, command: available });
    let open = CustomerOpen::New {
        group: Some("general".into()),
        name: None,
        priority: Ok(Priority::Normal),
        identity: CustomerIdentity::Anonymous,
        time_zone: None,
    };
    step(&mut live, 2, Request::CustomerOpen { conn: 2, open });
    let reply = |id: &str, text: &str| {
        agent_command(serde_json::json!({"type": "reply", "id": id, "session": 1, "text": text}))
    };
    let blocked = step(&mut live, 3, Request::AgentCommand { conn: 1, command: reply("r1", "加我微信 wx12345") });
    let to_ann = frames_to(&blocked, 1);
    let refusal = to_ann.iter().find(|f| f["type"] == "error").expect("refused");
    assert_eq!((refusal["id"].as_str(), refusal["code"].as_str()), (Some("r1"), Some("content_blocked")));
    assert!(refusal["message"].as_str().unwrap().contains("off_platform"), "{refusal}");
    assert!(frames_to(&blocked, 2).is_empty(), "the customer gets nothing: {:?}", frames_to(&blocked, 2));
    let flag = to_ann.iter().find(|f| f["type"] == "conduct_flagged").expect("flagged")["flag"].clone();
    assert_eq!((flag["kind"].as_str(), flag["rule"].as_str()), (Some("content_rule"), Some("off_platform")));
    assert_eq!(flag["session"], 1);

    let sent =
        step(&mut live, 4, Request::AgentCommand { conn: 1, command: reply("r2", "Don't feel stupid, it happens") });
    assert_eq!(types(&frames_to(&sent, 2)), ["agent_message"], "a flagged reply is sent");
    assert!(types(&frames_to(&sent, 1)).contains(&"ack"));

    let flags_of = |layer: &SessionLayer| {
        let record = layer.router().agent_record(&AgentId::new("ann")).unwrap();
        record.recent_flags.iter().map(|f| (f.kind, f.rule.clone())).collect::<Vec<_>>()
    };
    let live_flags = flags_of(&live);
    assert_eq!(live_flags.len(), 2, "{live_flags:?}");
    let mut replayed = layer();
    replayed.set_content_rules(
        crate::content::ContentRules::new(&crate::content::ContentConfig { rules: vec![] }).unwrap(),
    );
    for (now, entry) in log {
        replayed.apply(Millis(now), entry);
    }
    assert_eq!(flags_of(&replayed), live_flags);
}
