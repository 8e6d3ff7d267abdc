//! The core's timer table: every pending deadline, earliest first.
//!
//! Each (entity, kind) has at most one live deadline, kept by its owner in a
//! slot (`Option<Millis>`). The table is a binary heap with lazy
//! cancellation: disarming clears the owner's slot and leaves the entry,
//! which is dropped when it reaches the top and its slot no longer holds
//! that deadline ([`Router`](super::Router) checks). Arming is then one push,
//! usually with no sift at all since new deadlines are the latest, instead of
//! a tree insert and remove on every assignment and reply. Stale entries are
//! bounded: once they outnumber live ones the heap is rebuilt.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::ids::SessionId;
use super::time::Millis;

/// What happens when a deadline passes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Timer {
    /// Check the session's reply clock (1-minute warning, then 3-minute violation).
    Reply(SessionId),
    /// A waiting session becomes eligible for its group's overflow groups.
    Overflow(SessionId),
    /// The customer did not answer a cross-group transfer prompt.
    Consent(SessionId),
    /// A disconnected customer did not come back.
    CustomerGrace(SessionId),
    /// Check whether the customer has gone idle.
    CustomerIdle(SessionId),
    /// A closed session can no longer be rated: forget it.
    Forget(SessionId),
    /// A disconnected agent did not come back.
    AgentGrace(u32),
    /// An agent on break reaches the shift's break allowance.
    BreakAllowance(u32),
    /// Send coalesced queue-position updates for a group.
    QueueTick(u32),
}

/// Deadlines are clamped below 2^60 ms (36 million years) to fit the key.
pub(crate) const MAX_AT: u64 = (1 << 60) - 1;

/// A heap entry: deadline, then kind, then id, packed so that the integer
/// order is the (deadline, timer) order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Entry(u128);

impl Entry {
    fn new(at: Millis, timer: Timer) -> Entry {
        let (kind, id) = match timer {
            Timer::Reply(s) => (0, s.0),
            Timer::Overflow(s) => (1, s.0),
            Timer::Consent(s) => (2, s.0),
            Timer::CustomerGrace(s) => (3, s.0),
            Timer::CustomerIdle(s) => (4, s.0),
            Timer::Forget(s) => (5, s.0),
            Timer::AgentGrace(a) => (6, a as u64),
            Timer::BreakAllowance(a) => (7, a as u64),
            Timer::QueueTick(g) => (8, g as u64),
        };
        debug_assert!(at.0 <= MAX_AT, "deadlines are clamped when armed");
        Entry((at.0 as u128) << 68 | (kind as u128) << 64 | id as u128)
    }

    fn at(self) -> Millis {
        Millis((self.0 >> 68) as u64)
    }

    fn timer(self) -> Timer {
        let id = self.0 as u64;
        match (self.0 >> 64) as u8 & 0xf {
            0 => Timer::Reply(SessionId(id)),
            1 => Timer::Overflow(SessionId(id)),
            2 => Timer::Consent(SessionId(id)),
            3 => Timer::CustomerGrace(SessionId(id)),
            4 => Timer::CustomerIdle(SessionId(id)),
            5 => Timer::Forget(SessionId(id)),
            6 => Timer::AgentGrace(id as u32),
            7 => Timer::BreakAllowance(id as u32),
            _ => Timer::QueueTick(id as u32),
        }
    }
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Timers {
    heap: BinaryHeap<Reverse<Entry>>,
    /// Entries whose slot was cleared or re-armed (an estimate: entries of
    /// records that went away uncounted are found when they surface).
    stale: usize,
}

impl Timers {
    /// A table holding exactly these deadlines, all live: what a restored
    /// router rebuilds from its owners' slots. Deadlines must fit the key
    /// (`MAX_AT`), as armed ones always do.
    pub(crate) fn with_live(deadlines: impl IntoIterator<Item = (Millis, Timer)>) -> Timers {
        let heap = deadlines.into_iter().map(|(at, timer)| Reverse(Entry::new(at, timer))).collect();
        Timers { heap, stale: 0 }
    }

    /// Arms `timer` at `at`, replacing whatever deadline `slot` held.
    pub(crate) fn arm(&mut self, slot: &mut Option<Millis>, at: Millis, timer: Timer) {
        self.disarm(slot);
        let at = Millis(at.0.min(MAX_AT));
        self.heap.push(Reverse(Entry::new(at, timer)));
        *slot = Some(at);
    }

    /// Cancels the deadline `slot` held, if any.
    pub(crate) fn disarm(&mut self, slot: &mut Option<Millis>) {
        if slot.take().is_some() {
            self.stale += 1;
        }
    }

    /// The earliest entry, live or stale.
    pub(crate) fn peek(&self) -> Option<(Millis, Timer)> {
        self.heap.peek().map(|Reverse(e)| (e.at(), e.timer()))
    }

    /// Removes the earliest entry; `live` says whether its slot still held it.
    pub(crate) fn pop(&mut self, live: bool) {
        self.heap.pop();
        if !live {
            self.stale = self.stale.saturating_sub(1);
        }
    }

    /// Whether stale entries outnumber live ones enough to rebuild.
    pub(crate) fn wants_compaction(&self) -> bool {
        self.stale > 1024 && self.stale > self.heap.len() / 2
    }

    /// Keeps only the entries for which `live` holds.
    pub(crate) fn retain(&mut self, mut live: impl FnMut(Millis, Timer) -> bool) {
        self.heap.retain(|Reverse(e)| live(e.at(), e.timer()));
        self.stale = 0;
    }

    /// Entries held, live and stale.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.heap.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_order_by_deadline_then_kind_then_id_and_round_trip() {
        let timers = [
            (Millis(5), Timer::Reply(SessionId(u64::MAX))),
            (Millis(5), Timer::Overflow(SessionId(0))),
            (Millis(5), Timer::QueueTick(u32::MAX)),
            (Millis(6), Timer::Reply(SessionId(0))),
            (Millis(MAX_AT), Timer::Forget(SessionId(7))),
        ];
        for pair in timers.windows(2) {
            assert!(Entry::new(pair[0].0, pair[0].1) < Entry::new(pair[1].0, pair[1].1), "{pair:?}");
            assert!(pair[0] < pair[1], "the packed order must be the derived order: {pair:?}");
        }
        for (at, timer) in timers {
            let e = Entry::new(at, timer);
            assert_eq!((e.at(), e.timer()), (at, timer));
        }
    }

    #[test]
    fn deadlines_past_the_key_range_are_clamped_not_wrapped() {
        let mut timers = Timers::default();
        let mut far = None;
        timers.arm(&mut far, Millis(u64::MAX), Timer::Forget(SessionId(1)));
        let mut near = None;
        timers.arm(&mut near, Millis(10), Timer::Forget(SessionId(2)));
        assert_eq!(far, Some(Millis(MAX_AT)));
        assert_eq!(timers.peek(), Some((Millis(10), Timer::Forget(SessionId(2)))));
    }

    #[test]
    fn re_arming_leaves_stale_entries_until_compaction_keeps_the_live_ones() {
        let mut timers = Timers::default();
        let mut slot = None;
        for at in 1..=3_000 {
            timers.arm(&mut slot, Millis(at), Timer::Reply(SessionId(1)));
        }
        assert_eq!(timers.len(), 3_000, "cancelling is lazy");
        assert!(timers.wants_compaction());
        timers.retain(|at, _| slot == Some(at));
        assert_eq!(timers.len(), 1);
        assert!(!timers.wants_compaction());
        assert_eq!(timers.peek(), Some((Millis(3_000), Timer::Reply(SessionId(1)))));
    }
}
