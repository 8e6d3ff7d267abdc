//! The core's internal records of agents, skill groups and sessions.

use std::cmp::Reverse;
use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::config::Role;
use super::ids::{AgentId, GroupId, SessionId};
use super::input::{GroupHours, Priority, TransferTarget};
use super::output::{AgentState, CloseReason, HandoffNote, HistoryEntry};
use super::pace::Pace;
use super::queue::Queue;
use super::snapshot::AgentRecord;
use super::time::Millis;

pub(crate) type AgentIdx = u32;
pub(crate) type GroupIdx = u32;

/// Order of a waiting session in a queue: priority first, then arrival.
/// `order` is a global counter, so keys compare across groups (overflow);
/// sessions put back at the front get negative orders.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct QueueKey {
    pub(crate) priority: Reverse<Priority>,
    pub(crate) order: i64,
    pub(crate) session: SessionId,
}

/// Order of an eligible agent within one group: the first is chosen.
/// Packed into one integer so that the eligible sets, searched several times
/// per decision, compare with a single instruction. From the high bits: the
/// level (higher first), the load (lower first), the global sequence number
/// of the agent's last assignment (lower = idle longer) and the agent's
/// index (roster order breaks the tie between agents never assigned).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct AgentKey(u128);

/// Agent indexes fit the key's low 24 bits (the roster is capped to match).
pub(crate) const MAX_AGENTS: usize = 1 << 24;

impl AgentKey {
    pub(crate) fn new(level: u8, load: u32, seq: u64, agent: AgentIdx) -> AgentKey {
        debug_assert!((agent as usize) < MAX_AGENTS);
        let level = (u8::MAX - level) as u128;
        AgentKey(level << 120 | (load as u128) << 88 | (seq as u128) << 24 | agent as u128)
    }

    pub(crate) fn agent(self) -> AgentIdx {
        (self.0 as u32) & (MAX_AGENTS as u32 - 1)
    }
}

/// What the agent asked to be (as opposed to the derived [`AgentState`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Presence {
    Offline,
    Available,
    OnBreak { reason: Arc<str>, since: Millis },
}

/// Per-shift counters for the abusive-break rules. A shift runs from going
/// online to going offline.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Shift {
    pub(crate) breaks: u32,
    /// Break time already finished in this shift (the current break not included).
    pub(crate) break_time_ms: u64,
    pub(crate) break_too_long_flagged: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct Agent {
    pub(crate) id: AgentId,
    pub(crate) name: Arc<str>,
    pub(crate) role: Role,
    pub(crate) capacity: u32,
    /// (group, level), in roster order; the first is the agent's home group.
    pub(crate) memberships: Vec<(GroupIdx, u8)>,
    pub(crate) connected: bool,
    pub(crate) presence: Presence,
    pub(crate) sessions: Vec<SessionId>,
    /// Sequence number of the last assignment (0 = never).
    pub(crate) last_assign_seq: u64,
    pub(crate) last_assigned_at: Option<Millis>,
    /// The (load, seq) this agent is listed under in its groups' eligible sets.
    pub(crate) listed: Option<(u32, u64)>,
    pub(crate) grace_timer: Option<Millis>,
    pub(crate) break_timer: Option<Millis>,
    pub(crate) shift: Shift,
    /// When grace expiries moved this agent's sessions to others (recent ones).
    pub(crate) sheds: VecDeque<Millis>,
    pub(crate) record: AgentRecord,
    /// The state last reported in an event, to emit changes exactly once.
    pub(crate) reported_state: AgentState,
    /// Counted as on duty in its groups' `on_duty` (see [`Agent::is_on_duty`]).
    pub(crate) counted_on_duty: bool,
    /// Removed from the roster ([`crate::roster`]): keeps its position only.
    pub(crate) retired: bool,
    /// Counted in its groups' serving agents and seats (see
    /// [`Agent::is_serving`]). Not saved: between inputs it is `is_serving()`.
    pub(crate) counted_serving: bool,
}

impl Agent {
    pub(crate) fn load(&self) -> u32 {
        self.sessions.len() as u32
    }

    pub(crate) fn state(&self) -> AgentState {
        if !self.connected {
            return if self.grace_timer.is_some() { AgentState::Disconnected } else { AgentState::Offline };
        }
        match self.presence {
            Presence::Offline => AgentState::Offline,
            Presence::OnBreak { .. } => AgentState::OnBreak,
            Presence::Available if self.load() >= self.capacity => AgentState::Busy,
            Presence::Available => AgentState::Available,
        }
    }

    /// May the dispatcher (or a transfer) give this agent a new session?
    pub(crate) fn can_take(&self) -> bool {
        self.connected && self.presence == Presence::Available && self.load() < self.capacity && !self.retired
    }

    /// Signed in and not offline (available, busy or on break), or in the
    /// grace period: a colleague who may still take a session back (see
    /// `colleague_on_duty`).
    pub(crate) fn is_on_duty(&self) -> bool {
        ((self.connected && self.presence != Presence::Offline) || self.grace_timer.is_some()) && !self.retired
    }

    /// Can take a customer now or, when busy, as soon as one of their chats
    /// ends: connected and available. Not on break, not offline, not in the
    /// grace period of a lost connection (a disabled agent's connections are
    /// cut, so they never count). What a waiting customer is told about
    /// (`NoAgentOnline`) and what the wait estimate counts.
    pub(crate) fn is_serving(&self) -> bool {
        self.connected && self.presence == Presence::Available && !self.retired
    }

    /// Seats free for a new session while listed with `listed`'s load.
    pub(crate) fn free_seats(&self, listed: Option<(u32, u64)>) -> u32 {
        listed.map_or(0, |(load, _)| self.capacity.saturating_sub(load))
    }

    pub(crate) fn level_in(&self, group: GroupIdx) -> Option<u8> {
        self.memberships.iter().find(|(g, _)| *g == group).map(|(_, l)| *l)
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Group {
    pub(crate) id: GroupId,
    pub(crate) name: Arc<str>,
    pub(crate) max_queue: usize,
    pub(crate) overflow_to: Vec<GroupIdx>,
    /// The groups that overflow to this one (whose customers its agents may serve).
    pub(crate) overflow_from: Vec<GroupIdx>,
    pub(crate) overflow_after: std::time::Duration,
    /// Open or closed, and until when; the service hours' text ([`GroupHours`]).
    pub(crate) hours: GroupHours,
    pub(crate) members: Vec<AgentIdx>,
    /// Members on duty (see [`Agent::is_on_duty`]).
    pub(crate) on_duty: u32,
    /// Members who can serve (see [`Agent::is_serving`]), their capacity and
    /// their free seats: what a wait estimate needs, kept so it is O(1).
    pub(crate) serving_agents: u32,
    pub(crate) serving_seats: u32,
    pub(crate) free_seats: u32,
    /// This group's own waiting sessions, each with the position the
    /// customer was last told: kept here, not in the session, so that telling
    /// the front of a queue its new positions needs no session lookups.
    pub(crate) queue: Queue,
    /// Waiting sessions of other groups that overflowed to this one.
    pub(crate) overflow_in: BTreeSet<QueueKey>,
    /// Members who can take a session now, best first.
    pub(crate) eligible: BTreeSet<AgentKey>,
    /// Sessions of this group being served.
    pub(crate) active: usize,
    /// How fast the group serves its queue, for wait estimates.
    pub(crate) pace: Pace,
    /// Customers beyond the front may have a stale position; a tick is due.
    pub(crate) queue_tick: Option<Millis>,
}

/// A cross-group transfer waiting for the customer's answer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct PendingConsent {
    pub(crate) from: AgentIdx,
    pub(crate) target: TransferTarget,
    pub(crate) to_group: GroupIdx,
    pub(crate) note: Arc<str>,
    /// The customer's message had waited past the warning when the agent asked.
    pub(crate) late: bool,
    pub(crate) timer: Option<Millis>,
}

/// A transfer that happened, for the ping-pong and too-many rules.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct TransferRecord {
    pub(crate) from: AgentIdx,
    pub(crate) from_group: GroupIdx,
    pub(crate) at: Millis,
}

#[derive(Clone, Debug)]
pub(crate) enum Phase {
    Waiting {
        key: QueueKey,
        since: Millis,
        /// Listed in the overflow groups' `overflow_in` sets.
        overflowed: bool,
        overflow_timer: Option<Millis>,
    },
    Assigned {
        agent: AgentIdx,
        since: Millis,
    },
    Closed {
        reason: CloseReason,
        /// The agent who served last, who a rating counts for.
        agent: Option<AgentIdx>,
        can_rate: bool,
        rated: bool,
    },
}

/// Complaint-tendency bookkeeping for one session.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct ComplaintState {
    /// Hashes of recent normalised customer messages.
    pub(crate) recent_questions: VecDeque<u64>,
    /// Arrival times of recent customer messages.
    pub(crate) recent_messages: VecDeque<Millis>,
    /// Signals already raised (bit per signal): each is raised once per session.
    pub(crate) raised: u8,
}

#[derive(Clone, Debug)]
pub(crate) struct Session {
    pub(crate) id: SessionId,
    pub(crate) group: GroupIdx,
    pub(crate) priority: Priority,
    pub(crate) customer_name: Option<Arc<str>>,
    /// Set only for a verified customer (see `Input::CustomerJoin`).
    pub(crate) customer_id: Option<Arc<str>>,
    pub(crate) phase: Phase,
    pub(crate) history: VecDeque<HistoryEntry>,
    /// The bytes of text in `history`, kept within `rules.max_history_bytes`.
    pub(crate) history_bytes: usize,
    pub(crate) notes: Vec<HandoffNote>,
    /// The customer's oldest unanswered message.
    pub(crate) unanswered_since: Option<Millis>,
    /// When the current agent's reply clock started (never before assignment).
    pub(crate) reply_clock_since: Option<Millis>,
    pub(crate) warned: bool,
    pub(crate) reply_timer: Option<Millis>,
    pub(crate) last_agent_reply: Option<Millis>,
    pub(crate) idle_timer: Option<Millis>,
    /// Runs while the customer is disconnected: armed at the disconnect,
    /// cleared by a reconnect; the session closes when it fires.
    pub(crate) grace_timer: Option<Millis>,
    pub(crate) forget_timer: Option<Millis>,
    /// Boxed: rare, and every session would otherwise carry its 72 bytes.
    pub(crate) consent: Option<Box<PendingConsent>>,
    pub(crate) resolve_asked: bool,
    pub(crate) resolve_confirmed: bool,
    pub(crate) transfers: Vec<TransferRecord>,
    /// Not to be given straight back to the agent who sent it to the queue.
    pub(crate) excluded_agent: Option<AgentIdx>,
    /// Allocated at the customer's first message: a customer who only waits
    /// costs nothing here.
    pub(crate) complaint: Option<Box<ComplaintState>>,
}

impl Session {
    pub(crate) fn agent(&self) -> Option<AgentIdx> {
        match self.phase {
            Phase::Assigned { agent, .. } => Some(agent),
            _ => None,
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        matches!(self.phase, Phase::Closed { .. })
    }
}

/// A set of skill groups, as bits: the dispatcher marks and clears groups
/// several times per decision, which a tree set paid for with node
/// allocations. Iterates in ascending index order, so runs stay deterministic.
#[derive(Clone, Debug, Default)]
pub(crate) struct GroupSet {
    words: Vec<u64>,
}

impl GroupSet {
    pub(crate) fn with_groups(groups: usize) -> GroupSet {
        GroupSet { words: vec![0; groups.div_ceil(64)] }
    }

    pub(crate) fn insert(&mut self, g: GroupIdx) {
        self.words[g as usize / 64] |= 1 << (g % 64);
    }

    pub(crate) fn remove(&mut self, g: GroupIdx) {
        self.words[g as usize / 64] &= !(1 << (g % 64));
    }

    /// Removes and returns the lowest group in the set.
    pub(crate) fn pop_first(&mut self) -> Option<GroupIdx> {
        let g = self.first()?;
        self.remove(g);
        Some(g)
    }

    fn first(&self) -> Option<GroupIdx> {
        self.words.iter().enumerate().find(|(_, w)| **w != 0).map(|(i, w)| (i * 64) as GroupIdx + w.trailing_zeros())
    }

    /// The groups in ascending order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = GroupIdx> + '_ {
        self.words.iter().enumerate().flat_map(|(i, &word)| {
            let mut w = word;
            std::iter::from_fn(move || {
                (w != 0).then(|| {
                    let bit = w.trailing_zeros();
                    w &= w - 1;
                    (i * 64) as GroupIdx + bit
                })
            })
        })
    }
}
