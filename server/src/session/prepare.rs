//! `prepare`: what a request needs before it can be logged. Answers what
//! changes nothing (pings, retries, refusals, a supervisor's snapshot) and
//! turns the rest into an [`Entry`], deciding everything that is not
//! deterministic (a new session's number and resume token).

use std::sync::Arc;

use switchboard_protocol::agent::AgentCommand;
use switchboard_protocol::customer::CustomerCommand;
use switchboard_protocol::{close_code, code};
use tracing::debug;

use super::{
    ack_frame, convert, error_frame, frame, stable_hash, Action, Command, ConnId, CustomerIdentity, CustomerOpen,
    Entry, Join, Owner, Request, SessionLayer, Token, TokenDigest,
};
use crate::router::input::Input;
use crate::router::{AgentId, GroupId, Millis, RuleError, SessionId};

/// Longest customer name kept (longer names are cut).
const MAX_NAME_CHARS: usize = 100;

impl SessionLayer {
    /// Answers a request that changes no state (its actions are queued) or
    /// returns the entry to log and [`SessionLayer::apply`].
    pub fn prepare(&mut self, now: Millis, request: Request) -> Option<Entry> {
        match request {
            Request::CustomerOpen { conn, open } => self.prepare_customer_open(conn, open),
            Request::CustomerCommand { conn, command } => self.prepare_customer_command(conn, command),
            Request::AgentOpen { conn, agent, last_seq } => self.prepare_agent_open(conn, agent, last_seq),
            Request::AgentCommand { conn, command } => self.prepare_agent_command(now, conn, command),
            Request::FrameError { conn, id, code, message } => {
                self.answer(conn, error_frame(id, code, message));
                None
            }
            Request::Closed { conn } => self.conns.contains_key(&conn).then_some(Entry::Closed { conn }),
            Request::SlowConsumer { conn } => self.conns.contains_key(&conn).then_some(Entry::SlowConsumer { conn }),
        }
    }

    /// Refuses what an entry asked for instead of applying it, with `code`;
    /// hands the entry back if it cannot be refused (a connection that
    /// closed, timers, a restart: those happen whatever the log does).
    pub fn refuse_entry(&mut self, entry: Entry, error_code: &'static str, message: &str) -> Option<Entry> {
        match entry {
            Entry::CustomerJoin(Join { conn, .. })
            | Entry::CustomerResume { conn, .. }
            | Entry::AgentOpen { conn, .. } => {
                self.actions.push_back(Action::Refused { code: error_code });
                let last = error_frame(None, error_code, message);
                let code = close_code::TRY_AGAIN_LATER;
                self.actions.push_back(Action::Close { conn, last, code, reason: error_code });
                None
            }
            Entry::CustomerCommand { conn, command }
            | Entry::AgentCommand { conn, command }
            | Entry::CheckedReply { conn, command, .. } => {
                self.refuse_command(conn, &command.id, error_code, message);
                None
            }
            entry @ (Entry::Closed { .. }
            | Entry::SlowConsumer { .. }
            | Entry::Tick
            | Entry::Restarted { .. }
            | Entry::Configure { .. }
            | Entry::Roster { .. }
            | Entry::GroupHours { .. }) => Some(entry),
            // Refused whole: the driver answers the caller (no outcome is recorded).
            Entry::Ticket(_) => None,
        }
    }

    fn refuse_command(&mut self, conn: ConnId, id: &str, error_code: &'static str, message: &str) {
        self.actions.push_back(Action::Refused { code: error_code });
        self.send(conn, error_frame(Some(id.to_owned()), error_code, message));
    }

    fn prepare_customer_open(&mut self, conn: ConnId, open: CustomerOpen) -> Option<Entry> {
        match open {
            CustomerOpen::New { group, name, priority, identity, time_zone } => {
                let Some(group) = group.filter(|g| !g.is_empty()) else {
                    self.refuse_open(conn, code::MISSING_GROUP, "give the skill group: /v1/ws/customer?group=...");
                    return None;
                };
                let customer_id = match identity {
                    CustomerIdentity::Anonymous => None,
                    CustomerIdentity::Verified(id) => Some(id),
                    CustomerIdentity::Invalid(why) => {
                        return self.refuse_join(
                            conn,
                            code::IDENTITY_INVALID,
                            &format!("customer identity refused: {why}"),
                        );
                    }
                };
                let priority = match priority {
                    Ok(priority) => priority,
                    Err(why) => {
                        return self.refuse_join(
                            conn,
                            code::PRIORITY_INVALID,
                            &format!("customer priority refused: {why}"),
                        );
                    }
                };
                let time_zone = match checked_time_zone(time_zone) {
                    Ok(zone) => zone,
                    Err(message) => return self.refuse_join(conn, code::TIME_ZONE_INVALID, &message),
                };
                let customer_name = name
                    .map(|n| n.trim().chars().take(MAX_NAME_CHARS).collect::<String>())
                    .filter(|n| !n.is_empty())
                    .map(|n| Arc::from(n.as_str()));
                let (group, session, token) = (GroupId::new(&group), SessionId(self.next_session), Token::mint());
                let join = Join { conn, session, token, group, customer_name, customer_id, priority, time_zone };
                Some(Entry::CustomerJoin(join))
            }
            CustomerOpen::Resume { token, last_seq } => match self.session_for_token(&token) {
                Some(session) => Some(Entry::CustomerResume { conn, session, last_seq }),
                None => {
                    self.refuse_open(conn, code::INVALID_TOKEN, "unknown resume token, or the session is gone");
                    None
                }
            },
        }
    }

    /// The session a presented resume token opens: found by digest, then
    /// confirmed by a constant-time comparison (see `SessionLayer::tokens`).
    pub(crate) fn session_for_token(&self, presented: &str) -> Option<SessionId> {
        let session = *self.tokens.get(&TokenDigest::of(presented))?;
        self.customers.get(&session)?.token.matches(presented).then_some(session)
    }

    fn prepare_customer_command(&mut self, conn: ConnId, command: CustomerCommand) -> Option<Entry> {
        let Some(&Owner::Customer(session)) = self.conns.get(&conn) else { return None };
        let stream = &self.customers.get(&session)?.stream;
        let (id, hash) = (command.id(), stable_hash(&command));
        let Some(input) = convert::customer_input(session, &command) else {
            // A ping changes nothing: acknowledged, not remembered.
            self.answer(conn, ack_frame(id.to_owned(), false));
            return None;
        };
        if stream.was_accepted(id, hash) {
            self.send(conn, ack_frame(id.to_owned(), true));
            return None;
        }
        Some(Entry::CustomerCommand { conn, command: Command { id: id.into(), hash, input } })
    }

    fn prepare_agent_open(&mut self, conn: ConnId, agent: Option<String>, last_seq: Option<u64>) -> Option<Entry> {
        let Some(agent) = agent.filter(|a| !a.is_empty()) else {
            self.refuse_open(conn, code::MISSING_AGENT, "give the agent id: /v1/ws/agent?agent=...");
            return None;
        };
        let agent = AgentId::new(&agent);
        if !self.router.on_roster(&agent) {
            self.refuse_open(conn, RuleError::UnknownAgent(agent).code(), "no such agent in the roster");
            return None;
        }
        Some(Entry::AgentOpen { conn, agent, last_seq })
    }

    fn prepare_agent_command(&mut self, now: Millis, conn: ConnId, command: AgentCommand) -> Option<Entry> {
        let Some(Owner::Agent(agent)) = self.conns.get(&conn) else { return None };
        let agent = agent.clone();
        let (id, hash) = (command.id(), stable_hash(&command));
        if let AgentCommand::Snapshot { .. } = command {
            self.supervisor_snapshot(now, conn, &agent, id.to_owned());
            return None;
        }
        if let AgentCommand::Token { .. } = command {
            // The gateway checks tokens and passes a `ping` on in their place:
            // authentication stays out of the session layer and its log.
            self.refuse_command(conn, id, code::INTERNAL, "tokens are checked by the gateway");
            return None;
        }
        let Some(input) = convert::agent_input(&agent, &command) else {
            self.answer(conn, ack_frame(id.to_owned(), false));
            return None;
        };
        if self.agents.get(&agent).is_some_and(|s| s.was_accepted(id, hash)) {
            self.send(conn, ack_frame(id.to_owned(), true));
            return None;
        }
        let command = Command { id: id.into(), hash, input };
        match &command.input {
            Input::AgentReply { text, .. } => {
                let verdict = self.content.check(text);
                if verdict.is_clean() {
                    Some(Entry::AgentCommand { conn, command })
                } else {
                    Some(Entry::CheckedReply { conn, command, verdict })
                }
            }
            _ => Some(Entry::AgentCommand { conn, command }),
        }
    }

    /// A supervisor's `snapshot`: the answer, then the ack. Read-only, so never remembered as a retry.
    fn supervisor_snapshot(&mut self, now: Millis, conn: ConnId, agent: &AgentId, id: String) {
        if !self.supervisors.contains(agent) {
            self.actions.push_back(Action::Refused { code: code::SUPERVISORS_ONLY });
            let message = "the snapshot is for supervisors";
            return self.send(conn, error_frame(Some(id), code::SUPERVISORS_ONLY, message));
        }
        let snapshot =
            convert::snapshot_to_wire(id.clone(), &self.router, now.max(self.router.now()), self.clock_anchor);
        self.send(conn, frame(&snapshot));
        self.send(conn, ack_frame(id, false));
    }

    /// Refuses a connection: an error frame, then close 1008 with the code as reason.
    /// Refuses a join whose claims (identity, priority) do not hold, counting the refusal.
    fn refuse_join(&mut self, conn: ConnId, error_code: &'static str, message: &str) -> Option<Entry> {
        self.actions.push_back(Action::Refused { code: error_code });
        self.refuse_open(conn, error_code, message);
        None
    }

    pub(super) fn refuse_open(&mut self, conn: ConnId, error_code: &'static str, message: &str) {
        debug!(conn, code = error_code, "connection refused");
        self.actions.push_back(Action::Close {
            conn,
            last: error_frame(None, error_code, message),
            code: close_code::POLICY_VIOLATION,
            reason: error_code,
        });
    }
}

/// Longest time zone name taken (the IANA names are far shorter).
const MAX_TIME_ZONE_CHARS: usize = 64;

/// The customer's time zone if it is one this server knows (an empty one is
/// no time zone); else why not, for the customer's `error`.
fn checked_time_zone(zone: Option<String>) -> Result<Option<Box<str>>, String> {
    let Some(zone) = zone.map(|z| z.trim().to_owned()).filter(|z| !z.is_empty()) else { return Ok(None) };
    if zone.chars().count() > MAX_TIME_ZONE_CHARS || switchboard_calendar::time_zone(&zone).is_err() {
        let shown: String = zone.chars().take(MAX_TIME_ZONE_CHARS).collect();
        return Err(format!("`{shown}` is not an IANA time zone name (such as \"Europe/Berlin\")"));
    }
    Ok(Some(zone.into()))
}
