//! Agent performance in the running server: an agent whose shift started 10
//! minutes ago (wall clock) signs in now and serves a chat; the supervisor's
//! `GET /v1/performance` shows the late sign-in, one customer served and the
//! service ratio so far. And who may see what.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use switchboard_records::{ShiftRow, Store, Target};
use switchboard_server::auth::Role;

const MIN: i64 = 60_000;

fn shift(agent: &str, now: i64) -> ShiftRow {
    ShiftRow {
        shift: format!("live-{agent}"),
        agent: agent.into(),
        day: "today".into(),
        starts_at: now - 10 * MIN,
        ends_at: now + 50 * MIN,
        groups: vec!["general".into()],
        level: "beginner".into(),
        source: "api".into(),
        created_by: Some("sam".into()),
        created_at: now,
        cancelled_at: None,
    }
}

/// Days around today on any calendar: the shift is in the range whatever the time zone.
fn range_around_today() -> String {
    let today = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let from = today.checked_sub(jiff::Span::new().days(2)).unwrap();
    let to = today.checked_add(jiff::Span::new().days(2)).unwrap();
    format!("from={from}&to={to}")
}

#[tokio::test]
async fn a_late_agent_serving_a_chat_shows_late_served_and_the_ratio_so_far() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(1.0, "");
    config.storage.data_dir = dir.path().to_owned();
    let server = start(config).await;
    let store =
        Store::new(&Target::Sqlite(dir.path().join("records.sqlite3").to_string_lossy().into_owned()), "t").unwrap();
    // The server migrates the same file at start: a second migrator racing it may fail once.
    let mut added = store.add_shift(&shift("ann", switchboard_records::now_ms())).await;
    for _ in 0..50 {
        if added.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        added = store.add_shift(&shift("ann", switchboard_records::now_ms())).await;
    }
    assert!(added.unwrap());

    let mut ann = Client::available_agent(server.public_addr, "ann").await;
    let (mut customer, _) = Client::customer(server.public_addr, "general").await;
    customer.expect("assigned").await;
    ann.expect("session_assigned").await;

    let supervisor = token_with_role("sue", Role::Supervisor);
    let path = format!("/v1/performance?{}&by=shift&agent=ann", range_around_today());
    let mut period = Value::Null;
    for _ in 0..100 {
        let answer = http_get_as(server.public_addr, &path, Some(&supervisor)).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        let body: Value = serde_json::from_str(&answer.body).unwrap();
        period = body["agents"][0]["periods"][0].clone();
        if period["assigned_in_shifts"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(period["assigned_in_shifts"], 1, "served 1: {period}");
    assert_eq!((period["late"].as_u64(), period["absent"].as_u64()), (Some(1), Some(0)), "{period}");
    assert_eq!(period["shift"]["over"], false);
    let ratio = period["service_ratio_bp"].as_u64().expect("a ratio so far");
    assert!(ratio < 1000, "10 minutes late into a shift of 10 minutes so far: {ratio}");
    let missed: Vec<&str> = period["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["met"] == false)
        .map(|c| c["figure"].as_str().unwrap())
        .collect();
    assert!(missed.contains(&"punctuality") && missed.contains(&"service_ratio_bp"), "{missed:?}");
    assert_eq!(period["met"], false);

    customer.close().await;
    ann.close().await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn agents_see_only_their_own_figures_and_bad_requests_are_named() {
    let server = start(config(1.0, "")).await;
    let addr = server.public_addr;
    let ann = token_for("ann");
    let own = http_get_as(addr, "/v1/performance", Some(&ann)).await;
    assert_eq!(own.status, 200, "{}", own.body);
    let body: Value = serde_json::from_str(&own.body).unwrap();
    assert_eq!(body["agents"], json!([{"agent": "ann", "periods": []}]));
    let cases = [
        (Some(ann.as_str()), "/v1/performance?agent=ben", 403, "supervisors_only"),
        (None, "/v1/performance", 401, "token_missing"),
        (Some(ann.as_str()), "/v1/performance?by=week", 400, "invalid_request"),
        (Some(ann.as_str()), "/v1/performance?from=2026-11-30&to=2026-11-01", 400, "invalid_request"),
    ];
    for (token, path, status, code) in cases {
        let answer = http_get_as(addr, path, token).await;
        assert_eq!(answer.status, status, "{path}: {}", answer.body);
        let body: Value = serde_json::from_str(&answer.body).unwrap();
        assert_eq!(body["code"], code, "{path}");
    }
    server.shutdown().await.unwrap();
}

/// One chat served by Ann, closed and rated `rating` by the customer.
async fn rated_chat(addr: std::net::SocketAddr, rating: &str) {
    let mut ann = Client::available_agent(addr, "ann").await;
    let (mut customer, welcome) = Client::customer(addr, "general").await;
    let session = welcome["session"].as_u64().unwrap();
    customer.expect("assigned").await;
    ann.expect("session_assigned").await;
    ann.ok(json!({"type": "close", "session": session, "reason": "resolved"})).await;
    customer.expect("closed").await;
    customer.ok(json!({"type": "rate", "rating": rating})).await;
    customer.close().await;
    ann.close().await;
}

#[tokio::test]
async fn group_rating_gauges_come_from_todays_closed_chats_per_group_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(1.0, "[performance]\nmetrics_every = \"100ms\"");
    config.storage.data_dir = dir.path().to_owned();
    let server = start(config).await;
    let satisfied = "switchboard_group_satisfaction_ratio{group=\"general\"}";
    let dissatisfied = "switchboard_group_dissatisfaction_ratio{group=\"general\"}";
    // Nothing rated yet: nothing to measure, the target is met.
    wait_for_sample(server.admin_addr, satisfied, 1.0).await;
    wait_for_sample(server.admin_addr, dissatisfied, 0.0).await;

    rated_chat(server.public_addr, "dissatisfied").await;
    rated_chat(server.public_addr, "satisfied").await;
    rated_chat(server.public_addr, "satisfied").await;
    rated_chat(server.public_addr, "satisfied").await;
    // Records are written moments after; the gauges follow on their next tick.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let body = loop {
        let (_, body) = http_get(server.admin_addr, "/metrics").await;
        if sample(&body, dissatisfied) == Some(0.25) || tokio::time::Instant::now() > deadline {
            break body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(sample(&body, dissatisfied), Some(0.25), "{body}");
    assert_eq!(sample(&body, satisfied), Some(0.75), "{body}");
    // Another group with no chats reads as nothing to measure; no series names an agent.
    assert_eq!(sample(&body, "switchboard_group_satisfaction_ratio{group=\"logistics\"}"), Some(1.0), "{body}");
    assert!(!body.lines().any(|l| l.starts_with("switchboard_group_") && l.contains("ann")), "{body}");
    server.shutdown().await.unwrap();
}
