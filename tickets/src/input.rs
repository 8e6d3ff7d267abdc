//! Identifiers and the closed set of inputs.

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::TicketState;

/// An agent's id as in the roster.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AgentId(pub String);

/// A skill group's id as in config.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GroupId(pub String);

/// A ticket, numbered by the caller (so an input log replays without the
/// core minting ids), never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TicketId(pub u64);

impl From<&str> for AgentId {
    fn from(s: &str) -> AgentId {
        AgentId(s.to_owned())
    }
}

impl From<&str> for GroupId {
    fn from(s: &str) -> GroupId {
        GroupId(s.to_owned())
    }
}

impl fmt::Display for AgentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for TicketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Why a ticket exists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Origin {
    /// The customer left a message: the group was closed.
    GroupClosed,
    /// The customer left a message: nobody was available.
    NobodyAvailable,
    /// The customer chose to leave a message rather than wait.
    CustomerChoice,
    /// An agent turned a chat that needs follow-up into a ticket, with a note
    /// (at least `handoff_note_min_chars`). That agent gets it if they can take it.
    FromChat { agent: AgentId, note: String },
}

/// Business-stopping problems and complaints come first (the rules' 优先处理).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
pub enum Priority {
    #[default]
    Normal,
    Urgent,
}

/// Everything that can change the ticket core.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    Create {
        ticket: TicketId,
        group: GroupId,
        origin: Origin,
        priority: Priority,
    },
    /// The agent takes tickets of these groups, at most `ticket_capacity` open
    /// at once (separate from chat capacity). Again: updates groups and capacity.
    AgentAvailable {
        agent: AgentId,
        groups: Vec<GroupId>,
        ticket_capacity: usize,
    },
    /// The agent stops taking tickets; the open ones they own go back to
    /// waiting and on to another agent of the group.
    AgentAway {
        agent: AgentId,
    },
    /// The owner answers and sets the state the answer leaves the ticket in;
    /// `expected_resolution` tells the customer when it should be solved.
    AgentReply {
        ticket: TicketId,
        agent: AgentId,
        state: TicketState,
        expected_resolution: Option<Timestamp>,
    },
    /// The owner hands the ticket to another available agent of its group.
    Transfer {
        ticket: TicketId,
        from: AgentId,
        to: AgentId,
        note: String,
    },
    SetPriority {
        ticket: TicketId,
        priority: Priority,
    },
    CustomerMessage {
        ticket: TicketId,
    },
    CustomerConfirm {
        ticket: TicketId,
    },
    CustomerClose {
        ticket: TicketId,
    },
}
