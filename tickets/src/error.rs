//! Refusals: an input that breaks a rule changes nothing and says which.

use crate::{Actor, AgentId, GroupId, TicketId, TicketState};

/// Why the ticket core refused an input. [`TicketError::code`] is stable
/// (for the wire, later); the `Display` text is for people.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TicketError {
    #[error("unknown ticket {0}")]
    UnknownTicket(TicketId),
    #[error("ticket {0} already exists")]
    TicketExists(TicketId),
    #[error("unknown skill group `{0}`")]
    UnknownGroup(GroupId),
    #[error("unknown agent `{0}`")]
    UnknownAgent(AgentId),
    #[error("the ticket is {} and done: it no longer changes", state.name())]
    TicketDone { state: TicketState },
    #[error("a ticket cannot go from {} to {} by the {}", from.name(), to.name(), actor.name())]
    IllegalTransition { from: TicketState, to: TicketState, actor: Actor },
    #[error("ticket {0} is not assigned to you")]
    NotYourTicket(TicketId),
    #[error("agent `{0}` is not available for tickets")]
    TargetAgentUnavailable(AgentId),
    #[error("agent `{0}` is not in the ticket's skill group")]
    TargetNotInGroup(AgentId),
    #[error("agent `{0}` has no room for another ticket")]
    TargetAgentFull(AgentId),
    #[error("a transfer cannot target the ticket's own agent")]
    TransferToSelf,
    #[error("the note is too short: at least {min} characters are required")]
    HandoffNoteTooShort { min: usize },
    #[error("a ticket capacity must be at least 1")]
    CapacityInvalid,
    #[error("the expected resolution time must be after now")]
    ExpectedTimeInvalid,
}

impl TicketError {
    /// Every code, in declaration order (docs/tickets.md lists the same).
    pub const CODES: [&'static str; 14] = [
        "ticket_unknown",
        "ticket_exists",
        "ticket_group_unknown",
        "ticket_agent_unknown",
        "ticket_done",
        "ticket_transition_illegal",
        "ticket_not_yours",
        "ticket_agent_unavailable",
        "ticket_agent_not_in_group",
        "ticket_agent_full",
        "ticket_transfer_to_self",
        "handoff_note_too_short",
        "ticket_capacity_invalid",
        "ticket_expected_time_invalid",
    ];

    /// A stable, machine-readable code naming the rule.
    pub fn code(&self) -> &'static str {
        let index = match self {
            TicketError::UnknownTicket(_) => 0,
            TicketError::TicketExists(_) => 1,
            TicketError::UnknownGroup(_) => 2,
            TicketError::UnknownAgent(_) => 3,
            TicketError::TicketDone { .. } => 4,
            TicketError::IllegalTransition { .. } => 5,
            TicketError::NotYourTicket(_) => 6,
            TicketError::TargetAgentUnavailable(_) => 7,
            TicketError::TargetNotInGroup(_) => 8,
            TicketError::TargetAgentFull(_) => 9,
            TicketError::TransferToSelf => 10,
            TicketError::HandoffNoteTooShort { .. } => 11,
            TicketError::CapacityInvalid => 12,
            TicketError::ExpectedTimeInvalid => 13,
        };
        Self::CODES[index]
    }
}
