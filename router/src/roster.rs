//! Roster changes while the router runs ([`Router::change_roster`]): agents
//! added, changed (name, role, capacity, groups) or removed.
//!
//! Saved state and timers refer to agents by position, so a removed agent
//! keeps its place as a *retired* entry: offline, in no group, refused as an
//! unknown agent, left out of snapshots and rosters shown to anyone. Naming
//! them in the roster again brings them back (offline, with their record).

use std::collections::VecDeque;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::config::{AgentConfig, ConfigError, RouterConfig};
use super::ids::AgentId;
use super::output::{AgentState, Event, QueueReason};
use super::state::{Agent, AgentIdx, GroupIdx, Presence, Shift};
use super::time::Millis;
use super::AgentRecord;
use super::Router;

/// What [`Router::change_roster`] did, by agent id, in roster order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RosterChange {
    pub added: Vec<AgentId>,
    /// Name, role, capacity or groups changed (a retired agent named again counts here too).
    pub changed: Vec<AgentId>,
    /// Removed from the roster: their open sessions went back to the front of their queues.
    pub removed: Vec<AgentId>,
}

impl RosterChange {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.removed.is_empty()
    }
}

impl Agent {
    /// A new roster entry: offline, no sessions, no record.
    pub(crate) fn from_config(a: &AgentConfig, group_index: &FxHashMap<super::ids::GroupId, GroupIdx>) -> Agent {
        Agent {
            id: a.id.clone(),
            name: Arc::from(a.name.as_deref().unwrap_or(a.id.as_str())),
            role: a.role,
            capacity: a.capacity,
            memberships: a.groups.iter().map(|m| (group_index[&m.group], m.level)).collect(),
            connected: false,
            presence: Presence::Offline,
            // Room for a full load up front (bounded for huge capacities):
            // no reallocation on the assignment path.
            sessions: Vec::with_capacity((a.capacity as usize).min(32)),
            last_assign_seq: 0,
            last_assigned_at: None,
            listed: None,
            grace_timer: None,
            break_timer: None,
            shift: Shift::default(),
            sheds: VecDeque::new(),
            record: AgentRecord::default(),
            reported_state: AgentState::Offline,
            counted_on_duty: false,
            retired: false,
            counted_serving: false,
        }
    }
}

impl Router {
    /// Makes `agents` the roster, matching agents by id (their order does not
    /// matter). Refused, changing nothing, when the resulting config does not
    /// validate (an unknown group, a zero capacity, a duplicate id...).
    ///
    /// A removed agent is cut off at once, without a grace period and
    /// without a conduct flag (it is not their doing): their open sessions
    /// go back to the front of their groups' queues with history and notes.
    /// A changed agent keeps their sessions and presence; a lower capacity
    /// only stops new assignments until their load is below it.
    pub fn change_roster(&mut self, now: Millis, agents: &[AgentConfig]) -> Result<RosterChange, ConfigError> {
        let merged = self.merged_roster(agents);
        RouterConfig { agents: merged.clone(), ..self.config.clone() }.validate()?;
        let change = self.roster_change(agents);
        self.advance(now);
        let wanted: FxHashMap<&AgentId, &AgentConfig> = agents.iter().map(|a| (&a.id, a)).collect();
        for id in &change.removed {
            self.retire(self.agent_index[id]);
        }
        for id in &change.changed {
            self.reconfigure(self.agent_index[id], wanted[id]);
        }
        for id in &change.added {
            self.add_agent(wanted[id]);
        }
        self.config.agents = merged;
        if !change.is_empty() {
            // New or freer agents may take waiting customers anywhere.
            for g in 0..self.groups.len() {
                self.dirty_groups.insert(g as GroupIdx);
            }
            let count = |v: &Vec<AgentId>| v.len() as u32;
            self.event(Event::RosterChanged {
                added: count(&change.added),
                changed: count(&change.changed),
                removed: count(&change.removed),
            });
        }
        self.settle();
        Ok(change)
    }

    /// What [`Router::change_roster`] would do with `agents`, changing nothing.
    pub fn roster_change(&self, agents: &[AgentConfig]) -> RosterChange {
        let wanted: FxHashMap<&AgentId, &AgentConfig> = agents.iter().map(|a| (&a.id, a)).collect();
        let mut change = RosterChange::default();
        for (agent, old) in self.agents.iter().zip(&self.config.agents) {
            match wanted.get(&agent.id) {
                None if !agent.retired => change.removed.push(agent.id.clone()),
                Some(new) if agent.retired || old != *new => change.changed.push(agent.id.clone()),
                _ => {}
            }
        }
        change.added = agents.iter().filter(|a| !self.agent_index.contains_key(&a.id)).map(|a| a.id.clone()).collect();
        change
    }

    /// The router's own roster after the change: every agent it has ever
    /// had, in its order (retired ones keep their old entry), then the new.
    fn merged_roster(&self, agents: &[AgentConfig]) -> Vec<AgentConfig> {
        let wanted: FxHashMap<&AgentId, &AgentConfig> = agents.iter().map(|a| (&a.id, a)).collect();
        let mut merged: Vec<AgentConfig> =
            self.config.agents.iter().map(|old| wanted.get(&old.id).map_or(old, |new| *new).clone()).collect();
        merged.extend(agents.iter().filter(|a| !self.agent_index.contains_key(&a.id)).cloned());
        merged
    }

    /// Is `agent` on the roster now (known and not retired)?
    pub fn on_roster(&self, agent: &AgentId) -> bool {
        self.agent_index.get(agent).is_some_and(|&a| !self.agents[a as usize].retired)
    }

    /// The roster as it is now: the config's agents without the retired.
    pub fn roster(&self) -> impl Iterator<Item = &AgentConfig> {
        self.config.agents.iter().zip(&self.agents).filter(|(_, a)| !a.retired).map(|(c, _)| c)
    }

    fn add_agent(&mut self, cfg: &AgentConfig) {
        let a = self.agents.len() as AgentIdx;
        self.agents.push(Agent::from_config(cfg, &self.group_index));
        self.agent_index.insert(cfg.id.clone(), a);
        self.join_groups(a);
    }

    /// Takes the agent off duty and out of every queue's reach, then hands
    /// their sessions back to the queues.
    fn retire(&mut self, a: AgentIdx) {
        let ag = &mut self.agents[a as usize];
        self.timers.disarm(&mut ag.grace_timer);
        ag.connected = false;
        let sessions = ag.sessions.clone();
        // Front insertion reverses order, so walk from the newest to keep the oldest first.
        for &s in sessions.iter().rev() {
            self.release(s, a);
            self.enqueue(s, true, QueueReason::AgentLost);
        }
        let ag = &mut self.agents[a as usize];
        ag.presence = Presence::Offline;
        ag.shift = Shift::default();
        self.timers.disarm(&mut ag.break_timer);
        self.leave_groups(a);
    }

    /// New name, role, capacity and groups for an agent (bringing a retired
    /// one back); sessions and presence are kept.
    fn reconfigure(&mut self, a: AgentIdx, cfg: &AgentConfig) {
        self.leave_groups(a);
        let fresh = Agent::from_config(cfg, &self.group_index);
        let ag = &mut self.agents[a as usize];
        ag.retired = false;
        ag.name = fresh.name;
        ag.role = fresh.role;
        ag.capacity = fresh.capacity;
        ag.memberships = fresh.memberships;
        self.join_groups(a);
    }

    /// Retires the agent and takes them out of their groups. Retired, they
    /// can take nothing, are on duty nowhere and serve no one, so the usual
    /// `refresh_agent` takes them out of every count (eligible sets, free
    /// seats, serving agents, on-duty colleagues) under their old groups
    /// and capacity; only then are the groups themselves dropped.
    pub(crate) fn leave_groups(&mut self, a: AgentIdx) {
        self.agents[a as usize].retired = true;
        self.refresh_agent(a);
        let memberships = std::mem::take(&mut self.agents[a as usize].memberships);
        for (g, _) in memberships {
            self.groups[g as usize].members.retain(|&m| m != a);
        }
    }

    /// Adds the agent to the groups of their memberships and lists them as
    /// their state allows.
    fn join_groups(&mut self, a: AgentIdx) {
        for i in 0..self.agents[a as usize].memberships.len() {
            let g = self.agents[a as usize].memberships[i].0;
            self.groups[g as usize].members.push(a);
        }
        self.refresh_agent(a);
    }
}
