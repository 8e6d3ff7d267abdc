//! Are the wait estimates honest? A steady-state simulation on simulated
//! time: customers arrive at random (Poisson), agents close each chat after
//! a random time (exponential: the hardest case, every chat end a
//! surprise), and each customer's estimate on joining is set against the
//! wait they then had.
//!
//! With chat ends at random, the time until the next `p` seats free up is
//! itself random (for `p = 1`, exponential: even a perfect estimate is
//! within 2x of it only 47% of the time), so the share that can be within
//! 2x depends on how far back customers join. At 95% load, where queues
//! form, 80% is what a sound estimator reaches.
//!
//! The test also works out what the old estimator (position x the smoothed
//! gap between the group's last assignments) would have said, and prints
//! its share: about the same here, where the gaps between assignments are
//! the gaps between chat ends. Where it failed (nobody online, a burst of
//! assignments when an agent comes back, seats changing) is tested in
//! `waiting.rs`. Not covered here, and a known limit: an estimate does not
//! foresee an agent's return from a break (with agents taking turns on
//! breaks at the same load, about 72% of estimates are within 2x, the old
//! estimator's too: those who wait across a return are served sooner).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::Duration;

use switchboard_router::*;

use crate::sim::*;

const AGENTS: usize = 4;
const CAPACITY: u32 = 3;
/// Mean chat duration, ms.
const MEAN_CHAT_MS: f64 = 6.0 * 60_000.0;
const CUSTOMERS: u64 = 5_000;
/// Customers before the steady state, not counted.
const WARM_UP: u64 = 500;
/// The share of customers who waited whose estimate must be within 2x.
const WITHIN_2X: f64 = 0.80;
const SEEDS: [u64; 3] = [0x5eed_0001, 0x5eed_0002, 0x5eed_0003];

/// Offered load: arrivals x mean chat / seats.
const LOAD: f64 = 0.95;

/// xorshift64*: seeded, so every run is the same run.
struct Rng(u64);

impl Rng {
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d);
        ((x >> 11) as f64 + 1.0) / (1u64 << 53) as f64
    }

    fn exponential(&mut self, mean_ms: f64) -> Duration {
        Duration::from_millis((-mean_ms * self.unit().ln()).round() as u64)
    }
}

/// What happens next, in time order (ties: in this order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Happening {
    ChatEnds { session: u64, agent: usize },
    CustomerArrives,
}

#[derive(Default)]
struct Customer {
    joined: Millis,
    estimate: Option<WaitEstimate>,
    /// What the old estimator would have said on joining.
    old_estimate: Option<Duration>,
    assigned: Option<Millis>,
}

struct Run {
    sim: Sim,
    rng: Rng,
    agenda: BinaryHeap<Reverse<(Millis, Happening)>>,
    customers: HashMap<u64, Customer>,
    /// The old estimator's state: the smoothed gap between assignments (1/8), the last one.
    old_gap_ms: Option<u64>,
    last_assigned: Option<Millis>,
}

fn agent_name(agent: usize) -> String {
    format!("agent{agent}")
}

impl Run {
    fn new(seed: u64) -> Run {
        let names: Vec<String> = (0..AGENTS).map(agent_name).collect();
        let agents: Vec<(&str, &[&str], u32)> =
            names.iter().map(|n| (n.as_str(), &["general"][..], CAPACITY)).collect();
        let mut sim = Sim::new(config(&[("general", &[])], &agents));
        for name in &names {
            sim.online(name);
        }
        sim.take();
        let mut run = Run {
            sim,
            rng: Rng(seed),
            agenda: BinaryHeap::new(),
            customers: HashMap::new(),
            old_gap_ms: None,
            last_assigned: None,
        };
        run.schedule_arrival();
        run
    }

    fn schedule(&mut self, after: Duration, what: Happening) {
        self.agenda.push(Reverse((self.sim.now + after, what)));
    }

    fn schedule_arrival(&mut self) {
        let seats = (AGENTS as f64) * f64::from(CAPACITY);
        let gap = self.rng.exponential(MEAN_CHAT_MS / (LOAD * seats));
        self.schedule(gap, Happening::CustomerArrives);
    }

    /// Notes estimates and assignments, and when each new chat will end.
    fn observe(&mut self) {
        let now = self.sim.now;
        for output in self.sim.take() {
            match output {
                Output::ToCustomer { session, notice: CustomerNotice::Queued { estimated_wait, position, .. } } => {
                    let old = Duration::from_millis(self.old_gap_ms.unwrap_or(30_000)) * position;
                    let c = self.customers.get_mut(&session.0).expect("a known customer");
                    c.estimate.get_or_insert(estimated_wait);
                    c.old_estimate.get_or_insert(old);
                }
                Output::ToCustomer { session, notice: CustomerNotice::Assigned { .. } } => {
                    self.customers.get_mut(&session.0).expect("a known customer").assigned = Some(now);
                    if let Some(last) = self.last_assigned.replace(now) {
                        let gap = now.0 - last.0;
                        self.old_gap_ms = Some(self.old_gap_ms.map_or(gap, |avg| (avg * 7 + gap) / 8));
                    }
                }
                Output::ToAgent { agent, notice: AgentNotice::SessionAssigned { session } } => {
                    let agent = agent.as_str().trim_start_matches("agent").parse().unwrap();
                    let held = self.rng.exponential(MEAN_CHAT_MS);
                    self.schedule(held, Happening::ChatEnds { session: session.session.0, agent });
                }
                _ => {}
            }
        }
    }

    fn run(&mut self) {
        let mut joined = 0;
        while joined < CUSTOMERS {
            let Reverse((at, what)) = self.agenda.pop().expect("arrivals never stop");
            self.sim.advance(at.since(self.sim.now));
            self.observe();
            match what {
                Happening::CustomerArrives => {
                    joined += 1;
                    self.customers.insert(joined, Customer { joined: at, ..Customer::default() });
                    self.sim.join(joined, "general");
                    self.schedule_arrival();
                }
                Happening::ChatEnds { session, agent } => self.sim.close(&agent_name(agent), session).unwrap(),
            }
            self.observe();
        }
    }

    /// Of the customers who waited: how many estimates were within 2x,
    /// the new and the old; and how many customers were served at once.
    fn score(&self) -> Score {
        let mut score = Score::default();
        for (&id, c) in &self.customers {
            let Some(assigned) = c.assigned.filter(|_| id > WARM_UP) else { continue };
            let actual = assigned.since(c.joined);
            if actual.is_zero() {
                score.at_once += 1;
                continue;
            }
            score.waited += 1;
            let estimate = c.estimate.and_then(WaitEstimate::wait).expect("agents are online: a number");
            score.within += usize::from(within_2x(estimate, actual));
            score.old_within += usize::from(within_2x(c.old_estimate.unwrap(), actual));
        }
        score
    }
}

#[derive(Debug, Default)]
struct Score {
    within: usize,
    old_within: usize,
    waited: usize,
    at_once: usize,
}

fn within_2x(estimate: Duration, actual: Duration) -> bool {
    estimate / 2 <= actual && actual <= estimate * 2
}

#[test]
fn wait_estimates_are_within_2x_of_the_actual_wait_for_most_customers() {
    for seed in SEEDS {
        let mut run = Run::new(seed);
        run.run();
        let Score { within, old_within, waited, at_once } = run.score();
        let share = within as f64 / waited as f64;
        println!(
            "seed {seed:#x}: {within} of {waited} customers who waited ({:.1}%) were told an estimate within 2x \
             of their actual wait ({at_once} more were served at once); the old estimator: {:.1}%",
            share * 100.0,
            old_within as f64 * 100.0 / waited as f64
        );
        assert!(waited > 1_000, "the simulation must make customers wait: {waited}");
        assert!(share >= WITHIN_2X, "seed {seed:#x}: {:.1}% < {:.0}%", share * 100.0, WITHIN_2X * 100.0);
    }
}
