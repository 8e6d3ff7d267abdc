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
use switchboard_protocol::{close_code, code, decode_agent_command, decode_customer_command, encode};
use tokio::sync::{mpsc, watch, OwnedSemaphorePermit};
use tokio::time::Instant;
use tracing::debug;

use super::AppState;
use crate::driver::{conn_state, ConnHandle, DriverInput, Outbound};
use crate::metrics::CONNECTIONS_OPEN;

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

/// Runs a connection to its end. `open` builds the driver's first input from the connection handle.
pub async fn serve(
    socket: WebSocket,
    app: Arc<AppState>,
    role: Role,
    permit: OwnedSemaphorePermit,
    open: impl FnOnce(ConnHandle) -> DriverInput,
) {
    let _permit = permit;
    let id = app.next_conn.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let open_gauge = app.metrics.gauge(CONNECTIONS_OPEN, &[("role", role.label())]);
    open_gauge.increment(1.0);
    app.metrics.counter(crate::metrics::CONNECTIONS_TOTAL, &[("role", role.label())]).increment(1);
    debug!(conn = id, role = role.label(), "connection open");

    let (tx, rx) = mpsc::channel(app.gateway.outbound_queue);
    let (state_tx, state_rx) = watch::channel(conn_state::OPEN);
    let state_tx = Arc::new(state_tx);
    let handle = ConnHandle { id, tx: tx.clone(), state: state_tx.clone() };
    let (sink, stream) = socket.split();
    let ping_interval = app.gateway.ping_interval;
    let mut writer = tokio::spawn(write_loop(sink, rx, state_tx.clone(), state_rx.clone(), ping_interval));

    if app.driver.send(open(handle)).await.is_ok() {
        read_loop(stream, &app, role, id, &tx, state_rx).await;
        let _ = app.driver.send(DriverInput::Closed { conn: id }).await;
    } else {
        let _ = tx.try_send(Outbound::Close { code: close_code::GOING_AWAY, reason: code::SHUTTING_DOWN });
    }
    drop(tx);
    // Let the writer flush what is queued (an error, a close frame) but not forever.
    if tokio::time::timeout(app.gateway.close_timeout, &mut writer).await.is_err() {
        state_tx.send_replace(conn_state::KILLED);
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
    tx: &mpsc::Sender<Outbound>,
    mut state: watch::Receiver<u8>,
) {
    let close_deadline = tokio::time::sleep_until(far_future());
    tokio::pin!(close_deadline);
    // Any frame (a pong too) proves the peer alive; silence past `idle_timeout` means it is gone.
    let idle_deadline = tokio::time::sleep(app.gateway.idle_timeout);
    tokio::pin!(idle_deadline);
    let mut errors_in_a_row = 0;
    loop {
        let next = tokio::select! {
            biased;
            changed = state.changed() => {
                match (changed, *state.borrow_and_update()) {
                    (Err(_), _) | (_, conn_state::KILLED) => return,
                    (_, conn_state::CLOSE_SENT) => close_deadline.as_mut().reset(Instant::now() + app.gateway.close_timeout),
                    _ => {}
                }
                continue;
            }
            _ = &mut close_deadline => return,
            _ = &mut idle_deadline => {
                debug!(conn, "no frame within the idle timeout: dropping the connection");
                app.metrics.protocol_error(code::IDLE_TIMEOUT);
                return;
            }
            next = stream.next() => next,
        };
        idle_deadline.as_mut().reset(Instant::now() + app.gateway.idle_timeout);
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
                    send_error(tx, None, code::MESSAGE_TOO_BIG, &format!("frames are limited to {limit} bytes"));
                    let _ = tx
                        .try_send(Outbound::Close { code: close_code::MESSAGE_TOO_BIG, reason: code::MESSAGE_TOO_BIG });
                    continue;
                }
                return;
            }
        };
        match message {
            Message::Text(text) => {
                let input = match role {
                    Role::Customer => {
                        decode_customer_command(&text).map(|command| DriverInput::CustomerCommand { conn, command })
                    }
                    Role::Agent => {
                        decode_agent_command(&text).map(|command| DriverInput::AgentCommand { conn, command })
                    }
                };
                match input {
                    Ok(input) => {
                        if let Err(mpsc::error::SendError(input)) = app.driver.send(input).await {
                            let id = match input {
                                DriverInput::CustomerCommand { command, .. } => Some(command.id().to_owned()),
                                DriverInput::AgentCommand { command, .. } => Some(command.id().to_owned()),
                                _ => None,
                            };
                            send_error(tx, id, code::SHUTTING_DOWN, "the server is shutting down");
                        }
                    }
                    Err(e) => {
                        app.metrics.protocol_error(e.code);
                        let error = DriverInput::FrameError { conn, id: e.id, code: e.code, message: e.message };
                        let _ = app.driver.send(error).await;
                    }
                }
            }
            Message::Binary(_) => {
                app.metrics.protocol_error(code::BINARY_NOT_SUPPORTED);
                let message = "binary frames are not supported: send JSON text frames".to_owned();
                let error = DriverInput::FrameError { conn, id: None, code: code::BINARY_NOT_SUPPORTED, message };
                let _ = app.driver.send(error).await;
            }
            // Pings are answered by the WebSocket layer; a close frame is answered too and ends the stream.
            Message::Ping(_) | Message::Pong(_) | Message::Close(_) => {}
        }
    }
}

/// An error frame straight from the reader (the driver never sees the bad frame).
fn send_error(tx: &mpsc::Sender<Outbound>, id: Option<String>, error_code: &str, message: &str) {
    let error = switchboard_protocol::customer::ServerToCustomer::Error {
        id,
        code: error_code.to_owned(),
        message: message.to_owned(),
    };
    // A full queue means a slow reader: the driver cuts it off on its next send.
    let _ = tx.try_send(Outbound::Frame(encode(&error).into()));
}

fn is_too_big(e: axum::Error) -> bool {
    use tokio_tungstenite::tungstenite::error::{CapacityError, Error};
    match e.into_inner().downcast::<Error>() {
        Ok(e) => matches!(*e, Error::Capacity(CapacityError::MessageTooLong { .. })),
        Err(_) => false,
    }
}

fn far_future() -> Instant {
    Instant::now() + std::time::Duration::from_secs(86_400 * 365)
}

async fn write_loop(
    mut sink: futures_util::stream::SplitSink<WebSocket, Message>,
    mut rx: mpsc::Receiver<Outbound>,
    state_tx: Arc<watch::Sender<u8>>,
    mut state: watch::Receiver<u8>,
    ping_interval: std::time::Duration,
) {
    let mut ping = tokio::time::interval_at(Instant::now() + ping_interval, ping_interval);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        enum Next {
            Item(Option<Outbound>),
            Ping,
            Killed,
        }
        let next = tokio::select! {
            biased;
            item = rx.recv() => Next::Item(item),
            _ = state.wait_for(|s| *s == conn_state::KILLED) => Next::Killed,
            _ = ping.tick() => Next::Ping,
        };
        let item = match next {
            Next::Item(item) => item,
            Next::Killed => return,
            Next::Ping => {
                let sent = tokio::select! {
                    sent = sink.send(Message::Ping(Default::default())) => sent.is_ok(),
                    _ = state.wait_for(|s| *s == conn_state::KILLED) => false,
                };
                if !sent {
                    state_tx.send_replace(conn_state::KILLED);
                    return;
                }
                continue;
            }
        };
        let Some(item) = item else {
            let _ = sink.close().await;
            return;
        };
        let mut closing = None;
        let mut batch = vec![item];
        // Write everything already queued, then flush once.
        while batch.len() < 64 {
            match rx.try_recv() {
                Ok(more) => batch.push(more),
                Err(_) => break,
            }
        }
        let write = async {
            for item in batch {
                match item {
                    Outbound::Frame(text) => sink.feed(Message::Text(text)).await?,
                    Outbound::Frames(frames) => {
                        for text in frames {
                            sink.feed(Message::Text(text)).await?;
                        }
                    }
                    Outbound::Close { code, reason } => {
                        sink.feed(Message::Close(Some(CloseFrame { code, reason: reason.into() }))).await?;
                        closing = Some(code);
                        break;
                    }
                }
            }
            sink.flush().await
        };
        let result = tokio::select! {
            result = write => result,
            _ = state.wait_for(|s| *s == conn_state::KILLED) => return,
        };
        if result.is_err() {
            state_tx.send_replace(conn_state::KILLED);
            return;
        }
        if closing.is_some() {
            state_tx.send_if_modified(|s| {
                if *s == conn_state::OPEN {
                    *s = conn_state::CLOSE_SENT;
                    true
                } else {
                    false
                }
            });
            return;
        }
    }
}
