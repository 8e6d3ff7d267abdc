//! Wait estimates: how fast a skill group really serves its queue, and what
//! that means for a customer at a given position.
//!
//! The unit is the *seat*: an agent who can serve (connected, available)
//! brings `capacity` seats, busy or free. A group's pace is the seat-time it
//! takes to serve one more of its waiting customers, measured two ways:
//!
//! - while the group is *saturated* (customers wait and no seat is free),
//!   every seat freed by a chat ending (or moving on) that goes to one of
//!   its waiting customers is a sample: the seat-time of saturated
//!   stretches since the previous sample. Seats a shared agent frees for
//!   another group's customer count as time without a sample, so a group
//!   that shares its agents is measured slower, as it is. Seats that appear
//!   free (an agent comes back from a break) are not samples: a burst of
//!   assignments then says nothing about the pace (the old estimate took
//!   the gaps between those for it, 0.1 s per position);
//! - until the first such sample: the group's chat durations (assignment
//!   to the chat leaving the agent), the seat-time one chat holds.
//!
//! Both are smoothed (each sample weighs 1/16). Before either exists, the
//! configured `rules.default_wait_per_position` per position is shared
//! among the agents who can serve. A stretch running longer than twice the
//! pace (nobody served for unusually long) slows the pace to half of it,
//! so an estimate never stays put while nothing moves.
//!
//! The wait at position `p` is then `(p - free seats) x pace / seats`: the
//! time for that many seats to free up (see `docs/domain.md`).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::output::WaitEstimate;
use super::time::Millis;

/// A new sample's weight in the smoothed averages: 1/16 (about the last
/// 16 chats count; with exponential chat durations that leaves about 18%
/// noise).
const SMOOTHING: u64 = 16;

/// A group's measured pace, saved with the router.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Pace {
    /// Smoothed chat duration (assignment to the chat leaving the agent), ms.
    handle_ms: Option<u64>,
    /// Smoothed seat-time per customer served while saturated, seat-ms.
    seat_ms: Option<u64>,
    /// Seat-time of saturated stretches since the last sample, seat-ms.
    pending_seat_ms: u64,
    /// The saturated stretch in progress: since when, with how many seats.
    stretch: Option<(Millis, u32)>,
}

impl Pace {
    /// Adds the stretch in progress up to `now` to the pending seat-time
    /// (the stretch goes on from `now`): call before the group's seats or
    /// queue change, so each stretch is counted with its own seats.
    pub(crate) fn close_stretch(&mut self, now: Millis) {
        if let Some((since, seats)) = &mut self.stretch {
            let ms = now.since(*since).as_millis().min(u64::MAX as u128) as u64;
            self.pending_seat_ms = self.pending_seat_ms.saturating_add(ms.saturating_mul(u64::from(*seats)));
            *since = now;
        }
    }

    /// Starts a saturated stretch with `seats` from `now`, or ends the one in progress (`None`).
    pub(crate) fn restart(&mut self, now: Millis, saturated_seats: Option<u32>) {
        self.close_stretch(now);
        self.stretch = saturated_seats.map(|seats| (now, seats));
    }

    pub(crate) fn is_saturated(&self) -> bool {
        self.stretch.is_some()
    }

    /// A chat of the group left its agent after `held`.
    pub(crate) fn record_chat(&mut self, held: Duration) {
        let ms = held.as_millis().min(u64::MAX as u128) as u64;
        self.handle_ms = Some(smooth(self.handle_ms, ms));
    }

    /// A seat freed by a chat ending went to one of the group's waiting
    /// customers: a sample, if the group was saturated until now.
    pub(crate) fn record_freed_seat_taken(&mut self, now: Millis) {
        if self.stretch.is_none() {
            return;
        }
        self.close_stretch(now);
        let sample = std::mem::take(&mut self.pending_seat_ms);
        // The first sample starts from the chat durations, not from one gap alone.
        self.seat_ms = Some(smooth(self.seat_ms.or(self.handle_ms), sample));
    }

    /// Seat-ms per customer served at `now`, and whether it was measured
    /// (`prior` is used until something is).
    fn seat_ms_per_customer(&self, now: Millis, prior: u64) -> (u64, bool) {
        let (pace, measured) = match self.seat_ms.or(self.handle_ms) {
            Some(ms) => (ms, true),
            None => (prior, false),
        };
        let mut pending = self.pending_seat_ms;
        if let Some((since, seats)) = self.stretch {
            let ms = now.since(since).as_millis().min(u64::MAX as u128) as u64;
            pending = pending.saturating_add(ms.saturating_mul(u64::from(seats)));
        }
        (pace.max(pending / 2).max(1), measured)
    }
}

fn smooth(average: Option<u64>, sample: u64) -> u64 {
    match average {
        Some(avg) => avg.saturating_mul(SMOOTHING - 1).saturating_add(sample) / SMOOTHING,
        None => sample,
    }
}

/// Who can serve a group now, as the estimate needs it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Serving<'a> {
    pub(crate) agents: u32,
    pub(crate) seats: u32,
    pub(crate) pace: &'a Pace,
}

/// How fast a group serves its queue now: customers per ms.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rate {
    per_ms: f64,
    measured: bool,
}

impl Rate {
    /// `None` when nobody can serve. `default_per_position` is the prior
    /// for one agent (`rules.default_wait_per_position`).
    pub(crate) fn of(serving: Serving<'_>, now: Millis, default_per_position: Duration) -> Option<Rate> {
        if serving.seats == 0 || serving.agents == 0 {
            return None;
        }
        let default_ms = default_per_position.as_millis().min(u64::MAX as u128) as u64;
        let prior = default_ms.saturating_mul(u64::from(serving.seats)) / u64::from(serving.agents);
        let (seat_ms, measured) = serving.pace.seat_ms_per_customer(now, prior);
        Some(Rate { per_ms: f64::from(serving.seats) / seat_ms as f64, measured })
    }

    /// Several groups serving the same customers (overflow): their rates add up.
    pub(crate) fn sum(rates: impl IntoIterator<Item = Rate>) -> Option<Rate> {
        rates.into_iter().reduce(|a, b| Rate { per_ms: a.per_ms + b.per_ms, measured: a.measured && b.measured })
    }
}

/// The wait estimate for each position of one group's queue, worked out
/// once per round of updates.
#[derive(Clone, Copy, Debug)]
pub(crate) enum WaitModel {
    /// Nobody can serve the group's customers.
    Unknown,
    Known {
        rate: Rate,
        /// Seats free now: the first `free` positions are served at once.
        free: u32,
        /// Served only through overflow: added for customers not yet overflowed.
        overflow_after: Option<Duration>,
    },
}

impl WaitModel {
    /// Does the estimate depend on whether the customer already overflowed?
    pub(crate) fn needs_overflow_state(&self) -> bool {
        matches!(self, WaitModel::Known { overflow_after: Some(_), .. })
    }

    pub(crate) fn at(&self, position: u32, overflowed: bool) -> WaitEstimate {
        let WaitModel::Known { rate, free, overflow_after } = *self else { return WaitEstimate::Unknown };
        let ahead = f64::from(position.saturating_sub(free));
        let offset = overflow_after.filter(|_| !overflowed).unwrap_or_default();
        let wait = offset + Duration::from_millis((ahead / rate.per_ms).round().min(1e15) as u64);
        if rate.measured {
            WaitEstimate::Measured(wait)
        } else {
            WaitEstimate::Assumed(wait)
        }
    }
}

/// What a queue entry keeps of the estimate last told: whole seconds, or
/// [`UNKNOWN_WAIT`].
pub(crate) const UNKNOWN_WAIT: u32 = u32::MAX;

pub(crate) fn told_wait(estimate: WaitEstimate) -> u32 {
    match estimate.wait() {
        Some(d) => d.as_secs().min(u64::from(UNKNOWN_WAIT - 1)) as u32,
        None => UNKNOWN_WAIT,
    }
}

/// Is a new estimate worth a message? When it becomes known or unknown, or
/// moves by a quarter and at least 15 s: a customer hears of real changes,
/// not of every wobble of the average.
pub(crate) fn worth_telling(told: u32, new: u32) -> bool {
    if told == new {
        return false;
    }
    if told == UNKNOWN_WAIT || new == UNKNOWN_WAIT {
        return true;
    }
    let diff = told.abs_diff(new);
    diff >= 15 && u64::from(diff) * 4 >= u64::from(told.max(new))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn the_pace_comes_from_chats_then_from_freed_seats_and_never_from_free_ones() {
        let mut pace = Pace::default();
        let prior = 240_000;
        assert_eq!(pace.seat_ms_per_customer(Millis(0), prior), (prior, false));
        pace.record_chat(secs(300));
        assert_eq!(pace.seat_ms_per_customer(Millis(0), prior), (300_000, true));
        // Saturated with 3 seats for 40 s: one freed seat taken is a sample of 120 seat-s.
        pace.restart(Millis(0), Some(3));
        pace.record_freed_seat_taken(Millis(40_000));
        assert_eq!(pace.seat_ms, Some((300_000 * 15 + 120_000) / 16));
        // Not saturated: a seat taken is no sample.
        pace.restart(Millis(40_000), None);
        pace.record_freed_seat_taken(Millis(50_000));
        assert_eq!(pace.seat_ms, Some((300_000 * 15 + 120_000) / 16));
        assert_eq!(pace.pending_seat_ms, 0);
    }

    #[test]
    fn a_long_stretch_without_anyone_served_slows_the_pace() {
        let mut pace = Pace::default();
        pace.record_chat(secs(60));
        pace.restart(Millis(0), Some(2));
        assert_eq!(pace.seat_ms_per_customer(Millis(60_000), 1).0, 60_000, "within twice the pace: unchanged");
        assert_eq!(pace.seat_ms_per_customer(Millis(600_000), 1).0, 600_000, "10 min x 2 seats / 2");
    }

    #[test]
    fn the_wait_is_the_time_for_enough_seats_to_free_up() {
        let mut pace = Pace::default();
        pace.record_chat(secs(600));
        let rate = Rate::of(Serving { agents: 2, seats: 6, pace: &pace }, Millis(0), secs(240)).unwrap();
        let model = WaitModel::Known { rate, free: 1, overflow_after: None };
        assert_eq!(model.at(1, false), WaitEstimate::Measured(Duration::ZERO), "a free seat");
        assert_eq!(model.at(4, false), WaitEstimate::Measured(secs(300)), "3 seats to free, one every 100 s");
        let nobody = Rate::of(Serving { agents: 0, seats: 0, pace: &pace }, Millis(0), secs(240));
        assert!(nobody.is_none());
        let fresh = Pace::default();
        let assumed = Rate::of(Serving { agents: 2, seats: 6, pace: &fresh }, Millis(0), secs(240)).unwrap();
        let model = WaitModel::Known { rate: assumed, free: 0, overflow_after: Some(secs(120)) };
        assert_eq!(model.at(3, false), WaitEstimate::Assumed(secs(120 + 360)), "4 min per position for 2 agents");
        assert_eq!(model.at(3, true), WaitEstimate::Assumed(secs(360)), "already overflowed");
        assert_eq!(WaitModel::Unknown.at(1, false), WaitEstimate::Unknown);
    }

    #[test]
    fn only_real_changes_of_the_estimate_are_worth_a_message() {
        assert!(!worth_telling(600, 600));
        assert!(!worth_telling(600, 700), "a sixth");
        assert!(worth_telling(600, 800));
        assert!(!worth_telling(10, 20), "under 15 s");
        assert!(worth_telling(20, 40));
        assert!(worth_telling(UNKNOWN_WAIT, 0));
        assert!(worth_telling(0, UNKNOWN_WAIT));
    }
}
