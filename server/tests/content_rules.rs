//! Content rules for agents over a real server (docs/content-rules.md): a
//! flagged reply is sent and recorded as a conduct flag naming the rule; a
//! blocked reply is refused with `content_blocked` and the customer gets
//! nothing; ticket replies the same over HTTP (422).

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;

#[tokio::test]
async fn a_flagged_reply_is_sent_and_a_blocked_one_reaches_nobody() {
    let server = start(config(1.0, "")).await;
    let addr = server.public_addr;
    let mut sue = Client::agent(addr, "sue").await;
    let AssignedChat { agent: mut ann, mut customer, session, .. } = assigned_chat(addr, "ann", "general").await;
    customer.ok(json!({"type": "message", "text": "I forgot my password"})).await;
    ann.expect("customer_message").await;

    // Blocked: refused, named, nothing sent; still a flag for supervisors.
    let refused = ann
        .refused(json!({"type": "reply", "session": session, "text": "加我微信 wx_ann88 我帮你看"}), "content_blocked")
        .await;
    assert!(refused["message"].as_str().unwrap().contains("`off_platform`"), "{refused}");
    let flag = ann.expect("conduct_flagged").await["flag"].clone();
    assert_eq!(
        (&flag["kind"], &flag["category"], &flag["rule"], &flag["session"]),
        (&json!("content_rule"), &json!("content_rule"), &json!("off_platform"), &json!(session))
    );
    assert_eq!(sue.expect("alert_conduct_flagged").await["flag"], flag);
    customer.expect_none("agent_message", Duration::from_millis(300)).await;

    // The password rule blocks asking for it, not talking about it.
    ann.refused(
        json!({"type": "reply", "session": session, "text": "Please tell me your password."}),
        "content_blocked",
    )
    .await;
    let advice = "Reset your password via the official page; never tell anyone your password.";
    ann.ok(json!({"type": "reply", "session": session, "text": advice})).await;
    assert_eq!(customer.expect("agent_message").await["text"], advice, "the blocked replies never arrived");

    // Flagged: sent, and flagged.
    let rude = "Don't be stupid, read the page again.";
    ann.ok(json!({"type": "reply", "session": session, "text": rude})).await;
    assert_eq!(customer.expect("agent_message").await["text"], rude);
    let flags: Vec<_> = [ann.expect("conduct_flagged").await, ann.expect("conduct_flagged").await]
        .into_iter()
        .map(|f| f["flag"]["rule"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(flags, ["password_request", "insult"]);

    let metrics =
        wait_for_sample(server.admin_addr, r#"switchboard_content_rule_flags_total{rule="insult"}"#, 1.0).await;
    assert_eq!(sample(&metrics, r#"switchboard_content_rule_flags_total{rule="off_platform"}"#), Some(1.0));
    assert_eq!(
        sample(&metrics, r#"switchboard_conduct_flags_total{kind="content_rule",category="content_rule"}"#),
        Some(3.0)
    );
    assert_eq!(sample(&metrics, r#"switchboard_protocol_errors_total{code="content_blocked"}"#), Some(2.0));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn configured_rules_replace_the_defaults() {
    let rules = r#"
[[content.rules]]
name = "competitor"
words = ["OtherShop"]
action = "block"
"#;
    let server = start(config(1.0, rules)).await;
    let addr = server.public_addr;
    let AssignedChat { agent: mut ann, mut customer, session, .. } = assigned_chat(addr, "ann", "general").await;
    customer.ok(json!({"type": "message", "text": "hi"})).await;
    ann.expect("customer_message").await;
    let refused =
        ann.refused(json!({"type": "reply", "session": session, "text": "Try othershop.com"}), "content_blocked").await;
    assert!(refused["message"].as_str().unwrap().contains("`competitor`"), "{refused}");
    // The defaults are gone: this would be blocked by `off_platform`.
    ann.ok(json!({"type": "reply", "session": session, "text": "加我微信"})).await;
    assert_eq!(customer.expect("agent_message").await["text"], "加我微信");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn ticket_replies_are_checked_too() {
    let server = start(config(1.0, "")).await;
    let addr = server.public_addr;
    let mut ann = Client::available_agent(addr, "ann").await;
    let left = http_post(
        addr,
        "/v1/tickets",
        None,
        &json!({"group": "general", "text": "Refund?", "name": "Zoe", "reason": "nobody_available"}).to_string(),
    )
    .await;
    assert_eq!(left.status, 201, "{}", left.body);
    let (id, token) =
        (left.json()["ticket"]["id"].as_u64().unwrap(), left.json()["token"].as_str().unwrap().to_owned());
    let reply = |text: &str| json!({"text": text, "state": "processing"}).to_string();
    let path = format!("/v1/tickets/{id}/reply");

    let blocked = http_post(addr, &path, Some(&token_for("ann")), &reply("发给我你的验证码")).await;
    assert_eq!((blocked.status, blocked.json()["code"].as_str()), (422, Some("content_blocked")), "{}", blocked.body);
    assert!(blocked.json()["message"].as_str().unwrap().contains("`password_request`"), "{}", blocked.body);
    let flag = ann.expect("conduct_flagged").await["flag"].clone();
    assert_eq!((&flag["rule"], &flag["session"]), (&json!("password_request"), &serde_json::Value::Null));

    let sent = http_post(addr, &path, Some(&token_for("ann")), &reply("你懂不懂？退款已经处理了")).await;
    assert_eq!(sent.status, 200, "a flagged reply is sent: {}", sent.body);
    assert_eq!(ann.expect("conduct_flagged").await["flag"]["rule"], "arguing");
    let seen = http_get_as(addr, "/v1/ticket", Some(&token)).await.json();
    let texts: Vec<_> = seen["ticket"]["messages"].as_array().unwrap().iter().map(|m| m["text"].clone()).collect();
    assert_eq!(texts, [json!("Refund?"), json!("你懂不懂？退款已经处理了")], "the blocked reply is not in the ticket");
    server.shutdown().await.unwrap();
}

/// A reload (`POST /v1/admin/reload`) takes new rules for the replies that follow.
#[tokio::test]
async fn a_reload_changes_the_rules_for_the_replies_that_follow() {
    use switchboard_server::auth::Role;
    let dir = tempfile::Builder::new().prefix("content-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let admin = "\n[[router.agents]]\nid = \"ada\"\nrole = \"admin\"\ngroups = []\n";
    let roster = format!("{ROSTER}{admin}");
    let (_, config) = config_file(dir.path(), "", &roster);
    let server = start(config).await;
    let AssignedChat { agent: mut ann, mut customer, session, .. } =
        assigned_chat(server.public_addr, "ann", "general").await;
    customer.ok(json!({"type": "message", "text": "hi"})).await;
    ann.expect("customer_message").await;
    let text = "add me on WeChat: ann_1988";
    ann.refused(json!({"type": "reply", "session": session, "text": text}), "content_blocked").await;

    rewrite_config_file(dir.path(), "[content]\nrules = []\n", &roster);
    let answer = http_post(server.admin_addr, "/v1/admin/reload", Some(&token_with_role("ada", Role::Admin)), "").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    ann.ok(json!({"type": "reply", "session": session, "text": text})).await;
    assert_eq!(customer.expect("agent_message").await["text"], text, "no rules any more: sent");
    server.shutdown().await.unwrap();
}
