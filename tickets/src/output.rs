//! What the core tells its caller, drained with `poll_output`.

use jiff::Timestamp;

use crate::{Actor, AgentId, TicketId, TicketState};

/// A working-time limit that was not kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum BreachKind {
    /// No answer within `first_response` of creation.
    FirstResponse,
    /// No expected resolution time told within `expected_time_reply` of creation.
    ExpectedTime,
    /// The customer waited `max_without_reply` for a reply.
    NoReply,
}

impl BreachKind {
    pub const ALL: [BreachKind; 3] = [BreachKind::FirstResponse, BreachKind::ExpectedTime, BreachKind::NoReply];

    /// The name for metrics labels and alerts.
    pub fn name(self) -> &'static str {
        match self {
            BreachKind::FirstResponse => "first_response",
            BreachKind::ExpectedTime => "expected_time",
            BreachKind::NoReply => "no_reply",
        }
    }
}

/// Why the customer is told something without an agent writing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reminder {
    /// The agent asked for feedback: remind the customer to give it.
    FeedbackRequested,
    /// No feedback in time: the ticket now waits for the customer's confirmation.
    PendingConfirmation,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// A limit was not kept; `agent` is the owner at the deadline (none while waiting for one).
    Breach {
        kind: BreachKind,
        ticket: TicketId,
        agent: Option<AgentId>,
        deadline: Timestamp,
    },
    /// The ticket has a new owner.
    Assigned {
        ticket: TicketId,
        agent: AgentId,
    },
    /// The ticket waits for an owner (nobody of its group can take it).
    Waiting {
        ticket: TicketId,
    },
    Transferred {
        ticket: TicketId,
        from: AgentId,
        to: AgentId,
        note: String,
    },
    StateChanged {
        ticket: TicketId,
        from: TicketState,
        to: TicketState,
        actor: Actor,
        at: Timestamp,
    },
    RemindCustomer {
        ticket: TicketId,
        reminder: Reminder,
    },
}
