//! Counts of what happened in a period: ratings, reply violations, conduct
//! flags, tickets, complaints and spot checks.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::Span;

/// Something about the agent, at a moment (ms).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub at: i64,
    pub kind: EventKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// `session_assigned` to the agent (transfers to them included).
    Assigned,
    /// `rated`: a customer's rating of a chat the agent served last.
    Rated { satisfied: bool },
    /// `slow_reply`: the 3-minute violation.
    SlowReply,
    /// `reply_warning`: the 1-minute warning.
    ReplyWarning,
    /// `conduct_flagged`, by kind (`close_unanswered`...).
    Flag(String),
    /// A ticket was assigned to the agent (`ticket_events` `assigned`).
    TicketAssigned(u64),
    /// A ticket limit passed while the agent held the ticket (`ticket_events` `breach`).
    TicketBreached(u64),
    /// A complaint against the agent was upheld (counted when upheld).
    ComplaintUpheld,
    /// A spot check of one of the agent's chats (counted when made).
    SpotCheck { passed: bool },
}

/// What happened in a period.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Sessions assigned in the period (in shifts or not).
    pub assigned: u32,
    pub satisfied: u32,
    pub dissatisfied: u32,
    pub slow_replies: u32,
    pub reply_warnings: u32,
    /// Conduct flags by kind.
    pub flags: BTreeMap<String, u32>,
    pub upheld_complaints: u32,
    pub spot_checks: u32,
    pub spot_checks_passed: u32,
    /// Tickets assigned to the agent in the period.
    #[serde(skip)]
    pub tickets: BTreeSet<u64>,
    /// Of all tickets, those that breached a limit while the agent held them in the period.
    #[serde(skip)]
    pub tickets_breached: BTreeSet<u64>,
}

impl Tally {
    /// The events that happened inside `span`.
    pub fn of(span: Span, events: &[Event]) -> Tally {
        let mut tally = Tally::default();
        for e in events.iter().filter(|e| span.contains(e.at)) {
            tally.add(&e.kind);
        }
        tally
    }

    fn add(&mut self, kind: &EventKind) {
        match kind {
            EventKind::Assigned => self.assigned += 1,
            EventKind::Rated { satisfied: true } => self.satisfied += 1,
            EventKind::Rated { satisfied: false } => self.dissatisfied += 1,
            EventKind::SlowReply => self.slow_replies += 1,
            EventKind::ReplyWarning => self.reply_warnings += 1,
            EventKind::Flag(kind) => *self.flags.entry(kind.clone()).or_default() += 1,
            EventKind::TicketAssigned(t) => drop(self.tickets.insert(*t)),
            EventKind::TicketBreached(t) => drop(self.tickets_breached.insert(*t)),
            EventKind::ComplaintUpheld => self.upheld_complaints += 1,
            EventKind::SpotCheck { passed } => {
                self.spot_checks += 1;
                self.spot_checks_passed += u32::from(*passed);
            }
        }
    }

    pub fn merge(&mut self, other: &Tally) {
        self.assigned += other.assigned;
        self.satisfied += other.satisfied;
        self.dissatisfied += other.dissatisfied;
        self.slow_replies += other.slow_replies;
        self.reply_warnings += other.reply_warnings;
        for (kind, n) in &other.flags {
            *self.flags.entry(kind.clone()).or_default() += n;
        }
        self.upheld_complaints += other.upheld_complaints;
        self.spot_checks += other.spot_checks;
        self.spot_checks_passed += other.spot_checks_passed;
        self.tickets.extend(&other.tickets);
        self.tickets_breached.extend(&other.tickets_breached);
    }

    /// Tickets assigned to the agent in the period.
    pub fn tickets_answered(&self) -> u32 {
        self.tickets.len() as u32
    }

    /// Of those, the ones with no breach while the agent held them in the period.
    pub fn tickets_within_limits(&self) -> u32 {
        self.tickets.difference(&self.tickets_breached).count() as u32
    }
}
