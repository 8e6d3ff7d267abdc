//! The tickets' HTTP API on the public listener (docs/tickets.md, "HTTP
//! API"). Customers prove who they are with their ticket's token, agents
//! with their sign-in token; both as `Authorization: Bearer`. Every handler
//! parses, checks the caller, and hands a [`TicketRequest`] to the driver,
//! which answers once what it shows is durable. Every refusal is
//! `{"code", "message"}` with a stable code.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::Request;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use switchboard_protocol::code;
use switchboard_tickets::{Priority, TicketId, TicketState};
use tokio::sync::{mpsc, oneshot};

use super::requests::{api_code, AgentAct, CustomerAct, Leave, Scope, TicketCall, TicketRequest, Viewer};
use super::{AgentReply, LeftBecause, TicketRefusal};
use crate::auth::http::{bearer, http_code};
use crate::auth::{Auth, Refusal};
use crate::driver::DriverInput;
use crate::gateway::origin::{AllowedOrigins, Verdict};
use crate::router::{AgentId, SessionId};
use crate::session::Token;

/// Keys kept by the per-IP limiter before old ones are swept.
const LIMITER_SWEEP_AT: usize = 10_000;

/// Shared by the handlers.
pub struct TicketsApi {
    driver: mpsc::Sender<DriverInput>,
    auth: Arc<Auth>,
    /// New tickets per client IP (`tickets.create_per_ip` a minute).
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
}

impl std::fmt::Debug for TicketsApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TicketsApi").finish_non_exhaustive()
    }
}

/// What the routes are built from.
#[derive(Debug)]
pub struct ApiParts {
    pub driver: mpsc::Sender<DriverInput>,
    pub auth: Arc<Auth>,
    /// `gateway.allowed_origins`: the sites whose pages may call the API (the widget runs in them).
    pub origins: AllowedOrigins,
    /// `tickets.create_per_ip`.
    pub create_per_ip: u32,
}

/// The public routes.
pub fn public_routes(parts: ApiParts) -> axum::Router {
    let ApiParts { driver, auth, origins, create_per_ip } = parts;
    let quota = Quota::per_minute(NonZeroU32::new(create_per_ip).unwrap_or(NonZeroU32::MIN));
    let api = Arc::new(TicketsApi { driver, auth, per_ip: RateLimiter::keyed(quota) });
    axum::Router::new()
        .route("/v1/tickets", post(leave).get(list))
        .route("/v1/tickets/breaches", get(breaches))
        .route("/v1/tickets/from-chat", post(from_chat))
        .route("/v1/tickets/{id}", get(read))
        .route("/v1/tickets/{id}/reply", post(reply))
        .route("/v1/tickets/{id}/transfer", post(transfer))
        .route("/v1/tickets/{id}/priority", post(priority))
        .route("/v1/ticket", get(customer_read))
        .route("/v1/ticket/messages", post(customer_message))
        .route("/v1/ticket/confirm", post(customer_confirm))
        .route("/v1/ticket/close", post(customer_close))
        .with_state(api)
        .layer(axum::middleware::from_fn_with_state(Arc::new(origins), cors))
}

/// The widget calls the API from the pages of the sites that embed it: the
/// origins of `gateway.allowed_origins` (as for WebSockets) may, with the
/// preflight answered here; any other origin is refused.
pub(crate) async fn cors(State(origins): State<Arc<AllowedOrigins>>, request: Request, next: Next) -> Response {
    if origins.check(request.headers()) == Verdict::Refused {
        let message = "this page's origin may not call the ticket API (gateway.allowed_origins)";
        return refusal_response(TicketRefusal::new(code::ORIGIN_NOT_ALLOWED, message));
    }
    let origin = request.headers().get(header::ORIGIN).cloned();
    let mut response = if request.method() == Method::OPTIONS {
        let mut preflight = StatusCode::NO_CONTENT.into_response();
        let headers = preflight.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST"));
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("authorization, content-type"));
        headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        preflight
    } else {
        next.run(request).await
    };
    if let Some(origin) = origin {
        response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        response.headers_mut().insert(header::VARY, HeaderValue::from_static("origin"));
    }
    response
}

type Api = State<Arc<TicketsApi>>;

/// The HTTP status of a refusal's code.
pub fn status_of(code: &str) -> StatusCode {
    match code {
        http_code::INVALID_REQUEST => StatusCode::BAD_REQUEST,
        api_code::TOKEN_INVALID | code::TOKEN_MISSING | code::TOKEN_INVALID | code::TOKEN_EXPIRED => {
            StatusCode::UNAUTHORIZED
        }
        api_code::SUPERVISORS_ONLY
        | api_code::NOT_VISIBLE
        | "ticket_not_yours"
        | super::desk_code::CHAT_NOT_YOURS
        | code::FORBIDDEN
        | code::AGENT_DISABLED
        | code::AGENT_SUSPENDED
        | code::AGENT_DISQUALIFIED => StatusCode::FORBIDDEN,
        "ticket_unknown" | super::desk_code::SESSION_UNKNOWN => StatusCode::NOT_FOUND,
        "ticket_transition_illegal"
        | "ticket_done"
        | "ticket_exists"
        | "ticket_agent_unavailable"
        | "ticket_agent_full"
        | super::desk_code::TICKET_FULL
        | super::desk_code::REPLY_FIRST => StatusCode::CONFLICT,
        code::CONTENT_BLOCKED => StatusCode::UNPROCESSABLE_ENTITY,
        code::RATE_LIMITED => StatusCode::TOO_MANY_REQUESTS,
        code::ORIGIN_NOT_ALLOWED => StatusCode::FORBIDDEN,
        code::STORAGE_UNAVAILABLE | code::SHUTTING_DOWN => StatusCode::SERVICE_UNAVAILABLE,
        code::INTERNAL => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

fn refusal_response(refusal: TicketRefusal) -> Response {
    (status_of(refusal.code), Json(Refusal::new(refusal.code, refusal.message))).into_response()
}

fn bad_request(message: &str) -> TicketRefusal {
    TicketRefusal::new(http_code::INVALID_REQUEST, message)
}

/// Hands a request to the driver and turns its answer into a response.
async fn ask(api: &TicketsApi, request: Result<TicketRequest, TicketRefusal>) -> Response {
    let request = match request {
        Ok(request) => request,
        Err(refusal) => return refusal_response(refusal),
    };
    let (reply, answer) = oneshot::channel();
    let stopped = || refusal_response(TicketRefusal::new(code::SHUTTING_DOWN, "the server is shutting down"));
    if api.driver.send(DriverInput::Ticket(TicketCall { request, reply })).await.is_err() {
        return stopped();
    }
    match answer.await {
        Ok(Ok(answered)) => {
            let status = if answered.created { StatusCode::CREATED } else { StatusCode::OK };
            (status, Json(answered.body)).into_response()
        }
        Ok(Err(refusal)) => refusal_response(refusal),
        Err(_) => stopped(),
    }
}

fn body<T: DeserializeOwned>(bytes: &[u8], shape: &str) -> Result<T, TicketRefusal> {
    serde_json::from_slice(bytes).map_err(|_| bad_request(&format!("send {shape} as JSON")))
}

// ---- customers ----

#[derive(Deserialize)]
struct LeaveBody {
    group: String,
    text: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    /// A live chat's token: accepted, not used (the ticket is not linked to the chat).
    #[serde(default, rename = "session_token")]
    _session_token: Option<String>,
}

async fn leave(State(api): Api, ConnectInfo(peer): ConnectInfo<SocketAddr>, bytes: Bytes) -> Response {
    let request = parse_leave(&api, peer.ip(), &bytes);
    ask(&api, request).await
}

fn parse_leave(api: &TicketsApi, ip: IpAddr, bytes: &[u8]) -> Result<TicketRequest, TicketRefusal> {
    if api.per_ip.len() > LIMITER_SWEEP_AT {
        api.per_ip.retain_recent();
    }
    if api.per_ip.check_key(&ip).is_err() {
        return Err(TicketRefusal::new(code::RATE_LIMITED, "too many tickets from this address: try again later"));
    }
    let b: LeaveBody = body(bytes, r#"{"group": "...", "text": "...", "reason": "..."}"#)?;
    let reason = match b.reason.as_deref() {
        Some("group_closed") => LeftBecause::GroupClosed,
        Some("nobody_available") => LeftBecause::NobodyAvailable,
        Some("customer_choice") => LeftBecause::CustomerChoice,
        _ => {
            let message = "reason must be group_closed, nobody_available or customer_choice";
            return Err(TicketRefusal::new(api_code::BAD_REASON, message));
        }
    };
    let new = Leave { group: b.group, text: b.text, name: b.name, reason };
    Ok(TicketRequest::Leave { new, token: Token::mint() })
}

fn customer(headers: &HeaderMap, act: CustomerAct) -> Result<TicketRequest, TicketRefusal> {
    let token = bearer(headers).ok_or_else(|| {
        TicketRefusal::new(api_code::TOKEN_INVALID, "send the ticket's token: Authorization: Bearer <token>")
    })?;
    Ok(TicketRequest::Customer { token: token.to_owned(), act })
}

async fn customer_read(State(api): Api, headers: HeaderMap) -> Response {
    ask(&api, customer(&headers, CustomerAct::Read)).await
}

#[derive(Deserialize)]
struct TextBody {
    text: String,
}

async fn customer_message(State(api): Api, headers: HeaderMap, bytes: Bytes) -> Response {
    let request =
        body::<TextBody>(&bytes, r#"{"text": "..."}"#).and_then(|b| customer(&headers, CustomerAct::Message(b.text)));
    ask(&api, request).await
}

async fn customer_confirm(State(api): Api, headers: HeaderMap) -> Response {
    ask(&api, customer(&headers, CustomerAct::Confirm)).await
}

async fn customer_close(State(api): Api, headers: HeaderMap) -> Response {
    ask(&api, customer(&headers, CustomerAct::Close)).await
}

// ---- agents ----

fn viewer(api: &TicketsApi, headers: &HeaderMap) -> Result<Viewer, TicketRefusal> {
    let identity = api.auth.check(bearer(headers)).map_err(|r| TicketRefusal::new(r.code, r.message))?;
    Ok(Viewer { agent: AgentId::new(&identity.agent), supervisor: identity.role.may_supervise() })
}

fn agent(api: &TicketsApi, headers: &HeaderMap, act: AgentAct) -> Result<TicketRequest, TicketRefusal> {
    Ok(TicketRequest::Agent { viewer: viewer(api, headers)?, act })
}

fn ticket_id(id: &str) -> Result<TicketId, TicketRefusal> {
    id.parse().map(TicketId).map_err(|_| TicketRefusal::new("ticket_unknown", format!("no ticket {id}")))
}

fn state_named(name: &str) -> Result<TicketState, TicketRefusal> {
    TicketState::ALL
        .into_iter()
        .find(|s| s.name() == name)
        .ok_or_else(|| TicketRefusal::new(api_code::BAD_STATE, format!("no ticket state `{name}`")))
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    state: Option<String>,
}

async fn list(State(api): Api, headers: HeaderMap, query: Result<Query<ListQuery>, QueryRejection>) -> Response {
    let request = parse_list(query.ok().map(|q| q.0)).and_then(|act| agent(&api, &headers, act));
    ask(&api, request).await
}

fn parse_list(query: Option<ListQuery>) -> Result<AgentAct, TicketRefusal> {
    let query = query.ok_or_else(|| bad_request("the query is scope=mine|groups|all[&state=...]"))?;
    let scope = match query.scope.as_deref().unwrap_or("mine") {
        "mine" => Scope::Mine,
        "groups" => Scope::Groups,
        "all" => Scope::All,
        other => return Err(TicketRefusal::new(api_code::BAD_SCOPE, format!("scope `{other}`: mine, groups or all"))),
    };
    let state = query.state.as_deref().map(state_named).transpose()?;
    Ok(AgentAct::List { scope, state })
}

#[derive(Deserialize)]
struct SinceQuery {
    #[serde(default)]
    since: Option<i64>,
}

async fn breaches(State(api): Api, headers: HeaderMap, query: Result<Query<SinceQuery>, QueryRejection>) -> Response {
    let since = query.ok().and_then(|q| q.0.since).unwrap_or(i64::MIN);
    ask(&api, agent(&api, &headers, AgentAct::Breaches { since })).await
}

async fn read(State(api): Api, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let request = ticket_id(&id).and_then(|id| agent(&api, &headers, AgentAct::Read(id)));
    ask(&api, request).await
}

#[derive(Deserialize)]
struct ReplyBody {
    text: String,
    state: String,
    #[serde(default)]
    expected_resolution: Option<i64>,
}

async fn reply(State(api): Api, Path(id): Path<String>, headers: HeaderMap, bytes: Bytes) -> Response {
    let request = ticket_id(&id).and_then(|id| {
        let b: ReplyBody = body(&bytes, r#"{"text": "...", "state": "processing", "expected_resolution": ms}"#)?;
        let reply = AgentReply {
            text: b.text,
            state: state_named(&b.state)?,
            expected_resolution: b.expected_resolution,
            // Checked by the driver, against the rules in force.
            content: Default::default(),
        };
        agent(&api, &headers, AgentAct::Reply(id, reply))
    });
    ask(&api, request).await
}

#[derive(Deserialize)]
struct TransferBody {
    to: String,
    note: String,
}

async fn transfer(State(api): Api, Path(id): Path<String>, headers: HeaderMap, bytes: Bytes) -> Response {
    let request = ticket_id(&id).and_then(|ticket| {
        let b: TransferBody = body(&bytes, r#"{"to": "agent-id", "note": "..."}"#)?;
        agent(&api, &headers, AgentAct::Transfer { ticket, to: AgentId::new(&b.to), note: b.note })
    });
    ask(&api, request).await
}

#[derive(Deserialize)]
struct PriorityBody {
    priority: String,
}

async fn priority(State(api): Api, Path(id): Path<String>, headers: HeaderMap, bytes: Bytes) -> Response {
    let request = ticket_id(&id).and_then(|ticket| {
        let b: PriorityBody = body(&bytes, r#"{"priority": "normal" | "urgent"}"#)?;
        let priority = match b.priority.as_str() {
            "normal" => Priority::Normal,
            "urgent" => Priority::Urgent,
            _ => return Err(TicketRefusal::new("bad_priority", "priority must be normal or urgent")),
        };
        agent(&api, &headers, AgentAct::Priority(ticket, priority))
    });
    ask(&api, request).await
}

#[derive(Deserialize)]
struct FromChatBody {
    session: u64,
    note: String,
}

async fn from_chat(State(api): Api, headers: HeaderMap, bytes: Bytes) -> Response {
    let request = body::<FromChatBody>(&bytes, r#"{"session": 12, "note": "..."}"#).and_then(|b| {
        agent(&api, &headers, AgentAct::FromChat { session: SessionId(b.session), note: b.note, token: Token::mint() })
    });
    ask(&api, request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every account refusal is a 403 like the sign-in's (auth::http), never the 422 of a ticket rule.
    #[test]
    fn account_refusals_are_forbidden() {
        for c in [code::AGENT_DISABLED, code::AGENT_SUSPENDED, code::AGENT_DISQUALIFIED, code::FORBIDDEN] {
            assert_eq!(status_of(c), StatusCode::FORBIDDEN, "{c}");
        }
        assert_eq!(status_of(code::TOKEN_EXPIRED), StatusCode::UNAUTHORIZED);
    }
}
