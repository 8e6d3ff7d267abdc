//! Metrics recording on the hot path: what the server does for every relayed
//! message, every assignment and every error frame, and rendering `/metrics`.
//!
//! `Metrics::record_event` keeps handles for the hot-path series (relayed
//! messages, per-group queue, wait and reply series, assignment latency) and
//! looks the rest up by name and labels when they happen (the protocol-error
//! counter below is one of those).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use switchboard_server::metrics::Metrics;
use switchboard_server::router::output::{Event, QueueReason};
use switchboard_server::router::{AgentId, GroupId, Priority, SessionId};

fn metrics_with_groups(groups: usize) -> (Metrics, Vec<GroupId>) {
    let mut metrics = Metrics::new();
    let ids: Vec<GroupId> = (0..groups).map(|g| GroupId::new(&format!("group-{g}"))).collect();
    let names: Vec<&str> = ids.iter().map(GroupId::as_str).collect();
    metrics.register_known_series(&names);
    (metrics, ids)
}

fn hot_path(c: &mut Criterion) {
    let (metrics, groups) = metrics_with_groups(1);
    let group = groups[0].clone();
    let agent = AgentId::new("alice");
    let session = SessionId(17);
    let mut bench = c.benchmark_group("metrics_record");

    let message = Event::CustomerMessage { session, group: group.clone() };
    bench.bench_function("customer message (counter)", |b| b.iter(|| metrics.record_event(black_box(&message))));

    let reply = Event::AgentReply {
        session,
        agent: agent.clone(),
        group: group.clone(),
        reply_delay: Some(Duration::from_millis(1500)),
    };
    bench.bench_function("agent reply (counter + histogram)", |b| b.iter(|| metrics.record_event(black_box(&reply))));

    let assigned = Event::SessionAssigned {
        session,
        group: group.clone(),
        agent: agent.clone(),
        waited: Duration::from_secs(3),
        overflow: false,
    };
    bench.bench_function("session assigned (histogram)", |b| b.iter(|| metrics.record_event(black_box(&assigned))));

    let queued =
        Event::SessionQueued { session, group: group.clone(), priority: Priority::Normal, reason: QueueReason::Joined };
    bench.bench_function("session queued (counter, 2 labels)", |b| b.iter(|| metrics.record_event(black_box(&queued))));

    bench.bench_function("assignment latency (histogram)", |b| {
        b.iter(|| metrics.assignment_latency(black_box(Duration::from_micros(180))))
    });
    bench.bench_function("protocol error (counter)", |b| b.iter(|| metrics.protocol_error(black_box("invalid_json"))));

    // For scale: a bare handle registered once and kept, without the event dispatch.
    let counter = metrics.counter(switchboard_server::metrics::MESSAGES_RELAYED, &[("direction", "customer_to_agent")]);
    bench.bench_function("cached counter handle (reference)", |b| b.iter(|| counter.increment(black_box(1))));
    bench.finish();
}

fn render(c: &mut Criterion) {
    let mut bench = c.benchmark_group("metrics_render");
    for groups in [1usize, 10, 50] {
        let (metrics, ids) = metrics_with_groups(groups);
        // Some observations in every histogram so the buckets are rendered with data.
        for (i, group) in ids.iter().enumerate() {
            for n in 0..200u64 {
                metrics.record_event(&Event::SessionAssigned {
                    session: SessionId(n),
                    group: group.clone(),
                    agent: AgentId::new("alice"),
                    waited: Duration::from_millis(n * 37 + i as u64),
                    overflow: false,
                });
                metrics.assignment_latency(Duration::from_micros(n * 3));
            }
        }
        bench.bench_with_input(BenchmarkId::new("render", format!("{groups} groups")), &metrics, |b, metrics| {
            b.iter(|| metrics.render())
        });
    }
    bench.finish();
}

criterion_group!(benches, hot_path, render);
criterion_main!(benches);
