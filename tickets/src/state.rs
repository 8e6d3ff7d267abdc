//! Ticket states and the one table of legal transitions.

use crate::TicketError;

/// The states of the ticket rules (已分派、处理中、待反馈、已反馈、待确认、已解决、已关闭).
/// Only [`TicketState::Resolved`] (confirmed by the customer) and
/// [`TicketState::Closed`] count as done; done tickets never change again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum TicketState {
    /// Created and handed to the ticket desk; nobody has answered yet.
    Assigned,
    /// An agent is working on it.
    Processing,
    /// The agent needs something from the customer.
    AwaitingFeedback,
    /// The customer answered: the agent's turn.
    CustomerReplied,
    /// The agent says it is solved; the customer is asked to confirm.
    PendingConfirmation,
    /// Confirmed solved by the customer (done).
    Resolved,
    /// Closed by the customer, or confirmed by the system after the wait (done).
    Closed,
}

impl TicketState {
    pub const ALL: [TicketState; 7] = [
        TicketState::Assigned,
        TicketState::Processing,
        TicketState::AwaitingFeedback,
        TicketState::CustomerReplied,
        TicketState::PendingConfirmation,
        TicketState::Resolved,
        TicketState::Closed,
    ];

    /// The name in docs, logs and (later) on the wire.
    pub fn name(self) -> &'static str {
        match self {
            TicketState::Assigned => "assigned",
            TicketState::Processing => "processing",
            TicketState::AwaitingFeedback => "awaiting_feedback",
            TicketState::CustomerReplied => "customer_replied",
            TicketState::PendingConfirmation => "pending_confirmation",
            TicketState::Resolved => "resolved",
            TicketState::Closed => "closed",
        }
    }

    /// Resolved or closed: the only states that count as finished work.
    pub fn is_done(self) -> bool {
        matches!(self, TicketState::Resolved | TicketState::Closed)
    }
}

/// Who moves a ticket: the owning agent (with a reply), the customer, or
/// the system when a wait runs out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Actor {
    Agent,
    Customer,
    System,
}

impl Actor {
    pub const ALL: [Actor; 3] = [Actor::Agent, Actor::Customer, Actor::System];

    pub fn name(self) -> &'static str {
        match self {
            Actor::Agent => "agent",
            Actor::Customer => "customer",
            Actor::System => "system",
        }
    }
}

use Actor::{Agent, Customer, System};
use TicketState::*;

/// Every legal move, `(from, to, actor)`; anything else is refused with
/// `ticket_transition_illegal` (or `ticket_done` from a done state). The
/// same table is printed in docs/tickets.md.
///
/// An agent's reply always says the state it leaves the ticket in (the
/// rules pair each reply script with a state), so "reply and stay" is a
/// self-move. Agents never close: only the customer does, or the system
/// after the confirmation wait. An agent marks a ticket resolved only after
/// the customer replied that it is solved.
pub const TRANSITIONS: &[(TicketState, TicketState, Actor)] = &[
    (Assigned, Processing, Agent),
    (Assigned, AwaitingFeedback, Agent),
    (Assigned, PendingConfirmation, Agent),
    (Processing, Processing, Agent),
    (Processing, AwaitingFeedback, Agent),
    (Processing, PendingConfirmation, Agent),
    (AwaitingFeedback, AwaitingFeedback, Agent),
    (AwaitingFeedback, Processing, Agent),
    (CustomerReplied, Processing, Agent),
    (CustomerReplied, AwaitingFeedback, Agent),
    (CustomerReplied, PendingConfirmation, Agent),
    (CustomerReplied, Resolved, Agent),
    (PendingConfirmation, PendingConfirmation, Agent),
    (PendingConfirmation, Processing, Agent),
    // A customer's message: before anyone answered it stays assigned.
    (Assigned, Assigned, Customer),
    (Processing, CustomerReplied, Customer),
    (AwaitingFeedback, CustomerReplied, Customer),
    (CustomerReplied, CustomerReplied, Customer),
    (PendingConfirmation, CustomerReplied, Customer),
    // The customer confirms the solution, or closes at any time.
    (PendingConfirmation, Resolved, Customer),
    (Assigned, Closed, Customer),
    (Processing, Closed, Customer),
    (AwaitingFeedback, Closed, Customer),
    (CustomerReplied, Closed, Customer),
    (PendingConfirmation, Closed, Customer),
    // The waits of the rules: no feedback for 7 working days, then 3 more.
    (AwaitingFeedback, PendingConfirmation, System),
    (PendingConfirmation, Closed, System),
];

/// Whether `actor` may move a ticket from `from` to `to`.
pub fn check_transition(from: TicketState, to: TicketState, actor: Actor) -> Result<(), TicketError> {
    if from.is_done() {
        return Err(TicketError::TicketDone { state: from });
    }
    if TRANSITIONS.contains(&(from, to, actor)) {
        Ok(())
    } else {
        Err(TicketError::IllegalTransition { from, to, actor })
    }
}
