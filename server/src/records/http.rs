//! Looking up past chats, for supervisors and admins:
//!
//! - `GET /v1/admin/records/chats?customer=&agent=&group=&from=&to=&flag=&limit=`
//!   lists closed chats, newest first (`{"chats": [...]}`, without their text);
//! - `GET /v1/admin/records/chats/{session}[?origin=]` gives one with its
//!   transcript, handoff notes and conduct flags;
//! - `GET /v1/admin/records/tickets/{id}` gives a done ticket of this
//!   `data_dir` with its messages, notes and events (`{"ticket", "events"}`).
//!
//! The same two lookups are on the public listener as `/v1/records/chats` and
//! `/v1/records/chats/{session}`, for the supervisor view (a page cannot reach
//! the admin port). Only the refusal of an agent's token differs: the public
//! side says `supervisors_only`, as the WebSocket's `snapshot` does.
//!
//! Every refusal is `{"code", "message"}` with a stable code
//! ([`records_code`], `invalid_request`, and the token codes).

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use serde_json::json;
use switchboard_protocol::code;
use switchboard_records::{ChatQuery, Store, StoreError, MAX_LIMIT};

use crate::auth::http::{bearer, http_code, ApiError};
use crate::auth::Auth;
use crate::router::output::ConductKind;

/// Codes only these endpoints give.
pub mod records_code {
    /// `records.enabled = false`: nothing is kept to look up.
    pub const RECORDS_DISABLED: &str = "records_disabled";
    /// The records database cannot be reached now; try again.
    pub const RECORDS_UNAVAILABLE: &str = "records_unavailable";
    /// No closed chat has that session id (or not yet: records arrive within moments of the close).
    pub const CHAT_NOT_FOUND: &str = "chat_not_found";
    /// No done ticket has that id (or not yet: records arrive within moments of the end).
    pub const TICKET_NOT_FOUND: &str = "ticket_not_found";
}

/// How many chats a lookup returns unless `limit` says.
const DEFAULT_LIMIT: u32 = 50;

struct Lookups {
    store: Option<Store>,
    auth: Arc<Auth>,
    /// The code an agent's token is refused with (each listener keeps its own convention).
    not_a_supervisor: &'static str,
}

/// The admin listener's routes (state: the records store, `None` when records are off).
pub fn admin_routes(store: Option<Store>, auth: Arc<Auth>) -> axum::Router {
    chat_routes("/v1/admin/records/chats")
        .route("/v1/admin/records/tickets/{id}", get(ticket))
        .with_state(Arc::new(Lookups { store, auth, not_a_supervisor: code::FORBIDDEN }))
}

/// The public listener's routes: the same chat lookups for the supervisor view.
pub fn public_routes(store: Option<Store>, auth: Arc<Auth>) -> axum::Router {
    chat_routes("/v1/records/chats").with_state(Arc::new(Lookups {
        store,
        auth,
        not_a_supervisor: code::SUPERVISORS_ONLY,
    }))
}

fn chat_routes(chats: &str) -> axum::Router<Arc<Lookups>> {
    axum::Router::new().route(chats, get(find)).route(&format!("{chats}/{{session}}"), get(one))
}

type Params = Result<Query<Vec<(String, String)>>, QueryRejection>;

async fn find(State(lookups): State<Arc<Lookups>>, headers: HeaderMap, params: Params) -> Response {
    answer(try_find(&lookups, &headers, params).await)
}

async fn one(
    State(lookups): State<Arc<Lookups>>,
    Path(session): Path<String>,
    headers: HeaderMap,
    params: Params,
) -> Response {
    answer(try_one(&lookups, &session, &headers, params).await)
}

fn answer(result: Result<Response, ApiError>) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

async fn try_find(lookups: &Lookups, headers: &HeaderMap, params: Params) -> Result<Response, ApiError> {
    let store = lookups.allowed(headers)?;
    let query = chat_query(&params_of(params)?)?;
    let chats = store.find_chats(&query).await.map_err(unavailable)?;
    Ok(Json(json!({ "chats": chats })).into_response())
}

async fn try_one(lookups: &Lookups, session: &str, headers: &HeaderMap, params: Params) -> Result<Response, ApiError> {
    let store = lookups.allowed(headers)?;
    let session: u64 = session.parse().map_err(|_| invalid("the session id is a number, e.g. /v1/records/chats/42"))?;
    let params = params_of(params)?;
    let mut origin = None;
    for (key, value) in &params {
        match key.as_str() {
            "origin" => origin = Some(value.as_str()),
            other => return Err(invalid(format!("unknown parameter `{other}`: only `origin`"))),
        }
    }
    match store.chat(session, origin).await.map_err(unavailable)? {
        Some(chat) => Ok(Json(chat).into_response()),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            records_code::CHAT_NOT_FOUND,
            "no closed chat has this session id",
        )),
    }
}

async fn ticket(State(lookups): State<Arc<Lookups>>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    answer(try_ticket(&lookups, &id, &headers).await)
}

async fn try_ticket(lookups: &Lookups, id: &str, headers: &HeaderMap) -> Result<Response, ApiError> {
    let store = lookups.allowed(headers)?;
    let id: u64 = id.parse().map_err(|_| invalid("the ticket id is a number, e.g. /v1/admin/records/tickets/7"))?;
    let not_found =
        || ApiError::new(StatusCode::NOT_FOUND, records_code::TICKET_NOT_FOUND, "no done ticket has this id");
    let ticket = store.ticket(id).await.map_err(unavailable)?.ok_or_else(not_found)?;
    let events = store.ticket_events(id).await.map_err(unavailable)?;
    let events: Vec<_> = events
        .into_iter()
        .map(|e| {
            let detail: serde_json::Value = serde_json::from_str(&e.detail).unwrap_or_default();
            json!({"at": e.at, "kind": e.kind, "agent": e.agent, "detail": detail})
        })
        .collect();
    Ok(Json(json!({ "ticket": ticket, "events": events })).into_response())
}

impl Lookups {
    /// The store, if the caller is a supervisor or an admin and records are on.
    fn allowed(&self, headers: &HeaderMap) -> Result<&Store, ApiError> {
        let identity = self.auth.check(bearer(headers))?;
        if !identity.role.may_supervise() {
            let message = "this endpoint is for supervisors and admins";
            return Err(ApiError::new(StatusCode::FORBIDDEN, self.not_a_supervisor, message));
        }
        self.store.as_ref().ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                records_code::RECORDS_DISABLED,
                "records are off (records.enabled = false)",
            )
        })
    }
}

fn params_of(params: Params) -> Result<Vec<(String, String)>, ApiError> {
    params.map(|Query(p)| p).map_err(|e| invalid(format!("the query string cannot be read: {e}")))
}

/// The lookup's filters; an unknown parameter or a bad value is refused, naming it.
fn chat_query(params: &[(String, String)]) -> Result<ChatQuery, ApiError> {
    let mut q = ChatQuery { limit: DEFAULT_LIMIT, ..ChatQuery::default() };
    for (key, value) in params {
        let value = value.trim();
        match key.as_str() {
            "customer" => q.customer = Some(value.to_owned()),
            "agent" => q.agent = Some(value.to_owned()),
            "group" => q.group = Some(value.to_owned()),
            "flag" => q.flag = Some(flag(value)?),
            "from" => q.from = Some(when(key, value)?.start()),
            "to" => q.to = Some(when(key, value)?.end()),
            "limit" => q.limit = limit(value)?,
            other => {
                return Err(invalid(format!(
                    "unknown parameter `{other}`: use customer, agent, group, from, to, flag, limit"
                )))
            }
        }
    }
    Ok(q)
}

fn flag(value: &str) -> Result<String, ApiError> {
    let known = ConductKind::ALL.iter().any(|k| k.label() == value || k.category() == value);
    if known {
        Ok(value.to_owned())
    } else {
        Err(invalid(format!("`flag` must be a conduct flag kind or category (docs/domain.md), not `{value}`")))
    }
}

fn limit(value: &str) -> Result<u32, ApiError> {
    match value.parse::<u32>() {
        Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        _ => Err(invalid(format!("`limit` must be a number from 1 to {MAX_LIMIT}"))),
    }
}

/// A `from` or `to`: an instant (RFC 3339, `2026-11-26T09:30:00Z`) or a UTC day (`2026-11-26`).
enum When {
    Instant(i64),
    Day(jiff::civil::Date),
}

fn when(key: &str, value: &str) -> Result<When, ApiError> {
    if let Ok(t) = value.parse::<jiff::Timestamp>() {
        return Ok(When::Instant(t.as_millisecond()));
    }
    value.parse::<jiff::civil::Date>().map(When::Day).map_err(|_| {
        invalid(format!("`{key}` must be a date (2026-11-26, UTC) or an RFC 3339 time (2026-11-26T09:30:00Z)"))
    })
}

impl When {
    /// As a `from`: a day starts at its midnight.
    fn start(&self) -> i64 {
        match self {
            When::Instant(ms) => *ms,
            When::Day(day) => midnight(*day),
        }
    }

    /// As a `to` (exclusive): a day is included whole.
    fn end(&self) -> i64 {
        match self {
            When::Instant(ms) => *ms,
            When::Day(day) => day.tomorrow().map_or(i64::MAX, midnight),
        }
    }
}

fn midnight(day: jiff::civil::Date) -> i64 {
    day.to_zoned(jiff::tz::TimeZone::UTC).map_or(0, |z| z.timestamp().as_millisecond())
}

pub(crate) fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, http_code::INVALID_REQUEST, message)
}

pub(crate) fn unavailable(e: StoreError) -> ApiError {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, records_code::RECORDS_UNAVAILABLE, e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn filters_are_read_and_a_day_is_taken_whole() {
        let q = chat_query(&params(&[
            ("customer", "c-1"),
            ("agent", "ann"),
            ("group", "general"),
            ("from", "2026-11-26"),
            ("to", "2026-11-26"),
            ("flag", "agent_close"),
            ("limit", "5"),
        ]))
        .unwrap();
        let day = 86_400_000;
        assert_eq!(q.from.unwrap() % day, 0);
        assert_eq!(q.to.unwrap() - q.from.unwrap(), day);
        assert_eq!((q.limit, q.flag.as_deref()), (5, Some("agent_close")));
        let q = chat_query(&params(&[("from", "2026-11-26T10:00:00Z")])).unwrap();
        assert_eq!(q.from.unwrap() % day, 10 * 3_600_000);
        assert_eq!(q.limit, DEFAULT_LIMIT);
    }

    #[test]
    fn bad_values_are_refused_naming_the_parameter() {
        for (key, value) in
            [("from", "yesterday"), ("limit", "0"), ("limit", "100000"), ("flag", "rude"), ("colour", "red")]
        {
            let err = chat_query(&params(&[(key, value)])).unwrap_err();
            let body = format!("{err:?}");
            assert!(body.contains(key), "{key}={value}: {body}");
            assert!(body.contains(http_code::INVALID_REQUEST), "{body}");
        }
    }
}
