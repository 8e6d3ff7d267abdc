//! Discipline in the server (`docs/shifts.md`, "Discipline"): warnings
//! gathered from the records (late leave, absences, upheld non-business
//! complaints), the rules of `switchboard-discipline` applied, and the
//! suspended and disqualified agents handed to sign-in ([`Auth::set_barred`]).
//!
//! Computed at start, every `discipline.recompute_every`, and at once when
//! leave is filed or a shift cancelled ([`Discipline::poke`]). When the
//! records database cannot be read, the last known set stays in force.
//!
//! The monthly fee report lists discipline with [`standing`].

pub mod http;

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use switchboard_discipline::{Bar, Cause, Record, Rules, Warning};
use switchboard_records::{signed_in_during, Span, StateChange, Store, StoreError};
use tokio::sync::Notify;
use tracing::warn;

use crate::auth::Auth;
use crate::config::Config;
use crate::metrics::{Metrics, AGENTS_DISQUALIFIED, AGENTS_SUSPENDED, WARNINGS};

/// The category of an upheld complaint that is the agent's conduct (a warning); `business` ones are not.
pub const NON_BUSINESS: &str = "non_business";

/// The rules and the reinstatements of the config.
#[derive(Clone, Debug)]
pub struct Policy {
    pub rules: Rules,
    /// Per reinstated agent, the moment (ms) before which nothing counts.
    pub reinstated: BTreeMap<String, i64>,
}

impl Policy {
    pub fn from_config(config: &Config) -> Policy {
        let zone = jiff::tz::TimeZone::get(&config.calendar.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
        let midnight = |d: jiff::civil::Date| d.to_zoned(zone.clone()).map_or(0, |z| z.timestamp().as_millisecond());
        let reinstated = config.discipline.reinstated_since().into_iter().map(|(a, d)| (a, midnight(d))).collect();
        Policy { rules: config.discipline.rules(), reinstated }
    }

    /// How far back the records are read: enough warnings for the oldest suspension that can still disqualify.
    fn lookback(&self) -> i64 {
        self.rules.warning_window.saturating_add(self.rules.suspension_window).saturating_add(self.rules.suspension)
    }
}

/// One agent's discipline at a moment: the record and whether they may sign in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Standing {
    pub agent: String,
    #[serde(flatten)]
    pub record: Record,
    /// Set while suspended or disqualified.
    pub barred: Option<Bar>,
}

/// Every agent with a warning in the records, with their discipline at `at`
/// (ms), by agent id. What the fee report lists and sign-in enforces.
pub async fn standing(store: &Store, policy: &Policy, at: i64) -> Result<Vec<Standing>, StoreError> {
    let span = Span { from: at.saturating_sub(policy.lookback()), to: at };
    let mut warnings: BTreeMap<String, Vec<Warning>> = BTreeMap::new();
    let mut give = |agent: &str, at: i64, cause: Cause, subject: &str| {
        warnings.entry(agent.to_owned()).or_default().push(Warning { at, cause, subject: subject.to_owned() });
    };
    // Leave asked late for a shift still to come is a warning already.
    let leaves = store.leave_requests(None, Span { from: span.from, to: i64::MAX }).await?;
    for l in leaves.iter().filter(|l| l.late && l.requested_at <= at) {
        give(&l.agent, l.requested_at, Cause::LateLeave, &l.shift);
    }
    let shifts = store.shifts(None, span).await?;
    let missed: Vec<_> = shifts
        .iter()
        .filter(|s| s.cancelled_at.is_none() && s.ends_at <= at && !leaves.iter().any(|l| l.shift == s.shift))
        .collect();
    if let Some(first) = missed.iter().map(|s| s.starts_at).min() {
        let changes = by_agent(store.state_changes(Span { from: first, to: at }).await?);
        for s in missed
            .iter()
            .filter(|s| !signed_in_during(changes.get(&s.agent).map_or(&[], Vec::as_slice), s.starts_at, s.ends_at))
        {
            give(&s.agent, s.ends_at, Cause::Absence, &s.shift);
        }
    }
    for c in store.complaints_upheld(None, span).await? {
        if let (Some(agent), Some(NON_BUSINESS)) = (c.agent.as_deref(), c.category.as_deref()) {
            give(agent, c.reviewed_at.unwrap_or(c.created_at), Cause::UpheldComplaint, &c.complaint);
        }
    }
    Ok(warnings
        .into_iter()
        .map(|(agent, list)| {
            let since = policy.reinstated.get(&agent).copied().unwrap_or(i64::MIN);
            let record = Record::of(&policy.rules, list.into_iter().filter(|w| w.at >= since));
            let barred = record.bar_at(at);
            Standing { agent, record, barred }
        })
        .collect())
}

fn by_agent(changes: Vec<StateChange>) -> BTreeMap<String, Vec<StateChange>> {
    let mut map: BTreeMap<String, Vec<StateChange>> = BTreeMap::new();
    for c in changes {
        map.entry(c.agent.clone()).or_default().push(c);
    }
    map
}

/// The running discipline: recomputed now and then, the last result kept.
#[derive(Debug)]
pub struct Discipline {
    store: Option<Store>,
    policy: Mutex<Policy>,
    auth: Arc<Auth>,
    metrics: Metrics,
    wake: Notify,
    /// Warnings counted in `switchboard_warnings_total` already (by cause and subject).
    counted: Mutex<HashSet<(Cause, String)>>,
}

impl Discipline {
    pub fn new(config: &Config, store: Option<Store>, auth: Arc<Auth>, metrics: Metrics) -> Discipline {
        for cause in Cause::ALL {
            metrics.counter(WARNINGS, &[("cause", cause.label())]).absolute(0);
        }
        metrics.gauge(AGENTS_SUSPENDED, &[]).set(0.0);
        metrics.gauge(AGENTS_DISQUALIFIED, &[]).set(0.0);
        Discipline {
            store,
            policy: Mutex::new(Policy::from_config(config)),
            auth,
            metrics,
            wake: Notify::new(),
            counted: Mutex::default(),
        }
    }

    /// Computes again soon (leave filed, a complaint reviewed, a shift cancelled).
    pub fn poke(&self) {
        self.wake.notify_one();
    }

    /// After a reload: new thresholds or reinstatements.
    pub fn reconfigure(&self, config: &Config) {
        *self.policy.lock().expect("policy lock") = Policy::from_config(config);
        self.poke();
    }

    /// Recomputes every `every`, or when poked, until the server stops.
    pub fn spawn(self: &Arc<Self>, every: Duration) {
        if self.store.is_none() {
            return;
        }
        let me = self.clone();
        tokio::spawn(async move {
            loop {
                me.recompute().await;
                tokio::select! {
                    () = tokio::time::sleep(every) => {}
                    () = me.wake.notified() => {}
                }
            }
        });
    }

    /// The standing of every agent now, or why the records cannot tell.
    pub async fn now(&self) -> Result<Vec<Standing>, StoreError> {
        let Some(store) = &self.store else { return Ok(Vec::new()) };
        let policy = self.policy.lock().expect("policy lock").clone();
        standing(store, &policy, switchboard_records::now_ms()).await
    }

    async fn recompute(&self) {
        match self.now().await {
            Ok(all) => self.apply(&all),
            Err(e) => warn!(error = %e, "discipline: the records cannot be read; the last known suspensions stay"),
        }
    }

    fn apply(&self, all: &[Standing]) {
        let barred: BTreeMap<String, Bar> = all.iter().filter_map(|s| Some((s.agent.clone(), s.barred?))).collect();
        let suspended = barred.values().filter(|b| matches!(b, Bar::Suspended { .. })).count();
        self.metrics.gauge(AGENTS_SUSPENDED, &[]).set(suspended as f64);
        self.metrics.gauge(AGENTS_DISQUALIFIED, &[]).set((barred.len() - suspended) as f64);
        let mut counted = self.counted.lock().expect("counted lock");
        for w in all.iter().flat_map(|s| &s.record.warnings) {
            if counted.insert((w.cause, w.subject.clone())) {
                self.metrics.counter(WARNINGS, &[("cause", w.cause.label())]).increment(u64::from(w.weight()));
            }
        }
        drop(counted);
        self.auth.set_barred(barred);
    }
}

#[cfg(test)]
mod tests {
    use switchboard_discipline::Cause;

    /// The pages' one list of causes (web/texts.js, `WARNING_CAUSES`) names every cause with its weight, and no other.
    #[test]
    fn pages_know_every_cause_and_its_weight() {
        let texts = include_str!("../../../web/texts.js");
        let start = texts.find("export const WARNING_CAUSES = {").expect("WARNING_CAUSES in texts.js");
        let list = &texts[start..start + texts[start..].find("};").expect("end of WARNING_CAUSES")];
        for cause in Cause::ALL {
            let entry = format!("  {}: {{ weight: {}, ", cause.label(), cause.weight());
            assert!(list.contains(&entry), "texts.js WARNING_CAUSES lacks `{entry}`");
        }
        assert_eq!(list.matches("weight:").count(), Cause::ALL.len(), "texts.js names a cause the rules do not have");
    }
}
