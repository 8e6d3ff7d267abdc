//! The gateway: the only place that knows sockets.
//!
//! axum handlers for the customer and agent WebSockets and the health
//! endpoints (public listener), and `/metrics` (admin listener). Each
//! WebSocket gets a reader and a writer task ([`connection`]) with small
//! buffers and a bounded outbound queue (the driver's `outbox`); the router is reached only through
//! the driver's input channel.

pub mod connection;
pub mod cooldown;
pub mod identity;
pub mod origin;
pub mod per_ip;
pub mod rate;
pub mod serve;

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use switchboard_protocol::agent::AgentConnectParams;
use switchboard_protocol::customer::CustomerConnectParams;
use switchboard_protocol::{close_code, code};
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};
use tracing::debug;

use crate::auth::{Auth, Identity, Refusal};
use crate::config::GatewayConfig;
use crate::driver::{DriverInput, Health};
use crate::metrics::Metrics;
use crate::session::{error_frame, CustomerOpen, Request};
use connection::Role;

/// Shared by every handler.
#[derive(Debug)]
pub struct AppState {
    pub driver: mpsc::Sender<DriverInput>,
    pub metrics: Metrics,
    pub gateway: GatewayConfig,
    pub next_conn: AtomicU64,
    /// One permit per open WebSocket.
    pub permits: Arc<Semaphore>,
    /// What `/readyz` reports: 503 once shutdown began or while the input log cannot be written.
    pub health: Arc<Health>,
    /// `gateway.allowed_origins`, parsed.
    pub origins: origin::AllowedOrigins,
    /// Open WebSockets per IP address (`gateway.max_connections_per_ip`).
    pub per_ip: Arc<per_ip::PerIpConnections>,
    /// Checks verified customers' identifier hashes (`customers.identity_secret`).
    pub identity: identity::IdentityVerifier,
    /// Tokens, roles and disabled agents: who may connect as whom.
    pub auth: Arc<Auth>,
    /// Who was closed for flooding, and until when they may not reconnect.
    pub flood_cooldown: cooldown::FloodCooldown,
    /// Signs the receipts of customers' chats (`None` when records are off: nothing to complain about).
    pub receipts: Option<Arc<crate::quality::receipt::Receipts>>,
}

/// What an admitted connection holds until it ends: its share of
/// `max_connections` and of its address's `max_connections_per_ip`.
#[derive(Debug)]
pub struct Held {
    pub permit: OwnedSemaphorePermit,
    pub ip: per_ip::IpSlot,
    /// Who the connection speaks for, once known: closed for flooding, they wait out the cooldown.
    pub who: Option<cooldown::Who>,
}

/// Binds a listener the way the engineering notes ask: a 4096 backlog, address reuse.
pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(4096)
}

/// The public routes: WebSockets and health.
pub fn public_routes(app: Arc<AppState>) -> axum::Router {
    let auth = app.auth.clone();
    axum::Router::new()
        .route(switchboard_protocol::CUSTOMER_WS_PATH, get(customer_ws))
        .route(switchboard_protocol::AGENT_WS_PATH, get(agent_ws))
        .route(switchboard_protocol::HEALTHZ_PATH, get(|| async { "ok" }))
        .route(switchboard_protocol::READYZ_PATH, get(readyz))
        .with_state(app)
        .merge(crate::auth::http::public_routes(auth))
        .merge(crate::web::routes())
}

/// The admin routes: `/metrics`, and disabling agents (with an admin token).
pub fn admin_routes(metrics: Metrics, auth: Arc<Auth>) -> axum::Router {
    axum::Router::new()
        .route(
            "/metrics",
            get(move || {
                let metrics = metrics.clone();
                async move { ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], metrics.render()) }
            }),
        )
        .merge(crate::auth::http::admin_routes(auth))
}

async fn readyz(State(app): State<Arc<AppState>>) -> Response {
    if !app.health.accepting.load(Ordering::Relaxed) {
        (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response()
    } else if !app.health.storage.load(Ordering::Relaxed) {
        (StatusCode::SERVICE_UNAVAILABLE, "storage unavailable").into_response()
    } else {
        (StatusCode::OK, "ready").into_response()
    }
}

/// Applies the buffer and size limits to an upgrade. No outgoing frame is
/// refused for its size: the router's rules bound every frame (an agent's
/// `state` carries each open chat's history, at most
/// `rules.max_history_bytes` each), and `outbound_queue` bounds how many
/// wait, so a cap here could only lock an agent with long chats out.
fn limits(ws: WebSocketUpgrade, g: &GatewayConfig) -> WebSocketUpgrade {
    ws.read_buffer_size(g.read_buffer_bytes)
        .write_buffer_size(g.write_buffer_bytes)
        .max_write_buffer_size(usize::MAX)
        .max_message_size(g.max_message_bytes)
        .max_frame_size(g.max_message_bytes)
}

/// Takes a connection permit, or refuses the connection (after the upgrade, so that browsers see why).
fn permit(app: &AppState) -> Option<OwnedSemaphorePermit> {
    app.permits.clone().try_acquire_owned().ok()
}

/// Refuses a handshake with an HTTP status and a `{code, message}` body:
/// the same fields as an `error` frame, so clients handle both alike.
fn refuse_http(app: &AppState, status: StatusCode, error_code: &'static str, message: String) -> Box<Response> {
    app.metrics.protocol_error(error_code);
    Box::new((status, axum::Json(Refusal::new(error_code, message))).into_response())
}

/// What every WebSocket endpoint checks before upgrading: the origin, the
/// per-IP cap, the socket limits, a connection permit and the query. `Err`
/// is the response that refuses the connection.
fn admit<P>(
    ws: WebSocketUpgrade,
    app: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    query: Result<Query<P>, QueryRejection>,
    endpoint: &str,
) -> Result<(WebSocketUpgrade, Held, P), Box<Response>> {
    if app.origins.check(headers) == origin::Verdict::Refused {
        debug!(endpoint, %peer, "origin not allowed");
        let message = "this page's origin may not open chats here (gateway.allowed_origins)".to_owned();
        return Err(refuse_http(app, StatusCode::FORBIDDEN, code::ORIGIN_NOT_ALLOWED, message));
    }
    let Some(ip) = app.per_ip.try_take(peer.ip()) else {
        debug!(endpoint, %peer, "too many connections from this address");
        let limit = app.gateway.max_connections_per_ip;
        let message = format!("at most {limit} open connections per IP address: close one or try again later");
        return Err(refuse_http(app, StatusCode::TOO_MANY_REQUESTS, code::TOO_MANY_CONNECTIONS, message));
    };
    let ws = limits(ws, &app.gateway);
    let Some(permit) = permit(app) else {
        return Err(Box::new(ws.on_upgrade(|socket| refuse(socket, code::OVERLOADED, close_code::TRY_AGAIN_LATER))));
    };
    match query {
        Ok(Query(params)) => Ok((ws, Held { permit, ip, who: None }, params)),
        Err(_) => {
            debug!(endpoint, "bad query");
            Err(Box::new(ws.on_upgrade(|socket| refuse(socket, code::INVALID_COMMAND, close_code::POLICY_VIOLATION))))
        }
    }
}

async fn customer_ws(
    ws: WebSocketUpgrade,
    State(app): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    query: Result<Query<CustomerConnectParams>, QueryRejection>,
) -> Response {
    let (ws, mut held, params) = match admit(ws, &app, peer, &headers, query, "customer") {
        Ok(admitted) => admitted,
        Err(refused) => return *refused,
    };
    let who = cooldown::Who::customers_at(peer.ip());
    if let Some(refused) = cooling_down(&app, who) {
        return *refused;
    }
    held.who = Some(who);
    let open = match params.token {
        Some(token) => CustomerOpen::Resume { token, last_seq: params.last_seq.unwrap_or(0) },
        None => {
            let identity = app.identity.verify(params.identifier.as_deref(), params.identifier_hash.as_deref());
            let priority = app.identity.verify_priority(&identity, params.priority, params.priority_hash.as_deref());
            CustomerOpen::New {
                identity,
                group: params.group,
                name: params.name,
                priority,
                time_zone: params.time_zone,
            }
        }
    };
    ws.on_upgrade(move |socket| {
        connection::serve(socket, app, Role::Customer, held, None, move |conn| {
            let request = Request::CustomerOpen { conn: conn.id, open };
            DriverInput::Open { conn, request }
        })
    })
}

async fn agent_ws(
    ws: WebSocketUpgrade,
    State(app): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    query: Result<Query<AgentConnectParams>, QueryRejection>,
) -> Response {
    // Browsers offer ["switchboard", "bearer.<token>"]; the server selects "switchboard".
    let ws = ws.protocols([switchboard_protocol::SUBPROTOCOL]);
    let token = handshake_token(&headers).map(str::to_owned);
    let (ws, mut held, params) = match admit(ws, &app, peer, &headers, query, "agent") {
        Ok(admitted) => admitted,
        Err(refused) => return *refused,
    };
    // `params.token` is never read: a token in a URL ends up in access logs.
    let identity = match admit_agent(&app.auth, token.as_deref(), params.agent.as_deref()) {
        Ok(identity) => identity,
        Err(refusal) => {
            debug!(code = refusal.code, "agent connection refused");
            app.metrics.protocol_error(refusal.code);
            return ws.on_upgrade(move |socket| refuse_with(socket, refusal, close_code::POLICY_VIOLATION));
        }
    };
    let who = cooldown::Who::agent(&identity.agent);
    if let Some(refused) = cooling_down(&app, who) {
        return *refused;
    }
    held.who = Some(who);
    let (agent, last_seq) = (Some(identity.agent.clone()), params.last_seq);
    ws.on_upgrade(move |socket| {
        let guard = connection::Guard::new(identity, &app.auth);
        connection::serve(socket, app, Role::Agent, held, Some(Box::new(guard)), move |conn| {
            let request = Request::AgentOpen { conn: conn.id, agent, last_seq };
            DriverInput::Open { conn, request }
        })
    })
}

/// Refuses a reconnect of someone closed for flooding until `gateway.flood_window` has passed.
fn cooling_down(app: &AppState, who: cooldown::Who) -> Option<Box<Response>> {
    let left = app.flood_cooldown.remaining(who)?;
    let message = format!(
        "closed for flooding: reconnect in {} s, and send at most {} commands a second",
        left.as_secs() + 1,
        app.gateway.message_rate
    );
    Some(refuse_http(app, StatusCode::TOO_MANY_REQUESTS, code::RATE_LIMITED, message))
}

/// The token of a WebSocket handshake: the `bearer.` subprotocol (browsers),
/// else an `Authorization: Bearer` header (other programs).
fn handshake_token(headers: &HeaderMap) -> Option<&str> {
    let offered = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|p| p.trim().strip_prefix(switchboard_protocol::BEARER_SUBPROTOCOL_PREFIX));
    offered.or_else(|| crate::auth::http::bearer(headers))
}

/// The agent a handshake may connect as: the token's `sub`, which `?agent=` must match if given.
fn admit_agent(auth: &Auth, token: Option<&str>, asked: Option<&str>) -> Result<Identity, Refusal> {
    let identity = auth.check(token)?;
    match asked.filter(|a| !a.is_empty()) {
        Some(asked) if asked != identity.agent => {
            Err(Refusal::new(code::FORBIDDEN, "the token is for another agent than `agent` in the URL"))
        }
        _ => Ok(identity),
    }
}

/// Refuses a connection that never reached the driver: an error frame and a close.
async fn refuse(socket: WebSocket, error_code: &'static str, close: u16) {
    refuse_with(socket, Refusal::new(error_code, format!("connection refused: {error_code}")), close).await;
}

/// [`refuse`] with a message of its own.
async fn refuse_with(mut socket: WebSocket, refusal: Refusal, close: u16) {
    let error = error_frame(None, refusal.code, refusal.message);
    let _ = socket.send(Message::Text(error)).await;
    let reason = refusal.code;
    let _ = socket.send(Message::Close(Some(CloseFrame { code: close, reason: reason.into() }))).await;
    // Wait briefly for the client's close frame so the close is clean.
    let _ =
        tokio::time::timeout(std::time::Duration::from_secs(2), async { while socket.recv().await.is_some() {} }).await;
}
