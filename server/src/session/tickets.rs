//! The ticket desk inside the session layer: applying [`Entry::Ticket`],
//! the desk following the router's agents on duty, and what the desk
//! reports (metrics, supervisors' alerts). Deterministic like the rest of
//! `apply`: time is the calendar instant of the entry's business time.

use jiff::Timestamp;
use switchboard_calendar::{Calendar, ClockAnchor};
use switchboard_protocol::agent::ServerToAgent;
use switchboard_protocol::code;
use switchboard_protocol::customer::ServerToCustomer;
use switchboard_tickets::TicketId;

use super::{Action, SessionLayer};
use crate::router::config::Role;
use crate::router::output::AgentState;
use crate::router::{AgentId, GroupId};
use crate::tickets::{DeskEvent, TicketDesk, TicketEntry, TicketRefusal, NO_ANCHOR};

impl SessionLayer {
    /// The ticket desk, read-only (the HTTP API's reads).
    pub fn desk(&self) -> &TicketDesk {
        &self.desk
    }

    /// Working time follows `calendar` (configuration: set it before replaying).
    pub fn with_calendar(mut self, calendar: Calendar) -> SessionLayer {
        self.desk.set_calendar(calendar);
        self
    }

    /// Working time from now on follows `calendar` (a reload's new service
    /// hours or holidays; deadlines already running keep their instants).
    pub fn set_calendar(&mut self, calendar: Calendar) {
        self.desk.set_calendar(calendar);
    }

    /// A fresh layer's desk takes `config` as it is (a recovered one gets a
    /// logged `TicketEntry::Configure` when the config changed).
    pub fn with_tickets(mut self, config: crate::config::TicketsConfig) -> SessionLayer {
        let at = self.calendar_instant();
        self.desk.configure(at, config);
        self
    }

    /// Where business time sits on the calendar (before any logged start: [`NO_ANCHOR`]).
    pub fn clock(&self) -> ClockAnchor {
        self.clock_anchor.unwrap_or(NO_ANCHOR)
    }

    /// The calendar instant of the entry being applied.
    pub(super) fn calendar_instant(&self) -> Timestamp {
        self.clock().instant(self.now.0)
    }

    /// What the last [`Entry::Ticket`] came to: the ticket it concerned, or why it was refused.
    pub fn take_ticket_outcome(&mut self) -> Option<Result<TicketId, TicketRefusal>> {
        self.ticket_outcome.take()
    }

    pub(super) fn apply_ticket(&mut self, entry: TicketEntry) {
        if let TicketEntry::AgentReply { agent, reply, .. } = &entry {
            if let Some(rule) = &reply.content.blocked_by {
                let refusal = TicketRefusal::new(code::CONTENT_BLOCKED, crate::content::blocked_message(rule));
                self.flag_ticket_reply(agent.clone(), reply.content.matched.clone());
                self.ticket_outcome = Some(Err(refusal));
                return;
            }
        }
        let flagged = match &entry {
            TicketEntry::AgentReply { agent, reply, .. } if !reply.content.is_clean() => {
                Some((agent.clone(), reply.content.matched.clone()))
            }
            _ => None,
        };
        let at = self.calendar_instant();
        let configure = matches!(entry, TicketEntry::Configure(_));
        let from_chat = match &entry {
            TicketEntry::FromChat(chat) => Some((chat.session, chat.token.clone())),
            _ => None,
        };
        let outcome = self.desk.apply(at, entry, &self.router, self.clock());
        if let (Some((session, token)), Ok(ticket)) = (from_chat, &outcome) {
            // The customer can follow the ticket up with its token.
            let message =
                ServerToCustomer::TicketCreated { seq: 0, ticket: ticket.0, token: token.as_str().to_owned() };
            self.push_customer(session, message);
        }
        if let (Some((agent, rules)), Ok(_)) = (flagged, &outcome) {
            self.flag_ticket_reply(agent, rules);
        }
        self.ticket_outcome = Some(outcome);
        if configure {
            self.follow_all_duty();
        }
    }

    /// A ticket reply matched content rules: conduct flags against its
    /// agent, with no session (docs/content-rules.md).
    fn flag_ticket_reply(&mut self, agent: AgentId, rules: Vec<std::sync::Arc<str>>) {
        let input = crate::router::input::Input::ContentFlagged { agent, session: None, rules };
        if let Err(e) = self.router.handle(self.now, input) {
            // An agent no longer in the roster: the desk refuses their reply too.
            tracing::debug!(code = e.code(), "a ticket reply's content flags were not raised");
        }
    }

    /// The desk follows the agents whose state changed in this entry.
    pub(super) fn follow_duty(&mut self) {
        if self.duty_changes.is_empty() {
            return;
        }
        let at = self.calendar_instant();
        for (agent, state) in std::mem::take(&mut self.duty_changes) {
            let duty = self.ticket_groups(&agent).filter(|_| takes_tickets(state));
            self.desk.set_on_duty(at, &agent, duty);
        }
    }

    /// The desk follows every agent (after a roster or ticket config change).
    pub(super) fn follow_all_duty(&mut self) {
        self.duty_changes.clear();
        let at = self.calendar_instant();
        let snapshot = self.router.snapshot(self.now);
        let mut gone: Vec<AgentId> = self.desk.on_duty().cloned().collect();
        for agent in snapshot.agents {
            gone.retain(|a| *a != agent.id);
            let duty = self.ticket_groups(&agent.id).filter(|_| takes_tickets(agent.state));
            self.desk.set_on_duty(at, &agent.id, duty);
        }
        for agent in gone {
            self.desk.set_on_duty(at, &agent, None);
        }
    }

    /// The groups an agent of the roster takes tickets of; `None` for
    /// supervisors (they take no work) and agents no longer in the roster.
    fn ticket_groups(&self, agent: &AgentId) -> Option<Vec<GroupId>> {
        let entry = self.router.roster().find(|a| a.id == *agent && a.role == Role::Agent)?;
        Some(entry.groups.iter().map(|m| m.group.clone()).collect())
    }

    /// Metrics for the driver, and an alert to every connected supervisor per breach.
    pub(super) fn route_desk_events(&mut self) {
        while let Some(event) = self.desk.poll_event() {
            if let Some(mut alert) = supervisor_alert(&event) {
                self.tell_supervisors(&mut alert);
            }
            if let Some((owner, mut told)) = owner_notice(&event) {
                self.push_agent(&owner, &mut told);
            }
            self.actions.push_back(Action::Ticket(event));
        }
    }
}

/// What a ticket's new owner is told: it was assigned or transferred to them.
fn owner_notice(event: &DeskEvent) -> Option<(AgentId, ServerToAgent)> {
    let DeskEvent::Happened(fact) = event else { return None };
    let owner = match fact.kind {
        "assigned" => fact.agent.clone()?,
        "transferred" => AgentId::new(fact.detail["to"].as_str()?),
        _ => return None,
    };
    let told = ServerToAgent::TicketAssigned { seq: 0, ticket: fact.ticket.0, group: fact.group.to_string() };
    Some((owner, told))
}

/// What supervisors are told of a desk event: breaches and complaint tendency.
fn supervisor_alert(event: &DeskEvent) -> Option<ServerToAgent> {
    match event {
        DeskEvent::Breach(b) => Some(ServerToAgent::AlertTicketBreach {
            seq: 0,
            ticket: b.ticket.0,
            group: b.group.to_string(),
            kind: b.kind.name().to_owned(),
            agent: b.agent.as_ref().map(|a| a.to_string()),
            deadline: b.deadline,
        }),
        DeskEvent::ComplaintTendency { ticket, group, agent, signal, .. } => {
            Some(ServerToAgent::AlertTicketComplaintTendency {
                seq: 0,
                ticket: ticket.0,
                group: group.to_string(),
                agent: agent.as_ref().map(|a| a.to_string()),
                signal: super::convert::signal_to_wire(*signal),
            })
        }
        _ => None,
    }
}

/// On duty for tickets: signed in and taking work, or within the grace
/// period of a lost connection (a reload of the console must not hand
/// their tickets round); not on break, not offline.
fn takes_tickets(state: AgentState) -> bool {
    matches!(state, AgentState::Available | AgentState::Busy | AgentState::Disconnected)
}
