//! Simulated customers and agents, speaking either the real protocol (server) or
//! the same frames through the baseline relay.
//!
//! Against the server, clients speak `switchboard-protocol` as the widget and the
//! agent console do: customers join a group, wait for `assigned`, send `message`
//! commands; agents set themselves available, take `session_assigned`, `reply`.
//! Against the baseline relay, the same command frames are sent and arrive
//! verbatim at the paired connection (the relay has no routing), so both sides
//! of the comparison encode and decode JSON of the same size.
//!
//! Chat texts carry the intended send time: `lt:<nanoseconds since run start>:`
//! followed by filler up to the requested size.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt as _, StreamExt as _};
use serde::Serialize;
use switchboard_protocol::agent::{AgentCommand, AvailabilityRequest, ServerToAgent};
use switchboard_protocol::common::SessionStatus;
use switchboard_protocol::customer::{CustomerCommand, ServerToCustomer};
use switchboard_protocol::encode;
use switchboard_server::auth::token::Signer;
use switchboard_server::auth::Role as TokenRole;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use crate::net::{self, Endpoint, Sources, Ws};
use crate::stats::Latency;

/// Which kind of server a target is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Server,
    Baseline,
}

/// A target under load: where it is and which process serves it.
#[derive(Clone, Debug)]
pub struct Target {
    /// The protocol it speaks: Switchboard's (`Server`) or the bare relay's (`Baseline`).
    pub kind: Kind,
    /// Its column in the report: the server under test or the baseline. A
    /// Switchboard server can be the baseline of another (`--baseline-protocol switchboard`).
    pub slot: Kind,
    pub endpoint: Endpoint,
    pub process: Option<crate::procinfo::Process>,
}

/// Shared state of one run: its epoch, when recording starts, counters, histograms.
#[derive(Debug)]
pub struct Run {
    pub epoch: Instant,
    /// Latencies of sends intended before this offset (warm-up) are not recorded.
    pub record_from: Duration,
    pub sent: AtomicU64,
    pub delivered: AtomicU64,
    pub errors: AtomicU64,
    /// Error frames received (rule errors such as replying to an ended session).
    pub error_frames: AtomicU64,
    /// Agent-side sends skipped because the session had already left the agent.
    pub skipped: AtomicU64,
    /// When the last chat text arrived, in nanoseconds since the epoch.
    pub last_delivery_ns: AtomicU64,
    pub recorder: Mutex<Recorder>,
}

/// Relay latencies: the whole run and, when the run takes samples (soak), the
/// current window.
#[derive(Debug, Default)]
pub struct Recorder {
    pub to_agent: Latency,
    pub to_customer: Latency,
    /// Only kept when sampling: nothing else reads it.
    pub window: Option<Latency>,
    /// Harness side only: from the intended send time until the frame was
    /// written to the socket (pacer and client task lag on a busy machine).
    pub send_lag: Latency,
}

impl Run {
    /// `windowed`: also keep the latencies since the last sample (see [`Recorder::window`]).
    pub fn new(record_from: Duration, windowed: bool) -> Arc<Self> {
        Arc::new(Run {
            epoch: Instant::now(),
            record_from,
            sent: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            error_frames: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
            last_delivery_ns: AtomicU64::new(0),
            recorder: Mutex::new(Recorder { window: windowed.then(Latency::default), ..Recorder::default() }),
        })
    }

    pub fn now_ns(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    fn record_send(&self, intended_ns: u64) {
        if Duration::from_nanos(intended_ns) < self.record_from {
            return;
        }
        let lag = Duration::from_nanos(self.now_ns().saturating_sub(intended_ns));
        self.recorder.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).send_lag.record(lag);
    }

    fn record_delivery(&self, intended_ns: u64, to_agent: bool) {
        self.delivered.fetch_add(1, Ordering::Relaxed);
        let now_ns = self.now_ns();
        self.last_delivery_ns.fetch_max(now_ns, Ordering::Relaxed);
        if Duration::from_nanos(intended_ns) < self.record_from {
            return;
        }
        let latency = Duration::from_nanos(now_ns.saturating_sub(intended_ns));
        let mut recorder = self.recorder.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if to_agent {
            recorder.to_agent.record(latency);
        } else {
            recorder.to_customer.record(latency);
        }
        if let Some(window) = &mut recorder.window {
            window.record(latency);
        }
    }
}

/// A command id no earlier run has used: the server remembers recent ids per
/// agent and per session across reconnects and acks a repeat without applying
/// it, so ids must not restart at 1 in every run.
pub fn unique_id(prefix: &str) -> String {
    static NEXT: std::sync::OnceLock<AtomicU64> = std::sync::OnceLock::new();
    let next = NEXT.get_or_init(|| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        // Microseconds since 1970, times 1000: room for 1000 ids per microsecond of wall time between runs.
        AtomicU64::new(now.as_micros() as u64 * 1000)
    });
    format!("{prefix}{}", next.fetch_add(1, Ordering::Relaxed))
}

/// The text of a timed chat message, padded with filler to `size` bytes.
pub fn stamp(intended_ns: u64, size: usize) -> String {
    let mut text = format!("lt:{intended_ns}:");
    while text.len() < size {
        text.push('x');
    }
    text
}

/// The intended send time carried by a chat text made by [`stamp`].
pub fn parse_stamp(text: &str) -> Option<u64> {
    text.strip_prefix("lt:")?.split(':').next()?.parse().ok()
}

/// What a client learned from one frame.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming {
    /// Customer: `welcome` (its session id, and whether it is already assigned).
    Welcome { session: u64, assigned: bool },
    /// Customer: `assigned` (or the relay's `paired`); agent: `session_assigned`.
    Assigned { session: u64 },
    /// A chat text from the peer.
    Text { text: String },
    /// Agent: the 1-minute reply warning or the 3-minute slow-reply violation.
    Timer { session: u64, violation: bool, waited_ms: u64 },
    /// The command with this id was acknowledged.
    Ack,
    /// An `error` frame (with its code).
    Error { code: String },
    /// The session ended (customer: `closed`; agent: `session_ended`).
    Closed,
    /// Agent: this session ended.
    Ended { session: u64 },
    /// Anything else.
    Other,
}

const PAIRED: &str = r#"{"type":"paired"}"#;

/// Decodes a frame a customer received.
pub fn decode_for_customer(kind: Kind, text: &str) -> Incoming {
    match kind {
        Kind::Server => match serde_json::from_str::<ServerToCustomer>(text) {
            Ok(ServerToCustomer::Welcome { session, status, .. }) => {
                Incoming::Welcome { session, assigned: matches!(status, Some(SessionStatus::Assigned { .. })) }
            }
            Ok(ServerToCustomer::Assigned { .. }) => Incoming::Assigned { session: 0 },
            Ok(ServerToCustomer::AgentMessage { text, .. }) => Incoming::Text { text },
            Ok(ServerToCustomer::Ack { .. }) => Incoming::Ack,
            Ok(ServerToCustomer::Error { code, .. }) => Incoming::Error { code },
            Ok(ServerToCustomer::Closed { .. }) => Incoming::Closed,
            Ok(_) | Err(_) => Incoming::Other,
        },
        Kind::Baseline if text == PAIRED => Incoming::Assigned { session: 0 },
        Kind::Baseline => match serde_json::from_str::<AgentCommand>(text) {
            Ok(AgentCommand::Reply { text, .. }) => Incoming::Text { text },
            Ok(_) | Err(_) => Incoming::Other,
        },
    }
}

/// Decodes a frame an agent received.
pub fn decode_for_agent(kind: Kind, text: &str) -> Incoming {
    match kind {
        Kind::Server => match serde_json::from_str::<ServerToAgent>(text) {
            Ok(ServerToAgent::SessionAssigned { session, .. }) => Incoming::Assigned { session: session.session },
            Ok(ServerToAgent::CustomerMessage { text, .. }) => Incoming::Text { text },
            Ok(ServerToAgent::ReplyWarning { session, waited_ms, .. }) => {
                Incoming::Timer { session, violation: false, waited_ms }
            }
            Ok(ServerToAgent::SlowReply { session, waited_ms, .. }) => {
                Incoming::Timer { session, violation: true, waited_ms }
            }
            Ok(ServerToAgent::SessionEnded { session, .. }) => Incoming::Ended { session },
            Ok(ServerToAgent::Ack { .. }) => Incoming::Ack,
            Ok(ServerToAgent::Error { code, .. }) => Incoming::Error { code },
            Ok(_) | Err(_) => Incoming::Other,
        },
        Kind::Baseline if text == PAIRED => Incoming::Assigned { session: 0 },
        Kind::Baseline => match serde_json::from_str::<CustomerCommand>(text) {
            Ok(CustomerCommand::Message { text, .. }) => Incoming::Text { text },
            Ok(_) | Err(_) => Incoming::Other,
        },
    }
}

/// Names used on the server: the skill group and the agents' roster ids.
#[derive(Clone, Debug)]
pub struct Names {
    pub group: String,
    pub agent_prefix: String,
    /// Signs the agents' tokens (`None`: agents connect without one and are refused).
    pub tokens: Option<AgentTokens>,
}

impl Names {
    pub fn agent_id(&self, index: usize) -> String {
        format!("{}{index:05}", self.agent_prefix)
    }

    /// A token for agent `index`, if the harness knows the server's secret.
    pub fn agent_token(&self, index: usize) -> Option<String> {
        Some(self.tokens.as_ref()?.signer.issue(&self.agent_id(index), TokenRole::Agent).token)
    }
}

/// Mints agents' tokens with the server's `[auth] secret`, as `/v1/login` would.
#[derive(Clone, Debug)]
pub struct AgentTokens {
    signer: Arc<Signer>,
}

/// Load runs may last long: their tokens outlive any run.
const LOAD_TOKEN_TTL: Duration = Duration::from_secs(24 * 3600);

impl AgentTokens {
    pub fn new(secret: &[u8]) -> AgentTokens {
        AgentTokens { signer: Arc::new(Signer::hs256(secret, LOAD_TOKEN_TTL)) }
    }
}

/// The path (and query) a customer connects to. `pair` pairs it on the baseline.
pub fn customer_path(kind: Kind, names: &Names, index: usize, pair: &str) -> String {
    match kind {
        Kind::Server => format!("/v1/ws/customer?group={}&name=lt-customer-{index}", names.group),
        Kind::Baseline => format!("/relay?pair={pair}"),
    }
}

/// The path an agent connects to.
pub fn agent_path(kind: Kind, names: &Names, index: usize, pair: &str) -> String {
    match kind {
        Kind::Server => format!("/v1/ws/agent?agent={}", names.agent_id(index)),
        Kind::Baseline => format!("/relay?pair={pair}"),
    }
}

/// Reads frames until `want` accepts one (returning what it returned), or the
/// deadline passes, or the connection ends.
pub async fn read_until<T>(
    ws: &mut Ws,
    deadline: Instant,
    mut want: impl FnMut(&str) -> Option<T>,
) -> anyhow::Result<T> {
    loop {
        let frame = tokio::time::timeout_at(deadline.into(), ws.next())
            .await
            .map_err(|_| anyhow::anyhow!("timed out waiting for the server"))?;
        match frame {
            Some(Ok(Message::Text(text))) => {
                if let Some(found) = want(text.as_str()) {
                    return Ok(found);
                }
            }
            Some(Ok(Message::Close(frame))) => anyhow::bail!("server closed the connection: {frame:?}"),
            Some(Ok(_)) => {}
            Some(Err(error)) => return Err(error.into()),
            None => anyhow::bail!("connection ended"),
        }
    }
}

/// Connects an agent; against the server it also sets itself available and waits
/// for the acknowledgement.
pub async fn connect_agent(target: &Target, names: &Names, index: usize, sources: &Sources) -> anyhow::Result<Ws> {
    let path = agent_path(target.kind, names, index, &format!("p{index}"));
    let token = if target.kind == Kind::Server { names.agent_token(index) } else { None };
    let mut ws = net::connect_with_token(&target.endpoint, &path, token.as_deref(), index, sources).await?;
    if target.kind == Kind::Server {
        let command = AgentCommand::SetAvailability {
            id: unique_id("avail"),
            state: AvailabilityRequest::Available,
            reason: None,
        };
        ws.send(Message::text(encode(&command))).await?;
        let deadline = Instant::now() + Duration::from_secs(10);
        read_until(&mut ws, deadline, |text| match decode_for_agent(Kind::Server, text) {
            Incoming::Ack => Some(Ok(())),
            Incoming::Error { code } => Some(Err(anyhow::anyhow!("agent {}: {code}", names.agent_id(index)))),
            _ => None,
        })
        .await??;
    }
    Ok(ws)
}

/// What a relay connection is told to do by the pacer: send a text stamped with
/// this intended time (an agent: into this session).
#[derive(Clone, Copy, Debug)]
pub struct SendOrder {
    pub intended_ns: u64,
    pub session: u64,
}

/// Sending side of a relay connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Customer,
    Agent,
}

/// Runs one relay connection: sends what the pacer orders, records what arrives,
/// until the order channel closes; then closes the connection (client first).
pub async fn relay_connection(
    mut ws: Ws,
    kind: Kind,
    role: Role,
    size: usize,
    run: Arc<Run>,
    mut orders: mpsc::UnboundedReceiver<SendOrder>,
    assignments: Option<(usize, mpsc::UnboundedSender<(usize, u64)>)>,
) {
    // Agent: the sessions it serves.
    let mut sessions: Vec<u64> = Vec::new();
    loop {
        tokio::select! {
            order = orders.recv() => {
                let Some(order) = order else { break };
                let text = stamp(order.intended_ns, size);
                let frame = match role {
                    Role::Customer => encode(&CustomerCommand::Message { attachment: None, id: unique_id("m"), text }),
                    Role::Agent => {
                        if !sessions.contains(&order.session) {
                            run.skipped.fetch_add(1, Ordering::Relaxed);
                            continue;
                        }
                        encode(&AgentCommand::Reply { attachment: None, id: unique_id("r"), session: order.session, text })
                    }
                };
                // Count before the write so a slow write shows up as latency, not as a lower send count.
                run.sent.fetch_add(1, Ordering::Relaxed);
                if ws.send(Message::text(frame)).await.is_err() {
                    run.errors.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                run.record_send(order.intended_ns);
            }
            frame = ws.next() => {
                match frame {
                    Some(Ok(Message::Text(text))) => {
                        let incoming = match role {
                            Role::Customer => decode_for_customer(kind, text.as_str()),
                            Role::Agent => decode_for_agent(kind, text.as_str()),
                        };
                        match incoming {
                            Incoming::Text { text } => {
                                if let Some(intended_ns) = parse_stamp(&text) {
                                    run.record_delivery(intended_ns, role == Role::Agent);
                                }
                            }
                            Incoming::Assigned { session } if role == Role::Agent => {
                                sessions.push(session);
                                if let Some((index, tx)) = &assignments {
                                    let _ = tx.send((*index, session));
                                }
                            }
                            Incoming::Ended { session } => sessions.retain(|s| *s != session),
                            Incoming::Error { .. } => {
                                run.error_frames.fetch_add(1, Ordering::Relaxed);
                            }
                            _ => {}
                        }
                    }
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {
                        run.errors.fetch_add(1, Ordering::Relaxed);
                        // Keep draining orders so the pacer's sends are counted as failed, not lost silently.
                        while let Some(_order) = orders.recv().await {
                            run.sent.fetch_add(1, Ordering::Relaxed);
                        }
                        return;
                    }
                    Some(Ok(_)) => {}
                }
            }
        }
    }
    match role {
        Role::Customer => leave_and_close(ws, kind).await,
        Role::Agent => net::close(ws).await,
    }
}

/// Ends a customer's chat as the widget does (`leave`, then wait for `closed`),
/// so the session does not linger on the server (a customer who only
/// disconnects may resume for a while, and keeps an agent's capacity), then
/// closes the connection.
pub async fn leave_and_close(mut ws: Ws, kind: Kind) {
    if kind == Kind::Server {
        let leave = encode(&CustomerCommand::Leave { id: unique_id("leave") });
        if ws.send(Message::text(leave)).await.is_ok() {
            let deadline = Instant::now() + Duration::from_secs(2);
            let _ = read_until(&mut ws, deadline, |text| {
                matches!(decode_for_customer(Kind::Server, text), Incoming::Closed).then_some(())
            })
            .await;
        }
    }
    net::close(ws).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_round_trip_and_pad_to_size() {
        let text = stamp(123_456_789, 100);
        assert_eq!(text.len(), 100);
        assert_eq!(parse_stamp(&text), Some(123_456_789));
        assert_eq!(parse_stamp(&stamp(7, 0)), Some(7));
        assert_eq!(parse_stamp("hello"), None);
    }

    #[test]
    fn baseline_frames_decode_like_server_frames() {
        let from_customer = encode(&CustomerCommand::Message { attachment: None, id: "m1".into(), text: stamp(5, 10) });
        assert_eq!(decode_for_agent(Kind::Baseline, &from_customer), Incoming::Text { text: stamp(5, 10) });
        let from_agent =
            encode(&AgentCommand::Reply { attachment: None, id: "r1".into(), session: 3, text: "hi".into() });
        assert_eq!(decode_for_customer(Kind::Baseline, &from_agent), Incoming::Text { text: "hi".into() });
        assert_eq!(decode_for_customer(Kind::Baseline, PAIRED), Incoming::Assigned { session: 0 });
    }

    #[test]
    fn server_frames_decode() {
        let text = r#"{"type":"agent_message","seq":3,"agent_name":"Alice","text":"lt:9:"}"#;
        assert_eq!(decode_for_customer(Kind::Server, text), Incoming::Text { text: "lt:9:".into() });
        let text = r#"{"type":"reply_warning","seq":4,"session":17,"waited_ms":60000}"#;
        assert_eq!(
            decode_for_agent(Kind::Server, text),
            Incoming::Timer { session: 17, violation: false, waited_ms: 60000 }
        );
    }
}
