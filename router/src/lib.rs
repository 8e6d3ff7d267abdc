//! The router core: a deterministic, single-threaded state machine that
//! decides who serves whom and watches how agents behave.
//!
//! Sans-IO: no tokio, no sockets, no clock. Inputs arrive with `now`
//! ([`Router::handle`]); outputs are drained ([`Router::poll_output`]); the
//! driver asks when to wake next ([`Router::poll_timeout`]) and then calls
//! [`Router::handle_timeout`]. The same inputs at the same times give the same
//! outputs, which makes every rule testable on simulated time.
//!
//! # Saving and restoring
//!
//! A restart resumes from the newest saved router (not to be confused with
//! [`Router::snapshot`], a read-only view) and replays the logged inputs
//! after it. [`Router`] is `Serialize` and `Deserialize` for that
//! ([`Router::save`] and [`Router::restore`] do the same and say why when
//! they refuse). A saved router holds everything that affects what the router
//! does next: the config, the clock, the queue and assignment counters, each
//! agent's connection, presence, sessions, listing, timers, shift, sheds and
//! record, each group's measured pace and queue tick, and every session
//! (phase and place in its queue with the position and estimate last told, history, notes,
//! transfers, pending consent, complaint bookkeeping, timers). What can be
//! worked out again is rebuilt on restore instead: the id indexes, the queues,
//! overflow lists, eligible sets and free seats, the on-duty, serving, active
//! and excluded counts,
//! the timer table (from the deadlines its owners hold), the complaint word
//! automaton. Undrained outputs are not state: saving with any is refused.
//!
//! The saved form is canonical: two routers in the same logical state write
//! the same bytes, however they got there (sessions in id order, queues without
//! tombstones, the timer table without stale entries), so saving a restored
//! router gives back the bytes it was restored from. A restored router gives
//! the same outputs and [`Router::poll_timeout`] as the original for any
//! continuation. Bytes that are not a saved router of this format (truncated,
//! another format version, indexes out of range, disagreeing records) are
//! refused with an error, never a panic. [`Router::set_rules`] applies new
//! rules to a restored router and [`Router::change_roster`] a new roster;
//! groups cannot change ([`RouterConfig::same_groups`] says what did).
//!
//! Code map: `dispatch.rs` (queues, agent choice, assignment, what waiting
//! customers are told), `pace.rs` (wait estimates), `customer.rs` and
//! `agent.rs` (one handler per input),
//! `conduct.rs` (conduct flags), `complaint.rs` (complaint tendency),
//! `queue.rs` (a group's queue), `timers.rs` (deadlines), `state.rs` (records), `config.rs`, `input.rs`,
//! `output.rs`, `error.rs`, `snapshot.rs` (the public contract), `save.rs`
//! (saving and restoring the whole router).

mod agent;
mod complaint;
mod conduct;
pub mod config;
mod customer;
mod dispatch;
pub mod error;
mod hours;
pub mod ids;
pub mod input;
pub mod output;
mod pace;
mod queue;
pub mod roster;
mod save;
pub mod snapshot;
mod state;
pub mod time;
mod timers;

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;

use rustc_hash::FxHashMap;

pub use config::{
    AgentConfig, AssignmentStrategy, BreakRules, CloseRules, ComplaintRules, ConfigError, GroupConfig, Membership,
    Role, RouterConfig, Rules, SheddingRules, TransferRules,
};
pub use error::RuleError;
pub use ids::{AgentId, GroupId, SessionId};
pub use input::{AgentCloseReason, Availability, GroupHours, Input, Priority, Rating, TransferTarget};
pub use output::{
    AgentNotice, AgentState, CloseReason, ComplaintSignal, ConductFlag, ConductKind, ConsentOutcome, CustomerNotice,
    Event, HandoffNote, HistoryEntry, Output, QueueReason, SessionEndedWhy, SessionView, Speaker, SupervisorNotice,
    TransferKind, WaitEstimate,
};
pub use save::{RestoreError, SaveError, SavedRouter};
pub use snapshot::{AgentRecord, AgentSnapshot, GroupSnapshot, SessionStatus, Snapshot};
pub use time::Millis;

use queue::Queue;
use state::{Agent, AgentIdx, Group, GroupIdx, GroupSet, Phase, Presence, Session};
use timers::{Timer, Timers};

/// The router core. See the module docs.
///
/// `Clone` is cheap next to a snapshot's encoding (texts and ids are shared
/// `Arc`s): the server copies the router between two inputs and encodes the
/// copy off its task.
#[derive(Clone, Debug)]
pub struct Router {
    config: RouterConfig,
    now: Millis,
    agents: Vec<Agent>,
    // Fx hashing: the keys are our own ids, and these lookups are the hot path.
    agent_index: FxHashMap<AgentId, AgentIdx>,
    groups: Vec<Group>,
    group_index: FxHashMap<GroupId, GroupIdx>,
    sessions: FxHashMap<SessionId, Session>,
    timers: Timers,
    outputs: VecDeque<Output>,
    /// Arrival counter for queue order (back of the queue).
    next_order: i64,
    /// Decreasing counter for sessions put back at the front of a queue.
    front_order: i64,
    /// Global assignment counter (agent idle order).
    assign_seq: u64,
    /// Groups where an assignment may have become possible.
    dirty_groups: GroupSet,
    /// Groups whose queue changed: positions to tell.
    queue_changed: GroupSet,
    /// Groups whose queue or seats changed: saturation to re-check.
    pace_touched: GroupSet,
    /// Agents a chat left during this input: the seat it freed, when taken by
    /// a waiting customer, is a sample of their groups' pace (`pace.rs`).
    departed: Vec<AgentIdx>,
    /// Waiting sessions that must not go back to the agent who sent them.
    waiting_excluded: usize,
    /// Reused by `dispatch` to avoid an allocation per decision.
    scratch_groups: Vec<GroupIdx>,
    complaint_words: complaint::Words,
}

impl Router {
    /// Builds a router from a validated config; refuses one that cannot work.
    pub fn new(config: RouterConfig) -> Result<Router, ConfigError> {
        config.validate()?;
        let mut groups: Vec<Group> = config
            .groups
            .iter()
            .map(|g| Group {
                id: g.id.clone(),
                name: Arc::from(g.name.as_deref().unwrap_or(g.id.as_str())),
                max_queue: g.max_queue,
                overflow_to: Vec::new(),
                overflow_from: Vec::new(),
                overflow_after: g.overflow_after,
                hours: GroupHours {
                    service_hours: g.service_hours.as_deref().map(Arc::from),
                    ..GroupHours::ALWAYS_OPEN
                },
                members: Vec::new(),
                on_duty: 0,
                serving_agents: 0,
                serving_seats: 0,
                free_seats: 0,
                queue: Queue::default(),
                overflow_in: BTreeSet::new(),
                eligible: BTreeSet::new(),
                active: 0,
                pace: Default::default(),
                queue_tick: None,
            })
            .collect();
        let group_index: FxHashMap<GroupId, GroupIdx> =
            groups.iter().enumerate().map(|(i, g)| (g.id.clone(), i as GroupIdx)).collect();
        for (i, g) in config.groups.iter().enumerate() {
            groups[i].overflow_to = g.overflow_to.iter().map(|o| group_index[o]).collect();
            for o in &g.overflow_to {
                groups[group_index[o] as usize].overflow_from.push(i as GroupIdx);
            }
        }
        let mut agents = Vec::with_capacity(config.agents.len());
        for (i, a) in config.agents.iter().enumerate() {
            let agent = Agent::from_config(a, &group_index);
            for &(g, _) in &agent.memberships {
                groups[g as usize].members.push(i as AgentIdx);
            }
            agents.push(agent);
        }
        let agent_index = agents.iter().enumerate().map(|(i, a)| (a.id.clone(), i as AgentIdx)).collect();
        let complaint_words = complaint::Words::new(&config.rules.complaint);
        let group_count = groups.len();
        Ok(Router {
            config,
            now: Millis::ZERO,
            agents,
            agent_index,
            groups,
            group_index,
            sessions: FxHashMap::default(),
            timers: Timers::default(),
            outputs: VecDeque::new(),
            next_order: 0,
            front_order: 0,
            assign_seq: 0,
            dirty_groups: GroupSet::with_groups(group_count),
            queue_changed: GroupSet::with_groups(group_count),
            pace_touched: GroupSet::with_groups(group_count),
            departed: Vec::new(),
            waiting_excluded: 0,
            scratch_groups: Vec::new(),
            complaint_words,
        })
    }

    /// Applies one input at time `now` (earlier times are taken as the last
    /// time seen: the clock never runs backwards). Due timers fire first.
    /// On `Err`, the input changed nothing.
    pub fn handle(&mut self, now: Millis, input: Input) -> Result<(), RuleError> {
        self.advance(now);
        let result = match input {
            Input::CustomerJoin { session, group, priority, customer_name, customer_id } => {
                self.customer_join(session, &group, priority, customer::Who { customer_name, customer_id })
            }
            Input::CustomerMessage { session, text } => self.customer_message(session, text),
            Input::CustomerTyping { session } => self.customer_typing(session),
            Input::CustomerDisconnected { session } => self.customer_disconnected(session),
            Input::CustomerReconnected { session } => self.customer_reconnected(session),
            Input::CustomerLeave { session } => self.customer_leave(session),
            Input::CustomerConsent { session, accept } => self.customer_consent(session, accept),
            Input::CustomerConfirmResolved { session, resolved } => self.customer_confirm_resolved(session, resolved),
            Input::CustomerRate { session, rating } => self.customer_rate(session, rating),
            Input::AgentConnected { agent } => self.agent_connected(&agent),
            Input::AgentDisconnected { agent } => self.agent_disconnected(&agent),
            Input::AgentSetAvailability { agent, availability } => self.agent_set_availability(&agent, availability),
            Input::AgentReply { agent, session, text } => self.agent_reply(&agent, session, text),
            Input::AgentTyping { agent, session } => self.agent_typing(&agent, session),
            Input::AgentAskResolved { agent, session } => self.agent_ask_resolved(&agent, session),
            Input::AgentTransfer { agent, session, target, note, skip_consent } => {
                self.agent_transfer(&agent, session, target, note, skip_consent)
            }
            Input::AgentClose { agent, session, reason } => self.agent_close(&agent, session, reason),
            Input::SetGroupHours { groups } => self.set_group_hours(groups),
            Input::ContentFlagged { agent, session, rules } => self.content_flagged(&agent, session, rules),
        };
        self.settle();
        result
    }

    /// Fires every timer due at or before `now`.
    pub fn handle_timeout(&mut self, now: Millis) {
        self.advance(now);
        self.settle();
    }

    /// When the router next needs [`Router::handle_timeout`], if ever.
    pub fn poll_timeout(&self) -> Option<Millis> {
        // `settle` leaves a live deadline on top, so this is never a stale one.
        self.timers.peek().map(|(at, _)| at)
    }

    /// The next output, in the order produced.
    pub fn poll_output(&mut self) -> Option<Output> {
        let output = self.outputs.pop_front();
        if self.outputs.is_empty() {
            // Rewind the empty ring to its start: otherwise each burst of
            // outputs is written further along a buffer sized for the largest
            // burst ever, to lines long gone from the cache.
            self.outputs.clear();
        }
        output
    }

    pub fn config(&self) -> &RouterConfig {
        &self.config
    }

    /// Replaces the rules, e.g. when a restart resumes a saved router under
    /// an edited config (check [`RouterConfig::same_groups`] first: groups
    /// cannot change). Refused, changing nothing, when
    /// [`Rules::validate`] refuses them.
    ///
    /// Timers already armed keep their deadlines: a reply warning armed
    /// under the old `reply_warning` fires when it was due, a closed session
    /// is forgotten when its old rating window ends. Every later decision
    /// uses the new numbers: the next timer armed (the slow-reply check that
    /// follows a warning included), every check of a message or note, the
    /// dispatcher's agent order under a new `assignment_strategy`, the
    /// complaint words. Histories longer than a lowered `max_history` lose
    /// their oldest entries at once.
    pub fn set_rules(&mut self, rules: Rules) -> Result<(), ConfigError> {
        rules.validate()?;
        self.complaint_words = complaint::Words::new(&rules.complaint);
        self.config.rules = rules;
        let limits = HistoryLimits::of(&self.config.rules);
        for s in self.sessions.values_mut() {
            limits.trim(s, 0);
        }
        // The eligible sets are ordered by the strategy's key.
        self.rebuild_eligible();
        Ok(())
    }

    /// The latest time the router has seen.
    pub fn now(&self) -> Millis {
        self.now
    }

    /// Groups and agents at a glance.
    pub fn snapshot(&self, now: Millis) -> Snapshot {
        let groups = self.group_snapshots(now);
        let agents = self
            .agents
            .iter()
            .filter(|a| !a.retired)
            .map(|a| AgentSnapshot {
                id: a.id.clone(),
                name: a.name.clone(),
                role: a.role,
                state: a.state(),
                load: a.load(),
                capacity: a.capacity,
                groups: a.memberships.iter().map(|(g, _)| self.groups[*g as usize].id.clone()).collect(),
                break_reason: match &a.presence {
                    Presence::OnBreak { reason, .. } => Some(reason.clone()),
                    _ => None,
                },
            })
            .collect();
        Snapshot { groups, agents }
    }

    /// The groups part of [`Router::snapshot`], without building every agent's
    /// entry: what the metrics gauges need, several times a second.
    pub fn group_snapshots(&self, now: Millis) -> Vec<GroupSnapshot> {
        let now = now.max(self.now);
        self.groups
            .iter()
            .map(|g| {
                // Counted by position in `ALL`: no string per member.
                let mut counts = [0u32; AgentState::ALL.len()];
                for &a in &g.members {
                    let state = self.agents[a as usize].state();
                    counts[AgentState::ALL.iter().position(|&s| s == state).expect("ALL lists every state")] += 1;
                }
                let agents = AgentState::ALL.iter().zip(counts).map(|(s, n)| (s.label().to_string(), n)).collect();
                GroupSnapshot {
                    id: g.id.clone(),
                    name: g.name.clone(),
                    open: g.hours.open,
                    next_change: g.hours.next_change,
                    waiting: g.queue.len(),
                    active: g.active,
                    oldest_wait: self.oldest_wait_at(g, now),
                    agents,
                }
            })
            .collect()
    }

    /// Each group's hours as the router holds them, in config order: what
    /// the driver compares with the calendar to know what changed.
    pub fn group_hours(&self) -> impl Iterator<Item = (&GroupId, &GroupHours)> {
        self.groups.iter().map(|g| (&g.id, &g.hours))
    }

    /// Whether a session is open (`Some(false)`: closed, still within its
    /// rating window; `None`: forgotten or never known). Unlike
    /// [`Router::session_status`] it does not work out a queue position.
    pub fn session_open(&self, session: SessionId) -> Option<bool> {
        self.sessions.get(&session).map(|s| !s.is_closed())
    }

    /// Where a session is, for a customer resuming it. `None` once a closed
    /// session's rating window has passed.
    pub fn session_status(&self, session: SessionId) -> Option<SessionStatus> {
        let s = self.sessions.get(&session)?;
        let group = self.groups[s.group as usize].id.clone();
        Some(match &s.phase {
            Phase::Waiting { key, .. } => {
                let position = self.groups[s.group as usize].queue.position(key).unwrap_or(0) as u32;
                SessionStatus::Waiting { group, position }
            }
            Phase::Assigned { agent, .. } => {
                let a = &self.agents[*agent as usize];
                SessionStatus::Assigned {
                    group,
                    agent: a.id.clone(),
                    agent_name: a.name.clone(),
                    consent_pending: s.consent.is_some(),
                }
            }
            Phase::Closed { reason, can_rate, rated, .. } => {
                SessionStatus::Closed { reason: *reason, can_rate: *can_rate && !*rated }
            }
        })
    }

    /// A session with its history and handoff notes.
    pub fn session_view(&self, session: SessionId) -> Option<SessionView> {
        self.sessions.get(&session).map(|s| self.view(s))
    }

    /// The figures and conduct flags kept for an agent.
    pub fn agent_record(&self, agent: &AgentId) -> Option<&AgentRecord> {
        self.agent_index.get(agent).map(|&a| &self.agents[a as usize].record)
    }

    /// The open sessions of an agent, in assignment order.
    pub fn agent_sessions(&self, agent: &AgentId) -> Option<&[SessionId]> {
        self.agent_index.get(agent).map(|&a| self.agents[a as usize].sessions.as_slice())
    }

    // ---- plumbing shared by the handlers ----

    fn advance(&mut self, now: Millis) {
        self.now = self.now.max(now);
        while let Some((at, timer)) = self.timers.peek().filter(|&(at, _)| at <= self.now) {
            // Live only if its owner's slot still holds this deadline; firing clears the slot.
            let live = self.timer_slot(timer).is_some_and(|slot| slot.take_if(|t| *t == at).is_some());
            self.timers.pop(live);
            if live {
                self.fire(at, timer);
            }
        }
    }

    /// After any change: assign what can be assigned, tell queues, and leave
    /// a live deadline on top of the timer table for `poll_timeout`.
    fn settle(&mut self) {
        self.dispatch();
        self.restart_paces();
        self.flush_queue_positions();
        if self.timers.wants_compaction() {
            let mut timers = std::mem::take(&mut self.timers);
            timers.retain(|at, timer| self.timer_is_live(at, timer));
            self.timers = timers;
        }
        while let Some((at, timer)) = self.timers.peek() {
            if self.timer_is_live(at, timer) {
                break;
            }
            self.timers.pop(false);
        }
    }

    /// Does the owner of `timer` still hold deadline `at` (not cancelled or re-armed)?
    fn timer_is_live(&mut self, at: Millis, timer: Timer) -> bool {
        self.timer_slot(timer).is_some_and(|slot| *slot == Some(at))
    }

    /// Where the owner of a timer keeps its deadline (`None` if the owner is
    /// gone or no longer has such a slot, e.g. a session no longer waiting).
    fn timer_slot(&mut self, timer: Timer) -> Option<&mut Option<Millis>> {
        match timer {
            Timer::Reply(s) => self.sessions.get_mut(&s).map(|s| &mut s.reply_timer),
            Timer::Overflow(s) => match &mut self.sessions.get_mut(&s)?.phase {
                Phase::Waiting { overflow_timer, .. } => Some(overflow_timer),
                _ => None,
            },
            Timer::Consent(s) => self.sessions.get_mut(&s)?.consent.as_mut().map(|c| &mut c.timer),
            Timer::CustomerGrace(s) => self.sessions.get_mut(&s).map(|s| &mut s.grace_timer),
            Timer::CustomerIdle(s) => self.sessions.get_mut(&s).map(|s| &mut s.idle_timer),
            Timer::Forget(s) => self.sessions.get_mut(&s).map(|s| &mut s.forget_timer),
            Timer::AgentGrace(a) => Some(&mut self.agents[a as usize].grace_timer),
            Timer::BreakAllowance(a) => Some(&mut self.agents[a as usize].break_timer),
            Timer::QueueTick(g) => Some(&mut self.groups[g as usize].queue_tick),
        }
    }

    /// Every deadline an owner's slot holds, with its timer: the live
    /// entries of the timer table, all of them (the slots are the ones
    /// [`Router::timer_slot`] knows). In no particular order.
    fn armed_timers(&self) -> Vec<(Millis, Timer)> {
        let mut armed = Vec::new();
        for s in self.sessions.values() {
            let id = s.id;
            let overflow = match s.phase {
                Phase::Waiting { overflow_timer, .. } => overflow_timer,
                _ => None,
            };
            let slots = [
                (s.reply_timer, Timer::Reply(id)),
                (overflow, Timer::Overflow(id)),
                (s.consent.as_ref().and_then(|c| c.timer), Timer::Consent(id)),
                (s.grace_timer, Timer::CustomerGrace(id)),
                (s.idle_timer, Timer::CustomerIdle(id)),
                (s.forget_timer, Timer::Forget(id)),
            ];
            armed.extend(slots.into_iter().filter_map(|(at, timer)| Some((at?, timer))));
        }
        for (a, agent) in self.agents.iter().enumerate() {
            let a = a as AgentIdx;
            let slots = [(agent.grace_timer, Timer::AgentGrace(a)), (agent.break_timer, Timer::BreakAllowance(a))];
            armed.extend(slots.into_iter().filter_map(|(at, timer)| Some((at?, timer))));
        }
        for (g, group) in self.groups.iter().enumerate() {
            armed.extend(group.queue_tick.map(|at| (at, Timer::QueueTick(g as GroupIdx))));
        }
        armed
    }

    fn fire(&mut self, at: Millis, timer: Timer) {
        match timer {
            Timer::Reply(s) => self.fire_reply(s, at),
            Timer::Overflow(s) => self.fire_overflow(s),
            Timer::Consent(s) => self.fire_consent_timeout(s),
            Timer::CustomerGrace(s) => self.close(s, CloseReason::CustomerLost),
            Timer::CustomerIdle(s) => self.fire_customer_idle(s),
            Timer::Forget(s) => {
                if self.sessions.remove(&s).is_some() {
                    self.event(Event::SessionForgotten { session: s });
                }
            }
            Timer::AgentGrace(a) => self.fire_agent_grace(a),
            Timer::BreakAllowance(a) => self.fire_break_allowance(a),
            Timer::QueueTick(g) => self.fire_queue_tick(g),
        }
    }

    fn emit(&mut self, output: Output) {
        self.outputs.push_back(output);
    }

    fn event(&mut self, event: Event) {
        self.outputs.push_back(Output::Event { event });
    }

    fn notify_agent(&mut self, agent: AgentIdx, notice: AgentNotice) {
        let agent = self.agents[agent as usize].id.clone();
        self.outputs.push_back(Output::ToAgent { agent, notice });
    }

    fn notify_customer(&mut self, session: SessionId, notice: CustomerNotice) {
        self.outputs.push_back(Output::ToCustomer { session, notice });
    }

    fn agent_idx(&self, agent: &AgentId) -> Result<AgentIdx, RuleError> {
        self.agent_index
            .get(agent)
            .copied()
            .filter(|&a| !self.agents[a as usize].retired)
            .ok_or_else(|| RuleError::UnknownAgent(agent.clone()))
    }

    fn session(&self, session: SessionId) -> Result<&Session, RuleError> {
        self.sessions.get(&session).ok_or(RuleError::UnknownSession(session))
    }

    fn session_mut(&mut self, session: SessionId) -> &mut Session {
        self.sessions.get_mut(&session).expect("session checked by the caller")
    }

    fn view(&self, s: &Session) -> SessionView {
        SessionView {
            session: s.id,
            group: self.groups[s.group as usize].id.clone(),
            customer_name: s.customer_name.clone(),
            customer_id: s.customer_id.clone(),
            overflowed_from: s
                .agent()
                .filter(|&a| self.agents[a as usize].level_in(s.group).is_none())
                .map(|_| self.groups[s.group as usize].id.clone()),
            priority: s.priority,
            history: s.history.iter().cloned().collect(),
            notes: s.notes.clone(),
            unanswered_since: s.unanswered_since,
            reply_clock_since: s.reply_clock_since,
            assigned_at: match s.phase {
                Phase::Assigned { since, .. } => since,
                _ => self.now,
            },
        }
    }

    fn push_history(&mut self, session: SessionId, from: Speaker, text: Arc<str>) {
        let limits = HistoryLimits::of(&self.config.rules);
        let now = self.now;
        let s = self.session_mut(session);
        limits.trim(s, text.len());
        s.history_bytes += text.len();
        s.history.push_back(HistoryEntry { at: now, from, text });
    }
}

/// How much history a session keeps: `rules.max_history` entries and
/// `rules.max_history_bytes` bytes of text, oldest dropped first. The byte
/// bound is what keeps an agent's `state` frame (every open session with its
/// history) within what the gateway can send.
#[derive(Clone, Copy)]
struct HistoryLimits {
    entries: usize,
    bytes: usize,
}

impl HistoryLimits {
    fn of(rules: &Rules) -> HistoryLimits {
        HistoryLimits { entries: rules.max_history, bytes: rules.max_history_bytes }
    }

    /// Drops the oldest entries until `incoming` more bytes (and one more
    /// entry, when `incoming` is not zero) fit. A single message always
    /// fits: `validate` keeps the byte bound above the longest message.
    fn trim(self, s: &mut Session, incoming: usize) {
        let room_for = usize::from(incoming > 0);
        while let Some(oldest) = s.history.front() {
            let too_many = s.history.len() + room_for > self.entries;
            let too_big = s.history_bytes + incoming > self.bytes;
            if !too_many && !too_big {
                break;
            }
            s.history_bytes -= oldest.text.len();
            s.history.pop_front();
        }
    }
}

impl Router {
    /// Ends a session (from any open phase) and tells everyone concerned.
    fn close(&mut self, session: SessionId, reason: CloseReason) {
        let Some(s) = self.sessions.get(&session) else { return };
        let agent = match s.phase {
            Phase::Closed { .. } => return,
            Phase::Waiting { .. } => {
                self.unqueue(session);
                None
            }
            Phase::Assigned { agent, .. } => {
                self.release(session, agent);
                self.agents[agent as usize].record.sessions_closed += 1;
                self.notify_agent(
                    agent,
                    AgentNotice::SessionEnded { session, why: SessionEndedWhy::Closed { reason } },
                );
                Some(agent)
            }
        };
        let can_rate = agent.is_some() && reason != CloseReason::CustomerLost;
        let forget_at = self.now + self.config.rules.rating_window;
        let s = self.sessions.get_mut(&session).expect("present");
        s.phase = Phase::Closed { reason, agent, can_rate, rated: false };
        let group = s.group;
        self.timers.disarm(&mut s.grace_timer);
        self.timers.arm(&mut s.forget_timer, forget_at, Timer::Forget(session));
        self.notify_customer(session, CustomerNotice::Closed { reason, can_rate });
        let group = self.groups[group as usize].id.clone();
        let agent = agent.map(|a| self.agents[a as usize].id.clone());
        self.event(Event::SessionClosed { session, group, agent, reason });
    }

    /// Detaches a session from its agent: load, reply clock, pending consent.
    fn release(&mut self, session: SessionId, agent: AgentIdx) {
        let now = self.now;
        let s = self.sessions.get_mut(&session).expect("present");
        let group = s.group;
        if let Phase::Assigned { since, .. } = s.phase {
            self.groups[group as usize].pace.record_chat(now.since(since));
        }
        self.departed.push(agent);
        let mut consent = s.consent.take().and_then(|c| c.timer);
        s.reply_clock_since = None;
        s.warned = false;
        self.timers.disarm(&mut s.reply_timer);
        self.timers.disarm(&mut s.idle_timer);
        self.timers.disarm(&mut consent);
        self.agents[agent as usize].sessions.retain(|&x| x != session);
        self.groups[group as usize].active -= 1;
        self.refresh_agent(agent);
    }

    /// Re-lists an agent in its groups' eligible sets after any change to
    /// its presence, connection or load, and reports a changed state.
    fn refresh_agent(&mut self, a: AgentIdx) {
        let agent = &self.agents[a as usize];
        let want = agent.can_take().then(|| (agent.load(), agent.last_assign_seq));
        let old = agent.listed;
        if want != old {
            // Only a new or lighter listing can make an assignment possible.
            let freer = match (old, want) {
                (None, Some(_)) => true,
                (Some((old_load, _)), Some((new_load, _))) => new_load < old_load,
                _ => false,
            };
            let seats = (agent.free_seats(old), agent.free_seats(want));
            for i in 0..self.agents[a as usize].memberships.len() {
                let (g, level) = self.agents[a as usize].memberships[i];
                self.relist_seats(g, seats);
                if let Some((load, seq)) = old {
                    let key = self.agent_key(a, level, load, seq);
                    dispatch::remove_from(&mut self.groups[g as usize].eligible, &key);
                }
                if let Some((load, seq)) = want {
                    let key = self.agent_key(a, level, load, seq);
                    self.groups[g as usize].eligible.insert(key);
                    if freer {
                        self.dirty_groups.insert(g);
                    }
                }
            }
            self.agents[a as usize].listed = want;
        }
        self.recount_serving(a);
        let agent = &mut self.agents[a as usize];
        let on_duty = agent.is_on_duty();
        if on_duty != agent.counted_on_duty {
            agent.counted_on_duty = on_duty;
            for &(g, _) in &agent.memberships {
                let count = &mut self.groups[g as usize].on_duty;
                *count = if on_duty { *count + 1 } else { *count - 1 };
            }
            if !on_duty && self.waiting_excluded > 0 {
                // The last colleague leaving lifts a session's exclusion
                // (`colleague_on_duty`), wherever its sender is eligible: a
                // rare event, so look at every group.
                for g in 0..self.groups.len() {
                    self.dirty_groups.insert(g as GroupIdx);
                }
            }
        }
        let state = agent.state();
        if state != agent.reported_state {
            let from = std::mem::replace(&mut agent.reported_state, state);
            let id = agent.id.clone();
            self.event(Event::AgentStateChanged { agent: id, from, to: state });
            self.notify_agent(a, AgentNotice::StateChanged { state });
        }
    }

    fn raise_priority(&mut self, session: SessionId, signal: ComplaintSignal) {
        let s = self.sessions.get(&session).expect("present");
        if s.priority < Priority::High {
            self.requeue_with_priority(session, Priority::High);
            self.event(Event::PriorityRaised { session, priority: Priority::High });
        }
        let s = self.sessions.get(&session).expect("present");
        if let Some(agent) = s.agent() {
            let priority = s.priority;
            self.notify_agent(agent, AgentNotice::PriorityRaised { session, priority, signal });
        }
    }
}
