//! Shifts, leave and discipline over loopback (docs/shifts.md): shifts added,
//! listed and cancelled with every refusal; leave 3 h, 1 h before, during and
//! after a shift; an agent who reaches three warnings is cut off and refused
//! at sign-in (HTTP and WebSocket); upheld complaints count by category.

mod common;

use std::net::SocketAddr;

use common::*;
use jiff::tz::TimeZone;
use serde_json::{json, Value};
use switchboard_records::{ComplaintRow, Review, Store, Target};
use switchboard_server::auth::password;
use switchboard_server::config::Secret;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const MINUTE: i64 = 60_000;
const ANN_PASSWORD: &str = "ann password for the shift tests";

/// `{date, start, end}` of a shift from `from` to `to` minutes from now, in the calendar's zone (Asia/Shanghai).
fn times(from: i64, to: i64) -> Value {
    let zone = TimeZone::get("Asia/Shanghai").unwrap();
    let at = |m: i64| {
        jiff::Timestamp::from_millisecond(switchboard_records::now_ms() + m * MINUTE).unwrap().to_zoned(zone.clone())
    };
    let (start, end) = (at(from), at(to));
    json!({
        "date": start.date().to_string(),
        "start": format!("{:02}:{:02}", start.hour(), start.minute()),
        "end": format!("{:02}:{:02}", end.hour(), end.minute()),
    })
}

fn shift(agent: &str, from: i64, to: i64) -> String {
    let mut body = times(from, to);
    body["agent"] = json!(agent);
    body.to_string()
}

async fn add(addr: SocketAddr, body: &str) -> HttpAnswer {
    http_post(addr, "/v1/shifts", Some(&token_for("sue")), body).await
}

async fn added(addr: SocketAddr, agent: &str, from: i64, to: i64) -> String {
    let answer = add(addr, &shift(agent, from, to)).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer.json()["shift"].as_str().unwrap().to_owned()
}

async fn leave(addr: SocketAddr, agent: &str, id: &str) -> HttpAnswer {
    http_post(addr, &format!("/v1/shifts/{id}/leave"), Some(&token_for(agent)), r#"{"reason": "exam"}"#).await
}

/// `DELETE path` with a bearer token: (status, JSON body).
async fn delete(addr: SocketAddr, path: &str, token: &str) -> (u16, Value) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "DELETE {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response.split("\r\n\r\n").nth(1).unwrap_or_default();
    let body = body.trim_start_matches(|c: char| c.is_ascii_hexdigit()).trim();
    let json = body
        .find('{')
        .map_or(Value::Null, |i| serde_json::from_str(body[i..].lines().next().unwrap_or("")).unwrap_or(Value::Null));
    (status, json)
}

fn code_of(answer: &HttpAnswer) -> (u16, String) {
    (answer.status, answer.json()["code"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn shifts_are_added_listed_and_cancelled_with_every_refusal() {
    let server = start(config(1.0, "")).await;
    let addr = server.public_addr;
    let id = added(addr, "ann", 180, 240).await;
    assert!(id.starts_with("api:"));

    let again = add(addr, &shift("ann", 200, 260)).await;
    assert_eq!(code_of(&again), (409, "shift_overlaps".into()), "{}", again.body);
    assert_eq!(add(addr, &shift("ben", 200, 260)).await.status, 201, "another agent may work then");
    assert_eq!(code_of(&add(addr, &shift("nobody", 10, 20)).await), (404, "unknown_agent".into()));
    let mut body: Value = serde_json::from_str(&shift("ann", 600, 660)).unwrap();
    body["groups"] = json!(["general", "nowhere"]);
    assert_eq!(code_of(&add(addr, &body.to_string()).await), (404, "unknown_group".into()));
    body["groups"] = json!(["general"]);
    body["start"] = json!("25:00");
    assert_eq!(code_of(&add(addr, &body.to_string()).await), (400, "invalid_request".into()));
    let by_agent = http_post(addr, "/v1/shifts", Some(&token_for("ann")), &shift("ann", 600, 660)).await;
    assert_eq!(code_of(&by_agent), (403, "supervisors_only".into()));

    let listed = http_get_as(addr, "/v1/shifts?agent=ann", Some(&token_for("sue"))).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    let shifts = listed.json()["shifts"].as_array().unwrap().clone();
    assert_eq!(shifts.len(), 1);
    assert_eq!((shifts[0]["shift"].as_str(), shifts[0]["phase"].as_str()), (Some(id.as_str()), Some("upcoming")));
    let own = http_get_as(addr, "/v1/shifts", Some(&token_for("ann"))).await;
    assert!(own.json()["shifts"].as_array().unwrap().iter().all(|s| s["agent"] == "ann"), "an agent sees their own");
    let others = http_get_as(addr, "/v1/shifts?agent=ben", Some(&token_for("ann"))).await;
    assert_eq!(code_of(&others), (403, "supervisors_only".into()));
    let bad = http_get_as(addr, "/v1/shifts?from=yesterday", Some(&token_for("sue"))).await;
    assert_eq!(code_of(&bad), (400, "invalid_request".into()));

    let (status, cancelled) = delete(addr, &format!("/v1/shifts/{id}"), &token_for("sue")).await;
    assert_eq!((status, cancelled["phase"].as_str()), (200, Some("cancelled")), "{cancelled}");
    assert_eq!(
        delete(addr, "/v1/shifts/api:none", &token_for("sue")).await,
        (404, json!({"code": "shift_not_found", "message": "no shift has this id"}))
    );
    let past = added(addr, "leo", -180, -120).await;
    assert_eq!(delete(addr, &format!("/v1/shifts/{past}"), &token_for("sue")).await.1["code"], "shift_over");
    assert_eq!(delete(addr, &format!("/v1/shifts/{past}"), &token_for("leo")).await.1["code"], "supervisors_only");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn leave_on_time_late_during_and_after_a_shift() {
    let server = start(config(1.0, "")).await;
    let addr = server.public_addr;
    let early = added(addr, "ann", 180, 240).await;
    let answer = leave(addr, "ann", &early).await;
    assert_eq!((answer.status, answer.json()["late"].clone()), (201, json!(false)), "{}", answer.body);
    assert!(answer.json().get("warning").is_none());
    assert_eq!(code_of(&leave(addr, "ann", &early).await), (409, "leave_exists".into()));

    let soon = added(addr, "ann", 60, 120).await;
    assert_eq!(code_of(&leave(addr, "ben", &soon).await), (403, "not_your_shift".into()));
    let answer = leave(addr, "ann", &soon).await;
    assert_eq!((answer.status, answer.json()["late"].clone()), (201, json!(true)), "{}", answer.body);
    assert!(answer.json()["warning"].as_str().unwrap().contains("warning"));

    let running = added(addr, "ann", -30, 30).await;
    assert_eq!(code_of(&leave(addr, "ann", &running).await), (409, "shift_running".into()));
    // Leo's: a missed shift is two warnings, which with Ann's late leave would suspend her.
    let over = added(addr, "leo", -300, -240).await;
    assert_eq!(code_of(&leave(addr, "leo", &over).await), (409, "shift_over".into()));
    let gone = added(addr, "ann", 400, 460).await;
    delete(addr, &format!("/v1/shifts/{gone}"), &token_for("sue")).await;
    assert_eq!(code_of(&leave(addr, "ann", &gone).await), (409, "shift_cancelled".into()));
    assert_eq!(code_of(&leave(addr, "ann", "api:none").await), (404, "shift_not_found".into()));

    let listed = http_get_as(addr, "/v1/shifts?agent=ann", Some(&token_for("ann"))).await.json();
    let with_leave: Vec<_> = listed["shifts"].as_array().unwrap().iter().filter(|s| !s["leave"].is_null()).collect();
    assert_eq!(with_leave.len(), 2, "{listed}");
    assert_eq!(listed["leave_notice_ms"], 7_200_000);
    server.shutdown().await.unwrap();
}

fn complaint(id: &str, agent: &str) -> ComplaintRow {
    ComplaintRow {
        complaint: id.into(),
        origin: "o".into(),
        subject_kind: "chat".into(),
        subject_id: 1,
        agent: Some(agent.into()),
        group: "general".into(),
        reason: "rude".into(),
        created_at: switchboard_records::now_ms() - 10 * MINUTE,
        state: "open".into(),
        category: None,
        reviewed_by: None,
        reviewed_at: None,
        review_comment: None,
    }
}

async fn uphold(store: &Store, id: &str, agent: &str, category: &str) {
    assert!(store.add_complaint(&complaint(id, agent)).await.unwrap());
    let review = Review {
        state: "upheld".into(),
        category: category.into(),
        by: "sue".into(),
        at: switchboard_records::now_ms() - MINUTE,
        comment: String::new(),
    };
    assert!(store.review_complaint(id, &review).await.unwrap());
}

/// Ann misses a shift (absence: two warnings) and asks leave an hour before
/// the next (the third): suspended at once, her live console closed, her
/// sign-in, renewal and handshake refused. Ben's upheld complaints count only
/// when non-business.
#[tokio::test]
async fn three_warnings_suspend_an_agent_who_is_cut_off_and_refused() {
    let dir = tempfile::Builder::new().prefix("shifts-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let mut config = config(1.0, "");
    config.storage.data_dir = dir.path().to_owned();
    config.accounts.password_hashes.insert("ann".into(), Secret(password::hash(ANN_PASSWORD)));
    let store =
        Store::new(&Target::Sqlite(dir.path().join("records.sqlite3").to_string_lossy().into_owned()), "seed").unwrap();
    store.migrate().await.unwrap();
    uphold(&store, "c1", "ben", "non_business").await;
    uphold(&store, "c2", "ben", "business").await;

    let server = start(config).await;
    let addr = server.public_addr;
    let missed = added(addr, "ann", -300, -240).await;
    let mut ann = Client::agent(addr, "ann").await;
    let soon = added(addr, "ann", 60, 120).await;
    assert_eq!(leave(addr, "ann", &soon).await.status, 201);

    assert_eq!(ann.expect("error").await["code"], "agent_suspended");
    assert_eq!(ann.expect_close().await, Some(1008));
    let answer = login(addr, "ann", ANN_PASSWORD).await;
    assert_eq!(code_of(&answer), (403, "agent_suspended".into()), "{}", answer.body);
    assert!(answer.json()["message"].as_str().unwrap().contains("until"));
    let renew = http_post(addr, "/v1/token/renew", Some(&token_for("ann")), "").await;
    assert_eq!(code_of(&renew), (403, "agent_suspended".into()));
    let mut again =
        Client::connect_with(with_bearer(&format!("ws://{addr}/v1/ws/agent"), &token_for("ann")), Side::Agent).await;
    assert_eq!(again.expect("error").await["code"], "agent_suspended");
    assert_eq!(again.expect_close().await, Some(1008));

    let all = http_get_as(addr, "/v1/discipline", Some(&token_for("sue"))).await.json();
    let agents = all["agents"].as_array().unwrap();
    let ann_record = agents.iter().find(|a| a["agent"] == "ann").unwrap();
    let causes: Vec<_> = ann_record["warnings"].as_array().unwrap().iter().map(|w| w["cause"].clone()).collect();
    assert_eq!(causes, [json!("absence"), json!("late_leave")], "{ann_record}");
    assert_eq!(ann_record["warnings"][0]["subject"], json!(missed));
    assert_eq!(ann_record["suspensions"].as_array().unwrap().len(), 1);
    assert_eq!(ann_record["barred"]["state"], "suspended");
    let ben = agents.iter().find(|a| a["agent"] == "ben").unwrap();
    assert_eq!(ben["warnings"].as_array().unwrap().len(), 1, "only the non-business complaint: {ben}");
    assert_eq!(ben["warnings"][0]["cause"], "upheld_complaint");
    assert!(ben["barred"].is_null());
    let own = http_get_as(addr, "/v1/discipline?agent=ann", Some(&token_for("ben"))).await;
    assert_eq!(code_of(&own), (403, "supervisors_only".into()));

    let metrics = wait_for_sample(server.admin_addr, "switchboard_agents_suspended", 1.0).await;
    assert_eq!(sample(&metrics, "switchboard_warnings_total{cause=\"absence\"}"), Some(2.0));
    assert!(!metrics.contains("agent=\""), "no series per agent");
    server.shutdown().await.unwrap();
}
