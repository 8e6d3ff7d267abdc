//! Owners: who gets a ticket, agents coming and going, transfers.

use std::collections::BTreeSet;

use crate::{AgentId, GroupId, Output, TicketError, TicketId, Tickets};

impl Tickets {
    pub(crate) fn agent_available(
        &mut self,
        id: AgentId,
        groups: Vec<GroupId>,
        capacity: usize,
    ) -> Result<(), TicketError> {
        if capacity == 0 {
            return Err(TicketError::CapacityInvalid);
        }
        if let Some(unknown) = groups.iter().find(|g| !self.groups.contains(*g)) {
            return Err(TicketError::UnknownGroup(unknown.clone()));
        }
        let agent = self.agents.entry(id).or_default();
        agent.groups = groups.into_iter().collect::<BTreeSet<_>>();
        agent.capacity = capacity;
        agent.available = true;
        self.dispatch();
        Ok(())
    }

    /// The agent's open tickets go back to waiting, then on to whoever can take them.
    pub(crate) fn agent_away(&mut self, id: &AgentId) -> Result<(), TicketError> {
        let agent = self.agents.get_mut(id).ok_or_else(|| TicketError::UnknownAgent(id.clone()))?;
        agent.available = false;
        for ticket_id in std::mem::take(&mut agent.owned) {
            let ticket = self.tickets.get_mut(&ticket_id).unwrap();
            ticket.owner = None;
            self.waiting.insert(ticket.wait_key());
            self.outputs.push_back(Output::Waiting { ticket: ticket_id });
        }
        self.dispatch();
        Ok(())
    }

    pub(crate) fn transfer(
        &mut self,
        id: TicketId,
        from: AgentId,
        to: AgentId,
        note: String,
    ) -> Result<(), TicketError> {
        self.check_transfer(id, &from, &to, &note)?;
        self.agents.get_mut(&from).unwrap().owned.remove(&id);
        self.agents.get_mut(&to).unwrap().owned.insert(id);
        self.tickets.get_mut(&id).unwrap().owner = Some(to.clone());
        self.outputs.push_back(Output::Transferred { ticket: id, from, to, note });
        self.dispatch();
        Ok(())
    }

    /// Whether [`Input::Transfer`](crate::Input::Transfer) would be taken now,
    /// changing nothing: so a caller with rules of its own (the server's
    /// reply before a transfer) can check them after these.
    pub fn check_transfer(&self, id: TicketId, from: &AgentId, to: &AgentId, note: &str) -> Result<(), TicketError> {
        let ticket = self.open_ticket(id)?;
        if ticket.owner.as_ref() != Some(from) {
            return Err(TicketError::NotYourTicket(id));
        }
        if to == from {
            return Err(TicketError::TransferToSelf);
        }
        let target = self.agents.get(to).ok_or_else(|| TicketError::UnknownAgent(to.clone()))?;
        if !target.available {
            return Err(TicketError::TargetAgentUnavailable(to.clone()));
        }
        if !target.groups.contains(&ticket.group) {
            return Err(TicketError::TargetNotInGroup(to.clone()));
        }
        if target.owned.len() >= target.capacity {
            return Err(TicketError::TargetAgentFull(to.clone()));
        }
        self.check_note(note)
    }

    /// Gives every waiting ticket that can have an owner one, in waiting order.
    pub(crate) fn dispatch(&mut self) {
        let waiting: Vec<TicketId> = self.waiting().collect();
        for id in waiting {
            if let Some(agent) = self.least_loaded(&self.tickets[&id].group) {
                self.assign(id, agent);
            }
        }
    }

    /// A new ticket: an owner now, or it says it waits.
    pub(crate) fn place(&mut self, id: TicketId) {
        self.dispatch();
        if self.tickets[&id].owner.is_none() {
            self.outputs.push_back(Output::Waiting { ticket: id });
        }
    }

    /// The available agent of the group with room and the fewest open
    /// tickets (the lowest id among equals, so runs are reproducible).
    fn least_loaded(&self, group: &GroupId) -> Option<AgentId> {
        let candidates = self.agents.iter().filter(|(_, agent)| agent.can_take(group));
        candidates.min_by_key(|(id, agent)| (agent.owned.len(), *id)).map(|(id, _)| id.clone())
    }

    pub(crate) fn assign(&mut self, id: TicketId, agent: AgentId) {
        let ticket = self.tickets.get_mut(&id).unwrap();
        self.waiting.remove(&ticket.wait_key());
        ticket.owner = Some(agent.clone());
        self.agents.get_mut(&agent).unwrap().owned.insert(id);
        self.outputs.push_back(Output::Assigned { ticket: id, agent });
    }
}
