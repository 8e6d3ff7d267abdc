//! Prometheus metrics, rendered on the admin listener's `/metrics`.
//!
//! Each server owns its own recorder (no global one), so several servers can
//! run in one process (the integration tests do). Label sets are small and
//! fixed: `group` (from config), `state`, `kind`, `category`, `reason`,
//! `rating`, `direction`, `role`, `code`, `operation`; never a session, customer or agent id.

use std::sync::Arc;
use std::time::Duration;

use metrics::{Counter, Gauge, Histogram, Key, Label, Metadata, Recorder};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

use rustc_hash::FxHashMap;

use crate::router::output::{AgentState, CloseReason, ComplaintSignal, ConductKind, Event, QueueReason, TransferKind};
use crate::router::{GroupId, GroupSnapshot};

/// Every reason a session enters a queue, in declaration order.
const QUEUE_REASONS: [QueueReason; 3] = [QueueReason::Joined, QueueReason::Transferred, QueueReason::AgentLost];

fn queue_reason(reason: QueueReason) -> &'static str {
    match reason {
        QueueReason::Joined => "joined",
        QueueReason::Transferred => "transferred",
        QueueReason::AgentLost => "agent_lost",
    }
}

pub const SESSIONS_WAITING: &str = "switchboard_sessions_waiting";
pub const SESSIONS_ACTIVE: &str = "switchboard_sessions_active";
pub const OLDEST_WAIT: &str = "switchboard_oldest_wait_seconds";
pub const AGENTS: &str = "switchboard_agents";
pub const GROUP_OPEN: &str = "switchboard_group_open";
pub const GROUP_SERVICE_RATIO: &str = "switchboard_group_service_ratio";
pub const GROUP_SATISFACTION_RATIO: &str = "switchboard_group_satisfaction_ratio";
pub const GROUP_DISSATISFACTION_RATIO: &str = "switchboard_group_dissatisfaction_ratio";
pub const WAIT_SECONDS: &str = "switchboard_wait_seconds";
pub const ASSIGNMENT_LATENCY: &str = "switchboard_assignment_latency_seconds";
pub const REPLY_DELAY: &str = "switchboard_reply_delay_seconds";
pub const REPLY_WARNINGS: &str = "switchboard_reply_warnings_total";
pub const SLOW_REPLIES: &str = "switchboard_slow_replies_total";
pub const TRANSFERS: &str = "switchboard_transfers_total";
pub const CONDUCT_FLAGS: &str = "switchboard_conduct_flags_total";
pub const CONTENT_RULE_FLAGS: &str = "switchboard_content_rule_flags_total";
pub const COMPLAINT_SIGNALS: &str = "switchboard_complaint_signals_total";
pub const SESSIONS_QUEUED: &str = "switchboard_sessions_queued_total";
pub const SESSIONS_CLOSED: &str = "switchboard_sessions_closed_total";
pub const RATINGS: &str = "switchboard_ratings_total";
pub const MESSAGES_RELAYED: &str = "switchboard_messages_relayed_total";
pub const CONNECTIONS_OPEN: &str = "switchboard_connections_open";
pub const CONNECTIONS_TOTAL: &str = "switchboard_connections_total";
pub const PROTOCOL_ERRORS: &str = "switchboard_protocol_errors_total";
pub const SLOW_CONSUMERS: &str = "switchboard_slow_consumer_disconnects_total";
pub const RATE_LIMITED: &str = "switchboard_rate_limited_total";
pub const FLOOD_DISCONNECTS: &str = "switchboard_flood_disconnects_total";
pub const LOGIN_FAILURES: &str = "switchboard_login_failures_total";
pub const PASSWORD_CHECKS: &str = "switchboard_password_checks_total";
pub const CONFIG_RELOADS: &str = "switchboard_config_reloads_total";
pub const LOG_APPEND: &str = "switchboard_log_append_seconds";
pub const LOG_FSYNC: &str = "switchboard_log_fsync_seconds";
pub const LOG_BATCH: &str = "switchboard_log_batch_records";
pub const LOG_RECORDS: &str = "switchboard_log_records_total";
pub const LOG_BYTES: &str = "switchboard_log_bytes";
pub const LOG_WRITE_ERRORS: &str = "switchboard_log_write_errors_total";
pub const STORAGE_HEALTHY: &str = "switchboard_storage_healthy";
pub const SNAPSHOT_SECONDS: &str = "switchboard_snapshot_seconds";
pub const SNAPSHOT_BYTES: &str = "switchboard_snapshot_bytes";
pub const SNAPSHOTS: &str = "switchboard_snapshots_total";
pub const SNAPSHOT_ERRORS: &str = "switchboard_snapshot_errors_total";
pub const RECOVERY_SECONDS: &str = "switchboard_recovery_seconds";
pub const RECOVERY_RECORDS: &str = "switchboard_recovery_records";
pub const RECOVERY_TORN_TAIL_BYTES: &str = "switchboard_recovery_torn_tail_bytes";
pub const RECOVERY_SNAPSHOTS_SKIPPED: &str = "switchboard_recovery_snapshots_skipped";
pub const RECORDS_WRITTEN: &str = "switchboard_records_written_total";
pub const RECORDS_BATCH: &str = "switchboard_records_batch_records";
pub const RECORDS_BATCH_SECONDS: &str = "switchboard_records_batch_seconds";
pub const RECORDS_BACKLOG: &str = "switchboard_records_backlog";
pub const RECORDS_SPILL_BYTES: &str = "switchboard_records_spill_bytes";
pub const RECORDS_DROPPED: &str = "switchboard_records_dropped_total";
pub const RECORDS_ERRORS: &str = "switchboard_records_errors_total";
pub const RECORDS_HEALTHY: &str = "switchboard_records_healthy";
pub const RECORDS_DELETED: &str = "switchboard_records_deleted_total";
pub const TICKETS_OPEN: &str = "switchboard_tickets_open";
pub const TICKETS_CREATED: &str = "switchboard_tickets_created_total";
pub const TICKET_BREACHES: &str = "switchboard_ticket_breaches_total";
pub const SPOT_CHECKS: &str = "switchboard_spot_checks_total";
pub const COMPLAINTS: &str = "switchboard_complaints_total";
pub const AGENTS_SUSPENDED: &str = "switchboard_agents_suspended";
pub const AGENTS_DISQUALIFIED: &str = "switchboard_agents_disqualified";
pub const WARNINGS: &str = "switchboard_warnings_total";
pub const FILE_UPLOADS: &str = "switchboard_file_uploads_total";
pub const FILE_BYTES_STORED: &str = "switchboard_file_bytes_stored_total";

/// What kind of series a metric is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// Every metric the server exports, with its help text: the one list that
/// the `# HELP` lines, `docs/metrics.md` and its test agree on. A name ending
/// in `_seconds` or `_bytes` gets that unit.
pub const ALL: &[(&str, Kind, &str)] = &[
    (SESSIONS_WAITING, Kind::Gauge, "Sessions waiting in a skill group's queue."),
    (SESSIONS_ACTIVE, Kind::Gauge, "Sessions of a skill group being served."),
    (OLDEST_WAIT, Kind::Gauge, "Business seconds the longest-waiting customer of a group has waited."),
    (AGENTS, Kind::Gauge, "Agents per skill group and state."),
    (GROUP_OPEN, Kind::Gauge, "1 while a skill group is open by its service hours, 0 while it is closed to new customers."),
    (
        GROUP_SERVICE_RATIO,
        Kind::Gauge,
        "In-shift service ratio of the skill group's shifts of today so far (0 to 1), from the records.",
    ),
    (
        GROUP_SATISFACTION_RATIO,
        Kind::Gauge,
        "Satisfied ratings over the ratings of the skill group's chats closed today (0 to 1; 1 without ratings), from the records.",
    ),
    (
        GROUP_DISSATISFACTION_RATIO,
        Kind::Gauge,
        "Dissatisfied ratings over the ratings of the skill group's chats closed today (0 to 1; 0 without ratings), from the records.",
    ),
    (WAIT_SECONDS, Kind::Histogram, "Business seconds from (re-)entering the queue to assignment."),
    (ASSIGNMENT_LATENCY, Kind::Histogram, "Real seconds from the router task receiving the input that caused an assignment to both parties' frames being queued (the input logged durably first)."),
    (REPLY_DELAY, Kind::Histogram, "Business seconds from a customer's first unanswered message to the agent's reply."),
    (REPLY_WARNINGS, Kind::Counter, "1-minute reply warnings."),
    (SLOW_REPLIES, Kind::Counter, "3-minute slow-reply violations."),
    (TRANSFERS, Kind::Counter, "Transfers by kind."),
    (CONDUCT_FLAGS, Kind::Counter, "Conduct flags (prohibited operations) by kind."),
    (CONTENT_RULE_FLAGS, Kind::Counter, "Agent replies (chats and tickets) that matched a content rule, by rule."),
    (COMPLAINT_SIGNALS, Kind::Counter, "Complaint-tendency signals by kind."),
    (SESSIONS_QUEUED, Kind::Counter, "Sessions entering a queue, by group and reason."),
    (SESSIONS_CLOSED, Kind::Counter, "Sessions closed, by reason."),
    (RATINGS, Kind::Counter, "Customer ratings."),
    (MESSAGES_RELAYED, Kind::Counter, "Chat messages relayed, by direction."),
    (CONNECTIONS_OPEN, Kind::Gauge, "Open WebSocket connections, by role."),
    (CONNECTIONS_TOTAL, Kind::Counter, "WebSocket connections accepted, by role."),
    (PROTOCOL_ERRORS, Kind::Counter, "Error frames sent to clients, by code."),
    (SLOW_CONSUMERS, Kind::Counter, "Connections cut off because their outbound queue overflowed."),
    (RATE_LIMITED, Kind::Counter, "Commands refused (not executed) for going over the connection's rate limit, by role."),
    (FLOOD_DISCONNECTS, Kind::Counter, "Connections closed for flooding (too many rate-limit refusals in a window), by role."),
    (LOGIN_FAILURES, Kind::Counter, "Refused sign-ins and token renewals, by reason."),
    (PASSWORD_CHECKS, Kind::Counter, "Argon2 password verifications run (a dummy hash for unknown agents)."),
    (CONFIG_RELOADS, Kind::Counter, "Config reloads (SIGHUP or the admin API), by outcome."),
    (LOG_APPEND, Kind::Histogram, "Real seconds to write one batch of the input log (retries included)."),
    (LOG_FSYNC, Kind::Histogram, "Real seconds of one fdatasync of the input log."),
    (LOG_BATCH, Kind::Histogram, "Inputs per batch written to the log (group commit)."),
    (LOG_RECORDS, Kind::Counter, "Inputs written to the log."),
    (LOG_BYTES, Kind::Gauge, "Bytes of the input log's segment files."),
    (LOG_WRITE_ERRORS, Kind::Counter, "Failed writes or syncs of the input log (each retry counts)."),
    (STORAGE_HEALTHY, Kind::Gauge, "1 while the input log can be written, 0 while new work is refused."),
    (SNAPSHOT_SECONDS, Kind::Histogram, "Real seconds to take a snapshot, by phase (copy, encode, write)."),
    (SNAPSHOT_BYTES, Kind::Gauge, "Size of the newest snapshot."),
    (SNAPSHOTS, Kind::Counter, "Snapshots written."),
    (SNAPSHOT_ERRORS, Kind::Counter, "Snapshots that could not be written."),
    (RECOVERY_SECONDS, Kind::Gauge, "Real seconds the last start-up took to load the snapshot and replay the log."),
    (RECOVERY_RECORDS, Kind::Gauge, "Log records replayed at the last start-up."),
    (RECOVERY_TORN_TAIL_BYTES, Kind::Gauge, "Bytes of a torn write cut from the log's end at the last start-up."),
    (RECOVERY_SNAPSHOTS_SKIPPED, Kind::Gauge, "Damaged snapshots passed over at the last start-up."),
    (RECORDS_WRITTEN, Kind::Counter, "Records written to the records database, by kind."),
    (RECORDS_BATCH, Kind::Histogram, "Records per transaction written to the records database."),
    (RECORDS_BATCH_SECONDS, Kind::Histogram, "Real seconds to write one batch to the records database."),
    (RECORDS_BACKLOG, Kind::Gauge, "Records not yet written: queued, and waiting in the spill file or memory while the database is down."),
    (RECORDS_SPILL_BYTES, Kind::Gauge, "Bytes of records waiting in the spill file."),
    (RECORDS_DROPPED, Kind::Counter, "Records lost, by reason."),
    (RECORDS_ERRORS, Kind::Counter, "Failed records database operations, by operation (each retry counts)."),
    (RECORDS_HEALTHY, Kind::Gauge, "1 while the records database takes writes, 0 while records wait."),
    (RECORDS_DELETED, Kind::Counter, "Rows deleted by records retention."),
    (TICKETS_OPEN, Kind::Gauge, "Open tickets, by skill group and state."),
    (TICKETS_CREATED, Kind::Counter, "Tickets created, by skill group and origin."),
    (TICKET_BREACHES, Kind::Counter, "Ticket working-time limits not kept, by skill group and kind."),
    (SPOT_CHECKS, Kind::Counter, "Spot checks marked by supervisors (a re-mark counts again), by result."),
    (COMPLAINTS, Kind::Counter, "Customer complaints filed, upheld and rejected, by skill group."),
    (FILE_UPLOADS, Kind::Counter, "File uploads to chats, by outcome (`stored` or the refusal's code)."),
    (FILE_BYTES_STORED, Kind::Counter, "Bytes of new files stored (a file sent again is stored once)."),
    (AGENTS_SUSPENDED, Kind::Gauge, "Agents suspended now (discipline: warnings)."),
    (AGENTS_DISQUALIFIED, Kind::Gauge, "Agents disqualified (discipline: suspensions), until an admin reinstates them."),
    (WARNINGS, Kind::Counter, "Discipline warnings given, weighted (an absence counts two), by cause."),
];

/// Every `origin` of a ticket (the label of `TICKETS_CREATED`).
const TICKET_ORIGINS: [&str; 4] = ["group_closed", "nobody_available", "customer_choice", "from_chat"];

/// Business-time buckets for waiting and replying (seconds).
const WAIT_BUCKETS: &[f64] = &[1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 180.0, 300.0, 600.0, 1800.0];
/// Real-time buckets for the server's own latency (seconds).
const LATENCY_BUCKETS: &[f64] = &[0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0];

/// Seconds a snapshot takes to encode or write.
const SNAPSHOT_BUCKETS: &[f64] = &[0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];
/// Seconds a records batch takes.
const RECORDS_SECONDS_BUCKETS: &[f64] =
    &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0];
/// Records per log batch (group commit).
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 4096.0];

/// Why a sign-in or renewal was refused (the `reason` of `LOGIN_FAILURES`).
pub const LOGIN_FAILURE_REASONS: [&str; 6] = [
    "invalid_credentials",
    "login_rate_limited",
    "agent_disabled",
    "token_invalid",
    // Discipline (docs/shifts.md): refused after a correct password, and at renewal.
    "agent_suspended",
    "agent_disqualified",
];

/// How a config reload ended (the `outcome` of `CONFIG_RELOADS`).
pub const RELOAD_OUTCOMES: [&str; 2] = ["applied", "refused"];

/// Protocol error codes that get a zero-valued series from the start.
const KNOWN_PROTOCOL_CODES: &[&str] = &[
    switchboard_protocol::code::INVALID_JSON,
    switchboard_protocol::code::UNKNOWN_TYPE,
    switchboard_protocol::code::INVALID_COMMAND,
    switchboard_protocol::code::BINARY_NOT_SUPPORTED,
    switchboard_protocol::code::MESSAGE_TOO_BIG,
    switchboard_protocol::code::SLOW_CONSUMER,
    switchboard_protocol::code::IDLE_TIMEOUT,
    switchboard_protocol::code::STORAGE_UNAVAILABLE,
    switchboard_protocol::code::RATE_LIMITED,
    switchboard_protocol::code::IDENTITY_INVALID,
    switchboard_protocol::code::PRIORITY_INVALID,
    switchboard_protocol::code::ORIGIN_NOT_ALLOWED,
    switchboard_protocol::code::TOO_MANY_CONNECTIONS,
    "not_your_session",
    // Refused agent tokens: an alert on a burst of these is an alert on forged or stolen tokens.
    switchboard_protocol::code::TOKEN_MISSING,
    switchboard_protocol::code::TOKEN_INVALID,
    switchboard_protocol::code::TOKEN_EXPIRED,
    switchboard_protocol::code::AGENT_DISABLED,
];

/// The server's metrics: a private recorder and its render handle. Cheap to clone.
///
/// Series recorded on the hot paths (every message, reply, join and
/// assignment) are registered once and kept as handles: looking one up by
/// name builds a key (a label `Vec` and a `String` per label) and searches
/// the registry. The rest are looked up when they happen.
#[derive(Clone)]
pub struct Metrics {
    recorder: Arc<PrometheusRecorder>,
    handle: PrometheusHandle,
    relayed_customer_to_agent: Counter,
    relayed_agent_to_customer: Counter,
    assignment_latency: Histogram,
    /// Per skill group, from [`Metrics::register_known_series`].
    groups: Arc<FxHashMap<String, GroupSeries>>,
}

/// The per-group series of the hot paths.
struct GroupSeries {
    /// By [`QueueReason`], in declaration order.
    queued: [Counter; 3],
    wait: Histogram,
    reply_delay: Histogram,
    reply_warnings: Counter,
    slow_replies: Counter,
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
            .and_then(|b| b.set_buckets_for_metric(Matcher::Full(LOG_APPEND.into()), LATENCY_BUCKETS))
            .and_then(|b| b.set_buckets_for_metric(Matcher::Full(LOG_FSYNC.into()), LATENCY_BUCKETS))
            .and_then(|b| b.set_buckets_for_metric(Matcher::Full(LOG_BATCH.into()), BATCH_BUCKETS))
            .and_then(|b| b.set_buckets_for_metric(Matcher::Full(SNAPSHOT_SECONDS.into()), SNAPSHOT_BUCKETS))
            .and_then(|b| b.set_buckets_for_metric(Matcher::Full(RECORDS_BATCH.into()), BATCH_BUCKETS))
            .and_then(|b| {
                b.set_buckets_for_metric(Matcher::Full(RECORDS_BATCH_SECONDS.into()), RECORDS_SECONDS_BUCKETS)
            })
            .expect("bucket lists are not empty");
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        let relayed = |direction: &'static str| {
            recorder.register_counter(&key(MESSAGES_RELAYED, &[("direction", direction)]), &METADATA)
        };
        let (relayed_customer_to_agent, relayed_agent_to_customer) =
            (relayed("customer_to_agent"), relayed("agent_to_customer"));
        let assignment_latency = recorder.register_histogram(&key(ASSIGNMENT_LATENCY, &[]), &METADATA);
        let metrics = Metrics {
            recorder: Arc::new(recorder),
            handle,
            relayed_customer_to_agent,
            relayed_agent_to_customer,
            assignment_latency,
            groups: Arc::default(),
        };
        metrics.describe();
        metrics
    }

    fn describe(&self) {
        use metrics::{SharedString, Unit};
        for &(name, kind, help) in ALL {
            let key_name = metrics::KeyName::from_const_str(name);
            let unit = if name.ends_with("_seconds") {
                Some(Unit::Seconds)
            } else if name.ends_with("_bytes") {
                Some(Unit::Bytes)
            } else {
                None
            };
            let help = SharedString::const_str(help);
            match kind {
                Kind::Counter => self.recorder.describe_counter(key_name, unit, help),
                Kind::Gauge => self.recorder.describe_gauge(key_name, unit, help),
                Kind::Histogram => self.recorder.describe_histogram(key_name, unit, help),
            }
        }
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

    /// Creates the content rules' series at zero (their names are config: a
    /// reload's new rules get theirs at their first match).
    pub fn register_content_rules<'a>(&self, rules: impl Iterator<Item = &'a str>) {
        for rule in rules {
            self.counter(CONTENT_RULE_FLAGS, &[("rule", rule)]).absolute(0);
        }
    }

    /// Creates every fixed-label series at zero, so dashboards and alerts see
    /// them before the first event, and keeps the skill groups' hot-path handles.
    pub fn register_known_series(&mut self, groups: &[&str]) {
        let series = |g: &str| GroupSeries {
            queued: QUEUE_REASONS.map(|r| self.counter(SESSIONS_QUEUED, &[("group", g), ("reason", queue_reason(r))])),
            wait: self.histogram(WAIT_SECONDS, &[("group", g)]),
            reply_delay: self.histogram(REPLY_DELAY, &[("group", g)]),
            reply_warnings: self.counter(REPLY_WARNINGS, &[("group", g)]),
            slow_replies: self.counter(SLOW_REPLIES, &[("group", g)]),
        };
        self.groups = Arc::new(groups.iter().map(|g| (g.to_string(), series(g))).collect());
        for g in groups {
            self.counter(REPLY_WARNINGS, &[("group", g)]).absolute(0);
            self.counter(SLOW_REPLIES, &[("group", g)]).absolute(0);
            self.gauge(SESSIONS_WAITING, &[("group", g)]).set(0.0);
            self.gauge(SESSIONS_ACTIVE, &[("group", g)]).set(0.0);
            self.gauge(OLDEST_WAIT, &[("group", g)]).set(0.0);
            self.gauge(GROUP_OPEN, &[("group", g)]).set(1.0);
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
        for signal in ComplaintSignal::ALL {
            self.counter(COMPLAINT_SIGNALS, &[("signal", signal.label())]).absolute(0);
        }
        for r in CloseReason::ALL {
            self.counter(SESSIONS_CLOSED, &[("reason", r.label())]).absolute(0);
        }
        for r in ["satisfied", "dissatisfied"] {
            self.counter(RATINGS, &[("rating", r)]).absolute(0);
        }
        for d in ["customer_to_agent", "agent_to_customer"] {
            self.counter(MESSAGES_RELAYED, &[("direction", d)]).absolute(0);
        }
        for r in ["customer", "agent"] {
            self.gauge(CONNECTIONS_OPEN, &[("role", r)]).set(0.0);
            self.counter(RATE_LIMITED, &[("role", r)]).absolute(0);
            self.counter(FLOOD_DISCONNECTS, &[("role", r)]).absolute(0);
        }
        for c in KNOWN_PROTOCOL_CODES {
            self.counter(PROTOCOL_ERRORS, &[("code", c)]).absolute(0);
        }
        self.counter(SLOW_CONSUMERS, &[]).absolute(0);
        for r in LOGIN_FAILURE_REASONS {
            self.counter(LOGIN_FAILURES, &[("reason", r)]).absolute(0);
        }
        self.counter(PASSWORD_CHECKS, &[]).absolute(0);
        for outcome in RELOAD_OUTCOMES {
            self.counter(CONFIG_RELOADS, &[("outcome", outcome)]).absolute(0);
        }
        self.counter(LOG_RECORDS, &[]).absolute(0);
        self.counter(LOG_WRITE_ERRORS, &[]).absolute(0);
        self.gauge(STORAGE_HEALTHY, &[]).set(1.0);
        self.counter(SNAPSHOTS, &[]).absolute(0);
        self.counter(SNAPSHOT_ERRORS, &[]).absolute(0);
        self.register_ticket_series(groups);
    }

    fn register_ticket_series(&self, groups: &[&str]) {
        use switchboard_tickets::{BreachKind, TicketState};
        for g in groups {
            for state in TicketState::ALL.iter().filter(|s| !s.is_done()) {
                self.gauge(TICKETS_OPEN, &[("group", g), ("state", state.name())]).set(0.0);
            }
            for origin in TICKET_ORIGINS {
                self.counter(TICKETS_CREATED, &[("group", g), ("origin", origin)]).absolute(0);
            }
            for kind in BreachKind::ALL {
                self.counter(TICKET_BREACHES, &[("group", g), ("kind", kind.name())]).absolute(0);
            }
        }
    }

    /// What the ticket desk reported.
    pub fn record_desk_event(&self, event: &crate::tickets::DeskEvent) {
        use crate::tickets::DeskEvent;
        match event {
            DeskEvent::Created { group, origin, .. } => {
                self.counter(TICKETS_CREATED, &[("group", group.as_str()), ("origin", origin)]).increment(1);
            }
            DeskEvent::Breach(b) => {
                self.counter(TICKET_BREACHES, &[("group", b.group.as_str()), ("kind", b.kind.name())]).increment(1);
            }
            DeskEvent::ComplaintTendency { signal, .. } => {
                self.counter(COMPLAINT_SIGNALS, &[("signal", signal.label())]).increment(1);
            }
            DeskEvent::Happened(_) | DeskEvent::Done(_) => {}
        }
    }

    /// Open tickets per group and open state; every series is set, zeros included.
    pub fn record_tickets_open(
        &self,
        groups: &[&str],
        counts: &std::collections::BTreeMap<(String, switchboard_tickets::TicketState), u64>,
    ) {
        for g in groups {
            for state in switchboard_tickets::TicketState::ALL.iter().filter(|s| !s.is_done()) {
                let n = counts.get(&(g.to_string(), *state)).copied().unwrap_or(0);
                self.gauge(TICKETS_OPEN, &[("group", g), ("state", state.name())]).set(n as f64);
            }
        }
    }

    /// The records writer's handles; its series start at zero (healthy until a write fails).
    pub fn records_writer(&self) -> switchboard_records::WriterMetrics {
        use switchboard_records::{DropReason, Operation, RecordKind};
        let metrics = switchboard_records::WriterMetrics {
            written: RecordKind::ALL.map(|k| self.counter(RECORDS_WRITTEN, &[("kind", k.label())])),
            batch_records: self.histogram(RECORDS_BATCH, &[]),
            batch_seconds: self.histogram(RECORDS_BATCH_SECONDS, &[]),
            backlog: self.gauge(RECORDS_BACKLOG, &[]),
            spill_bytes: self.gauge(RECORDS_SPILL_BYTES, &[]),
            dropped: DropReason::ALL.map(|r| self.counter(RECORDS_DROPPED, &[("reason", r.label())])),
            errors: Operation::ALL.map(|o| self.counter(RECORDS_ERRORS, &[("operation", o.label())])),
            healthy: self.gauge(RECORDS_HEALTHY, &[]),
            deleted: self.counter(RECORDS_DELETED, &[]),
        };
        for counter in metrics.written.iter().chain(&metrics.dropped).chain(&metrics.errors) {
            counter.absolute(0);
        }
        metrics.deleted.absolute(0);
        metrics.healthy.set(1.0);
        metrics
    }

    /// What the start-up recovery did.
    pub fn recovered(&self, replay: &crate::journal::recovery::ReplayStats) {
        self.gauge(RECOVERY_SECONDS, &[]).set(replay.duration.as_secs_f64());
        self.gauge(RECOVERY_RECORDS, &[]).set(replay.records as f64);
        let torn = replay.report.torn_tail.as_ref().map_or(0, |t| t.bytes);
        self.gauge(RECOVERY_TORN_TAIL_BYTES, &[]).set(torn as f64);
        self.gauge(RECOVERY_SNAPSHOTS_SKIPPED, &[]).set(replay.report.skipped_snapshots.len() as f64);
    }

    /// A report of the log writer.
    pub fn log_progress(&self, progress: &switchboard_storage::Progress) {
        if progress.records > 0 {
            self.histogram(LOG_APPEND, &[]).record(progress.write_duration.as_secs_f64());
            self.histogram(LOG_BATCH, &[]).record(progress.records as f64);
            self.counter(LOG_RECORDS, &[]).increment(progress.records);
        }
        if let Some(sync) = progress.sync_duration {
            self.histogram(LOG_FSYNC, &[]).record(sync.as_secs_f64());
        }
        self.gauge(LOG_BYTES, &[]).set(progress.log_bytes as f64);
        self.gauge(STORAGE_HEALTHY, &[]).set(if progress.is_healthy() { 1.0 } else { 0.0 });
        if !progress.is_healthy() {
            self.counter(LOG_WRITE_ERRORS, &[]).increment(1);
        }
    }

    /// The driver copied its state for a snapshot (the only part it waits for).
    pub fn snapshot_copied(&self, took: Duration) {
        self.histogram(SNAPSHOT_SECONDS, &[("phase", "copy")]).record(took.as_secs_f64());
    }

    /// A copy was encoded for a snapshot (in the background).
    pub fn snapshot_encoded(&self, took: Duration, bytes: usize) {
        self.histogram(SNAPSHOT_SECONDS, &[("phase", "encode")]).record(took.as_secs_f64());
        self.gauge(SNAPSHOT_BYTES, &[]).set(bytes as f64);
    }

    /// A snapshot was written (off the router's task).
    pub fn snapshot_written(&self, written: &switchboard_storage::SnapshotWritten) {
        self.histogram(SNAPSHOT_SECONDS, &[("phase", "write")]).record(written.duration.as_secs_f64());
        self.counter(SNAPSHOTS, &[]).increment(1);
    }

    /// Counts what a router event says.
    pub fn record_event(&self, event: &Event) {
        match event {
            Event::SessionQueued { group, reason, .. } => {
                if let Some(g) = self.group(group) {
                    g.queued[*reason as usize].increment(1);
                }
            }
            Event::SessionAssigned { group, waited, .. } => {
                if let Some(g) = self.group(group) {
                    g.wait.record(waited.as_secs_f64());
                }
            }
            Event::CustomerMessage { .. } => self.relayed_customer_to_agent.increment(1),
            Event::AgentReply { group, reply_delay, .. } => {
                self.relayed_agent_to_customer.increment(1);
                if let (Some(g), Some(delay)) = (self.group(group), reply_delay) {
                    g.reply_delay.record(delay.as_secs_f64());
                }
            }
            Event::ReplyWarning { group, .. } => {
                if let Some(g) = self.group(group) {
                    g.reply_warnings.increment(1);
                }
            }
            Event::SlowReply { group, .. } => {
                if let Some(g) = self.group(group) {
                    g.slow_replies.increment(1);
                }
            }
            Event::Transferred { kind, .. } => {
                self.counter(TRANSFERS, &[("kind", kind.label())]).increment(1);
            }
            Event::ConductFlagged { flag } => {
                self.counter(CONDUCT_FLAGS, &[("kind", flag.kind.label()), ("category", flag.kind.category())])
                    .increment(1);
                if let Some(rule) = &flag.rule {
                    // Rule names come from the config: a bounded label set.
                    self.counter(CONTENT_RULE_FLAGS, &[("rule", rule)]).increment(1);
                }
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
            | Event::RosterChanged { .. }
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
            self.gauge(GROUP_OPEN, &[("group", group)]).set(if g.open { 1.0 } else { 0.0 });
            for (state, count) in &g.agents {
                self.gauge(AGENTS, &[("group", group), ("state", state)]).set(*count as f64);
            }
        }
    }

    pub fn assignment_latency(&self, latency: Duration) {
        self.assignment_latency.record(latency.as_secs_f64());
    }

    /// A skill group's series. Every group of the config is registered at
    /// start (events only name configured groups).
    fn group(&self, group: &GroupId) -> Option<&GroupSeries> {
        let series = self.groups.get(group.as_str());
        debug_assert!(series.is_some(), "group `{group}` was not registered");
        series
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
