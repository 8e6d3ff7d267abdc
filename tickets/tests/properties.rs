//! Properties over random inputs at random times (the Shanghai calendar of
//! `common`: a Mon-Fri desk, a daily one, a holiday):
//! - no breach before its deadline, and a first-response or expected-time
//!   breach falls exactly that much working time after creation;
//! - every open ticket has exactly one owner or is waiting for one, and no
//!   agent holds more than their ticket capacity;
//! - done tickets never change;
//! - deadlines are never in the past;
//! - a refused input changes nothing.

mod common;

use std::collections::BTreeMap;

use common::*;
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use switchboard_tickets::{
    BreachKind, Input, Origin, Output, Priority, Ticket, TicketId, TicketRules, TicketState, Tickets,
};

const AGENTS: [(&str, usize); 3] = [("ann", 1), ("bo", 2), ("cy", 3)];
const GROUPS: [&str; 2] = ["billing", "tech"];

#[derive(Clone, Debug)]
enum Step {
    Wait { minutes: i64 },
    Timeout,
    Create { group: usize, chat_by: Option<usize>, urgent: bool },
    Available { agent: usize, groups: usize },
    Away { agent: usize },
    Reply { ticket: usize, state: usize, by_owner: bool, expected_in: Option<i64> },
    Transfer { ticket: usize, to: usize, long_note: bool },
    SetPriority { ticket: usize, urgent: bool },
    Message { ticket: usize },
    Confirm { ticket: usize },
    Close { ticket: usize },
}

fn step() -> impl Strategy<Value = Step> {
    let ticket = 0usize..8;
    prop_oneof![
        3 => (0i64..3 * 24 * 60).prop_map(|minutes| Step::Wait { minutes }),
        1 => Just(Step::Timeout),
        3 => (0..2usize, proptest::option::of(0..3usize), any::<bool>())
            .prop_map(|(group, chat_by, urgent)| Step::Create { group, chat_by, urgent }),
        2 => (0..3usize, 1..4usize).prop_map(|(agent, groups)| Step::Available { agent, groups }),
        1 => (0..3usize).prop_map(|agent| Step::Away { agent }),
        4 => (ticket.clone(), 0..7usize, any::<bool>(), proptest::option::of(-60i64..600))
            .prop_map(|(ticket, state, by_owner, expected_in)| Step::Reply { ticket, state, by_owner, expected_in }),
        1 => (ticket.clone(), 0..3usize, any::<bool>())
            .prop_map(|(ticket, to, long_note)| Step::Transfer { ticket, to, long_note }),
        1 => (ticket.clone(), any::<bool>()).prop_map(|(ticket, urgent)| Step::SetPriority { ticket, urgent }),
        2 => ticket.clone().prop_map(|ticket| Step::Message { ticket }),
        1 => ticket.clone().prop_map(|ticket| Step::Confirm { ticket }),
        1 => ticket.prop_map(|ticket| Step::Close { ticket }),
    ]
}

/// Runs the steps and checks every property after each.
struct Run {
    desk: Tickets,
    now: Timestamp,
    created: u64,
    done: BTreeMap<TicketId, Ticket>,
}

impl Run {
    fn new() -> Run {
        Run { desk: desk(), now: at("2026-11-27 20:00"), created: 0, done: BTreeMap::new() }
    }

    /// A ticket id: one of those created, or one never created.
    fn ticket(&self, pick: usize) -> TicketId {
        TicketId(pick as u64 % (self.created + 1) + 1)
    }

    fn owner_or(&self, id: TicketId, by_owner: bool, pick: usize) -> switchboard_tickets::AgentId {
        let owner = self.desk.ticket(id).and_then(|t| t.owner.clone());
        owner.filter(|_| by_owner).unwrap_or_else(|| agent(AGENTS[pick % 3].0))
    }

    fn input(&mut self, step: &Step) -> Option<Input> {
        let note = |long: bool| if long { "customer needs a refund of order 42" } else { "refund" }.to_owned();
        Some(match *step {
            Step::Wait { minutes } => {
                self.now += SignedDuration::from_mins(minutes);
                return None;
            }
            Step::Timeout => return None,
            Step::Create { group: g, chat_by, urgent } => {
                self.created += 1;
                let origin = match chat_by {
                    Some(a) => Origin::FromChat { agent: agent(AGENTS[a].0), note: note(a != 0) },
                    None => Origin::NobodyAvailable,
                };
                let priority = if urgent { Priority::Urgent } else { Priority::Normal };
                Input::Create { ticket: TicketId(self.created), group: group(GROUPS[g]), origin, priority }
            }
            Step::Available { agent: a, groups } => {
                let names: Vec<&str> = (0..2).filter(|i| groups & (1 << i) != 0).map(|i| GROUPS[i]).collect();
                available(AGENTS[a].0, &names, AGENTS[a].1)
            }
            Step::Away { agent: a } => Input::AgentAway { agent: agent(AGENTS[a].0) },
            Step::Reply { ticket, state, by_owner, expected_in } => {
                let id = self.ticket(ticket);
                Input::AgentReply {
                    ticket: id,
                    agent: self.owner_or(id, by_owner, ticket),
                    state: TicketState::ALL[state],
                    expected_resolution: expected_in.map(|m| self.now + SignedDuration::from_mins(m)),
                }
            }
            Step::Transfer { ticket, to, long_note } => {
                let id = self.ticket(ticket);
                let from = self.owner_or(id, true, ticket);
                Input::Transfer { ticket: id, from, to: agent(AGENTS[to].0), note: note(long_note) }
            }
            Step::SetPriority { ticket, urgent } => {
                let priority = if urgent { Priority::Urgent } else { Priority::Normal };
                Input::SetPriority { ticket: self.ticket(ticket), priority }
            }
            Step::Message { ticket } => Input::CustomerMessage { ticket: self.ticket(ticket) },
            Step::Confirm { ticket } => Input::CustomerConfirm { ticket: self.ticket(ticket) },
            Step::Close { ticket } => Input::CustomerClose { ticket: self.ticket(ticket) },
        })
    }

    fn apply(&mut self, step: &Step) -> Result<(), TestCaseError> {
        let input = self.input(step);
        self.desk.handle_timeout(self.now);
        self.check_outputs()?;
        if let Some(input) = input {
            let before: Vec<Ticket> = self.desk.tickets().cloned().collect();
            let refused = self.desk.handle(self.now, input.clone()).is_err();
            if refused {
                let after: Vec<Ticket> = self.desk.tickets().cloned().collect();
                prop_assert_eq!(before, after, "refused {:?} changed tickets", input);
                // A refused Create still used its id: keep the ids dense.
                if matches!(input, Input::Create { .. }) {
                    self.created -= 1;
                }
            }
        }
        self.check_outputs()?;
        self.check_state()
    }

    fn check_outputs(&mut self) -> Result<(), TestCaseError> {
        let rules = TicketRules::default();
        let calendar = calendar();
        while let Some(output) = self.desk.poll_output() {
            let Output::Breach { kind, ticket, deadline, .. } = output else { continue };
            prop_assert!(deadline <= self.now, "breach before its deadline");
            let t = self.desk.ticket(ticket).unwrap();
            let limit = match kind {
                BreachKind::FirstResponse => rules.first_response,
                BreachKind::ExpectedTime => rules.expected_time_reply,
                BreachKind::NoReply => continue,
            };
            prop_assert_eq!(calendar.working_between(&t.group.0, t.created_at, deadline), limit);
        }
        Ok(())
    }

    fn check_state(&mut self) -> Result<(), TestCaseError> {
        let waiting: Vec<TicketId> = self.desk.waiting().collect();
        prop_assert!(self.desk.poll_timeout().is_none_or(|next| next > self.now), "a deadline in the past");
        let mut load: BTreeMap<String, usize> = BTreeMap::new();
        for t in self.desk.tickets() {
            prop_assert!(t.deadlines.values().all(|d| *d > self.now));
            if t.state.is_done() {
                prop_assert!(t.deadlines.is_empty() && !waiting.contains(&t.id));
                match self.done.get(&t.id) {
                    Some(was) => prop_assert_eq!(was, t, "a done ticket changed"),
                    None => drop(self.done.insert(t.id, t.clone())),
                }
                continue;
            }
            prop_assert!(t.owner.is_some() != waiting.contains(&t.id), "{:?}: owner and waiting disagree", t.id);
            if let Some(owner) = &t.owner {
                *load.entry(owner.0.clone()).or_default() += 1;
            }
        }
        for (name, capacity) in AGENTS {
            let held = load.get(name).copied().unwrap_or(0);
            prop_assert_eq!(self.desk.agent_load(&agent(name)).unwrap_or(0), held);
            prop_assert!(held <= capacity, "{} holds {} tickets, capacity {}", name, held, capacity);
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_lifecycle_invariants_hold_for_any_inputs_at_any_times(steps in proptest::collection::vec(step(), 1..60)) {
        let mut run = Run::new();
        for step in &steps {
            run.apply(step)?;
        }
        // Long after: every wait has run out, nothing is left pending in the past.
        run.apply(&Step::Wait { minutes: 60 * 24 * 60 })?;
        run.apply(&Step::Timeout)?;
    }
}
