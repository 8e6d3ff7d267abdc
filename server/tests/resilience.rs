//! Reconnects, resume, slow readers and shutdown, over real WebSockets.

mod common;

use std::time::{Duration, Instant};

use common::{assigned_chat, config, http_get, start, wait_for_sample, AssignedChat, Client, Side};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn an_agent_reconnecting_within_the_grace_period_gets_their_sessions_back() {
    let server = start(config(1.0, "[router.rules]\nagent_grace = \"5s\"\n")).await;
    let addr = server.public_addr;
    let AssignedChat { agent: mut ann, mut customer, session, .. } = assigned_chat(addr, "ann", "general").await;
    customer.ok(json!({"type": "message", "text": "before the drop"})).await;
    ann.expect("customer_message").await;
    let last_seq = *ann.seqs.last().unwrap();

    drop(ann); // the connection just dies
    tokio::time::sleep(Duration::from_millis(200)).await;
    customer.ok(json!({"type": "message", "text": "while you were away"})).await;

    let mut ann = Client::connect(addr, &format!("/v1/ws/agent?agent=ann&last_seq={last_seq}"), Side::Agent).await;
    let welcome = ann.expect("welcome").await;
    assert_eq!(welcome["resumed"], true);
    assert_eq!(welcome["replay_complete"], true);
    // What was missed is replayed first, in order...
    let missed = ann.expect("customer_message").await;
    assert_eq!(missed["text"], "while you were away");
    assert_eq!(ann.seqs[0], last_seq + 1, "the replay starts right after the last seq seen");
    // ...then the state lists the session, with its history.
    let state = ann.expect("state").await;
    assert_eq!(state["state"], "available", "presence is kept within the grace period: {state}");
    let sessions = state["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1, "{state}");
    assert_eq!(sessions[0]["session"], session);
    let texts: Vec<&str> =
        sessions[0]["history"].as_array().unwrap().iter().filter_map(|h| h["text"].as_str()).collect();
    assert_eq!(texts, vec!["before the drop", "while you were away"]);
    ann.assert_seqs_contiguous_from(last_seq + 1);

    // The customer never saw a change of agent, and the chat carries on.
    customer.expect_none("assigned", Duration::from_millis(100)).await;
    ann.ok(json!({"type": "reply", "session": session, "text": "I am back."})).await;
    assert_eq!(customer.expect("agent_message").await["text"], "I am back.");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn past_the_grace_period_sessions_go_back_to_the_queue_with_their_history() {
    let server = start(config(1.0, "[router.rules]\nagent_grace = \"300ms\"\n")).await;
    let addr = server.public_addr;
    let AssignedChat { agent: mut ann, mut customer, session, assigned, .. } =
        assigned_chat(addr, "ann", "general").await;
    assert_eq!(assigned["agent_name"], "Ann");
    customer.ok(json!({"type": "message", "text": "I need help"})).await;
    ann.expect("customer_message").await;
    let mut ben = Client::available_agent(addr, "ben").await;

    let dropped = Instant::now();
    drop(ann);
    let view = ben.expect("session_assigned").await["session"].clone();
    assert!(dropped.elapsed() >= Duration::from_millis(250), "re-queued before the grace period ended");
    assert_eq!(view["session"], session);
    assert!(view["history"].as_array().unwrap().iter().any(|h| h["text"] == "I need help"), "{view}");
    assert_eq!(customer.expect("assigned").await["agent_name"], "Ben");

    // Ann comes back too late: no sessions, and she starts offline.
    let mut ann = Client::connect(addr, "/v1/ws/agent?agent=ann", Side::Agent).await;
    assert_eq!(ann.expect("welcome").await["resumed"], true);
    let state = ann.expect("state").await;
    assert_eq!(state["sessions"], json!([]));
    assert_eq!(state["state"], "offline");
    ann.refused(json!({"type": "reply", "session": session, "text": "hello?"}), "not_your_session").await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_customer_resumes_without_losing_or_duplicating_anything() {
    let server = start(config(1.0, "")).await;
    let addr = server.public_addr;
    let AssignedChat { agent: mut ann, mut customer, session, welcome, .. } =
        assigned_chat(addr, "ann", "general").await;
    let token = welcome["token"].as_str().unwrap().to_owned();
    ann.ok(json!({"type": "reply", "session": session, "text": "r0"})).await;
    customer.expect("agent_message").await;
    let last_seen = *customer.seqs.last().unwrap();
    customer.assert_seqs_contiguous_from(1);

    drop(customer);
    for text in ["r1", "r2", "r3"] {
        ann.ok(json!({"type": "reply", "session": session, "text": text})).await;
    }

    let path = format!("/v1/ws/customer?token={token}&last_seq={last_seen}");
    let mut customer = Client::connect(addr, &path, Side::Customer).await;
    let welcome = customer.next().await;
    assert_eq!(welcome["type"], "welcome");
    assert_eq!((welcome["session"].as_u64(), welcome["resumed"].as_bool()), (Some(session), Some(true)));
    assert_eq!(welcome["replay_complete"], true);
    assert_eq!(welcome["last_seq"], last_seen + 3);
    assert_eq!(welcome["status"]["state"], "assigned");
    for text in ["r1", "r2", "r3"] {
        let m = customer.next().await;
        assert_eq!((m["type"].as_str(), m["text"].as_str()), (Some("agent_message"), Some(text)), "{m}");
    }
    ann.ok(json!({"type": "reply", "session": session, "text": "r4"})).await;
    assert_eq!(customer.expect("agent_message").await["text"], "r4");
    // Exactly the messages after `last_seen`, each once, in order.
    assert_eq!(customer.seqs, (last_seen + 1..=last_seen + 4).collect::<Vec<_>>());

    // A command retried with the same id (its ack was lost) is acknowledged but not applied twice.
    customer.send(&json!({"type": "message", "id": "m-1", "text": "only once"})).await;
    assert_eq!(customer.reply_to("m-1").await, json!({"type": "ack", "id": "m-1", "duplicate": false}));
    customer.send(&json!({"type": "message", "id": "m-1", "text": "only once"})).await;
    assert_eq!(customer.reply_to("m-1").await, json!({"type": "ack", "id": "m-1", "duplicate": true}));
    customer.ok(json!({"type": "message", "text": "next"})).await;
    assert_eq!(ann.expect("customer_message").await["text"], "only once");
    assert_eq!(ann.expect("customer_message").await["text"], "next");

    // A second connection with the same token takes over; the older one is told why.
    let mut again = Client::connect(addr, &format!("/v1/ws/customer?token={token}&last_seq=0"), Side::Customer).await;
    let welcome = again.expect("welcome").await;
    assert_eq!(welcome["resumed"], true);
    let replaced = customer.expect("error").await;
    assert_eq!((replaced["code"].as_str(), replaced["id"].is_null()), (Some("replaced"), true));
    assert_eq!(customer.expect_close().await, Some(1008));
    server.shutdown().await.unwrap();
}

/// A customer waiting in a moving queue hears each new position; on resume
/// only the latest is replayed (a superseded position is no news, and a long
/// wait must not fill the replay buffer with them), and the replay still
/// counts as complete.
#[tokio::test]
async fn a_resumed_waiting_customer_gets_only_the_latest_queue_position() {
    let server = start(config(1.0, "")).await;
    let addr = server.public_addr;
    let mut ahead = Vec::new();
    for _ in 0..3 {
        ahead.push(Client::customer(addr, "general").await.0);
    }
    let (mut waiting, welcome) = Client::customer(addr, "general").await;
    let token = welcome["token"].as_str().unwrap().to_owned();
    assert_eq!(waiting.expect("queued").await["position"], 4);
    waiting.expect("no_agent_online").await;
    let last_seen = *waiting.seqs.last().unwrap();
    drop(waiting);
    for mut customer in ahead {
        customer.ok(json!({"type": "leave"})).await;
    }

    let path = format!("/v1/ws/customer?token={token}&last_seq={last_seen}");
    let mut waiting = Client::connect(addr, &path, Side::Customer).await;
    let welcome = waiting.expect("welcome").await;
    assert_eq!(welcome["replay_complete"], true);
    assert_eq!(welcome["status"]["position"], 1);
    let replayed = waiting.next().await;
    assert_eq!((replayed["type"].as_str(), replayed["position"].as_u64()), (Some("queued"), Some(1)), "{replayed}");
    assert_eq!(replayed["seq"], last_seen + 3, "positions 3 and 2 were sent as well, then replaced");
    assert_eq!(welcome["last_seq"], replayed["seq"]);
    waiting.expect_none("queued", Duration::from_millis(300)).await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_slow_reader_is_cut_off_while_others_carry_on() {
    let mut cfg = config(1.0, "");
    cfg.gateway.outbound_queue = 32;
    let server = start(cfg).await;
    let addr = server.public_addr;
    let mut ann = Client::available_agent(addr, "ann").await;

    // The slow customer: a tiny receive buffer, and it stops reading after the welcome.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(addr).await.unwrap();
    let (mut slow, _) =
        tokio_tungstenite::client_async(format!("ws://{addr}/v1/ws/customer?group=general"), stream).await.unwrap();
    let welcome: serde_json::Value = match futures_util::StreamExt::next(&mut slow).await {
        Some(Ok(Message::Text(t))) => serde_json::from_str(&t).unwrap(),
        other => panic!("expected the welcome, got {other:?}"),
    };
    let slow_session = welcome["session"].as_u64().unwrap();
    assert_eq!(ann.expect("session_assigned").await["session"]["session"], slow_session);

    // Another pair that keeps talking.
    let mut ben = Client::available_agent(addr, "ben").await;
    let (mut fast, fw) = Client::customer(addr, "general").await;
    let fast_session = fw["session"].as_u64().unwrap();
    fast.expect("assigned").await;
    ben.expect("session_assigned").await;

    let big = "x".repeat(4000);
    let mut sent = 0;
    let mut cut = false;
    while sent < 6000 && !cut {
        for i in 0..16 {
            let id = format!("f{}", sent + i);
            ann.send(&json!({"type": "reply", "id": id, "session": slow_session, "text": big})).await;
        }
        for i in 0..16 {
            let reply = ann.reply_to(&format!("f{}", sent + i)).await;
            assert_eq!(reply["type"], "ack", "Ann is never slowed or refused: {reply}");
        }
        sent += 16;
        if sent % 256 == 0 {
            // Meanwhile the other chat goes on, promptly.
            let t = Instant::now();
            fast.ok(json!({"type": "message", "text": format!("ping {sent}")})).await;
            ben.expect("customer_message").await;
            ben.ok(json!({"type": "reply", "session": fast_session, "text": "pong"})).await;
            fast.expect("agent_message").await;
            assert!(t.elapsed() < Duration::from_secs(2), "a round trip took {:?} during the flood", t.elapsed());
            let (_, metrics) = http_get(server.admin_addr, "/metrics").await;
            cut = common::sample(&metrics, "switchboard_slow_consumer_disconnects_total") == Some(1.0);
        }
    }
    assert!(cut, "the slow reader was never cut off after {sent} large messages");

    // The slow client finds its connection gone after what was already in flight.
    let mut received = 0;
    loop {
        match tokio::time::timeout(Duration::from_secs(5), futures_util::StreamExt::next(&mut slow)).await {
            Ok(Some(Ok(Message::Text(_)))) => received += 1,
            Ok(Some(Ok(_))) => {}
            Ok(None) | Ok(Some(Err(_))) => break,
            Err(_) => panic!("the slow connection was not closed"),
        }
    }
    assert!(received < sent, "received {received} of {sent}: nothing was dropped?");

    // Its session follows the normal disconnect rules: it waits for a resume, which works.
    let token = welcome["token"].as_str().unwrap();
    let mut back = Client::connect(addr, &format!("/v1/ws/customer?token={token}&last_seq=0"), Side::Customer).await;
    let w = back.expect("welcome").await;
    assert_eq!((w["resumed"].as_bool(), w["replay_complete"].as_bool()), (Some(true), Some(false)));
    assert_eq!(w["status"]["state"], "assigned");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn health_and_graceful_shutdown() {
    let server = start(config(1.0, "")).await;
    let addr = server.public_addr;
    assert_eq!(http_get(addr, "/healthz").await, (200, "ok".to_owned()));
    assert_eq!(http_get(addr, "/readyz").await, (200, "ready".to_owned()));
    // Metrics are never on the public port.
    assert_eq!(http_get(addr, "/metrics").await.0, 404);

    let mut ann = Client::available_agent(addr, "ann").await;
    let (mut customer, _) = Client::customer(addr, "general").await;
    customer.expect("assigned").await;
    wait_for_sample(server.admin_addr, "switchboard_connections_open{role=\"customer\"}", 1.0).await;

    let started = Instant::now();
    let stopping = tokio::spawn(server.shutdown());
    let notice = customer.expect("shutdown").await;
    assert!(notice["reason"].as_str().is_some());
    assert_eq!(customer.expect_close().await, Some(1001));
    ann.expect("shutdown").await;
    assert_eq!(ann.expect_close().await, Some(1001));
    drop(customer);
    drop(ann);
    stopping.await.unwrap().unwrap();
    assert!(started.elapsed() < Duration::from_secs(4), "shutdown took {:?}", started.elapsed());
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "still accepting after shutdown");
}

#[tokio::test]
async fn a_silent_peer_is_dropped_and_its_session_follows_the_disconnect_rules() {
    let mut cfg = config(1.0, "[router.rules]\ncustomer_grace = \"200ms\"\n");
    cfg.gateway.ping_interval = Duration::from_millis(100);
    cfg.gateway.idle_timeout = Duration::from_millis(400);
    let server = start(cfg).await;
    let addr = server.public_addr;
    let AssignedChat { agent: mut ann, customer, session, .. } = assigned_chat(addr, "ann", "general").await;

    // From now on the customer's client never reads, so it never answers a ping: a dead peer.
    let silent_since = Instant::now();
    let ended = ann.expect("session_ended").await;
    assert_eq!(ended["session"], session);
    assert_eq!(ended["why"], json!({"kind": "closed", "reason": "customer_lost"}));
    assert!(silent_since.elapsed() >= Duration::from_millis(500), "dropped after {:?}", silent_since.elapsed());
    // Ann reads (and so answers pings): she is still connected.
    ann.ok(json!({"type": "ping"})).await;
    let body =
        wait_for_sample(server.admin_addr, "switchboard_protocol_errors_total{code=\"idle_timeout\"}", 1.0).await;
    assert_eq!(common::sample(&body, "switchboard_connections_open{role=\"agent\"}"), Some(1.0));
    drop(customer);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_session_the_router_has_forgotten_can_no_longer_be_resumed() {
    let server = start(config(1.0, "[router.rules]\nrating_window = \"300ms\"\n")).await;
    let addr = server.public_addr;
    let resume = |token: &str| format!("/v1/ws/customer?token={token}&last_seq=0");
    let leave = || json!({"type": "leave"});

    // Gone before the router forgets the session: its stream goes when the router does.
    let (mut early, welcome) = Client::customer(addr, "general").await;
    let early_token = welcome["token"].as_str().unwrap().to_owned();
    early.ok(leave()).await;
    early.close().await;
    // Still connected when the router forgets it: its stream goes when the customer does.
    let (mut late, welcome) = Client::customer(addr, "general").await;
    let late_token = welcome["token"].as_str().unwrap().to_owned();
    late.ok(leave()).await;

    tokio::time::sleep(Duration::from_millis(600)).await;
    late.close().await;
    for token in [early_token, late_token] {
        let mut c = Client::connect(addr, &resume(&token), Side::Customer).await;
        let e = c.next().await;
        assert_eq!((e["type"].as_str(), e["code"].as_str()), (Some("error"), Some("invalid_token")), "{e}");
    }
    server.shutdown().await.unwrap();
}

/// An agent's `state` frame carries every open chat's whole history: no cap
/// on outgoing frames may lock them out (here 4.5 MB, above the 4 MiB that
/// used to be the limit), and the router's `max_history_bytes` is what
/// bounds it.
#[tokio::test]
async fn an_agent_whose_chats_hold_megabytes_of_history_signs_in_again() {
    let rules = "[router.rules]\nagent_grace = \"60s\"\nmessage_max_chars = 15000\nmax_history = 400\nmax_history_bytes = 8000000\n";
    let server = start(config(1.0, rules)).await;
    let addr = server.public_addr;
    let AssignedChat { agent: ann, mut customer, session, .. } = assigned_chat(addr, "ann", "general").await;
    drop(ann);
    let long = "x".repeat(15_000);
    for _ in 0..300 {
        customer.ok(json!({"type": "message", "text": long})).await;
    }

    let mut ann = Client::connect(addr, "/v1/ws/agent?agent=ann", Side::Agent).await;
    ann.expect("welcome").await;
    let state = ann.expect("state").await;
    let frame_bytes = state.to_string().len();
    assert!(frame_bytes > 4_500_000, "the state frame is {frame_bytes} bytes");
    let sessions = state["sessions"].as_array().unwrap();
    assert_eq!(sessions[0]["session"], session);
    assert_eq!(sessions[0]["history"].as_array().unwrap().len(), 300, "every message kept and sent");
    ann.ok(json!({"type": "reply", "session": session, "text": "Sorry for the wait."})).await;
    assert_eq!(customer.expect("agent_message").await["text"], "Sorry for the wait.");
    server.shutdown().await.unwrap();
}
