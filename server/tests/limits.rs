//! The gateway's limits against a real server on loopback: allowed origins,
//! the per-connection command rate limit and flood close, the per-IP
//! connection cap, the handshake timeout, and verified customers.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use switchboard_server::gateway::identity::identifier_hash;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A WebSocket handshake by hand, so the test controls the `Origin` header
/// and reads a refusal's body: the status, and the body when there is one.
async fn handshake(addr: SocketAddr, path: &str, origin: Option<&str>) -> (u16, Option<Value>) {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let origin = origin.map(|o| format!("Origin: {o}\r\n")).unwrap_or_default();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{origin}\r\n"
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    let read = async {
        loop {
            let n = tcp.read(&mut buf).await.unwrap_or(0);
            response.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&response).into_owned();
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text[..end]
                    .lines()
                    .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned()))
                    .and_then(|v| v.parse::<usize>().ok())
                    .unwrap_or(0);
                if n == 0 || text.len() >= end + 4 + length {
                    return text;
                }
            } else if n == 0 {
                return text;
            }
        }
    };
    let text = tokio::time::timeout(WAIT, read).await.expect("a handshake answer");
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").and_then(|(_, b)| serde_json::from_str(b).ok());
    (status, body)
}

#[tokio::test]
async fn origins_match_exactly_as_documented() {
    let server = start(config(1.0, "[gateway]\nallowed_origins = [\"https://shop.example\"]\n")).await;
    let addr = server.public_addr;
    let cases = [
        (Some("https://shop.example"), 101),
        (Some("https://shop.example:443"), 101),
        // Hosts and schemes are case-insensitive (RFC 3986): the same origin.
        (Some("https://SHOP.EXAMPLE"), 101),
        // Non-browser clients send no Origin (and could send any): allowed.
        (None, 101),
        (Some("http://shop.example"), 403),
        (Some("https://shop.example:8443"), 403),
        (Some("https://evil-shop.example"), 403),
        (Some("https://shop.example.evil.com"), 403),
        (Some("https://evil.example"), 403),
        (Some("null"), 403),
    ];
    for (origin, expected) in cases {
        let (status, body) = handshake(addr, "/v1/ws/customer?group=general", origin).await;
        assert_eq!(status, expected, "Origin {origin:?}");
        if expected == 403 {
            let body = body.unwrap_or_else(|| panic!("a JSON body for {origin:?}"));
            assert_eq!(body["code"], "origin_not_allowed", "{body}");
            assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
        }
    }
    // The agent endpoint checks the same.
    let (status, _) = handshake(addr, "/v1/ws/agent?agent=ann", Some("https://evil-shop.example")).await;
    assert_eq!(status, 403);
    let (metrics_status, metrics) = http_get(server.admin_addr, "/metrics").await;
    assert_eq!(metrics_status, 200);
    assert!(sample(&metrics, "switchboard_protocol_errors_total{code=\"origin_not_allowed\"}").unwrap() >= 7.0);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn any_origin_only_when_said_so() {
    let server = start(config(1.0, "[gateway]\nallow_any_origin = true\nallowed_origins = []\n")).await;
    let (status, _) =
        handshake(server.public_addr, "/v1/ws/customer?group=general", Some("https://anywhere.example")).await;
    assert_eq!(status, 101);
    server.shutdown().await.unwrap();
}

const RATE: &str = "[gateway]\nmessage_rate = 2\nmessage_burst = 10\nflood_refusals = 30\nflood_window = \"2s\"\n";

#[tokio::test]
async fn a_burst_beyond_the_bucket_is_refused_and_a_flood_is_closed_while_other_chats_go_on() {
    let server = start(config(1.0, RATE)).await;
    let addr = server.public_addr;
    let mut ann = Client::available_agent(addr, "ann").await;
    let (mut flooder, welcome) = Client::customer(addr, "general").await;
    let token = welcome["token"].as_str().unwrap().to_owned();
    flooder.expect("assigned").await;
    ann.expect("session_assigned").await;

    // 15 at once: the bucket holds 10 (at most one more refills meanwhile).
    for i in 0..15 {
        flooder.send(&json!({"type": "ping", "id": format!("p{i}")})).await;
    }
    let mut acked = 0;
    let mut refused = Vec::new();
    for i in 0..15 {
        let reply = flooder.reply_to(&format!("p{i}")).await;
        match reply["type"].as_str() {
            Some("ack") => acked += 1,
            Some("error") => {
                assert_eq!(reply["code"], "rate_limited", "{reply}");
                refused.push(i);
            }
            _ => panic!("{reply}"),
        }
    }
    assert!((10..=11).contains(&acked), "{acked} acked");
    assert!(refused.iter().all(|&i| i >= 10), "the burst passes first: refused {refused:?}");

    // A chat that was going on before the flood, from the same address.
    let mut ben = Client::available_agent(addr, "ben").await;
    let (mut other, _) = Client::customer(addr, "general").await;
    other.expect("assigned").await;
    let session = ben.expect("session_assigned").await["session"]["session"].as_u64().unwrap();

    // A customer sending 200 more at once is flooding: closed with 1008.
    for i in 0..200 {
        flooder.send(&json!({"type": "message", "id": format!("m{i}"), "text": "spam"})).await;
    }
    // expect_close keeps the frames it passes: the last error before the close says why.
    assert_eq!(flooder.expect_close().await, Some(1008));
    let closed = std::time::Instant::now();
    let mut last_error = Value::Null;
    while flooder.has_pending("error") {
        let e = flooder.expect("error").await;
        if e["id"].is_null() {
            last_error = e;
        }
    }
    assert_eq!(last_error["code"], "rate_limited", "{last_error}");

    // Another customer's chat is not slowed or refused.
    other.ok(json!({"type": "message", "text": "hello"})).await;
    assert_eq!(ben.expect("customer_message").await["text"], "hello");
    ben.ok(json!({"type": "reply", "session": session, "text": "hi"})).await;
    assert_eq!(other.expect("agent_message").await["text"], "hi");

    let metrics =
        wait_for_sample(server.admin_addr, "switchboard_flood_disconnects_total{role=\"customer\"}", 1.0).await;
    assert!(sample(&metrics, "switchboard_rate_limited_total{role=\"customer\"}").unwrap() >= 20.0);

    // No new customer connection from the flooder's address within flood_window, a resume
    // or a new session (else every reconnect would bring a fresh burst); afterwards as usual.
    let resume = format!("/v1/ws/customer?token={token}&last_seq=0");
    for path in [resume.as_str(), "/v1/ws/customer?group=general"] {
        let (status, body) = handshake(addr, path, None).await;
        assert_eq!(status, 429, "{path} {:?} after the flood close", closed.elapsed());
        assert_eq!(body.unwrap()["code"], "rate_limited");
    }
    tokio::time::sleep(Duration::from_secs(2).saturating_sub(closed.elapsed())).await;
    let mut back = Client::connect(addr, &resume, Side::Customer).await;
    assert_eq!(back.expect("welcome").await["resumed"], true, "after the window the session resumes");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_per_ip_cap_refuses_before_the_upgrade_and_frees_a_slot_on_close() {
    let server = start(config(1.0, "[gateway]\nmax_connections_per_ip = 2\n")).await;
    let addr = server.public_addr;
    let (first, _) = Client::customer(addr, "general").await;
    let (mut second, _) = Client::customer(addr, "general").await;
    let (status, body) = handshake(addr, "/v1/ws/customer?group=general", None).await;
    assert_eq!(status, 429);
    let body = body.expect("a JSON body");
    assert_eq!(body["code"], "too_many_connections", "{body}");
    let (status, _) = handshake(addr, "/v1/ws/agent?agent=ann", None).await;
    assert_eq!(status, 429, "agents count too");
    second.ok(json!({"type": "ping"})).await;

    first.close().await;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (status, _) = handshake(addr, "/v1/ws/customer?group=general", None).await;
        if status == 101 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the slot was never freed (status {status})");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.shutdown().await.unwrap();
}

/// Reads until the server closes the connection; how long that took.
async fn closed_after(mut tcp: TcpStream) -> Duration {
    let start = tokio::time::Instant::now();
    let mut buf = [0u8; 1024];
    let read = async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(WAIT, read).await.expect("the server closes a stalled handshake");
    start.elapsed()
}

#[tokio::test]
async fn a_handshake_that_stalls_is_dropped() {
    let server = start(config(1.0, "[gateway]\nhandshake_timeout = \"500ms\"\n")).await;
    let addr = server.public_addr;

    let mut partial = TcpStream::connect(addr).await.unwrap();
    partial.write_all(b"GET /v1/ws/customer?group=gen").await.unwrap();
    let silent = TcpStream::connect(addr).await.unwrap();
    let mut headers_unfinished = TcpStream::connect(addr).await.unwrap();
    headers_unfinished.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();

    for (what, tcp) in [("partial request line", partial), ("silent", silent), ("no blank line", headers_unfinished)] {
        let took = closed_after(tcp).await;
        assert!(took < Duration::from_secs(3), "{what}: closed after {took:?}");
    }
    // A real client is not affected, and its WebSocket outlives the timeout.
    let (mut customer, _) = Client::customer(addr, "general").await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    customer.ok(json!({"type": "ping"})).await;
    server.shutdown().await.unwrap();
}

const SECRET: &str = "limits-test-identity-secret";

fn verified_path(identifier: &str, hash: &str) -> String {
    format!("/v1/ws/customer?group=general&name=Wei&identifier={identifier}&identifier_hash={hash}")
}

#[tokio::test]
async fn a_verified_customer_reaches_the_agent_with_id_and_mark() {
    let server = start(config(1.0, &format!("[customers]\nidentity_secret = \"{SECRET}\"\n"))).await;
    let addr = server.public_addr;
    let mut ann = Client::available_agent(addr, "ann").await;

    let hash = identifier_hash(SECRET, "user-42");
    let mut verified = Client::connect(addr, &verified_path("user-42", &hash), Side::Customer).await;
    verified.expect("welcome").await;
    let assigned = ann.expect("session_assigned").await;
    assert_eq!(assigned["session"]["customer_id"], "user-42", "{assigned}");
    assert_eq!(assigned["session"]["verified"], true, "{assigned}");
    assert_eq!(assigned["session"]["customer_name"], "Wei");

    let (mut unverified, _) = Client::customer(addr, "general").await;
    let assigned = ann.expect("session_assigned").await;
    assert_eq!(assigned["session"]["verified"], false, "{assigned}");
    assert!(assigned["session"].get("customer_id").is_none(), "{assigned}");
    unverified.ok(json!({"type": "ping"})).await;

    // An agent who reconnects sees the same in `state`.
    drop(ann);
    let mut ann = Client::connect(addr, "/v1/ws/agent?agent=ann", Side::Agent).await;
    ann.expect("welcome").await;
    let state = ann.expect("state").await;
    let sessions = state["sessions"].as_array().unwrap();
    assert!(sessions.iter().any(|s| s["customer_id"] == "user-42" && s["verified"] == true), "{state}");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_wrong_identifier_hash_is_refused_and_the_connection_closed() {
    let server = start(config(1.0, &format!("[customers]\nidentity_secret = \"{SECRET}\"\n"))).await;
    let addr = server.public_addr;
    let for_someone_else = identifier_hash(SECRET, "user-43");
    let forged = identifier_hash("a-guessed-secret-of-16+", "user-42");
    let paths = [
        verified_path("user-42", &for_someone_else),
        verified_path("user-42", &forged),
        verified_path("user-42", "not-hex"),
        "/v1/ws/customer?group=general&identifier=user-42".to_owned(),
    ];
    for path in paths {
        let mut c = Client::connect(addr, &path, Side::Customer).await;
        let error = c.next().await;
        assert_eq!(error["type"], "error", "{path}: {error}");
        assert_eq!(error["code"], "identity_invalid", "{path}: {error}");
        assert_eq!(c.expect_close().await, Some(1008), "{path}");
    }
    server.shutdown().await.unwrap();
}
