//! The shifts API on the public listener (`docs/shifts.md`):
//!
//! - `GET /v1/shifts?agent=&from=&to=`: shifts with their leave (an agent sees their own);
//! - `POST /v1/shifts` (supervisor or admin): adds a shift, 201 with it;
//! - `DELETE /v1/shifts/{id}` (supervisor or admin): cancels a shift that has not ended;
//! - `POST /v1/shifts/{id}/leave` (the shift's agent): asks leave, 201 `{late, warning?}`.
//!
//! Every refusal is `{"code", "message"}` with a stable code ([`shift_code`] and the shared ones).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, RwLock};

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;
use jiff::tz::TimeZone;
use serde::Deserialize;
use serde_json::json;
use switchboard_protocol::code;
use switchboard_records::{LeaveRow, ShiftRow, Span, Store, StoreError};

use super::{leave_is_late, span_of, Phase};
use crate::auth::http::{bearer, http_code, ApiError};
use crate::auth::{Auth, Identity};
use crate::config::{clock_time, level_named, plain_date, Config};
use crate::discipline::Discipline;
use crate::records::http::records_code;

/// Codes only these endpoints give.
pub mod shift_code {
    /// A group named in `groups` is not a skill group of the config.
    pub const UNKNOWN_GROUP: &str = "unknown_group";
    /// The agent has a shift (not cancelled) overlapping the new one.
    pub const SHIFT_OVERLAPS: &str = "shift_overlaps";
    pub const SHIFT_NOT_FOUND: &str = "shift_not_found";
    /// The shift has ended: it cannot be cancelled, nor leave asked for it.
    pub const SHIFT_OVER: &str = "shift_over";
    /// The shift is running: no leave during a running shift (the handbook).
    pub const SHIFT_RUNNING: &str = "shift_running";
    pub const SHIFT_CANCELLED: &str = "shift_cancelled";
    /// Leave was asked for this shift already.
    pub const LEAVE_EXISTS: &str = "leave_exists";
    /// Leave is asked by the shift's own agent only.
    pub const NOT_YOUR_SHIFT: &str = "not_your_shift";
}

/// What the roster says shifts may name: agents and skill groups.
#[derive(Debug, Default)]
struct Roster {
    agents: BTreeSet<String>,
    groups: BTreeSet<String>,
}

impl Roster {
    fn of(config: &Config) -> Roster {
        Roster {
            agents: config.router.agents.iter().map(|a| a.id.as_str().to_owned()).collect(),
            groups: config.router.groups.iter().map(|g| g.id.as_str().to_owned()).collect(),
        }
    }
}

/// The API's state.
#[derive(Debug)]
pub struct ShiftsApi {
    store: Option<Store>,
    auth: Arc<Auth>,
    zone: TimeZone,
    notice_ms: i64,
    roster: RwLock<Roster>,
    discipline: Arc<Discipline>,
}

impl ShiftsApi {
    pub fn new(config: &Config, store: Option<Store>, auth: Arc<Auth>, discipline: Arc<Discipline>) -> ShiftsApi {
        let zone = TimeZone::get(&config.calendar.time_zone).unwrap_or(TimeZone::UTC);
        ShiftsApi {
            store,
            auth,
            zone,
            notice_ms: ms(config.shifts.leave_notice),
            roster: RwLock::new(Roster::of(config)),
            discipline,
        }
    }

    /// After a reload: the roster's agents and groups may have changed.
    pub fn reconfigure(&self, config: &Config) {
        *self.roster.write().expect("roster lock") = Roster::of(config);
    }

    fn store(&self) -> Result<&Store, ApiError> {
        self.store.as_ref().ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                records_code::RECORDS_DISABLED,
                "records are off (records.enabled = false)",
            )
        })
    }

    fn supervisor(&self, headers: &HeaderMap) -> Result<Identity, ApiError> {
        let identity = self.auth.check(bearer(headers))?;
        if !identity.role.may_supervise() {
            let message = "adding and cancelling shifts is for supervisors and admins";
            return Err(ApiError::new(StatusCode::FORBIDDEN, code::SUPERVISORS_ONLY, message));
        }
        Ok(identity)
    }
}

pub(crate) fn ms(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

pub fn routes(api: Arc<ShiftsApi>) -> axum::Router {
    axum::Router::new()
        .route("/v1/shifts", get(list).post(add))
        .route("/v1/shifts/{id}", axum::routing::delete(cancel))
        .route("/v1/shifts/{id}/leave", post(leave))
        .with_state(api)
}

type Api = State<Arc<ShiftsApi>>;
type Params = Result<Query<Vec<(String, String)>>, QueryRejection>;

fn answer(result: Result<Response, ApiError>) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

async fn list(State(api): Api, headers: HeaderMap, params: Params) -> Response {
    answer(try_list(&api, &headers, params).await)
}

async fn try_list(api: &ShiftsApi, headers: &HeaderMap, params: Params) -> Result<Response, ApiError> {
    let identity = api.auth.check(bearer(headers))?;
    let params = params.map(|Query(p)| p).map_err(|e| invalid(format!("the query string cannot be read: {e}")))?;
    let now = switchboard_records::now_ms();
    let (mut agent, mut span) = (None, Span { from: now - DAY, to: now + 14 * DAY });
    for (key, value) in &params {
        match key.as_str() {
            "agent" => agent = Some(value.trim().to_owned()),
            "from" => span.from = when(key, value, &api.zone)?.0,
            "to" => span.to = when(key, value, &api.zone)?.1,
            other => return Err(invalid(format!("unknown parameter `{other}`: use agent, from, to"))),
        }
    }
    if !identity.role.may_supervise() {
        if agent.as_ref().is_some_and(|a| *a != identity.agent) {
            let message = "an agent sees their own shifts only";
            return Err(ApiError::new(StatusCode::FORBIDDEN, code::SUPERVISORS_ONLY, message));
        }
        agent = Some(identity.agent.clone());
    }
    let store = api.store()?;
    let shifts = store.shifts(agent.as_deref(), span).await.map_err(unavailable)?;
    let leaves: BTreeMap<String, LeaveRow> = store
        .leave_requests(agent.as_deref(), span)
        .await
        .map_err(unavailable)?
        .into_iter()
        .map(|l| (l.shift.clone(), l))
        .collect();
    let shifts: Vec<_> = shifts.iter().map(|s| shift_json(s, leaves.get(&s.shift), now)).collect();
    Ok(Json(json!({"shifts": shifts, "leave_notice_ms": api.notice_ms, "now": now})).into_response())
}

const DAY: i64 = 86_400_000;

/// A shift as the API shows it: the row, its leave and where it stands.
fn shift_json(shift: &ShiftRow, leave: Option<&LeaveRow>, now: i64) -> serde_json::Value {
    let phase = match (shift.cancelled_at, Phase::of(shift, now)) {
        (Some(_), _) => "cancelled",
        (None, Phase::Upcoming) => "upcoming",
        (None, Phase::Running) => "running",
        (None, Phase::Over) => "over",
    };
    let mut value = serde_json::to_value(shift).unwrap_or_default();
    value["phase"] = json!(phase);
    value["leave"] = json!(leave);
    value
}

/// A `from`/`to` value as the span it names: a local date (in the calendar's zone, whole) or an RFC 3339 instant.
fn when(key: &str, value: &str, zone: &TimeZone) -> Result<(i64, i64), ApiError> {
    if let Ok(t) = value.trim().parse::<jiff::Timestamp>() {
        return Ok((t.as_millisecond(), t.as_millisecond()));
    }
    let day = plain_date(value).ok_or_else(|| {
        invalid(format!("`{key}` must be a date (2026-11-26, in the calendar's time zone) or an RFC 3339 time"))
    })?;
    let midnight = |d: jiff::civil::Date| d.to_zoned(zone.clone()).map_or(0, |z| z.timestamp().as_millisecond());
    Ok((midnight(day), day.tomorrow().map_or(i64::MAX, midnight)))
}

/// `POST /v1/shifts`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewShift {
    agent: String,
    date: String,
    start: String,
    end: String,
    groups: Option<Vec<String>>,
    level: Option<String>,
}

async fn add(State(api): Api, headers: HeaderMap, body: Bytes) -> Response {
    answer(try_add(&api, &headers, &body).await)
}

async fn try_add(api: &ShiftsApi, headers: &HeaderMap, body: &[u8]) -> Result<Response, ApiError> {
    let by = api.supervisor(headers)?;
    let new: NewShift = serde_json::from_slice(body).map_err(|e| {
        invalid(format!(
            r#"send {{"agent", "date": "YYYY-MM-DD", "start": "HH:MM", "end": "HH:MM", "groups"?, "level"?}}: {e}"#
        ))
    })?;
    let store = api.store()?;
    let now = switchboard_records::now_ms();
    let shift = api.new_row(new, &by.agent, now)?;
    let existing = store.shifts(Some(&shift.agent), Span { from: shift.starts_at, to: shift.ends_at }).await;
    if existing.map_err(unavailable)?.iter().any(|s| s.cancelled_at.is_none()) {
        let message = "the agent has a shift at that time already";
        return Err(ApiError::new(StatusCode::CONFLICT, shift_code::SHIFT_OVERLAPS, message));
    }
    store.add_shift(&shift).await.map_err(unavailable)?;
    Ok((StatusCode::CREATED, Json(shift_json(&shift, None, now))).into_response())
}

impl ShiftsApi {
    /// The row of a new shift, its names and times checked.
    fn new_row(&self, new: NewShift, by: &str, now: i64) -> Result<ShiftRow, ApiError> {
        let roster = self.roster.read().expect("roster lock");
        if !roster.agents.contains(&new.agent) {
            return Err(ApiError::new(StatusCode::NOT_FOUND, code::UNKNOWN_AGENT, "no such agent in the roster"));
        }
        let groups = new.groups.unwrap_or_default();
        if let Some(g) = groups.iter().find(|g| !roster.groups.contains(*g)) {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                shift_code::UNKNOWN_GROUP,
                format!("no skill group `{g}`"),
            ));
        }
        let level = level_named(new.level.as_deref().unwrap_or("beginner"))
            .ok_or_else(|| invalid("`level` must be \"beginner\" or \"rising\""))?;
        let day = plain_date(&new.date).ok_or_else(|| invalid("`date` must be a date: YYYY-MM-DD"))?;
        let start = clock_time(&new.start).ok_or_else(|| invalid("`start` must be a time of day: HH:MM"))?;
        let end = clock_time(&new.end).ok_or_else(|| invalid("`end` must be a time of day: HH:MM"))?;
        if start == end {
            return Err(invalid("`end` must differ from `start`"));
        }
        let span =
            span_of(day, start, end, &self.zone).ok_or_else(|| invalid("that time does not exist on that date"))?;
        Ok(ShiftRow {
            shift: format!("api:{:016x}", rand::random::<u64>()),
            agent: new.agent,
            day: day.to_string(),
            starts_at: span.from,
            ends_at: span.to,
            groups,
            level: level.name().to_owned(),
            source: "api".to_owned(),
            created_by: Some(by.to_owned()),
            created_at: now,
            cancelled_at: None,
        })
    }

    async fn shift(&self, id: &str) -> Result<ShiftRow, ApiError> {
        let found = self.store()?.shift(id).await.map_err(unavailable)?;
        found.ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, shift_code::SHIFT_NOT_FOUND, "no shift has this id"))
    }
}

async fn cancel(State(api): Api, Path(id): Path<String>, headers: HeaderMap) -> Response {
    answer(try_cancel(&api, &id, &headers).await)
}

async fn try_cancel(api: &ShiftsApi, id: &str, headers: &HeaderMap) -> Result<Response, ApiError> {
    api.supervisor(headers)?;
    let shift = api.shift(id).await?;
    let now = switchboard_records::now_ms();
    if Phase::of(&shift, now) == Phase::Over {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            shift_code::SHIFT_OVER,
            "the shift has ended: it stays as it was",
        ));
    }
    api.store()?.cancel_shift(id, now).await.map_err(unavailable)?;
    let shift = api.shift(id).await?;
    api.discipline.poke();
    Ok(Json(shift_json(&shift, None, now)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LeaveAsked {
    reason: String,
}

/// Longest reason kept.
const MAX_REASON_CHARS: usize = 500;

async fn leave(State(api): Api, Path(id): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    answer(try_leave(&api, &id, &headers, &body).await)
}

async fn try_leave(api: &ShiftsApi, id: &str, headers: &HeaderMap, body: &[u8]) -> Result<Response, ApiError> {
    let identity = api.auth.check(bearer(headers))?;
    let asked: LeaveAsked = serde_json::from_slice(body).map_err(|_| invalid(r#"send {"reason": "..."} as JSON"#))?;
    let reason = asked.reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        return Err(invalid(format!("`reason` must say why, in 1 to {MAX_REASON_CHARS} characters")));
    }
    let shift = api.shift(id).await?;
    let now = switchboard_records::now_ms();
    refuse_leave(&shift, &identity, now)?;
    let late = leave_is_late(&shift, now, api.notice_ms);
    let row = LeaveRow {
        shift: shift.shift.clone(),
        agent: shift.agent.clone(),
        requested_at: now,
        reason: reason.to_owned(),
        late,
    };
    if !api.store()?.add_leave(&row).await.map_err(unavailable)? {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            shift_code::LEAVE_EXISTS,
            "leave was asked for this shift already",
        ));
    }
    api.discipline.poke();
    let mut body = json!({"shift": shift.shift, "late": late, "requested_at": now});
    if late {
        body["warning"] = json!(LATE_WARNING);
    }
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// What a late leave answer says (the console shows the same before asking).
pub const LATE_WARNING: &str =
    "leave asked less than the notice before the shift breaks the leave rule: it counts as a warning";

/// Why this agent may not ask leave for this shift now, if so.
fn refuse_leave(shift: &ShiftRow, identity: &Identity, now: i64) -> Result<(), ApiError> {
    let conflict = |code, message: &str| Err(ApiError::new(StatusCode::CONFLICT, code, message.to_owned()));
    if shift.agent != identity.agent {
        return Err(ApiError::new(StatusCode::FORBIDDEN, shift_code::NOT_YOUR_SHIFT, "this is another agent's shift"));
    }
    if shift.cancelled_at.is_some() {
        return conflict(shift_code::SHIFT_CANCELLED, "the shift was cancelled");
    }
    match Phase::of(shift, now) {
        Phase::Upcoming => Ok(()),
        Phase::Running => conflict(shift_code::SHIFT_RUNNING, "no leave during a running shift"),
        Phase::Over => conflict(shift_code::SHIFT_OVER, "the shift has ended"),
    }
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, http_code::INVALID_REQUEST, message)
}

pub(crate) fn unavailable(e: StoreError) -> ApiError {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, records_code::RECORDS_UNAVAILABLE, e.to_string())
}
