//! Saving and restoring the whole core, for the server's snapshots: every
//! ticket, agent, waiting line and deadline, in a canonical order (ordered
//! maps and sets), so the same state always gives the same bytes. The
//! calendar is configuration, not state: the caller passes it back in.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use switchboard_calendar::Calendar;

use crate::{Agent, AgentId, GroupId, RulesError, Ticket, TicketId, TicketRules, Tickets};

/// The core's state without its calendar. Pending outputs are not part of
/// it: save between inputs, with every output drained.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedTickets {
    rules: TicketRules,
    groups: BTreeSet<GroupId>,
    tickets: BTreeMap<TicketId, Ticket>,
    agents: BTreeMap<AgentId, Agent>,
    now: Timestamp,
}

impl Tickets {
    /// A copy of the state for a snapshot (the waiting line and the timer
    /// table are rebuilt from the tickets on restore, not saved).
    pub fn save(&self) -> SavedTickets {
        SavedTickets {
            rules: self.rules.clone(),
            groups: self.groups.clone(),
            tickets: self.tickets.clone(),
            agents: self.agents.clone(),
            now: self.now,
        }
    }

    /// The core as it was saved, on `calendar`. Refuses rules that no
    /// longer validate (saved by another release).
    pub fn restore(saved: SavedTickets, calendar: Calendar) -> Result<Tickets, RulesError> {
        let mut tickets = Tickets::new(saved.rules, calendar, saved.groups)?;
        tickets.now = saved.now;
        tickets.agents = saved.agents;
        for ticket in saved.tickets.values() {
            if !ticket.state.is_done() && ticket.owner.is_none() {
                tickets.waiting.insert(ticket.wait_key());
            }
            for (&limit, &at) in &ticket.deadlines {
                tickets.timers.insert((at, ticket.id, limit));
            }
        }
        tickets.tickets = saved.tickets;
        Ok(tickets)
    }

    /// New limits (a restart under an edited config). Deadlines already
    /// running keep their instants; every limit started later uses the new
    /// ones. Refused, changing nothing, when they do not validate.
    pub fn set_rules(&mut self, rules: TicketRules) -> Result<(), RulesError> {
        rules.validate()?;
        self.rules = rules;
        Ok(())
    }
}
