//! `apply`: the deterministic part, replayed from the log. The same entries
//! at the same times give the same state and the same actions.

use switchboard_protocol::agent::ServerToAgent;
use switchboard_protocol::common::ClockScale;
use switchboard_protocol::customer::ServerToCustomer;
use switchboard_protocol::{close_code, code};
use tracing::{debug, info, warn};

use super::stream::Stream;
use super::{
    ack_frame, convert, error_frame, frame, Action, Command, ConnId, CustomerStream, Entry, Join, Owner, Resumed,
    SessionConfig, SessionLayer,
};
use crate::content::Verdict;
use crate::router::input::{GroupHours, Input};
use crate::router::{AgentId, GroupId, Millis, RuleError, SessionId};

impl SessionLayer {
    /// Applies a logged entry at business time `now`.
    pub fn apply(&mut self, now: Millis, entry: Entry) {
        self.now = now;
        self.ticket_outcome = None;
        match entry {
            Entry::CustomerJoin(join) => {
                self.see_conn(join.conn);
                self.customer_join(join);
            }
            Entry::CustomerResume { conn, session, last_seq } => {
                self.see_conn(conn);
                self.customer_resume(conn, session, last_seq);
            }
            Entry::CustomerCommand { conn, command } | Entry::AgentCommand { conn, command } => {
                self.apply_command(conn, command);
            }
            Entry::AgentOpen { conn, agent, last_seq } => {
                self.see_conn(conn);
                self.agent_open(conn, agent, last_seq);
            }
            Entry::Closed { conn } => self.closed(conn),
            Entry::SlowConsumer { conn } => self.slow_consumer(conn),
            Entry::Tick => {
                self.router.handle_timeout(now);
                self.desk.handle_timeout(self.calendar_instant());
            }
            Entry::Restarted { clock } => self.restarted(clock),
            Entry::Configure { rules, session } => self.configure(*rules, session),
            Entry::Roster { agents } => {
                self.change_roster(&agents);
                self.follow_all_duty();
            }
            Entry::GroupHours { groups } => self.set_group_hours(groups),
            Entry::Ticket(entry) => self.apply_ticket(entry),
            Entry::CheckedReply { conn, command, verdict } => self.apply_checked_reply(conn, command, verdict),
        }
        self.route_outputs();
        self.follow_duty();
        self.route_desk_events();
    }

    fn see_conn(&mut self, conn: ConnId) {
        self.last_conn = self.last_conn.max(conn);
    }

    fn customer_join(&mut self, join: Join) {
        let Join { conn, session, token, group, customer_name, customer_id, priority, time_zone } = join;
        self.next_session = self.next_session.max(session.0 + 1);
        let input = Input::CustomerJoin { session, group: group.clone(), priority, customer_name, customer_id };
        if let Err(e) = self.router.handle(self.now, input) {
            self.actions.push_back(Action::Refused { code: e.code() });
            if let RuleError::GroupClosed { opens_at, .. } = &e {
                // Before the refusal: when the group opens, in the customer's time too.
                let opens_at = opens_at.zip(self.clock_anchor).map(|(at, anchor)| anchor.instant(at.0));
                let closed = convert::group_closed(&self.router, &group, opens_at, time_zone.as_deref());
                self.send(conn, frame(&closed));
            }
            return self.refuse_open(conn, e.code(), &e.to_string());
        }
        self.tokens.insert(token.digest(), session);
        self.customers.insert(session, CustomerStream { stream: Stream::connected_to(conn), token, group });
        self.conns.insert(conn, Owner::Customer(session));
        debug!(conn, session = session.0, "customer joined");
        let welcome = self.customer_welcome(session, Resumed::No, true);
        self.send(conn, frame(&welcome));
    }

    fn customer_resume(&mut self, conn: ConnId, session: SessionId, last_seq: u64) {
        let Some(c) = self.customers.get_mut(&session) else { return };
        let previous = c.stream.conn.replace(conn);
        let complete = c.stream.can_replay_from(last_seq);
        let replay = c.stream.frames_after(last_seq);
        if let Some(old) = previous {
            self.replace(old);
        }
        self.conns.insert(conn, Owner::Customer(session));
        debug!(conn, session = session.0, last_seq, replayed = replay.len(), "customer resumed");
        let welcome = self.customer_welcome(session, Resumed::Yes, complete);
        let frames = std::iter::once(frame(&welcome)).chain(replay).collect();
        self.actions.push_back(Action::SendBatch { conn, frames });
        if previous.is_none() && self.router.session_open(session) == Some(true) {
            if let Err(e) = self.router.handle(self.now, Input::CustomerReconnected { session }) {
                debug!(session = session.0, code = e.code(), "reconnect not applied");
            }
        }
    }

    fn customer_welcome(&self, session: SessionId, resumed: Resumed, replay_complete: bool) -> ServerToCustomer {
        let c = &self.customers[&session];
        ServerToCustomer::Welcome {
            session: session.0,
            token: c.token.as_str().to_owned(),
            group: c.group.to_string(),
            resumed: resumed == Resumed::Yes,
            last_seq: c.stream.seq,
            replay_complete,
            status: self.router.session_status(session).as_ref().map(convert::status_to_wire),
        }
    }

    fn agent_open(&mut self, conn: ConnId, agent: AgentId, last_seq: Option<u64>) {
        let Some(roster) = self.router.roster().find(|a| a.id == agent) else { return };
        let (name, role) = (roster.name.clone().unwrap_or_else(|| agent.to_string()), roster.role);
        let resumed = self.agents.contains_key(&agent);
        let stream = self.agents.entry(agent.clone()).or_default();
        let previous = stream.conn.replace(conn);
        if last_seq.is_none() {
            stream.forget_accepted();
        }
        let last_seq_seen = stream.seq;
        let (complete, replay) = match last_seq {
            Some(last) => (stream.can_replay_from(last), stream.frames_after(last)),
            None => (true, Vec::new()),
        };
        if let Some(old) = previous {
            self.replace(old);
        }
        self.conns.insert(conn, Owner::Agent(agent.clone()));
        info!(conn, agent = %agent, resumed, "agent connected");
        let rules = &self.router.config().rules;
        let (transfer_groups, transfer_agents) = convert::transfer_targets(&self.router, &agent);
        let welcome = ServerToAgent::Welcome {
            agent: agent.to_string(),
            name,
            role: convert::role_to_wire(role),
            resumed,
            last_seq: last_seq_seen,
            replay_complete: complete,
            now_ms: Some(self.now.0),
            scale: Some(ClockScale(self.clock_scale)),
            reply_warning_ms: Some(convert::ms(rules.reply_warning)),
            reply_violation_ms: Some(convert::ms(rules.reply_violation)),
            handoff_note_min_chars: Some(rules.handoff_note_min_chars as u64),
            transfer_groups,
            transfer_agents,
            group_hours: convert::group_hours_to_wire(&self.router, self.clock_anchor, None),
        };
        let frames = std::iter::once(frame(&welcome)).chain(replay).collect();
        self.actions.push_back(Action::SendBatch { conn, frames });
        if let Err(e) = self.router.handle(self.now, Input::AgentConnected { agent: agent.clone() }) {
            warn!(agent = %agent, code = e.code(), "agent connect refused by the router");
            self.refuse_open(conn, e.code(), &e.to_string());
            self.conns.remove(&conn);
            if let Some(s) = self.agents.get_mut(&agent) {
                s.conn = None;
            }
        }
    }

    /// Applies a client's command once: a command the router refuses is
    /// answered with the rule's code; an accepted one is remembered, so that
    /// a retry is acknowledged as a duplicate.
    fn apply_command(&mut self, conn: ConnId, command: Command) {
        let Some(owner) = self.conns.get(&conn).cloned() else { return };
        let Command { id, hash, input } = command;
        match self.router.handle(self.now, input) {
            Ok(()) => {
                let keep = self.config.recent_command_ids;
                if let Some(s) = self.stream_mut(&owner) {
                    s.remember(&id, hash, keep);
                }
                self.send(conn, ack_frame(id.into(), false));
            }
            Err(e) => self.refuse_applied(conn, &id, &e),
        }
    }

    fn refuse_applied(&mut self, conn: ConnId, id: &str, e: &RuleError) {
        self.actions.push_back(Action::Refused { code: e.code() });
        debug!(conn, code = e.code(), "command refused");
        self.send(conn, error_frame(Some(id.into()), e.code(), e.to_string()));
    }

    /// A reply that matched content rules: each rule is a conduct flag (if
    /// the reply could be sent at all: the agent's own open session); then
    /// it is sent, or refused with `content_blocked` naming the rule. A
    /// blocked command is not remembered: a retry is checked again.
    fn apply_checked_reply(&mut self, conn: ConnId, command: Command, verdict: Verdict) {
        if !self.conns.contains_key(&conn) {
            return;
        }
        let Input::AgentReply { agent, session, .. } = &command.input else {
            return self.apply_command(conn, command);
        };
        let flagged = Input::ContentFlagged { agent: agent.clone(), session: Some(*session), rules: verdict.matched };
        if let Err(e) = self.router.handle(self.now, flagged) {
            return self.refuse_applied(conn, &command.id, &e);
        }
        match verdict.blocked_by {
            None => self.apply_command(conn, command),
            Some(rule) => {
                self.actions.push_back(Action::Refused { code: code::CONTENT_BLOCKED });
                let message = crate::content::blocked_message(&rule);
                self.send(conn, error_frame(Some(command.id.into()), code::CONTENT_BLOCKED, message));
            }
        }
    }

    /// The stream (numbering, replay, retry memory) of a connection's owner.
    fn stream_mut(&mut self, owner: &Owner) -> Option<&mut Stream> {
        match owner {
            Owner::Customer(session) => self.customers.get_mut(session).map(|c| &mut c.stream),
            Owner::Agent(agent) => self.agents.get_mut(agent),
        }
    }

    /// The connection's reader ended.
    fn closed(&mut self, conn: ConnId) {
        if let Some(owner) = self.conns.remove(&conn) {
            debug!(conn, "connection closed");
            self.disconnect(conn, owner);
        }
    }

    /// A full outbound queue means a slow reader: cut it off; its owner follows the normal disconnect rules.
    fn slow_consumer(&mut self, conn: ConnId) {
        let Some(owner) = self.conns.remove(&conn) else { return };
        warn!(conn, "slow reader: outbound queue full, disconnecting");
        self.actions.push_back(Action::SlowConsumer);
        self.actions.push_back(Action::Refused { code: code::SLOW_CONSUMER });
        self.actions.push_back(Action::Kill { conn });
        self.disconnect(conn, owner);
    }

    /// Every connection of the previous run is gone: their owners follow the
    /// normal disconnect rules (grace periods, resume).
    fn restarted(&mut self, clock: switchboard_calendar::ClockAnchor) {
        self.clock_anchor = Some(clock);
        let mut gone: Vec<(ConnId, Owner)> = self.conns.drain().collect();
        // In connection order: the router sees the same sequence on every replay.
        gone.sort_unstable_by_key(|(conn, _)| *conn);
        info!(connections = gone.len(), "previous connections gone: waiting for clients to resume");
        for (conn, owner) in gone {
            self.disconnect(conn, owner);
        }
    }

    /// The rules were validated with the config they came in; a log whose
    /// rules no longer validate (written by another release) keeps the old ones.
    fn configure(&mut self, rules: crate::router::Rules, session: SessionConfig) {
        if let Err(e) = self.router.set_rules(rules) {
            warn!(key = %e.key, problem = %e.problem, "logged rules refused: keeping the rules in force");
        }
        self.config = session;
    }

    fn change_roster(&mut self, agents: &[crate::router::AgentConfig]) {
        match self.router.change_roster(self.now, agents) {
            Ok(change) => {
                self.supervisors = super::supervisors_of(&self.router);
                info!(added = ?change.added, changed = ?change.changed, removed = ?change.removed, "roster changed");
            }
            Err(e) => warn!(key = %e.key, problem = %e.problem, "logged roster refused: keeping the roster in force"),
        }
    }

    /// The groups' new hours go to the router, and every connected agent
    /// and supervisor hears which groups opened or closed.
    fn set_group_hours(&mut self, groups: Vec<(GroupId, GroupHours)>) {
        let changed: Vec<GroupId> = groups.iter().map(|(g, _)| g.clone()).collect();
        if let Err(e) = self.router.handle(self.now, Input::SetGroupHours { groups }) {
            return warn!(code = e.code(), "logged group hours refused: keeping the hours in force");
        }
        let hours = convert::group_hours_to_wire(&self.router, self.clock_anchor, Some(&changed));
        info!(groups = ?hours.iter().map(|h| (&h.id, h.open)).collect::<Vec<_>>(), "group hours changed");
        let message = frame(&ServerToAgent::GroupHours { groups: hours });
        let mut conns: Vec<ConnId> = self.agents.values().filter_map(|s| s.conn).collect();
        // In connection order: a replay produces the same actions.
        conns.sort_unstable();
        for conn in conns {
            self.send(conn, message.clone());
        }
    }

    /// Tells the router that the owner's connection is gone (if it was the current one).
    fn disconnect(&mut self, conn: ConnId, owner: Owner) {
        let now = self.now;
        match owner {
            Owner::Customer(session) => {
                let Some(c) = self.customers.get_mut(&session) else { return };
                if c.stream.conn != Some(conn) {
                    return;
                }
                c.stream.conn = None;
                match self.router.session_open(session) {
                    None => return self.drop_stream_if_gone(session),
                    Some(false) => return,
                    Some(true) => {}
                }
                if let Err(e) = self.router.handle(now, Input::CustomerDisconnected { session }) {
                    debug!(session = session.0, code = e.code(), "customer disconnect not applied");
                }
            }
            Owner::Agent(agent) => {
                let Some(s) = self.agents.get_mut(&agent) else { return };
                if s.conn != Some(conn) {
                    return;
                }
                s.conn = None;
                info!(agent = %agent, "agent disconnected");
                if let Err(e) = self.router.handle(now, Input::AgentDisconnected { agent: agent.clone() }) {
                    debug!(agent = %agent, code = e.code(), "agent disconnect not applied");
                }
            }
        }
    }

    /// A newer connection took over: close the old one without telling the router anything.
    fn replace(&mut self, old: ConnId) {
        if self.conns.remove(&old).is_some() {
            info!(conn = old, "connection replaced by a newer one");
            let last = error_frame(None, code::REPLACED, "a newer connection took over");
            let (code, reason) = (close_code::POLICY_VIOLATION, code::REPLACED);
            self.actions.push_back(Action::Close { conn: old, last, code, reason });
        }
    }

    /// Drops a customer's stream (replay buffer, resume token) once the router
    /// has forgotten its session and the customer is no longer connected:
    /// called when the router forgets it and when the customer disconnects.
    pub(super) fn drop_stream_if_gone(&mut self, session: SessionId) {
        let connected = self.customers.get(&session).is_some_and(|c| c.stream.conn.is_some());
        if connected || self.router.session_open(session).is_some() {
            return;
        }
        if let Some(c) = self.customers.remove(&session) {
            self.tokens.remove(&c.token.digest());
        }
    }
}
