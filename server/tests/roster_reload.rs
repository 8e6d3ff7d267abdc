//! Changing the roster while running (docs/security.md, "Changing the roster
//! while running"): a reload through the admin API applies a rewritten
//! config file's agents; a removed agent is cut off within seconds, their
//! chats go to colleagues, and a restart keeps the new roster.

mod common;

use std::time::{Duration, Instant};

use common::{
    assigned_chat, config_file, http_post, rewrite_config_file, sample, start, token_with_role, AssignedChat, Client,
    ROSTER,
};
use serde_json::json;
use switchboard_server::auth::Role;
use switchboard_server::config::Config;

const ADMIN: &str = "\n[[router.agents]]\nid = \"ada\"\nrole = \"admin\"\ngroups = []\n";
const ANN: &str = "[[router.agents]]\nid = \"ann\"\nname = \"Ann\"\ncapacity = 2\ngroups = [{ group = \"general\" }]\n";
const ZOE: &str =
    "\n[[router.agents]]\nid = \"zoe\"\nname = \"Zoe\"\ncapacity = 2\ngroups = [{ group = \"general\" }]\n";

fn roster_without_ann_with_zoe() -> String {
    assert!(ROSTER.contains(ANN), "the test roster still lists ann this way");
    format!("{}{ADMIN}{ZOE}", ROSTER.replace(ANN, ""))
}

async fn reload(admin: std::net::SocketAddr, token: &str) -> common::HttpAnswer {
    http_post(admin, "/v1/admin/reload", Some(token), "").await
}

#[tokio::test]
async fn a_reload_removes_and_adds_agents_and_a_restart_keeps_the_new_roster() {
    let dir = tempfile::Builder::new().prefix("reload-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let (path, config) = config_file(dir.path(), "", &format!("{ROSTER}{ADMIN}"));
    let server = start(config).await;
    let (addr, admin) = (server.public_addr, server.admin_addr);
    let AssignedChat { agent: mut ann, mut customer, session, .. } = assigned_chat(addr, "ann", "general").await;
    customer.ok(json!({"type": "message", "text": "Where is my parcel?"})).await;
    let mut ben = Client::available_agent(addr, "ben").await;

    rewrite_config_file(dir.path(), "", &roster_without_ann_with_zoe());
    let started = Instant::now();
    let answer = reload(admin, &token_with_role("ada", Role::Admin)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.json(),
        json!({"agents_added": ["zoe"], "agents_changed": [], "agents_removed": ["ann"], "rules_changed": false})
    );
    assert_eq!(ann.expect("error").await["code"], "unknown_agent");
    assert_eq!(ann.expect_close().await, Some(1008));
    assert!(started.elapsed() < Duration::from_secs(2), "cut off after {:?}", started.elapsed());

    let assigned = ben.expect("session_assigned").await;
    assert_eq!(assigned["session"]["session"], session, "ann's chat goes to her colleague at once");
    let texts: Vec<&str> =
        assigned["session"]["history"].as_array().unwrap().iter().filter_map(|h| h["text"].as_str()).collect();
    assert_eq!(texts, vec!["Where is my parcel?"], "with its history");
    assert_eq!(customer.expect("assigned").await["agent_name"], "Ben");
    let mut zoe = Client::available_agent(addr, "zoe").await;
    zoe.expect_none("session_assigned", Duration::from_millis(100)).await;
    let metrics = common::http_get(admin, "/metrics").await.1;
    assert_eq!(sample(&metrics, "switchboard_config_reloads_total{outcome=\"applied\"}"), Some(1.0));
    drop((zoe, ben));
    server.shutdown().await.unwrap();

    // The same data_dir with the new file: it used to refuse any roster change.
    let server = start(Config::load(Some(&path), std::iter::empty()).unwrap()).await;
    let mut ben = Client::connect(server.public_addr, "/v1/ws/agent?agent=ben", common::Side::Agent).await;
    ben.expect("welcome").await;
    let state = ben.expect("state").await;
    assert_eq!(state["sessions"][0]["session"], session, "the chat is still ben's: {state}");
    Client::agent(server.public_addr, "zoe").await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_reload_that_cannot_apply_changes_nothing_and_says_why() {
    let dir = tempfile::Builder::new().prefix("reload-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let roster = format!("{ROSTER}{ADMIN}");
    let (path, config) = config_file(dir.path(), "", &roster);
    let server = start(config).await;
    let (addr, admin) = (server.public_addr, server.admin_addr);
    let admin_token = token_with_role("ada", Role::Admin);
    let mut ann = Client::available_agent(addr, "ann").await;

    let answer = reload(admin, &token_with_role("sue", Role::Supervisor)).await;
    assert_eq!((answer.status, answer.json()["code"].clone()), (403, json!("forbidden")), "admins only");

    let vip = "\n[[router.groups]]\nid = \"vip\"\nname = \"VIP\"\n";
    rewrite_config_file(dir.path(), "", &format!("{vip}{}", roster.replace(ANN, "")));
    let answer = reload(admin, &admin_token).await;
    assert_eq!((answer.status, answer.json()["code"].clone()), (409, json!("groups_changed")), "{}", answer.body);
    assert!(answer.json()["message"].as_str().unwrap().contains("group `vip` was added"), "{}", answer.body);

    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("capacity = 1", "capacity = 0")).unwrap();
    let answer = reload(admin, &admin_token).await;
    assert_eq!((answer.status, answer.json()["code"].clone()), (422, json!("bad_config")), "{}", answer.body);
    assert!(answer.json()["message"].as_str().unwrap().contains("capacity"), "names the key: {}", answer.body);

    ann.ok(json!({"type": "set_availability", "state": "available"})).await;
    let metrics = common::http_get(admin, "/metrics").await.1;
    assert_eq!(sample(&metrics, "switchboard_config_reloads_total{outcome=\"refused\"}"), Some(2.0));
    assert_eq!(sample(&metrics, "switchboard_config_reloads_total{outcome=\"applied\"}"), Some(0.0));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_reload_that_changes_an_agents_role_cuts_their_connection() {
    let dir = tempfile::Builder::new().prefix("reload-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let roster = format!("{ROSTER}{ADMIN}");
    let (_, config) = config_file(dir.path(), "", &roster);
    let server = start(config).await;
    let mut ann = Client::available_agent(server.public_addr, "ann").await;
    let promoted = ANN.replace("capacity = 2\n", "capacity = 2\nrole = \"supervisor\"\n");
    rewrite_config_file(dir.path(), "", &roster.replace(ANN, &promoted));
    let answer = reload(server.admin_addr, &token_with_role("ada", Role::Admin)).await;
    assert_eq!(answer.json()["agents_changed"], json!(["ann"]), "{}", answer.body);
    assert_eq!(ann.expect("error").await["code"], "forbidden", "an agent token no longer matches the roster");
    assert_eq!(ann.expect_close().await, Some(1008));
    server.shutdown().await.unwrap();
}
