//! Inputs from customers.

use std::collections::VecDeque;
use std::sync::Arc;

use super::error::RuleError;
use super::ids::{GroupId, SessionId};
use super::input::{Priority, Rating};
use super::output::{AgentNotice, CloseReason, ConsentOutcome, Event, QueueReason, Speaker, SupervisorNotice};
use super::state::{Phase, Session};
use super::timers::Timer;
use super::Router;

/// Who a joining customer is: the name they gave, and the host site's id
/// for them when the site vouched for it.
pub(super) struct Who {
    pub(super) customer_name: Option<Arc<str>>,
    pub(super) customer_id: Option<Arc<str>>,
}

impl Router {
    pub(super) fn customer_join(
        &mut self,
        session: SessionId,
        group: &GroupId,
        priority: Priority,
        who: Who,
    ) -> Result<(), RuleError> {
        let g = *self.group_index.get(group).ok_or_else(|| RuleError::UnknownGroup(group.clone()))?;
        if self.sessions.contains_key(&session) {
            return Err(RuleError::SessionExists(session));
        }
        if !self.takes_new_customers(g) {
            return Err(RuleError::GroupClosed {
                group: group.clone(),
                opens_at: self.groups[g as usize].hours.next_change,
            });
        }
        if self.groups[g as usize].queue.len() >= self.groups[g as usize].max_queue {
            return Err(RuleError::QueueFull(group.clone()));
        }
        self.sessions.insert(
            session,
            Session {
                id: session,
                group: g,
                priority,
                customer_name: who.customer_name,
                customer_id: who.customer_id,
                // Replaced by `enqueue` at once.
                phase: Phase::Closed { reason: CloseReason::CustomerLeft, agent: None, can_rate: false, rated: false },
                history: VecDeque::new(),
                history_bytes: 0,
                notes: Vec::new(),
                unanswered_since: None,
                reply_clock_since: None,
                warned: false,
                reply_timer: None,
                last_agent_reply: None,
                idle_timer: None,
                grace_timer: None,
                forget_timer: None,
                consent: None,
                resolve_asked: false,
                resolve_confirmed: false,
                transfers: Vec::new(),
                excluded_agent: None,
                complaint: None,
            },
        );
        self.enqueue(session, false, QueueReason::Joined);
        Ok(())
    }

    /// The open session, or the error naming why it is not.
    fn open_session(&self, session: SessionId) -> Result<&Session, RuleError> {
        let s = self.session(session)?;
        if s.is_closed() {
            return Err(RuleError::SessionClosed(session));
        }
        Ok(s)
    }

    pub(super) fn check_text(&self, text: &str) -> Result<(), RuleError> {
        if text.trim().is_empty() {
            return Err(RuleError::MessageEmpty);
        }
        let max = self.config.rules.message_max_chars;
        if text.chars().count() > max {
            return Err(RuleError::MessageTooLong { max });
        }
        Ok(())
    }

    pub(super) fn customer_message(&mut self, session: SessionId, text: Arc<str>) -> Result<(), RuleError> {
        self.check_text(&text)?;
        self.open_session(session)?;
        let now = self.now;
        let warning = self.config.rules.reply_warning;
        self.push_history(session, Speaker::Customer, text.clone());
        let s = self.sessions.get_mut(&session).expect("checked open above");
        let agent = s.agent();
        if s.unanswered_since.is_none() {
            s.unanswered_since = Some(now);
            if agent.is_some() {
                s.reply_clock_since = Some(now);
                s.warned = false;
                self.timers.arm(&mut s.reply_timer, now + warning, Timer::Reply(session));
            }
        }
        self.timers.disarm(&mut s.idle_timer);
        let g = s.group;
        let group = self.groups[g as usize].id.clone();
        if let Some(agent) = agent {
            self.notify_agent(agent, AgentNotice::CustomerMessage { session, text: text.clone() });
        }
        self.event(Event::CustomerMessage { session, group: group.clone() });
        for signal in self.complaint_signals(session, &text) {
            self.event(Event::ComplaintTendency { session, group: group.clone(), signal });
            let agent_id = agent.map(|a| self.agents[a as usize].id.clone());
            self.emit(super::Output::ToSupervisors {
                notice: SupervisorNotice::ComplaintTendency { session, group: group.clone(), agent: agent_id, signal },
            });
            self.raise_priority(session, signal);
        }
        Ok(())
    }

    pub(super) fn customer_typing(&mut self, session: SessionId) -> Result<(), RuleError> {
        if let Some(agent) = self.open_session(session)?.agent() {
            self.notify_agent(agent, AgentNotice::CustomerTyping { session });
        }
        Ok(())
    }

    pub(super) fn customer_disconnected(&mut self, session: SessionId) -> Result<(), RuleError> {
        let at = self.now + self.config.rules.customer_grace;
        let s = self.sessions.get_mut(&session).ok_or(RuleError::UnknownSession(session))?;
        // A grace timer running means the customer is already away.
        if s.is_closed() || s.grace_timer.is_some() {
            return Ok(());
        }
        self.timers.arm(&mut s.grace_timer, at, Timer::CustomerGrace(session));
        Ok(())
    }

    pub(super) fn customer_reconnected(&mut self, session: SessionId) -> Result<(), RuleError> {
        let s = self.sessions.get_mut(&session).ok_or(RuleError::UnknownSession(session))?;
        self.timers.disarm(&mut s.grace_timer);
        Ok(())
    }

    pub(super) fn customer_leave(&mut self, session: SessionId) -> Result<(), RuleError> {
        self.open_session(session)?;
        self.close(session, CloseReason::CustomerLeft);
        Ok(())
    }

    pub(super) fn customer_consent(&mut self, session: SessionId, accept: bool) -> Result<(), RuleError> {
        self.open_session(session)?;
        let s = self.session_mut(session);
        let Some(mut consent) = s.consent.take() else { return Err(RuleError::NoConsentPending(session)) };
        self.timers.disarm(&mut consent.timer);
        let outcome = if accept { ConsentOutcome::Accepted } else { ConsentOutcome::Declined };
        self.event(Event::ConsentAnswered { session, outcome });
        self.notify_agent(consent.from, AgentNotice::ConsentOutcome { session, outcome });
        if accept {
            self.execute_transfer(
                session,
                consent.from,
                consent.target,
                consent.to_group,
                consent.note,
                consent.late,
                false,
            );
        }
        Ok(())
    }

    pub(super) fn fire_consent_timeout(&mut self, session: SessionId) {
        let Some(s) = self.sessions.get_mut(&session) else { return };
        let Some(consent) = s.consent.take() else { return };
        let outcome = ConsentOutcome::TimedOut;
        self.event(Event::ConsentAnswered { session, outcome });
        self.notify_agent(consent.from, AgentNotice::ConsentOutcome { session, outcome });
    }

    pub(super) fn customer_confirm_resolved(&mut self, session: SessionId, resolved: bool) -> Result<(), RuleError> {
        let s = self.open_session(session)?;
        let Some(agent) = s.agent() else { return Err(RuleError::SessionNotAssigned(session)) };
        if !s.resolve_asked {
            return Err(RuleError::NoResolveRequest(session));
        }
        let s = self.session_mut(session);
        s.resolve_asked = false;
        s.resolve_confirmed = resolved;
        self.notify_agent(agent, AgentNotice::ResolveAnswer { session, resolved });
        Ok(())
    }

    pub(super) fn customer_rate(&mut self, session: SessionId, rating: Rating) -> Result<(), RuleError> {
        let s = self.session(session)?;
        let Phase::Closed { agent, can_rate, rated, .. } = s.phase else {
            return Err(RuleError::RatingNotOpen(session));
        };
        let Some(agent) = agent.filter(|_| can_rate) else { return Err(RuleError::RatingNotOpen(session)) };
        if rated {
            return Err(RuleError::AlreadyRated(session));
        }
        if let Phase::Closed { rated, .. } = &mut self.session_mut(session).phase {
            *rated = true;
        }
        let record = &mut self.agents[agent as usize].record;
        match rating {
            Rating::Satisfied => record.satisfied += 1,
            Rating::Dissatisfied => record.dissatisfied += 1,
        }
        let agent = self.agents[agent as usize].id.clone();
        self.event(Event::Rated { session, agent, rating });
        Ok(())
    }

    /// The customer has been silent `customer_idle` since the agent's last
    /// reply: the session ends. Re-armed lazily when activity moved it on.
    pub(super) fn fire_customer_idle(&mut self, session: SessionId) {
        let idle = self.config.rules.customer_idle;
        let now = self.now;
        let Some(s) = self.sessions.get_mut(&session) else { return };
        if s.agent().is_none() || s.unanswered_since.is_some() {
            return;
        }
        let Some(last) = s.last_agent_reply else { return };
        if now >= last + idle {
            self.close(session, CloseReason::CustomerIdle);
        } else {
            self.timers.arm(&mut s.idle_timer, last + idle, Timer::CustomerIdle(session));
        }
    }
}
