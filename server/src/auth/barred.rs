//! Agents who may not sign in because of discipline (suspended, disqualified):
//! kept in memory so that a sign-in never waits for the records database,
//! replaced whole by each discipline computation (`crate::discipline`). When
//! the database cannot be read, the last known set stays.

use std::collections::BTreeMap;
use std::sync::RwLock;

use switchboard_discipline::Bar;
use switchboard_protocol::code;

use super::Refusal;

#[derive(Debug, Default)]
pub struct Barred {
    bars: RwLock<BTreeMap<String, Bar>>,
}

impl Barred {
    /// Takes a new set; whether it differs from the last.
    pub fn replace(&self, bars: BTreeMap<String, Bar>) -> bool {
        let mut current = self.bars.write().expect("barred lock");
        let changed = *current != bars;
        *current = bars;
        changed
    }

    /// Why `agent` may not sign in now, if they may not (a suspension that has run out lets them in).
    pub fn refusal(&self, agent: &str) -> Option<Refusal> {
        let bar = *self.bars.read().expect("barred lock").get(agent)?;
        refusal_for(bar, switchboard_records::now_ms())
    }
}

/// The refusal of a bar at `now` (ms).
pub fn refusal_for(bar: Bar, now: i64) -> Option<Refusal> {
    match bar {
        Bar::Suspended { until } if until > now => Some(Refusal::new(
            code::AGENT_SUSPENDED,
            format!("this agent is suspended (discipline) until {}", timestamp(until)),
        )),
        Bar::Suspended { .. } => None,
        Bar::Disqualified { since } => Some(Refusal::new(
            code::AGENT_DISQUALIFIED,
            format!("this agent is disqualified (discipline) since {}; an admin may reinstate them", timestamp(since)),
        )),
    }
}

fn timestamp(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map_or_else(|_| ms.to_string(), |t| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_suspension_refuses_until_it_ends_and_a_disqualification_for_good() {
        let until = 1_000_000;
        assert_eq!(refusal_for(Bar::Suspended { until }, until - 1).unwrap().code, code::AGENT_SUSPENDED);
        assert!(refusal_for(Bar::Suspended { until }, until).is_none());
        let refusal = refusal_for(Bar::Disqualified { since: 5 }, i64::MAX).unwrap();
        assert_eq!(refusal.code, code::AGENT_DISQUALIFIED);
        assert!(refusal_for(Bar::Suspended { until }, 0).unwrap().message.contains("1970-01-01T00:16:40Z"));
    }
}
