//! One shift as the agent kept it: when they signed in, whether they left
//! early, and how long they were in service, from their state changes.

use serde::Serialize;

/// An agent's state: the router's own list (`docs/protocol.md`), as
/// `agent_state_changed` events record it.
pub use switchboard_router::output::AgentState;

/// Serving or waiting for an assignment: what the service ratio counts.
pub fn in_service(state: AgentState) -> bool {
    matches!(state, AgentState::Available | AgentState::Busy)
}

/// Signed in (a dropped connection still holds the agent's sessions).
pub fn present(state: AgentState) -> bool {
    state != AgentState::Offline
}

/// The state named `label` (`available`, `on_break`...).
pub fn state_from_label(label: &str) -> Option<AgentState> {
    AgentState::ALL.into_iter().find(|s| s.label() == label)
}

/// The agent entered `to` at `at` (ms).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Change {
    pub at: i64,
    pub to: AgentState,
}

/// A shift and what the agent did around it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShiftInput {
    pub start: i64,
    pub end: i64,
    /// The agent's state changes, oldest first: the last one before the start
    /// (the state at the start; none means offline) and those during the shift.
    pub changes: Vec<Change>,
    /// When sessions were assigned to the agent.
    pub assigned_at: Vec<i64>,
}

/// One shift's figures, as of `now` (a running shift counts up to now).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ShiftFigures {
    pub start: i64,
    pub end: i64,
    /// The part of the shift that has passed, ms (all of it once it is over).
    pub elapsed_ms: i64,
    /// Of that, time `available` or `busy`, ms.
    pub in_service_ms: i64,
    /// The first moment the agent was signed in during the shift.
    pub signed_in_at: Option<i64>,
    /// Signed in after start + grace (or, in a running shift, not yet signed in past it).
    pub late: bool,
    /// Signed in, but offline or disconnected at the end (judged once the shift is over).
    pub left_early: bool,
    /// Never signed in during the shift (judged once it is over).
    pub absent: bool,
    /// Sessions assigned to the agent during the shift.
    pub assigned: u32,
    pub over: bool,
}

/// The figures of `shift` as of `now`, with `grace_ms` allowed for signing in.
pub fn shift_figures(shift: &ShiftInput, now: i64, grace_ms: i64) -> ShiftFigures {
    let limit = now.clamp(shift.start, shift.end.max(shift.start));
    let over = now >= shift.end;
    let mut state =
        shift.changes.iter().take_while(|c| c.at <= shift.start).last().map_or(AgentState::Offline, |c| c.to);
    let mut since = shift.start;
    let mut in_service_ms = 0;
    let mut signed_in_at = present(state).then_some(shift.start);
    for change in shift.changes.iter().filter(|c| c.at > shift.start && c.at < limit) {
        if in_service(state) {
            in_service_ms += change.at - since;
        }
        if signed_in_at.is_none() && present(change.to) {
            signed_in_at = Some(change.at);
        }
        (state, since) = (change.to, change.at);
    }
    if in_service(state) {
        in_service_ms += limit - since;
    }
    let late = match signed_in_at {
        Some(at) => at > shift.start + grace_ms,
        None => !over && limit > shift.start + grace_ms,
    };
    let assigned = shift.assigned_at.iter().filter(|&&at| at >= shift.start && at < limit).count() as u32;
    ShiftFigures {
        start: shift.start,
        end: shift.end,
        elapsed_ms: limit - shift.start,
        in_service_ms,
        signed_in_at,
        late,
        left_early: over && signed_in_at.is_some() && matches!(state, AgentState::Offline | AgentState::Disconnected),
        absent: over && signed_in_at.is_none(),
        assigned,
        over,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn shift(changes: &[(i64, AgentState)]) -> ShiftInput {
        ShiftInput {
            start: 0,
            end: 120 * MIN,
            changes: changes.iter().map(|&(at, to)| Change { at: at * MIN, to }).collect(),
            assigned_at: Vec::new(),
        }
    }

    #[test]
    fn signed_in_before_the_start_and_available_throughout_is_on_time_and_full() {
        let f = shift_figures(&shift(&[(-5, AgentState::Available)]), 200 * MIN, 0);
        assert_eq!((f.late, f.left_early, f.absent, f.in_service_ms), (false, false, false, 120 * MIN));
    }

    #[test]
    fn signing_in_after_the_grace_is_late_and_a_break_counts_against() {
        let s = shift(&[(3, AgentState::Available), (60, AgentState::OnBreak), (70, AgentState::Busy)]);
        let f = shift_figures(&s, 200 * MIN, MIN);
        assert!(f.late);
        assert_eq!(f.in_service_ms, (57 + 50) * MIN);
        assert!(!shift_figures(&s, 200 * MIN, 3 * MIN).late, "within the grace");
    }

    #[test]
    fn going_offline_before_the_end_is_leaving_early() {
        let f = shift_figures(&shift(&[(0, AgentState::Available), (100, AgentState::Offline)]), 200 * MIN, 0);
        assert!(f.left_early && !f.late);
        let f = shift_figures(&shift(&[(0, AgentState::Available), (100, AgentState::Disconnected)]), 200 * MIN, 0);
        assert!(f.left_early);
        let back = shift(&[(0, AgentState::Available), (50, AgentState::Disconnected), (52, AgentState::Available)]);
        assert!(!shift_figures(&back, 200 * MIN, 0).left_early, "a drop with a return is not leaving");
    }

    #[test]
    fn never_signing_in_is_absent_once_over_and_late_while_running() {
        let f = shift_figures(&shift(&[]), 200 * MIN, MIN);
        assert!(f.absent && !f.late && !f.left_early);
        let f = shift_figures(&shift(&[]), 10 * MIN, MIN);
        assert!(f.late && !f.absent);
        assert_eq!(f.elapsed_ms, 10 * MIN);
    }
}
