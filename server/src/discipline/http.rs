//! `GET /v1/discipline?agent=` on the public listener: warnings with their
//! causes, suspensions and disqualification (supervisors see everyone; an
//! agent sees their own). See `docs/shifts.md`.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use serde_json::json;
use switchboard_protocol::code;

use super::Discipline;
use crate::auth::http::{bearer, http_code, ApiError};
use crate::auth::Auth;
use crate::records::http::records_code;
use crate::shifts::http::unavailable;

#[derive(Debug)]
struct Lookup {
    discipline: Arc<Discipline>,
    auth: Arc<Auth>,
}

pub fn routes(discipline: Arc<Discipline>, auth: Arc<Auth>) -> axum::Router {
    axum::Router::new().route("/v1/discipline", get(find)).with_state(Arc::new(Lookup { discipline, auth }))
}

type Params = Result<Query<Vec<(String, String)>>, QueryRejection>;

async fn find(State(lookup): State<Arc<Lookup>>, headers: HeaderMap, params: Params) -> Response {
    try_find(&lookup, &headers, params).await.unwrap_or_else(IntoResponse::into_response)
}

async fn try_find(lookup: &Lookup, headers: &HeaderMap, params: Params) -> Result<Response, ApiError> {
    let identity = lookup.auth.check(bearer(headers))?;
    let invalid = |m: String| ApiError::new(StatusCode::BAD_REQUEST, http_code::INVALID_REQUEST, m);
    let params = params.map(|Query(p)| p).map_err(|e| invalid(format!("the query string cannot be read: {e}")))?;
    let mut agent = None;
    for (key, value) in params {
        match key.as_str() {
            "agent" => agent = Some(value.trim().to_owned()),
            other => return Err(invalid(format!("unknown parameter `{other}`: only `agent`"))),
        }
    }
    if !identity.role.may_supervise() {
        if agent.as_ref().is_some_and(|a| *a != identity.agent) {
            let message = "an agent sees their own discipline only";
            return Err(ApiError::new(StatusCode::FORBIDDEN, code::SUPERVISORS_ONLY, message));
        }
        agent = Some(identity.agent);
    }
    if lookup.discipline.store.is_none() {
        let message = "records are off (records.enabled = false)";
        return Err(ApiError::new(StatusCode::NOT_FOUND, records_code::RECORDS_DISABLED, message));
    }
    let all = lookup.discipline.now().await.map_err(unavailable)?;
    let agents: Vec<_> = all.into_iter().filter(|s| agent.as_ref().is_none_or(|a| *a == s.agent)).collect();
    Ok(Json(json!({ "agents": agents })).into_response())
}
