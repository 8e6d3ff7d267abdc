//! The ticket desk: the ticket lifecycle core (`switchboard-tickets`) with
//! what the server keeps beside it per ticket: its messages, the
//! customer's token digest and name, handoff notes, the expected
//! resolution time; and the recent breaches. Owned by the session layer,
//! sans-IO and deterministic like it: every change is a logged
//! [`TicketEntry`], applied at the calendar instant of its business time,
//! and the whole desk is part of the snapshot. Model and API:
//! docs/tickets.md.
//!
//! Files: `entry.rs` (what the log holds), `view.rs` (the JSON the HTTP
//! API answers with), `http.rs` (the endpoints).

pub mod entry;
pub mod http;
pub mod requests;
pub mod view;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use switchboard_calendar::{Calendar, ClockAnchor};
use switchboard_tickets::{
    self as lifecycle, Actor, BreachKind, Input, Origin, Output, Priority, Reminder, SavedTickets, TicketError,
    TicketId, TicketState, Tickets,
};

use crate::config::TicketsConfig;
use crate::router::output::{ComplaintSignal, SessionView, Speaker};
use crate::router::{AgentId, GroupId, Millis, Router, SessionId};
use crate::session::TokenDigest;
pub use entry::{AgentReply, FromChat, LeftBecause, NewTicket, TicketEntry};

/// Breaches kept for `GET /v1/tickets/breaches` (the oldest go first).
const RECENT_BREACHES: usize = 1000;

/// Who wrote a ticket message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Author {
    Customer,
    Agent(AgentId),
    /// The desk itself: reminders, and what the waits decided.
    System,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketMessage {
    pub from: Author,
    pub text: String,
    /// Calendar time, unix milliseconds.
    pub at: i64,
}

/// A handoff note: on a transfer (`to` set), or when a chat became the ticket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub from: AgentId,
    pub to: Option<AgentId>,
    pub text: String,
    pub at: i64,
}

/// What the desk keeps per ticket beside the core's record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketFile {
    /// The digest of the customer's ticket token.
    pub customer: Option<TokenDigest>,
    pub customer_name: Option<String>,
    pub messages: VecDeque<TicketMessage>,
    pub notes: Vec<Note>,
    pub expected_resolution: Option<i64>,
    /// The chat it was made from.
    pub session: Option<SessionId>,
    /// When it became done (calendar unix ms): forgotten `tickets.keep_done` later.
    pub done_at: Option<i64>,
    /// The complaint-tendency signals the customer's messages raised (each once).
    pub signals: Vec<ComplaintSignal>,
    /// Limits that passed unkept and are still owed, with their deadline
    /// (calendar unix ms): the core forgets a deadline once it fires, but
    /// the agent still owes the answer, and the ticket is the most urgent.
    pub overdue: Vec<(BreachKind, i64)>,
}

/// A limit not kept, as supervisors see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Breach {
    pub ticket: TicketId,
    pub group: GroupId,
    pub kind: BreachKind,
    pub agent: Option<AgentId>,
    /// The deadline that passed, calendar unix ms.
    pub deadline: i64,
}

/// What the session layer hears from the desk (metrics, alerts, records).
#[derive(Clone, Debug, PartialEq)]
pub enum DeskEvent {
    Created {
        ticket: TicketId,
        group: GroupId,
        origin: &'static str,
        at: i64,
    },
    Breach(Breach),
    /// A customer's message showed a complaint tendency: the ticket became urgent.
    ComplaintTendency {
        ticket: TicketId,
        group: GroupId,
        /// The owner then (none while it waits for one).
        agent: Option<AgentId>,
        signal: ComplaintSignal,
        at: i64,
    },
    /// Anything else that happened to a ticket (for the records store).
    Happened(Fact),
    /// A ticket became done: what the records store keeps of it.
    Done(Box<DoneTicket>),
}

/// Something that happened to a ticket: `assigned`, `waiting`,
/// `transferred` or `state_changed`, with its fields.
#[derive(Clone, Debug, PartialEq)]
pub struct Fact {
    pub ticket: TicketId,
    pub group: GroupId,
    pub kind: &'static str,
    pub agent: Option<AgentId>,
    /// Calendar unix ms.
    pub at: i64,
    pub detail: serde_json::Value,
}

/// A done ticket as it ended.
#[derive(Clone, Debug, PartialEq)]
pub struct DoneTicket {
    pub ticket: lifecycle::Ticket,
    pub file: TicketFile,
    /// When it became done, calendar unix ms.
    pub at: i64,
}

/// A refused ticket request: a stable code and a sentence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TicketRefusal {
    pub code: &'static str,
    pub message: String,
}

impl TicketRefusal {
    pub fn new(code: &'static str, message: impl Into<String>) -> TicketRefusal {
        TicketRefusal { code, message: message.into() }
    }
}

impl From<TicketError> for TicketRefusal {
    fn from(e: TicketError) -> TicketRefusal {
        TicketRefusal::new(e.code(), e.to_string())
    }
}

/// Codes of the desk (the core's are `TicketError::CODES`); docs/tickets.md lists them all.
pub mod desk_code {
    pub const BAD_TEXT: &str = "bad_text";
    pub const TICKET_FULL: &str = "ticket_messages_full";
    pub const SESSION_UNKNOWN: &str = "session_unknown";
    pub const CHAT_NOT_YOURS: &str = "chat_not_yours";
    pub const NOTE_TOO_LONG: &str = "handoff_note_too_long";
    pub const REPLY_FIRST: &str = "ticket_reply_first";
}

/// See the module docs.
#[derive(Clone, Debug)]
pub struct TicketDesk {
    core: Tickets,
    config: TicketsConfig,
    next_id: u64,
    files: BTreeMap<TicketId, TicketFile>,
    /// Token digest -> ticket (rebuilt from `files` on restore).
    tokens: HashMap<TokenDigest, TicketId>,
    /// Agents the desk counts as taking tickets (see [`TicketDesk::set_on_duty`]).
    on_duty: BTreeMap<AgentId, Vec<GroupId>>,
    breaches: VecDeque<Breach>,
    events: VecDeque<DeskEvent>,
    /// Done tickets by when they became done, to forget them in that order
    /// (rebuilt from `files` on restore).
    done: BTreeSet<(i64, TicketId)>,
}

/// The desk in a snapshot (the calendar is config: passed back in).
#[derive(Debug, Serialize, Deserialize)]
pub struct SavedDesk {
    core: SavedTickets,
    config: TicketsConfig,
    next_id: u64,
    files: BTreeMap<TicketId, TicketFile>,
    on_duty: BTreeMap<AgentId, Vec<GroupId>>,
    breaches: VecDeque<Breach>,
}

/// The calendar placement used before any start was logged (tests that
/// build a layer by hand): business time 0 is the Unix epoch.
pub const NO_ANCHOR: ClockAnchor = ClockAnchor { business_ms: 0, unix_ms: 0 };

impl TicketDesk {
    /// An empty desk for the router's groups, every group always open
    /// until [`TicketDesk::set_calendar`] gives the real calendar.
    pub fn new(router: &Router) -> TicketDesk {
        let calendar = Calendar::new(jiff::tz::TimeZone::UTC, Default::default());
        let groups = router.config().groups.iter().map(|g| lifecycle::GroupId(g.id.to_string()));
        let config = TicketsConfig::default();
        let core = Tickets::new(config.rules.clone(), calendar, groups).expect("the default rules are valid");
        TicketDesk {
            core,
            config,
            next_id: 1,
            files: BTreeMap::new(),
            tokens: HashMap::new(),
            on_duty: BTreeMap::new(),
            breaches: VecDeque::new(),
            events: VecDeque::new(),
            done: BTreeSet::new(),
        }
    }

    /// Working time from now on follows `calendar` (deadlines already
    /// running keep their instants). Configuration, so not logged: set it
    /// before replaying.
    pub fn set_calendar(&mut self, calendar: Calendar) {
        let saved = self.core.save();
        self.core = Tickets::restore(saved, calendar).expect("rules already validated");
    }

    pub fn save(&self) -> SavedDesk {
        SavedDesk {
            core: self.core.save(),
            config: self.config.clone(),
            next_id: self.next_id,
            files: self.files.clone(),
            on_duty: self.on_duty.clone(),
            breaches: self.breaches.clone(),
        }
    }

    pub fn restore(saved: SavedDesk) -> Result<TicketDesk, String> {
        let calendar = Calendar::new(jiff::tz::TimeZone::UTC, Default::default());
        let core = Tickets::restore(saved.core, calendar).map_err(|e| format!("the ticket desk: {e}"))?;
        let tokens = saved.files.iter().filter_map(|(id, f)| f.customer.map(|digest| (digest, *id))).collect();
        let done = saved.files.iter().filter_map(|(id, f)| f.done_at.map(|at| (at, *id))).collect();
        Ok(TicketDesk {
            core,
            config: saved.config,
            next_id: saved.next_id,
            files: saved.files,
            tokens,
            on_duty: saved.on_duty,
            breaches: saved.breaches,
            events: VecDeque::new(),
            done,
        })
    }

    pub fn config(&self) -> &TicketsConfig {
        &self.config
    }

    pub fn ticket(&self, id: TicketId) -> Option<(&lifecycle::Ticket, &TicketFile)> {
        Some((self.core.ticket(id)?, self.files.get(&id)?))
    }

    /// Every ticket with its file, by id.
    pub fn tickets(&self) -> impl Iterator<Item = (&lifecycle::Ticket, &TicketFile)> {
        self.core.tickets().filter_map(|t| Some((t, self.files.get(&t.id)?)))
    }

    /// The ticket a customer's token opens.
    pub fn ticket_of(&self, token: &TokenDigest) -> Option<TicketId> {
        self.tokens.get(token).copied()
    }

    pub fn breaches(&self) -> impl Iterator<Item = &Breach> {
        self.breaches.iter()
    }

    pub fn poll_event(&mut self) -> Option<DeskEvent> {
        self.events.pop_front()
    }

    /// The next deadline (or the next done ticket to forget), in business time.
    pub fn poll_timeout(&self, clock: ClockAnchor) -> Option<Millis> {
        let keep = i64::try_from(self.config.keep_done.as_millis()).unwrap_or(i64::MAX);
        let forget = self.done.first().map(|(done_at, _)| done_at.saturating_add(keep));
        let forget = forget.and_then(|ms| Timestamp::from_millisecond(ms).ok());
        let next = match (self.core.poll_timeout(), forget) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        next.map(|at| Millis(clock.business_ms(at)))
    }

    /// Fires what is due at `at`.
    pub fn handle_timeout(&mut self, at: Timestamp) {
        self.core.handle_timeout(at);
        self.absorb();
        self.forget_done(at);
    }

    /// Forgets the tickets done `tickets.keep_done` before `at` (the records store keeps them).
    fn forget_done(&mut self, at: Timestamp) {
        let keep = i64::try_from(self.config.keep_done.as_millis()).unwrap_or(i64::MAX);
        let cutoff = at.as_millisecond().saturating_sub(keep);
        while let Some(&(done_at, id)) = self.done.first() {
            if done_at > cutoff {
                break;
            }
            self.done.pop_first();
            self.core.forget(id);
            if let Some(digest) = self.files.remove(&id).and_then(|f| f.customer) {
                self.tokens.remove(&digest);
            }
        }
    }

    /// New limits and capacities; agents on duty take the new capacity.
    pub fn configure(&mut self, at: Timestamp, config: TicketsConfig) {
        if let Err(e) = self.core.set_rules(config.rules.clone()) {
            tracing::warn!(key = e.key, reason = e.reason, "logged ticket rules refused: keeping the rules in force");
            return;
        }
        self.config = config;
        for (agent, groups) in self.on_duty.clone() {
            self.take_tickets(at, &agent, groups);
        }
        self.absorb();
    }

    /// Follows the router: an agent on duty takes tickets of `groups`; one
    /// who is not gives theirs back to the group.
    pub fn set_on_duty(&mut self, at: Timestamp, agent: &AgentId, duty: Option<Vec<GroupId>>) {
        match duty {
            Some(groups) => {
                if self.on_duty.get(agent) == Some(&groups) {
                    return;
                }
                self.take_tickets(at, agent, groups.clone());
                self.on_duty.insert(agent.clone(), groups);
            }
            None => {
                if self.on_duty.remove(agent).is_none() {
                    return;
                }
                let input = Input::AgentAway { agent: lifecycle::AgentId(agent.to_string()) };
                if let Err(e) = self.core.handle(at, input) {
                    tracing::debug!(agent = %agent, code = e.code(), "agent away not applied");
                }
            }
        }
        self.absorb();
    }

    /// The agents the desk counts as taking tickets.
    pub fn on_duty(&self) -> impl Iterator<Item = &AgentId> {
        self.on_duty.keys()
    }

    fn take_tickets(&mut self, at: Timestamp, agent: &AgentId, groups: Vec<GroupId>) {
        let input = Input::AgentAvailable {
            agent: lifecycle::AgentId(agent.to_string()),
            groups: groups.iter().map(|g| lifecycle::GroupId(g.to_string())).collect(),
            ticket_capacity: self.config.capacity_of(agent.as_str()) as usize,
        };
        if let Err(e) = self.core.handle(at, input) {
            tracing::warn!(agent = %agent, code = e.code(), "agent not taking tickets");
        }
    }

    /// Applies a logged entry at calendar instant `at`; `Ok` names the
    /// ticket it concerned. A refusal changes nothing.
    pub fn apply(
        &mut self,
        at: Timestamp,
        entry: TicketEntry,
        router: &Router,
        clock: ClockAnchor,
    ) -> Result<TicketId, TicketRefusal> {
        let result = self.change(at, entry, router, clock);
        // Refused or not, what the core did meanwhile (deadlines due by `at` fire first) is taken
        // now: outputs left in the core would surface at a later entry, and a snapshot holds none.
        self.absorb();
        self.forget_done(at);
        result
    }

    /// [`TicketDesk::apply`] without taking the core's outputs.
    fn change(
        &mut self,
        at: Timestamp,
        entry: TicketEntry,
        router: &Router,
        clock: ClockAnchor,
    ) -> Result<TicketId, TicketRefusal> {
        let limits = TextLimits::of(router);
        match entry {
            TicketEntry::Configure(config) => {
                self.configure(at, *config);
                // Concerns no ticket: only starts and reloads log it, and they read no outcome.
                Ok(TicketId(0))
            }
            TicketEntry::Create(new) => self.create(at, new, router),
            TicketEntry::FromChat(chat) => self.turn_chat(at, chat, router, clock),
            TicketEntry::CustomerMessage { ticket, text } => {
                limits.check_text(&text)?;
                self.check_room(ticket)?;
                self.core.handle(at, Input::CustomerMessage { ticket })?;
                let signals = self.new_signals(ticket, &text, router);
                self.write(ticket, Author::Customer, text, at);
                self.raise(at, ticket, signals);
                Ok(ticket)
            }
            TicketEntry::CustomerConfirm { ticket } => {
                self.core.handle(at, Input::CustomerConfirm { ticket }).map(|()| ticket).map_err(Into::into)
            }
            TicketEntry::CustomerClose { ticket } => {
                self.core.handle(at, Input::CustomerClose { ticket }).map(|()| ticket).map_err(Into::into)
            }
            TicketEntry::AgentReply { ticket, agent, reply } => self.agent_reply(at, ticket, agent, reply, limits),
            TicketEntry::Transfer { ticket, from, to, note } => {
                limits.check_note(&note)?;
                let (core_from, core_to) = (lifecycle::AgentId(from.to_string()), lifecycle::AgentId(to.to_string()));
                self.core.handle_timeout(at);
                self.core.check_transfer(ticket, &core_from, &core_to, &note)?;
                self.check_answered(ticket)?;
                let input = Input::Transfer { ticket, from: core_from, to: core_to, note: note.clone() };
                self.core.handle(at, input)?;
                let note = Note { from, to: Some(to), text: note, at: at.as_millisecond() };
                self.files.get_mut(&ticket).expect("every ticket has a file").notes.push(note);
                Ok(ticket)
            }
            TicketEntry::SetPriority { ticket, priority } => {
                self.core.handle(at, Input::SetPriority { ticket, priority }).map(|()| ticket).map_err(Into::into)
            }
        }
    }

    fn create(&mut self, at: Timestamp, new: NewTicket, router: &Router) -> Result<TicketId, TicketRefusal> {
        TextLimits::of(router).check_text(&new.text)?;
        let id = TicketId(self.next_id);
        let origin = match new.reason {
            LeftBecause::GroupClosed => Origin::GroupClosed,
            LeftBecause::NobodyAvailable => Origin::NobodyAvailable,
            LeftBecause::CustomerChoice => Origin::CustomerChoice,
        };
        let group = lifecycle::GroupId(new.group.to_string());
        let created = Input::Create { ticket: id, group, origin: origin.clone(), priority: Default::default() };
        self.core.handle(at, created)?;
        self.next_id += 1;
        let file = TicketFile {
            customer: Some(new.customer),
            customer_name: new.customer_name,
            messages: VecDeque::new(),
            notes: Vec::new(),
            expected_resolution: None,
            session: None,
            done_at: None,
            signals: Vec::new(),
            overdue: Vec::new(),
        };
        self.files.insert(id, file);
        self.tokens.insert(new.customer, id);
        let signals = self.new_signals(id, &new.text, router);
        self.write(id, Author::Customer, new.text, at);
        let (group, origin) = (new.group, view::origin_name(&origin));
        self.events.push_back(DeskEvent::Created { ticket: id, group, origin, at: at.as_millisecond() });
        self.raise(at, id, signals);
        Ok(id)
    }

    /// A chat that needs follow-up becomes a ticket of its group, with its
    /// transcript so far (the newest `max_messages - 1` messages: room is
    /// left for the answer) and the agent's note.
    fn turn_chat(
        &mut self,
        at: Timestamp,
        chat: FromChat,
        router: &Router,
        clock: ClockAnchor,
    ) -> Result<TicketId, TicketRefusal> {
        let FromChat { agent, session, note, token } = chat;
        let view = served_chat(router, &agent, session)?;
        TextLimits::of(router).check_note(&note)?;
        let id = TicketId(self.next_id);
        let origin = Origin::FromChat { agent: lifecycle::AgentId(agent.to_string()), note: note.clone() };
        let group = lifecycle::GroupId(view.group.to_string());
        self.core.handle(at, Input::Create { ticket: id, group, origin, priority: Default::default() })?;
        self.next_id += 1;
        // The newest messages, leaving room for the answer.
        let keep = (self.config.max_messages as usize).saturating_sub(1);
        let customer = token.digest();
        self.tokens.insert(customer, id);
        let file = TicketFile {
            customer: Some(customer),
            customer_name: view.customer_name.as_deref().map(str::to_owned),
            messages: transcript(&view, keep, clock),
            notes: vec![Note { from: agent, to: None, text: note, at: at.as_millisecond() }],
            expected_resolution: None,
            session: Some(session),
            done_at: None,
            signals: Vec::new(),
            overdue: Vec::new(),
        };
        self.files.insert(id, file);
        let at = at.as_millisecond();
        self.events.push_back(DeskEvent::Created { ticket: id, group: view.group, origin: "from_chat", at });
        Ok(id)
    }

    fn agent_reply(
        &mut self,
        at: Timestamp,
        ticket: TicketId,
        agent: AgentId,
        reply: AgentReply,
        limits: TextLimits,
    ) -> Result<TicketId, TicketRefusal> {
        limits.check_text(&reply.text)?;
        self.check_room(ticket)?;
        let expected = match reply.expected_resolution {
            Some(ms) => Some(Timestamp::from_millisecond(ms).map_err(|_| TicketError::ExpectedTimeInvalid)?),
            None => None,
        };
        let input = Input::AgentReply {
            ticket,
            agent: lifecycle::AgentId(agent.to_string()),
            state: reply.state,
            expected_resolution: expected,
        };
        self.core.handle(at, input)?;
        let file = self.files.get_mut(&ticket).expect("every ticket has a file");
        if reply.expected_resolution.is_some() {
            file.expected_resolution = reply.expected_resolution;
        }
        // A reply is the answer the first response and no-reply limits wanted; a
        // reply with an expected time is the one the expected-time limit wanted.
        let told_expected = reply.expected_resolution.is_some();
        file.overdue.retain(|(kind, _)| *kind == BreachKind::ExpectedTime && !told_expected);
        self.write(ticket, Author::Agent(agent), reply.text, at);
        Ok(ticket)
    }

    /// Refuses a message to a ticket that holds `max_messages` already.
    fn check_room(&self, ticket: TicketId) -> Result<(), TicketRefusal> {
        let full = self.files.get(&ticket).is_some_and(|f| f.messages.len() >= self.config.max_messages as usize);
        if full {
            let max = self.config.max_messages;
            return Err(TicketRefusal::new(
                desk_code::TICKET_FULL,
                format!("the ticket holds {max} messages: no more"),
            ));
        }
        Ok(())
    }

    /// The complaint-tendency signals a customer's `text` on `ticket` raises
    /// that it has not raised before.
    fn new_signals(&self, ticket: TicketId, text: &str, router: &Router) -> Vec<ComplaintSignal> {
        let Some(file) = self.files.get(&ticket) else { return Vec::new() };
        let earlier = file.messages.iter().rev().filter(|m| m.from == Author::Customer).map(|m| m.text.as_str());
        let mut signals = router.ticket_complaint_signals(text, earlier);
        signals.retain(|s| !file.signals.contains(s));
        signals
    }

    /// Each new signal is kept and told; a complaint comes first (the
    /// rules' priority), so the ticket becomes urgent.
    fn raise(&mut self, at: Timestamp, ticket: TicketId, signals: Vec<ComplaintSignal>) {
        if signals.is_empty() {
            return;
        }
        // Cannot fail: the ticket is open (its customer just wrote).
        let _ = self.core.handle(at, Input::SetPriority { ticket, priority: Priority::Urgent });
        let Some(t) = self.core.ticket(ticket) else { return };
        let (group, agent) = (GroupId::new(&t.group.0), t.owner.as_ref().map(|o| AgentId::new(&o.0)));
        let file = self.files.get_mut(&ticket).expect("every ticket has a file");
        for signal in signals {
            file.signals.push(signal);
            let (group, agent, at) = (group.clone(), agent.clone(), at.as_millisecond());
            self.events.push_back(DeskEvent::ComplaintTendency { ticket, group, agent, signal, at });
        }
    }

    /// The rules: before a transfer the agent replies to the customer ("your
    /// question has been passed to the right colleague"), so a handover never
    /// leaves the customer's last message unanswered. Checked after the
    /// core's own checks of the transfer.
    fn check_answered(&self, ticket: TicketId) -> Result<(), TicketRefusal> {
        let Some(file) = self.files.get(&ticket) else { return Ok(()) };
        let last = file.messages.iter().rev().find(|m| m.from != Author::System);
        if last.is_some_and(|m| m.from == Author::Customer) {
            return Err(TicketRefusal::new(
                desk_code::REPLY_FIRST,
                "reply to the customer before the transfer (say who will answer): their last message is unanswered",
            ));
        }
        Ok(())
    }

    /// Appends a message; the desk's own messages push out the oldest when full.
    fn write(&mut self, ticket: TicketId, from: Author, text: String, at: Timestamp) {
        let Some(file) = self.files.get_mut(&ticket) else { return };
        file.messages.push_back(TicketMessage { from, text, at: at.as_millisecond() });
        while file.messages.len() > self.config.max_messages as usize {
            file.messages.pop_front();
        }
    }

    /// Takes the core's outputs: breaches are kept and told, reminders and
    /// the system's moves become messages to the customer.
    fn absorb(&mut self) {
        // A reminder is written when the move that caused it happened (a wait ends at its deadline).
        let mut at = self.core.now();
        let mut done = Vec::new();
        while let Some(output) = self.core.poll_output() {
            match output {
                Output::Breach { kind, ticket, agent, deadline } => self.breach(kind, ticket, agent, deadline),
                Output::RemindCustomer { ticket, reminder } => {
                    self.write(ticket, Author::System, reminder_text(reminder).to_owned(), at);
                }
                Output::StateChanged { ticket, from, to, actor, at: moved } => {
                    at = moved;
                    self.settle_overdue(ticket, to);
                    if (to, actor) == (TicketState::Closed, Actor::System) {
                        let text = "No answer came within the confirmation time: the ticket is closed.";
                        self.write(ticket, Author::System, text.to_owned(), at);
                    }
                    if to.is_done() {
                        done.push((ticket, at));
                    }
                    let detail = serde_json::json!({"from": from.name(), "to": to.name(), "actor": actor.name()});
                    self.tell(ticket, "state_changed", None, at, detail);
                }
                Output::Assigned { ticket, agent } => {
                    self.tell(ticket, "assigned", Some(&agent), at, serde_json::json!({}));
                }
                Output::Waiting { ticket } => self.tell(ticket, "waiting", None, at, serde_json::json!({})),
                Output::Transferred { ticket, from, to, .. } => {
                    self.tell(ticket, "transferred", Some(&from), at, serde_json::json!({"to": to.0}));
                }
            }
        }
        for (id, at) in done {
            let at = at.as_millisecond();
            if let Some(file) = self.files.get_mut(&id) {
                file.done_at = Some(at);
                self.done.insert((at, id));
            }
            if let Some((ticket, file)) = self.ticket(id) {
                let done = DoneTicket { ticket: ticket.clone(), file: file.clone(), at };
                self.events.push_back(DeskEvent::Done(Box::new(done)));
            }
        }
    }

    /// Out of the agent's hands (awaiting feedback, pending confirmation) no
    /// expected time is owed any more; a done ticket owes nothing.
    fn settle_overdue(&mut self, ticket: TicketId, to: TicketState) {
        let Some(file) = self.files.get_mut(&ticket) else { return };
        match to {
            TicketState::AwaitingFeedback | TicketState::PendingConfirmation => {
                file.overdue.retain(|(kind, _)| *kind != BreachKind::ExpectedTime)
            }
            _ if to.is_done() => file.overdue.clear(),
            _ => {}
        }
    }

    /// Tells the records store what happened to a ticket.
    fn tell(
        &mut self,
        id: TicketId,
        kind: &'static str,
        agent: Option<&lifecycle::AgentId>,
        at: Timestamp,
        detail: serde_json::Value,
    ) {
        let Some(ticket) = self.core.ticket(id) else { return };
        let fact = Fact {
            ticket: id,
            group: GroupId::new(&ticket.group.0),
            kind,
            agent: agent.map(|a| AgentId::new(&a.0)),
            at: at.as_millisecond(),
            detail,
        };
        self.events.push_back(DeskEvent::Happened(fact));
    }

    fn breach(&mut self, kind: BreachKind, ticket: TicketId, agent: Option<lifecycle::AgentId>, deadline: Timestamp) {
        let Some(t) = self.core.ticket(ticket) else { return };
        let breach = Breach {
            ticket,
            group: GroupId::new(&t.group.0),
            kind,
            agent: agent.map(|a| AgentId::new(&a.0)),
            deadline: deadline.as_millisecond(),
        };
        if self.breaches.len() == RECENT_BREACHES {
            self.breaches.pop_front();
        }
        self.breaches.push_back(breach.clone());
        if let Some(file) = self.files.get_mut(&ticket) {
            file.overdue.push((kind, breach.deadline));
        }
        self.events.push_back(DeskEvent::Breach(breach));
    }

    /// Open tickets per (group, state), for the gauge.
    pub fn open_counts(&self) -> BTreeMap<(String, TicketState), u64> {
        let mut counts = BTreeMap::new();
        for ticket in self.core.tickets().filter(|t| !t.state.is_done()) {
            *counts.entry((ticket.group.0.clone(), ticket.state)).or_default() += 1;
        }
        counts
    }
}

/// The open chat `agent` serves as `session`, or why it cannot become their ticket.
fn served_chat(router: &Router, agent: &AgentId, session: SessionId) -> Result<SessionView, TicketRefusal> {
    let Some(view) = router.session_view(session).filter(|_| router.session_open(session) == Some(true)) else {
        return Err(TicketRefusal::new(desk_code::SESSION_UNKNOWN, "no open chat has that session id"));
    };
    if !router.agent_sessions(agent).is_some_and(|s| s.contains(&session)) {
        return Err(TicketRefusal::new(desk_code::CHAT_NOT_YOURS, "only the agent serving the chat can do this"));
    }
    Ok(view)
}

/// The chat's newest `keep` messages, at their calendar times.
fn transcript(view: &SessionView, keep: usize, clock: ClockAnchor) -> VecDeque<TicketMessage> {
    let skip = view.history.len().saturating_sub(keep);
    let message = |h: &crate::router::output::HistoryEntry| TicketMessage {
        from: match &h.from {
            Speaker::Customer => Author::Customer,
            Speaker::Agent(a) => Author::Agent(a.clone()),
        },
        text: h.text.to_string(),
        at: clock.instant(h.at.0).as_millisecond(),
    };
    view.history.iter().skip(skip).map(message).collect()
}

/// Refuses a ticket text the desk would refuse (checked before logging, so
/// that junk is answered without touching the log; applying checks again).
pub fn check_text(router: &Router, text: &str) -> Result<(), TicketRefusal> {
    TextLimits::of(router).check_text(text)
}

/// The text bounds of the router's rules, which tickets share with chats.
#[derive(Clone, Copy)]
struct TextLimits {
    message_max_chars: usize,
    note_max_chars: usize,
}

impl TextLimits {
    fn of(router: &Router) -> TextLimits {
        let rules = &router.config().rules;
        TextLimits { message_max_chars: rules.message_max_chars, note_max_chars: rules.handoff_note_max_chars }
    }

    fn check_text(&self, text: &str) -> Result<(), TicketRefusal> {
        let max = self.message_max_chars;
        if text.trim().is_empty() || text.chars().count() > max {
            return Err(TicketRefusal::new(desk_code::BAD_TEXT, format!("the text must hold 1 to {max} characters")));
        }
        Ok(())
    }

    fn check_note(&self, note: &str) -> Result<(), TicketRefusal> {
        let max = self.note_max_chars;
        if note.chars().count() > max {
            return Err(TicketRefusal::new(desk_code::NOTE_TOO_LONG, format!("a note holds at most {max} characters")));
        }
        Ok(())
    }
}

fn reminder_text(reminder: Reminder) -> &'static str {
    match reminder {
        Reminder::FeedbackRequested => "The agent is waiting for your answer: reply here when you can.",
        Reminder::PendingConfirmation => {
            "We have not heard from you: the ticket now waits for you to confirm the problem is solved \
             (or to write if it is not)."
        }
    }
}
