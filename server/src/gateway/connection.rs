//! One WebSocket connection: a reader (this task) and a writer (spawned).
//!
//! The reader decodes frames and hands commands to the driver; bad frames get
//! an error frame and the connection lives on. The writer drains the bounded
//! outbound queue the driver fills. When the server closes (close frame sent),
//! the reader keeps reading until the client's close frame arrives or
//! `close_timeout` passes, so closes are clean. A killed connection (slow
//! reader) stops at once.

use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use switchboard_protocol::agent::AgentCommand;
use switchboard_protocol::{close_code, code, decode_agent_command, decode_customer_command, DecodeError};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tracing::debug;

use super::cooldown::Who;
use super::rate::{CommandLimiter, Verdict};
use super::{AppState, Held};
use crate::auth::{Auth, Identity, Refusal};
use crate::driver::outbox::{ConnState, Next, Outbox};
use crate::driver::{ConnHandle, DriverInput, Outbound};
use crate::metrics::{CONNECTIONS_OPEN, FLOOD_DISCONNECTS, RATE_LIMITED};
use crate::quality::receipt::Stamper;
use crate::session::{error_frame, Frame, Request};

/// Hands an input to the driver: at once while its channel has room, else
/// waiting in a boxed future. A plain `send().await` would make every
/// connection's future reserve room for a pending send (the input and a
/// semaphore wait) all the time it sits idle. Evaluates to
/// `Result<(), DriverInput>`, the input back if the driver is gone.
macro_rules! to_driver {
    ($app:expr, $input:expr) => {
        match $app.driver.try_send($input) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(input)) => Box::pin($app.driver.send(input)).await.map_err(|e| e.0),
            Err(mpsc::error::TrySendError::Closed(input)) => Err(input),
        }
    };
}

/// Which endpoint the connection came in on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Customer,
    Agent,
}

impl Role {
    fn label(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Agent => "agent",
        }
    }
}

/// What an agent connection's token allows, and until when. The gateway
/// keeps it (boxed: customers' connections, the many, pay one pointer), so
/// authentication never reaches the session layer or the log.
#[derive(Debug)]
pub struct Guard {
    identity: Identity,
    /// When the token expires, on the monotonic clock.
    expires: Instant,
    /// Changes when an admin disables or enables an agent, or the roster is reloaded.
    access: watch::Receiver<u64>,
}

impl Guard {
    pub fn new(identity: Identity, auth: &Auth) -> Guard {
        let mut access = auth.access_changes();
        access.mark_unchanged();
        Guard { expires: expiry_instant(identity.expires_at), identity, access }
    }

    /// Takes a renewed token (already checked) for this connection.
    fn renew(&mut self, identity: Identity) {
        self.expires = expiry_instant(identity.expires_at);
        self.identity = identity;
    }

    /// Why the token's role may not send `command`, if it may not: refused
    /// before the driver sees it. (The router refuses supervisors' serving
    /// commands itself, with `supervisor_cannot_serve`.)
    fn refusal_for(&self, command: &AgentCommand) -> Option<Refusal> {
        let supervising = matches!(command, AgentCommand::Snapshot { .. });
        (supervising && !self.identity.role.may_supervise())
            .then(|| Refusal::new(code::SUPERVISORS_ONLY, "the snapshot is for supervisors"))
    }
}

/// A Unix time in seconds as an `Instant`.
fn expiry_instant(unix_secs: u64) -> Instant {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    Instant::now() + std::time::Duration::from_secs(unix_secs).saturating_sub(now)
}

/// Completes when the disabled list or the roster changes (never without a guard).
async fn access_changed(guard: &mut Option<Box<Guard>>) {
    let Some(g) = guard else { return std::future::pending().await };
    if g.access.changed().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Runs a connection to its end. `open` builds the driver's first input from
/// the connection handle; `guard` is an agent's checked token.
pub async fn serve(
    socket: WebSocket,
    app: Arc<AppState>,
    role: Role,
    held: Held,
    guard: Option<Box<Guard>>,
    open: impl FnOnce(ConnHandle) -> DriverInput,
) {
    let id = app.next_conn.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let open_gauge = app.metrics.gauge(CONNECTIONS_OPEN, &[("role", role.label())]);
    open_gauge.increment(1.0);
    app.metrics.counter(crate::metrics::CONNECTIONS_TOTAL, &[("role", role.label())]).increment(1);
    debug!(conn = id, role = role.label(), "connection open");

    let outbox = Arc::new(Outbox::new(app.gateway.outbound_queue));
    let handle = ConnHandle { id, outbox: outbox.clone() };
    let (sink, stream) = socket.split();
    let ping_interval = app.gateway.ping_interval;
    // Customers' `closed` frames get their chat's receipt on the way out (quality::receipt).
    let stamper = app.receipts.clone().filter(|_| role == Role::Customer).map(Stamper::new);
    let mut writer = tokio::spawn(write_loop(sink, outbox.clone(), ping_interval, stamper));

    if to_driver!(app, open(handle)).is_ok() {
        read_loop(stream, &app, role, id, &outbox, guard, held.who).await;
        let _ = to_driver!(app, DriverInput::Request(Request::Closed { conn: id }));
    } else {
        let _ = outbox.try_send(Outbound::Close { code: close_code::GOING_AWAY, reason: code::SHUTTING_DOWN });
    }
    outbox.finish();
    // Let the writer flush what is queued (an error, a close frame) but not forever.
    if tokio::time::timeout(app.gateway.close_timeout, &mut writer).await.is_err() {
        outbox.kill();
        writer.abort();
    }
    open_gauge.decrement(1.0);
    debug!(conn = id, "connection ended");
}

async fn read_loop(
    mut stream: futures_util::stream::SplitStream<WebSocket>,
    app: &AppState,
    role: Role,
    conn: u64,
    outbox: &Outbox,
    mut guard: Option<Box<Guard>>,
    who: Option<Who>,
) {
    // Three deadlines on one timer (a timer per idle connection is memory):
    // any frame (a pong too) proves the peer alive, so silence past
    // `idle_timeout` means it is gone; once our close frame is out, the
    // client has `close_timeout` to answer it; an agent's token expires.
    let mut idle_until = Instant::now() + app.gateway.idle_timeout;
    let mut close_by: Option<Instant> = None;
    let next_deadline = |idle_until: Instant, close_by: Option<Instant>, guard: &Option<Box<Guard>>| {
        let until = close_by.map_or(idle_until, |by| by.min(idle_until));
        guard.as_ref().map_or(until, |g| g.expires.min(until))
    };
    let deadline = tokio::time::sleep_until(next_deadline(idle_until, close_by, &guard));
    tokio::pin!(deadline);
    let mut errors_in_a_row = 0;
    let mut limiter = CommandLimiter::new(&app.gateway);
    let mut flooded = false;
    loop {
        let next = tokio::select! {
            biased;
            () = outbox.state_changed() => {
                match outbox.state() {
                    ConnState::Killed => return,
                    ConnState::CloseSent => {
                        let by = Instant::now() + app.gateway.close_timeout;
                        close_by = Some(by);
                        guard = None;
                        deadline.as_mut().reset(by.min(idle_until));
                    }
                    ConnState::Open => {}
                }
                continue;
            }
            () = access_changed(&mut guard) => {
                if let Some(Err(refusal)) = guard.as_ref().map(|g| app.auth.may_stay(&g.identity)) {
                    close_for(app, outbox, conn, &refusal);
                    guard = None;
                    deadline.as_mut().reset(next_deadline(idle_until, close_by, &guard));
                }
                continue;
            }
            () = &mut deadline => {
                if close_by.is_none() && guard.as_ref().is_some_and(|g| g.expires <= Instant::now()) {
                    let refusal = Refusal::new(code::TOKEN_EXPIRED, "your token expired: renew it before it does");
                    close_for(app, outbox, conn, &refusal);
                    guard = None;
                    deadline.as_mut().reset(next_deadline(idle_until, close_by, &guard));
                    continue;
                }
                if close_by.is_none() {
                    debug!(conn, "no frame within the idle timeout: dropping the connection");
                    app.metrics.protocol_error(code::IDLE_TIMEOUT);
                }
                return;
            }
            next = stream.next() => next,
        };
        idle_until = Instant::now() + app.gateway.idle_timeout;
        deadline.as_mut().reset(next_deadline(idle_until, close_by, &guard));
        let message = match next {
            None => return,
            Some(Ok(m)) => {
                errors_in_a_row = 0;
                m
            }
            Some(Err(e)) => {
                errors_in_a_row += 1;
                if is_too_big(e) && errors_in_a_row == 1 {
                    app.metrics.protocol_error(code::MESSAGE_TOO_BIG);
                    debug!(conn, "frame over the size limit: closing with 1009");
                    let limit = app.gateway.max_message_bytes;
                    send_error(outbox, None, code::MESSAGE_TOO_BIG, &format!("frames are limited to {limit} bytes"));
                    let _ = outbox
                        .try_send(Outbound::Close { code: close_code::MESSAGE_TOO_BIG, reason: code::MESSAGE_TOO_BIG });
                    continue;
                }
                return;
            }
        };
        if matches!(message, Message::Text(_) | Message::Binary(_)) {
            // Closed for flooding: whatever still arrives is dropped unread.
            if flooded {
                continue;
            }
            match limiter.check(Instant::now()) {
                Verdict::Pass => {}
                Verdict::Refuse => {
                    refuse_rate_limited(app, role, conn, &message).await;
                    continue;
                }
                Verdict::Flooding => {
                    close_flooding(app, role, conn, outbox);
                    // Penalized at once, not when the close completes: a reconnect may come first.
                    if let Some(who) = who {
                        app.flood_cooldown.penalize(who);
                    }
                    flooded = true;
                    continue;
                }
            }
        }
        match message {
            Message::Text(text) => {
                let input = match role {
                    Role::Customer => {
                        decode_customer_command(&text).map(|command| Request::CustomerCommand { conn, command })
                    }
                    Role::Agent => {
                        let expires = guard.as_ref().map(|g| g.expires);
                        let request = agent_request(app, conn, &mut guard, &text);
                        if guard.as_ref().map(|g| g.expires) != expires {
                            // A renewal moved the expiry.
                            deadline.as_mut().reset(next_deadline(idle_until, close_by, &guard));
                        }
                        request
                    }
                };
                match input {
                    Ok(request) => {
                        if let Err(input) = to_driver!(app, DriverInput::Request(request)) {
                            let id = match input {
                                DriverInput::Request(Request::CustomerCommand { command, .. }) => {
                                    Some(command.id().to_owned())
                                }
                                DriverInput::Request(Request::AgentCommand { command, .. }) => {
                                    Some(command.id().to_owned())
                                }
                                _ => None,
                            };
                            send_error(outbox, id, code::SHUTTING_DOWN, "the server is shutting down");
                        }
                    }
                    Err(e) => {
                        app.metrics.protocol_error(e.code);
                        let error = Request::FrameError { conn, id: e.id, code: e.code, message: e.message };
                        let _ = to_driver!(app, DriverInput::Request(error));
                    }
                }
            }
            Message::Binary(_) => {
                app.metrics.protocol_error(code::BINARY_NOT_SUPPORTED);
                let message = "binary frames are not supported: send JSON text frames".to_owned();
                let error = Request::FrameError { conn, id: None, code: code::BINARY_NOT_SUPPORTED, message };
                let _ = to_driver!(app, DriverInput::Request(error));
            }
            // Pings are answered by the WebSocket layer; a close frame is answered too and ends the stream.
            Message::Ping(_) | Message::Pong(_) | Message::Close(_) => {}
        }
    }
}

/// Refuses a frame over the rate limit with `rate_limited` (and its
/// command's id, if it has one), through the driver so that the error keeps
/// its place among the connection's replies. The command is not executed.
async fn refuse_rate_limited(app: &AppState, role: Role, conn: u64, message: &Message) {
    app.metrics.counter(RATE_LIMITED, &[("role", role.label())]).increment(1);
    app.metrics.protocol_error(code::RATE_LIMITED);
    let id = match message {
        Message::Text(text) => command_id(role, text),
        _ => None,
    };
    let (rate, burst) = (app.gateway.message_rate, app.gateway.message_burst);
    let message =
        format!("too many commands: at most {rate} per second (bursts of {burst}); this one was not executed");
    let error = Request::FrameError { conn, id, code: code::RATE_LIMITED, message };
    let _ = to_driver!(app, DriverInput::Request(error));
}

/// The id of a command, if the frame is one (or at least names one).
fn command_id(role: Role, text: &str) -> Option<String> {
    let decoded = match role {
        Role::Customer => decode_customer_command(text).map(|c| Some(c.id().to_owned())),
        Role::Agent => decode_agent_command(text).map(|c| Some(c.id().to_owned())),
    };
    decoded.unwrap_or_else(|e| e.id)
}

/// A connection that kept sending past its refusals: an error frame and
/// close 1008. Straight from the reader, like a frame over the size limit:
/// the connection ends, so nothing is left to keep in order.
fn close_flooding(app: &AppState, role: Role, conn: u64, outbox: &Outbox) {
    app.metrics.counter(FLOOD_DISCONNECTS, &[("role", role.label())]).increment(1);
    let window = app.gateway.flood_window;
    let message = format!(
        "closing: {} commands refused within {window:?} for going over the rate limit",
        app.gateway.flood_refusals
    );
    close_for(app, outbox, conn, &Refusal::new(code::RATE_LIMITED, message));
}

/// Decodes an agent's frame and checks it against the token: a `token`
/// command renews the connection's token and goes on as a `ping` (acked in
/// order, never logged); a command the role may not send is refused.
fn agent_request(
    app: &AppState,
    conn: u64,
    guard: &mut Option<Box<Guard>>,
    text: &str,
) -> Result<Request, DecodeError> {
    let command = decode_agent_command(text)?;
    let Some(g) = guard.as_mut() else {
        return Ok(Request::AgentCommand { conn, command });
    };
    let refused = |refusal: Refusal, id: &str| DecodeError {
        code: refusal.code,
        message: refusal.message,
        id: Some(id.to_owned()),
    };
    match command {
        AgentCommand::Token { id, token } => {
            let renewed = app.auth.check_renewal(&g.identity, Some(&token.0)).map_err(|r| refused(r, &id))?;
            g.renew(renewed);
            Ok(Request::AgentCommand { conn, command: AgentCommand::Ping { id } })
        }
        command => match g.refusal_for(&command) {
            Some(refusal) => Err(refused(refusal, command.id())),
            None => Ok(Request::AgentCommand { conn, command }),
        },
    }
}

/// Ends a connection that may not go on (a token that no longer allows it,
/// flooding): an error frame, then close 1008.
fn close_for(app: &AppState, outbox: &Outbox, conn: u64, refusal: &Refusal) {
    debug!(conn, code = refusal.code, "closing the connection");
    app.metrics.protocol_error(refusal.code);
    send_error(outbox, None, refusal.code, &refusal.message);
    let _ = outbox.try_send(Outbound::Close { code: close_code::POLICY_VIOLATION, reason: refusal.code });
}

/// An error frame straight from the reader (the driver never sees the bad frame).
fn send_error(outbox: &Outbox, id: Option<String>, error_code: &str, message: &str) {
    // A full queue means a slow reader: the driver cuts it off on its next send.
    let _ = outbox.try_send(Outbound::Frame(error_frame(id, error_code, message)));
}

fn is_too_big(e: axum::Error) -> bool {
    use tokio_tungstenite::tungstenite::error::{CapacityError, Error};
    match e.into_inner().downcast::<Error>() {
        Ok(e) => matches!(*e, Error::Capacity(CapacityError::MessageTooLong { .. })),
        Err(_) => false,
    }
}

async fn write_loop(
    mut sink: futures_util::stream::SplitSink<WebSocket, Message>,
    outbox: Arc<Outbox>,
    ping_interval: std::time::Duration,
    mut stamper: Option<Stamper>,
) {
    // However the writer ends (close sent, error, killed, aborted), nothing
    // more can be written: later items are refused as `Closed`, not left to
    // fill the queue until the driver takes the peer for a slow reader.
    let _finish = FinishOnDrop(&outbox);
    let mut ping = tokio::time::interval_at(Instant::now() + ping_interval, ping_interval);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        // A fresh batch each time: an idle connection then keeps no buffer.
        let mut batch = Vec::new();
        let next = tokio::select! {
            biased;
            next = outbox.next(&mut batch, 64) => Some(next),
            _ = ping.tick() => None,
        };
        match next {
            Some(Next::Items) => {}
            Some(Next::Killed) => return,
            Some(Next::End) => {
                let _ = sink.close().await;
                return;
            }
            None => {
                let sent = tokio::select! {
                    sent = sink.send(Message::Ping(Default::default())) => sent.is_ok(),
                    () = outbox.killed() => false,
                };
                if !sent {
                    outbox.kill();
                    return;
                }
                continue;
            }
        }
        let mut closing = false;
        // Write everything taken from the queue, then flush once.
        let write = async {
            for item in batch.drain(..) {
                match item {
                    Outbound::Frame(text) => sink.feed(Message::Text(stamped(&mut stamper, text))).await?,
                    Outbound::Frames(frames) => {
                        for text in frames {
                            sink.feed(Message::Text(stamped(&mut stamper, text))).await?;
                        }
                    }
                    Outbound::Close { code, reason } => {
                        sink.feed(Message::Close(Some(CloseFrame { code, reason: reason.into() }))).await?;
                        closing = true;
                        break;
                    }
                }
            }
            sink.flush().await
        };
        let result = tokio::select! {
            result = write => result,
            () = outbox.killed() => return,
        };
        if result.is_err() {
            outbox.kill();
            return;
        }
        if closing {
            outbox.close_sent();
            return;
        }
    }
}

fn stamped(stamper: &mut Option<Stamper>, frame: Frame) -> Frame {
    match stamper {
        Some(s) => s.frame(frame),
        None => frame,
    }
}

struct FinishOnDrop<'a>(&'a Outbox);

impl Drop for FinishOnDrop<'_> {
    fn drop(&mut self) {
        self.0.finish();
    }
}
