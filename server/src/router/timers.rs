//! The core's timer table: every pending deadline, ordered by time.
//!
//! Each (entity, kind) has at most one live entry; the owner remembers the
//! deadline it armed so that cancelling is an exact removal, never a scan.
//! Overflow timers are the exception: cancelling one would cost a tree
//! operation on every assignment, so they are left to fire and are ignored
//! when the session is no longer waiting with that deadline.

use std::collections::BTreeSet;

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

#[derive(Debug, Default)]
pub(crate) struct Timers {
    pending: BTreeSet<(Millis, Timer)>,
}

impl Timers {
    pub(crate) fn arm(&mut self, slot: &mut Option<Millis>, at: Millis, timer: Timer) {
        self.disarm(slot, timer);
        self.pending.insert((at, timer));
        *slot = Some(at);
    }

    pub(crate) fn disarm(&mut self, slot: &mut Option<Millis>, timer: Timer) {
        if let Some(at) = slot.take() {
            self.pending.remove(&(at, timer));
        }
    }

    pub(crate) fn next_deadline(&self) -> Option<Millis> {
        self.pending.first().map(|(at, _)| *at)
    }

    /// Removes and returns the earliest timer due at or before `now`.
    pub(crate) fn pop_due(&mut self, now: Millis) -> Option<(Millis, Timer)> {
        match self.pending.first() {
            Some(&(at, _)) if at <= now => self.pending.pop_first(),
            _ => None,
        }
    }
}
