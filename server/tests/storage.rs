//! The input log in the server: a failing disk refuses new work and loses
//! nothing, and a restart resumes exactly the state that was saved.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{config, http_get, sample, start, start_with, Client, Side, WAIT};
use serde_json::json;
use switchboard_server::config::{Config, TimeText};
use switchboard_server::journal::recovery;
use switchboard_server::TestHooks;
use switchboard_storage::{Faults, OpenMode, Store, WriteFault};

/// A config on its own data_dir, fsyncing like production.
fn durable(scale: f64, data_dir: &Path, extra: &str) -> Config {
    let mut c = config(scale, extra);
    c.storage.data_dir = data_dir.to_owned();
    c.storage.sync = switchboard_server::config::SyncPolicy::Always;
    c
}

fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("storage-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap()
}

/// The business time the server reports to a connecting agent, and that
/// agent's connection: kept open by the caller so that its closing is not an
/// input written at a moment the test does not control.
async fn business_now(addr: std::net::SocketAddr) -> (u64, Client) {
    let mut sue = Client::connect(addr, "/v1/ws/agent?agent=sue", Side::Agent).await;
    let welcome = sue.expect("welcome").await;
    (welcome["now_ms"].as_u64().unwrap(), sue)
}

async fn ready(addr: std::net::SocketAddr) -> (u16, String) {
    http_get(addr, "/readyz").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_disk_refuses_new_work_loses_nothing_and_recovers() {
    let dir = temp_dir();
    let rules = "[router.rules]\ncustomer_idle = \"10h\"\nagent_grace = \"10h\"\ncustomer_grace = \"10h\"\n";
    let faults = Faults::enabled();
    let hooks = TestHooks { storage_faults: faults.clone() };
    let server = start_with(durable(600.0, dir.path(), rules), hooks).await;
    let (addr, admin) = (server.public_addr, server.admin_addr);
    let mut chat = common::assigned_chat(addr, "ann", "general").await;
    let (mut other, _) = Client::customer(addr, "general").await;
    chat.customer.ok(json!({"type": "message", "text": "before the disk filled up"})).await;
    chat.agent.expect("customer_message").await;
    // Answered, so no reply timer fires (and is logged) at 600x while the disk
    // is failing: the first write to fail must be the customer's m1.
    chat.agent.ok(json!({"type": "reply", "session": chat.session, "text": "looking"})).await;
    chat.customer.expect("agent_message").await;
    let (before, _sue) = business_now(addr).await;

    // The disk fills up in the middle of a write.
    faults.fail_writes(WriteFault::Partial { bytes: 7 });
    chat.customer.send(&json!({"type": "message", "id": "m1", "text": "written while the disk was full"})).await;
    let outage = Instant::now();
    let (status, body) = loop {
        let (status, body) = ready(addr).await;
        if status == 503 || outage.elapsed() > WAIT {
            break (status, body);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!((status, body.as_str()), (503, "storage unavailable"), "/readyz says why");
    // Another client's command is refused at once with a code; a new connection too.
    let refused = other.command(json!({"type": "message", "text": "hello?"})).await;
    assert_eq!(refused["code"], "storage_unavailable", "{refused}");
    let mut late = Client::connect(addr, "/v1/ws/customer?group=general", Side::Customer).await;
    assert_eq!(late.expect("error").await["code"], "storage_unavailable");
    assert_eq!(late.expect_close().await, Some(1013), "try again later");
    // The message written during the failure is neither acknowledged nor forwarded yet.
    chat.agent.expect_none("customer_message", Duration::from_millis(300)).await;
    let (_, metrics) = http_get(admin, "/metrics").await;
    assert_eq!(sample(&metrics, "switchboard_storage_healthy"), Some(0.0), "{metrics}");
    assert!(sample(&metrics, "switchboard_log_write_errors_total").unwrap() >= 1.0);
    tokio::time::sleep(Duration::from_millis(1500)).await;

    faults.clear();
    let ack = chat.customer.reply_to("m1").await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let forwarded = chat.agent.expect("customer_message").await;
    assert_eq!(forwarded["text"], "written while the disk was full");
    assert_eq!(ready(addr).await.0, 200);
    other.ok(json!({"type": "message", "text": "and now?"})).await;
    // Business time stood still while the disk failed: 1.8 s of outage is 18
    // business minutes at this scale; everything else took a fraction of that.
    let during = business_now(addr).await.0 - before;
    assert!(during < 12 * 60_000, "business time ran during the outage: {during} ms");

    // Nothing acknowledged was lost: after a restart the history holds both messages.
    server.shutdown().await.unwrap();
    let server = start(durable(600.0, dir.path(), rules)).await;
    let mut ann = Client::connect(server.public_addr, "/v1/ws/agent?agent=ann", Side::Agent).await;
    ann.expect("welcome").await;
    let state = ann.expect("state").await;
    let history: Vec<&str> = state["sessions"][0]["history"]
        .as_array()
        .unwrap_or_else(|| panic!("ann's sessions after the restart: {state}"))
        .iter()
        .map(|h| h["text"].as_str().unwrap())
        .collect();
    assert_eq!(history, ["before the disk filled up", "looking", "written while the disk was full"]);
    server.shutdown().await.unwrap();
}

/// The newest snapshot in a data_dir: (lsn, payload).
fn newest_snapshot(dir: &Path) -> (u64, Vec<u8>) {
    let store = Store::open(dir, OpenMode::ReadOnly).unwrap();
    let lsn = store.snapshots().unwrap().first().expect("a snapshot").lsn;
    (lsn, store.read_snapshot(lsn).unwrap().bytes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_restart_and_a_replay_of_the_log_give_the_state_that_was_saved() {
    let dir = temp_dir();
    let cfg = || {
        let mut c = durable(1.0, dir.path(), "");
        c.storage.snapshot_every = 1_000_000;
        c
    };
    let server = start(cfg()).await;
    let addr = server.public_addr;
    let mut chat = common::assigned_chat(addr, "ben", "general").await;
    chat.customer.ok(json!({"type": "message", "text": "where is my parcel"})).await;
    chat.agent.ok(json!({"type": "reply", "session": chat.session, "text": "checking"})).await;
    let (_waiting, _) = Client::customer(addr, "general").await;
    let (_queued, _) = Client::customer(addr, "general").await;
    let mut ann = Client::available_agent(addr, "ann").await;
    ann.expect("session_assigned").await;
    server.shutdown().await.unwrap();

    // A clean shutdown leaves a snapshot of the final state...
    let (lsn, saved) = newest_snapshot(dir.path());
    assert!(lsn > 0, "the final snapshot covers the whole log");
    // ...which a start recovers exactly.
    let mut opened = recovery::open(&cfg(), Faults::default()).unwrap();
    assert_eq!(opened.replay.records, 0, "nothing left to replay");
    assert!(opened.layer.image().unwrap() == saved, "the recovered state is the saved state");
    // Closing waits for the writer thread, which holds the data_dir's lock.
    opened.journal.close();
    drop(opened);

    // Without that snapshot, replaying the whole log from the first one gives the same bytes.
    let snapshot = std::fs::read_dir(dir.path().join("snapshots"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().contains(&format!("{lsn:020}")))
        .expect("the final snapshot's file");
    std::fs::remove_file(snapshot).unwrap();
    let opened = recovery::open(&cfg(), Faults::default()).unwrap();
    assert_eq!(opened.replay.records, lsn, "the whole log was replayed");
    assert!(opened.layer.image().unwrap() == saved, "replaying the log rebuilds the saved state byte for byte");
}

/// Where business time sits on the calendar across restarts
/// (docs/durability.md, "Business time on the calendar").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_calendar_carries_on_from_the_saved_business_time_or_follows_the_wall_clock() {
    let dir = temp_dir();
    let cfg = |start: Option<&str>, scale: f64| {
        let mut c = durable(scale, dir.path(), "");
        c.clock.start = start.map(|s| TimeText(s.to_owned()));
        c
    };
    // Friday 17:55 in Shanghai (the default calendar.time_zone).
    let friday = Some("2026-03-06T17:55:00");
    let server = start(cfg(friday, 600.0)).await;
    let (before, sue) = business_now(server.public_addr).await;
    drop(sue);
    server.shutdown().await.unwrap();

    let reopen = |config: Config| {
        let mut opened = recovery::open(&config, Faults::default()).unwrap();
        // Closing waits for the writer thread, which holds the data_dir's lock.
        opened.journal.close();
        (opened.layer.clock_anchor(), opened.clock_anchor, opened.resume_at)
    };
    let (saved, anchor, resume_at) = reopen(cfg(friday, 600.0));
    let saved = saved.expect("the start logged where business time 0 is");
    assert_eq!(saved.instant(0), "2026-03-06T09:55:00Z".parse().unwrap());
    assert!(resume_at.0 >= before, "business time resumes where it stopped");
    assert_eq!(anchor.instant(resume_at.0), saved.instant(resume_at.0), "the calendar carries on: no jump, no gap");

    let (_, anchor, _) = reopen(cfg(None, 600.0));
    assert_eq!(anchor, saved, "without clock.start a scaled calendar carries on too");

    let (_, anchor, resume_at) = reopen(cfg(None, 1.0));
    let off = anchor.instant(resume_at.0).duration_since(jiff::Timestamp::now()).abs();
    assert!(off < jiff::SignedDuration::from_secs(60), "in real time the calendar is the wall clock: {off:?} off");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_rules_and_roster_apply_after_a_restart_but_changed_groups_are_refused_naming_the_change() {
    let dir = temp_dir();
    let server = start(durable(1.0, dir.path(), "")).await;
    let chat = common::assigned_chat(server.public_addr, "ann", "general").await;
    drop(chat);
    server.shutdown().await.unwrap();

    // Rules and roster may change: logged at start-up, in force from then on.
    let mut changed = durable(1.0, dir.path(), "[router.rules]\nreply_warning = \"2m\"\nreply_violation = \"4m\"\n");
    changed.router.agents.retain(|a| a.id.as_str() != "ben");
    let server = start(changed).await;
    let mut ann = Client::connect(server.public_addr, "/v1/ws/agent?agent=ann", Side::Agent).await;
    let welcome = ann.expect("welcome").await;
    assert_eq!(welcome["reply_warning_ms"], 120_000, "{welcome}");
    assert_eq!(ann.expect("state").await["sessions"].as_array().unwrap().len(), 1, "the chat survived");
    let mut ben = Client::connect(server.public_addr, "/v1/ws/agent?agent=ben", Side::Agent).await;
    assert_eq!(ben.expect("error").await["code"], "unknown_agent", "ben left the roster");
    ann.close().await;
    server.shutdown().await.unwrap();

    // The skill groups may not: the start-up refuses, saying what changed and what to do.
    let mut changed = durable(1.0, dir.path(), "");
    changed.router.groups.retain(|g| g.id.as_str() != "logistics");
    changed.router.agents.retain(|a| a.groups.iter().all(|m| m.group.as_str() != "logistics"));
    let err = recovery::open(&changed, Faults::default()).unwrap_err().to_string();
    assert!(err.contains("group `logistics` was removed"), "{err}");
    assert!(err.contains("move") && err.contains(&dir.path().display().to_string()), "{err}");
}

#[tokio::test]
async fn in_memory_mode_keeps_nothing_across_a_restart() {
    let mut cfg = config(1.0, "");
    cfg.storage.mode = switchboard_server::config::StorageMode::Memory;
    let server = start(cfg.clone()).await;
    let (_customer, welcome) = Client::customer(server.public_addr, "general").await;
    let token = welcome["token"].as_str().unwrap().to_owned();
    server.shutdown().await.unwrap();

    let server = start(cfg).await;
    let mut again =
        Client::connect(server.public_addr, &format!("/v1/ws/customer?token={token}"), Side::Customer).await;
    assert_eq!(again.expect("error").await["code"], "invalid_token");
    let (_, metrics) = http_get(server.admin_addr, "/metrics").await;
    assert_eq!(sample(&metrics, "switchboard_log_records_total"), Some(0.0), "nothing is logged");
}
