//! Shared helpers for the server's integration tests: an in-process server on
//! port 0 and real tokio-tungstenite clients over loopback.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use switchboard_protocol::agent::ServerToAgent;
use switchboard_protocol::customer::ServerToCustomer;
use switchboard_server::auth::token::Signer;
use switchboard_server::auth::Role;
use switchboard_server::config::Config;
use switchboard_server::config::Secret;
use switchboard_server::{RunningServer, TestHooks};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Request;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long a test waits for an expected frame before failing.
pub const WAIT: Duration = Duration::from_secs(5);

/// The roster used by every test: three groups, agents of known capacity, one supervisor.
pub const ROSTER: &str = r#"
[[router.groups]]
id = "general"
name = "General"

[[router.groups]]
id = "refunds"
name = "Refunds"

[[router.groups]]
id = "logistics"
name = "Logistics"

[[router.agents]]
id = "ann"
name = "Ann"
capacity = 2
groups = [{ group = "general" }]

[[router.agents]]
id = "ben"
name = "Ben"
capacity = 1
groups = [{ group = "general" }]

[[router.agents]]
id = "rita"
name = "Rita"
capacity = 2
groups = [{ group = "refunds" }]

[[router.agents]]
id = "leo"
name = "Leo"
capacity = 2
groups = [{ group = "logistics" }]

[[router.agents]]
id = "sue"
name = "Sue"
role = "supervisor"
groups = []
"#;

/// The `[auth] secret` of every test server, so tests can mint tokens.
pub const TEST_SECRET: &str = "test-secret-test-secret-test-secret-0123456789";

/// A valid token for `agent`: supervisor for the test supervisors (`sue`), agent otherwise.
pub fn token_for(agent: &str) -> String {
    let role = if agent == "sue" { Role::Supervisor } else { Role::Agent };
    token_with_role(agent, role)
}

pub fn token_with_role(agent: &str, role: Role) -> String {
    Signer::hs256(TEST_SECRET.as_bytes(), Duration::from_secs(3600)).issue(agent, role).token
}

/// The handshake request for `url`: an agent URL (`/v1/ws/agent?agent=X`)
/// gets X's token in `Sec-WebSocket-Protocol`, as the browser console sends it.
pub fn with_token(url: &str) -> Request {
    let agent =
        url.contains("/v1/ws/agent").then(|| url.split(['?', '&']).find_map(|p| p.strip_prefix("agent="))).flatten();
    match agent {
        Some(agent) => with_bearer(url, &token_for(agent)),
        None => url.into_client_request().expect("a valid WebSocket URL"),
    }
}

/// The handshake request for `url` offering `["switchboard", "bearer.<token>"]`.
pub fn with_bearer(url: &str, token: &str) -> Request {
    let mut request = url.into_client_request().expect("a valid WebSocket URL");
    let offer = HeaderValue::from_str(&format!("switchboard, bearer.{token}")).expect("a token is header-safe");
    request.headers_mut().insert("sec-websocket-protocol", offer);
    request
}

/// A config on ephemeral ports with `scale` and extra TOML (top-level keys and sections) merged in.
pub fn config(scale: f64, extra: &str) -> Config {
    let text = format!(
        "listen = \"127.0.0.1:0\"\nadmin_listen = \"127.0.0.1:0\"\nshutdown_timeout = \"3s\"\n[clock]\nscale = {scale}\n[storage]\nsync = \"none\"\n{extra}\n{ROSTER}"
    );
    let text = with_test_limits(&text);
    let mut config = Config::from_toml_str(&text).unwrap_or_else(|e| panic!("test config: {e}\n{text}"));
    if config.auth.secret.is_none() && config.auth.public_key_file.is_none() {
        config.auth.secret = Some(Secret(TEST_SECRET.into()));
    }
    // Test clients that are no longer polled never answer a close: do not wait long for them.
    config.gateway.close_timeout = Duration::from_millis(300);
    config
}

/// A config file in `dir` (the same settings as [`config`], the test secret
/// and `dir/data` as its `data_dir`, `roster` in place of [`ROSTER`]), loaded
/// the way the binary loads one: what a reload reads again.
pub fn config_file(dir: &Path, extra: &str, roster: &str) -> (std::path::PathBuf, Config) {
    let data_dir = dir.join("data");
    let text = format!(
        "listen = \"127.0.0.1:0\"\nadmin_listen = \"127.0.0.1:0\"\nshutdown_timeout = \"3s\"\n[clock]\nscale = 600.0\n\
         [storage]\nsync = \"none\"\ndata_dir = {data_dir:?}\n[auth]\nsecret = \"{TEST_SECRET}\"\n{extra}\n{roster}"
    );
    let path = dir.join("switchboard.toml");
    std::fs::write(&path, with_test_limits(&text)).unwrap();
    let mut config = Config::load(Some(&path), std::iter::empty()).unwrap_or_else(|e| panic!("test config: {e}"));
    config.gateway.close_timeout = Duration::from_millis(300);
    (path, config)
}

/// Rewrites a config file made by [`config_file`] with another roster (and extra settings).
pub fn rewrite_config_file(dir: &Path, extra: &str, roster: &str) {
    config_file(dir, extra, roster);
}

/// The gateway limits of test servers, unless `extra` sets them:
/// - an origin list: the test clients send no `Origin` (so it changes nothing
///   for them), but a config must name its origins or say `allow_any_origin`
///   to start at all;
/// - no per-IP cap and no command rate limit: every test client comes from
///   127.0.0.1, and several tests send thousands of commands as fast as they
///   can (slow readers, floods of replies). `tests/limits.rs` tests the limits.
fn with_test_limits(text: &str) -> String {
    let mut table: toml::Table = text.parse().unwrap_or_else(|e| panic!("test config: {e}\n{text}"));
    let gateway = table.entry("gateway").or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if let toml::Value::Table(gateway) = gateway {
        if !gateway.contains_key("allowed_origins") && !gateway.contains_key("allow_any_origin") {
            let origins = vec![toml::Value::String("http://127.0.0.1".to_owned())];
            gateway.insert("allowed_origins".to_owned(), toml::Value::Array(origins));
        }
        gateway.entry("max_connections_per_ip").or_insert(toml::Value::Integer(0));
        gateway.entry("message_rate").or_insert(toml::Value::Integer(0));
    }
    table.to_string()
}

/// A server in this process, on its own fresh `data_dir` (removed when the
/// server is dropped), so every test runs the durable path: entries logged,
/// effects held until written (`sync = "none"` keeps it quick).
pub struct TestServer {
    pub public_addr: SocketAddr,
    pub admin_addr: SocketAddr,
    server: RunningServer,
    _data_dir: Option<tempfile::TempDir>,
}

impl TestServer {
    pub async fn shutdown(self) -> anyhow::Result<()> {
        self.server.shutdown().await
    }
}

pub async fn start(config: Config) -> TestServer {
    start_with(config, TestHooks::default()).await
}

/// [`start`] with fault injection. A config naming its own `data_dir` keeps it.
pub async fn start_with(mut config: Config, hooks: TestHooks) -> TestServer {
    let data_dir = (config.storage.data_dir == Path::new("./data")).then(|| {
        let dir = tempfile::Builder::new().prefix("data-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        config.storage.data_dir = dir.path().to_owned();
        dir
    });
    let server = switchboard_server::start_with(config, hooks).await.expect("server starts");
    TestServer { public_addr: server.public_addr, admin_addr: server.admin_addr, server, _data_dir: data_dir }
}

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Customer,
    Agent,
}

/// A WebSocket client that checks every frame against the protocol crate's types.
pub struct Client {
    pub ws: Ws,
    pub side: Side,
    /// Frames read while looking for something else, in arrival order.
    pending: VecDeque<Value>,
    next_id: u64,
    /// Every `seq` received, in arrival order.
    pub seqs: Vec<u64>,
}

impl Client {
    /// Connects; an agent URL carries that agent's token (see [`with_token`]).
    pub async fn connect(addr: SocketAddr, path_and_query: &str, side: Side) -> Client {
        Client::connect_with(with_token(&format!("ws://{addr}{path_and_query}")), side).await
    }

    /// Connects with exactly this handshake request (the attack tests choose the token).
    pub async fn connect_with(request: Request, side: Side) -> Client {
        let (ws, _) = tokio_tungstenite::connect_async(request).await.expect("websocket connects");
        Client { ws, side, pending: VecDeque::new(), next_id: 1, seqs: Vec::new() }
    }

    /// A customer joining `group`; returns the client and its `welcome`.
    pub async fn customer(addr: SocketAddr, group: &str) -> (Client, Value) {
        let mut c = Client::connect(addr, &format!("/v1/ws/customer?group={group}"), Side::Customer).await;
        let welcome = c.expect("welcome").await;
        (c, welcome)
    }

    /// An agent connecting; returns after `welcome` and the first `state`.
    pub async fn agent(addr: SocketAddr, agent: &str) -> Client {
        let mut c = Client::connect(addr, &format!("/v1/ws/agent?agent={agent}"), Side::Agent).await;
        c.expect("welcome").await;
        c.expect("state").await;
        c
    }

    /// An agent connecting and setting themselves available.
    pub async fn available_agent(addr: SocketAddr, agent: &str) -> Client {
        let mut c = Client::agent(addr, agent).await;
        c.ok(json!({"type": "set_availability", "state": "available"})).await;
        c
    }

    pub async fn send_raw(&mut self, message: Message) {
        self.ws.send(message).await.expect("send");
    }

    pub async fn send(&mut self, value: &Value) {
        self.send_raw(Message::Text(value.to_string().into())).await;
    }

    /// The next frame, from the pending list or the socket. Panics on timeout or close.
    pub async fn next(&mut self) -> Value {
        if let Some(v) = self.pending.pop_front() {
            return v;
        }
        self.read().await.unwrap_or_else(|| panic!("{:?}: connection closed while waiting for a frame", self.side))
    }

    /// Reads one text frame from the socket; `None` when the connection ends.
    pub async fn read(&mut self) -> Option<Value> {
        loop {
            let msg = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .unwrap_or_else(|_| panic!("{:?}: no frame within {WAIT:?}", self.side));
            match msg {
                Some(Ok(Message::Text(text))) => return Some(self.check(&text)),
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
                Some(Ok(_)) => continue,
            }
        }
    }

    /// Decodes with the protocol crate (the server must speak it exactly), returns the JSON.
    fn check(&mut self, text: &str) -> Value {
        match self.side {
            Side::Customer => {
                serde_json::from_str::<ServerToCustomer>(text)
                    .unwrap_or_else(|e| panic!("not a customer message: {e}: {text}"));
            }
            Side::Agent => {
                serde_json::from_str::<ServerToAgent>(text)
                    .unwrap_or_else(|e| panic!("not an agent message: {e}: {text}"));
            }
        }
        let v: Value = serde_json::from_str(text).unwrap();
        if let Some(seq) = v["seq"].as_u64() {
            self.seqs.push(seq);
        }
        v
    }

    /// Asserts the session-level messages so far were numbered `first`, `first + 1`, ... without gaps or repeats.
    pub fn assert_seqs_contiguous_from(&self, first: u64) {
        let expected: Vec<u64> = (first..first + self.seqs.len() as u64).collect();
        assert_eq!(self.seqs, expected, "{:?}: seq numbers must be contiguous", self.side);
    }

    /// The first frame of type `kind`; frames skipped on the way stay pending, in order.
    pub async fn expect(&mut self, kind: &str) -> Value {
        if let Some(i) = self.pending.iter().position(|v| v["type"] == kind) {
            return self.pending.remove(i).unwrap();
        }
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let v = tokio::time::timeout_at(deadline, self.read())
                .await
                .unwrap_or_else(|_| panic!("{:?}: no `{kind}` within {WAIT:?}; pending: {:?}", self.side, self.pending))
                .unwrap_or_else(|| {
                    panic!("{:?}: closed while waiting for `{kind}`; pending: {:?}", self.side, self.pending)
                });
            if v["type"] == kind {
                return v;
            }
            self.pending.push_back(v);
        }
    }

    /// Is a frame of this type already pending (without reading)?
    pub fn has_pending(&self, kind: &str) -> bool {
        self.pending.iter().any(|v| v["type"] == kind)
    }

    /// Reads for `window`; panics if a frame of type `kind` arrives. Others stay pending.
    pub async fn expect_none(&mut self, kind: &str, window: Duration) {
        assert!(!self.has_pending(kind), "{:?}: unexpected `{kind}` pending: {:?}", self.side, self.pending);
        let deadline = tokio::time::Instant::now() + window;
        while let Ok(next) = tokio::time::timeout_at(deadline, self.ws.next()).await {
            match next {
                Some(Ok(Message::Text(text))) => {
                    let v = self.check(&text);
                    assert_ne!(v["type"], kind, "{:?}: unexpected frame {v}", self.side);
                    self.pending.push_back(v);
                }
                Some(Ok(_)) => {}
                _ => break,
            }
        }
    }

    /// Sends a command with a fresh id; returns the `ack` or `error` for it.
    pub async fn command(&mut self, mut command: Value) -> Value {
        let id = format!("t{}", self.next_id);
        self.next_id += 1;
        command["id"] = json!(id);
        self.send(&command).await;
        self.reply_to(&id).await
    }

    /// The `ack` or `error` for command `id`.
    pub async fn reply_to(&mut self, id: &str) -> Value {
        if let Some(i) = self.pending.iter().position(|v| (v["type"] == "ack" || v["type"] == "error") && v["id"] == id)
        {
            return self.pending.remove(i).unwrap();
        }
        loop {
            let v =
                self.read().await.unwrap_or_else(|| panic!("{:?}: closed waiting for the reply to {id}", self.side));
            if (v["type"] == "ack" || v["type"] == "error") && v["id"] == id {
                return v;
            }
            self.pending.push_back(v);
        }
    }

    /// Sends a command and asserts it was acked.
    pub async fn ok(&mut self, command: Value) -> Value {
        let reply = self.command(command.clone()).await;
        assert_eq!(reply["type"], "ack", "{:?}: {command} was refused: {reply}", self.side);
        reply
    }

    /// Sends a command and asserts it was refused with `code`.
    pub async fn refused(&mut self, command: Value, code: &str) -> Value {
        let reply = self.command(command.clone()).await;
        assert_eq!(reply["type"], "error", "{:?}: {command} should be refused: {reply}", self.side);
        assert_eq!(reply["code"], code, "{:?}: {command}: {reply}", self.side);
        assert!(reply["message"].as_str().is_some_and(|m| !m.is_empty()));
        reply
    }

    /// Waits for the close frame; returns its code.
    pub async fn expect_close(&mut self) -> Option<u16> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.ws.next()).await.expect("close within the wait") {
                Some(Ok(Message::Close(frame))) => return frame.map(|f: CloseFrame| u16::from(f.code)),
                Some(Ok(Message::Text(text))) => {
                    let v = self.check(&text);
                    self.pending.push_back(v);
                }
                Some(Ok(_)) => {}
                None | Some(Err(_)) => return None,
            }
        }
    }

    /// Closes cleanly and waits for the server's close frame.
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
        let _ = tokio::time::timeout(WAIT, async { while let Some(Ok(_)) = self.ws.next().await {} }).await;
    }
}

/// The opening most tests share: `agent` made available, then a customer of
/// `group` who is assigned to them, with both sides told.
pub struct AssignedChat {
    pub agent: Client,
    pub customer: Client,
    pub session: u64,
    /// The customer's `welcome`.
    pub welcome: Value,
    /// The customer's `assigned` message.
    pub assigned: Value,
}

pub async fn assigned_chat(addr: SocketAddr, agent: &str, group: &str) -> AssignedChat {
    let mut agent = Client::available_agent(addr, agent).await;
    let (mut customer, welcome) = Client::customer(addr, group).await;
    let session = welcome["session"].as_u64().unwrap();
    let assigned = customer.expect("assigned").await;
    agent.expect("session_assigned").await;
    AssignedChat { agent, customer, session, welcome, assigned }
}

/// `GET path` on `addr` over plain HTTP/1.1; returns (status, body).
pub async fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let answer = http_exchange(addr, format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")).await;
    (answer.status, answer.body)
}

/// `GET path` with an optional bearer token.
pub async fn http_get_as(addr: SocketAddr, path: &str, bearer: Option<&str>) -> HttpAnswer {
    let auth = bearer.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    http_exchange(addr, format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n")).await
}

/// Sends one raw HTTP/1.1 request and reads the whole answer.
async fn http_exchange(addr: SocketAddr, request: String) -> HttpAnswer {
    let mut stream = TcpStream::connect(addr).await.expect("http connect");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut response)).await.expect("http response in time").unwrap();
    let response = String::from_utf8(response).expect("utf-8 response");
    let (head, body) = response.split_once("\r\n\r\n").expect("http head and body");
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("status code");
    HttpAnswer { status, head: head.to_lowercase(), body: body.to_owned() }
}

/// The value of one sample line of `/metrics` (exact name and labels), if present.
pub fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|l| {
        l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')).and_then(|v| v.trim().parse().ok())
    })
}

/// Polls `/metrics` until `series` has `value` (gauges update on a 250 ms tick).
pub async fn wait_for_sample(admin: SocketAddr, series: &str, value: f64) -> String {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (status, body) = http_get(admin, "/metrics").await;
        assert_eq!(status, 200);
        if sample(&body, series) == Some(value) {
            return body;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("{series} never became {value}; last:\n{body}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// An HTTP/1.1 answer: status, head (lower-cased header lines) and body.
pub struct HttpAnswer {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl HttpAnswer {
    /// The body as JSON (`Null` if it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// A header's value (name in lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(':').map(str::trim))
    }
}

/// `POST path` with a JSON body and optional bearer token.
pub async fn http_post(addr: SocketAddr, path: &str, bearer: Option<&str>, body: &str) -> HttpAnswer {
    let auth = bearer.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    http_exchange(addr, request).await
}

/// `POST /v1/login`.
pub async fn login(addr: SocketAddr, agent: &str, password: &str) -> HttpAnswer {
    http_post(addr, "/v1/login", None, &json!({"agent": agent, "password": password}).to_string()).await
}
