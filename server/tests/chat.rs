//! Chats end to end over real WebSockets: the router's rules as clients see them.

mod common;

use std::time::{Duration, Instant};

use common::{assigned_chat, config, start, wait_for_sample, AssignedChat, Client};
use serde_json::{json, Value};

#[tokio::test]
async fn a_full_chat_from_join_to_rating() {
    let server = start(config(1.0, "")).await;
    let addr = server.public_addr;
    let mut ann = Client::available_agent(addr, "ann").await;

    let (mut customer, welcome) = Client::customer(addr, "general").await;
    let session = welcome["session"].as_u64().expect("session id");
    assert_eq!(welcome["resumed"], false);
    assert_eq!(welcome["group"], "general");
    assert!(welcome["token"].as_str().is_some_and(|t| t.len() == 32), "{welcome}");

    let assigned = customer.expect("assigned").await;
    assert_eq!(assigned["agent_name"], "Ann");
    let view = ann.expect("session_assigned").await;
    assert_eq!(view["session"]["session"], session);
    assert_eq!(view["session"]["group"], "general");

    customer.ok(json!({"type": "message", "text": "My parcel never arrived"})).await;
    let m = ann.expect("customer_message").await;
    assert_eq!((m["session"].as_u64(), m["text"].as_str()), (Some(session), Some("My parcel never arrived")));

    customer.ok(json!({"type": "typing"})).await;
    let typing = ann.expect("customer_typing").await;
    assert_eq!(typing["session"], session);
    assert!(typing.get("seq").is_none(), "typing is ephemeral: {typing}");

    ann.ok(json!({"type": "typing", "session": session})).await;
    customer.expect("agent_typing").await;
    ann.ok(json!({"type": "reply", "session": session, "text": "Let me check, one moment."})).await;
    let reply = customer.expect("agent_message").await;
    assert_eq!(
        (reply["agent_name"].as_str(), reply["text"].as_str()),
        (Some("Ann"), Some("Let me check, one moment."))
    );

    ann.ok(json!({"type": "ask_resolved", "session": session})).await;
    customer.expect("resolve_request").await;
    customer.ok(json!({"type": "confirm_resolved", "resolved": true})).await;
    let answer = ann.expect("resolve_answer").await;
    assert_eq!((answer["session"].as_u64(), answer["resolved"].as_bool()), (Some(session), Some(true)));

    ann.ok(json!({"type": "close", "session": session, "reason": "resolved"})).await;
    let closed = customer.expect("closed").await;
    assert_eq!((closed["reason"].as_str(), closed["can_rate"].as_bool()), (Some("agent_resolved"), Some(true)));
    let ended = ann.expect("session_ended").await;
    assert_eq!(ended["why"], json!({"kind": "closed", "reason": "agent_resolved"}));

    customer.ok(json!({"type": "rate", "rating": "satisfied"})).await;
    customer.refused(json!({"type": "rate", "rating": "dissatisfied"}), "already_rated").await;

    // Every session-level message the customer got was numbered 1, 2, 3... with no gap.
    customer.assert_seqs_contiguous_from(1);
    ann.assert_seqs_contiguous_from(1);
    customer.close().await;
    ann.close().await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn assignment_follows_skill_group_and_capacity() {
    let server = start(config(1.0, "")).await;
    let addr = server.public_addr;
    // Ann: general, capacity 2. Rita: refunds.
    let mut ann = Client::available_agent(addr, "ann").await;
    let mut rita = Client::available_agent(addr, "rita").await;

    let (mut c1, w1) = Client::customer(addr, "general").await;
    let (mut c2, w2) = Client::customer(addr, "general").await;
    let (mut c3, w3) = Client::customer(addr, "general").await;
    let (mut r1, wr) = Client::customer(addr, "refunds").await;

    assert_eq!(c1.expect("assigned").await["agent_name"], "Ann");
    assert_eq!(c2.expect("assigned").await["agent_name"], "Ann");
    assert_eq!(r1.expect("assigned").await["agent_name"], "Rita");
    let mut ann_sessions = vec![
        ann.expect("session_assigned").await["session"]["session"].as_u64().unwrap(),
        ann.expect("session_assigned").await["session"]["session"].as_u64().unwrap(),
    ];
    ann_sessions.sort();
    assert_eq!(ann_sessions, vec![w1["session"].as_u64().unwrap(), w2["session"].as_u64().unwrap()]);
    assert_eq!(rita.expect("session_assigned").await["session"]["session"], wr["session"]);

    // Ann is at capacity: the third general customer waits at the front, refunds' Rita never takes it.
    let queued = c3.expect("queued").await;
    assert_eq!(queued["position"], 1);
    assert_eq!(w3["status"]["state"], "waiting");
    c3.expect_none("assigned", Duration::from_millis(300)).await;
    rita.expect_none("session_assigned", Duration::from_millis(10)).await;
    ann.expect_none("session_assigned", Duration::from_millis(10)).await;

    // Ben (general, capacity 1) comes online and gets it.
    let mut ben = Client::available_agent(addr, "ben").await;
    assert_eq!(c3.expect("assigned").await["agent_name"], "Ben");
    assert_eq!(ben.expect("session_assigned").await["session"]["session"], w3["session"]);

    // Ann closes one; a new general customer goes to Ann (Ben is full).
    ann.ok(json!({"type": "close", "session": ann_sessions[0], "reason": "resolved"})).await;
    let (mut c4, _) = Client::customer(addr, "general").await;
    assert_eq!(c4.expect("assigned").await["agent_name"], "Ann");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn waiting_customers_get_queue_position_updates() {
    let server = start(config(1.0, "")).await;
    let addr = server.public_addr;
    let (mut c1, _) = Client::customer(addr, "general").await;
    let (mut c2, _) = Client::customer(addr, "general").await;
    let (mut c3, w3) = Client::customer(addr, "general").await;
    assert_eq!(w3["status"], json!({"state": "waiting", "group": "general", "position": 3}));
    assert_eq!(c1.expect("queued").await["position"], 1);
    assert_eq!(c2.expect("queued").await["position"], 2);
    let q3 = c3.expect("queued").await;
    assert_eq!(q3["position"], 3);
    // Nobody of the group is online: no number is made up, and the customer is told so.
    assert_eq!((&q3["estimated_wait_ms"], &q3["estimate_basis"]), (&Value::Null, &json!("unknown")), "{q3}");
    let none = c1.expect("no_agent_online").await;
    assert_eq!(none["group"], "general");

    // The first leaves: everyone behind moves up.
    c1.ok(json!({"type": "leave"})).await;
    assert_eq!(c1.expect("closed").await["reason"], "customer_left");
    assert_eq!(c2.expect("queued").await["position"], 1);
    assert_eq!(c3.expect("queued").await["position"], 2);

    // Ben (capacity 1) comes online: the front customer is served, the next moves up.
    let _ben = Client::available_agent(addr, "ben").await;
    assert_eq!(c2.expect("assigned").await["agent_name"], "Ben");
    assert_eq!(c3.expect("queued").await["position"], 1);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn one_minute_warning_and_three_minute_violation_on_a_scaled_clock() {
    // 600x: one business minute is 100 ms of real time.
    let server = start(config(600.0, "[router.rules]\ncustomer_idle = \"10h\"\nagent_grace = \"10h\"\n")).await;
    let addr = server.public_addr;
    let mut sue = Client::agent(addr, "sue").await;
    let AssignedChat { agent: mut ann, mut customer, session, .. } = assigned_chat(addr, "ann", "general").await;

    let sent = Instant::now();
    customer.ok(json!({"type": "message", "text": "Hello? Anyone?"})).await;
    ann.expect("customer_message").await;
    let warning = ann.expect("reply_warning").await;
    let warned_after = sent.elapsed();
    assert_eq!(warning["session"], session);
    assert!(warning["waited_ms"].as_u64().unwrap() >= 60_000, "{warning}");
    assert!(
        warned_after >= Duration::from_millis(80),
        "warning came after {warned_after:?}, before one business minute"
    );
    assert!(!ann.has_pending("slow_reply"), "the violation must come after the warning");
    let early = sue.expect("alert_reply_warning").await;
    assert_eq!((early["agent"].as_str(), early["session"].as_u64()), (Some("ann"), Some(session)));

    let violation = ann.expect("slow_reply").await;
    let violated_after = sent.elapsed();
    assert_eq!(violation["session"], session);
    assert!(violation["waited_ms"].as_u64().unwrap() >= 180_000, "{violation}");
    assert!(violated_after >= Duration::from_millis(270), "violation came after {violated_after:?}");
    assert!(violated_after < Duration::from_secs(3), "violation came after {violated_after:?}");
    let alert = sue.expect("alert_slow_reply").await;
    assert_eq!((alert["agent"].as_str(), alert["session"].as_u64()), (Some("ann"), Some(session)));

    // A prompt reply stops the timer: no warning for the next message.
    ann.ok(json!({"type": "reply", "session": session, "text": "Sorry for the wait."})).await;
    customer.ok(json!({"type": "message", "text": "Thanks"})).await;
    ann.expect("customer_message").await;
    ann.ok(json!({"type": "reply", "session": session, "text": "You are welcome."})).await;
    ann.expect_none("reply_warning", Duration::from_millis(250)).await;
    server.shutdown().await.unwrap();
}

/// An agent close is a conduct flag only without cause (docs/domain.md):
/// `duplicate` is a cause, told to supervisors and counted by reason;
/// `customer_unresponsive` right after the agent's message is no cause.
#[tokio::test]
async fn a_close_with_a_cause_is_no_flag_and_supervisors_see_it() {
    let server = start(config(1.0, "")).await;
    let addr = server.public_addr;
    let mut sue = Client::agent(addr, "sue").await;
    let AssignedChat { agent: mut ann, mut customer, session, .. } = assigned_chat(addr, "ann", "general").await;
    customer.ok(json!({"type": "message", "text": "Where is my refund?"})).await;
    ann.expect("customer_message").await;
    ann.ok(json!({"type": "reply", "session": session, "text": "You are being helped in your other chat."})).await;
    ann.ok(json!({"type": "close", "session": session, "reason": "duplicate"})).await;
    assert_eq!(customer.expect("closed").await["reason"], "agent_duplicate");
    let alert = sue.expect("alert_closed_with_cause").await;
    assert_eq!(
        (&alert["agent"], &alert["session"], &alert["group"], &alert["reason"]),
        (&json!("ann"), &json!(session), &json!("general"), &json!("duplicate"))
    );
    wait_for_sample(server.admin_addr, "switchboard_sessions_closed_total{reason=\"agent_duplicate\"}", 1.0).await;

    let (mut second, welcome) = Client::customer(addr, "general").await;
    let second_session = welcome["session"].as_u64().unwrap();
    second.expect("assigned").await;
    ann.expect("session_assigned").await;
    ann.ok(json!({"type": "reply", "session": second_session, "text": "Hello, how can I help?"})).await;
    ann.ok(json!({"type": "close", "session": second_session, "reason": "customer_unresponsive"})).await;
    // The first flag on ann's stream is this one: the duplicate close raised none.
    let flag = ann.expect("conduct_flagged").await["flag"].clone();
    assert_eq!(
        (&flag["kind"], &flag["category"], &flag["session"]),
        (&json!("close_unresponsive_too_soon"), &json!("agent_close"), &json!(second_session))
    );
    assert_eq!(sue.expect("alert_conduct_flagged").await["flag"], flag);
    assert!(!sue.has_pending("alert_closed_with_cause"), "a flagged close is told once, as a flag");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_transfer_needs_a_note_and_the_receiver_sees_it() {
    let server = start(config(1.0, "")).await;
    let addr = server.public_addr;
    let AssignedChat { agent: mut ann, mut customer, session, assigned, .. } =
        assigned_chat(addr, "ann", "general").await;
    assert_eq!(assigned["agent_name"], "Ann");
    customer.ok(json!({"type": "message", "text": "My order 123 is wrong"})).await;
    ann.expect("customer_message").await;
    let mut ben = Client::available_agent(addr, "ben").await;

    let to_ben = json!({"kind": "agent", "id": "ben"});
    ann.refused(json!({"type": "transfer", "session": session, "to": to_ben}), "handoff_note_missing").await;
    ann.refused(json!({"type": "transfer", "session": session, "to": to_ben, "note": "see"}), "handoff_note_too_short")
        .await;
    ben.expect_none("session_assigned", Duration::from_millis(100)).await;

    let note = "Order 123 has the wrong size; customer wants an exchange. Please arrange it.";
    ann.ok(json!({"type": "transfer", "session": session, "to": to_ben, "note": note})).await;
    let ended = ann.expect("session_ended").await;
    assert_eq!(ended["why"], json!({"kind": "transferred", "target": {"kind": "agent", "id": "ben"}}));
    let view = ben.expect("session_assigned").await["session"].clone();
    assert_eq!(view["session"], session);
    assert_eq!(view["notes"][0]["text"], note);
    assert_eq!(view["notes"][0]["from"], "ann");
    assert!(
        view["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["text"] == "My order 123 is wrong" && h["from"] == "customer"),
        "history travels with the session: {view}"
    );
    assert_eq!(customer.expect("assigned").await["agent_name"], "Ben");

    // The session is Ben's now: Ann may not act on it.
    ann.refused(json!({"type": "reply", "session": session, "text": "still here"}), "not_your_session").await;
    ben.ok(json!({"type": "reply", "session": session, "text": "Hi, Ben here."})).await;
    assert_eq!(customer.expect("agent_message").await["agent_name"], "Ben");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_cross_group_transfer_asks_the_customer_first() {
    let server = start(config(1.0, "")).await;
    let addr = server.public_addr;
    let mut ann = Client::available_agent(addr, "ann").await;
    let mut rita = Client::available_agent(addr, "rita").await;
    let (mut customer, welcome) = Client::customer(addr, "general").await;
    let session = welcome["session"].as_u64().unwrap();
    customer.expect("assigned").await;
    ann.expect("session_assigned").await;
    ann.ok(json!({"type": "reply", "session": session, "text": "I will pass you to refunds."})).await;

    let to_refunds = json!({"kind": "group", "id": "refunds"});
    let note = "Customer was charged twice for order 77; please refund one charge.";
    ann.ok(json!({"type": "transfer", "session": session, "to": to_refunds, "note": note})).await;
    let prompt = customer.expect("consent_request").await;
    assert_eq!((prompt["to_group"].as_str(), prompt["to_group_name"].as_str()), (Some("refunds"), Some("Refunds")));
    assert!(prompt["timeout_ms"].as_u64().unwrap() > 0);
    rita.expect_none("session_assigned", Duration::from_millis(100)).await;
    // A second transfer while the first waits for consent is refused.
    ann.refused(json!({"type": "transfer", "session": session, "to": to_refunds, "note": note}), "consent_pending")
        .await;

    // Declined: the session stays with Ann.
    customer.ok(json!({"type": "consent", "accept": false})).await;
    assert_eq!(ann.expect("consent_outcome").await["outcome"], "declined");
    ann.ok(json!({"type": "reply", "session": session, "text": "Understood, I keep helping you."})).await;
    customer.expect("agent_message").await;

    // Asked again and accepted: Rita gets it with the note.
    ann.ok(json!({"type": "transfer", "session": session, "to": to_refunds, "note": note})).await;
    customer.expect("consent_request").await;
    customer.ok(json!({"type": "consent", "accept": true})).await;
    assert_eq!(ann.expect("consent_outcome").await["outcome"], "accepted");
    ann.expect("session_ended").await;
    let view = rita.expect("session_assigned").await["session"].clone();
    assert_eq!(view["session"], session);
    assert_eq!(view["group"], "refunds");
    assert!(view["notes"].as_array().unwrap().iter().any(|n| n["text"] == note), "{view}");
    assert_eq!(customer.expect("assigned").await["agent_name"], "Rita");
    // Without a pending prompt, consent is refused.
    customer.refused(json!({"type": "consent", "accept": true}), "no_consent_pending").await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_supervisor_sees_groups_and_agents_at_a_glance() {
    let server = start(config(1.0, "")).await;
    let addr = server.public_addr;
    let mut sue = Client::agent(addr, "sue").await;
    let mut ann = Client::available_agent(addr, "ann").await;
    let (mut customer, _) = Client::customer(addr, "general").await;
    customer.expect("assigned").await;
    let (_waiting, _) = Client::customer(addr, "logistics").await;

    sue.send(&json!({"type": "snapshot", "id": "snap-1"})).await;
    let snapshot = sue.expect("snapshot").await;
    assert_eq!(snapshot["id"], "snap-1");
    assert_eq!(sue.reply_to("snap-1").await["type"], "ack");
    let group = |id: &str| snapshot["groups"].as_array().unwrap().iter().find(|g| g["id"] == id).unwrap().clone();
    assert_eq!((group("general")["active"].as_u64(), group("general")["waiting"].as_u64()), (Some(1), Some(0)));
    assert_eq!(group("logistics")["waiting"], 1);
    assert!(group("logistics")["oldest_wait_ms"].as_u64().is_some());
    assert_eq!(group("general")["agents"]["available"], 1);
    let ann_view = snapshot["agents"].as_array().unwrap().iter().find(|a| a["id"] == "ann").unwrap().clone();
    assert_eq!((ann_view["state"].as_str(), ann_view["load"].as_u64()), (Some("available"), Some(1)));
    assert_eq!(ann_view["record"]["sessions_assigned"], 1);

    // Agents do not get it.
    ann.refused(json!({"type": "snapshot"}), "supervisors_only").await;
    server.shutdown().await.unwrap();
}
