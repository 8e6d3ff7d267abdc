//! What the router core produces: notices for connected people, and events
//! for metrics and audit. Drained with [`super::Router::poll_output`].
//!
//! Every event the core emits is kept in this one enum so that the handbook's
//! figures (service ratio, customers per hour, ratings) can be derived later
//! from the event stream alone.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::ids::{AgentId, GroupId, SessionId};
use super::input::{Availability, Priority, Rating, TransferTarget};
use super::time::Millis;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Output {
    ToCustomer {
        session: SessionId,
        notice: CustomerNotice,
    },
    ToAgent {
        agent: AgentId,
        notice: AgentNotice,
    },
    /// For every connected supervisor.
    ToSupervisors {
        notice: SupervisorNotice,
    },
    Event {
        event: Event,
    },
}

/// Something the customer of a session is told.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomerNotice {
    /// Waiting: the position (1 = next) and an estimate. Sent on joining and
    /// when the position or the estimate changes (coalesced, see
    /// `Rules::queue_update_interval`; an estimate only when it moved by a
    /// quarter, see `docs/domain.md`, "Waiting customers").
    Queued {
        group: GroupId,
        position: u32,
        estimated_wait: WaitEstimate,
    },
    /// Nobody can take this customer now: no agent of the group, or of its
    /// overflow groups, is connected and available (busy ones count: they
    /// take the next customer when a chat ends). Sent on joining and
    /// whenever that becomes true.
    NoAgentOnline {
        group: GroupId,
        service_hours: Option<Arc<str>>,
    },
    /// The counterpart of `NoAgentOnline`: someone can take this customer
    /// again (the estimate follows in a `Queued`).
    AgentOnline {
        group: GroupId,
    },
    /// The customer waited the group's `overflow_after`: agents of these
    /// groups may now take the chat too (id and display name of each).
    Overflowed {
        group: GroupId,
        to_groups: Vec<(GroupId, Arc<str>)>,
    },
    /// An agent took the session (also after a transfer).
    Assigned {
        agent_name: Arc<str>,
    },
    AgentMessage {
        agent_name: Arc<str>,
        text: Arc<str>,
    },
    AgentTyping,
    /// The agent wants to move the chat to another group: accept or decline.
    ConsentRequest {
        to_group: GroupId,
        to_group_name: Arc<str>,
        timeout: Duration,
    },
    /// The agent asks whether the problem is resolved.
    ResolveRequest,
    /// The session ended; `can_rate` says whether a rating is accepted.
    Closed {
        reason: CloseReason,
        can_rate: bool,
    },
}

/// How long a waiting customer will probably wait, and what it rests on
/// (the method: `docs/domain.md`, "Waiting customers").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitEstimate {
    /// From the group's own measured pace (assignments while it was
    /// saturated, else chat durations) and the seats of its agents now.
    Measured(Duration),
    /// Nothing measured yet: `rules.default_wait_per_position` per
    /// position, shared among the agents who can serve now.
    Assumed(Duration),
    /// Nobody can take the customer now (see `CustomerNotice::NoAgentOnline`).
    Unknown,
}

impl WaitEstimate {
    /// The estimated wait, `None` when unknown.
    pub fn wait(self) -> Option<Duration> {
        match self {
            WaitEstimate::Measured(d) | WaitEstimate::Assumed(d) => Some(d),
            WaitEstimate::Unknown => None,
        }
    }
}

/// Something an agent is told.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentNotice {
    /// Sent on every connect (and reconnect within the grace period): the
    /// agent's state and every open session with its history.
    State {
        state: AgentState,
        sessions: Vec<SessionView>,
    },
    /// The agent's state changed (availability, break, load reaching capacity...).
    StateChanged {
        state: AgentState,
    },
    /// A session is now this agent's, with its history and handoff notes.
    /// (Boxed: it is by far the largest notice, and every output is moved twice.)
    SessionAssigned {
        session: Box<SessionView>,
    },
    CustomerMessage {
        session: SessionId,
        text: Arc<str>,
    },
    CustomerTyping {
        session: SessionId,
    },
    /// The customer's message has waited `rules.reply_warning`.
    ReplyWarning {
        session: SessionId,
        waited: Duration,
    },
    /// The customer's message has waited `rules.reply_violation`: recorded against the agent.
    SlowReply {
        session: SessionId,
        waited: Duration,
    },
    /// The customer answered (or did not answer in time) a cross-group transfer prompt.
    ConsentOutcome {
        session: SessionId,
        outcome: ConsentOutcome,
    },
    /// The customer answered "is your problem resolved?".
    ResolveAnswer {
        session: SessionId,
        resolved: bool,
    },
    /// A session complaint tendency was detected in: reply first.
    PriorityRaised {
        session: SessionId,
        priority: Priority,
        signal: ComplaintSignal,
    },
    /// The session is no longer this agent's.
    SessionEnded {
        session: SessionId,
        why: SessionEndedWhy,
    },
    /// A conduct flag was raised against this agent.
    ConductFlagged {
        flag: ConductFlag,
    },
}

/// Why a session left an agent's list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionEndedWhy {
    Closed { reason: CloseReason },
    Transferred { target: TransferTarget },
}

/// Something every supervisor is told.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SupervisorNotice {
    /// An agent passed the 1-minute reply warning on a session.
    ReplyWarning {
        agent: AgentId,
        session: SessionId,
        group: GroupId,
    },
    SlowReply {
        agent: AgentId,
        session: SessionId,
        group: GroupId,
    },
    ConductFlagged {
        flag: ConductFlag,
    },
    ComplaintTendency {
        session: SessionId,
        group: GroupId,
        agent: Option<AgentId>,
        signal: ComplaintSignal,
    },
    /// An agent closed a session for a cause the router cannot check
    /// (`duplicate`, `abusive`): no conduct flag, but a supervisor may review it.
    ClosedWithCause {
        agent: AgentId,
        session: SessionId,
        group: GroupId,
        reason: super::input::AgentCloseReason,
    },
}

/// A session as an agent sees it when it arrives.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    pub session: SessionId,
    pub group: GroupId,
    pub customer_name: Option<Arc<str>>,
    /// The host site's id for a verified customer; `None`: unverified.
    pub customer_id: Option<Arc<str>>,
    /// Set when the owner serves the chat through overflow (they are not a
    /// member of its group): the group whose queue it waited in, `group`.
    pub overflowed_from: Option<GroupId>,
    pub priority: Priority,
    pub history: Vec<HistoryEntry>,
    pub notes: Vec<HandoffNote>,
    /// When the oldest unanswered customer message arrived, if any.
    pub unanswered_since: Option<Millis>,
    /// When the reply timer started for this agent (never before assignment).
    pub reply_clock_since: Option<Millis>,
    pub assigned_at: Millis,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at: Millis,
    pub from: Speaker,
    pub text: Arc<str>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Speaker {
    Customer,
    Agent(AgentId),
}

/// The text the transferring agent leaves for the next one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandoffNote {
    pub from: AgentId,
    pub target: TransferTarget,
    pub at: Millis,
    pub text: Arc<str>,
}

/// An agent's state as the dispatcher sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentState {
    /// Online and below capacity: may be assigned.
    Available,
    /// Online and at capacity.
    Busy,
    OnBreak,
    /// Connection lost; sessions kept until `rules.agent_grace` passes.
    Disconnected,
    Offline,
}

impl AgentState {
    pub const ALL: [AgentState; 5] =
        [AgentState::Available, AgentState::Busy, AgentState::OnBreak, AgentState::Disconnected, AgentState::Offline];

    pub fn label(self) -> &'static str {
        match self {
            AgentState::Available => "available",
            AgentState::Busy => "busy",
            AgentState::OnBreak => "on_break",
            AgentState::Disconnected => "disconnected",
            AgentState::Offline => "offline",
        }
    }
}

/// How a session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    /// Closed by the agent, with the agent's reason.
    Agent(super::input::AgentCloseReason),
    CustomerLeft,
    CustomerIdle,
    /// The customer's connection dropped and did not come back within the grace period.
    CustomerLost,
}

impl CloseReason {
    pub const ALL: [CloseReason; 8] = {
        use super::input::AgentCloseReason as A;
        [
            CloseReason::Agent(A::Resolved),
            CloseReason::Agent(A::CustomerUnresponsive),
            CloseReason::Agent(A::Duplicate),
            CloseReason::Agent(A::Abusive),
            CloseReason::Agent(A::Other),
            CloseReason::CustomerLeft,
            CloseReason::CustomerIdle,
            CloseReason::CustomerLost,
        ]
    };

    /// A small fixed label set for metrics.
    pub fn label(self) -> &'static str {
        use super::input::AgentCloseReason as A;
        match self {
            CloseReason::Agent(A::Resolved) => "agent_resolved",
            CloseReason::Agent(A::CustomerUnresponsive) => "agent_customer_unresponsive",
            CloseReason::Agent(A::Duplicate) => "agent_duplicate",
            CloseReason::Agent(A::Abusive) => "agent_abusive",
            CloseReason::Agent(A::Other) => "agent_other",
            CloseReason::CustomerLeft => "customer_left",
            CloseReason::CustomerIdle => "customer_idle",
            CloseReason::CustomerLost => "customer_lost",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentOutcome {
    Accepted,
    Declined,
    TimedOut,
}

/// Kinds of transfer, for metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferKind {
    /// To an agent of the session's group.
    ToAgent,
    /// Back into the session's own group's queue.
    ToGroup,
    /// To another skill group (or an agent outside the session's group).
    CrossGroup,
}

impl TransferKind {
    pub fn label(self) -> &'static str {
        match self {
            TransferKind::ToAgent => "to_agent",
            TransferKind::ToGroup => "to_group",
            TransferKind::CrossGroup => "cross_group",
        }
    }
}

/// A signal of complaint tendency in a customer's messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComplaintSignal {
    PhoneRequest,
    AbusiveLanguage,
    RepeatedQuestion,
    MessageBurst,
}

impl ComplaintSignal {
    pub const ALL: [ComplaintSignal; 4] = [
        ComplaintSignal::PhoneRequest,
        ComplaintSignal::AbusiveLanguage,
        ComplaintSignal::RepeatedQuestion,
        ComplaintSignal::MessageBurst,
    ];

    pub fn label(self) -> &'static str {
        match self {
            ComplaintSignal::PhoneRequest => "phone_request",
            ComplaintSignal::AbusiveLanguage => "abusive_language",
            ComplaintSignal::RepeatedQuestion => "repeated_question",
            ComplaintSignal::MessageBurst => "message_burst",
        }
    }
}

/// A prohibited operation, recorded against an agent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConductFlag {
    pub agent: AgentId,
    pub session: Option<SessionId>,
    pub kind: ConductKind,
    pub at: Millis,
    /// For `ContentRule`: the name of the content rule the agent's text
    /// matched (`[[content.rules]]`); `None` for every other kind.
    pub rule: Option<Arc<str>>,
}

/// What the agent did. The first word of the label is the handbook's
/// category (malicious transfer, abusive break, agent close, disconnect shedding).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConductKind {
    /// Moved to another group without the customer's consent.
    TransferWithoutConsent,
    /// Sent back to the agent or group it came from within the ping-pong window.
    TransferPingPong,
    /// Transferred while the customer's message had waited past the warning.
    TransferDumpingLateSession,
    /// More transfers of one session than allowed.
    TransferTooMany,
    /// Break while customers in the agent's groups waited past the threshold.
    BreakWhileCustomersWait,
    /// Break right after being assigned a session.
    BreakAfterAssignment,
    /// More breaks per shift than allowed.
    BreakTooMany,
    /// More break time per shift than allowed.
    BreakTooLong,
    /// Closed while the customer's last message was unanswered.
    CloseUnanswered,
    /// Closed as `resolved` without the customer confirming it.
    CloseUnconfirmed,
    /// Disconnects repeatedly made sessions flow to other agents.
    DisconnectShedding,
    // Added after the first release: new kinds go last, as saved state
    // (postcard) numbers the kinds in declaration order.
    /// Closed as `customer_unresponsive` before the customer had been silent
    /// `rules.closes.unresponsive_after` since the agent's last message.
    CloseUnresponsiveTooSoon,
    /// Closed as `other` (no cause given) without the customer confirming the
    /// problem was resolved.
    CloseWithoutCause,
    /// A reply (chat or ticket) matched a content rule: the flag names the
    /// rule (`ConductFlag::rule`).
    ContentRule,
}

impl ConductKind {
    /// Every kind, by category: the one list that the wire, metrics and
    /// `docs/domain.md` (and its test) agree on.
    pub const ALL: [ConductKind; 14] = [
        ConductKind::TransferWithoutConsent,
        ConductKind::TransferPingPong,
        ConductKind::TransferDumpingLateSession,
        ConductKind::TransferTooMany,
        ConductKind::BreakWhileCustomersWait,
        ConductKind::BreakAfterAssignment,
        ConductKind::BreakTooMany,
        ConductKind::BreakTooLong,
        ConductKind::CloseUnanswered,
        ConductKind::CloseUnconfirmed,
        ConductKind::CloseUnresponsiveTooSoon,
        ConductKind::CloseWithoutCause,
        ConductKind::DisconnectShedding,
        ConductKind::ContentRule,
    ];

    /// The handbook's category: `malicious_transfer`, `abusive_break`, `agent_close`,
    /// `disconnect_shedding`, `content_rule`.
    pub fn category(self) -> &'static str {
        use ConductKind::*;
        match self {
            TransferWithoutConsent | TransferPingPong | TransferDumpingLateSession | TransferTooMany => {
                "malicious_transfer"
            }
            BreakWhileCustomersWait | BreakAfterAssignment | BreakTooMany | BreakTooLong => "abusive_break",
            CloseUnanswered | CloseUnconfirmed | CloseUnresponsiveTooSoon | CloseWithoutCause => "agent_close",
            DisconnectShedding => "disconnect_shedding",
            ContentRule => "content_rule",
        }
    }

    pub fn label(self) -> &'static str {
        use ConductKind::*;
        match self {
            TransferWithoutConsent => "transfer_without_consent",
            TransferPingPong => "transfer_ping_pong",
            TransferDumpingLateSession => "transfer_dumping_late_session",
            TransferTooMany => "transfer_too_many",
            BreakWhileCustomersWait => "break_while_customers_wait",
            BreakAfterAssignment => "break_after_assignment",
            BreakTooMany => "break_too_many",
            BreakTooLong => "break_too_long",
            CloseUnanswered => "close_unanswered",
            CloseUnconfirmed => "close_unconfirmed",
            CloseUnresponsiveTooSoon => "close_unresponsive_too_soon",
            CloseWithoutCause => "close_without_cause",
            DisconnectShedding => "disconnect_shedding",
            ContentRule => "content_rule",
        }
    }
}

/// Why a session entered a queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueReason {
    Joined,
    /// Transferred to a group.
    Transferred,
    /// Its agent disconnected and did not return within the grace period (front of the queue).
    AgentLost,
}

/// Facts for metrics and audit. Nothing here is per-message content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    SessionQueued {
        session: SessionId,
        group: GroupId,
        priority: Priority,
        reason: QueueReason,
    },
    /// `waited` is the time since the session (re-)entered the queue; `overflow`
    /// says the agent came from an overflow group.
    SessionAssigned {
        session: SessionId,
        group: GroupId,
        agent: AgentId,
        waited: Duration,
        overflow: bool,
    },
    CustomerMessage {
        session: SessionId,
        group: GroupId,
    },
    AgentReply {
        session: SessionId,
        agent: AgentId,
        group: GroupId,
        reply_delay: Option<Duration>,
    },
    ReplyWarning {
        session: SessionId,
        agent: AgentId,
        group: GroupId,
    },
    SlowReply {
        session: SessionId,
        agent: AgentId,
        group: GroupId,
    },
    Transferred {
        session: SessionId,
        from: AgentId,
        target: TransferTarget,
        kind: TransferKind,
    },
    ConsentRequested {
        session: SessionId,
        to_group: GroupId,
    },
    ConsentAnswered {
        session: SessionId,
        outcome: ConsentOutcome,
    },
    ConductFlagged {
        flag: ConductFlag,
    },
    ComplaintTendency {
        session: SessionId,
        group: GroupId,
        signal: ComplaintSignal,
    },
    PriorityRaised {
        session: SessionId,
        priority: Priority,
    },
    SessionClosed {
        session: SessionId,
        group: GroupId,
        agent: Option<AgentId>,
        reason: CloseReason,
    },
    Rated {
        session: SessionId,
        agent: AgentId,
        rating: Rating,
    },
    AgentStateChanged {
        agent: AgentId,
        from: AgentState,
        to: AgentState,
    },
    AvailabilityRequested {
        agent: AgentId,
        availability: Availability,
    },
    /// A closed session's rating window passed: the router no longer knows it
    /// (`session_status` is `None`), so whoever keeps state for it may drop it.
    SessionForgotten {
        session: SessionId,
    },
    /// The agent's grace period ran out with open sessions: they were re-queued.
    SessionsShed {
        agent: AgentId,
        count: u32,
    },
    /// The roster changed ([`crate::Router::change_roster`]): how many agents.
    RosterChanged {
        added: u32,
        changed: u32,
        removed: u32,
    },
}

impl Event {
    /// Every event's name, in declaration order: the `kind` column of the
    /// records store's `router_events`, and what `records.skip_events` accepts.
    pub const KINDS: [&'static str; 19] = [
        "session_queued",
        "session_assigned",
        "customer_message",
        "agent_reply",
        "reply_warning",
        "slow_reply",
        "transferred",
        "consent_requested",
        "consent_answered",
        "conduct_flagged",
        "complaint_tendency",
        "priority_raised",
        "session_closed",
        "rated",
        "agent_state_changed",
        "availability_requested",
        "session_forgotten",
        "sessions_shed",
        "roster_changed",
    ];

    /// The event's name (one of [`Event::KINDS`]; its serde tag).
    pub fn kind(&self) -> &'static str {
        let i = match self {
            Event::SessionQueued { .. } => 0,
            Event::SessionAssigned { .. } => 1,
            Event::CustomerMessage { .. } => 2,
            Event::AgentReply { .. } => 3,
            Event::ReplyWarning { .. } => 4,
            Event::SlowReply { .. } => 5,
            Event::Transferred { .. } => 6,
            Event::ConsentRequested { .. } => 7,
            Event::ConsentAnswered { .. } => 8,
            Event::ConductFlagged { .. } => 9,
            Event::ComplaintTendency { .. } => 10,
            Event::PriorityRaised { .. } => 11,
            Event::SessionClosed { .. } => 12,
            Event::Rated { .. } => 13,
            Event::AgentStateChanged { .. } => 14,
            Event::AvailabilityRequested { .. } => 15,
            Event::SessionForgotten { .. } => 16,
            Event::SessionsShed { .. } => 17,
            Event::RosterChanged { .. } => 18,
        };
        Event::KINDS[i]
    }
}
