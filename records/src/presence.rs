//! When agents were signed in, from the router's `agent_state_changed`
//! events (`router_events`): what discipline needs to tell an absence (a
//! shift in which the agent never signed in) from a shift worked.

use serde::Deserialize;

use crate::query::{int, text};
use crate::shifts::Span;
use crate::sql::Value;
use crate::{Store, StoreError};

/// The state the router reports for an agent who is not signed in.
pub const OFFLINE: &str = "offline";

/// One change of an agent's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateChange {
    pub agent: String,
    pub at: i64,
    /// The state after the change (`available`, `busy`, `on_break`, `disconnected`, `offline`).
    pub to: String,
}

impl StateChange {
    /// Signed in after this change (anything but offline).
    pub fn online(&self) -> bool {
        self.to != OFFLINE
    }
}

#[derive(Deserialize)]
struct Detail {
    to: String,
}

fn change_from(mut row: Vec<Value>) -> Option<StateChange> {
    let agent = text(&mut row, 0)?;
    let at = int(&row, 1)?;
    let detail: Detail = serde_json::from_str(&text(&mut row, 2)?).ok()?;
    Some(StateChange { agent, at, to: detail.to })
}

impl Store {
    /// The agents' state changes in `span`, each agent's oldest first, and
    /// before them each agent's last change before the span (the state they
    /// were in when it began).
    pub async fn state_changes(&self, span: Span) -> Result<Vec<StateChange>, StoreError> {
        self.ready().await?;
        let kind = "kind = 'agent_state_changed' AND agent_id IS NOT NULL";
        let sql = format!(
            "SELECT agent_id, at, detail FROM router_events e WHERE {kind} AND ((at >= $1 AND at < $2) OR at = \
             (SELECT MAX(p.at) FROM router_events p WHERE p.kind = 'agent_state_changed' AND p.agent_id = e.agent_id \
             AND p.at < $1)) ORDER BY agent_id, at, lsn, ordinal"
        );
        let params = vec![Value::Int(span.from), Value::Int(span.to)];
        Ok(self.query(sql, params).await?.into_iter().filter_map(change_from).collect())
    }
}

/// Was the agent signed in at some moment of `[start, end)`? `changes` are
/// the agent's, oldest first (as [`Store::state_changes`] gives them).
pub fn signed_in_during(changes: &[StateChange], start: i64, end: i64) -> bool {
    let before = changes.iter().take_while(|c| c.at < start).last();
    before.is_some_and(StateChange::online) || changes.iter().any(|c| c.at >= start && c.at < end && c.online())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(at: i64, to: &str) -> StateChange {
        StateChange { agent: "ann".into(), at, to: to.into() }
    }

    #[test]
    fn signed_in_by_a_change_inside_or_by_the_state_before() {
        assert!(signed_in_during(&[c(15, "available")], 10, 20));
        assert!(signed_in_during(&[c(5, "on_break")], 10, 20));
        assert!(!signed_in_during(&[c(5, "available"), c(8, "offline")], 10, 20));
        assert!(!signed_in_during(&[c(20, "available")], 10, 20));
        assert!(!signed_in_during(&[], 10, 20));
        assert!(signed_in_during(&[c(5, "offline"), c(12, "busy"), c(13, "offline")], 10, 20));
    }
}
