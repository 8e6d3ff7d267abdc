//! Complaints: a customer's about a chat (proven by the chat's receipt) or
//! a ticket (by the ticket's token), with a reason; one open complaint per
//! subject. A supervisor reviews it once against the transcript: upheld or
//! rejected, business or non-business. Upheld complaints lower the payout
//! ratio, and an upheld non-business one is a warning (discipline).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use switchboard_records::complaint_subjects::UNATTRIBUTED;
use switchboard_records::{now_ms, ComplaintRow, Review, Store};
use tokio::sync::oneshot;

use super::http::{
    answer, body, filters, missing_credential, not_yours, one_of, text, too_many, Params, QualityApi, Required,
};
use super::{quality_code, CATEGORIES, KINDS, STATES, SUBJECTS};
use crate::auth::http::{bearer, ApiError};
use crate::driver::DriverInput;
use crate::metrics::COMPLAINTS;
use crate::records::http::unavailable;
use crate::tickets::requests::{CustomerAct, TicketCall, TicketRequest};

type Api = State<Arc<QualityApi>>;

/// Keys the per-IP limiter holds before old ones are swept.
const LIMITER_SWEEP_AT: usize = 10_000;

#[derive(Deserialize)]
struct Subject {
    kind: String,
    id: u64,
}

#[derive(Deserialize)]
struct FileBody {
    subject: Subject,
    reason: String,
    #[serde(default)]
    kind: Option<String>,
}

/// Who a subject was about, as far as known when filed.
struct About {
    agent: Option<String>,
    group: String,
}

/// `POST /v1/complaints` `{"subject": {"kind": "chat" | "ticket", "id": N}, "reason": "...", "kind": "attitude"}`.
pub async fn file(
    State(api): Api,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    answer(try_file(&api, peer, &headers, &bytes).await)
}

async fn try_file(api: &QualityApi, peer: SocketAddr, headers: &HeaderMap, bytes: &[u8]) -> Result<Response, ApiError> {
    if api.per_ip.len() > LIMITER_SWEEP_AT {
        api.per_ip.retain_recent();
    }
    if api.per_ip.check_key(&peer.ip()).is_err() {
        return Err(too_many());
    }
    let store = api.store()?;
    let shape = r#"{"subject": {"kind": "chat" | "ticket", "id": 17}, "reason": "...", "kind": "attitude"}"#;
    let b: FileBody = body(bytes, shape)?;
    let subject_kind = one_of("subject.kind", &b.subject.kind, &SUBJECTS)?;
    let reason = text("reason", &b.reason, Required::Yes)?;
    let reason = match b.kind.as_deref() {
        Some(kind) => format!("{}: {reason}", one_of("kind", kind, &KINDS)?),
        None => reason,
    };
    let credential = bearer(headers).ok_or_else(missing_credential)?;
    let about = match subject_kind.as_str() {
        "chat" => chat_subject(api, store, b.subject.id, credential).await?,
        _ => ticket_subject(api, b.subject.id, credential).await?,
    };
    let _one_at_a_time = api.filing.lock().await;
    let earlier = store.complaints_about(store.origin(), &subject_kind, b.subject.id).await.map_err(unavailable)?;
    if let Some(open) = earlier.iter().find(|c| c.state == "open") {
        let message = format!("complaint {} about this {subject_kind} is still open", open.complaint);
        return Err(ApiError::new(StatusCode::CONFLICT, quality_code::COMPLAINT_EXISTS, message));
    }
    let row = ComplaintRow {
        complaint: format!("{:016x}", rand::random::<u64>()),
        origin: store.origin().to_owned(),
        subject_kind,
        subject_id: b.subject.id,
        agent: about.agent,
        group: about.group,
        reason,
        created_at: now_ms(),
        state: "open".to_owned(),
        category: None,
        reviewed_by: None,
        reviewed_at: None,
        review_comment: None,
    };
    store.add_complaint(&row).await.map_err(unavailable)?;
    if row.group != UNATTRIBUTED {
        api.metrics.counter(COMPLAINTS, &[("group", row.group.as_str()), ("outcome", "filed")]).increment(1);
    }
    let mut view = customer_view(&row);
    view["token"] = api.receipts().map(|r| r.sign_complaint(&row.complaint)).unwrap_or_default().into();
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// A chat is the customer's if the credential is its receipt; its agent and
/// group come from its record, or later if the record has not arrived yet.
async fn chat_subject(api: &QualityApi, store: &Store, session: u64, receipt: &str) -> Result<About, ApiError> {
    if !api.receipts().is_some_and(|r| r.check(session, receipt)) {
        return Err(not_yours("this is not the receipt of that chat"));
    }
    let chat = store.chat(session, Some(store.origin())).await.map_err(unavailable)?;
    Ok(match chat {
        Some(chat) => About { agent: chat.summary.agent, group: chat.summary.group },
        None => About { agent: None, group: UNATTRIBUTED.to_owned() },
    })
}

/// A ticket is the customer's if the ticket desk takes the credential as its token.
async fn ticket_subject(api: &QualityApi, ticket: u64, token: &str) -> Result<About, ApiError> {
    let (reply, answer) = oneshot::channel();
    let request = TicketRequest::Customer { token: token.to_owned(), act: CustomerAct::Read };
    let stopping = || ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "shutting_down", "the server is shutting down");
    api.driver.send(DriverInput::Ticket(TicketCall { request, reply })).await.map_err(|_| stopping())?;
    let view = match answer.await.map_err(|_| stopping())? {
        Ok(answered) => answered.body,
        Err(_) => return Err(not_yours("this is not the token of that ticket")),
    };
    let seen = &view["ticket"];
    if seen["id"].as_u64() != Some(ticket) {
        return Err(not_yours("this is not the token of that ticket"));
    }
    Ok(About {
        agent: seen["owner"].as_str().map(str::to_owned),
        group: seen["group"].as_str().unwrap_or_default().to_owned(),
    })
}

/// `GET /v1/complaints/{id}`: with the complaint's token (the customer's
/// view) or a supervisor's token (everything).
pub async fn read(State(api): Api, Path(id): Path<String>, headers: HeaderMap) -> Response {
    answer(try_read(&api, &id, &headers).await)
}

async fn try_read(api: &QualityApi, id: &str, headers: &HeaderMap) -> Result<Response, ApiError> {
    let store = api.store()?;
    let credential = bearer(headers).ok_or_else(missing_credential)?;
    let customer = api.receipts().is_some_and(|r| r.check_complaint(id, credential));
    // Not the complaint's token and no sign-in token either: a customer with another complaint's token.
    if !customer && api.auth.check(Some(credential)).is_err() {
        return Err(not_yours("this is not the token of that complaint"));
    }
    if !customer {
        api.supervisor(headers)?;
    }
    let row = found(store, id).await?;
    let row = attribute(api, store, row).await?;
    Ok(Json(if customer { customer_view(&row) } else { json!(row) }).into_response())
}

/// `GET /v1/complaints?state=&agent=&from=&to=` (supervisors): filed in the span, oldest first.
pub async fn list(State(api): Api, headers: HeaderMap, params: Params) -> Response {
    answer(try_list(&api, &headers, params).await)
}

async fn try_list(api: &QualityApi, headers: &HeaderMap, params: Params) -> Result<Response, ApiError> {
    api.supervisor(headers)?;
    let store = api.store()?;
    let f = filters(params, &["state"])?;
    let state = match f.more.first() {
        Some((_, state)) => Some(one_of("state", state, &STATES)?),
        None => None,
    };
    let mut complaints = Vec::new();
    for row in store.complaints_filed(f.agent.as_deref(), f.span).await.map_err(unavailable)? {
        if state.as_ref().is_none_or(|s| *s == row.state) {
            complaints.push(attribute(api, store, row).await?);
        }
    }
    Ok(Json(json!({ "complaints": complaints })).into_response())
}

#[derive(Deserialize)]
struct ReviewBody {
    outcome: String,
    category: String,
    #[serde(default)]
    comment: String,
}

/// `POST /v1/complaints/{id}/review` `{"outcome": "upheld" | "rejected", "category": "business" | "non_business", "comment": "..."}`: once.
pub async fn review(State(api): Api, Path(id): Path<String>, headers: HeaderMap, bytes: Bytes) -> Response {
    answer(try_review(&api, &id, &headers, &bytes).await)
}

async fn try_review(api: &QualityApi, id: &str, headers: &HeaderMap, bytes: &[u8]) -> Result<Response, ApiError> {
    let supervisor = api.supervisor(headers)?;
    let store = api.store()?;
    let shape = r#"{"outcome": "upheld" | "rejected", "category": "business" | "non_business", "comment": "..."}"#;
    let b: ReviewBody = body(bytes, shape)?;
    let review = Review {
        state: one_of("outcome", &b.outcome, &STATES[1..])?,
        category: one_of("category", &b.category, &CATEGORIES)?,
        by: supervisor.agent,
        at: now_ms(),
        comment: text("comment", &b.comment, Required::No)?,
    };
    let row = attribute(api, store, found(store, id).await?).await?;
    if row.state != "open" || !decidable(&row)? || !store.review_complaint(id, &review).await.map_err(unavailable)? {
        return Err(decided(&row));
    }
    api.metrics.counter(COMPLAINTS, &[("group", row.group.as_str()), ("outcome", review.state.as_str())]).increment(1);
    api.discipline.poke();
    Ok(Json(json!(found(store, id).await?)).into_response())
}

/// A complaint about a chat whose record has not arrived cannot be judged: the transcript is not there.
fn decidable(row: &ComplaintRow) -> Result<bool, ApiError> {
    if row.group == UNATTRIBUTED {
        let message = "the chat's record has not arrived yet: try again in a moment";
        return Err(ApiError::new(StatusCode::CONFLICT, quality_code::COMPLAINT_PENDING, message));
    }
    Ok(true)
}

fn decided(row: &ComplaintRow) -> ApiError {
    let message = format!("this complaint was reviewed already ({})", row.state);
    ApiError::new(StatusCode::CONFLICT, quality_code::COMPLAINT_DECIDED, message)
}

async fn found(store: &Store, id: &str) -> Result<ComplaintRow, ApiError> {
    store.complaint(id).await.map_err(unavailable)?.ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, quality_code::COMPLAINT_NOT_FOUND, format!("no complaint {id}"))
    })
}

/// A complaint filed before its chat's record arrived gets the chat's agent and group once it is there.
async fn attribute(api: &QualityApi, store: &Store, mut row: ComplaintRow) -> Result<ComplaintRow, ApiError> {
    if row.group != UNATTRIBUTED || row.subject_kind != "chat" {
        return Ok(row);
    }
    let Some(chat) = store.chat(row.subject_id, Some(&row.origin)).await.map_err(unavailable)? else { return Ok(row) };
    let (agent, group) = (chat.summary.agent, chat.summary.group);
    if store.attribute_complaint(&row.complaint, agent.as_deref(), &group).await.map_err(unavailable)? {
        api.metrics.counter(COMPLAINTS, &[("group", group.as_str()), ("outcome", "filed")]).increment(1);
    }
    row.agent = agent;
    row.group = group;
    Ok(row)
}

/// What the customer sees: their complaint and its outcome, with the
/// supervisor's public comment; not the agent, the category or who reviewed.
fn customer_view(row: &ComplaintRow) -> Value {
    json!({
        "complaint": row.complaint,
        "subject": {"kind": row.subject_kind, "id": row.subject_id},
        "reason": row.reason,
        "created_at": row.created_at,
        "state": row.state,
        "reviewed_at": row.reviewed_at,
        "comment": row.review_comment,
    })
}

impl QualityApi {
    fn receipts(&self) -> Option<&super::receipt::Receipts> {
        self.receipts.as_deref()
    }
}
