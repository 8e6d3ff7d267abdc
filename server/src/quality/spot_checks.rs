//! Spot checks: a supervisor's pass or fail on a closed chat, with a
//! comment. The agent checked is who served the chat last; marking a chat
//! again replaces the verdict (a supervisor may correct it), and the month's
//! pass rate feeds the labor fee's payout ratio.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use switchboard_records::{now_ms, ChatQuery, SpotCheckRow, MAX_LIMIT};

use super::http::{answer, body, filters, one_of, text, Params, QualityApi, Required};
use super::{quality_code, RESULTS};
use crate::auth::http::ApiError;
use crate::metrics::SPOT_CHECKS;
use crate::records::http::{invalid, records_code, unavailable};

type Api = State<Arc<QualityApi>>;

#[derive(Deserialize)]
struct MarkBody {
    result: String,
    #[serde(default)]
    comment: String,
}

/// `PUT /v1/records/chats/{session}/spot-check` `{"result": "pass" | "fail", "comment": "..."}`.
pub async fn mark(State(api): Api, Path(session): Path<String>, headers: HeaderMap, bytes: Bytes) -> Response {
    answer(try_mark(&api, &session, &headers, &bytes).await)
}

async fn try_mark(api: &QualityApi, session: &str, headers: &HeaderMap, bytes: &[u8]) -> Result<Response, ApiError> {
    let supervisor = api.supervisor(headers)?;
    let store = api.store()?;
    let session: u64 = session.parse().map_err(|_| invalid("the session id is a number"))?;
    let b: MarkBody = body(bytes, r#"{"result": "pass" | "fail", "comment": "..."}"#)?;
    let result = one_of("result", &b.result, &RESULTS)?;
    let comment = text("comment", &b.comment, Required::No)?;
    let chat = store.chat(session, Some(store.origin())).await.map_err(unavailable)?.ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, records_code::CHAT_NOT_FOUND, "no closed chat has this session id")
    })?;
    let agent = chat.summary.agent.ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            quality_code::NOBODY_SERVED,
            "nobody served this chat: there is nobody to check",
        )
    })?;
    let check = SpotCheckRow {
        origin: chat.summary.origin,
        session,
        agent,
        result,
        comment,
        checked_by: supervisor.agent,
        checked_at: now_ms(),
    };
    store.put_spot_check(&check).await.map_err(unavailable)?;
    api.metrics.counter(SPOT_CHECKS, &[("outcome", check.result.as_str())]).increment(1);
    Ok(Json(check).into_response())
}

/// `GET /v1/spot-checks?agent=&from=&to=`: the checks made in the span (by
/// `checked_at`), oldest first, with their pass rate.
pub async fn list(State(api): Api, headers: HeaderMap, params: Params) -> Response {
    answer(try_list(&api, &headers, params).await)
}

async fn try_list(api: &QualityApi, headers: &HeaderMap, params: Params) -> Result<Response, ApiError> {
    api.supervisor(headers)?;
    let store = api.store()?;
    let f = filters(params, &[])?;
    let checks = store.spot_checks(f.agent.as_deref(), f.span).await.map_err(unavailable)?;
    let passed = checks.iter().filter(|c| c.result == "pass").count();
    let pass_rate = (!checks.is_empty()).then(|| passed as f64 / checks.len() as f64);
    Ok(Json(json!({"checks": checks, "checked": checks.len(), "passed": passed, "pass_rate": pass_rate}))
        .into_response())
}

/// `GET /v1/spot-checks/next?agent=&from=&to=`: the newest closed chat the
/// agent served last in the span that nobody has checked yet (`null` when
/// every one is), so a supervisor can work through a month's sample.
pub async fn next(State(api): Api, headers: HeaderMap, params: Params) -> Response {
    answer(try_next(&api, &headers, params).await)
}

async fn try_next(api: &QualityApi, headers: &HeaderMap, params: Params) -> Result<Response, ApiError> {
    api.supervisor(headers)?;
    let store = api.store()?;
    let f = filters(params, &[])?;
    let agent = f.agent.ok_or_else(|| invalid("name the agent: ?agent=ID"))?;
    let query = ChatQuery {
        agent: Some(agent.clone()),
        from: Some(f.span.from),
        to: Some(f.span.to),
        limit: MAX_LIMIT,
        ..ChatQuery::default()
    };
    let chats = store.find_chats(&query).await.map_err(unavailable)?;
    for chat in chats.into_iter().filter(|c| c.agent.as_deref() == Some(agent.as_str())) {
        if store.spot_check(&chat.origin, chat.session).await.map_err(unavailable)?.is_none() {
            return Ok(Json(json!({ "chat": chat })).into_response());
        }
    }
    Ok(Json(json!({ "chat": null })).into_response())
}
