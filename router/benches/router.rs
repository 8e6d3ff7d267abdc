//! Router decisions per second: the sans-IO router core next to a trivial
//! reference matcher doing the same job naively.
//!
//! One decision = a waiting session given to an agent. For the router that
//! includes everything the core does for it: queue, eligible-agent and timer
//! indexes updated, outputs produced, and every output drained with
//! `poll_output` inside the timed region. The reference keeps a `VecDeque` of
//! waiting sessions and a `Vec` of members per group, finds the agent by a
//! linear scan (level, then fewest sessions, then longest idle) and produces
//! nothing but a `(session, agent)` list. Both make the same choices: the
//! setup of every benchmark checks that they produce the same assignments.
//!
//! Shape (both sizes): 20 skill groups, each overflowing to the group ten
//! further after 24 h (so every waiting session carries an overflow timer,
//! which never fires during a run);
//! agent `i` belongs to its home group `h = i % 20` at level 2 and to `h ^ 1`
//! (groups paired 0-1, 2-3, ...) at level 1; every customer sends one message on joining, so an assignment
//! starts the reply clock (arms the reply timer) and hands the agent a
//! session view with history. Sizes: 1,000 agents of capacity 10 and 10,000
//! agents of capacity 3.
//!
//! * `drain`: 10,000 sessions wait (500 per group) while every agent is
//!   connected but not yet available. Timed: agents become available one by
//!   one in roster order (an `AgentSetAvailability` input each, outputs
//!   drained after each) until the queue is empty. Elements = 10,000 decisions
//!   (the agent inputs needed are part of the cost: 1,000 of them at 1,000
//!   agents, 3,334 at 10,000 agents). The router is rebuilt for every
//!   iteration outside the timed region (`iter_custom`).
//! * `steady`: every agent is full and 10,000 sessions wait. One step = the
//!   oldest served customer leaves (`CustomerLeave`), which frees a slot and
//!   makes exactly one decision, then a new customer joins the group the
//!   session was taken from and sends a message (`CustomerJoin` and
//!   `CustomerMessage`), so the queue stays at 10,000. The clock moves 1 ms
//!   per step, so coalesced queue-position ticks (5 s) and forget timers of
//!   closed sessions (rating window set to 60 s; warmed up past it before
//!   timing) fire at their steady rate. Element = 1 step = 1 decision.

use std::cell::{Cell, RefCell};
use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, BenchmarkId, Criterion, SamplingMode, Throughput};
use switchboard_router::{
    AgentConfig, AgentId, Availability, Event, GroupConfig, GroupId, Input, Membership, Millis, Output, Priority, Role,
    Router, RouterConfig, Rules, SessionId,
};

const GROUPS: usize = 20;
const QUEUED: usize = 10_000;
/// When the drain starts: after every join (one per ms from 0).
const DRAIN_AT: Millis = Millis(QUEUED as u64 + 1_000);
/// Steps run before timing the steady state: past the rating window, so
/// closed sessions are forgotten at the rate they are closed.
const STEADY_WARMUP_STEPS: u64 = 65_000;
/// Long enough never to fire in a run (24 h of simulated time is 86 million
/// steady steps): every waiting session pays for arming and disarming its
/// overflow timer, and the router makes the same choices as the reference.
const OVERFLOW_AFTER: Duration = Duration::from_secs(24 * 3600);

/// Agent count and capacity per agent.
#[derive(Clone, Copy, Debug)]
struct Roster {
    agents: usize,
    capacity: u32,
}

const ROSTERS: [Roster; 2] = [Roster { agents: 1_000, capacity: 10 }, Roster { agents: 10_000, capacity: 3 }];

/// (group, level) memberships of agent `i`: its home group at level 2 and
/// the home group's pair (0-1, 2-3, ...) at level 1, so that every agent of
/// a pair can serve both of its queues and the drain assigns them all.
fn memberships(i: usize) -> [(usize, u8); 2] {
    let home = i % GROUPS;
    [(home, 2), (home ^ 1, 1)]
}

/// Group of the `n`-th session of the initial queue.
fn initial_group(n: usize) -> usize {
    n % GROUPS
}

/// Ids built once, cloned (an `Arc` increment) into inputs.
#[derive(Debug)]
struct Ids {
    agents: Vec<AgentId>,
    agent_index: HashMap<AgentId, u32>,
    groups: Vec<GroupId>,
    hello: Arc<str>,
}

impl Ids {
    fn new(roster: Roster) -> Ids {
        let agents: Vec<AgentId> = (0..roster.agents).map(|i| AgentId::new(&format!("agent-{i:05}"))).collect();
        let groups: Vec<GroupId> = (0..GROUPS).map(|g| GroupId::new(&format!("group-{g:02}"))).collect();
        Ids {
            agent_index: agents.iter().enumerate().map(|(i, a)| (a.clone(), i as u32)).collect(),
            agents,
            groups,
            hello: Arc::from("Hello, my order has not arrived yet, can you check it please?"),
        }
    }
}

fn router_config(roster: Roster, ids: &Ids) -> RouterConfig {
    let rules = Rules { rating_window: Duration::from_secs(60), ..Rules::default() };
    let groups = (0..GROUPS)
        .map(|g| GroupConfig {
            id: ids.groups[g].clone(),
            name: Some(format!("Group {g}")),
            max_queue: 10_000,
            overflow_to: vec![ids.groups[(g + GROUPS / 2) % GROUPS].clone()],
            overflow_after: OVERFLOW_AFTER,
            service_hours: None,
        })
        .collect();
    let agents = (0..roster.agents)
        .map(|i| AgentConfig {
            id: ids.agents[i].clone(),
            name: Some(format!("Agent {i}")),
            role: Role::Agent,
            capacity: roster.capacity,
            groups: memberships(i)
                .iter()
                .map(|&(g, level)| Membership { group: ids.groups[g].clone(), level })
                .collect(),
        })
        .collect();
    RouterConfig { rules, groups, agents }
}

/// Drains the router's outputs; calls `on_assigned(session, group)` per decision.
fn drain_outputs(router: &mut Router, mut on_assigned: impl FnMut(SessionId, &GroupId, &AgentId)) -> usize {
    let mut decisions = 0;
    let counting = COUNTING.get();
    while let Some(output) = router.poll_output() {
        if let Output::Event { event: Event::SessionAssigned { session, group, agent, .. } } = &output {
            decisions += 1;
            on_assigned(*session, group, agent);
        }
        if counting {
            count(&output);
        }
        black_box(&output);
    }
    decisions
}

thread_local! {
    /// Profile mode only: count the outputs by kind.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static CENSUS: RefCell<BTreeMap<String, u64>> = const { RefCell::new(BTreeMap::new()) };
}

fn count(output: &Output) {
    fn head(debug: String) -> String {
        debug.chars().take_while(|c| c.is_alphanumeric()).collect()
    }
    let kind = match output {
        Output::ToCustomer { notice, .. } => format!("ToCustomer::{}", head(format!("{notice:?}"))),
        Output::ToAgent { notice, .. } => format!("ToAgent::{}", head(format!("{notice:?}"))),
        Output::ToSupervisors { notice } => format!("ToSupervisors::{}", head(format!("{notice:?}"))),
        Output::Event { event } => format!("Event::{}", head(format!("{event:?}"))),
    };
    CENSUS.with_borrow_mut(|c| *c.entry(kind).or_default() += 1);
}

fn join(router: &mut Router, ids: &Ids, now: Millis, session: SessionId, group: GroupId) {
    router
        .handle(
            now,
            Input::CustomerJoin { session, group, priority: Priority::Normal, customer_name: None, customer_id: None },
        )
        .unwrap();
    router.handle(now, Input::CustomerMessage { session, text: ids.hello.clone() }).unwrap();
}

/// `queued` sessions waiting (one joining per ms), every agent connected but
/// not available, timers due before `DRAIN_AT` fired, outputs drained.
fn router_backlog(roster: Roster, ids: &Ids, queued: usize) -> Router {
    let mut router = Router::new(router_config(roster, ids)).unwrap();
    for agent in &ids.agents {
        router.handle(Millis::ZERO, Input::AgentConnected { agent: agent.clone() }).unwrap();
    }
    for n in 0..queued {
        let group = ids.groups[initial_group(n)].clone();
        join(&mut router, ids, Millis(n as u64), SessionId(n as u64), group);
        drain_outputs(&mut router, |_, _, _| {});
    }
    router.handle_timeout(DRAIN_AT);
    drain_outputs(&mut router, |_, _, _| {});
    router
}

/// An agent of the roster sets themselves available (which may assign sessions to them).
#[inline]
fn make_available(router: &mut Router, agent: &AgentId) {
    let availability = Availability::Available;
    router.handle(DRAIN_AT, Input::AgentSetAvailability { agent: agent.clone(), availability }).unwrap();
}

/// Timed part of `drain`: agents become available in roster order until
/// `QUEUED` sessions are assigned. Returns the decisions made.
#[inline(never)]
fn router_drain(router: &mut Router, ids: &Ids, mut on_assigned: impl FnMut(SessionId, &GroupId, &AgentId)) -> usize {
    let mut decisions = 0;
    for agent in &ids.agents {
        make_available(router, agent);
        decisions += drain_outputs(router, &mut on_assigned);
        if decisions >= QUEUED {
            break;
        }
    }
    decisions
}

/// The steady state: every agent full, `QUEUED` waiting, served sessions
/// leaving oldest first.
#[derive(Debug)]
struct RouterSteady {
    router: Router,
    /// Served sessions, oldest assignment first.
    served: VecDeque<SessionId>,
    now: Millis,
    next_session: u64,
}

impl RouterSteady {
    fn new(roster: Roster, ids: &Ids) -> RouterSteady {
        let slots = roster.agents * roster.capacity as usize;
        let mut router = router_backlog(roster, ids, QUEUED + slots);
        let mut served = VecDeque::new();
        for agent in &ids.agents {
            make_available(&mut router, agent);
            drain_outputs(&mut router, |s, _, _| served.push_back(s));
        }
        assert_eq!(served.len(), slots, "every agent is full");
        let waiting: usize = router.snapshot(DRAIN_AT).groups.iter().map(|g| g.waiting).sum();
        assert_eq!(waiting, QUEUED);
        let mut steady = RouterSteady { router, served, now: DRAIN_AT, next_session: (QUEUED + slots) as u64 };
        for _ in 0..STEADY_WARMUP_STEPS {
            steady.step(ids, |_, _| {});
        }
        steady
    }

    /// One leave, the one decision it allows, one join with a message.
    #[inline(never)]
    fn step(&mut self, ids: &Ids, mut on_assigned: impl FnMut(SessionId, &AgentId)) {
        self.now = Millis(self.now.0 + 1);
        let leaving = self.served.pop_front().unwrap();
        self.router.handle(self.now, Input::CustomerLeave { session: leaving }).unwrap();
        let mut refill = None;
        let served = &mut self.served;
        let decisions = drain_outputs(&mut self.router, |s, g, a| {
            served.push_back(s);
            refill = Some(g.clone());
            on_assigned(s, a);
        });
        debug_assert_eq!(decisions, 1);
        let session = SessionId(self.next_session);
        self.next_session += 1;
        join(&mut self.router, ids, self.now, session, refill.unwrap());
        drain_outputs(&mut self.router, |_, _, _| {});
    }
}

// ---- the trivial reference matcher ----

#[derive(Debug)]
struct RefAgent {
    available: bool,
    capacity: u32,
    /// Open sessions, in assignment order.
    sessions: Vec<u64>,
    /// Global number of the last assignment (0 = never): lower = idle longer.
    last_seq: u64,
    /// The agent's groups, lowest index first.
    groups: Vec<usize>,
}

/// Per group a `VecDeque` of waiting sessions and a `Vec` of (agent, level);
/// the agent is found by a linear scan. No timers, no outputs, no priorities.
#[derive(Debug)]
struct Reference {
    queues: Vec<VecDeque<u64>>,
    members: Vec<Vec<(u32, u8)>>,
    agents: Vec<RefAgent>,
    /// Session -> agent while served.
    owner: HashMap<u64, u32>,
    seq: u64,
    /// Decisions made, drained by the caller.
    decisions: Vec<(u64, u32, usize)>,
}

impl Reference {
    fn new(roster: Roster) -> Reference {
        let mut members = vec![Vec::new(); GROUPS];
        let agents = (0..roster.agents)
            .map(|i| {
                let mut groups = Vec::new();
                for (g, level) in memberships(i) {
                    members[g].push((i as u32, level));
                    groups.push(g);
                }
                groups.sort_unstable();
                RefAgent { available: false, capacity: roster.capacity, sessions: Vec::new(), last_seq: 0, groups }
            })
            .collect();
        Reference {
            queues: vec![VecDeque::new(); GROUPS],
            members,
            agents,
            owner: HashMap::new(),
            seq: 0,
            decisions: Vec::new(),
        }
    }

    fn join(&mut self, session: u64, group: usize) {
        self.queues[group].push_back(session);
        self.dispatch(group);
    }

    fn set_available(&mut self, agent: u32) {
        self.agents[agent as usize].available = true;
        self.dispatch_groups_of(agent);
    }

    fn leave(&mut self, session: u64) {
        let agent = self.owner.remove(&session).expect("served");
        let a = &mut self.agents[agent as usize];
        a.sessions.retain(|&s| s != session);
        self.dispatch_groups_of(agent);
    }

    /// An agent became freer: across their groups, serve the customer who
    /// joined first (session numbers are given in joining order), as the
    /// router does, until no group can assign.
    fn dispatch_groups_of(&mut self, agent: u32) {
        loop {
            let mut best: Option<(u64, usize, u32)> = None;
            for &g in &self.agents[agent as usize].groups {
                let Some(&head) = self.queues[g].front() else { continue };
                if best.is_some_and(|(b, _, _)| b < head) {
                    continue;
                }
                if let Some(a) = self.best_agent(g) {
                    best = Some((head, g, a));
                }
            }
            let Some((session, group, agent)) = best else { break };
            self.queues[group].pop_front();
            self.assign(session, agent, group);
        }
    }

    fn dispatch(&mut self, group: usize) {
        while !self.queues[group].is_empty() {
            let Some(agent) = self.best_agent(group) else { break };
            let session = self.queues[group].pop_front().unwrap();
            self.assign(session, agent, group);
        }
    }

    fn assign(&mut self, session: u64, agent: u32, group: usize) {
        self.seq += 1;
        let a = &mut self.agents[agent as usize];
        a.sessions.push(session);
        a.last_seq = self.seq;
        self.owner.insert(session, agent);
        self.decisions.push((session, agent, group));
    }

    /// Highest level, then fewest sessions, then longest idle, then roster order.
    fn best_agent(&self, group: usize) -> Option<u32> {
        self.members[group]
            .iter()
            .filter(|&&(a, _)| {
                let a = &self.agents[a as usize];
                a.available && (a.sessions.len() as u32) < a.capacity
            })
            .min_by_key(|&&(a, level)| {
                let ag = &self.agents[a as usize];
                (Reverse(level), ag.sessions.len(), ag.last_seq, a)
            })
            .map(|&(a, _)| a)
    }
}

fn reference_backlog(roster: Roster, queued: usize) -> Reference {
    let mut reference = Reference::new(roster);
    for n in 0..queued {
        reference.join(n as u64, initial_group(n));
    }
    reference
}

/// Timed part of `drain` for the reference.
#[inline(never)]
fn reference_drain(reference: &mut Reference, mut on_assigned: impl FnMut(u64, u32)) -> usize {
    let mut decisions = 0;
    for agent in 0..reference.agents.len() as u32 {
        reference.set_available(agent);
        decisions += reference.decisions.len();
        black_box(&reference.decisions);
        for (session, agent, _) in reference.decisions.drain(..) {
            on_assigned(session, agent);
        }
        if decisions >= QUEUED {
            break;
        }
    }
    decisions
}

#[derive(Debug)]
struct ReferenceSteady {
    reference: Reference,
    served: VecDeque<u64>,
    next_session: u64,
}

impl ReferenceSteady {
    fn new(roster: Roster) -> ReferenceSteady {
        let slots = roster.agents * roster.capacity as usize;
        let mut reference = reference_backlog(roster, QUEUED + slots);
        for agent in 0..roster.agents as u32 {
            reference.set_available(agent);
        }
        let served = reference.decisions.drain(..).map(|(s, _, _)| s).collect::<VecDeque<_>>();
        assert_eq!(served.len(), slots);
        let mut steady = ReferenceSteady { reference, served, next_session: (QUEUED + slots) as u64 };
        for _ in 0..STEADY_WARMUP_STEPS {
            steady.step(|_, _| {});
        }
        steady
    }

    #[inline(never)]
    fn step(&mut self, mut on_assigned: impl FnMut(u64, u32)) {
        let leaving = self.served.pop_front().unwrap();
        self.reference.leave(leaving);
        let mut refill = None;
        for (s, a, g) in self.reference.decisions.drain(..) {
            self.served.push_back(s);
            refill = Some(g);
            on_assigned(s, a);
        }
        let session = self.next_session;
        self.next_session += 1;
        self.reference.join(session, refill.unwrap());
        self.reference.decisions.clear();
    }
}

// ---- checks: the router and the reference make the same choices ----

fn check_same_drain(roster: Roster, ids: &Ids) -> usize {
    let mut router = router_backlog(roster, ids, QUEUED);
    let mut by_router = Vec::new();
    let made = router_drain(&mut router, ids, |s, _, a| by_router.push((s.0, ids.agent_index[a])));
    let mut reference = reference_backlog(roster, QUEUED);
    let mut by_reference = Vec::new();
    reference_drain(&mut reference, |s, a| by_reference.push((s, a)));
    assert_eq!(made, QUEUED, "the drain assigns the whole queue");
    eprintln!(
        "drain, {} agents of capacity {}: {made} decisions, {} agents made available",
        roster.agents,
        roster.capacity,
        by_router.iter().map(|&(_, a)| a).max().unwrap() + 1
    );
    assert_eq!(by_router, by_reference, "router and reference choose the same agents");
    made
}

fn check_same_steady(router: &mut RouterSteady, reference: &mut ReferenceSteady, ids: &Ids, steps: usize) {
    let mut by_router = Vec::new();
    let mut by_reference = Vec::new();
    for _ in 0..steps {
        router.step(ids, |s, a| by_router.push((s.0, ids.agent_index[a])));
        reference.step(|s, a| by_reference.push((s, a)));
    }
    assert_eq!(by_router.len(), steps, "one decision per step");
    assert_eq!(by_router, by_reference, "router and reference choose the same agents");
}

// ---- criterion ----

fn drain(c: &mut Criterion) {
    let mut group = c.benchmark_group("drain");
    group.sample_size(10).warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_millis(1500));
    group.sampling_mode(SamplingMode::Flat);
    for roster in ROSTERS {
        let ids = Ids::new(roster);
        let decisions = check_same_drain(roster, &ids);
        group.throughput(Throughput::Elements(decisions as u64));
        group.bench_function(BenchmarkId::new("router", roster.agents), |b| {
            b.iter_custom(|iters| {
                let mut timed = Duration::ZERO;
                for _ in 0..iters {
                    let mut router = router_backlog(roster, &ids, QUEUED);
                    let start = Instant::now();
                    let made = router_drain(&mut router, &ids, |_, _, _| {});
                    timed += start.elapsed();
                    assert_eq!(made, decisions);
                }
                timed
            })
        });
        group.bench_function(BenchmarkId::new("reference", roster.agents), |b| {
            b.iter_custom(|iters| {
                let mut timed = Duration::ZERO;
                for _ in 0..iters {
                    let mut reference = reference_backlog(roster, QUEUED);
                    let start = Instant::now();
                    let made = reference_drain(&mut reference, |_, _| {});
                    timed += start.elapsed();
                    assert_eq!(made, decisions);
                }
                timed
            })
        });
    }
    group.finish();
}

fn steady(c: &mut Criterion) {
    let mut group = c.benchmark_group("steady");
    group.sample_size(10).warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_millis(1500));
    group.throughput(Throughput::Elements(1));
    for roster in ROSTERS {
        let ids = Ids::new(roster);
        let mut router = RouterSteady::new(roster, &ids);
        let mut reference = ReferenceSteady::new(roster);
        check_same_steady(&mut router, &mut reference, &ids, 2_000);
        group.bench_function(BenchmarkId::new("router", roster.agents), |b| {
            b.iter(|| router.step(&ids, |_, _| {}));
        });
        group.bench_function(BenchmarkId::new("reference", roster.agents), |b| {
            b.iter(|| reference.step(|_, _| {}));
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    // Short on purpose (the whole file runs in about 2 minutes): no plots,
    // fewer bootstrap resamples than the default 100,000.
    config = Criterion::default().without_plots().nresamples(10_000);
    targets = drain, steady
}

/// Wall time and on-CPU time of the timed parts. On a shared machine the
/// wall time includes time spent waiting for a CPU; the scheduler's own
/// account (`/proc/thread-self/schedstat`: ns on CPU, ns waiting to run)
/// separates the two.
#[derive(Debug, Default)]
struct Stopwatch {
    wall_ns: u64,
    cpu_ns: u64,
    wait_ns: u64,
    started: Option<(Instant, u64, u64)>,
}

impl Stopwatch {
    fn schedstat() -> (u64, u64) {
        let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
        let mut fields = text.split_whitespace().map(|f| f.parse::<u64>().unwrap_or(0));
        (fields.next().unwrap_or(0), fields.next().unwrap_or(0))
    }

    fn start(&mut self) {
        let (cpu, wait) = Stopwatch::schedstat();
        self.started = Some((Instant::now(), cpu, wait));
    }

    fn stop(&mut self) {
        let wall = self.started.map(|(at, _, _)| at.elapsed());
        let (cpu, wait) = Stopwatch::schedstat();
        let (_, cpu0, wait0) = self.started.take().expect("started");
        self.wall_ns += wall.unwrap_or_default().as_nanos() as u64;
        self.cpu_ns += cpu - cpu0;
        self.wait_ns += wait - wait0;
    }
}

/// `ROUTER_BENCH_PROFILE=<drain|steady>-<router|reference>-<agents>[:<n>]`
/// runs one scenario without criterion, for a profiler (`perf record`,
/// `valgrind --tool=callgrind --toggle-collect='*router_drain*'`): the setup,
/// then `n` drains or `n` steady steps, and prints the time per decision.
/// With `ROUTER_BENCH_CENSUS=1` it then counts the router's outputs per
/// decision in one more, untimed, round.
fn profile(spec: &str) {
    let (name, n) = spec.split_once(':').unwrap_or((spec, "1"));
    let n: u64 = n.parse().expect("a count after `:`");
    let parts: Vec<&str> = name.split('-').collect();
    let [scenario, core, agents] = parts[..] else { panic!("expected <scenario>-<core>-<agents>, got {name}") };
    let agents: usize = agents.parse().expect("an agent count");
    let roster = *ROSTERS.iter().find(|r| r.agents == agents).expect("1000 or 10000 agents");
    let ids = Ids::new(roster);
    println!("size_of::<Output>() = {} bytes", std::mem::size_of::<Output>());
    let mut clock = Stopwatch::default();
    let mut decisions = 0;
    match (scenario, core) {
        // All backlogs are built first and drained in one timed stretch: the
        // scheduler's CPU time is only as exact as its last tick.
        ("drain", "router") => {
            let mut routers: Vec<Router> = (0..n).map(|_| router_backlog(roster, &ids, QUEUED)).collect();
            clock.start();
            for router in &mut routers {
                decisions += router_drain(router, &ids, |_, _, _| {});
            }
            clock.stop();
        }
        ("drain", "reference") => {
            let mut references: Vec<Reference> = (0..n).map(|_| reference_backlog(roster, QUEUED)).collect();
            clock.start();
            for reference in &mut references {
                decisions += reference_drain(reference, |_, _| {});
            }
            clock.stop();
        }
        ("steady", "router") => {
            let mut router = RouterSteady::new(roster, &ids);
            clock.start();
            for _ in 0..n {
                router.step(&ids, |_, _| decisions += 1);
            }
            clock.stop();
        }
        ("steady", "reference") => {
            let mut reference = ReferenceSteady::new(roster);
            clock.start();
            for _ in 0..n {
                reference.step(|_, _| decisions += 1);
            }
            clock.stop();
        }
        _ => panic!("unknown scenario {name}"),
    }
    let per = |ns: u64| ns as f64 / decisions as f64;
    println!(
        "{name}: {decisions} decisions; wall {:.0} ns/decision ({:.0}/s); on CPU {:.0} ns/decision ({:.0}/s); \
         waited for a CPU {:.0}% of the wall time",
        per(clock.wall_ns),
        1e9 / per(clock.wall_ns),
        per(clock.cpu_ns),
        1e9 / per(clock.cpu_ns),
        100.0 * clock.wait_ns as f64 / clock.wall_ns as f64
    );
    if core == "router" && std::env::var_os("ROUTER_BENCH_CENSUS").is_some() {
        // One more untimed round, counting what the router produced.
        COUNTING.set(true);
        let decisions = if scenario == "drain" {
            let mut router = router_backlog(roster, &ids, QUEUED);
            CENSUS.with_borrow_mut(BTreeMap::clear);
            router_drain(&mut router, &ids, |_, _, _| {})
        } else {
            let mut router = RouterSteady::new(roster, &ids);
            CENSUS.with_borrow_mut(BTreeMap::clear);
            let mut made = 0;
            for _ in 0..100_000 {
                router.step(&ids, |_, _| made += 1);
            }
            made
        };
        println!("outputs per decision:");
        CENSUS.with_borrow(|c| {
            for (kind, n) in c {
                println!("  {kind:40} {:8.3}", *n as f64 / decisions as f64);
            }
            println!("  {:40} {:8.3}", "total", c.values().sum::<u64>() as f64 / decisions as f64);
        });
    }
}

fn main() {
    if let Ok(spec) = std::env::var("ROUTER_BENCH_PROFILE") {
        profile(&spec);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
