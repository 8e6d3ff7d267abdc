//! Inputs from agents: connection, availability and breaks, replies,
//! transfers, closing.

use std::sync::Arc;

use super::config::Role;
use super::error::RuleError;
use super::ids::{AgentId, SessionId};
use super::input::{AgentCloseReason, Availability};
use super::output::{
    AgentNotice, CloseReason, CustomerNotice, Event, HandoffNote, QueueReason, SessionEndedWhy, Speaker,
    SupervisorNotice, TransferKind,
};
use super::state::{AgentIdx, GroupIdx, PendingConsent, Phase, Presence, Shift, TransferRecord};
use super::timers::Timer;
use super::{Output, Router, TransferTarget};

impl Router {
    pub(super) fn agent_connected(&mut self, agent: &AgentId) -> Result<(), RuleError> {
        let a = self.agent_idx(agent)?;
        let ag = &mut self.agents[a as usize];
        if !ag.connected {
            ag.connected = true;
            if ag.grace_timer.is_some() {
                // Back within the grace period: sessions and presence are kept.
                self.timers.disarm(&mut ag.grace_timer);
            } else {
                ag.presence = Presence::Offline;
            }
        }
        self.refresh_agent(a);
        let ag = &self.agents[a as usize];
        let sessions = ag.sessions.iter().map(|s| self.view(&self.sessions[s])).collect();
        let state = ag.state();
        self.notify_agent(a, AgentNotice::State { state, sessions });
        Ok(())
    }

    pub(super) fn agent_disconnected(&mut self, agent: &AgentId) -> Result<(), RuleError> {
        let a = self.agent_idx(agent)?;
        if !self.agents[a as usize].connected {
            return Ok(());
        }
        let at = self.now + self.config.rules.agent_grace;
        let ag = &mut self.agents[a as usize];
        ag.connected = false;
        if ag.presence == Presence::Offline && ag.sessions.is_empty() {
            // Nothing to keep for them: no grace period, they are simply offline.
            self.refresh_agent(a);
            return Ok(());
        }
        self.timers.arm(&mut ag.grace_timer, at, Timer::AgentGrace(a));
        self.refresh_agent(a);
        Ok(())
    }

    /// The grace period ran out: the agent is offline and their sessions go
    /// back to the front of their groups' queues, history and notes intact.
    pub(super) fn fire_agent_grace(&mut self, a: AgentIdx) {
        let ag = &mut self.agents[a as usize];
        let sessions = ag.sessions.clone();
        // Front insertion reverses order, so walk from the newest to keep the oldest first.
        for &s in sessions.iter().rev() {
            self.release(s, a);
            self.enqueue(s, true, QueueReason::AgentLost);
        }
        self.go_offline(a);
        if !sessions.is_empty() {
            let agent = self.agents[a as usize].id.clone();
            self.event(Event::SessionsShed { agent, count: sessions.len() as u32 });
            self.note_shedding(a);
        }
    }

    fn go_offline(&mut self, a: AgentIdx) {
        let ag = &mut self.agents[a as usize];
        ag.presence = Presence::Offline;
        ag.shift = Shift::default();
        self.timers.disarm(&mut ag.break_timer);
        self.refresh_agent(a);
    }

    fn connected_agent(&self, agent: &AgentId) -> Result<AgentIdx, RuleError> {
        let a = self.agent_idx(agent)?;
        if !self.agents[a as usize].connected {
            return Err(RuleError::AgentNotConnected(agent.clone()));
        }
        Ok(a)
    }

    /// The agent and session, if the session is open and this agent's.
    pub(super) fn owned(&self, agent: &AgentId, session: SessionId) -> Result<AgentIdx, RuleError> {
        let a = self.connected_agent(agent)?;
        let s = self.session(session)?;
        match s.phase {
            Phase::Closed { .. } => Err(RuleError::SessionClosed(session)),
            Phase::Assigned { agent: owner, .. } if owner == a => Ok(a),
            _ => Err(RuleError::NotYourSession(session)),
        }
    }

    pub(super) fn agent_set_availability(
        &mut self,
        agent: &AgentId,
        availability: Availability,
    ) -> Result<(), RuleError> {
        let a = self.connected_agent(agent)?;
        let now = self.now;
        let ag = &self.agents[a as usize];
        if ag.memberships.is_empty() && availability != Availability::Offline {
            debug_assert_eq!(ag.role, Role::Supervisor);
            return Err(RuleError::SupervisorCannotServe);
        }
        if availability == Availability::Offline && !ag.sessions.is_empty() {
            return Err(RuleError::OpenSessions { count: ag.sessions.len() });
        }
        self.event(Event::AvailabilityRequested { agent: agent.clone(), availability: availability.clone() });
        // Close the books on a running break.
        let ag = &mut self.agents[a as usize];
        let was_on_break = if let Presence::OnBreak { since, .. } = ag.presence {
            ag.shift.break_time_ms += now.since(since).as_millis() as u64;
            true
        } else {
            false
        };
        match availability {
            Availability::Available => {
                let ag = &mut self.agents[a as usize];
                ag.presence = Presence::Available;
                self.timers.disarm(&mut ag.break_timer);
                self.refresh_agent(a);
            }
            Availability::Break { reason } => {
                // A change of reason during a break is not a new break.
                let flags = if was_on_break { Vec::new() } else { self.break_flags(a) };
                let ag = &mut self.agents[a as usize];
                if !was_on_break {
                    ag.shift.breaks += 1;
                }
                ag.presence = Presence::OnBreak { reason, since: now };
                self.arm_break_allowance(a);
                self.refresh_agent(a);
                for kind in flags {
                    self.flag(a, None, kind);
                }
            }
            Availability::Offline => self.go_offline(a),
        }
        Ok(())
    }

    pub(super) fn agent_reply(&mut self, agent: &AgentId, session: SessionId, text: Arc<str>) -> Result<(), RuleError> {
        self.check_text(&text)?;
        let a = self.owned(agent, session)?;
        let now = self.now;
        let idle_at = now + self.config.rules.customer_idle;
        self.push_history(session, Speaker::Agent(agent.clone()), text.clone());
        let s = self.sessions.get_mut(&session).expect("owned sessions exist");
        let reply_delay = s.reply_clock_since.map(|since| now.since(since));
        s.unanswered_since = None;
        s.reply_clock_since = None;
        s.warned = false;
        s.last_agent_reply = Some(now);
        let group = s.group;
        self.timers.disarm(&mut s.reply_timer);
        if s.idle_timer.is_none() {
            self.timers.arm(&mut s.idle_timer, idle_at, Timer::CustomerIdle(session));
        }
        let agent_name = self.agents[a as usize].name.clone();
        self.notify_customer(session, CustomerNotice::AgentMessage { agent_name, text });
        let group = self.groups[group as usize].id.clone();
        self.event(Event::AgentReply { session, agent: agent.clone(), group, reply_delay });
        Ok(())
    }

    pub(super) fn agent_typing(&mut self, agent: &AgentId, session: SessionId) -> Result<(), RuleError> {
        self.owned(agent, session)?;
        self.notify_customer(session, CustomerNotice::AgentTyping);
        Ok(())
    }

    pub(super) fn agent_ask_resolved(&mut self, agent: &AgentId, session: SessionId) -> Result<(), RuleError> {
        self.owned(agent, session)?;
        self.session_mut(session).resolve_asked = true;
        self.notify_customer(session, CustomerNotice::ResolveRequest);
        Ok(())
    }

    /// Reply clock check: the warning first, then the slow-reply violation.
    pub(super) fn fire_reply(&mut self, session: SessionId, at: super::Millis) {
        let rules = &self.config.rules;
        let (warning, violation) = (rules.reply_warning, rules.reply_violation);
        let Some(s) = self.sessions.get_mut(&session) else { return };
        let (Some(agent), Some(since)) = (s.agent(), s.reply_clock_since) else { return };
        let group = self.groups[s.group as usize].id.clone();
        let agent_id = self.agents[agent as usize].id.clone();
        if !s.warned {
            s.warned = true;
            self.timers.arm(&mut s.reply_timer, since + violation, Timer::Reply(session));
            self.agents[agent as usize].record.reply_warnings += 1;
            self.notify_agent(agent, AgentNotice::ReplyWarning { session, waited: warning.max(at.since(since)) });
            self.emit(Output::ToSupervisors {
                notice: SupervisorNotice::ReplyWarning { agent: agent_id.clone(), session, group: group.clone() },
            });
            self.event(Event::ReplyWarning { session, agent: agent_id, group });
        } else {
            self.agents[agent as usize].record.slow_replies += 1;
            self.notify_agent(agent, AgentNotice::SlowReply { session, waited: violation.max(at.since(since)) });
            self.emit(Output::ToSupervisors {
                notice: SupervisorNotice::SlowReply { agent: agent_id.clone(), session, group: group.clone() },
            });
            self.event(Event::SlowReply { session, agent: agent_id, group });
        }
    }

    fn check_note(&self, note: &str) -> Result<(), RuleError> {
        let rules = &self.config.rules;
        let chars = note.trim().chars().count();
        if chars == 0 {
            return Err(RuleError::HandoffNoteMissing);
        }
        if chars < rules.handoff_note_min_chars {
            return Err(RuleError::HandoffNoteTooShort { min: rules.handoff_note_min_chars });
        }
        if chars > rules.handoff_note_max_chars {
            return Err(RuleError::HandoffNoteTooLong { max: rules.handoff_note_max_chars });
        }
        Ok(())
    }

    pub(super) fn agent_transfer(
        &mut self,
        agent: &AgentId,
        session: SessionId,
        target: TransferTarget,
        note: Arc<str>,
        skip_consent: bool,
    ) -> Result<(), RuleError> {
        let a = self.owned(agent, session)?;
        let s = &self.sessions[&session];
        if s.consent.is_some() {
            return Err(RuleError::ConsentPending(session));
        }
        self.check_note(&note)?;
        let current = s.group;
        let (to_group, cross) = match &target {
            TransferTarget::Agent(id) => {
                let x = self.agent_idx(id)?;
                if x == a {
                    return Err(RuleError::TransferToSelf);
                }
                let to = &self.agents[x as usize];
                if !(to.connected && to.presence == Presence::Available) {
                    return Err(RuleError::TargetAgentUnavailable(id.clone()));
                }
                if !to.can_take() {
                    return Err(RuleError::TargetAgentFull(id.clone()));
                }
                match to.level_in(current) {
                    Some(_) => (current, false),
                    None => (self.home_group(x).ok_or(RuleError::SupervisorCannotServe)?, true),
                }
            }
            TransferTarget::Group(id) => {
                let g = *self.group_index.get(id).ok_or_else(|| RuleError::UnknownGroup(id.clone()))?;
                let group = &self.groups[g as usize];
                if group.queue.len() >= group.max_queue {
                    return Err(RuleError::QueueFull(id.clone()));
                }
                (g, g != current)
            }
        };
        let late = self.reply_is_late(session);
        if cross && !skip_consent {
            let timeout = self.config.rules.consent_timeout;
            let mut timer = None;
            self.timers.arm(&mut timer, self.now + timeout, Timer::Consent(session));
            let to = &self.groups[to_group as usize];
            let (to_group_id, to_group_name) = (to.id.clone(), to.name.clone());
            self.session_mut(session).consent =
                Some(Box::new(PendingConsent { from: a, target, to_group, note, late, timer }));
            self.notify_customer(
                session,
                CustomerNotice::ConsentRequest { to_group: to_group_id.clone(), to_group_name, timeout },
            );
            self.event(Event::ConsentRequested { session, to_group: to_group_id });
            return Ok(());
        }
        self.execute_transfer(session, a, target, to_group, note, late, cross);
        Ok(())
    }

    /// Moves a session from agent `from` to the target, with the note; flags
    /// whatever the transfer breaks. `without_consent` marks a cross-group
    /// transfer the customer never agreed to.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn execute_transfer(
        &mut self,
        session: SessionId,
        from: AgentIdx,
        target: TransferTarget,
        to_group: GroupIdx,
        note: Arc<str>,
        late: bool,
        without_consent: bool,
    ) {
        let now = self.now;
        let flags = self.transfer_flags(session, from, &target, late, without_consent);
        let s = &self.sessions[&session];
        let old_group = s.group;
        let kind = match target {
            _ if to_group != old_group => TransferKind::CrossGroup,
            TransferTarget::Agent(_) => TransferKind::ToAgent,
            TransferTarget::Group(_) => TransferKind::ToGroup,
        };
        let from_id = self.agents[from as usize].id.clone();
        self.release(session, from);
        let s = self.session_mut(session);
        s.transfers.push(TransferRecord { from, from_group: old_group, at: now });
        s.notes.push(HandoffNote { from: from_id.clone(), target: target.clone(), at: now, text: note });
        s.group = to_group;
        s.resolve_asked = false;
        s.resolve_confirmed = false;
        self.notify_agent(
            from,
            AgentNotice::SessionEnded { session, why: SessionEndedWhy::Transferred { target: target.clone() } },
        );
        self.event(Event::Transferred { session, from: from_id, target: target.clone(), kind });
        let direct = match &target {
            TransferTarget::Agent(id) => Some(self.agent_index[id]).filter(|&x| self.agents[x as usize].can_take()),
            TransferTarget::Group(_) => None,
        };
        match direct {
            Some(x) => self.give_to_agent(session, x, std::time::Duration::ZERO),
            None => {
                if to_group == old_group {
                    self.session_mut(session).excluded_agent = Some(from);
                }
                self.enqueue(session, true, QueueReason::Transferred);
            }
        }
        for kind in flags {
            self.flag(from, Some(session), kind);
        }
    }

    pub(super) fn agent_close(
        &mut self,
        agent: &AgentId,
        session: SessionId,
        reason: AgentCloseReason,
    ) -> Result<(), RuleError> {
        let a = self.owned(agent, session)?;
        let flag = self.close_flag(session, reason);
        self.close(session, CloseReason::Agent(reason));
        self.report_close(a, session, reason);
        if let Some(kind) = flag {
            self.flag(a, Some(session), kind);
        }
        Ok(())
    }
}
