//! Saving and restoring a whole router (postcard, the snapshot format).
//!
//! Shape: 10 skill groups, 500 agents of capacity 10 (50 per group, all
//! available), 10,000 live sessions: the first 5,000 to join are assigned,
//! the other 5,000 wait. Each session has 20 history entries of about 45
//! characters: an assigned one 10 customer messages and 10 agent replies, a
//! waiting one 20 customer messages. Complaint thresholds are raised so no
//! session changes priority; the clock moves 1 ms per input, so no timer
//! fires. The setup prints the snapshot's size and checks that a restored
//! router saves the same bytes.
//!
//! * `save`: `postcard::to_allocvec(&router)`.
//! * `save_to_writer`: `postcard::to_io(&router, io::sink())`: the encoding
//!   alone, without growing a 13 MB `Vec` (a `BufWriter` on a file is close).
//! * `restore`: `postcard::from_bytes::<Router>(&bytes)`, the rebuilt
//!   indexes, queues, eligible sets and timer table included; dropping the
//!   restored router is left out of the timing (it frees over 200,000
//!   allocations, about as long again).

use std::hint::black_box;
use std::io;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use switchboard_router::{
    AgentConfig, AgentId, Availability, GroupConfig, GroupId, Input, Membership, Millis, Priority, Role, Router,
    RouterConfig, Rules, SessionId,
};

const GROUPS: usize = 10;
const AGENTS: usize = 500;
const CAPACITY: u32 = 10;
const SESSIONS: u64 = 10_000;
const HISTORY: usize = 20;

fn config() -> RouterConfig {
    let mut rules = Rules::default();
    rules.complaint.repeat_threshold = 1_000;
    rules.complaint.burst_messages = 1_000;
    let group = |g: usize| GroupId::new(&format!("group-{g}"));
    RouterConfig {
        rules,
        groups: (0..GROUPS)
            .map(|g| GroupConfig {
                id: group(g),
                name: Some(format!("Group {g}")),
                max_queue: SESSIONS as usize,
                overflow_to: vec![group((g + 1) % GROUPS)],
                overflow_after: Duration::from_secs(24 * 3600),
                service_hours: None,
            })
            .collect(),
        agents: (0..AGENTS)
            .map(|a| AgentConfig {
                id: AgentId::new(&format!("agent-{a}")),
                name: Some(format!("Agent {a}")),
                role: Role::Agent,
                capacity: CAPACITY,
                groups: vec![Membership { group: group(a % GROUPS), level: 1 }],
            })
            .collect(),
    }
}

/// Feeds one input a millisecond after the last and drains the outputs.
struct Feed {
    router: Router,
    now: Millis,
}

impl Feed {
    fn input(&mut self, input: Input) {
        self.now = Millis(self.now.0 + 1);
        self.router.handle(self.now, input).expect("a valid input");
        while self.router.poll_output().is_some() {}
    }
}

fn live_router() -> Router {
    let cfg = config();
    let agents: Vec<AgentId> = cfg.agents.iter().map(|a| a.id.clone()).collect();
    let groups: Vec<GroupId> = cfg.groups.iter().map(|g| g.id.clone()).collect();
    let mut feed = Feed { router: Router::new(cfg).unwrap(), now: Millis::ZERO };
    for agent in &agents {
        feed.input(Input::AgentConnected { agent: agent.clone() });
        feed.input(Input::AgentSetAvailability { agent: agent.clone(), availability: Availability::Available });
    }
    for s in 1..=SESSIONS {
        let group = groups[s as usize % GROUPS].clone();
        let customer_name = Some(format!("Customer {s}").into());
        feed.input(Input::CustomerJoin {
            session: SessionId(s),
            group,
            priority: Priority::Normal,
            customer_name,
            customer_id: None,
        });
    }
    for turn in 0..HISTORY {
        for s in 1..=SESSIONS {
            let session = SessionId(s);
            let owner = feed.router.session_status(session).and_then(|status| match status {
                switchboard_router::SessionStatus::Assigned { agent, .. } => Some(agent),
                _ => None,
            });
            match owner {
                Some(agent) if turn % 2 == 1 => {
                    let text = format!("Agent reply {turn} to order {s:06}: checking it now.").into();
                    feed.input(Input::AgentReply { agent, session, text });
                }
                _ => {
                    let text = format!("Customer message {turn} about order {s:06}, please help").into();
                    feed.input(Input::CustomerMessage { session, text });
                }
            }
        }
    }
    feed.router
}

fn snapshot(c: &mut Criterion) {
    let router = live_router();
    let bytes = postcard::to_allocvec(&router).unwrap();
    let restored: Router = postcard::from_bytes(&bytes).unwrap();
    assert_eq!(postcard::to_allocvec(&restored).unwrap(), bytes, "canonical: a restored router saves the same bytes");
    let waiting: usize = router.group_snapshots(router.now()).iter().map(|g| g.waiting).sum();
    println!(
        "snapshot of {SESSIONS} sessions ({waiting} waiting, {HISTORY} history entries each): {} bytes ({:.1} MiB, {} per session)",
        bytes.len(),
        bytes.len() as f64 / (1024.0 * 1024.0),
        bytes.len() as u64 / SESSIONS
    );
    let mut group = c.benchmark_group("snapshot");
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    group.bench_function("save", |b| b.iter(|| postcard::to_allocvec(black_box(&router)).unwrap()));
    group.bench_function("save_to_writer", |b| b.iter(|| postcard::to_io(black_box(&router), io::sink()).unwrap()));
    group.bench_function("restore", |b| {
        b.iter_with_large_drop(|| postcard::from_bytes::<Router>(black_box(&bytes)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, snapshot);
criterion_main!(benches);
