//! Conduct flags: prohibited operations, recorded against the agent, told to
//! the agent and to supervisors, and kept in the agent's record.

use std::sync::Arc;

use super::error::RuleError;
use super::ids::{AgentId, SessionId};
use super::input::{AgentCloseReason, TransferTarget};
use super::output::{AgentNotice, ConductFlag, ConductKind, Event, SupervisorNotice};
use super::snapshot::AgentRecord;
use super::state::{AgentIdx, GroupIdx, Phase, Presence, Session};
use super::timers::Timer;
use super::{Output, Router};

impl Router {
    pub(super) fn flag(&mut self, agent: AgentIdx, session: Option<SessionId>, kind: ConductKind) {
        self.raise(agent, session, kind, None);
    }

    /// Flags an agent's text that matched content rules (checked by the
    /// server before logging): one flag per rule. With a session, only its
    /// owner may be flagged, as only its owner may reply; without one (a
    /// ticket reply), any agent of the roster.
    pub(super) fn content_flagged(
        &mut self,
        agent: &AgentId,
        session: Option<SessionId>,
        rules: Vec<Arc<str>>,
    ) -> Result<(), RuleError> {
        let a = match session {
            Some(session) => self.owned(agent, session)?,
            None => self.agent_idx(agent)?,
        };
        for rule in rules {
            self.raise(a, session, ConductKind::ContentRule, Some(rule));
        }
        Ok(())
    }

    fn raise(&mut self, agent: AgentIdx, session: Option<SessionId>, kind: ConductKind, rule: Option<Arc<str>>) {
        let flag = ConductFlag { agent: self.agents[agent as usize].id.clone(), session, kind, at: self.now, rule };
        let record = &mut self.agents[agent as usize].record;
        *record.flag_counts.entry(kind.label().to_string()).or_default() += 1;
        if record.recent_flags.len() == AgentRecord::RECENT_FLAGS {
            record.recent_flags.remove(0);
        }
        record.recent_flags.push(flag.clone());
        self.notify_agent(agent, AgentNotice::ConductFlagged { flag: flag.clone() });
        self.emit(Output::ToSupervisors { notice: SupervisorNotice::ConductFlagged { flag: flag.clone() } });
        self.event(Event::ConductFlagged { flag });
    }

    /// Which malicious-transfer rules a transfer breaks.
    pub(super) fn transfer_flags(
        &self,
        session: SessionId,
        from: AgentIdx,
        target: &TransferTarget,
        late: bool,
        without_consent: bool,
    ) -> Vec<ConductKind> {
        let s = &self.sessions[&session];
        let rules = &self.config.rules.transfers;
        let mut kinds = Vec::new();
        if without_consent {
            kinds.push(ConductKind::TransferWithoutConsent);
        }
        // Ping-pong: straight back to where the session just came from.
        if let Some(last) = s.transfers.last() {
            let back = match target {
                TransferTarget::Agent(id) => self.agents[last.from as usize].id == *id,
                TransferTarget::Group(id) => {
                    self.groups[last.from_group as usize].id == *id && last.from_group != s.group
                }
            };
            if back && self.now.since(last.at) <= rules.ping_pong_window && last.from != from {
                kinds.push(ConductKind::TransferPingPong);
            }
        }
        if late {
            kinds.push(ConductKind::TransferDumpingLateSession);
        }
        if s.transfers.len() as u32 + 1 > rules.max_per_session {
            kinds.push(ConductKind::TransferTooMany);
        }
        kinds
    }

    /// Has the customer's message waited past the warning (a transfer now
    /// would dump a session about to breach)?
    pub(super) fn reply_is_late(&self, session: SessionId) -> bool {
        let s = &self.sessions[&session];
        s.reply_clock_since.is_some_and(|since| self.now.since(since) >= self.config.rules.reply_warning)
    }

    /// Which abusive-break rules a break requested now breaks.
    pub(super) fn break_flags(&self, agent: AgentIdx) -> Vec<ConductKind> {
        let rules = &self.config.rules.breaks;
        let a = &self.agents[agent as usize];
        let mut kinds = Vec::new();
        let customers_wait =
            a.memberships.iter().any(|&(g, _)| self.oldest_wait(g).is_some_and(|waited| waited >= rules.blocked_wait));
        if customers_wait {
            kinds.push(ConductKind::BreakWhileCustomersWait);
        }
        if a.last_assigned_at.is_some_and(|at| self.now.since(at) <= rules.after_assignment) {
            kinds.push(ConductKind::BreakAfterAssignment);
        }
        if a.shift.breaks + 1 > rules.max_per_shift {
            kinds.push(ConductKind::BreakTooMany);
        }
        kinds
    }

    /// Starts the timer that flags a break running past the shift's allowance.
    pub(super) fn arm_break_allowance(&mut self, agent: AgentIdx) {
        let allowance = self.config.rules.breaks.max_total_per_shift;
        let a = &mut self.agents[agent as usize];
        if a.shift.break_too_long_flagged {
            return;
        }
        let left = allowance.saturating_sub(std::time::Duration::from_millis(a.shift.break_time_ms));
        self.timers.arm(&mut a.break_timer, self.now + left, Timer::BreakAllowance(agent));
    }

    pub(super) fn fire_break_allowance(&mut self, agent: AgentIdx) {
        let a = &mut self.agents[agent as usize];
        if matches!(a.presence, Presence::OnBreak { .. }) && !a.shift.break_too_long_flagged {
            a.shift.break_too_long_flagged = true;
            self.flag(agent, None, ConductKind::BreakTooLong);
        }
    }

    /// Records that a grace expiry moved an agent's sessions to others, and
    /// flags the agent when it keeps happening.
    pub(super) fn note_shedding(&mut self, agent: AgentIdx) {
        let rules = &self.config.rules.shedding;
        let (window, max) = (rules.window, rules.max_sheds as usize);
        let now = self.now;
        let a = &mut self.agents[agent as usize];
        a.sheds.push_back(now);
        while a.sheds.front().is_some_and(|&t| now.since(t) > window) {
            a.sheds.pop_front();
        }
        if a.sheds.len() >= max {
            a.sheds.clear();
            self.flag(agent, None, ConductKind::DisconnectShedding);
        }
    }

    /// Which agent-close rule closing `session` now for `reason` breaks, if
    /// any. The handbook forbids closing without cause: a message left
    /// unanswered always counts; `resolved` and `other` name no cause the
    /// router can see, so they need the customer's confirmation;
    /// `customer_unresponsive` needs the customer really silent; `duplicate`
    /// and `abusive` are causes (supervisors are told, see [`Self::report_close`]).
    pub(super) fn close_flag(&self, session: SessionId, reason: AgentCloseReason) -> Option<ConductKind> {
        let s = &self.sessions[&session];
        if s.unanswered_since.is_some() {
            return Some(ConductKind::CloseUnanswered);
        }
        match reason {
            AgentCloseReason::Resolved if !s.resolve_confirmed => Some(ConductKind::CloseUnconfirmed),
            AgentCloseReason::Other if !s.resolve_confirmed => Some(ConductKind::CloseWithoutCause),
            AgentCloseReason::CustomerUnresponsive if !self.customer_silent(s) => {
                Some(ConductKind::CloseUnresponsiveTooSoon)
            }
            _ => None,
        }
    }

    /// Has the customer been silent `rules.closes.unresponsive_after` since
    /// the current agent's last message? (An agent who never wrote has asked
    /// the customer nothing to be unresponsive to.) Called with no message
    /// unanswered, so the customer has written nothing since that message.
    fn customer_silent(&self, s: &Session) -> bool {
        let Phase::Assigned { since: assigned, .. } = s.phase else { return false };
        let after = self.config.rules.closes.unresponsive_after;
        s.last_agent_reply.is_some_and(|at| at >= assigned && self.now.since(at) >= after)
    }

    /// Tells supervisors of a close for a cause the router cannot check, so
    /// that someone can: it is no flag, and no longer visible anywhere else.
    pub(super) fn report_close(&mut self, agent: AgentIdx, session: SessionId, reason: AgentCloseReason) {
        if !matches!(reason, AgentCloseReason::Duplicate | AgentCloseReason::Abusive) {
            return;
        }
        let agent = self.agents[agent as usize].id.clone();
        let group = self.groups[self.sessions[&session].group as usize].id.clone();
        self.emit(Output::ToSupervisors {
            notice: SupervisorNotice::ClosedWithCause { agent, session, group, reason },
        });
    }

    /// The home group of an agent: where a transfer to them lands when they
    /// are not in the session's group.
    pub(super) fn home_group(&self, agent: AgentIdx) -> Option<GroupIdx> {
        self.agents[agent as usize].memberships.first().map(|(g, _)| *g)
    }
}

impl ConductKind {
    /// The config keys (their paths under the server's `router.`) whose
    /// numbers decide this flag; `docs/domain.md` names them beside the kind,
    /// and a test holds it to that.
    pub fn rule_keys(self) -> &'static [&'static str] {
        use ConductKind::*;
        match self {
            TransferWithoutConsent | CloseUnanswered | CloseUnconfirmed | CloseWithoutCause => &[],
            TransferPingPong => &["rules.transfers.ping_pong_window"],
            TransferDumpingLateSession => &["rules.reply_warning"],
            TransferTooMany => &["rules.transfers.max_per_session"],
            BreakWhileCustomersWait => &["rules.breaks.blocked_wait"],
            BreakAfterAssignment => &["rules.breaks.after_assignment"],
            BreakTooMany => &["rules.breaks.max_per_shift"],
            BreakTooLong => &["rules.breaks.max_total_per_shift"],
            CloseUnresponsiveTooSoon => &["rules.closes.unresponsive_after"],
            DisconnectShedding => &["rules.agent_grace", "rules.shedding.window", "rules.shedding.max_sheds"],
            // Server config, not the router's: `content.rules` (docs/content-rules.md).
            ContentRule => &[],
        }
    }
}
