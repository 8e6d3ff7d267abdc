//! The running limits: arming, clearing and firing deadlines.

use jiff::Timestamp;

use crate::{Actor, BreachKind, Output, TicketId, TicketState, Tickets};

/// A limit that runs on a ticket; each ends in a breach or a move.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum Limit {
    /// From creation until the first agent reply.
    FirstResponse,
    /// From creation until a reply with an expected resolution time (or
    /// until the ticket leaves the agent's hands: awaiting feedback, pending
    /// confirmation, done).
    ExpectedTime,
    /// From the customer's first unanswered message until the agent's next reply.
    NoReply,
    /// Awaiting feedback: then pending confirmation.
    FeedbackWait,
    /// Pending confirmation: then confirmed and closed.
    ConfirmationWait,
}

impl Limit {
    pub const ALL: [Limit; 5] =
        [Limit::FirstResponse, Limit::ExpectedTime, Limit::NoReply, Limit::FeedbackWait, Limit::ConfirmationWait];

    /// The breach this limit ends in, if it is a promise to the customer.
    pub fn breach(self) -> Option<BreachKind> {
        match self {
            Limit::FirstResponse => Some(BreachKind::FirstResponse),
            Limit::ExpectedTime => Some(BreachKind::ExpectedTime),
            Limit::NoReply => Some(BreachKind::NoReply),
            Limit::FeedbackWait | Limit::ConfirmationWait => None,
        }
    }
}

impl Tickets {
    /// Fires every deadline at or before `now`, oldest first, each as of
    /// its own deadline (a wait that ends starts the next one from there).
    pub fn handle_timeout(&mut self, now: Timestamp) {
        self.now = self.now.max(now);
        while let Some(&(deadline, id, limit)) = self.timers.first() {
            if deadline > self.now {
                break;
            }
            self.clear(id, limit);
            self.fire(deadline, id, limit);
        }
    }

    fn fire(&mut self, deadline: Timestamp, id: TicketId, limit: Limit) {
        match (limit.breach(), limit) {
            (Some(kind), _) => {
                let agent = self.tickets[&id].owner.clone();
                self.outputs.push_back(Output::Breach { kind, ticket: id, agent, deadline });
            }
            (None, Limit::FeedbackWait) => self.move_to(deadline, id, TicketState::PendingConfirmation, Actor::System),
            (None, _) => self.move_to(deadline, id, TicketState::Closed, Actor::System),
        }
    }

    /// The limits a new ticket starts with. A ticket made from a chat was
    /// answered in the chat: it owes only the expected resolution time.
    pub(crate) fn arm_on_create(&mut self, now: Timestamp, id: TicketId, from_chat: bool) {
        let group = self.tickets[&id].group.0.clone();
        let mut limits = vec![(Limit::ExpectedTime, self.rules.expected_time_reply)];
        if !from_chat {
            limits.push((Limit::FirstResponse, self.rules.first_response));
            limits.push((Limit::NoReply, self.rules.max_without_reply));
        }
        for (limit, working) in limits {
            let deadline = self.calendar.add_working(&group, now, working);
            self.arm(id, limit, deadline);
        }
    }

    /// Starts a wait of `days` working days from `at`.
    pub(crate) fn start_wait(&mut self, at: Timestamp, id: TicketId, limit: Limit, days: u32) {
        let deadline = self.calendar.add_working_days(&self.tickets[&id].group.0, at, days);
        self.arm(id, limit, deadline);
    }

    /// Sets (or replaces) a deadline; `None` (the group never has that much
    /// working time again) sets none.
    pub(crate) fn arm(&mut self, id: TicketId, limit: Limit, deadline: Option<Timestamp>) {
        self.clear(id, limit);
        let Some(deadline) = deadline else { return };
        self.tickets.get_mut(&id).unwrap().deadlines.insert(limit, deadline);
        self.timers.insert((deadline, id, limit));
    }

    pub(crate) fn clear(&mut self, id: TicketId, limit: Limit) {
        if let Some(deadline) = self.tickets.get_mut(&id).unwrap().deadlines.remove(&limit) {
            self.timers.remove(&(deadline, id, limit));
        }
    }
}
