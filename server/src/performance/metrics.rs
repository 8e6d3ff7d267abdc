//! `switchboard_group_service_ratio{group}`: the in-shift service ratio of
//! each skill group's shifts of today so far, and
//! `switchboard_group_satisfaction_ratio{group}` /
//! `switchboard_group_dissatisfaction_ratio{group}`: the ratings of the
//! group's chats closed today, computed from the records every
//! `performance.metrics_every`. Per group only: never a label per agent.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::tz::TimeZone;
use switchboard_performance::Span;
use switchboard_records::Store;

use super::{gather, periods};
use crate::metrics::{Metrics, GROUP_DISSATISFACTION_RATIO, GROUP_SATISFACTION_RATIO, GROUP_SERVICE_RATIO};

/// Today's (local) span as of `now`.
pub fn today(now: i64, zone: &TimeZone) -> Span {
    let day = jiff::Timestamp::from_millisecond(now).map(|t| t.to_zoned(zone.clone()).date()).unwrap_or_default();
    periods::days(day, day, zone).remove(0).span
}

/// Per group: (time in service, shift time so far), ms, over today's shifts.
pub async fn group_ratios(
    store: &Store,
    now: i64,
    zone: &TimeZone,
    grace_ms: i64,
) -> Result<BTreeMap<String, (i64, i64)>, switchboard_records::StoreError> {
    let mut sums: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for record in gather(store, None, today(now, zone), now, grace_ms).await? {
        for (row, f) in &record.shifts {
            for group in &row.groups {
                let sum = sums.entry(group.clone()).or_default();
                sum.0 += f.in_service_ms;
                sum.1 += f.elapsed_ms;
            }
        }
    }
    Ok(sums)
}

/// Sets the gauges for the configured groups every `every` (a group without
/// shift time today reads 0; without ratings today, satisfied 1 and
/// dissatisfied 0: nothing to measure, as the per-agent figures say). A
/// database that does not answer leaves the last values (the records' own
/// health metric says it is down).
pub async fn run(store: Store, metrics: Metrics, groups: Vec<String>, zone: TimeZone, grace_ms: i64, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let now = switchboard_records::now_ms();
        if let Ok(sums) = group_ratios(&store, now, &zone, grace_ms).await {
            for group in &groups {
                let (in_service, elapsed) = sums.get(group).copied().unwrap_or_default();
                metrics.gauge(GROUP_SERVICE_RATIO, &[("group", group)]).set(share(in_service, elapsed, 0.0));
            }
        }
        let today = today(now, &zone);
        if let Ok(ratings) = store.group_ratings(switchboard_records::Span { from: today.from, to: today.to }).await {
            set_ratings(&metrics, &groups, &ratings);
        }
    }
}

/// The rating gauges of each configured group from its (satisfied, dissatisfied) counts.
fn set_ratings(metrics: &Metrics, groups: &[String], ratings: &BTreeMap<String, (u64, u64)>) {
    for group in groups {
        let (satisfied, dissatisfied) = ratings.get(group).copied().unwrap_or_default();
        let rated = (satisfied + dissatisfied) as i64;
        metrics.gauge(GROUP_SATISFACTION_RATIO, &[("group", group)]).set(share(satisfied as i64, rated, 1.0));
        metrics.gauge(GROUP_DISSATISFACTION_RATIO, &[("group", group)]).set(share(dissatisfied as i64, rated, 0.0));
    }
}

/// `part / whole`, or `empty` when there is no whole.
fn share(part: i64, whole: i64, empty: f64) -> f64 {
    if whole > 0 {
        part as f64 / whole as f64
    } else {
        empty
    }
}
