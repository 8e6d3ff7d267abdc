//! Spot checks and complaints over the real server (docs/quality.md): a
//! supervisor marks a closed chat; a customer complains about a chat with
//! its receipt (from the `closed` frame) or about a ticket with its token;
//! another customer's credential is refused; a review is final; the
//! customer sees the outcome; a complaint filed before the chat's record
//! arrived gets its agent once it does.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A chat Ann serves and closes; returns (session, receipt) from the customer's `closed` frame.
async fn served_chat(addr: SocketAddr) -> (u64, String) {
    let mut chat = assigned_chat(addr, "ann", "general").await;
    chat.customer.ok(json!({"type": "message", "text": "My parcel never arrived"})).await;
    chat.agent.expect("customer_message").await;
    chat.agent.ok(json!({"type": "reply", "session": chat.session, "text": "Not my problem"})).await;
    chat.agent.ok(json!({"type": "close", "session": chat.session, "reason": "resolved"})).await;
    let closed = chat.customer.expect("closed").await;
    assert_eq!(closed["session"].as_u64(), Some(chat.session), "{closed}");
    let receipt = closed["receipt"].as_str().expect("the closed frame carries the chat's receipt").to_owned();
    chat.customer.close().await;
    chat.agent.close().await;
    (chat.session, receipt)
}

/// Polls the supervisor's chat lookup until the chat's record is there.
async fn recorded(addr: SocketAddr, session: u64) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let answer = http_get_as(addr, &format!("/v1/records/chats/{session}"), Some(&token_for("sue"))).await;
        if answer.status == 200 {
            return answer.json();
        }
        assert!(tokio::time::Instant::now() < deadline, "chat {session} never recorded: {}", answer.body);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn http_put(addr: SocketAddr, path: &str, bearer: Option<&str>, body: &str) -> HttpAnswer {
    let auth = bearer.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let request = format!(
        "PUT {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    HttpAnswer { status, head: head.to_lowercase(), body: body.to_owned() }
}

fn code_of(answer: &HttpAnswer) -> (u16, String) {
    (answer.status, answer.json()["code"].as_str().unwrap_or_default().to_owned())
}

fn expect_code(answer: &HttpAnswer, status: u16, code: &str) {
    assert_eq!(code_of(answer), (status, code.to_owned()), "{}", answer.body);
}

async fn complain(addr: SocketAddr, credential: &str, kind: &str, id: u64) -> HttpAnswer {
    let body = json!({"subject": {"kind": kind, "id": id}, "reason": "The agent was rude", "kind": "attitude"});
    http_post(addr, "/v1/complaints", Some(credential), &body.to_string()).await
}

#[tokio::test]
async fn a_spot_check_is_marked_replaced_listed_and_shown_with_the_chat() {
    let server = start(config(600.0, "")).await;
    let addr = server.public_addr;
    let (session, _) = served_chat(addr).await;
    recorded(addr, session).await;
    let sue = token_for("sue");
    let path = format!("/v1/records/chats/{session}/spot-check");
    let fail = json!({"result": "fail", "comment": "answered off-topic"}).to_string();
    expect_code(&http_put(addr, &path, None, &fail).await, 401, "token_missing");
    expect_code(&http_put(addr, &path, Some(&token_for("ann")), &fail).await, 403, "supervisors_only");
    expect_code(&http_put(addr, &path, Some(&sue), r#"{"result": "maybe"}"#).await, 400, "invalid_request");
    expect_code(&http_put(addr, &path, Some(&sue), "not json").await, 400, "invalid_request");
    expect_code(&http_put(addr, "/v1/records/chats/999/spot-check", Some(&sue), &fail).await, 404, "chat_not_found");
    let marked = http_put(addr, &path, Some(&sue), &fail).await;
    assert_eq!(marked.status, 200, "{}", marked.body);
    assert_eq!((marked.json()["agent"].as_str(), marked.json()["checked_by"].as_str()), (Some("ann"), Some("sue")));
    // Re-marking replaces the verdict.
    let pass = json!({"result": "pass", "comment": "fine on a second look"}).to_string();
    assert_eq!(http_put(addr, &path, Some(&sue), &pass).await.status, 200);
    let chat = recorded(addr, session).await;
    assert_eq!(chat["spot_check"]["result"], "pass", "{chat}");
    let list = http_get_as(addr, "/v1/spot-checks?agent=ann", Some(&sue)).await;
    assert_eq!(list.status, 200, "{}", list.body);
    let list = list.json();
    assert_eq!(
        (list["checked"].as_u64(), list["passed"].as_u64(), list["pass_rate"].as_f64()),
        (Some(1), Some(1), Some(1.0))
    );
    expect_code(&http_get_as(addr, "/v1/spot-checks?colour=red", Some(&sue)).await, 400, "invalid_request");
    expect_code(&http_get_as(addr, "/v1/spot-checks", Some(&token_for("ann"))).await, 403, "supervisors_only");
    let next = http_get_as(addr, "/v1/spot-checks/next?agent=ann", Some(&sue)).await.json();
    assert_eq!(next["chat"], Value::Null, "the only chat is checked: {next}");
    let metrics = wait_for_sample(server.admin_addr, "switchboard_spot_checks_total{outcome=\"pass\"}", 1.0).await;
    assert_eq!(sample(&metrics, "switchboard_spot_checks_total{outcome=\"fail\"}"), Some(1.0));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_chat_nobody_served_cannot_be_checked() {
    let server = start(config(600.0, "")).await;
    let addr = server.public_addr;
    let (mut customer, welcome) = Client::customer(addr, "general").await;
    let session = welcome["session"].as_u64().unwrap();
    customer.ok(json!({"type": "leave"})).await;
    customer.expect("closed").await;
    recorded(addr, session).await;
    let path = format!("/v1/records/chats/{session}/spot-check");
    let answer = http_put(addr, &path, Some(&token_for("sue")), r#"{"result": "pass"}"#).await;
    expect_code(&answer, 409, "nobody_served");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_customer_complains_with_the_receipt_and_sees_the_review_once_decided() {
    let server = start(config(600.0, "")).await;
    let addr = server.public_addr;
    // Filed at once from the closing screen: the chat's record may not be there yet.
    let (session, receipt) = served_chat(addr).await;
    let (other, other_receipt) = served_chat(addr).await;
    expect_code(&complain(addr, &other_receipt, "chat", session).await, 403, "not_your_subject");
    expect_code(&complain(addr, "0badc0de", "chat", session).await, 403, "not_your_subject");
    let no_credential =
        http_post(addr, "/v1/complaints", None, r#"{"subject": {"kind": "chat", "id": 1}, "reason": "x"}"#);
    expect_code(&no_credential.await, 401, "token_missing");
    let empty = json!({"subject": {"kind": "chat", "id": session}, "reason": "  "}).to_string();
    expect_code(&http_post(addr, "/v1/complaints", Some(&receipt), &empty).await, 400, "invalid_request");
    let filed = complain(addr, &receipt, "chat", session).await;
    assert_eq!(filed.status, 201, "{}", filed.body);
    let filed = filed.json();
    assert_eq!(
        (filed["state"].as_str(), filed["reason"].as_str()),
        (Some("open"), Some("attitude: The agent was rude"))
    );
    let (id, token) = (filed["complaint"].as_str().unwrap().to_owned(), filed["token"].as_str().unwrap().to_owned());
    expect_code(&complain(addr, &receipt, "chat", session).await, 409, "complaint_exists");

    // Another customer's credentials read nothing.
    let path = format!("/v1/complaints/{id}");
    expect_code(&http_get_as(addr, &path, Some(&other_receipt)).await, 403, "not_your_subject");
    expect_code(&http_get_as(addr, &path, Some(&token_for("ann"))).await, 403, "supervisors_only");
    expect_code(&http_get_as(addr, "/v1/complaints/nope", Some(&token_for("sue"))).await, 404, "complaint_not_found");
    let _ = other;

    // The supervisor's list: the agent is known once the chat's record is in.
    recorded(addr, session).await;
    let sue = token_for("sue");
    let open = http_get_as(addr, "/v1/complaints?state=open", Some(&sue)).await;
    assert_eq!(open.status, 200, "{}", open.body);
    let listed = &open.json()["complaints"][0];
    assert_eq!((listed["complaint"].as_str(), listed["agent"].as_str()), (Some(id.as_str()), Some("ann")), "{listed}");
    expect_code(&http_get_as(addr, "/v1/complaints?state=maybe", Some(&sue)).await, 400, "invalid_request");
    expect_code(&http_get_as(addr, "/v1/complaints", Some(&token_for("ann"))).await, 403, "supervisors_only");

    let review = format!("/v1/complaints/{id}/review");
    let verdict = json!({"outcome": "upheld", "category": "non_business", "comment": "We apologise: that was rude."});
    expect_code(
        &http_post(addr, &review, Some(&token_for("ann")), &verdict.to_string()).await,
        403,
        "supervisors_only",
    );
    let bad = json!({"outcome": "upheld", "category": "rudeness"}).to_string();
    expect_code(&http_post(addr, &review, Some(&sue), &bad).await, 400, "invalid_request");
    let decided = http_post(addr, &review, Some(&sue), &verdict.to_string()).await;
    assert_eq!(decided.status, 200, "{}", decided.body);
    assert_eq!(
        (decided.json()["state"].as_str(), decided.json()["category"].as_str()),
        (Some("upheld"), Some("non_business"))
    );
    let again = json!({"outcome": "rejected", "category": "business"}).to_string();
    expect_code(&http_post(addr, &review, Some(&sue), &again).await, 409, "complaint_decided");

    // The customer sees the outcome and the public comment, not who judged or the agent.
    let seen = http_get_as(addr, &path, Some(&token)).await;
    assert_eq!(seen.status, 200, "{}", seen.body);
    let seen = seen.json();
    assert_eq!(
        (seen["state"].as_str(), seen["comment"].as_str()),
        (Some("upheld"), Some("We apologise: that was rude."))
    );
    assert!(seen.get("agent").is_none() && seen.get("reviewed_by").is_none(), "{seen}");
    // Decided: a new complaint about the same chat may be filed.
    assert_eq!(complain(addr, &receipt, "chat", session).await.status, 201);

    let admin = server.admin_addr;
    let metrics =
        wait_for_sample(admin, "switchboard_complaints_total{group=\"general\",outcome=\"upheld\"}", 1.0).await;
    assert_eq!(sample(&metrics, "switchboard_complaints_total{group=\"general\",outcome=\"filed\"}"), Some(2.0));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_customer_complains_about_a_ticket_with_its_token_only() {
    let server = start(config(600.0, "")).await;
    let addr = server.public_addr;
    let leave = |name: &'static str| async move {
        let body =
            json!({"group": "general", "text": "Where is my refund?", "name": name, "reason": "nobody_available"});
        let answer = http_post(addr, "/v1/tickets", None, &body.to_string()).await;
        assert_eq!(answer.status, 201, "{}", answer.body);
        let body = answer.json();
        (body["ticket"]["id"].as_u64().unwrap(), body["token"].as_str().unwrap().to_owned())
    };
    let (ticket, token) = leave("Zoe").await;
    let (other, other_token) = leave("Yan").await;
    expect_code(&complain(addr, &other_token, "ticket", ticket).await, 403, "not_your_subject");
    expect_code(&complain(addr, "nonsense", "ticket", ticket).await, 403, "not_your_subject");
    let filed = complain(addr, &token, "ticket", ticket).await;
    assert_eq!(filed.status, 201, "{}", filed.body);
    assert_eq!(filed.json()["subject"], json!({"kind": "ticket", "id": ticket}));
    let id = filed.json()["complaint"].as_str().unwrap().to_owned();
    let full = http_get_as(addr, &format!("/v1/complaints/{id}"), Some(&token_for("sue"))).await.json();
    assert_eq!(full["group"], "general", "{full}");
    let _ = other;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn complaints_are_rate_limited_per_address() {
    // The default (10 a minute), then the configured `quality.complaints_per_ip`.
    for (extra, limit) in [("", 10), ("[quality]\ncomplaints_per_ip = 3", 3)] {
        let server = start(config(600.0, extra)).await;
        let addr = server.public_addr;
        let mut codes = Vec::new();
        for _ in 0..=limit {
            codes.push(code_of(&complain(addr, "0badc0de", "chat", 1).await));
        }
        assert_eq!(codes[..limit].iter().filter(|c| c.1 == "not_your_subject").count(), limit, "{codes:?}");
        assert_eq!(codes[limit], (429, "rate_limited".to_owned()), "{extra}");
        server.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn records_off_means_no_spot_checks_and_no_complaints() {
    let server = start(config(600.0, "[records]\nenabled = false")).await;
    let addr = server.public_addr;
    let answer = http_get_as(addr, "/v1/spot-checks", Some(&token_for("sue"))).await;
    expect_code(&answer, 404, "records_disabled");
    expect_code(&complain(addr, "0badc0de", "chat", 1).await, 404, "records_disabled");
    server.shutdown().await.unwrap();
}
