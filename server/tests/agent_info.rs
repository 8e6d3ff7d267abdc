//! What an agent's `welcome` tells a console: the server's clock, the rule
//! thresholds and where a session may be transferred, all from the config.

mod common;

use std::time::Duration;

use common::{config, start, Client, Side};
use serde_json::json;

#[tokio::test]
async fn the_agent_welcome_carries_the_clock_the_thresholds_and_the_transfer_targets() {
    let rules = "[router.rules]\nreply_warning = \"45s\"\nreply_violation = \"2m\"\nhandoff_note_min_chars = 15\n";
    let server = start(config(60.0, rules)).await;
    let addr = server.public_addr;

    // Let the business clock run (60x: about 12 business seconds) between two
    // welcomes, so `now_ms` is clearly the running clock, not a constant.
    let mut sue = Client::connect(addr, "/v1/ws/agent?agent=sue", Side::Agent).await;
    let before = sue.expect("welcome").await["now_ms"].as_u64().unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut ann = Client::connect(addr, "/v1/ws/agent?agent=ann", Side::Agent).await;
    let welcome = ann.expect("welcome").await;
    ann.expect("state").await;

    assert_eq!(welcome["scale"], json!(60.0), "{welcome}");
    let now = welcome["now_ms"].as_u64().unwrap_or_else(|| panic!("now_ms: {welcome}"));
    assert!((11_000..120_000).contains(&(now - before)), "now_ms {before} then {now}, ~200 ms apart at 60x");
    assert_eq!(welcome["reply_warning_ms"], 45_000);
    assert_eq!(welcome["reply_violation_ms"], 120_000);
    assert_eq!(welcome["handoff_note_min_chars"], 15);
    assert_eq!(
        welcome["transfer_groups"],
        json!([
            {"id": "general", "name": "General"},
            {"id": "refunds", "name": "Refunds"},
            {"id": "logistics", "name": "Logistics"},
        ])
    );
    // Every other agent, with their groups; neither Ann herself nor the supervisor.
    assert_eq!(
        welcome["transfer_agents"],
        json!([
            {"id": "ben", "name": "Ben", "groups": ["general"]},
            {"id": "rita", "name": "Rita", "groups": ["refunds"]},
            {"id": "leo", "name": "Leo", "groups": ["logistics"]},
        ])
    );

    // The business clock moves on: a later welcome (a reconnect) says a later time.
    ann.close().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut again = Client::connect(addr, "/v1/ws/agent?agent=ann&last_seq=1", Side::Agent).await;
    let later = again.expect("welcome").await;
    assert_eq!(later["resumed"], true);
    assert!(later["now_ms"].as_u64().is_some_and(|t| t >= now + 5_000), "{later} after {now}");
}

#[tokio::test]
async fn the_handoff_note_minimum_in_the_welcome_is_the_one_the_router_enforces() {
    let server = start(config(1.0, "[router.rules]\nhandoff_note_min_chars = 15\n")).await;
    let addr = server.public_addr;
    let mut ann = Client::connect(addr, "/v1/ws/agent?agent=ann", Side::Agent).await;
    let min = ann.expect("welcome").await["handoff_note_min_chars"].as_u64().expect("handoff_note_min_chars");
    ann.expect("state").await;
    ann.ok(json!({"type": "set_availability", "state": "available"})).await;
    let (_customer, welcome) = Client::customer(addr, "general").await;
    let session = welcome["session"].as_u64().expect("session id");
    ann.expect("session_assigned").await;
    let _ben = Client::available_agent(addr, "ben").await;

    let to = json!({"kind": "agent", "id": "ben"});
    let note =
        |chars: u64| "Refund for order 1234 approved; please confirm".chars().take(chars as usize).collect::<String>();
    let short = note(min - 1);
    ann.refused(json!({"type": "transfer", "session": session, "to": to, "note": short}), "handoff_note_too_short")
        .await;
    let enough = note(min);
    ann.ok(json!({"type": "transfer", "session": session, "to": to, "note": enough})).await;
}
