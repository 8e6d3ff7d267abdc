//! The agent side: `/v1/ws/agent` (agents and supervisors).

use serde::{Deserialize, Serialize};

use crate::attachment::Attachment;
use crate::common::{
    AgentCloseReason, AgentInfo, AgentSnapshot, AgentState, ClientId, ClockScale, CloseReason, ComplaintSignal,
    ConductFlag, ConsentOutcome, GroupHours, GroupInfo, GroupSnapshot, Priority, Role, SessionId, SessionView,
    TransferTarget,
};

/// Query parameters of `GET /v1/ws/agent`.
///
/// `agent` is optional: the agent is the signed token's `sub` (the token
/// travels in the `Sec-WebSocket-Protocol` header, never in the URL); when
/// given, `agent` must match it. `token` is not read (query strings end up in
/// access logs). `last_seq` is the highest `seq`
/// the client has seen on an earlier connection, to replay what it missed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentConnectParams {
    #[serde(default)]
    pub agent: Option<String>,
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub last_seq: Option<u64>,
}

/// What an agent asks to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AvailabilityRequest {
    /// Accept sessions.
    Available,
    /// Pause intake (give a `reason`).
    Break,
    /// Stop: refused with `open_sessions` while sessions are open (transfer them first).
    Offline,
}

/// What an agent sends. Every command has an `id` and is answered by one `ack` or `error`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentCommand {
    SetAvailability {
        id: ClientId,
        state: AvailabilityRequest,
        /// Why, for a break.
        #[serde(default)]
        reason: Option<String>,
    },
    /// A message to the customer of one of your sessions.
    Reply {
        id: ClientId,
        session: SessionId,
        text: String,
        /// A file uploaded before (`POST /v1/files`, docs/files.md); `text` may then be empty.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        attachment: Option<Attachment>,
    },
    /// You are typing (shown to the customer).
    Typing { id: ClientId, session: SessionId },
    /// Ask the customer whether the problem is resolved (do this before closing as `resolved`).
    AskResolved { id: ClientId, session: SessionId },
    /// Hand the session to another agent or group, with a handoff note for the next handler.
    /// Cross-group transfers ask the customer's consent first unless `skip_consent`
    /// (which is recorded as a conduct flag).
    Transfer {
        id: ClientId,
        session: SessionId,
        to: TransferTarget,
        #[serde(default)]
        note: String,
        #[serde(default)]
        skip_consent: bool,
    },
    /// End a session, with a reason.
    Close { id: ClientId, session: SessionId, reason: AgentCloseReason },
    /// Keep-alive / round-trip probe; always acked.
    Ping { id: ClientId },
    /// Supervisors only: every group and agent at a glance, answered by a `snapshot` message, then the `ack`.
    Snapshot { id: ClientId },
    /// A renewed token for this connection (from `POST /v1/token/renew`), so
    /// it outlives the old token's expiry. Checked by the gateway; acked.
    Token { id: ClientId, token: BearerToken },
}

/// A signed token on the wire. `Debug` hides it: tokens are never logged.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BearerToken(pub String);

impl std::fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BearerToken(***)")
    }
}

impl AgentCommand {
    /// Every `type` this endpoint accepts.
    pub const TYPES: &'static [&'static str] =
        &["set_availability", "reply", "typing", "ask_resolved", "transfer", "close", "ping", "snapshot", "token"];

    pub fn id(&self) -> &str {
        match self {
            AgentCommand::SetAvailability { id, .. }
            | AgentCommand::Reply { id, .. }
            | AgentCommand::Typing { id, .. }
            | AgentCommand::AskResolved { id, .. }
            | AgentCommand::Transfer { id, .. }
            | AgentCommand::Close { id, .. }
            | AgentCommand::Ping { id }
            | AgentCommand::Snapshot { id }
            | AgentCommand::Token { id, .. } => id,
        }
    }
}

/// Why a session left an agent's list: `{"kind": "closed", "reason": ...}` or
/// `{"kind": "transferred", "target": {...}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SessionEndedWhy {
    Closed { reason: CloseReason },
    Transferred { target: TransferTarget },
}

/// What the server sends to an agent.
///
/// `welcome`, `ack`, `error`, `shutdown`, `snapshot` and `customer_typing` belong to the
/// connection and carry no `seq`; every other message belongs to the agent's
/// stream and carries `seq` (1, 2, 3... per agent, kept across reconnects while
/// the server runs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerToAgent {
    /// First message on every connection.
    Welcome {
        agent: String,
        name: String,
        role: Role,
        /// True when the agent had a stream before (a reconnect).
        resumed: bool,
        /// The highest `seq` sent so far in this agent's stream (before this connection's replay).
        last_seq: u64,
        /// False when messages after the client's `last_seq` are no longer kept;
        /// the `state` message that follows is the truth.
        replay_complete: bool,
        /// The server's business time when it sent this `welcome` (milliseconds since it started).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        now_ms: Option<u64>,
        /// The business clock's speed: business milliseconds per real millisecond (`clock.scale`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scale: Option<ClockScale>,
        /// How long a customer's message may wait for a reply before `reply_warning`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply_warning_ms: Option<u64>,
        /// How long before `slow_reply` (a service violation).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply_violation_ms: Option<u64>,
        /// The shortest handoff note a `transfer` accepts, in characters.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        handoff_note_min_chars: Option<u64>,
        /// Every skill group (a `transfer` target of kind `group`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        transfer_groups: Vec<GroupInfo>,
        /// The other agents of the roster, supervisors excluded (targets of kind `agent`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        transfer_agents: Vec<AgentInfo>,
        /// Each skill group's service hours now: open or closed, until when.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        group_hours: Vec<GroupHours>,
    },
    /// Groups opened or closed by their service hours (only those that
    /// changed). Not numbered: a reconnect's `welcome` carries them all.
    GroupHours {
        groups: Vec<GroupHours>,
    },
    Ack {
        id: ClientId,
        #[serde(default)]
        duplicate: bool,
    },
    Error {
        id: Option<ClientId>,
        code: String,
        message: String,
    },
    Shutdown {
        reason: String,
    },
    /// The answer to a supervisor's `snapshot` command (before its `ack`).
    Snapshot {
        id: ClientId,
        groups: Vec<GroupSnapshot>,
        agents: Vec<AgentSnapshot>,
    },
    /// Your state and every open session with history and notes. Sent on every
    /// connect (after a reconnect within the grace period it lists the sessions you got back).
    State {
        seq: u64,
        state: AgentState,
        sessions: Vec<SessionView>,
    },
    /// Your state changed (availability, break, reaching or leaving capacity...).
    StateChanged {
        seq: u64,
        state: AgentState,
    },
    /// A session is now yours (with its history and handoff notes).
    SessionAssigned {
        seq: u64,
        session: SessionView,
    },
    CustomerMessage {
        seq: u64,
        session: SessionId,
        text: String,
        /// The file the customer sent (docs/files.md).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        attachment: Option<Attachment>,
    },
    /// Ephemeral: no `seq`, not replayed.
    CustomerTyping {
        session: SessionId,
    },
    /// The customer's message has waited the warning time (1 minute by default): reply now.
    ReplyWarning {
        seq: u64,
        session: SessionId,
        waited_ms: u64,
    },
    /// The customer's message has waited the violation time (3 minutes by default): recorded against you.
    SlowReply {
        seq: u64,
        session: SessionId,
        waited_ms: u64,
    },
    /// The customer answered (or did not answer in time) a cross-group transfer prompt.
    ConsentOutcome {
        seq: u64,
        session: SessionId,
        outcome: ConsentOutcome,
    },
    /// The customer answered `ask_resolved`.
    ResolveAnswer {
        seq: u64,
        session: SessionId,
        resolved: bool,
    },
    /// Complaint tendency detected: this session needs attention first.
    PriorityRaised {
        seq: u64,
        session: SessionId,
        priority: Priority,
        signal: ComplaintSignal,
    },
    /// The session is no longer yours.
    SessionEnded {
        seq: u64,
        session: SessionId,
        why: SessionEndedWhy,
    },
    /// A conduct flag was recorded against you.
    ConductFlagged {
        seq: u64,
        flag: ConductFlag,
    },
    /// Supervisors only: an agent passed the 1-minute reply warning.
    AlertReplyWarning {
        seq: u64,
        agent: String,
        session: SessionId,
        group: String,
    },
    /// Supervisors only: an agent's slow-reply violation.
    AlertSlowReply {
        seq: u64,
        agent: String,
        session: SessionId,
        group: String,
    },
    /// Supervisors only: a conduct flag raised against any agent.
    AlertConductFlagged {
        seq: u64,
        flag: ConductFlag,
    },
    /// Supervisors only: complaint tendency in a session.
    AlertComplaintTendency {
        seq: u64,
        session: SessionId,
        group: String,
        #[serde(default)]
        agent: Option<String>,
        signal: ComplaintSignal,
    },
    /// Supervisors only: an agent closed a session as `duplicate` or
    /// `abusive`, a cause the router cannot check (no conduct flag).
    AlertClosedWithCause {
        seq: u64,
        agent: String,
        session: SessionId,
        group: String,
        reason: AgentCloseReason,
    },
    /// Supervisors only: a ticket's working-time limit passed unkept
    /// (`kind`: `first_response`, `expected_time` or `no_reply`); `agent`
    /// owned it then (none while it waited for one); `deadline` is calendar
    /// time, unix milliseconds.
    AlertTicketBreach {
        seq: u64,
        ticket: u64,
        group: String,
        kind: String,
        #[serde(default)]
        agent: Option<String>,
        deadline: i64,
    },
    /// A ticket became this agent's (the desk assigned it, or its owner
    /// transferred it to them): the console shows it in its Tickets tab.
    TicketAssigned {
        seq: u64,
        ticket: u64,
        group: String,
    },
    /// Supervisors only: a customer's message on a ticket showed a complaint
    /// tendency (the same signals as in a chat but `message_burst`); the
    /// ticket became urgent. `agent` owns it (none while it waits for one).
    AlertTicketComplaintTendency {
        seq: u64,
        ticket: u64,
        group: String,
        #[serde(default)]
        agent: Option<String>,
        signal: ComplaintSignal,
    },
}

impl ServerToAgent {
    /// The message's `seq`, for messages that belong to the agent's stream;
    /// `None` for connection-level and ephemeral messages.
    pub fn seq_mut(&mut self) -> Option<&mut u64> {
        match self {
            ServerToAgent::State { seq, .. }
            | ServerToAgent::StateChanged { seq, .. }
            | ServerToAgent::SessionAssigned { seq, .. }
            | ServerToAgent::CustomerMessage { seq, .. }
            | ServerToAgent::ReplyWarning { seq, .. }
            | ServerToAgent::SlowReply { seq, .. }
            | ServerToAgent::ConsentOutcome { seq, .. }
            | ServerToAgent::ResolveAnswer { seq, .. }
            | ServerToAgent::PriorityRaised { seq, .. }
            | ServerToAgent::SessionEnded { seq, .. }
            | ServerToAgent::ConductFlagged { seq, .. }
            | ServerToAgent::AlertReplyWarning { seq, .. }
            | ServerToAgent::AlertSlowReply { seq, .. }
            | ServerToAgent::AlertConductFlagged { seq, .. }
            | ServerToAgent::AlertComplaintTendency { seq, .. }
            | ServerToAgent::AlertClosedWithCause { seq, .. }
            | ServerToAgent::AlertTicketBreach { seq, .. }
            | ServerToAgent::AlertTicketComplaintTendency { seq, .. }
            | ServerToAgent::TicketAssigned { seq, .. } => Some(seq),
            ServerToAgent::Welcome { .. }
            | ServerToAgent::Ack { .. }
            | ServerToAgent::Error { .. }
            | ServerToAgent::Shutdown { .. }
            | ServerToAgent::Snapshot { .. }
            | ServerToAgent::GroupHours { .. }
            | ServerToAgent::CustomerTyping { .. } => None,
        }
    }
}
