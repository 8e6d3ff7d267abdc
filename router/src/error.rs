//! Rule errors: a command that breaks a rule changes nothing and says which.

use super::ids::{AgentId, GroupId, SessionId};
use super::time::Millis;

/// Why the router refused an input. [`RuleError::code`] is stable and goes on
/// the wire; the `Display` text is for people.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("unknown skill group `{0}`")]
    UnknownGroup(GroupId),
    #[error("unknown agent `{0}`")]
    UnknownAgent(AgentId),
    #[error("unknown session {0}")]
    UnknownSession(SessionId),
    #[error("session {0} already exists")]
    SessionExists(SessionId),
    #[error("the queue of group `{0}` is full")]
    QueueFull(GroupId),
    /// Outside the group's service hours, with no open group to overflow to.
    #[error("group `{group}` is closed")]
    GroupClosed { group: GroupId, opens_at: Option<Millis> },
    #[error("session {0} is closed")]
    SessionClosed(SessionId),
    #[error("session {0} is not assigned to you")]
    NotYourSession(SessionId),
    #[error("agent `{0}` is not connected")]
    AgentNotConnected(AgentId),
    #[error("a handoff note is required")]
    HandoffNoteMissing,
    #[error("the handoff note is too short: at least {min} characters are required")]
    HandoffNoteTooShort { min: usize },
    #[error("the handoff note is too long: at most {max} characters")]
    HandoffNoteTooLong { max: usize },
    #[error("the message is empty")]
    MessageEmpty,
    #[error("the message is too long: at most {max} characters")]
    MessageTooLong { max: usize },
    #[error("a transfer cannot target the session's own agent")]
    TransferToSelf,
    #[error("agent `{0}` is not available (offline, disconnected or on break)")]
    TargetAgentUnavailable(AgentId),
    #[error("agent `{0}` has no room for another session")]
    TargetAgentFull(AgentId),
    #[error("a transfer of session {0} is already waiting for the customer's consent")]
    ConsentPending(SessionId),
    #[error("session {0} has no transfer waiting for consent")]
    NoConsentPending(SessionId),
    #[error("session {0} is still waiting in the queue")]
    SessionNotAssigned(SessionId),
    #[error("{count} open sessions must be transferred before going offline")]
    OpenSessions { count: usize },
    #[error("session {0} cannot be rated: it is not closed, or the rating window has passed")]
    RatingNotOpen(SessionId),
    #[error("session {0} was already rated")]
    AlreadyRated(SessionId),
    #[error("the agent has not asked session {0} to confirm it is resolved")]
    NoResolveRequest(SessionId),
    #[error("supervisors do not serve sessions")]
    SupervisorCannotServe,
}

impl RuleError {
    /// A stable, machine-readable code naming the rule.
    pub fn code(&self) -> &'static str {
        match self {
            RuleError::UnknownGroup(_) => "unknown_group",
            RuleError::UnknownAgent(_) => "unknown_agent",
            RuleError::UnknownSession(_) => "unknown_session",
            RuleError::SessionExists(_) => "session_exists",
            RuleError::QueueFull(_) => "queue_full",
            RuleError::GroupClosed { .. } => "group_closed",
            RuleError::SessionClosed(_) => "session_closed",
            RuleError::NotYourSession(_) => "not_your_session",
            RuleError::AgentNotConnected(_) => "agent_not_connected",
            RuleError::HandoffNoteMissing => "handoff_note_missing",
            RuleError::HandoffNoteTooShort { .. } => "handoff_note_too_short",
            RuleError::HandoffNoteTooLong { .. } => "handoff_note_too_long",
            RuleError::MessageEmpty => "message_empty",
            RuleError::MessageTooLong { .. } => "message_too_long",
            RuleError::TransferToSelf => "transfer_to_self",
            RuleError::TargetAgentUnavailable(_) => "target_agent_unavailable",
            RuleError::TargetAgentFull(_) => "target_agent_full",
            RuleError::ConsentPending(_) => "consent_pending",
            RuleError::NoConsentPending(_) => "no_consent_pending",
            RuleError::SessionNotAssigned(_) => "session_not_assigned",
            RuleError::OpenSessions { .. } => "open_sessions",
            RuleError::RatingNotOpen(_) => "rating_not_open",
            RuleError::AlreadyRated(_) => "already_rated",
            RuleError::NoResolveRequest(_) => "no_resolve_request",
            RuleError::SupervisorCannotServe => "supervisor_cannot_serve",
        }
    }
}
