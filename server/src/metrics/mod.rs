//! Prometheus metrics, rendered on the admin listener's `/metrics`.
//!
//! Each server owns its own recorder (no global one), so several servers can
//! run in one process (the integration tests do). Label sets are small and
//! fixed: `group` (from config), `state`, `kind`, `category`, `reason`,
//! `rating`, `direction`, `role`, `code`; never a session, customer or agent id.

use std::sync::Arc;
use std::time::Duration;

use metrics::{Counter, Gauge, Histogram, Key, Label, Metadata, Recorder};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

use crate::router::output::{AgentState, ConductKind, Event, TransferKind};
use crate::router::GroupSnapshot;

pub const SESSIONS_WAITING: &str = "switchboard_sessions_waiting";
pub const SESSIONS_ACTIVE: &str = "switchboard_sessions_active";
pub const OLDEST_WAIT: &str = "switchboard_oldest_wait_seconds";
pub const AGENTS: &str = "switchboard_agents";
pub const WAIT_SECONDS: &str = "switchboard_wait_seconds";
pub const ASSIGNMENT_LATENCY: &str = "switchboard_assignment_latency_seconds";
pub const REPLY_DELAY: &str = "switchboard_reply_delay_seconds";
pub const REPLY_WARNINGS: &str = "switchboard_reply_warnings_total";
pub const SLOW_REPLIES: &str = "switchboard_slow_replies_total";
pub const TRANSFERS: &str = "switchboard_transfers_total";
pub const CONDUCT_FLAGS: &str = "switchboard_conduct_flags_total";
pub const COMPLAINT_SIGNALS: &str = "switchboard_complaint_signals_total";
pub const SESSIONS_QUEUED: &str = "switchboard_sessions_queued_total";
pub const SESSIONS_CLOSED: &str = "switchboard_sessions_closed_total";
pub const RATINGS: &str = "switchboard_ratings_total";
pub const MESSAGES_RELAYED: &str = "switchboard_messages_relayed_total";
pub const CONNECTIONS_OPEN: &str = "switchboard_connections_open";
pub const CONNECTIONS_TOTAL: &str = "switchboard_connections_total";
pub const PROTOCOL_ERRORS: &str = "switchboard_protocol_errors_total";
pub const SLOW_CONSUMERS: &str = "switchboard_slow_consumer_disconnects_total";

/// Business-time buckets for waiting and replying (seconds).
const WAIT_BUCKETS: &[f64] = &[1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 180.0, 300.0, 600.0, 1800.0];
/// Real-time buckets for the server's own latency (seconds).
const LATENCY_BUCKETS: &[f64] = &[0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0];

/// Protocol error codes that get a zero-valued series from the start.
const KNOWN_PROTOCOL_CODES: &[&str] = &[
    switchboard_protocol::code::INVALID_JSON,
    switchboard_protocol::code::UNKNOWN_TYPE,
    switchboard_protocol::code::INVALID_COMMAND,
    switchboard_protocol::code::BINARY_NOT_SUPPORTED,
    switchboard_protocol::code::MESSAGE_TOO_BIG,
    switchboard_protocol::code::SLOW_CONSUMER,
    switchboard_protocol::code::IDLE_TIMEOUT,
    "not_your_session",
];

/// The server's metrics: a private recorder and its render handle. Cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    recorder: Arc<PrometheusRecorder>,
    handle: PrometheusHandle,
    /// Hot paths (every chat message): registered once.
    relayed_customer_to_agent: Counter,
    relayed_agent_to_customer: Counter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

static METADATA: Metadata<'static> = Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));

fn key(name: &'static str, labels: &[(&'static str, &str)]) -> Key {
    let labels: Vec<Label> = labels.iter().map(|(k, v)| Label::new(*k, v.to_string())).collect();
    Key::from_parts(name, labels)
}

impl Metrics {
    pub fn new() -> Metrics {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(WAIT_SECONDS.into()), WAIT_BUCKETS)
            .and_then(|b| b.set_buckets_for_metric(Matcher::Full(REPLY_DELAY.into()), WAIT_BUCKETS))
            .and_then(|b| b.set_buckets_for_metric(Matcher::Full(ASSIGNMENT_LATENCY.into()), LATENCY_BUCKETS))
            .expect("bucket lists are not empty");
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        let relayed = |direction: &'static str| {
            recorder.register_counter(&key(MESSAGES_RELAYED, &[("direction", direction)]), &METADATA)
        };
        let (relayed_customer_to_agent, relayed_agent_to_customer) =
            (relayed("customer_to_agent"), relayed("agent_to_customer"));
        let metrics =
            Metrics { recorder: Arc::new(recorder), handle, relayed_customer_to_agent, relayed_agent_to_customer };
        metrics.describe();
        metrics
    }

    fn describe(&self) {
        use metrics::{SharedString, Unit};
        let d = |name: &'static str, unit: Option<Unit>, text: &'static str, kind: u8| {
            let key_name = metrics::KeyName::from_const_str(name);
            let text = SharedString::const_str(text);
            match kind {
                0 => self.recorder.describe_counter(key_name, unit, text),
                1 => self.recorder.describe_gauge(key_name, unit, text),
                _ => self.recorder.describe_histogram(key_name, unit, text),
            }
        };
        d(SESSIONS_WAITING, None, "Sessions waiting in a skill group's queue.", 1);
        d(SESSIONS_ACTIVE, None, "Sessions of a skill group being served.", 1);
        d(OLDEST_WAIT, Some(Unit::Seconds), "Business seconds the longest-waiting customer of a group has waited.", 1);
        d(AGENTS, None, "Agents per skill group and state.", 1);
        d(WAIT_SECONDS, Some(Unit::Seconds), "Business seconds from (re-)entering the queue to assignment.", 2);
        d(
            ASSIGNMENT_LATENCY,
            Some(Unit::Seconds),
            "Real seconds from the router task receiving the input that caused an assignment to both parties' frames being queued.",
            2,
        );
        d(
            REPLY_DELAY,
            Some(Unit::Seconds),
            "Business seconds from a customer's first unanswered message to the agent's reply.",
            2,
        );
        d(REPLY_WARNINGS, None, "1-minute reply warnings.", 0);
        d(SLOW_REPLIES, None, "3-minute slow-reply violations.", 0);
        d(TRANSFERS, None, "Transfers by kind.", 0);
        d(CONDUCT_FLAGS, None, "Conduct flags (prohibited operations) by kind.", 0);
        d(COMPLAINT_SIGNALS, None, "Complaint-tendency signals by kind.", 0);
        d(SESSIONS_QUEUED, None, "Sessions entering a queue, by group and reason.", 0);
        d(SESSIONS_CLOSED, None, "Sessions closed, by reason.", 0);
        d(RATINGS, None, "Customer ratings.", 0);
        d(MESSAGES_RELAYED, None, "Chat messages relayed, by direction.", 0);
        d(CONNECTIONS_OPEN, None, "Open WebSocket connections, by role.", 1);
        d(CONNECTIONS_TOTAL, None, "WebSocket connections accepted, by role.", 0);
        d(PROTOCOL_ERRORS, None, "Error frames sent to clients, by code.", 0);
        d(SLOW_CONSUMERS, None, "Connections cut off because their outbound queue overflowed.", 0);
    }

    pub fn counter(&self, name: &'static str, labels: &[(&'static str, &str)]) -> Counter {
        self.recorder.register_counter(&key(name, labels), &METADATA)
    }

    pub fn gauge(&self, name: &'static str, labels: &[(&'static str, &str)]) -> Gauge {
        self.recorder.register_gauge(&key(name, labels), &METADATA)
    }

    pub fn histogram(&self, name: &'static str, labels: &[(&'static str, &str)]) -> Histogram {
        self.recorder.register_histogram(&key(name, labels), &METADATA)
    }

    /// Creates every fixed-label series at zero, so dashboards and alerts see them before the first event.
    pub fn register_known_series(&self, groups: &[&str]) {
        for g in groups {
            self.counter(REPLY_WARNINGS, &[("group", g)]).absolute(0);
            self.counter(SLOW_REPLIES, &[("group", g)]).absolute(0);
            self.gauge(SESSIONS_WAITING, &[("group", g)]).set(0.0);
            self.gauge(SESSIONS_ACTIVE, &[("group", g)]).set(0.0);
            self.gauge(OLDEST_WAIT, &[("group", g)]).set(0.0);
            for s in AgentState::ALL {
                self.gauge(AGENTS, &[("group", g), ("state", s.label())]).set(0.0);
            }
        }
        for k in [TransferKind::ToAgent, TransferKind::ToGroup, TransferKind::CrossGroup] {
            self.counter(TRANSFERS, &[("kind", k.label())]).absolute(0);
        }
        for k in ConductKind::ALL {
            self.counter(CONDUCT_FLAGS, &[("kind", k.label()), ("category", k.category())]).absolute(0);
        }
        for r in ["satisfied", "dissatisfied"] {
            self.counter(RATINGS, &[("rating", r)]).absolute(0);
        }
        for d in ["customer_to_agent", "agent_to_customer"] {
            self.counter(MESSAGES_RELAYED, &[("direction", d)]).absolute(0);
        }
        for r in ["customer", "agent"] {
            self.gauge(CONNECTIONS_OPEN, &[("role", r)]).set(0.0);
        }
        for c in KNOWN_PROTOCOL_CODES {
            self.counter(PROTOCOL_ERRORS, &[("code", c)]).absolute(0);
        }
        self.counter(SLOW_CONSUMERS, &[]).absolute(0);
    }

    /// Counts what a router event says.
    pub fn record_event(&self, event: &Event) {
        match event {
            Event::SessionQueued { group, reason, .. } => {
                let reason = match reason {
                    crate::router::QueueReason::Joined => "joined",
                    crate::router::QueueReason::Transferred => "transferred",
                    crate::router::QueueReason::AgentLost => "agent_lost",
                };
                self.counter(SESSIONS_QUEUED, &[("group", group.as_str()), ("reason", reason)]).increment(1);
            }
            Event::SessionAssigned { group, waited, .. } => {
                self.histogram(WAIT_SECONDS, &[("group", group.as_str())]).record(waited.as_secs_f64());
            }
            Event::CustomerMessage { .. } => self.relayed_customer_to_agent.increment(1),
            Event::AgentReply { group, reply_delay, .. } => {
                self.relayed_agent_to_customer.increment(1);
                if let Some(delay) = reply_delay {
                    self.histogram(REPLY_DELAY, &[("group", group.as_str())]).record(delay.as_secs_f64());
                }
            }
            Event::ReplyWarning { group, .. } => {
                self.counter(REPLY_WARNINGS, &[("group", group.as_str())]).increment(1);
            }
            Event::SlowReply { group, .. } => {
                self.counter(SLOW_REPLIES, &[("group", group.as_str())]).increment(1);
            }
            Event::Transferred { kind, .. } => {
                self.counter(TRANSFERS, &[("kind", kind.label())]).increment(1);
            }
            Event::ConductFlagged { flag } => {
                self.counter(CONDUCT_FLAGS, &[("kind", flag.kind.label()), ("category", flag.kind.category())])
                    .increment(1);
            }
            Event::ComplaintTendency { signal, .. } => {
                self.counter(COMPLAINT_SIGNALS, &[("signal", signal.label())]).increment(1);
            }
            Event::SessionClosed { reason, .. } => {
                self.counter(SESSIONS_CLOSED, &[("reason", reason.label())]).increment(1);
            }
            Event::Rated { rating, .. } => {
                self.counter(RATINGS, &[("rating", rating.label())]).increment(1);
            }
            Event::ConsentRequested { .. }
            | Event::ConsentAnswered { .. }
            | Event::PriorityRaised { .. }
            | Event::AgentStateChanged { .. }
            | Event::AvailabilityRequested { .. }
            | Event::SessionsShed { .. }
            | Event::SessionForgotten { .. } => {}
        }
    }

    /// Sets the gauges from the router's groups.
    pub fn record_groups(&self, groups: &[GroupSnapshot]) {
        for g in groups {
            let group = g.id.as_str();
            self.gauge(SESSIONS_WAITING, &[("group", group)]).set(g.waiting as f64);
            self.gauge(SESSIONS_ACTIVE, &[("group", group)]).set(g.active as f64);
            self.gauge(OLDEST_WAIT, &[("group", group)]).set(g.oldest_wait.map_or(0.0, |d| d.as_secs_f64()));
            for (state, count) in &g.agents {
                self.gauge(AGENTS, &[("group", group), ("state", state)]).set(*count as f64);
            }
        }
    }

    pub fn assignment_latency(&self, latency: Duration) {
        self.histogram(ASSIGNMENT_LATENCY, &[]).record(latency.as_secs_f64());
    }

    pub fn protocol_error(&self, code: &str) {
        self.counter(PROTOCOL_ERRORS, &[("code", code)]).increment(1);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        self.handle.run_upkeep();
        self.handle.render()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
