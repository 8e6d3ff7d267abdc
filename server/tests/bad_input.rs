//! Bad input gets an error frame with a stable code; the connection and the server live on.

mod common;

use common::{config, start, Client, Side};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn each_bad_frame_gets_a_stable_error_code_and_the_connection_lives_on() {
    let server = start(config(1.0, "")).await;
    let addr = server.public_addr;
    let mut ann = Client::available_agent(addr, "ann").await;
    let (mut customer, welcome) = Client::customer(addr, "general").await;
    let session = welcome["session"].as_u64().unwrap();
    customer.expect("assigned").await;

    // Invalid JSON: no id could be read.
    customer.send_raw(Message::Text("{not json".into())).await;
    let e = customer.expect("error").await;
    assert_eq!((e["code"].as_str(), e["id"].is_null()), (Some("invalid_json"), true), "{e}");

    // Unknown type: the id is echoed.
    customer.send(&json!({"type": "dance", "id": "x1"})).await;
    let e = customer.reply_to("x1").await;
    assert_eq!((e["type"].as_str(), e["code"].as_str()), (Some("error"), Some("unknown_type")), "{e}");

    // A missing field.
    customer.send(&json!({"type": "message", "id": "x2"})).await;
    let e = customer.reply_to("x2").await;
    assert_eq!(e["code"], "invalid_command", "{e}");
    assert!(e["message"].as_str().unwrap().contains("text"), "the message names the field: {e}");

    // A missing id.
    customer.send(&json!({"type": "message", "text": "hi"})).await;
    let e = customer.expect("error").await;
    assert_eq!((e["code"].as_str(), e["id"].is_null()), (Some("invalid_command"), true), "{e}");

    // A wrong type of field (agent side).
    ann.send(&json!({"type": "reply", "id": "y1", "session": "seven", "text": "hi"})).await;
    assert_eq!(ann.reply_to("y1").await["code"], "invalid_command");

    // Binary frames are refused.
    customer.send_raw(Message::Binary(vec![1u8, 2, 3].into())).await;
    let e = customer.expect("error").await;
    assert_eq!(e["code"], "binary_not_supported", "{e}");

    // Acting on a session that is not yours, or does not exist.
    let (mut other, other_welcome) = Client::customer(addr, "refunds").await;
    let other_session = other_welcome["session"].as_u64().unwrap();
    ann.refused(json!({"type": "reply", "session": other_session, "text": "hi"}), "not_your_session").await;
    ann.refused(json!({"type": "close", "session": 999_999, "reason": "other"}), "unknown_session").await;
    // Rule errors: an empty message.
    customer.refused(json!({"type": "message", "text": ""}), "message_empty").await;

    // Both connections still work.
    customer.ok(json!({"type": "ping"})).await;
    customer.ok(json!({"type": "message", "text": "still here"})).await;
    assert_eq!(ann.expect("customer_message").await["text"], "still here");
    ann.ok(json!({"type": "reply", "session": session, "text": "me too"})).await;
    assert_eq!(customer.expect("agent_message").await["text"], "me too");
    other.ok(json!({"type": "ping"})).await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_frame_over_64_kib_closes_with_1009_and_the_server_lives_on() {
    let server = start(config(1.0, "")).await;
    let addr = server.public_addr;
    let (mut customer, _) = Client::customer(addr, "general").await;
    let (mut bystander, _) = Client::customer(addr, "general").await;

    let huge = json!({"type": "message", "id": "big", "text": "x".repeat(70 * 1024)}).to_string();
    customer.send_raw(Message::Text(huge.into())).await;
    let e = customer.expect("error").await;
    assert_eq!(e["code"], "message_too_big", "{e}");
    assert_eq!(customer.expect_close().await, Some(1009));

    // A frame just under the limit is fine (the router then applies its own message length rule).
    let (mut c2, _) = Client::customer(addr, "general").await;
    let near = json!({"type": "message", "id": "near", "text": "y".repeat(60 * 1024)}).to_string();
    c2.send_raw(Message::Text(near.into())).await;
    assert_eq!(c2.reply_to("near").await["code"], "message_too_long");

    bystander.ok(json!({"type": "ping"})).await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn bad_connection_requests_are_refused_with_a_code_and_1008() {
    let server = start(config(1.0, "")).await;
    let addr = server.public_addr;
    let cases = [
        ("/v1/ws/customer", Side::Customer, "missing_group"),
        ("/v1/ws/customer?group=nope", Side::Customer, "unknown_group"),
        ("/v1/ws/customer?token=0000&last_seq=3", Side::Customer, "invalid_token"),
        ("/v1/ws/customer?group=general&priority=extreme", Side::Customer, "invalid_command"),
        ("/v1/ws/agent", Side::Agent, "token_missing"),
        ("/v1/ws/agent?agent=mallory", Side::Agent, "unknown_agent"),
    ];
    for (path, side, code) in cases {
        let mut c = Client::connect(addr, path, side).await;
        let e = c.next().await;
        assert_eq!((e["type"].as_str(), e["code"].as_str()), (Some("error"), Some(code)), "{path}: {e}");
        assert!(e["id"].is_null());
        assert_eq!(c.expect_close().await, Some(1008), "{path}");
    }
    // The server is fine.
    let (mut customer, _) = Client::customer(addr, "general").await;
    customer.ok(json!({"type": "ping"})).await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_agent_connecting_twice_replaces_the_older_connection() {
    let server = start(config(1.0, "")).await;
    let addr = server.public_addr;
    let mut first = Client::available_agent(addr, "ann").await;
    let last = *first.seqs.last().unwrap();
    let mut second = Client::connect(addr, &format!("/v1/ws/agent?agent=ann&last_seq={last}"), Side::Agent).await;
    assert_eq!(second.expect("welcome").await["resumed"], true);
    let state = second.expect("state").await;
    assert_eq!(state["state"], "available", "a replacement is not a disconnect: {state}");
    let e = first.expect("error").await;
    assert_eq!(e["code"], "replaced");
    assert_eq!(first.expect_close().await, Some(1008));
    second.ok(json!({"type": "ping"})).await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn past_the_connection_limit_a_connection_is_refused_with_1013() {
    let mut cfg = config(1.0, "");
    cfg.gateway.max_connections = 1;
    let server = start(cfg).await;
    let addr = server.public_addr;
    let (mut first, _) = Client::customer(addr, "general").await;
    let mut second = Client::connect(addr, "/v1/ws/customer?group=general", Side::Customer).await;
    let e = second.next().await;
    assert_eq!(e["code"], "overloaded", "{e}");
    assert_eq!(second.expect_close().await, Some(1013));
    first.ok(json!({"type": "ping"})).await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn browsers_from_other_origins_are_refused_when_origins_are_configured() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut cfg = config(1.0, "");
    cfg.gateway.allowed_origins = vec!["https://shop.example".to_owned()];
    let server = start(cfg).await;
    let addr = server.public_addr;
    let with_origin = |origin: &'static str| {
        let mut request = format!("ws://{addr}/v1/ws/customer?group=general").into_client_request().unwrap();
        request.headers_mut().insert("Origin", origin.parse().unwrap());
        request
    };
    match tokio_tungstenite::connect_async(with_origin("https://evil.example")).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status(), 403),
        other => panic!("a foreign origin must be refused, got {:?}", other.map(|(_, r)| r.status())),
    }
    let (ws, _) = tokio_tungstenite::connect_async(with_origin("https://shop.example")).await.expect("allowed origin");
    drop(ws);
    // Non-browser clients send no Origin.
    let (mut customer, _) = Client::customer(addr, "general").await;
    customer.ok(json!({"type": "ping"})).await;
    server.shutdown().await.unwrap();
}
