//! The records store in the server: closed chats, router events, done
//! tickets and ticket events go to SQL (`switchboard-records`), off the
//! router's task.
//!
//! The driver hands each action it carries out to the [`Feeder`], which
//! turns the router's events and closed chats into records and queues them
//! without waiting (a full queue drops and counts; it never slows routing).
//! Only actions whose input is durable are carried out, so no record is
//! written for an input a crash could take back. At start-up the replay of
//! the input log feeds the same records again (waiting for room, on the
//! replay's own thread): whatever a crash kept from the database arrives
//! then, and what was already written is not written twice (events are keyed
//! by their input's lsn and place, chats by session id and the `data_dir`'s
//! origin). See `docs/records.md`.

mod convert;
pub mod http;
mod tickets;

use std::path::Path;

use switchboard_records::{Backlog, Record, RecordSender, Spool, Store, Target, WriterOptions};
use tokio::runtime::Handle;
use tokio::task::JoinHandle;
use tracing::info;

use crate::config::{Config, RecordsConfig};
use crate::journal::recovery::ReplayObserver;
use crate::journal::{Lsn, Stamp};
use crate::metrics::Metrics;
use crate::session::Action;
use convert::WallClock;

/// The file in `data_dir` that names this live state in the records (session ids start again in a new `data_dir`).
pub const ORIGIN_FILE: &str = "records-origin";
/// The file in `data_dir` where records wait while the database is down.
pub const SPILL_FILE: &str = "records-spill.jsonl";
/// How often old rows are deleted (`records.retention`).
const RETENTION_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Turns actions into records and queues them.
#[derive(Debug)]
pub struct Feeder {
    sender: RecordSender,
    config: RecordsConfig,
    scale: f64,
    /// The lsn of the last event seen and the next ordinal under it.
    ordinal: (Lsn, u32),
}

impl Feeder {
    /// Queues the records `action` makes, without waiting (the router's task).
    pub fn send(&mut self, lsn: Lsn, stamp: Stamp, action: &Action) {
        for record in self.records(lsn, stamp, action) {
            self.sender.send(record);
        }
    }

    /// The records an action makes (most make none).
    fn records(&mut self, lsn: Lsn, stamp: Stamp, action: &Action) -> Vec<Record> {
        let clock = WallClock { stamp, scale: self.scale };
        match action {
            Action::Event(event) => {
                let ordinal = self.next_ordinal(lsn);
                let row = self.config.writes(event.kind()).then(|| convert::event_row(event, lsn, ordinal, clock));
                row.map(Record::Event).into_iter().chain(convert::rating(event)).collect()
            }
            Action::ChatClosed(closed) => vec![Record::Chat(Box::new(convert::chat_row(closed, clock)))],
            Action::Ticket(event) => vec![tickets::record(event, lsn, self.next_ordinal(lsn))],
            _ => Vec::new(),
        }
    }

    /// Events are numbered within their input, in the order the router emitted them (the same in a replay).
    fn next_ordinal(&mut self, lsn: Lsn) -> u32 {
        let (last, next) = self.ordinal;
        let ordinal = if last == lsn { next } else { 0 };
        self.ordinal = (lsn, ordinal + 1);
        ordinal
    }
}

/// The records store until start-up has opened the `data_dir`: then the
/// writer starts (its SQLite file, spill file and origin live there), and
/// the replay is fed to it.
#[derive(Debug)]
pub struct RecordsStart {
    config: RecordsConfig,
    scale: f64,
    metrics: Metrics,
    runtime: Handle,
    started: Option<Started>,
}

/// A running records store.
#[derive(Debug)]
pub struct Started {
    pub feeder: Feeder,
    pub store: Store,
    /// Ends once the feeder is dropped and what it queued is written (or spilled).
    pub writer: JoinHandle<()>,
}

impl RecordsStart {
    /// Call on the runtime the writer is to run on.
    pub fn new(config: &Config, metrics: &Metrics) -> RecordsStart {
        RecordsStart {
            config: config.records.clone(),
            scale: config.clock.scale,
            metrics: metrics.clone(),
            runtime: Handle::current(),
            started: None,
        }
    }

    /// The running store, if records are enabled.
    pub fn into_started(self) -> Option<Started> {
        self.started
    }

    fn start(&mut self, data_dir: Option<&Path>) -> Result<(), String> {
        if !self.config.enabled {
            info!("records: off (records.enabled = false)");
            return Ok(());
        }
        let origin = origin(data_dir)?;
        let default_sqlite = match data_dir {
            Some(dir) => dir.join("records.sqlite3").to_string_lossy().into_owned(),
            None => format!("file:switchboard-records-{origin}?mode=memory&cache=shared"),
        };
        let target = Target::parse(&self.config.url, &default_sqlite).map_err(|e| format!("records.url {e}"))?;
        let store = Store::new(&target, &origin).map_err(|e| e.to_string())?;
        let backlog = match data_dir {
            Some(dir) => {
                let path = dir.join(SPILL_FILE);
                let spool = Spool::open(&path, self.config.spill_bytes)
                    .map_err(|e| format!("records spill file {}: {e}", path.display()))?;
                Backlog::File(spool)
            }
            None => Backlog::memory(self.config.queue),
        };
        let options = WriterOptions {
            batch_size: self.config.batch_size,
            queue: self.config.queue,
            retention: (!self.config.retention.is_zero()).then_some(self.config.retention),
            retention_every: RETENTION_EVERY,
            ..WriterOptions::default()
        };
        let _runtime = self.runtime.enter();
        let (sender, writer) =
            switchboard_records::writer::start(store.clone(), backlog, options, self.metrics.records_writer());
        info!(target = %target.describe(), origin, "records: writing closed chats and router events");
        let feeder = Feeder { sender, config: self.config.clone(), scale: self.scale, ordinal: (0, 0) };
        self.started = Some(Started { feeder, store, writer });
        Ok(())
    }
}

impl ReplayObserver for RecordsStart {
    fn opened(&mut self, data_dir: Option<&Path>) -> Result<(), String> {
        self.start(data_dir)
    }

    /// Waits for room in the queue: the replay runs on a blocking thread, and dropping here would lose records for good.
    fn replayed(&mut self, lsn: Lsn, stamp: Stamp, action: Action) {
        let Some(started) = &mut self.started else { return };
        for record in started.feeder.records(lsn, stamp, &action) {
            started.feeder.sender.send_blocking(record);
        }
    }
}

/// This live state's name: kept in `data_dir` (made on first start), or new per process without one.
fn origin(data_dir: Option<&Path>) -> Result<String, String> {
    let fresh = || format!("{:016x}", rand::random::<u64>());
    let Some(dir) = data_dir else { return Ok(fresh()) };
    let path = dir.join(ORIGIN_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => return Ok(text.trim().to_owned()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("{}: {e}", path.display())),
    }
    let origin = fresh();
    std::fs::write(&path, format!("{origin}\n")).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(origin)
}
