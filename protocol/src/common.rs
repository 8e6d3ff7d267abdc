//! Types shared by the customer and agent sides of the protocol.
//!
//! Times named `*_ms` with a point in time (`at_ms`, `assigned_at_ms`...) are
//! milliseconds on the server's business clock since the server started (the
//! clock may be scaled in demos and tests); durations (`waited_ms`,
//! `timeout_ms`...) are business milliseconds.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A client-chosen command id (1 to 64 characters), echoed in the `ack` or `error`.
pub type ClientId = String;

/// A session id: a positive integer chosen by the server (below 2^53, safe in JavaScript).
pub type SessionId = u64;

/// Queue priority: higher is served first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    #[default]
    Normal,
    High,
    Urgent,
}

impl Priority {
    pub const ALL: [Priority; 3] = [Priority::Normal, Priority::High, Priority::Urgent];

    /// The wire name (as in JSON and URLs), which a `priority_hash` signs.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }
}

/// What a `queued` message's `estimated_wait_ms` rests on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EstimateBasis {
    /// The group's own measured pace and the seats of those who can serve now.
    #[default]
    Measured,
    /// Nothing measured yet: the configured pace (`rules.default_wait_per_position`).
    Assumed,
    /// Nobody can serve now: `estimated_wait_ms` is `null`.
    Unknown,
}

/// A customer's rating of a closed session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rating {
    Satisfied,
    Dissatisfied,
}

/// An agent's state as the dispatcher sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentState {
    /// Online and below capacity: may be assigned sessions.
    Available,
    /// Online and at capacity.
    Busy,
    /// On a break: no new sessions.
    OnBreak,
    /// Connection lost; sessions kept for the grace period.
    Disconnected,
    /// Connected but not accepting sessions (the state right after connecting).
    Offline,
}

/// What an agent is in the roster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Agent,
    Supervisor,
}

/// Why an agent closes a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentCloseReason {
    Resolved,
    CustomerUnresponsive,
    Duplicate,
    Abusive,
    Other,
}

/// How a session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    AgentResolved,
    AgentCustomerUnresponsive,
    AgentDuplicate,
    AgentAbusive,
    AgentOther,
    /// The customer left (`leave`).
    CustomerLeft,
    /// The customer was silent too long after the agent's last reply.
    CustomerIdle,
    /// The customer's connection dropped and did not resume within the grace period.
    CustomerLost,
}

/// The customer's answer to a cross-group transfer prompt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentOutcome {
    Accepted,
    Declined,
    TimedOut,
}

/// Where a transfer goes: `{"kind": "agent", "id": "bob"}` or `{"kind": "group", "id": "refunds"}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum TransferTarget {
    Agent(String),
    Group(String),
}

/// Who said something in a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Speaker {
    Customer,
    Agent,
}

/// One message of a session's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at_ms: u64,
    pub from: Speaker,
    /// The agent's id when `from` is `agent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    pub text: String,
    /// The file this message carried (docs/files.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<crate::attachment::Attachment>,
}

/// The text a transferring agent left for the next one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandoffNote {
    pub from: String,
    pub target: TransferTarget,
    pub at_ms: u64,
    pub text: String,
}

/// A session as an agent sees it: who, where, the history and handoff notes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    pub session: SessionId,
    pub group: String,
    #[serde(default)]
    pub customer_name: Option<String>,
    /// The customer's id on the host site, when the site vouched for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// True when the host site vouched for the customer (`customer_id`);
    /// false: the name is only what the customer typed.
    #[serde(default)]
    pub verified: bool,
    /// Present when the chat reached this agent through overflow: the skill
    /// group whose queue it waited in (its `group`), which this agent is not
    /// a member of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overflowed_from: Option<String>,
    pub priority: Priority,
    pub history: Vec<HistoryEntry>,
    pub notes: Vec<HandoffNote>,
    /// When the oldest unanswered customer message arrived, if any.
    #[serde(default)]
    pub unanswered_since_ms: Option<u64>,
    /// When this agent's reply timer started, if it runs.
    #[serde(default)]
    pub reply_clock_since_ms: Option<u64>,
    pub assigned_at_ms: u64,
}

/// A prohibited operation the router recorded against an agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConductKind {
    TransferWithoutConsent,
    TransferPingPong,
    TransferDumpingLateSession,
    TransferTooMany,
    BreakWhileCustomersWait,
    BreakAfterAssignment,
    BreakTooMany,
    BreakTooLong,
    CloseUnanswered,
    CloseUnconfirmed,
    CloseUnresponsiveTooSoon,
    CloseWithoutCause,
    DisconnectShedding,
    ContentRule,
}

/// A conduct flag: what the agent did, when, in which session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConductFlag {
    pub agent: String,
    #[serde(default)]
    pub session: Option<SessionId>,
    pub kind: ConductKind,
    /// The handbook's category: `malicious_transfer`, `abusive_break`, `agent_close`,
    /// `disconnect_shedding`, `content_rule`.
    pub category: String,
    pub at_ms: u64,
    /// For `content_rule`: the name of the content rule matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

/// A sign that a customer may complain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComplaintSignal {
    PhoneRequest,
    AbusiveLanguage,
    RepeatedQuestion,
    MessageBurst,
}

/// Where a customer's session stands (sent in the customer's `welcome`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SessionStatus {
    Waiting { group: String, position: u32 },
    Assigned { group: String, agent_name: String, consent_pending: bool },
    Closed { reason: CloseReason, can_rate: bool },
}

/// A skill group at a glance (in a supervisor's `snapshot`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupSnapshot {
    pub id: String,
    pub name: String,
    /// Open by its service hours (closed: no new customers).
    #[serde(default = "always")]
    pub open: bool,
    /// Unix milliseconds of the next opening (closed) or closing (open); `null`: never.
    #[serde(default)]
    pub next_change_at: Option<u64>,
    /// Sessions waiting in the queue.
    pub waiting: u64,
    /// Sessions being served.
    pub active: u64,
    /// How long the longest-waiting customer has waited.
    #[serde(default)]
    pub oldest_wait_ms: Option<u64>,
    /// Members per state (every state present, zeros included).
    pub agents: BTreeMap<String, u32>,
}

/// An agent at a glance, with the figures the handbook asks for (in a supervisor's `snapshot`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentSnapshot {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub state: AgentState,
    /// Open sessions.
    pub load: u32,
    pub capacity: u32,
    pub groups: Vec<String>,
    #[serde(default)]
    pub break_reason: Option<String>,
    pub record: AgentRecord,
}

/// An agent's figures since the server started.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentRecord {
    pub sessions_assigned: u64,
    pub sessions_closed: u64,
    pub reply_warnings: u64,
    pub slow_replies: u64,
    pub satisfied: u64,
    pub dissatisfied: u64,
    /// Conduct flags by kind (`close_unanswered`: 2...).
    pub flags: BTreeMap<String, u64>,
}

/// The business clock's speed: business seconds per real second (`clock.scale` in
/// the server's config; 1 is real time). Always finite and positive (JSON has no
/// NaN), hence `Eq`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClockScale(pub f64);

impl Eq for ClockScale {}

fn always() -> bool {
    true
}

/// Whether a skill group is open by its service hours, and until when (in
/// the agent's `welcome` and `group_hours`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupHours {
    pub id: String,
    pub open: bool,
    /// Unix milliseconds of the next opening (closed) or closing (open); `null`: never.
    #[serde(default)]
    pub next_change_at: Option<u64>,
}

/// A skill group an agent may transfer a session to (in the agent's `welcome`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupInfo {
    pub id: String,
    /// Display name (the id when the roster gives none).
    pub name: String,
}

/// A colleague an agent may transfer a session to (in the agent's `welcome`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentInfo {
    pub id: String,
    /// Display name (the id when the roster gives none).
    pub name: String,
    /// The skill groups the colleague serves.
    #[serde(default)]
    pub groups: Vec<String>,
}
