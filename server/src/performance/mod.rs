//! Agent performance in the server (`docs/performance-figures.md`): reads
//! shifts, state changes and events from the records store, hands them to
//! the pure `switchboard-performance` crate, and serves the figures
//! (`GET /v1/performance`), the per-group gauge and the fee report
//! (`switchboard report fees`).

pub mod fees;
pub mod http;
pub mod metrics;
mod periods;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;
use switchboard_performance::{
    shift_figures, state_from_label, Change, Event, EventKind, Figures, ShiftFigures, ShiftInput, Span,
};
use switchboard_records::{EventRow, ShiftRow, Store, StoreError};

pub use periods::{By, Period};

/// Router events that count in the figures (besides state changes).
const EVENT_KINDS: [&str; 5] = ["session_assigned", "rated", "slow_reply", "reply_warning", "conduct_flagged"];
const STATE_CHANGED: &str = "agent_state_changed";
/// Ticket events that count: assignments and breaches.
const TICKET_KINDS: [&str; 2] = ["assigned", "breach"];

/// One agent's shifts in a span, each with its figures, and what happened to them around it.
#[derive(Clone, Debug)]
pub struct AgentRecord {
    pub agent: String,
    pub shifts: Vec<(ShiftRow, ShiftFigures)>,
    pub events: Vec<Event>,
}

/// Reads the records of `span` for one agent or every agent with a shift in it.
/// A shift belongs to `span` when it starts in it; cancelled shifts, shifts
/// with leave (the agent was excused: neither worked nor absent) and shifts
/// that have not started by `now` are left out.
pub async fn gather(
    store: &Store,
    agent: Option<&str>,
    span: Span,
    now: i64,
    grace_ms: i64,
) -> Result<Vec<AgentRecord>, StoreError> {
    let rows = store.shifts(agent, records_span(span)).await?;
    let excused: BTreeSet<String> =
        store.leave_requests(agent, records_span(span)).await?.into_iter().map(|l| l.shift).collect();
    let mut by_agent: BTreeMap<String, Vec<ShiftRow>> = BTreeMap::new();
    if let Some(a) = agent {
        by_agent.entry(a.to_owned()).or_default();
    }
    let counts = |s: &ShiftRow| {
        s.cancelled_at.is_none() && span.contains(s.starts_at) && s.starts_at <= now && !excused.contains(&s.shift)
    };
    for row in rows.into_iter().filter(counts) {
        by_agent.entry(row.agent.clone()).or_default().push(row);
    }
    let mut out = Vec::new();
    for (agent, shifts) in by_agent {
        out.push(agent_record(store, agent, shifts, span, now, grace_ms).await?);
    }
    Ok(out)
}

async fn agent_record(
    store: &Store,
    agent: String,
    shifts: Vec<ShiftRow>,
    span: Span,
    now: i64,
    grace_ms: i64,
) -> Result<AgentRecord, StoreError> {
    // Shifts may end after the span: their events are read to their end.
    let wide = Span { from: span.from, to: shifts.iter().map(|s| s.ends_at).max().unwrap_or(span.to).max(span.to) };
    let rows = store.agent_events(Some(&agent), &EVENT_KINDS, records_span(wide)).await?;
    let assigned_at: Vec<i64> = rows.iter().filter(|r| r.kind == "session_assigned").map(|r| r.at).collect();
    let mut events: Vec<Event> = rows.iter().filter_map(event_of).collect();
    events.extend(quality_events(store, &agent, span).await?);
    let mut figured = Vec::new();
    for shift in shifts {
        let changes = state_changes(store, &agent, &shift).await?;
        let input =
            ShiftInput { start: shift.starts_at, end: shift.ends_at, changes, assigned_at: assigned_at.clone() };
        let figures = shift_figures(&input, now, grace_ms);
        figured.push((shift, figures));
    }
    Ok(AgentRecord { agent, shifts: figured, events })
}

/// Ticket events, upheld complaints and spot checks of `span`.
async fn quality_events(store: &Store, agent: &str, span: Span) -> Result<Vec<Event>, StoreError> {
    let mut events = Vec::new();
    for t in store.agent_ticket_events(Some(agent), &TICKET_KINDS, records_span(span)).await? {
        let kind = if t.kind == "assigned" {
            EventKind::TicketAssigned(t.ticket)
        } else {
            EventKind::TicketBreached(t.ticket)
        };
        events.push(Event { at: t.at, kind });
    }
    for c in store.complaints_upheld(Some(agent), records_span(span)).await? {
        events.push(Event { at: c.reviewed_at.unwrap_or(c.created_at), kind: EventKind::ComplaintUpheld });
    }
    for s in store.spot_checks(Some(agent), records_span(span)).await? {
        events.push(Event { at: s.checked_at, kind: EventKind::SpotCheck { passed: s.result == "pass" } });
    }
    Ok(events)
}

/// The agent's state at the shift's start (the last change before it) and its changes during it.
async fn state_changes(store: &Store, agent: &str, shift: &ShiftRow) -> Result<Vec<Change>, StoreError> {
    let before = store.last_agent_event_before(agent, STATE_CHANGED, shift.starts_at + 1).await?;
    let during = store
        .agent_events(
            Some(agent),
            &[STATE_CHANGED],
            switchboard_records::Span { from: shift.starts_at + 1, to: shift.ends_at },
        )
        .await?;
    Ok(before.iter().chain(during.iter()).filter_map(change_of).collect())
}

fn change_of(row: &EventRow) -> Option<Change> {
    let detail: Json = serde_json::from_str(&row.detail).ok()?;
    let to = state_from_label(detail.get("to")?.as_str()?)?;
    Some(Change { at: row.at, to })
}

/// A router event as a performance event (a damaged detail is left out).
fn event_of(row: &EventRow) -> Option<Event> {
    let detail = || serde_json::from_str::<Json>(&row.detail).ok();
    let kind = match row.kind.as_str() {
        "session_assigned" => EventKind::Assigned,
        "slow_reply" => EventKind::SlowReply,
        "reply_warning" => EventKind::ReplyWarning,
        "rated" => EventKind::Rated { satisfied: detail()?.get("rating")?.as_str()? == "satisfied" },
        "conduct_flagged" => EventKind::Flag(detail()?.get("flag")?.get("kind")?.as_str()?.to_owned()),
        _ => return None,
    };
    Some(Event { at: row.at, kind })
}

fn records_span(span: Span) -> switchboard_records::Span {
    switchboard_records::Span { from: span.from, to: span.to }
}

impl AgentRecord {
    /// The figures of each period (a shift, a day or a month) with its label and span.
    pub fn figures(&self, periods: &[Period]) -> Vec<(Period, Figures)> {
        periods
            .iter()
            .map(|p| {
                let shifts: Vec<ShiftFigures> =
                    self.shifts.iter().filter(|(_, f)| p.span.contains(f.start)).map(|(_, f)| *f).collect();
                (p.clone(), Figures::of(p.span, &shifts, &self.events))
            })
            .collect()
    }

    /// One period per shift, spanning it.
    pub fn shift_periods(&self) -> Vec<Period> {
        self.shifts
            .iter()
            .map(|(row, f)| Period { label: row.shift.clone(), span: Span { from: f.start, to: f.end } })
            .collect()
    }
}

/// The `/v1/performance` route, and (with records on) the task behind
/// `switchboard_group_service_ratio`.
pub fn start(
    config: &crate::config::Config,
    store: Option<Store>,
    auth: std::sync::Arc<crate::auth::Auth>,
    metrics: &crate::metrics::Metrics,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<axum::Router> {
    let zone = config.calendar_zone()?;
    let grace_ms = config.performance.grace_ms();
    if let Some(store) = &store {
        let groups = config.router.groups.iter().map(|g| g.id.to_string()).collect();
        let task = metrics::run(
            store.clone(),
            metrics.clone(),
            groups,
            zone.clone(),
            grace_ms,
            config.performance.metrics_every,
        );
        tokio::spawn(async move {
            tokio::select! {
                _ = task => {}
                _ = stop.wait_for(|stopped| *stopped) => {}
            }
        });
    }
    let api = http::PerformanceApi { store, auth, zone, grace_ms, targets: config.performance.targets() };
    Ok(http::public_routes(api))
}
