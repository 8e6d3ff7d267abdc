//! Canned replies over loopback (docs/canned-replies.md): `GET /v1/canned`
//! offers an agent their own replies, then the config's for them, their
//! groups' and everyone's (a group's only to its agents); `PUT /v1/canned`
//! refuses bad lists with their codes and what it keeps survives a restart.

mod common;

use std::net::SocketAddr;

use common::*;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CANNED: &str = r#"
[[canned]]
shortcut = "hello"
text = "Hello {customer}, I am {agent}."

[[canned]]
shortcut = "refund-policy"
text = "Refunds take 3 working days."
group = "refunds"
lang = "en"

[[canned]]
shortcut = "ann-sig"
text = "Ann from Switchboard"
agent = "ann"
"#;

/// `PUT path` with a bearer token and a JSON body: (status, JSON body).
async fn put(addr: SocketAddr, token: Option<&str>, body: &str) -> (u16, Value) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let request = format!(
        "PUT /v1/canned HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

async fn get(addr: SocketAddr, agent: &str) -> Value {
    let answer = http_get_as(addr, "/v1/canned", Some(&token_for(agent))).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json()
}

fn shortcuts(listing: &Value) -> Vec<(String, String)> {
    listing["replies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["scope"].as_str().unwrap().to_owned(), r["shortcut"].as_str().unwrap().to_owned()))
        .collect()
}

/// The agent's own replies in a listing (the config's defaults come after them).
fn own(listing: &Value) -> Vec<(String, String)> {
    shortcuts(listing).into_iter().filter(|(scope, _)| scope == "own").collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
}

#[tokio::test]
async fn group_replies_go_only_to_agents_of_that_group_and_agent_replies_only_to_that_agent() {
    let server = start(config(1.0, CANNED)).await;
    let addr = server.public_addr;
    assert_eq!(shortcuts(&get(addr, "ann").await), pairs(&[("agent", "ann-sig"), ("global", "hello")]));
    assert_eq!(shortcuts(&get(addr, "rita").await), pairs(&[("group", "refund-policy"), ("global", "hello")]));
    let rita = get(addr, "rita").await;
    assert_eq!(rita["replies"][0]["group"], "refunds");
    assert_eq!(rita["replies"][0]["lang"], "en");
    let unauthenticated = http_get_as(addr, "/v1/canned", None).await;
    assert_eq!(unauthenticated.status, 401);
    assert!(unauthenticated.json()["code"].is_string());
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn without_canned_in_the_config_the_handbooks_replies_are_offered_in_both_languages() {
    let server = start(config(1.0, "")).await;
    let listing = get(server.public_addr, "ben").await;
    let replies = listing["replies"].as_array().unwrap();
    let find = |shortcut: &str, lang: &str| {
        replies.iter().find(|r| r["shortcut"] == shortcut && r["lang"] == lang).map(|r| r["text"].clone())
    };
    assert!(find("wait", "zh").unwrap().as_str().unwrap().contains("请您稍等"));
    assert!(find("wait", "en").unwrap().as_str().unwrap().contains("{customer}"));
    assert!(find("transfer", "zh").unwrap().as_str().unwrap().contains("转交给相关同事"));
    assert!(find("transfer", "en").is_some());
    assert!(replies.iter().all(|r| r["scope"] == "global"));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn bad_lists_are_refused_with_their_codes_and_change_nothing() {
    let server = start(config(1.0, "")).await;
    let addr = server.public_addr;
    let ann = token_for("ann");
    let good = json!({"replies": [{"shortcut": "thanks", "text": "Thank you, {customer}!"}]}).to_string();
    assert_eq!(put(addr, Some(&ann), &good).await.0, 200);
    let many: Vec<Value> = (0..101).map(|i| json!({"shortcut": format!("r{i}"), "text": "x"})).collect();
    let cases = [
        (json!({"replies": [{"shortcut": "Bad Shortcut", "text": "x"}]}).to_string(), 400, "canned_invalid_shortcut"),
        (json!({"replies": [{"shortcut": "../../etc", "text": "x"}]}).to_string(), 400, "canned_invalid_shortcut"),
        (json!({"replies": [{"shortcut": "a", "text": "   "}]}).to_string(), 400, "canned_invalid_text"),
        (json!({"replies": [{"shortcut": "a", "text": "x".repeat(1001)}]}).to_string(), 400, "canned_invalid_text"),
        (json!({"replies": [{"shortcut": "a", "text": "x", "lang": "fr"}]}).to_string(), 400, "canned_invalid_lang"),
        (
            json!({"replies": [{"shortcut": "a", "text": "x"}, {"shortcut": "a", "text": "y"}]}).to_string(),
            400,
            "canned_duplicate_shortcut",
        ),
        (json!({ "replies": many }).to_string(), 400, "canned_too_many"),
        ("not json".to_owned(), 400, "invalid_request"),
        (json!({"replies": [{"shortcut": "a", "text": "x", "scope": "global"}]}).to_string(), 400, "invalid_request"),
    ];
    for (body, status, code) in cases {
        let (got, answer) = put(addr, Some(&ann), &body).await;
        assert_eq!((got, answer["code"].as_str()), (status, Some(code)), "{body}: {answer}");
        assert!(answer["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let (status, answer) = put(addr, None, &good).await;
    assert_eq!(status, 401, "{answer}");
    assert_eq!(own(&get(addr, "ann").await), pairs(&[("own", "thanks")]));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_agents_own_replies_are_theirs_alone_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (_, first_config) = config_file(dir.path(), "", ROSTER);
    let server = start(first_config).await;
    let body = json!({"replies": [
        {"shortcut": "wa", "text": "  Please wait, {customer}.  ", "lang": "en"},
        {"shortcut": "wa", "text": "请稍等，{customer}。", "lang": "zh"},
    ]});
    let (status, answer) = put(server.public_addr, Some(&token_for("ann")), &body.to_string()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["own"][0]["text"], "Please wait, {customer}.", "edges trimmed");
    assert_eq!(own(&get(server.public_addr, "ben").await), Vec::<(String, String)>::new());
    server.shutdown().await.unwrap();

    let (_, second_config) = config_file(dir.path(), "", ROSTER);
    let server = start(second_config).await;
    let listing = get(server.public_addr, "ann").await;
    assert_eq!(own(&listing), pairs(&[("own", "wa"), ("own", "wa")]));
    assert_eq!(listing["own"][1]["text"], "请稍等，{customer}。");
    assert_eq!(listing["limits"]["max_replies"], 100);
    // Emptied, and that survives too.
    assert_eq!(put(server.public_addr, Some(&token_for("ann")), r#"{"replies": []}"#).await.0, 200);
    server.shutdown().await.unwrap();
    let (_, third_config) = config_file(dir.path(), "", ROSTER);
    let server = start(third_config).await;
    assert_eq!(get(server.public_addr, "ann").await["own"], json!([]));
    server.shutdown().await.unwrap();
}

#[test]
fn a_config_naming_an_unknown_group_is_refused_with_the_key() {
    let text = format!(
        "[gateway]\nallow_any_origin = true\n[auth]\nsecret = \"0123456789abcdef0123456789abcdef\"\n[[canned]]\nshortcut = \"x\"\ntext = \"y\"\ngroup = \"nope\"\n{ROSTER}"
    );
    let error = switchboard_server::config::Config::from_toml_str(&text).unwrap_err();
    assert_eq!(error.key_name(), Some("canned[0]"), "{error}");
}

#[tokio::test]
async fn a_reload_applies_a_changed_canned_list_and_keeps_the_agents_own() {
    let dir = tempfile::tempdir().unwrap();
    let admin_role = "\n[[router.agents]]\nid = \"ada\"\nrole = \"admin\"\ngroups = []\n";
    let roster = format!("{ROSTER}{admin_role}");
    let (_, config) = config_file(dir.path(), "", &roster);
    let server = start(config).await;
    let addr = server.public_addr;
    let mine = json!({"replies": [{"shortcut": "mine", "text": "x"}]}).to_string();
    assert_eq!(put(addr, Some(&token_for("rita")), &mine).await.0, 200);
    assert!(shortcuts(&get(addr, "rita").await).contains(&("global".to_owned(), "wait".to_owned())));

    config_file(dir.path(), CANNED, &roster);
    let admin_token = token_with_role("ada", switchboard_server::auth::Role::Admin);
    let answer = http_post(server.admin_addr, "/v1/admin/reload", Some(&admin_token), "").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        shortcuts(&get(addr, "rita").await),
        pairs(&[("own", "mine"), ("group", "refund-policy"), ("global", "hello")])
    );
    server.shutdown().await.unwrap();
}
