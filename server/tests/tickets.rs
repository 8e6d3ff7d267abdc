//! Tickets end to end over the HTTP API of a real server: a customer leaves
//! a message, an agent answers it, the customer comes back with the ticket's
//! token; refusals; breaches on a scaled clock (metrics, supervisor alert);
//! the working-day waits; a restart in the middle.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use switchboard_server::auth::Role;

/// `POST /v1/tickets` as a customer; the answer.
async fn leave(addr: std::net::SocketAddr, body: Value) -> HttpAnswer {
    http_post(addr, "/v1/tickets", None, &body.to_string()).await
}

/// A ticket left in `general` by Zoe; returns (ticket id, token).
async fn left_message(addr: std::net::SocketAddr, text: &str) -> (u64, String) {
    let answer =
        leave(addr, json!({"group": "general", "text": text, "name": "Zoe", "reason": "nobody_available"})).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let body = answer.json();
    (body["ticket"]["id"].as_u64().unwrap(), body["token"].as_str().unwrap().to_owned())
}

async fn as_customer(addr: std::net::SocketAddr, token: &str) -> Value {
    let answer = http_get_as(addr, "/v1/ticket", Some(token)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json()
}

async fn agent_post(addr: std::net::SocketAddr, agent: &str, path: &str, body: Value) -> HttpAnswer {
    http_post(addr, path, Some(&token_for(agent)), &body.to_string()).await
}

fn texts(ticket: &Value) -> Vec<(String, String)> {
    let messages = ticket["messages"].as_array().unwrap();
    messages.iter().map(|m| (m["from"].as_str().unwrap().to_owned(), m["text"].as_str().unwrap().to_owned())).collect()
}

#[tokio::test]
async fn a_left_message_is_answered_read_replied_to_and_confirmed() {
    let server = start(config(1.0, "")).await;
    let addr = server.public_addr;
    let _ann = Client::available_agent(addr, "ann").await;

    let answer = leave(
        addr,
        json!({"group": "general", "text": "My parcel is late", "name": "Zoe", "reason": "nobody_available"}),
    )
    .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let left = answer.json();
    let (id, token) = (left["ticket"]["id"].as_u64().unwrap(), left["token"].as_str().unwrap().to_owned());
    assert_eq!(left["ticket"]["owner"], "ann", "ann is on duty in general: the ticket is hers");
    assert_eq!(left["ticket"]["state"], "assigned");
    assert_eq!(left["ticket"]["origin"], "nobody_available");
    assert_eq!(left["ticket"]["customer_name"], "Zoe");
    assert!(left["ticket"].get("deadlines").is_none(), "customers see no deadlines");
    assert!(left["now"].as_i64().unwrap() > 1_700_000_000_000, "now is calendar time");

    // The agent sees it in `mine`, with its deadlines.
    let mine = http_get_as(addr, "/v1/tickets?scope=mine", Some(&token_for("ann"))).await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    let mine = mine.json();
    let listed = &mine["tickets"][0];
    assert_eq!(listed["id"], id);
    assert!(listed.get("messages").is_none(), "a summary has no messages");
    let first_response = listed["deadlines"]["first_response"].as_i64().unwrap();
    assert_eq!(listed["due"], first_response, "the first response is due first");
    assert_eq!(first_response, listed["created_at"].as_i64().unwrap() + 15 * 60 * 1000, "15 minutes: always open");

    // She answers with an expected resolution time.
    let expected = mine["now"].as_i64().unwrap() + 3_600_000;
    let body =
        json!({"text": "We are checking with the carrier.", "state": "processing", "expected_resolution": expected});
    let replied = agent_post(addr, "ann", &format!("/v1/tickets/{id}/reply"), body).await;
    assert_eq!(replied.status, 200, "{}", replied.body);
    let replied = replied.json();
    assert_eq!(replied["ticket"]["state"], "processing");
    assert_eq!(replied["ticket"]["expected_resolution"], expected);
    assert_eq!(replied["ticket"]["deadlines"], json!({}), "answered with an expected time: nothing owed");

    // The customer comes back with the token and reads it, then answers.
    let seen = as_customer(addr, &token).await;
    assert_eq!(
        texts(&seen["ticket"]),
        [("customer".into(), "My parcel is late".into()), ("agent".into(), "We are checking with the carrier.".into())]
    );
    assert_eq!(seen["ticket"]["messages"][1]["agent"], "ann");
    assert_eq!(seen["ticket"]["can_reply"], true);
    assert_eq!(seen["ticket"]["can_confirm"], false);
    let wrote = http_post(addr, "/v1/ticket/messages", Some(&token), &json!({"text": "Order 1234"}).to_string()).await;
    assert_eq!(wrote.status, 200, "{}", wrote.body);
    assert_eq!(wrote.json()["ticket"]["state"], "customer_replied");

    let body =
        json!({"text": "It arrives tomorrow: can you confirm once it is there?", "state": "pending_confirmation"});
    let replied = agent_post(addr, "ann", &format!("/v1/tickets/{id}/reply"), body).await;
    assert_eq!(replied.json()["ticket"]["state"], "pending_confirmation", "{}", replied.body);
    assert_eq!(as_customer(addr, &token).await["ticket"]["can_confirm"], true);

    let confirmed = http_post(addr, "/v1/ticket/confirm", Some(&token), "").await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    assert_eq!(confirmed.json()["ticket"]["state"], "resolved");
    assert_eq!(confirmed.json()["ticket"]["can_reply"], false);
    let again = http_post(addr, "/v1/ticket/confirm", Some(&token), "").await;
    assert_eq!((again.status, again.json()["code"].as_str()), (409, Some("ticket_done")));
    let mine = http_get_as(addr, "/v1/tickets?scope=mine", Some(&token_for("ann"))).await.json();
    assert_eq!(mine["tickets"], json!([]), "done tickets leave the lists");

    // The done ticket and its history reach the records store (SQLite in the data_dir).
    let record = wait_for_record(server.admin_addr, id).await;
    assert_eq!(
        (record["ticket"]["state"].as_str(), record["ticket"]["owner"].as_str()),
        (Some("resolved"), Some("ann"))
    );
    assert_eq!(record["ticket"]["messages"].as_array().unwrap().len(), 4);
    let kinds: Vec<&str> = record["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "state_changed").count(), 4, "{kinds:?}");
    assert_eq!(&kinds[..2], ["created", "assigned"], "{kinds:?}");
    server.shutdown().await.unwrap();
}

/// Polls the records lookup until the done ticket is there.
async fn wait_for_record(admin: std::net::SocketAddr, id: u64) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let sue = token_with_role("sue", Role::Supervisor);
    loop {
        let answer = http_get_as(admin, &format!("/v1/admin/records/tickets/{id}"), Some(&sue)).await;
        if answer.status == 200 {
            return answer.json();
        }
        assert!(tokio::time::Instant::now() < deadline, "ticket {id} never reached the records: {}", answer.body);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn bad_requests_get_their_codes() {
    let server = start(config(1.0, "")).await;
    let addr = server.public_addr;
    let _ann = Client::available_agent(addr, "ann").await;
    let (id, _token) = left_message(addr, "Where is my refund?").await;

    let refusals = [
        (
            leave(addr, json!({"group": "nowhere", "text": "hi", "reason": "customer_choice"})).await,
            422,
            "unknown_group",
        ),
        (leave(addr, json!({"group": "general", "text": "  ", "reason": "customer_choice"})).await, 422, "bad_text"),
        (leave(addr, json!({"group": "general", "text": "hi", "reason": "bored"})).await, 422, "bad_reason"),
        (http_post(addr, "/v1/tickets", None, "not json").await, 400, "invalid_request"),
        (http_get_as(addr, "/v1/ticket", Some("0123456789abcdef0123456789abcdef")).await, 401, "ticket_token_invalid"),
        (http_get_as(addr, "/v1/ticket", None).await, 401, "ticket_token_invalid"),
        (http_get_as(addr, "/v1/tickets?scope=mine", None).await, 401, "token_missing"),
        (http_get_as(addr, "/v1/tickets?scope=everything", Some(&token_for("ann"))).await, 422, "bad_scope"),
        (http_get_as(addr, "/v1/tickets?scope=all", Some(&token_for("ann"))).await, 403, "supervisors_only"),
        (http_get_as(addr, &format!("/v1/tickets/{id}"), Some(&token_for("leo"))).await, 403, "ticket_not_visible"),
        (http_get_as(addr, "/v1/tickets/999", Some(&token_for("ann"))).await, 404, "ticket_unknown"),
        (http_get_as(addr, "/v1/tickets/breaches", Some(&token_for("ann"))).await, 403, "supervisors_only"),
        (
            agent_post(addr, "ann", &format!("/v1/tickets/{id}/reply"), json!({"text": "done", "state": "resolved"}))
                .await,
            409,
            "ticket_transition_illegal",
        ),
        (
            agent_post(addr, "ben", &format!("/v1/tickets/{id}/reply"), json!({"text": "me", "state": "processing"}))
                .await,
            403,
            "ticket_not_yours",
        ),
        (
            agent_post(addr, "ann", &format!("/v1/tickets/{id}/transfer"), json!({"to": "ben", "note": "short"})).await,
            422,
            "ticket_agent_unknown",
        ),
        (
            agent_post(addr, "ann", &format!("/v1/tickets/{id}/priority"), json!({"priority": "asap"})).await,
            422,
            "bad_priority",
        ),
        (
            agent_post(addr, "ann", "/v1/tickets/from-chat", json!({"session": 77, "note": "needs a follow-up"})).await,
            404,
            "session_unknown",
        ),
    ];
    for (answer, status, code) in refusals {
        assert_eq!((answer.status, answer.json()["code"].as_str()), (status, Some(code)), "{}", answer.body);
        assert!(answer.json()["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // A supervisor sees every group; ann sees her group's ticket.
    let all = http_get_as(addr, "/v1/tickets?scope=all", Some(&token_with_role("sue", Role::Supervisor))).await;
    assert_eq!(all.json()["tickets"][0]["id"], id, "{}", all.body);
    let groups = http_get_as(addr, "/v1/tickets?scope=groups&state=assigned", Some(&token_for("ben"))).await;
    assert_eq!(groups.json()["tickets"][0]["id"], id, "{}", groups.body);
    let urgent = agent_post(addr, "ann", &format!("/v1/tickets/{id}/priority"), json!({"priority": "urgent"})).await;
    assert_eq!(urgent.json()["ticket"]["priority"], "urgent", "{}", urgent.body);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_agent_turns_a_chat_into_a_ticket_with_its_transcript() {
    let server = start(config(1.0, "")).await;
    let addr = server.public_addr;
    let mut chat = assigned_chat(addr, "ann", "general").await;
    chat.customer.ok(json!({"type": "message", "text": "I need an invoice for May"})).await;
    chat.agent.expect("customer_message").await;
    let session = chat.session;

    let short = agent_post(addr, "ann", "/v1/tickets/from-chat", json!({"session": session, "note": "later"})).await;
    assert_eq!(short.json()["code"], "handoff_note_too_short", "{}", short.body);
    let not_hers = agent_post(
        addr,
        "ben",
        "/v1/tickets/from-chat",
        json!({"session": session, "note": "accounting must issue it"}),
    )
    .await;
    assert_eq!((not_hers.status, not_hers.json()["code"].as_str()), (403, Some("chat_not_yours")));

    let made = agent_post(
        addr,
        "ann",
        "/v1/tickets/from-chat",
        json!({"session": session, "note": "accounting must issue it"}),
    )
    .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let ticket = &made.json()["ticket"];
    assert_eq!((ticket["origin"].as_str(), ticket["owner"].as_str()), (Some("from_chat"), Some("ann")));
    assert_eq!(texts(ticket), [("customer".into(), "I need an invoice for May".into())]);
    assert_eq!(ticket["notes"][0]["text"], "accounting must issue it");
    let owed: Vec<&String> = ticket["deadlines"].as_object().unwrap().keys().collect();
    assert_eq!(owed, ["expected_time"], "answered in the chat: only the expected time is owed");
    // The customer is told in the chat, with the token that opens the ticket.
    let told = chat.customer.expect("ticket_created").await;
    assert_eq!(told["ticket"], ticket["id"]);
    let seen = as_customer(addr, told["token"].as_str().unwrap()).await;
    assert_eq!(texts(&seen["ticket"]), [("customer".into(), "I need an invoice for May".into())]);
    assert!(seen["ticket"].get("notes").is_none(), "customers see no notes");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_breach_reaches_the_metrics_the_supervisor_and_the_breach_list() {
    // 15 business minutes pass in 1.5 s.
    let server = start(config(600.0, "")).await;
    let addr = server.public_addr;
    let mut sue = Client::agent(addr, "sue").await;
    let (id, _) = left_message(addr, "Nobody is there").await;

    let alert = sue.expect("alert_ticket_breach").await;
    assert_eq!(alert["ticket"], id);
    assert_eq!((alert["kind"].as_str(), alert["group"].as_str()), (Some("first_response"), Some("general")));
    assert_eq!(alert["agent"], Value::Null, "nobody owned it");
    let metrics = wait_for_sample(
        server.admin_addr,
        "switchboard_ticket_breaches_total{group=\"general\",kind=\"first_response\"}",
        1.0,
    )
    .await;
    assert_eq!(
        sample(&metrics, "switchboard_tickets_created_total{group=\"general\",origin=\"nobody_available\"}"),
        Some(1.0)
    );
    wait_for_sample(server.admin_addr, "switchboard_tickets_open{group=\"general\",state=\"assigned\"}", 1.0).await;

    let sue_token = token_with_role("sue", Role::Supervisor);
    let breaches = http_get_as(addr, "/v1/tickets/breaches?since=0", Some(&sue_token)).await.json();
    let first = &breaches["breaches"][0];
    assert_eq!((first["ticket"].as_u64(), first["kind"].as_str()), (Some(id), Some("first_response")));
    assert_eq!(first["deadline"], alert["deadline"]);
    let later = http_get_as(addr, &format!("/v1/tickets/breaches?since={}", i64::MAX), Some(&sue_token)).await.json();
    assert_eq!(later["breaches"], json!([]));

    // Still owed: the list shows it overdue, due at the deadline that passed (the most urgent).
    let (_, token) = left_message(addr, "A second one, not yet late").await;
    let all = http_get_as(addr, "/v1/tickets?scope=all", Some(&sue_token)).await.json();
    let late = &all["tickets"][0];
    assert_eq!(late["id"], id, "the overdue ticket comes first: {all}");
    // (the expected-time limit, 30 minutes, may have passed by now too)
    assert_eq!(late["overdue"][0], json!({"limit": "first_response", "deadline": alert["deadline"]}));
    assert_eq!(late["due"], alert["deadline"]);
    assert_eq!(all["tickets"][1]["overdue"], json!([]), "the new one owes nothing yet");
    drop(token);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn seven_days_without_feedback_ask_for_confirmation_three_more_close_it_and_it_is_forgotten() {
    // 7 business days pass in about 2 s; the calendar starts on a known Monday.
    let mut c = config(300_000.0, "[tickets]\nkeep_done = \"3d\"");
    c.clock.start = Some(switchboard_server::config::TimeText("2026-03-02T10:00:00+08:00".into()));
    let server = start(c).await;
    let addr = server.public_addr;
    let _ann = Client::available_agent(addr, "ann").await;
    let (id, token) = left_message(addr, "The app crashes").await;
    let body = json!({"text": "Which version do you use?", "state": "awaiting_feedback"});
    let asked = agent_post(addr, "ann", &format!("/v1/tickets/{id}/reply"), body).await.json();
    let wait_ends = asked["ticket"]["deadlines"]["feedback_wait"].as_i64().expect("the feedback wait runs");
    let asked_at = asked["ticket"]["messages"][1]["at"].as_i64().unwrap();
    assert_eq!(wait_ends - asked_at, 7 * 86_400_000, "7 working days (the group is always open)");

    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let ticket = loop {
        let seen = as_customer(addr, &token).await;
        if seen["ticket"]["state"] == "closed" {
            break seen["ticket"].clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "never closed: {seen}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let system: Vec<&Value> = ticket["messages"].as_array().unwrap().iter().filter(|m| m["from"] == "system").collect();
    assert_eq!(system.len(), 3, "a reminder, the confirmation request, the close: {ticket}");
    assert_eq!(system[1]["at"], wait_ends, "pending confirmation as of the wait's deadline");
    assert_eq!(system[2]["at"].as_i64().unwrap() - wait_ends, 3 * 86_400_000, "closed 3 working days later");

    // 3 days after it was done the desk forgets it; the records keep it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let answer = http_get_as(addr, "/v1/ticket", Some(&token)).await;
        if answer.status == 401 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "never forgotten: {}", answer.body);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let forgotten = http_get_as(addr, &format!("/v1/tickets/{id}"), Some(&token_for("ann"))).await;
    assert_eq!(forgotten.status, 404, "{}", forgotten.body);
    assert_eq!(wait_for_record(server.admin_addr, id).await["ticket"]["state"], "closed");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn open_tickets_survive_a_restart_and_a_deadline_passed_while_down_fires() {
    let dir = tempfile::tempdir().unwrap();
    // Real time: the calendar follows the wall clock, so the 3 s the server is down pass on it.
    let limits = "[tickets]\nfirst_response = \"3s\"\nexpected_time_reply = \"3s\"\nmax_without_reply = \"3s\"";
    let mut c = config(1.0, limits);
    c.storage.data_dir = dir.path().join("data");
    let server = start(c.clone()).await;
    let addr = server.public_addr;
    let _ann = Client::available_agent(addr, "ann").await;
    let (id, token) = left_message(addr, "Please call back").await;
    let before = http_get_as(addr, &format!("/v1/tickets/{id}"), Some(&token_for("ann"))).await.json();
    assert_eq!(before["ticket"]["owner"], "ann");
    server.shutdown().await.unwrap();

    tokio::time::sleep(Duration::from_secs(3)).await;
    let server = start(c).await;
    let addr = server.public_addr;
    let after = http_get_as(addr, &format!("/v1/tickets/{id}"), Some(&token_for("ann"))).await.json();
    for key in ["owner", "messages", "created_at", "customer_name"] {
        assert_eq!(after["ticket"][key], before["ticket"][key], "{key} survives the restart");
    }
    assert_eq!(as_customer(addr, &token).await["ticket"]["id"], id, "the customer's token still opens it");

    let metrics = wait_for_sample(
        server.admin_addr,
        "switchboard_ticket_breaches_total{group=\"general\",kind=\"first_response\"}",
        1.0,
    )
    .await;
    assert!(metrics.contains("switchboard_tickets_open"));
    let breaches =
        http_get_as(addr, "/v1/tickets/breaches", Some(&token_with_role("sue", Role::Supervisor))).await.json();
    let first = breaches["breaches"].as_array().unwrap().iter().find(|b| b["kind"] == "first_response").unwrap();
    assert_eq!(first["deadline"], before["ticket"]["deadlines"]["first_response"], "the deadline set before the stop");
    assert_eq!(first["agent"], "ann", "still hers: she may reconnect within the grace period");
    server.shutdown().await.unwrap();
}

/// One raw HTTP/1.1 exchange (the helpers of `common` send no `Origin`).
async fn exchange(addr: std::net::SocketAddr, request: String) -> (u16, String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    tokio::time::timeout(WAIT, stream.read_to_string(&mut response)).await.unwrap().unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, head.to_lowercase(), body.to_owned())
}

#[tokio::test]
async fn the_widget_may_call_from_an_allowed_site_and_no_other() {
    let server = start(config(1.0, "")).await;
    let addr = server.public_addr;
    let preflight = format!(
        "OPTIONS /v1/tickets HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://127.0.0.1\r\n\
         Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type\r\nConnection: close\r\n\r\n"
    );
    let (status, head, _) = exchange(addr, preflight).await;
    assert_eq!(status, 204, "{head}");
    assert!(head.contains("access-control-allow-origin: http://127.0.0.1"), "{head}");
    assert!(head.contains("access-control-allow-headers: authorization, content-type"), "{head}");

    let body = json!({"group": "general", "text": "hello", "reason": "customer_choice"}).to_string();
    let post = |origin: &str| {
        format!(
            "POST /v1/tickets HTTP/1.1\r\nHost: {addr}\r\nOrigin: {origin}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let (status, head, _) = exchange(addr, post("http://127.0.0.1")).await;
    assert_eq!(status, 201, "{head}");
    assert!(head.contains("access-control-allow-origin: http://127.0.0.1"), "{head}");
    let (status, _, body) = exchange(addr, post("https://elsewhere.example")).await;
    assert_eq!(status, 403);
    assert!(body.contains("origin_not_allowed"), "{body}");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_reload_gives_agents_on_duty_their_new_ticket_capacity_at_once() {
    let dir = tempfile::Builder::new().prefix("reload-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let roster = format!("{ROSTER}\n[[router.agents]]\nid = \"ada\"\nrole = \"admin\"\ngroups = []\n");
    let (_, config) = config_file(dir.path(), "[tickets]\nticket_capacity = 1", &roster);
    let server = start(config).await;
    let addr = server.public_addr;
    let _ann = Client::available_agent(addr, "ann").await;
    let (first, _) = left_message(addr, "First question").await;
    let (second, _) = left_message(addr, "Second question").await;
    let owner = |id: u64| async move {
        let answer = http_get_as(addr, &format!("/v1/tickets/{id}"), Some(&token_for("ann"))).await;
        answer.json()["ticket"]["owner"].clone()
    };
    assert_eq!((owner(first).await, owner(second).await), (json!("ann"), Value::Null), "one ticket at a time");

    rewrite_config_file(dir.path(), "[tickets]\nticket_capacity = 2", &roster);
    let reloaded =
        http_post(server.admin_addr, "/v1/admin/reload", Some(&token_with_role("ada", Role::Admin)), "").await;
    assert_eq!(reloaded.status, 200, "{}", reloaded.body);
    assert_eq!(owner(second).await, "ann", "room for the waiting ticket at once");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn limits_count_the_group_s_working_time_on_the_business_calendar() {
    // Friday 2026-03-06 17:55 in Shanghai (the default calendar.time_zone); `refunds` works Mon-Fri 09:00-18:00.
    let dir = tempfile::Builder::new().prefix("calendar-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let roster = r#"
[[router.groups]]
id = "refunds"
service_hours = "Mon-Fri 09:00-18:00"

[[router.agents]]
id = "rita"
groups = [{ group = "refunds" }]
"#;
    let friday = "2026-03-06T17:55:00+08:00";
    let (_, mut config) = config_file(dir.path(), "", roster);
    config.clock.scale = 1.0;
    config.clock.start = Some(switchboard_server::config::TimeText(friday.into()));
    let server = start(config).await;
    let left =
        leave(server.public_addr, json!({"group": "refunds", "text": "Refund?", "reason": "group_closed"})).await;
    assert_eq!(left.status, 201, "{}", left.body);
    let id = left.json()["ticket"]["id"].as_u64().unwrap();
    let ticket = http_get_as(server.public_addr, &format!("/v1/tickets/{id}"), Some(&token_for("rita"))).await.json();
    let created = ticket["ticket"]["created_at"].as_i64().unwrap();
    let start_ms = friday.parse::<jiff::Timestamp>().unwrap().as_millisecond();
    // 5 working minutes left on Friday, the other 10 on Monday from 09:00.
    let monday_nine_ten = "2026-03-09T09:10:00+08:00".parse::<jiff::Timestamp>().unwrap().as_millisecond();
    assert!((0..60_000).contains(&(created - start_ms)), "created at {created}, the calendar starts at {start_ms}");
    assert_eq!(ticket["ticket"]["deadlines"]["first_response"], monday_nine_ten + (created - start_ms));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn one_address_may_leave_only_so_many_tickets_a_minute() {
    let server = start(config(1.0, "[tickets]\ncreate_per_ip = 2")).await;
    let body = json!({"group": "general", "text": "hello", "reason": "customer_choice"});
    for _ in 0..2 {
        assert_eq!(leave(server.public_addr, body.clone()).await.status, 201);
    }
    let third = leave(server.public_addr, body).await;
    assert_eq!((third.status, third.json()["code"].as_str()), (429, Some("rate_limited")), "{}", third.body);
    let all = http_get_as(server.public_addr, "/v1/tickets?scope=all", Some(&token_for("sue"))).await.json();
    assert_eq!(all["tickets"].as_array().unwrap().len(), 2, "the refused one was never made");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_complaint_tendency_makes_the_ticket_urgent_and_a_transfer_waits_for_a_reply() {
    let server = start(config(1.0, "")).await;
    let addr = server.public_addr;
    let mut agents = [Client::available_agent(addr, "ann").await, Client::available_agent(addr, "ben").await];
    let mut sue = Client::agent(addr, "sue").await;

    // Asking for a phone call is a complaint tendency (router.rules.complaint.phone_words).
    let (id, token) = left_message(addr, "Please call me, my order is wrong").await;
    let alert = sue.expect("alert_ticket_complaint_tendency").await;
    assert_eq!((alert["ticket"].as_u64(), alert["signal"].as_str()), (Some(id), Some("phone_request")));
    assert_eq!(alert["group"], "general");
    let owner = alert["agent"].as_str().expect("an agent on duty owns it").to_owned();
    let (mine, other) = if owner == "ann" { (0, "ben") } else { (1, "ann") };
    // The owner's console is told at once (it need not be looking at its tickets).
    let told = agents[mine].expect("ticket_assigned").await;
    assert_eq!((told["ticket"].as_u64(), told["group"].as_str()), (Some(id), Some("general")));
    assert!(told["seq"].as_u64().is_some(), "numbered: replayed to a console that resumes");
    let seen = http_get_as(addr, &format!("/v1/tickets/{id}"), Some(&token_for(&owner))).await.json();
    assert_eq!(seen["ticket"]["priority"], "urgent", "a complaint comes first");
    assert_eq!(seen["ticket"]["complaint_signals"], json!(["phone_request"]));
    assert!(as_customer(addr, &token).await["ticket"].get("complaint_signals").is_none(), "customers do not see it");
    wait_for_sample(server.admin_addr, "switchboard_complaint_signals_total{signal=\"phone_request\"}", 1.0).await;

    // The same signal is raised once per ticket; a new one is told again.
    let said = |text: &str| json!({ "text": text });
    let again = http_post(addr, "/v1/ticket/messages", Some(&token), &said("call me please").to_string()).await;
    assert_eq!(again.status, 200, "{}", again.body);
    let abusive = http_post(addr, "/v1/ticket/messages", Some(&token), &said("this is useless").to_string()).await;
    assert_eq!(abusive.status, 200, "{}", abusive.body);
    let next = sue.expect("alert_ticket_complaint_tendency").await;
    assert_eq!(next["signal"], "abusive_language", "phone_request is not told twice");

    // The customer's last message is unanswered: the transfer waits for a reply.
    let note = "Knows the carrier; customer wants a call.";
    let path = format!("/v1/tickets/{id}/transfer");
    let early = agent_post(addr, &owner, &path, json!({"to": other, "note": note})).await;
    assert_eq!((early.status, early.json()["code"].as_str()), (409, Some("ticket_reply_first")), "{}", early.body);
    let reply = json!({"text": "A colleague will call you back.", "state": "processing"});
    let replied = agent_post(addr, &owner, &format!("/v1/tickets/{id}/reply"), reply).await;
    assert_eq!(replied.status, 200, "{}", replied.body);
    let moved = agent_post(addr, &owner, &path, json!({"to": other, "note": note})).await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!(moved.json()["ticket"]["owner"], other);
    let told = agents[1 - mine].expect("ticket_assigned").await;
    assert_eq!(told["ticket"].as_u64(), Some(id), "the transfer's receiver is told");
    server.shutdown().await.unwrap();
}
