//! The HTTP side of sign-in: `POST /v1/login`, `POST /v1/token/renew` (public
//! listener) and `POST /v1/admin/agents/{id}/disable|enable` (admin listener).
//! Every refusal is `{"code", "message"}` with a stable code.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use switchboard_protocol::code;
use tracing::{info, warn};

use super::{password, Auth, Identity, Refusal, Role};

/// Codes only the HTTP endpoints give.
pub mod http_code {
    /// The body is not `{"agent": "...", "password": "..."}`.
    pub const INVALID_REQUEST: &str = "invalid_request";
    /// Unknown agent or wrong password (the same answer for both).
    pub const INVALID_CREDENTIALS: &str = "invalid_credentials";
    /// Too many attempts for this agent or from this address: see `Retry-After`.
    pub const LOGIN_RATE_LIMITED: &str = "login_rate_limited";
    /// Tokens come from the company's own backend (`auth.public_key_file`).
    pub const LOGIN_DISABLED: &str = "login_disabled";
}

/// A refusal as an HTTP answer.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    refusal: Refusal,
    retry_after_secs: Option<u64>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, refusal: Refusal::new(code, message), retry_after_secs: None }
    }
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> ApiError {
        let status = match refusal.code {
            code::AGENT_DISABLED | code::FORBIDDEN | code::AGENT_SUSPENDED | code::AGENT_DISQUALIFIED => {
                StatusCode::FORBIDDEN
            }
            _ => StatusCode::UNAUTHORIZED,
        };
        ApiError { status, refusal, retry_after_secs: None }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(self.refusal);
        match self.retry_after_secs {
            Some(secs) => (self.status, [(header::RETRY_AFTER, secs.to_string())], body).into_response(),
            None => (self.status, body).into_response(),
        }
    }
}

/// The public routes (state: the shared [`Auth`]).
pub fn public_routes(auth: Arc<Auth>) -> axum::Router {
    axum::Router::new()
        .route(switchboard_protocol::LOGIN_PATH, post(login))
        .route(switchboard_protocol::RENEW_PATH, post(renew))
        .with_state(auth)
}

/// The admin routes: disable and enable an agent (an admin token required).
pub fn admin_routes(auth: Arc<Auth>) -> axum::Router {
    axum::Router::new()
        .route("/v1/admin/agents/{agent}/disable", post(disable))
        .route("/v1/admin/agents/{agent}/enable", post(enable))
        .with_state(auth)
}

#[derive(Deserialize)]
struct LoginRequest {
    agent: String,
    password: String,
}

async fn login(State(auth): State<Arc<Auth>>, ConnectInfo(peer): ConnectInfo<SocketAddr>, body: Bytes) -> Response {
    match try_login(&auth, peer, &body).await {
        Ok(answer) => answer.into_response(),
        Err(e) => e.into_response(),
    }
}

async fn try_login(auth: &Arc<Auth>, peer: SocketAddr, body: &[u8]) -> Result<Json<super::token::Issued>, ApiError> {
    if auth.signer.is_none() {
        return Err(login_disabled());
    }
    let request: LoginRequest = serde_json::from_slice(body).map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            http_code::INVALID_REQUEST,
            r#"send {"agent": "...", "password": "..."} as JSON"#,
        )
    })?;
    let agent = request.agent;
    if let Err(wait) = auth.limits.check(&agent, peer.ip()) {
        auth.login_failed(http_code::LOGIN_RATE_LIMITED);
        warn!(agent = %agent, ip = %peer.ip(), "login refused: too many attempts");
        let secs = wait.as_secs() + 1;
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            http_code::LOGIN_RATE_LIMITED,
            format!("too many sign-in attempts: try again in {secs} s"),
        );
        e.retry_after_secs = Some(secs);
        return Err(e);
    }
    let stored = auth.accounts().get(&agent).and_then(|a| a.password_hash.clone());
    let password = request.password;
    // Argon2 takes tens of milliseconds of CPU by design: off the async threads, a few at a time.
    let slot = auth.password_slots.acquire().await.map_err(|_| {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code::SHUTTING_DOWN, "the server is shutting down")
    })?;
    let matches =
        tokio::task::spawn_blocking(move || password::verify(stored.as_ref(), &password)).await.unwrap_or(false);
    drop(slot);
    auth.password_checked();
    if !matches {
        auth.login_failed(http_code::INVALID_CREDENTIALS);
        warn!(agent = %agent, ip = %peer.ip(), "login refused: invalid credentials");
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            http_code::INVALID_CREDENTIALS,
            "wrong agent id or password",
        ));
    }
    if auth.is_disabled(&agent) {
        auth.login_failed(code::AGENT_DISABLED);
        warn!(agent = %agent, ip = %peer.ip(), "login refused: agent disabled");
        return Err(Refusal::new(code::AGENT_DISABLED, "this agent has been disabled by an admin").into());
    }
    if let Some(refusal) = auth.barred(&agent) {
        auth.login_failed(refusal.code);
        warn!(agent = %agent, ip = %peer.ip(), code = refusal.code, "login refused: discipline");
        return Err(refusal.into());
    }
    let issued = auth.issue(&agent).ok_or_else(login_disabled)?;
    info!(agent = %agent, role = ?issued.role, "signed in");
    Ok(Json(issued))
}

fn login_disabled() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        http_code::LOGIN_DISABLED,
        "this server takes tokens from your company's identity service; sign in there",
    )
}

async fn renew(State(auth): State<Arc<Auth>>, headers: HeaderMap) -> Response {
    match try_renew(&auth, &headers) {
        Ok(answer) => answer.into_response(),
        Err(e) => e.into_response(),
    }
}

fn try_renew(auth: &Auth, headers: &HeaderMap) -> Result<Json<super::token::Issued>, ApiError> {
    if auth.signer.is_none() {
        return Err(login_disabled());
    }
    let identity = auth.check(bearer(headers)).inspect_err(|refusal| {
        // Account refusals keep their own reason; every token problem counts as `token_invalid`.
        let reason = match refusal.code {
            c @ (code::AGENT_DISABLED | code::AGENT_SUSPENDED | code::AGENT_DISQUALIFIED) => c,
            _ => code::TOKEN_INVALID,
        };
        auth.login_failed(reason);
    })?;
    Ok(Json(auth.issue(&identity.agent).ok_or_else(login_disabled)?))
}

/// The token of an `Authorization: Bearer ...` header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// The caller's identity, if it is an admin's valid token.
pub(crate) fn admin(auth: &Auth, headers: &HeaderMap) -> Result<Identity, ApiError> {
    let identity = auth.check(bearer(headers))?;
    if identity.role != Role::Admin {
        return Err(Refusal::new(code::FORBIDDEN, "this endpoint is for admins").into());
    }
    Ok(identity)
}

async fn disable(State(auth): State<Arc<Auth>>, Path(agent): Path<String>, headers: HeaderMap) -> Response {
    set_disabled(&auth, &agent, &headers, Change::Disable).unwrap_or_else(IntoResponse::into_response)
}

async fn enable(State(auth): State<Arc<Auth>>, Path(agent): Path<String>, headers: HeaderMap) -> Response {
    set_disabled(&auth, &agent, &headers, Change::Enable).unwrap_or_else(IntoResponse::into_response)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Change {
    Disable,
    Enable,
}

fn set_disabled(auth: &Auth, agent: &str, headers: &HeaderMap, change: Change) -> Result<Response, ApiError> {
    let by = admin(auth, headers)?;
    if !auth.knows(agent) {
        return Err(ApiError::new(StatusCode::NOT_FOUND, code::UNKNOWN_AGENT, "no such agent in the roster"));
    }
    if change == Change::Disable && agent == by.agent {
        return Err(ApiError::new(StatusCode::CONFLICT, code::FORBIDDEN, "an admin cannot disable themselves"));
    }
    let saved = match change {
        Change::Disable => auth.disabled().disable(agent),
        Change::Enable => auth.disabled().enable(agent),
    };
    saved.map_err(|e| {
        warn!(error = %e, "cannot save the disabled agents list");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, code::INTERNAL, "the list could not be saved; nothing changed")
    })?;
    let disabled = change == Change::Disable;
    info!(agent, by = %by.agent, disabled, "agent access changed by an admin");
    Ok(Json(json!({"agent": agent, "disabled": disabled})).into_response())
}
