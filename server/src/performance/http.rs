//! `GET /v1/performance?from=&to=&agent=&by=shift|day|month` on the public
//! listener (the supervisor view's Performance panel): each agent's figures
//! per period with the targets and whether each is met
//! (`docs/performance-figures.md`). Supervisors and admins see everyone; an
//! agent sees only their own figures (asking for another agent is refused
//! with `supervisors_only`).

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde_json::{json, Value as Json_};
use switchboard_performance::{Figures, Span, Targets};
use switchboard_protocol::code;
use switchboard_records::Store;

use super::periods::{self, By, Period};
use super::{gather, AgentRecord};
use crate::auth::http::{bearer, ApiError};
use crate::auth::Auth;
use crate::records::http::{invalid, records_code, unavailable};

/// The longest range one request may ask for, in days.
pub const MAX_DAYS: i64 = 366;

/// What the endpoint needs.
#[derive(Debug)]
pub struct PerformanceApi {
    pub store: Option<Store>,
    pub auth: Arc<Auth>,
    pub zone: TimeZone,
    pub grace_ms: i64,
    pub targets: Targets,
}

pub fn public_routes(api: PerformanceApi) -> axum::Router {
    axum::Router::new().route("/v1/performance", get(performance)).with_state(Arc::new(api))
}

type Params = Result<Query<Vec<(String, String)>>, QueryRejection>;

async fn performance(State(api): State<Arc<PerformanceApi>>, headers: HeaderMap, params: Params) -> Response {
    try_performance(&api, &headers, params).await.unwrap_or_else(IntoResponse::into_response)
}

/// A request's parameters.
#[derive(Debug)]
struct Request {
    from: Date,
    to: Date,
    agent: Option<String>,
    by: By,
}

async fn try_performance(api: &PerformanceApi, headers: &HeaderMap, params: Params) -> Result<Response, ApiError> {
    let identity = api.auth.check(bearer(headers))?;
    let now = switchboard_records::now_ms();
    let params = params.map(|Query(p)| p).map_err(|e| invalid(format!("the query string cannot be read: {e}")))?;
    let mut request = parse(&params, today(now, &api.zone))?;
    if !identity.role.may_supervise() {
        match &request.agent {
            Some(a) if *a != identity.agent => {
                let message = "an agent sees only their own figures; other agents' are for supervisors and admins";
                return Err(ApiError::new(StatusCode::FORBIDDEN, code::SUPERVISORS_ONLY, message));
            }
            _ => request.agent = Some(identity.agent.clone()),
        }
    }
    let store = api.store.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            records_code::RECORDS_DISABLED,
            "records are off (records.enabled = false)",
        )
    })?;
    let range = Span {
        from: periods::midnight(request.from, &api.zone),
        to: periods::midnight(request.to.tomorrow().unwrap_or(request.to), &api.zone),
    };
    let records = gather(store, request.agent.as_deref(), range, now, api.grace_ms).await.map_err(unavailable)?;
    let agents: Vec<Json_> = records.iter().map(|r| agent_json(api, r, &request)).collect();
    Ok(Json(json!({
        "from": request.from.to_string(),
        "to": request.to.to_string(),
        "by": request.by.label(),
        "time_zone": api.zone.iana_name(),
        "now": now,
        "targets": targets_json(&api.targets),
        "agents": agents,
    }))
    .into_response())
}

fn agent_json(api: &PerformanceApi, record: &AgentRecord, request: &Request) -> Json_ {
    let periods = match request.by {
        By::Shift => record.shift_periods(),
        By::Day => periods::days(request.from, request.to, &api.zone),
        By::Month => periods::months(request.from, request.to, &api.zone),
    };
    let mut figures = record.figures(&periods);
    if request.by == By::Day {
        // Days without a shift or anything counted say nothing.
        figures.retain(|(_, f)| f.shifts > 0 || f.tally != Default::default());
    }
    let periods: Vec<Json_> = figures.iter().map(|(p, f)| period_json(api, record, p, f, request.by)).collect();
    json!({ "agent": record.agent, "periods": periods })
}

fn period_json(api: &PerformanceApi, record: &AgentRecord, period: &Period, f: &Figures, by: By) -> Json_ {
    let checks = api.targets.check(f);
    let mut body = json!({
        "period": period.label,
        "from": period.span.from,
        "to": period.span.to,
        "shifts": f.shifts,
        "shift_minutes": f.shift_ms / 60_000,
        "in_service_minutes": f.in_service_ms / 60_000,
        "service_ratio_bp": f.service_ratio_bp(),
        "late": f.late,
        "left_early": f.left_early,
        "absent": f.absent,
        "punctual": f.punctual(),
        "assigned": f.tally.assigned,
        "assigned_in_shifts": f.assigned_in_shifts,
        "served_per_hour_centi": f.served_per_hour_centi(),
        "satisfied": f.tally.satisfied,
        "dissatisfied": f.tally.dissatisfied,
        "satisfaction_bp": f.satisfaction_bp(),
        "dissatisfaction_bp": f.dissatisfaction_bp(),
        "slow_replies": f.tally.slow_replies,
        "reply_warnings": f.tally.reply_warnings,
        "flags": f.tally.flags,
        "tickets_answered": f.tally.tickets_answered(),
        "tickets_within_limits": f.tally.tickets_within_limits(),
        "upheld_complaints": f.tally.upheld_complaints,
        "spot_checks": f.tally.spot_checks,
        "spot_checks_passed": f.tally.spot_checks_passed,
        "spot_check_pass_bp": f.spot_check_pass_bp(),
        "met": checks.iter().all(|c| c.met),
        "checks": checks,
    });
    if by == By::Shift {
        if let Some((row, s)) = record.shifts.iter().find(|(row, _)| row.shift == period.label) {
            body["shift"] = json!({"id": row.shift, "day": row.day, "groups": row.groups, "level": row.level,
                "signed_in_at": s.signed_in_at, "over": s.over});
        }
    }
    body
}

fn targets_json(t: &Targets) -> Json_ {
    json!({
        "service_ratio_min_bp": t.service_ratio_min_bp,
        "satisfaction_min_bp": t.satisfaction_min_bp,
        "dissatisfaction_max_bp": t.dissatisfaction_max_bp,
        "served_per_hour_min": t.served_per_hour_min,
        "spot_check_min_bp": t.spot_check_min_bp,
    })
}

fn today(now: i64, zone: &TimeZone) -> Date {
    jiff::Timestamp::from_millisecond(now).map(|t| t.to_zoned(zone.clone()).date()).unwrap_or_default()
}

/// The parameters; an unknown one or a bad value is refused, naming it.
fn parse(params: &[(String, String)], today: Date) -> Result<Request, ApiError> {
    let mut request = Request { from: today, to: today, agent: None, by: By::Day };
    for (key, value) in params {
        let value = value.trim();
        match key.as_str() {
            "from" => request.from = date(key, value)?,
            "to" => request.to = date(key, value)?,
            "agent" if !value.is_empty() => request.agent = Some(value.to_owned()),
            "agent" => {}
            "by" => {
                request.by = By::parse(value)
                    .ok_or_else(|| invalid(format!("`by` must be shift, day or month, not `{value}`")))?
            }
            other => return Err(invalid(format!("unknown parameter `{other}`: use from, to, agent, by"))),
        }
    }
    let days = request.from.until(request.to).map(|s| s.get_days() as i64).unwrap_or(-1);
    if days < 0 {
        return Err(invalid("`from` must not be after `to`"));
    }
    if days >= MAX_DAYS {
        return Err(invalid(format!("`from` to `to` spans at most {MAX_DAYS} days")));
    }
    Ok(request)
}

fn date(key: &str, value: &str) -> Result<Date, ApiError> {
    value
        .parse::<Date>()
        .map_err(|_| invalid(format!("`{key}` must be a date, e.g. 2026-11-26 (business calendar day)")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::http::http_code;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn parameters_are_read_and_bad_ones_refused_naming_them() {
        let today: Date = "2026-11-26".parse().unwrap();
        let r =
            parse(&params(&[("from", "2026-11-01"), ("to", "2026-11-30"), ("by", "month"), ("agent", "ann")]), today)
                .unwrap();
        assert_eq!((r.by, r.agent.as_deref(), r.from.day(), r.to.day()), (By::Month, Some("ann"), 1, 30));
        assert_eq!(parse(&[], today).unwrap().from, today);
        for (key, value) in [("from", "yesterday"), ("by", "week"), ("colour", "red"), ("to", "2020-01-01")] {
            let body = format!("{:?}", parse(&params(&[(key, value)]), today).unwrap_err());
            assert!(body.contains(http_code::INVALID_REQUEST), "{body}");
        }
        let long = parse(&params(&[("from", "2025-01-01"), ("to", "2026-11-01")]), today).unwrap_err();
        assert!(format!("{long:?}").contains("366"));
    }
}
