//! `gen-data-dir`: a realistic data_dir written without the network, for
//! measuring how long the real server takes to recover from it.
//!
//! It opens the data_dir with the server's own start-up code
//! (`journal::recovery::open`: snapshot 0 of the fresh state, the log writer,
//! the `Restarted` entry), then plays a day of traffic through a
//! [`SessionLayer`] exactly as the driver does: every request goes through
//! `prepare`, every entry it returns is appended to the [`Journal`] (group
//! commit: a batch goes whenever the previous one is done) and then applied;
//! a `Tick` is logged whenever the router's next deadline has passed; and a
//! snapshot of the whole state is taken every `snapshot_every` entries and
//! written once the log is on disk up to it, as the server's driver does
//! (and pruned as the server prunes: the newest two are kept, with the log
//! after the older one). Snapshots that the server would certainly have
//! deleted by the end (at least two newer ones fall before `inputs`) are
//! skipped rather than encoded and written: the data_dir left is the same.
//!
//! The traffic: every agent of the roster in the group connects and goes
//! available; `sessions` customers join (each assigned at once while the
//! roster has room) and exchange messages with their agent, customer and
//! agent in turn, a random 0.5x-1.5x `message_gap` apart; after
//! `messages_per_session` messages the customer leaves, the connection
//! closes, and a new customer takes the slot a few seconds later. Once the
//! log holds `inputs` entries, nobody leaves any more (a customer about to
//! leave stays), and the generator stops as soon as all `sessions` slots are
//! in a live session, a few seconds of business time later. Nothing is
//! snapshotted at the end: the data_dir is what a crash right then leaves.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use clap::Args;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use serde::Serialize;
use switchboard_protocol::agent::{AgentCommand, AvailabilityRequest};
use switchboard_protocol::customer::CustomerCommand;
use switchboard_server::config::{Config, StorageMode, SyncPolicy};
use switchboard_server::journal::recovery;
use switchboard_server::journal::{Journal, Lsn};
use switchboard_server::router::config::Role;
use switchboard_server::router::input::Priority;
use switchboard_server::router::{AgentId, Millis, SessionId, SessionStatus};
use switchboard_server::session::{ConnId, CustomerIdentity, CustomerOpen, Entry, Request, SessionLayer};
use switchboard_storage::{Faults, Progress, Store};
use tokio::sync::mpsc::UnboundedReceiver;

#[derive(Debug, Args)]
pub struct GenDataDirArgs {
    /// The server config to generate for (its roster, rules and `[storage]`
    /// settings; `SWITCHBOARD_*` variables apply as they do for the server).
    /// Start the server on the data_dir with this same config.
    #[arg(long)]
    pub config: PathBuf,
    /// The data_dir to write. Must not exist yet (its parent must).
    #[arg(long)]
    pub out: PathBuf,
    /// Log entries (inputs) to write, at least: the generator stops at the
    /// first moment after that when every session slot is live again.
    #[arg(long, default_value_t = 1_000_000)]
    pub inputs: u64,
    /// Live sessions at the end (the roster in the group must have room for them).
    #[arg(long, default_value_t = 10_000)]
    pub sessions: usize,
    /// The skill group customers join (agents of the roster in it take part).
    #[arg(long, default_value = "load")]
    pub group: String,
    /// Chat messages per session (customer and agent in turn) before the customer leaves.
    #[arg(long, default_value_t = 20)]
    pub messages_per_session: u32,
    /// Mean business seconds between two messages of a session (each gap is 0.5x to 1.5x this).
    #[arg(long, default_value_t = 15.0)]
    pub message_gap: f64,
    /// Mean chat text length in bytes (each text is 0.5x to 1.5x this).
    #[arg(long, default_value_t = 80)]
    pub text_bytes: usize,
    /// Snapshot every N entries (default: the config's `storage.snapshot_every`).
    #[arg(long)]
    pub snapshot_every: Option<u64>,
    /// Keep only the first snapshot (lsn 0, the empty state): a restart
    /// replays the whole log. The worst case for recovery time.
    #[arg(long)]
    pub only_first_snapshot: bool,
    /// Seed of the traffic's randomness (texts, gaps; resume tokens stay random).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Write the summary as JSON to this file too.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// No progress lines.
    #[arg(long)]
    pub quiet: bool,
}

/// What to generate (the command line, checked).
#[derive(Clone, Debug)]
pub struct Plan {
    pub inputs: u64,
    pub sessions: usize,
    pub group: String,
    pub messages_per_session: u32,
    pub message_gap: Duration,
    pub text_bytes: usize,
    /// `None`: only the first snapshot.
    pub snapshot_every: Option<u64>,
    pub seed: u64,
    pub progress: bool,
}

/// What was generated.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub data_dir: String,
    /// Log entries written (lsn 1 to `last_lsn`).
    pub last_lsn: u64,
    /// Sessions open (waiting or assigned) at the end, as the router counts them.
    pub live_sessions: usize,
    /// Of which waiting for an agent.
    pub waiting_sessions: usize,
    /// Closed sessions the router still keeps (their rating window has not passed).
    pub closed_sessions_kept: usize,
    /// Customers who joined in all.
    pub customers: u64,
    pub agents: usize,
    pub entries: EntryCounts,
    /// Business time the traffic spans.
    pub business_seconds: f64,
    /// Snapshots in the data_dir at the end: (lsn, bytes).
    pub snapshots: Vec<(u64, u64)>,
    /// Snapshots the server would have taken (lsn 0 included); of which
    /// skipped because they would have been deleted by the end.
    pub snapshots_taken: u64,
    pub snapshots_skipped: u64,
    /// For each snapshot written here: the lsn, seconds to encode the
    /// image (`SessionLayer::image`, which the server runs on its driver
    /// task, between two inputs) and seconds to write the file.
    pub snapshot_timings: Vec<SnapshotTiming>,
    /// Entries after the newest snapshot: what a restart replays.
    pub tail_records: u64,
    pub log_bytes: u64,
    pub segments: usize,
    /// The whole state at the end, encoded as a snapshot would be (not written).
    pub final_image_bytes: usize,
    /// Wall time taken to generate, and entries per second.
    pub elapsed_s: f64,
    pub entries_per_s: f64,
}

/// How long one snapshot took.
#[derive(Debug, Default, Serialize)]
pub struct SnapshotTiming {
    pub lsn: u64,
    pub bytes: usize,
    pub encode_s: f64,
    pub write_s: f64,
}

/// Entries written, by kind.
#[derive(Debug, Default, Serialize)]
pub struct EntryCounts {
    pub customer_join: u64,
    pub customer_command: u64,
    pub agent_open: u64,
    pub agent_command: u64,
    pub closed: u64,
    pub tick: u64,
    pub other: u64,
}

pub fn plan(args: &GenDataDirArgs, config: &Config) -> anyhow::Result<Plan> {
    if args.sessions == 0 {
        bail!("--sessions must be at least 1");
    }
    if args.messages_per_session == 0 {
        bail!("--messages-per-session must be at least 1");
    }
    if !(args.message_gap.is_finite() && args.message_gap > 0.0 && args.message_gap <= 3600.0) {
        bail!("--message-gap must be above 0 and at most 3600 business seconds");
    }
    if args.text_bytes == 0 || args.text_bytes > 4000 {
        bail!("--text-bytes must be 1 to 4000");
    }
    let snapshot_every = match (args.only_first_snapshot, args.snapshot_every) {
        (true, _) => None,
        (false, Some(0)) => bail!("--snapshot-every must be at least 1 (or use --only-first-snapshot)"),
        (false, every) => Some(every.unwrap_or(config.storage.snapshot_every)),
    };
    Ok(Plan {
        inputs: args.inputs,
        sessions: args.sessions,
        group: args.group.clone(),
        messages_per_session: args.messages_per_session,
        message_gap: Duration::from_secs_f64(args.message_gap),
        text_bytes: args.text_bytes,
        snapshot_every,
        seed: args.seed,
        progress: !args.quiet,
    })
}

pub fn run(args: &GenDataDirArgs) -> anyhow::Result<()> {
    let config = Config::load(Some(&args.config), std::env::vars())
        .with_context(|| format!("loading {}", args.config.display()))?;
    let plan = plan(args, &config)?;
    let summary = generate(&config, &args.out, &plan)?;
    let text = serde_json::to_string_pretty(&summary)?;
    println!("{text}");
    if let Some(path) = &args.json {
        std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// The config the generator writes with: the given one in file mode on
/// `out`. Its writer syncs every 50 ms rather than on every batch: the files
/// are the same, and the disk is shared.
fn writing_config(config: &Config, out: &std::path::Path) -> Config {
    let mut config = config.clone();
    config.storage.mode = StorageMode::File;
    config.storage.data_dir = out.to_owned();
    config.storage.sync = SyncPolicy::Interval;
    config.storage.sync_interval = Duration::from_millis(50);
    config
}

/// Writes a data_dir at `out` (which must not exist) from `config`'s roster.
pub fn generate(config: &Config, out: &std::path::Path, plan: &Plan) -> anyhow::Result<Summary> {
    if out.exists() {
        bail!("{} exists already: give a new directory", out.display());
    }
    let agents: Vec<AgentId> = config
        .router
        .agents
        .iter()
        .filter(|a| a.role == Role::Agent && a.groups.iter().any(|m| m.group.as_str() == plan.group))
        .map(|a| a.id.clone())
        .collect();
    let room: u64 = config.router.agents.iter().filter(|a| agents.contains(&a.id)).map(|a| u64::from(a.capacity)).sum();
    if agents.is_empty() {
        bail!("no agent of the roster is in group {:?}", plan.group);
    }
    if room < plan.sessions as u64 {
        bail!(
            "the {} agents of group {:?} serve at most {room} sessions at once, fewer than --sessions {}: \
             give gen-config more --agents or a higher --capacity",
            agents.len(),
            plan.group,
            plan.sessions
        );
    }
    let started = Instant::now();
    let config = writing_config(config, out);
    let opened = recovery::open(&config, Faults::default()).context("opening the data_dir as the server does")?;
    let store = opened.store.context("file mode has a store")?;
    let progress = opened.progress.context("file mode has a progress channel")?;
    let mut gen = Generator {
        layer: opened.layer,
        journal: opened.journal,
        progress,
        store: store.clone(),
        snapshot_every: plan.snapshot_every,
        target: plan.inputs,
        last_snapshot: 0,
        snapshots_taken: 1,
        snapshots_skipped: 0,
        snapshot_timings: Vec::new(),
        last_time: opened.resume_at,
        counts: EntryCounts::default(),
    };
    gen.last_snapshot = gen.journal.last();
    for entry in opened.first_entries {
        gen.log_and_apply(opened.resume_at, entry)?;
    }
    let start = opened.resume_at;
    let traffic = Traffic::new(plan, agents, gen.layer.last_conn() + 1);
    let traffic = traffic.run(&mut gen, start)?;

    // A crash now: everything logged is on disk, no final snapshot.
    gen.drain()?;
    let Generator {
        layer, mut journal, counts, last_time, snapshots_taken, snapshots_skipped, snapshot_timings, ..
    } = gen;
    let last_lsn = journal.last();
    journal.close();
    let groups = layer.router().group_snapshots(last_time);
    let snapshots: Vec<(u64, u64)> = store.snapshots()?.iter().map(|s| (s.lsn, s.bytes)).collect();
    let newest = snapshots.iter().map(|s| s.0).max().unwrap_or(0);
    let segments = store.segments()?;
    let elapsed = started.elapsed().as_secs_f64();
    let image = layer.image().map_err(|e| anyhow::anyhow!("encoding the final state: {e}"))?;
    Ok(Summary {
        data_dir: out.display().to_string(),
        last_lsn,
        live_sessions: groups.iter().map(|g| g.waiting + g.active).sum(),
        waiting_sessions: groups.iter().map(|g| g.waiting).sum(),
        closed_sessions_kept: (1..=traffic.customers)
            .filter(|&id| layer.router().session_open(SessionId(id)) == Some(false))
            .count(),
        customers: traffic.customers,
        agents: traffic.agents.len(),
        entries: counts,
        business_seconds: (last_time.0 - start.0) as f64 / 1000.0,
        snapshots,
        snapshots_taken,
        snapshots_skipped,
        snapshot_timings,
        tail_records: last_lsn - newest,
        log_bytes: segments.iter().map(|s| s.bytes).sum(),
        segments: segments.len(),
        final_image_bytes: image.len(),
        elapsed_s: elapsed,
        entries_per_s: last_lsn as f64 / elapsed,
    })
}

/// The driver's part: logging, applying, timers and snapshots.
struct Generator {
    layer: SessionLayer,
    journal: Journal,
    progress: UnboundedReceiver<Progress>,
    store: Arc<Store>,
    snapshot_every: Option<u64>,
    /// The log's target length (`Plan::inputs`).
    target: u64,
    last_snapshot: Lsn,
    snapshots_taken: u64,
    snapshots_skipped: u64,
    snapshot_timings: Vec<SnapshotTiming>,
    /// Business time of the last entry (never goes back).
    last_time: Millis,
    counts: EntryCounts,
}

impl Generator {
    /// What the driver does with a request at `now`: due timers first (its
    /// timer wakes it as soon as they are due), then prepare, log, apply.
    /// Returns the session of a customer who joined.
    fn submit(&mut self, now: Millis, request: Request) -> anyhow::Result<Option<SessionId>> {
        self.fire_timers(now)?;
        let entry = self.layer.prepare(now, request);
        while self.layer.poll_action().is_some() {}
        let Some(entry) = entry else { return Ok(None) };
        let joined = match &entry {
            Entry::CustomerJoin(join) => Some(join.session),
            _ => None,
        };
        self.log_and_apply(now, entry)?;
        Ok(joined)
    }

    fn fire_timers(&mut self, now: Millis) -> anyhow::Result<()> {
        while let Some(due) = self.layer.poll_timeout().filter(|due| *due <= now) {
            let at = due.max(self.last_time);
            self.log_and_apply(at, Entry::Tick)?;
            if self.layer.poll_timeout() == Some(due) {
                bail!("a tick at {at:?} left the timer due at {due:?} armed");
            }
        }
        Ok(())
    }

    fn log_and_apply(&mut self, now: Millis, entry: Entry) -> anyhow::Result<()> {
        let counter = match &entry {
            Entry::CustomerJoin(_) => &mut self.counts.customer_join,
            Entry::CustomerCommand { .. } => &mut self.counts.customer_command,
            Entry::AgentOpen { .. } => &mut self.counts.agent_open,
            Entry::AgentCommand { .. } => &mut self.counts.agent_command,
            Entry::Closed { .. } => &mut self.counts.closed,
            Entry::Tick => &mut self.counts.tick,
            _ => &mut self.counts.other,
        };
        *counter += 1;
        self.last_time = self.last_time.max(now);
        self.journal.append(now, &entry)?;
        self.layer.apply(now, entry);
        while self.layer.poll_action().is_some() {}
        // Group commit, as the driver's loop does after every input.
        self.take_progress();
        self.journal.flush();
        let last = self.journal.last();
        if let Some(every) = self.snapshot_every {
            if last - self.last_snapshot >= every {
                self.snapshots_taken += 1;
                if last + 2 * every <= self.target {
                    // Two newer snapshots come before the end: pruning would delete this one.
                    self.last_snapshot = last;
                    self.snapshots_skipped += 1;
                } else {
                    self.snapshot(last)?;
                }
            }
        }
        Ok(())
    }

    fn take_progress(&mut self) {
        while let Ok(progress) = self.progress.try_recv() {
            self.journal.on_progress(&progress);
        }
    }

    /// Waits for the writer's next report (submitting what is appended first).
    fn wait_progress(&mut self) -> anyhow::Result<()> {
        self.journal.flush();
        let progress = self.progress.blocking_recv().context("the log writer stopped")?;
        if let Some(error) = &progress.error {
            bail!("the log writer failed: {error}");
        }
        self.journal.on_progress(&progress);
        Ok(())
    }

    /// The image is taken now (the state at `lsn`), written once the log is on disk up to `lsn`.
    fn snapshot(&mut self, lsn: Lsn) -> anyhow::Result<()> {
        let started = Instant::now();
        let image = self.layer.image().map_err(|e| anyhow::anyhow!("encoding a snapshot: {e}"))?;
        let encode_s = started.elapsed().as_secs_f64();
        while self.journal.synced() < lsn {
            self.wait_progress()?;
        }
        let written = self.store.write_snapshot(lsn, &image)?;
        let write_s = written.duration.as_secs_f64();
        self.snapshot_timings.push(SnapshotTiming { lsn, bytes: image.len(), encode_s, write_s });
        self.last_snapshot = lsn;
        Ok(())
    }

    /// Everything appended written (the writer syncs it when closed).
    fn drain(&mut self) -> anyhow::Result<()> {
        while !self.journal.is_idle() {
            self.wait_progress()?;
        }
        Ok(())
    }
}

/// What happens next, and to whom.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    AgentOpen(usize),
    AgentAvailable(usize),
    Join(usize),
    CustomerMessage(usize),
    AgentReply(usize),
    Leave(usize),
    CloseConnection(usize),
}

/// One customer slot: a run of customers, one after the other.
#[derive(Debug, Default)]
struct Slot {
    conn: ConnId,
    session: Option<SessionId>,
    /// Messages left before this customer leaves.
    left: u32,
    live: bool,
    /// Ids as the widget makes them: prefix, page id, counter.
    page: String,
    counter: u64,
}

struct Traffic<'p> {
    plan: &'p Plan,
    rng: StdRng,
    agents: Vec<AgentId>,
    agent_conns: HashMap<AgentId, ConnId>,
    slots: Vec<Slot>,
    live: usize,
    next_conn: ConnId,
    customers: u64,
    queue: BinaryHeap<Reverse<(u64, u64, Event)>>,
    seq: u64,
    /// Once the log holds `plan.inputs` entries nobody leaves any more.
    winding_down: bool,
}

/// Neutral words for chat texts (none on the complaint lists).
const WORDS: &[&str] = &[
    "hello", "order", "parcel", "delivery", "address", "tracking", "number", "thanks", "please", "check", "today",
    "tomorrow", "size", "colour", "return", "label", "invoice", "account", "email", "password", "shipping", "week",
    "store", "payment", "card", "the", "my", "is", "it", "can", "you", "when", "where", "arrive", "sent", "yes", "no",
];

impl<'p> Traffic<'p> {
    fn new(plan: &'p Plan, agents: Vec<AgentId>, first_conn: ConnId) -> Traffic<'p> {
        Traffic {
            plan,
            rng: StdRng::seed_from_u64(plan.seed),
            agent_conns: HashMap::with_capacity(agents.len()),
            agents,
            slots: (0..plan.sessions).map(|_| Slot::default()).collect(),
            live: 0,
            next_conn: first_conn,
            customers: 0,
            queue: BinaryHeap::new(),
            seq: 0,
            winding_down: false,
        }
    }

    fn at(&mut self, time: u64, event: Event) {
        self.seq += 1;
        self.queue.push(Reverse((time, self.seq, event)));
    }

    /// A gap of 0.5x to 1.5x `mean`, in ms.
    fn gap(&mut self, mean: Duration) -> u64 {
        let mean = mean.as_millis() as f64;
        (mean * self.rng.random_range(0.5..1.5)).round() as u64
    }

    fn text(&mut self) -> String {
        let target = ((self.plan.text_bytes as f64) * self.rng.random_range(0.5..1.5)).round().max(1.0) as usize;
        let mut text = String::with_capacity(target + 12);
        while text.len() < target {
            if !text.is_empty() {
                text.push(' ');
            }
            text.push_str(WORDS[self.rng.random_range(0..WORDS.len())]);
        }
        text
    }

    fn conn(&mut self) -> ConnId {
        let conn = self.next_conn;
        self.next_conn += 1;
        conn
    }

    fn run(mut self, gen: &mut Generator, start: Millis) -> anyhow::Result<Self> {
        let t0 = start.0;
        // Agents sign in over the first 30 s and go available half a second later.
        let ramp = 30_000u64;
        for i in 0..self.agents.len() {
            let at = t0 + ramp * i as u64 / self.agents.len() as u64;
            self.at(at, Event::AgentOpen(i));
            self.at(at + 500, Event::AgentAvailable(i));
        }
        // The first customers arrive over the following minute, part-way
        // through their chats so that they do not all leave together.
        for slot in 0..self.slots.len() {
            let at = t0 + ramp + 1_000 + self.rng.random_range(0..60_000);
            self.slots[slot].left = self.rng.random_range(1..=self.plan.messages_per_session);
            self.at(at, Event::Join(slot));
        }
        let report_every = (self.plan.inputs / 20).max(100_000);
        let mut next_report = report_every;
        let began = Instant::now();
        while let Some(Reverse((time, _, event))) = self.queue.pop() {
            self.handle(gen, Millis(time), event)?;
            let last = gen.journal.last();
            if !self.winding_down && last >= self.plan.inputs {
                self.winding_down = true;
            }
            if self.winding_down && self.live == self.slots.len() {
                break;
            }
            if self.plan.progress && last >= next_report {
                eprintln!(
                    "  {last} entries, {} live sessions, business time {:.0} s, {:.0} entries/s",
                    self.live,
                    (time - t0) as f64 / 1000.0,
                    last as f64 / began.elapsed().as_secs_f64()
                );
                next_report += report_every;
            }
        }
        if self.live != self.slots.len() {
            bail!("the traffic ended with {} of {} sessions live", self.live, self.slots.len());
        }
        Ok(self)
    }

    fn handle(&mut self, gen: &mut Generator, now: Millis, event: Event) -> anyhow::Result<()> {
        let t = now.0;
        let gap = self.plan.message_gap;
        match event {
            Event::AgentOpen(i) => {
                let conn = self.conn();
                let agent = self.agents[i].clone();
                self.agent_conns.insert(agent.clone(), conn);
                let request = Request::AgentOpen { conn, agent: Some(agent.to_string()), last_seq: None };
                gen.submit(now, request)?;
            }
            Event::AgentAvailable(i) => {
                let conn = self.agent_conns[&self.agents[i]];
                let id = format!("a-{i}-avail");
                let command = AgentCommand::SetAvailability { id, state: AvailabilityRequest::Available, reason: None };
                gen.submit(now, Request::AgentCommand { conn, command })?;
            }
            Event::Join(slot) => {
                let conn = self.conn();
                self.customers += 1;
                let open = CustomerOpen::New {
                    group: Some(self.plan.group.clone()),
                    name: Some(format!("Customer {}", self.customers)),
                    priority: Ok(Priority::Normal),
                    identity: CustomerIdentity::Anonymous,
                    time_zone: None,
                };
                let Some(session) = gen.submit(now, Request::CustomerOpen { conn, open })? else {
                    bail!("customer {} was not let in", self.customers);
                };
                if gen.layer.router().session_open(session) != Some(true) {
                    bail!("customer {} was refused (is group {:?} full?)", self.customers, self.plan.group);
                }
                let page = format!("{:x}{:06x}", t, self.rng.random_range(0..0x100_0000u32));
                let s = &mut self.slots[slot];
                s.conn = conn;
                s.session = Some(session);
                s.live = true;
                s.page = page;
                s.counter = 0;
                if s.left == 0 {
                    s.left = self.plan.messages_per_session;
                }
                self.live += 1;
                let first = self.gap(gap) / 3;
                self.at(t + first, Event::CustomerMessage(slot));
            }
            Event::CustomerMessage(slot) => {
                let text = self.text();
                let s = &mut self.slots[slot];
                s.counter += 1;
                let id = format!("c-{}-{}", s.page, s.counter);
                let conn = s.conn;
                s.left -= 1;
                let left = s.left;
                gen.submit(
                    now,
                    Request::CustomerCommand { conn, command: CustomerCommand::Message { attachment: None, id, text } },
                )?;
                self.next_after_message(slot, t, left, Event::AgentReply(slot));
            }
            Event::AgentReply(slot) => {
                let session = self.slots[slot].session.context("a reply to a slot with no session")?;
                let agent = match gen.layer.router().session_status(session) {
                    Some(SessionStatus::Assigned { agent, .. }) => agent,
                    // Still waiting for an agent: the customer waits too.
                    _ => {
                        let wait = self.gap(gap);
                        self.at(t + wait, Event::AgentReply(slot));
                        return Ok(());
                    }
                };
                let conn = *self.agent_conns.get(&agent).context("an agent with no connection")?;
                let text = self.text();
                let id = format!("r-{}-{}", self.slots[slot].page, self.slots[slot].counter);
                self.slots[slot].left -= 1;
                let left = self.slots[slot].left;
                let command = AgentCommand::Reply { attachment: None, id, session: session.0, text };
                gen.submit(now, Request::AgentCommand { conn, command })?;
                self.next_after_message(slot, t, left, Event::CustomerMessage(slot));
            }
            // Past the target length nobody leaves: the session stays open.
            Event::Leave(_) if self.winding_down => {}
            Event::Leave(slot) => {
                let s = &mut self.slots[slot];
                s.counter += 1;
                let (conn, id) = (s.conn, format!("c-{}-{}", s.page, s.counter));
                s.live = false;
                s.session = None;
                self.live -= 1;
                gen.submit(now, Request::CustomerCommand { conn, command: CustomerCommand::Leave { id } })?;
                self.at(t + 50, Event::CloseConnection(slot));
            }
            Event::CloseConnection(slot) => {
                let conn = self.slots[slot].conn;
                gen.submit(now, Request::Closed { conn })?;
                // The next customer in this slot arrives within 5 s.
                let next = self.rng.random_range(100..5_000);
                self.at(t + next, Event::Join(slot));
            }
        }
        Ok(())
    }

    /// After a message: the other side answers, or the customer leaves
    /// (unless the log is long enough: then the session just stays open).
    fn next_after_message(&mut self, slot: usize, t: u64, left: u32, answer: Event) {
        let wait = self.gap(self.plan.message_gap);
        if left > 0 {
            self.at(t + wait, answer);
        } else if !self.winding_down {
            self.at(t + wait, Event::Leave(slot));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::genconfig::{render, GenConfigArgs};

    fn config(agents: usize, capacity: u32) -> Config {
        let args = GenConfigArgs {
            agents,
            capacity,
            group: "load".into(),
            agent_prefix: "lt-agent-".into(),
            max_queue: 1000,
            clock_scale: 1.0,
            listen: "127.0.0.1:0".into(),
            admin_listen: "127.0.0.1:0".into(),
            auth_secret: None,
            message_rate: 0,
            attack_agents: 0,
            out: None,
        };
        // A fixed calendar instant: business time, and with it every instant
        // the image holds (group hours, ticket deadlines), is then the same in
        // every run, so two runs of one seed encode to the same bytes.
        let toml = render(&args).replace("[clock]\n", "[clock]\nstart = \"2026-11-02T02:00:00Z\"\n");
        Config::from_toml_str(&toml).unwrap()
    }

    fn plan(inputs: u64, sessions: usize, snapshot_every: Option<u64>) -> Plan {
        Plan {
            inputs,
            sessions,
            group: "load".into(),
            messages_per_session: 6,
            message_gap: Duration::from_secs(15),
            text_bytes: 40,
            snapshot_every,
            seed: 7,
            progress: false,
        }
    }

    /// Opens the data_dir as the server does at start-up.
    fn recover(config: &Config, dir: &std::path::Path) -> recovery::Opened {
        let mut config = config.clone();
        config.storage.data_dir = dir.to_owned();
        recovery::open(&config, Faults::default()).unwrap()
    }

    fn live(opened: &recovery::Opened) -> usize {
        opened.layer.router().group_snapshots(opened.resume_at).iter().map(|g| g.waiting + g.active).sum()
    }

    #[test]
    fn the_data_dir_recovers_with_every_session_live_from_the_newest_snapshot() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        let config = config(10, 5);
        let summary = generate(&config, &dir, &plan(3_000, 40, Some(1_000))).unwrap();
        assert!(summary.last_lsn >= 3_000, "{summary:?}");
        assert!(summary.last_lsn < 3_300, "stops soon after the target: {summary:?}");
        assert_eq!(summary.live_sessions, 40);
        assert_eq!(summary.waiting_sessions, 0, "every customer was assigned");
        assert!(summary.entries.customer_join > 40, "customers left and others came: {summary:?}");
        assert!(summary.entries.tick > 0, "timers fired as time passed: {summary:?}");
        assert!(summary.entries.agent_command > summary.entries.agent_open, "agents replied: {summary:?}");
        // The newest two snapshots are kept (the server's pruning), at multiples of snapshot_every.
        let lsns: Vec<u64> = summary.snapshots.iter().map(|s| s.0).collect();
        assert_eq!(lsns.len(), 2, "{lsns:?}");
        assert!(lsns.iter().all(|lsn| lsn % 1_000 == 0), "{lsns:?}");
        // Taken at 0, 1000, 2000 and 3000; the one at 1000 would be pruned by 3000, so it is skipped.
        assert_eq!((summary.snapshots_taken, summary.snapshots_skipped), (4, 1), "{summary:?}");
        assert_eq!(summary.tail_records, summary.last_lsn - lsns.iter().max().unwrap());

        let opened = recover(&config, &dir);
        assert_eq!(opened.replay.snapshot_lsn, lsns.iter().max().copied());
        assert_eq!(opened.replay.records, summary.tail_records);
        assert_eq!(opened.journal.last(), summary.last_lsn);
        assert_eq!(live(&opened), 40);
        assert_eq!(opened.layer.router().config().agents.len(), 10);
    }

    #[test]
    fn with_only_the_first_snapshot_the_whole_log_is_replayed_to_the_same_state() {
        let tmp = tempfile::tempdir().unwrap();
        let config = config(4, 5);
        let whole = tmp.path().join("whole");
        let summary = generate(&config, &whole, &plan(1_500, 20, None)).unwrap();
        assert_eq!(summary.snapshots, vec![(0, summary.snapshots[0].1)], "only the first snapshot");
        assert_eq!(summary.tail_records, summary.last_lsn);
        let opened = recover(&config, &whole);
        assert_eq!(opened.replay.snapshot_lsn, Some(0));
        assert_eq!(opened.replay.records, summary.last_lsn, "every entry is replayed");
        assert_eq!(live(&opened), 20);
        // The same traffic with snapshots recovers to an image of the same size.
        let snapped = tmp.path().join("snapped");
        let other = generate(&config, &snapped, &plan(1_500, 20, Some(500))).unwrap();
        assert_eq!(other.last_lsn, summary.last_lsn, "the same seed makes the same traffic");
        assert_eq!(other.final_image_bytes, summary.final_image_bytes);
        assert_eq!(live(&recover(&config, &snapped)), 20);
    }

    #[test]
    fn refuses_a_roster_without_room_and_an_existing_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let config = config(2, 5);
        let error = generate(&config, &tmp.path().join("d"), &plan(100, 11, None)).unwrap_err();
        assert!(format!("{error:#}").contains("serve at most 10 sessions"), "{error:#}");
        let error = generate(&config, tmp.path(), &plan(100, 5, None)).unwrap_err();
        assert!(format!("{error:#}").contains("exists already"), "{error:#}");
    }
}
