//! The records store in the running server, over real WebSockets: a chat
//! closes and its record appears (SQLite in the data_dir); the lookups are
//! for supervisors only; PostgreSQL cut off during a run (a proxy in front
//! of it) does not stop routing and the records arrive once it returns; a
//! replay of the whole log at start-up writes nothing twice.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use switchboard_records::testing::{CuttableProxy, PgSchema};
use switchboard_server::auth::Role;

/// Long enough for a write retried after the longest backoff (5 s).
const RECORD_WAIT: Duration = Duration::from_secs(20);

/// A chat from join to rating: Carla asks, Ann answers and closes it as
/// resolved without asking (a `close_unconfirmed` flag), Carla rates it.
async fn chat_to_the_end(addr: SocketAddr, customer_name: &str) -> u64 {
    let mut ann = Client::available_agent(addr, "ann").await;
    let path = format!("/v1/ws/customer?group=general&name={customer_name}");
    let mut customer = Client::connect(addr, &path, Side::Customer).await;
    let session = customer.expect("welcome").await["session"].as_u64().unwrap();
    customer.expect("assigned").await;
    ann.expect("session_assigned").await;
    customer.ok(json!({"type": "message", "text": "My parcel never arrived"})).await;
    ann.expect("customer_message").await;
    ann.ok(json!({"type": "reply", "session": session, "text": "Let me check"})).await;
    customer.expect("agent_message").await;
    ann.ok(json!({"type": "close", "session": session, "reason": "resolved"})).await;
    customer.expect("closed").await;
    customer.ok(json!({"type": "rate", "rating": "dissatisfied"})).await;
    customer.close().await;
    ann.close().await;
    session
}

fn supervisor() -> String {
    token_for("sue")
}

/// Polls the chat's record until `done` holds (records are written moments after the close).
async fn wait_for_chat(admin: SocketAddr, session: u64, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + RECORD_WAIT;
    let path = format!("/v1/admin/records/chats/{session}");
    loop {
        let answer = http_get_as(admin, &path, Some(&supervisor())).await;
        let chat = answer.json();
        if answer.status == 200 && done(&chat) {
            return chat;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "chat {session} never arrived as expected; last: {} {}",
            answer.status,
            answer.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn rated(chat: &Value) -> bool {
    chat["rating"] == "dissatisfied"
}

async fn sessions_found(admin: SocketAddr, query: &str) -> Vec<u64> {
    let answer = http_get_as(admin, &format!("/v1/admin/records/chats?{query}"), Some(&supervisor())).await;
    assert_eq!(answer.status, 200, "{query}: {}", answer.body);
    answer.json()["chats"].as_array().unwrap().iter().map(|c| c["session"].as_u64().unwrap()).collect()
}

#[tokio::test]
async fn a_closed_chat_is_in_the_records_with_its_transcript_flags_and_rating() {
    let server = start(config(600.0, "")).await;
    let session = chat_to_the_end(server.public_addr, "Carla").await;
    let chat = wait_for_chat(server.admin_addr, session, rated).await;
    assert_eq!(chat["customer_name"], "Carla");
    assert_eq!((chat["group"].as_str(), chat["agent"].as_str()), (Some("general"), Some("ann")));
    assert_eq!(chat["agents"], json!(["ann"]));
    assert_eq!(chat["close_reason"], "agent_resolved");
    assert_eq!(chat["flags"], json!(["close_unconfirmed"]));
    assert_eq!(chat["flag_details"][0]["category"], "agent_close");
    let lines: Vec<(&str, &str)> = chat["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["from"].as_str().unwrap(), l["text"].as_str().unwrap()))
        .collect();
    assert_eq!(lines, [("customer", "My parcel never arrived"), ("agent", "Let me check")]);
    let (opened, assigned, closed) = (
        chat["opened_at"].as_i64().unwrap(),
        chat["assigned_at"].as_i64().unwrap(),
        chat["closed_at"].as_i64().unwrap(),
    );
    assert!(opened <= assigned && assigned <= closed, "{chat}");
    let now = switchboard_records::now_ms();
    assert!((now - 60_000..=now).contains(&closed), "wall-clock times: closed {closed}, now {now}");

    let admin = server.admin_addr;
    for query in
        ["agent=ann", "customer=Carla", "flag=agent_close", "flag=close_unconfirmed", "group=general&agent=ann"]
    {
        assert_eq!(sessions_found(admin, query).await, [session], "{query}");
    }
    let today = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
    assert_eq!(sessions_found(admin, &format!("from={today}&to={today}")).await, [session]);
    let tomorrow = today.tomorrow().unwrap();
    for query in [
        "group=refunds".to_owned(),
        "agent=ben".to_owned(),
        "flag=abusive_break".to_owned(),
        format!("from={tomorrow}"),
    ] {
        assert!(sessions_found(admin, &query).await.is_empty(), "{query}");
    }
    let metrics = wait_for_sample(admin, "switchboard_records_written_total{kind=\"rating\"}", 1.0).await;
    assert_eq!(sample(&metrics, "switchboard_records_written_total{kind=\"chat\"}"), Some(1.0));
    assert_eq!(sample(&metrics, "switchboard_records_healthy"), Some(1.0));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn lookups_are_for_supervisors_and_admins_and_bad_requests_get_a_code() {
    let server = start(config(600.0, "[[router.agents]]\nid = \"ada\"\nrole = \"admin\"\ngroups = []")).await;
    let admin = server.admin_addr;
    let path = "/v1/admin/records/chats";
    let cases = [
        (None, path.to_owned(), 401, "token_missing"),
        (Some(token_for("ann")), path.to_owned(), 403, "forbidden"),
        (Some(token_with_role("ada", Role::Admin)), format!("{path}?limit=0"), 400, "invalid_request"),
        (Some(supervisor()), format!("{path}?from=last-week"), 400, "invalid_request"),
        (Some(supervisor()), format!("{path}?colour=red"), 400, "invalid_request"),
        (Some(supervisor()), format!("{path}/abc"), 400, "invalid_request"),
        (Some(supervisor()), format!("{path}/999"), 404, "chat_not_found"),
    ];
    for (token, path, status, code) in cases {
        let answer = http_get_as(admin, &path, token.as_deref()).await;
        assert_eq!((answer.status, answer.json()["code"].as_str()), (status, Some(code)), "{path}: {}", answer.body);
        assert!(answer.json()["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let answer = http_get_as(admin, path, Some(&token_with_role("ada", Role::Admin))).await;
    assert_eq!((answer.status, answer.json()), (200, json!({"chats": []})));
    server.shutdown().await.unwrap();
}

/// The supervisor view cannot reach the admin port: the public listener
/// answers the same lookups, for supervisors and admins only.
#[tokio::test]
async fn the_public_listener_has_the_same_lookups_for_supervisors() {
    let server = start(config(600.0, "")).await;
    let session = chat_to_the_end(server.public_addr, "Carla").await;
    wait_for_chat(server.admin_addr, session, rated).await;
    let public = server.public_addr;
    let sue = supervisor();
    for query in ["agent=ann", "flag=close_unconfirmed", "customer=Carla&group=general"] {
        let answer = http_get_as(public, &format!("/v1/records/chats?{query}"), Some(&sue)).await;
        let found: Vec<u64> =
            answer.json()["chats"].as_array().unwrap().iter().map(|c| c["session"].as_u64().unwrap()).collect();
        assert_eq!((answer.status, found), (200, vec![session]), "{query}: {}", answer.body);
    }
    let one = http_get_as(public, &format!("/v1/records/chats/{session}"), Some(&sue)).await;
    assert_eq!((one.status, one.json()["transcript"][0]["text"].as_str()), (200, Some("My parcel never arrived")));
    let cases = [
        (None, "/v1/records/chats".to_owned(), 401, "token_missing"),
        (Some(token_for("ann")), "/v1/records/chats".to_owned(), 403, "supervisors_only"),
        (Some(token_for("ann")), format!("/v1/records/chats/{session}"), 403, "supervisors_only"),
        (Some(sue.clone()), "/v1/records/chats?flag=rude".to_owned(), 400, "invalid_request"),
        (Some(sue.clone()), "/v1/records/chats/999".to_owned(), 404, "chat_not_found"),
    ];
    for (token, path, status, code) in cases {
        let answer = http_get_as(public, &path, token.as_deref()).await;
        assert_eq!((answer.status, answer.json()["code"].as_str()), (status, Some(code)), "{path}: {}", answer.body);
    }
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn records_off_means_no_lookups_and_no_writer() {
    let server = start(config(600.0, "[records]\nenabled = false")).await;
    for (addr, path) in [(server.admin_addr, "/v1/admin/records/chats"), (server.public_addr, "/v1/records/chats")] {
        let answer = http_get_as(addr, path, Some(&supervisor())).await;
        assert_eq!((answer.status, answer.json()["code"].as_str()), (404, Some("records_disabled")), "{path}");
    }
    chat_to_the_end(server.public_addr, "Carla").await;
    let (_, metrics) = http_get(server.admin_addr, "/metrics").await;
    assert!(!metrics.contains("switchboard_records_written_total{"), "no writer, no series");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn postgres_cut_off_mid_run_routing_goes_on_and_the_records_arrive_when_it_returns() {
    let schema = PgSchema::create().await;
    let proxy = CuttableProxy::to_postgres().await;
    let extra = format!("[records]\nurl = \"{}\"", schema.url_via(proxy.addr));
    let server = start(config(600.0, &extra)).await;
    let (public, admin) = (server.public_addr, server.admin_addr);
    let before = chat_to_the_end(public, "Carla").await;
    wait_for_chat(admin, before, rated).await;

    proxy.cut();
    // Routing does not wait for the records: the whole chat goes through (each step is checked).
    let during = chat_to_the_end(public, "Dora").await;
    wait_for_sample(admin, "switchboard_records_healthy", 0.0).await;
    let (_, metrics) = http_get(admin, "/metrics").await;
    assert!(sample(&metrics, "switchboard_records_backlog").is_some_and(|b| b > 0.0), "records wait: {metrics}");
    let answer = http_get_as(admin, &format!("/v1/admin/records/chats/{during}"), Some(&supervisor())).await;
    assert_eq!((answer.status, answer.json()["code"].as_str()), (503, Some("records_unavailable")));

    proxy.restore();
    let chat = wait_for_chat(admin, during, rated).await;
    assert_eq!(chat["customer_name"], "Dora");
    assert_eq!(chat["flags"], json!(["close_unconfirmed"]));
    let metrics = wait_for_sample(admin, "switchboard_records_backlog", 0.0).await;
    assert_eq!(sample(&metrics, "switchboard_records_healthy"), Some(1.0));
    for reason in ["queue_full", "spill_full", "spill_failed", "rejected", "shutdown"] {
        let series = format!("switchboard_records_dropped_total{{reason=\"{reason}\"}}");
        assert_eq!(sample(&metrics, &series), Some(0.0), "{series}");
    }
    assert!(sample(&metrics, "switchboard_records_errors_total{operation=\"write\"}").is_some_and(|e| e > 0.0));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn replaying_the_whole_log_at_start_up_writes_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(600.0, "");
    cfg.storage.data_dir = dir.path().join("data");
    let server = start(cfg.clone()).await;
    let session = chat_to_the_end(server.public_addr, "Carla").await;
    let first = wait_for_chat(server.admin_addr, session, rated).await;
    server.shutdown().await.unwrap();
    // As after a crash long after the first snapshot: only the empty state's snapshot is left.
    for entry in std::fs::read_dir(cfg.storage.data_dir.join("snapshots")).unwrap() {
        let path = entry.unwrap().path();
        if !path.file_name().unwrap().to_string_lossy().starts_with("00000000000000000000") {
            std::fs::remove_file(path).unwrap();
        }
    }

    let server = start(cfg).await;
    // The replay fed the chat's records again (its chat and rating are written once more, as no-ops).
    wait_for_sample(server.admin_addr, "switchboard_records_written_total{kind=\"rating\"}", 1.0).await;
    let again = wait_for_chat(server.admin_addr, session, rated).await;
    assert_eq!(again, first, "the same record, not a second one");
    assert_eq!(again["flag_details"].as_array().unwrap().len(), 1, "the flag's event was not written twice");
    assert_eq!(sessions_found(server.admin_addr, "").await, [session]);
    server.shutdown().await.unwrap();
}

/// `docs/records.md` names every event kind the store writes and every `[records]` key of the shipped config.
#[test]
fn the_records_page_lists_every_event_kind_and_config_key() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/records.md")).unwrap();
    for kind in switchboard_server::router::output::Event::KINDS {
        assert!(doc.contains(&format!("`{kind}`")), "event kind `{kind}` is not in docs/records.md");
    }
    let default = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../config/default.toml")).unwrap();
    let table: toml::Table = default.parse().unwrap();
    let keys = table["records"].as_table().unwrap().keys().cloned().collect::<Vec<_>>();
    assert!(keys.len() >= 7, "{keys:?}");
    for key in keys {
        assert!(doc.contains(&format!("| `records.{key}` |")), "records.{key} is not in docs/records.md's table");
    }
}
