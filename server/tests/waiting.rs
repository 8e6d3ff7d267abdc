//! What a waiting customer is told, over real WebSockets: whether anyone can
//! take them (and when that changes), the wait estimate, overflow to another
//! group, and a queue priority that only the host site can give.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use switchboard_protocol::common::Priority;
use switchboard_server::gateway::identity::{identifier_hash, priority_hash};
use switchboard_server::router::GroupId;

const SECRET: &str = "waiting-test-identity-secret";

/// The next `queued` and what it says about the wait.
async fn next_estimate(c: &mut Client) -> (Value, Value) {
    let queued = c.expect("queued").await;
    (queued["estimated_wait_ms"].clone(), queued["estimate_basis"].clone())
}

#[tokio::test]
async fn a_customer_hears_when_nobody_can_serve_and_when_someone_can_again() {
    let server = start(config(1.0, "")).await;
    let addr = server.public_addr;
    let mut ben = Client::available_agent(addr, "ben").await; // general, capacity 1
    let (_first, _) = Client::customer(addr, "general").await;
    ben.expect("session_assigned").await;

    // Ben is busy, not away: the customer waits with a number.
    let (mut waiting, _) = Client::customer(addr, "general").await;
    let (wait, basis) = next_estimate(&mut waiting).await;
    assert!(wait.as_u64().is_some_and(|ms| ms > 0), "{wait}");
    assert_eq!(basis, "assumed", "nothing measured yet");

    // Ben goes on a break: nobody can take the customer.
    ben.ok(json!({"type": "set_availability", "state": "break", "reason": "lunch"})).await;
    assert_eq!(next_estimate(&mut waiting).await, (Value::Null, json!("unknown")));
    let nobody = waiting.expect("no_agent_online").await;
    assert_eq!(nobody["group"], "general");

    // Ann connects, not yet available: still nobody. Then available: someone.
    let mut ann = Client::agent(addr, "ann").await;
    waiting.expect_none("agent_online", Duration::from_millis(200)).await;
    ann.ok(json!({"type": "set_availability", "state": "available"})).await;
    // Ann has free seats: she takes the customer at once.
    assert_eq!(waiting.expect("assigned").await["agent_name"], "Ann");

    // Another customer waits for Ann, Ben back: the counterpart notice.
    ann.ok(json!({"type": "set_availability", "state": "break", "reason": "tea"})).await;
    let (mut late, _) = Client::customer(addr, "general").await;
    assert_eq!(next_estimate(&mut late).await.1, "unknown");
    late.expect("no_agent_online").await;
    ben.ok(json!({"type": "set_availability", "state": "available"})).await;
    late.expect("agent_online").await;
    let (wait, basis) = next_estimate(&mut late).await;
    assert!(wait.as_u64().is_some(), "a number again: {wait}");
    assert_eq!(basis, "assumed");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_overflowing_customer_is_told_and_the_agent_sees_where_the_chat_came_from() {
    // Refunds overflows to general after one business minute (a second at this clock).
    let mut cfg = config(60.0, "");
    cfg.router.groups[1].overflow_to = vec![GroupId::new("general")];
    cfg.router.groups[1].overflow_after = Duration::from_secs(60);
    let server = start(cfg).await;
    let addr = server.public_addr;
    let mut ben = Client::available_agent(addr, "ben").await; // general, capacity 1
    let (_busy, _) = Client::customer(addr, "general").await;
    let busy = ben.expect("session_assigned").await["session"]["session"].clone();

    let (mut refunds, _) = Client::customer(addr, "refunds").await;
    let overflowed = refunds.expect("overflowed").await;
    assert_eq!(overflowed["group"], "refunds");
    assert_eq!(overflowed["to_groups"], json!([{"id": "general", "name": "General"}]));

    // Ben ends his chat and takes the refunds customer through overflow.
    ben.ok(json!({"type": "close", "session": busy, "reason": "resolved"})).await;
    assert_eq!(refunds.expect("assigned").await["agent_name"], "Ben");
    let view = ben.expect("session_assigned").await["session"].clone();
    assert_eq!(view["group"], "refunds", "the chat stays refunds': {view}");
    assert_eq!(view["overflowed_from"], "refunds", "{view}");
    server.shutdown().await.unwrap();
}

fn customer_path(identifier: &str, priority: &str, hash: &str) -> String {
    let id_hash = identifier_hash(SECRET, identifier);
    format!(
        "/v1/ws/customer?group=general&identifier={identifier}&identifier_hash={id_hash}\
         &priority={priority}&priority_hash={hash}"
    )
}

async fn queued_at(addr: std::net::SocketAddr, path: &str) -> (Client, u64) {
    let mut c = Client::connect(addr, path, Side::Customer).await;
    c.expect("welcome").await;
    let position = c.expect("queued").await["position"].as_u64().unwrap();
    (c, position)
}

/// `?priority=urgent` from anyone jumped the queue. Now only a priority the
/// host site signed for a verified customer counts.
#[tokio::test]
async fn only_a_priority_the_host_site_signed_moves_a_customer_up() {
    let server = start(config(1.0, &format!("[customers]\nidentity_secret = \"{SECRET}\"\n"))).await;
    let addr = server.public_addr;
    let mut ben = Client::available_agent(addr, "ben").await; // capacity 1
    let (_busy, _) = Client::customer(addr, "general").await;
    let busy = ben.expect("session_assigned").await["session"]["session"].clone();

    let (_plain, plain) = queued_at(addr, "/v1/ws/customer?group=general").await;
    assert_eq!(plain, 1);
    // Unsigned: ignored, anonymous or verified.
    let (_anonymous, anonymous) = queued_at(addr, "/v1/ws/customer?group=general&priority=urgent").await;
    assert_eq!(anonymous, 2, "an unsigned priority has no effect");
    let verified_unsigned = format!(
        "/v1/ws/customer?group=general&identifier=user-7&identifier_hash={}&priority=urgent",
        identifier_hash(SECRET, "user-7")
    );
    let (_unsigned, unsigned) = queued_at(addr, &verified_unsigned).await;
    assert_eq!(unsigned, 3, "a verified customer's unsigned priority has no effect either");
    // Signed by the site: first in line.
    let signed = customer_path("user-42", "urgent", &priority_hash(SECRET, "user-42", Priority::Urgent));
    let (mut urgent, position) = queued_at(addr, &signed).await;
    assert_eq!(position, 1, "a signed urgent priority goes first");

    ben.ok(json!({"type": "close", "session": busy, "reason": "resolved"})).await;
    urgent.expect("assigned").await;
    let view = ben.expect("session_assigned").await["session"].clone();
    assert_eq!((view["customer_id"].as_str(), view["priority"].as_str()), (Some("user-42"), Some("urgent")));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_priority_signature_that_does_not_hold_is_refused_with_its_code() {
    let server = start(config(1.0, &format!("[customers]\nidentity_secret = \"{SECRET}\"\n"))).await;
    let addr = server.public_addr;
    let high = priority_hash(SECRET, "user-42", Priority::High);
    let paths = [
        customer_path("user-42", "urgent", &high),
        customer_path("user-42", "urgent", &priority_hash(SECRET, "user-43", Priority::Urgent)),
        customer_path("user-42", "urgent", &priority_hash("a-guessed-secret-of-16+", "user-42", Priority::Urgent)),
        customer_path("user-42", "urgent", "not-hex"),
        format!("/v1/ws/customer?group=general&priority=high&priority_hash={high}"),
    ];
    for path in paths {
        let mut c = Client::connect(addr, &path, Side::Customer).await;
        let error = c.next().await;
        assert_eq!(
            (error["type"].as_str(), error["code"].as_str()),
            (Some("error"), Some("priority_invalid")),
            "{path}"
        );
        assert_eq!(c.expect_close().await, Some(1008), "{path}");
    }
    let metrics = http_get(server.admin_addr, "/metrics").await.1;
    assert_eq!(sample(&metrics, r#"switchboard_protocol_errors_total{code="priority_invalid"}"#), Some(5.0));
    server.shutdown().await.unwrap();
}
