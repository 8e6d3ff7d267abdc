//! The writer: records are handed over without waiting ([`RecordSender::send`]
//! is a `try_send`) into a bounded queue, which one task drains into the
//! database in batches, one transaction per batch.
//!
//! While the database cannot take a batch, the task moves the batch and
//! everything that arrives after it into the [backlog](crate::backlog) (a
//! spill file in the `data_dir`, or memory) and retries with backoff
//! (`retry_min`, doubling to `retry_max`); once a retry succeeds it writes
//! the backlog, oldest first, and then takes from the queue again. Order is
//! kept throughout: a chat's events before the chat, the chat before its
//! rating. Nothing is dropped silently: a full queue, a full or failing
//! spill file, and rows the database refuses (a constraint) are counted in
//! `switchboard_records_dropped_total{reason}` and logged.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use metrics::{Counter, Gauge, Histogram};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::{error, info, warn};

use crate::backlog::{Backlog, Loss};
use crate::record::{Record, RecordKind};
use crate::store::{now_ms, Store, StoreError};

/// How the writer batches, waits and forgets.
#[derive(Clone, Debug)]
pub struct WriterOptions {
    /// Records per transaction at most.
    pub batch_size: usize,
    /// Records the queue holds between the router and the writer.
    pub queue: usize,
    /// Delete what is older than this (`None`: keep everything)...
    pub retention: Option<Duration>,
    /// ...checking this often.
    pub retention_every: Duration,
    pub retry_min: Duration,
    pub retry_max: Duration,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            batch_size: 500,
            queue: 100_000,
            retention: None,
            retention_every: Duration::from_secs(3600),
            retry_min: Duration::from_millis(100),
            retry_max: Duration::from_secs(5),
        }
    }
}

/// Why a record was not written (the `reason` label of the dropped counter).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// The queue was full when the router handed it over.
    QueueFull,
    /// The database was down and the backlog was at its limit.
    SpillFull,
    /// The spill file could not be written or read.
    SpillFailed,
    /// The database refused the row itself.
    Rejected,
    /// The server stopped while the database was down and the backlog was in memory.
    Shutdown,
}

impl DropReason {
    pub const ALL: [DropReason; 5] = [
        DropReason::QueueFull,
        DropReason::SpillFull,
        DropReason::SpillFailed,
        DropReason::Rejected,
        DropReason::Shutdown,
    ];

    pub fn label(self) -> &'static str {
        match self {
            DropReason::QueueFull => "queue_full",
            DropReason::SpillFull => "spill_full",
            DropReason::SpillFailed => "spill_failed",
            DropReason::Rejected => "rejected",
            DropReason::Shutdown => "shutdown",
        }
    }
}

/// What failed (the `operation` label of the errors counter).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    Write,
    Retention,
}

impl Operation {
    pub const ALL: [Operation; 2] = [Operation::Write, Operation::Retention];

    pub fn label(self) -> &'static str {
        match self {
            Operation::Write => "write",
            Operation::Retention => "retention",
        }
    }
}

/// The writer's metric handles, made by whoever owns the recorder.
#[derive(Clone, Debug)]
pub struct WriterMetrics {
    /// By [`RecordKind`], in `ALL` order.
    pub written: [Counter; 5],
    pub batch_records: Histogram,
    pub batch_seconds: Histogram,
    pub backlog: Gauge,
    pub spill_bytes: Gauge,
    /// By [`DropReason`], in `ALL` order.
    pub dropped: [Counter; 5],
    /// By [`Operation`], in `ALL` order.
    pub errors: [Counter; 2],
    pub healthy: Gauge,
    pub deleted: Counter,
}

impl WriterMetrics {
    /// Handles that count nowhere (tests, benches).
    pub fn noop() -> WriterMetrics {
        WriterMetrics {
            written: std::array::from_fn(|_| Counter::noop()),
            batch_records: Histogram::noop(),
            batch_seconds: Histogram::noop(),
            backlog: Gauge::noop(),
            spill_bytes: Gauge::noop(),
            dropped: std::array::from_fn(|_| Counter::noop()),
            errors: std::array::from_fn(|_| Counter::noop()),
            healthy: Gauge::noop(),
            deleted: Counter::noop(),
        }
    }

    fn dropped(&self, reason: DropReason, n: u64) {
        self.dropped[DropReason::ALL.iter().position(|r| *r == reason).expect("listed")].increment(n);
    }

    fn error(&self, operation: Operation) {
        self.errors[Operation::ALL.iter().position(|o| *o == operation).expect("listed")].increment(1);
    }
}

/// Hands records to the writer without ever waiting. Cheap to clone.
#[derive(Clone, Debug)]
pub struct RecordSender {
    tx: mpsc::Sender<Record>,
    drops: Arc<QueueDrops>,
}

/// Drops at a full queue: counted, and logged at most once per [`DROP_LOG_EVERY`].
#[derive(Debug)]
struct QueueDrops {
    counter: Counter,
    total: AtomicU64,
    last_logged: Mutex<Option<Instant>>,
}

const DROP_LOG_EVERY: Duration = Duration::from_secs(10);

impl RecordSender {
    /// Queues a record; `false` if the queue is full (counted and logged) or the writer is gone.
    pub fn send(&self, record: Record) -> bool {
        match self.tx.try_send(record) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                self.drops.dropped();
                false
            }
            Err(TrySendError::Closed(_)) => false,
        }
    }

    /// Queues a record, waiting for room (start-up's replay, on a blocking thread: never the router's).
    pub fn send_blocking(&self, record: Record) -> bool {
        self.tx.blocking_send(record).is_ok()
    }

    /// Records waiting in the queue.
    pub fn queued(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }
}

impl QueueDrops {
    fn dropped(&self) {
        self.counter.increment(1);
        let total = self.total.fetch_add(1, Ordering::Relaxed) + 1;
        let mut last = self.last_logged.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_none_or(|at| at.elapsed() >= DROP_LOG_EVERY) {
            *last = Some(Instant::now());
            warn!(
                dropped_so_far = total,
                "records queue full: records dropped (see switchboard_records_dropped_total)"
            );
        }
    }
}

/// Starts the writer task. It ends once every [`RecordSender`] is dropped and
/// it has written (or spilled) what it holds.
pub fn start(
    store: Store,
    backlog: Backlog,
    options: WriterOptions,
    metrics: WriterMetrics,
) -> (RecordSender, JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(options.queue.max(1));
    let drops =
        QueueDrops { counter: metrics.dropped[0].clone(), total: AtomicU64::new(0), last_logged: Mutex::new(None) };
    let task = Task {
        store,
        rx,
        retry: Retry::new(options.retry_min, options.retry_max),
        next_retention: Instant::now(),
        options,
        metrics,
        backlog,
        outage: None,
    };
    let handle = tokio::spawn(task.run());
    (RecordSender { tx, drops: Arc::new(drops) }, handle)
}

struct Task {
    store: Store,
    rx: mpsc::Receiver<Record>,
    backlog: Backlog,
    options: WriterOptions,
    metrics: WriterMetrics,
    retry: Retry,
    next_retention: Instant,
    /// Since when writes fail, if they do.
    outage: Option<Instant>,
}

impl Task {
    async fn run(mut self) {
        if !self.backlog.is_empty() {
            info!(records = self.backlog.len(), "records: writing what the spill file kept from an earlier run");
        }
        self.show_backlog();
        loop {
            let open = if self.backlog.is_empty() { self.direct().await } else { self.via_backlog().await };
            self.show_backlog();
            if !open {
                break;
            }
        }
        self.finish().await;
    }

    /// Takes a batch from the queue and writes it (or, when the time comes, deletes old rows). False once the queue is closed.
    async fn direct(&mut self) -> bool {
        let first = tokio::select! {
            first = self.rx.recv() => first,
            _ = tokio::time::sleep_until(self.next_retention), if self.options.retention.is_some() => {
                self.retention().await;
                return true;
            }
        };
        let Some(first) = first else { return false };
        let batch = self.more(vec![first]);
        if let Err(e) = self.write(&batch).await {
            self.failed(&e);
            self.keep(batch);
        }
        true
    }

    /// Moves arrivals into the backlog and, when a retry is due, writes its oldest batch. False once the queue is closed.
    async fn via_backlog(&mut self) -> bool {
        let mut open = self.absorb();
        if Instant::now() < self.retry.at {
            tokio::select! {
                record = self.rx.recv() => match record {
                    Some(record) => self.keep(vec![record]),
                    None => open = false,
                },
                _ = tokio::time::sleep_until(self.retry.at) => {}
            }
            if Instant::now() < self.retry.at {
                return open;
            }
        }
        self.drain_once().await;
        open
    }

    /// Writes the backlog's oldest batch; false if the database failed.
    async fn drain_once(&mut self) -> bool {
        let (batch, damaged) = self.backlog.peek(self.options.batch_size);
        self.metrics.dropped(DropReason::SpillFailed, damaged);
        match self.write(&batch).await {
            Ok(()) => {
                self.backlog.consume();
                self.retry.reset();
                if self.backlog.is_empty() {
                    self.recovered();
                }
                true
            }
            Err(e) => {
                self.failed(&e);
                false
            }
        }
    }

    /// Takes whatever is queued (without waiting) into the backlog: arrivals wait behind it. False once closed.
    fn absorb(&mut self) -> bool {
        let mut arrived = Vec::new();
        loop {
            match self.rx.try_recv() {
                Ok(record) => arrived.push(record),
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => {
                    self.keep(arrived);
                    return false;
                }
            }
        }
        self.keep(arrived);
        true
    }

    /// Adds to `batch` what is already queued, up to the batch size.
    fn more(&mut self, mut batch: Vec<Record>) -> Vec<Record> {
        while batch.len() < self.options.batch_size {
            match self.rx.try_recv() {
                Ok(record) => batch.push(record),
                Err(_) => break,
            }
        }
        batch
    }

    fn keep(&mut self, batch: Vec<Record>) {
        if batch.is_empty() {
            return;
        }
        if let Some((loss, n)) = self.backlog.append(batch) {
            let reason = match loss {
                Loss::Full => DropReason::SpillFull,
                Loss::Failed => DropReason::SpillFailed,
            };
            self.metrics.dropped(reason, n);
            warn!(records = n, reason = reason.label(), "records dropped: the backlog cannot keep them");
        }
    }

    /// Writes a batch in one transaction. Rows the database refuses are
    /// dropped one by one (counted, logged) so that they cannot block the rest.
    async fn write(&mut self, batch: &[Record]) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let started = Instant::now();
        let written = match self.store.write(batch).await {
            Ok(()) => batch.iter().collect(),
            Err(e) if !e.is_transient() => self.write_one_by_one(batch).await?,
            Err(e) => return Err(e),
        };
        self.metrics.batch_seconds.record(started.elapsed().as_secs_f64());
        self.metrics.batch_records.record(batch.len() as f64);
        for record in written {
            let i = RecordKind::ALL.iter().position(|k| *k == record.kind()).expect("listed");
            self.metrics.written[i].increment(1);
        }
        self.metrics.healthy.set(1.0);
        Ok(())
    }

    /// The records written (the others are dropped).
    async fn write_one_by_one<'a>(&mut self, batch: &'a [Record]) -> Result<Vec<&'a Record>, StoreError> {
        let mut written = Vec::with_capacity(batch.len());
        for record in batch {
            match self.store.write(std::slice::from_ref(record)).await {
                Ok(()) => written.push(record),
                Err(e) if !e.is_transient() => {
                    self.metrics.dropped(DropReason::Rejected, 1);
                    error!(error = %e, kind = record.kind().label(), "records: the database refused a record: dropped");
                }
                Err(e) => return Err(e),
            }
        }
        Ok(written)
    }

    fn failed(&mut self, e: &StoreError) {
        self.metrics.error(Operation::Write);
        self.metrics.healthy.set(0.0);
        if self.outage.is_none() {
            self.outage = Some(Instant::now());
            error!(error = %e, "records: cannot write to the database; records wait in the backlog and are retried");
        }
        self.retry.fail();
    }

    fn recovered(&mut self) {
        if let Some(since) = self.outage.take() {
            info!(
                after_ms = since.elapsed().as_millis() as u64,
                "records: the database is back and the backlog is written"
            );
        }
    }

    async fn retention(&mut self) {
        self.next_retention = Instant::now() + self.options.retention_every;
        let Some(keep) = self.options.retention else { return };
        let cutoff = now_ms() - keep.as_millis() as i64;
        match self.store.delete_before(cutoff).await {
            Ok(deleted) => {
                self.metrics.deleted.increment(deleted);
                if deleted > 0 {
                    info!(rows = deleted, "records: retention deleted old rows");
                }
            }
            Err(e) => {
                self.metrics.error(Operation::Retention);
                warn!(error = %e, "records: retention failed; tried again later");
            }
        }
    }

    fn show_backlog(&self) {
        let queued = self.rx.len() as u64;
        self.metrics.backlog.set((queued + self.backlog.len()) as f64);
        self.metrics.spill_bytes.set(self.backlog.bytes() as f64);
    }

    /// Every sender is gone: one last try for the backlog; what a spill file
    /// holds waits for the next start, what memory holds is lost (said so).
    async fn finish(&mut self) {
        while !self.backlog.is_empty() && self.drain_once().await {}
        self.show_backlog();
        if let Backlog::Memory { .. } = self.backlog {
            let lost = self.backlog.len();
            if lost > 0 {
                self.metrics.dropped(DropReason::Shutdown, lost);
                error!(records = lost, "records: the server stopped while the database was down: records lost");
            }
        } else if !self.backlog.is_empty() {
            warn!(records = self.backlog.len(), "records: the spill file keeps records for the next start");
        }
    }
}

/// Retry timing: `min`, doubling to `max`, back to `min` after a success.
struct Retry {
    min: Duration,
    max: Duration,
    delay: Duration,
    at: Instant,
}

impl Retry {
    fn new(min: Duration, max: Duration) -> Retry {
        Retry { min, max, delay: min, at: Instant::now() }
    }

    fn fail(&mut self) {
        self.at = Instant::now() + self.delay;
        self.delay = (self.delay * 2).min(self.max);
    }

    fn reset(&mut self) {
        self.delay = self.min;
        self.at = Instant::now();
    }
}
