//! Switchboard's ticket lifecycle core: the asynchronous side of customer
//! service, from the ticket rules (the second seed; digest in
//! docs/domain.md, the whole model in docs/tickets.md).
//!
//! Sans-IO like the router: no clock, no tokio. The caller feeds
//! [`Input`]s with the instant they happen ([`Tickets::handle`]), calls
//! [`Tickets::handle_timeout`] when [`Tickets::poll_timeout`] says, and
//! drains [`Output`]s with [`Tickets::poll_output`]. Every limit is working
//! time of the ticket's skill group, computed by the business calendar.
//!
//! - A ticket is created when a customer leaves a message, or when an agent
//!   turns a chat into one ([`Origin`]). It goes to the least-loaded
//!   available agent of its group with room (a ticket capacity of its own
//!   per agent), urgent ones first; otherwise it waits for one.
//! - Its state moves only along [`TRANSITIONS`]; resolved and closed are
//!   done and never change again.
//! - Each limit of [`TicketRules`] is a deadline; when it passes,
//!   [`Output::Breach`] carries the deadline itself, and the feedback and
//!   confirmation waits move the ticket on as of their deadline, so a
//!   caller that wakes late gets the same history as one on time.

mod assign;
mod error;
mod input;
mod output;
mod rules;
mod save;
mod state;
mod timers;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

use jiff::Timestamp;
use switchboard_calendar::Calendar;

pub use error::TicketError;
pub use input::{AgentId, GroupId, Input, Origin, Priority, TicketId};
pub use output::{BreachKind, Output, Reminder};
pub use rules::{RulesError, TicketRules};
pub use save::SavedTickets;
pub use state::{check_transition, Actor, TicketState, TRANSITIONS};
pub use timers::Limit;

/// One ticket, as the core keeps it (read-only to callers).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Ticket {
    pub id: TicketId,
    pub group: GroupId,
    pub origin: Origin,
    pub priority: Priority,
    pub state: TicketState,
    /// The agent in charge; `None` while it waits for one. A done ticket
    /// keeps its last owner (who no longer counts it against capacity).
    pub owner: Option<AgentId>,
    pub created_at: Timestamp,
    /// The running limits and when each runs out.
    pub deadlines: BTreeMap<Limit, Timestamp>,
}

/// Order of the waiting tickets: urgent first, then oldest, then lowest id.
type WaitKey = (Reverse<Priority>, Timestamp, TicketId);

impl Ticket {
    fn wait_key(&self) -> WaitKey {
        (Reverse(self.priority), self.created_at, self.id)
    }
}

/// An agent as the ticket desk sees them.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Agent {
    groups: BTreeSet<GroupId>,
    capacity: usize,
    available: bool,
    /// Open tickets they own.
    owned: BTreeSet<TicketId>,
}

impl Agent {
    fn can_take(&self, group: &GroupId) -> bool {
        self.available && self.groups.contains(group) && self.owned.len() < self.capacity
    }
}

/// The ticket core: every ticket, the agents taking tickets, the waiting
/// line and the running deadlines.
#[derive(Clone, Debug)]
pub struct Tickets {
    rules: TicketRules,
    calendar: Calendar,
    groups: BTreeSet<GroupId>,
    tickets: BTreeMap<TicketId, Ticket>,
    agents: BTreeMap<AgentId, Agent>,
    waiting: BTreeSet<WaitKey>,
    timers: BTreeSet<(Timestamp, TicketId, Limit)>,
    outputs: VecDeque<Output>,
    /// The latest instant seen: time never goes back (an earlier `now` counts as this one).
    now: Timestamp,
}

impl Tickets {
    /// A ticket desk for `groups`, whose working time `calendar` defines
    /// (a group it does not list is always open). Refuses invalid rules.
    pub fn new(
        rules: TicketRules,
        calendar: Calendar,
        groups: impl IntoIterator<Item = GroupId>,
    ) -> Result<Tickets, RulesError> {
        rules.validate()?;
        Ok(Tickets {
            rules,
            calendar,
            groups: groups.into_iter().collect(),
            tickets: BTreeMap::new(),
            agents: BTreeMap::new(),
            waiting: BTreeSet::new(),
            timers: BTreeSet::new(),
            outputs: VecDeque::new(),
            now: Timestamp::MIN,
        })
    }

    /// Applies one input at `now` (deadlines due by then fire first). A
    /// refused input changes nothing and says which rule it broke.
    pub fn handle(&mut self, now: Timestamp, input: Input) -> Result<(), TicketError> {
        self.handle_timeout(now);
        let now = self.now;
        match input {
            Input::Create { ticket, group, origin, priority } => self.create(now, ticket, group, origin, priority),
            Input::AgentAvailable { agent, groups, ticket_capacity } => {
                self.agent_available(agent, groups, ticket_capacity)
            }
            Input::AgentAway { agent } => self.agent_away(&agent),
            Input::AgentReply { ticket, agent, state, expected_resolution } => {
                self.agent_reply(now, ticket, &agent, state, expected_resolution)
            }
            Input::Transfer { ticket, from, to, note } => self.transfer(ticket, from, to, note),
            Input::SetPriority { ticket, priority } => self.set_priority(ticket, priority),
            Input::CustomerMessage { ticket } => self.customer_message(now, ticket),
            Input::CustomerConfirm { ticket } => self.customer_moves(now, ticket, TicketState::Resolved),
            Input::CustomerClose { ticket } => self.customer_moves(now, ticket, TicketState::Closed),
        }
    }

    /// The next deadline, if any: call [`Tickets::handle_timeout`] then.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        self.timers.first().map(|(at, _, _)| *at)
    }

    /// The next output, oldest first.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    pub fn ticket(&self, id: TicketId) -> Option<&Ticket> {
        self.tickets.get(&id)
    }

    /// Every ticket, by id.
    pub fn tickets(&self) -> impl Iterator<Item = &Ticket> {
        self.tickets.values()
    }

    /// Forgets a done ticket (its caller keeps its history elsewhere);
    /// `None`, changing nothing, for an open or unknown one.
    pub fn forget(&mut self, id: TicketId) -> Option<Ticket> {
        if !self.tickets.get(&id)?.state.is_done() {
            return None;
        }
        // A done ticket holds no deadline, no place in the waiting line and no agent's room.
        self.tickets.remove(&id)
    }

    /// The tickets waiting for an owner, in the order they will get one.
    pub fn waiting(&self) -> impl Iterator<Item = TicketId> + '_ {
        self.waiting.iter().map(|(_, _, id)| *id)
    }

    /// How many open tickets the agent owns (`None` for an agent never seen).
    pub fn agent_load(&self, agent: &AgentId) -> Option<usize> {
        self.agents.get(agent).map(|a| a.owned.len())
    }

    /// The latest instant seen.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    pub fn rules(&self) -> &TicketRules {
        &self.rules
    }

    fn create(
        &mut self,
        now: Timestamp,
        id: TicketId,
        group: GroupId,
        origin: Origin,
        priority: Priority,
    ) -> Result<(), TicketError> {
        if self.tickets.contains_key(&id) {
            return Err(TicketError::TicketExists(id));
        }
        if !self.groups.contains(&group) {
            return Err(TicketError::UnknownGroup(group));
        }
        if let Origin::FromChat { agent, note } = &origin {
            self.check_note(note)?;
            if !self.agents.contains_key(agent) {
                return Err(TicketError::UnknownAgent(agent.clone()));
            }
        }
        let preferred = match &origin {
            Origin::FromChat { agent, .. } if self.agents[agent].can_take(&group) => Some(agent.clone()),
            _ => None,
        };
        let from_chat = matches!(origin, Origin::FromChat { .. });
        let ticket = Ticket {
            id,
            group,
            origin,
            priority,
            state: TicketState::Assigned,
            owner: None,
            created_at: now,
            deadlines: BTreeMap::new(),
        };
        self.waiting.insert(ticket.wait_key());
        self.tickets.insert(id, ticket);
        self.arm_on_create(now, id, from_chat);
        match preferred {
            Some(agent) => self.assign(id, agent),
            None => self.place(id),
        }
        Ok(())
    }

    fn check_note(&self, note: &str) -> Result<(), TicketError> {
        let min = self.rules.handoff_note_min_chars;
        if note.trim().chars().count() < min {
            return Err(TicketError::HandoffNoteTooShort { min });
        }
        Ok(())
    }

    /// The ticket, if it exists and is not done.
    fn open_ticket(&self, id: TicketId) -> Result<&Ticket, TicketError> {
        let ticket = self.tickets.get(&id).ok_or(TicketError::UnknownTicket(id))?;
        if ticket.state.is_done() {
            return Err(TicketError::TicketDone { state: ticket.state });
        }
        Ok(ticket)
    }

    fn agent_reply(
        &mut self,
        now: Timestamp,
        id: TicketId,
        agent: &AgentId,
        to: TicketState,
        expected: Option<Timestamp>,
    ) -> Result<(), TicketError> {
        let ticket = self.open_ticket(id)?;
        if ticket.owner.as_ref() != Some(agent) {
            return Err(TicketError::NotYourTicket(id));
        }
        check_transition(ticket.state, to, Actor::Agent)?;
        if expected.is_some_and(|at| at <= now) {
            return Err(TicketError::ExpectedTimeInvalid);
        }
        self.clear(id, Limit::FirstResponse);
        self.clear(id, Limit::NoReply);
        if expected.is_some() {
            self.clear(id, Limit::ExpectedTime);
        }
        self.move_to(now, id, to, Actor::Agent);
        Ok(())
    }

    fn set_priority(&mut self, id: TicketId, priority: Priority) -> Result<(), TicketError> {
        self.open_ticket(id)?;
        let ticket = self.tickets.get_mut(&id).unwrap();
        let was_waiting = self.waiting.remove(&ticket.wait_key());
        ticket.priority = priority;
        if was_waiting {
            self.waiting.insert(ticket.wait_key());
        }
        Ok(())
    }

    fn customer_message(&mut self, now: Timestamp, id: TicketId) -> Result<(), TicketError> {
        let ticket = self.open_ticket(id)?;
        let to = match ticket.state {
            TicketState::Assigned => TicketState::Assigned,
            _ => TicketState::CustomerReplied,
        };
        check_transition(ticket.state, to, Actor::Customer)?;
        if !ticket.deadlines.contains_key(&Limit::NoReply) {
            let deadline = self.calendar.add_working(&ticket.group.0, now, self.rules.max_without_reply);
            self.arm(id, Limit::NoReply, deadline);
        }
        self.move_to(now, id, to, Actor::Customer);
        Ok(())
    }

    fn customer_moves(&mut self, now: Timestamp, id: TicketId, to: TicketState) -> Result<(), TicketError> {
        let ticket = self.open_ticket(id)?;
        check_transition(ticket.state, to, Actor::Customer)?;
        self.move_to(now, id, to, Actor::Customer);
        Ok(())
    }

    /// Applies a checked move and what it starts or ends: the feedback and
    /// confirmation waits, the expected-time limit, the customer's reminder, and on done the
    /// release of every limit and of the owner's capacity.
    fn move_to(&mut self, at: Timestamp, id: TicketId, to: TicketState, actor: Actor) {
        let ticket = self.tickets.get_mut(&id).unwrap();
        let from = ticket.state;
        ticket.state = to;
        if from != to {
            self.outputs.push_back(Output::StateChanged { ticket: id, from, to, actor, at });
        }
        self.clear(id, Limit::FeedbackWait);
        self.clear(id, Limit::ConfirmationWait);
        if matches!(to, TicketState::AwaitingFeedback | TicketState::PendingConfirmation) {
            // Out of the agent's hands: no expected resolution time is owed.
            self.clear(id, Limit::ExpectedTime);
        }
        match to {
            TicketState::AwaitingFeedback => {
                self.start_wait(at, id, Limit::FeedbackWait, self.rules.feedback_wait_days);
                self.remind(id, Reminder::FeedbackRequested);
            }
            TicketState::PendingConfirmation => {
                self.start_wait(at, id, Limit::ConfirmationWait, self.rules.confirmation_wait_days);
                if actor == Actor::System {
                    self.remind(id, Reminder::PendingConfirmation);
                }
            }
            TicketState::Resolved | TicketState::Closed => self.finish(id),
            _ => {}
        }
    }

    fn remind(&mut self, ticket: TicketId, reminder: Reminder) {
        self.outputs.push_back(Output::RemindCustomer { ticket, reminder });
    }

    /// A done ticket: no limit runs, it no longer counts against its owner
    /// nor waits, and the freed room may take a waiting ticket.
    fn finish(&mut self, id: TicketId) {
        for limit in Limit::ALL {
            self.clear(id, limit);
        }
        let ticket = &self.tickets[&id];
        self.waiting.remove(&ticket.wait_key());
        if let Some(agent) = ticket.owner.as_ref().and_then(|owner| self.agents.get_mut(owner)) {
            agent.owned.remove(&id);
        }
        self.dispatch();
    }
}
