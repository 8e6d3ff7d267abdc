//! Start-up: open the `data_dir`, load the newest valid snapshot, replay the
//! log after it, and start the log writer where the log ends.
//!
//! The state a restart resumes is exactly the state the last acknowledged
//! input left: entries are applied with the business time they were logged
//! at, and the session layer and router are deterministic. What the
//! replay's actions would have sent is dropped: every client was told (or
//! was about to be told, and will get it in its resume replay). A
//! [`ReplayObserver`] sees them first: the records store writes their
//! records again (idempotently), so what a crash kept from it arrives.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use switchboard_calendar::ClockAnchor;
use switchboard_storage::{Faults, OpenMode, Progress, RecoveryReport, StorageError, Store, SyncPolicy, WriterOptions};
use tokio::sync::mpsc;
use tracing::{info, warn};

use super::file::FileLog;
use super::{codec, progress_channel, Journal, Lsn, Stamp};
use crate::config::{Config, StorageMode, SyncPolicy as ConfigSync};
use crate::driver::clock::anchor_for_run;
use crate::router::{Millis, Router};
use crate::session::{Action, Entry, SessionConfig, SessionLayer};
use crate::tickets::TicketEntry;

/// A state to resume, and where to log what comes next.
#[derive(Debug)]
pub struct Opened {
    pub layer: SessionLayer,
    pub journal: Journal,
    /// The log writer's reports (none in memory mode).
    pub progress: Option<mpsc::UnboundedReceiver<Progress>>,
    /// The data_dir (none in memory mode), for snapshots.
    pub store: Option<Arc<Store>>,
    /// Business time to resume from: the last logged time.
    pub resume_at: Millis,
    /// Where business time sits on the calendar in this run (logged with the start).
    pub clock_anchor: ClockAnchor,
    /// Entries to log and apply before anything else: the config changes
    /// since the saved state, and the restart itself.
    pub first_entries: Vec<Entry>,
    pub replay: ReplayStats,
}

/// What the start-up replay did, for the log and metrics.
#[derive(Debug, Default)]
pub struct ReplayStats {
    pub snapshot_lsn: Option<Lsn>,
    pub records: u64,
    pub duration: Duration,
    pub report: RecoveryReport,
}

/// Why the saved state cannot be resumed. Each names what to look at.
#[derive(Debug, thiserror::Error)]
pub enum RecoveryError {
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    #[error("snapshot {path}: {problem}")]
    Snapshot { path: PathBuf, problem: String },
    #[error("log record {lsn}: {problem}")]
    Record { lsn: Lsn, problem: String },
    #[error("{change}; restore the previous config, or move {data_dir} aside to start with no live chats")]
    GroupsChanged { data_dir: PathBuf, change: String },
    #[error("records: {0}")]
    Records(String),
}

/// Told what start-up does, e.g. to write the replay's records again
/// (the records store: [`crate::records`]).
pub trait ReplayObserver {
    /// The `data_dir` is open and locked (`None`: memory mode, nothing to open).
    fn opened(&mut self, data_dir: Option<&Path>) -> Result<(), String>;
    /// An action the replay of a logged entry produced (clients are not sent it).
    fn replayed(&mut self, lsn: Lsn, stamp: Stamp, action: Action);
}

/// Observes nothing.
#[derive(Debug)]
pub struct Unobserved;

impl ReplayObserver for Unobserved {
    fn opened(&mut self, _: Option<&Path>) -> Result<(), String> {
        Ok(())
    }

    fn replayed(&mut self, _: Lsn, _: Stamp, _: Action) {}
}

/// Opens the configured storage and recovers the state to resume.
pub fn open(config: &Config, faults: Faults) -> Result<Opened, RecoveryError> {
    open_observed(config, faults, &mut Unobserved)
}

/// [`open`], telling `observer` what it does.
pub fn open_observed(
    config: &Config,
    faults: Faults,
    observer: &mut dyn ReplayObserver,
) -> Result<Opened, RecoveryError> {
    match config.storage.mode {
        StorageMode::Memory => {
            observer.opened(None).map_err(RecoveryError::Records)?;
            Ok(in_memory(config))
        }
        StorageMode::File => from_data_dir(config, faults, observer),
    }
}

fn session_config(config: &Config) -> SessionConfig {
    SessionConfig { replay_buffer: config.gateway.replay_buffer, recent_command_ids: config.gateway.recent_command_ids }
}

fn fresh_layer(config: &Config) -> SessionLayer {
    // The config was validated when it was loaded.
    let router = Router::new(config.router.clone()).expect("a validated router config");
    SessionLayer::new(router, session_config(config), config.clock.scale)
        .with_calendar(calendar(config))
        .with_tickets(config.tickets.clone())
        .with_content_rules(content_rules(config))
}

/// The business calendar (working time of the ticket desk); validated with the config.
fn calendar(config: &Config) -> switchboard_calendar::Calendar {
    config.business_calendar().expect("a validated calendar")
}

/// The compiled `[content]` rules; validated with the config.
fn content_rules(config: &Config) -> crate::content::ContentRules {
    config.content_rules().expect("validated content rules")
}

/// This run's clock anchor (see [`anchor_for_run`]), `saved` being the last run's.
fn clock_anchor(config: &Config, saved: Option<ClockAnchor>, resume_at: Millis) -> ClockAnchor {
    let start = config.clock_start().expect("a validated clock.start");
    anchor_for_run(saved, start, config.clock.scale, resume_at, Timestamp::now())
}

fn in_memory(config: &Config) -> Opened {
    Opened {
        clock_anchor: clock_anchor(config, None, Millis::ZERO),
        layer: fresh_layer(config),
        journal: Journal::in_memory(0),
        progress: None,
        store: None,
        resume_at: Millis::ZERO,
        first_entries: Vec::new(),
        replay: ReplayStats::default(),
    }
}

fn from_data_dir(config: &Config, faults: Faults, observer: &mut dyn ReplayObserver) -> Result<Opened, RecoveryError> {
    let started = Instant::now();
    let data_dir = &config.storage.data_dir;
    let store = Store::open(data_dir, OpenMode::ReadWrite)?;
    observer.opened(Some(data_dir)).map_err(RecoveryError::Records)?;
    let recovery = store.recover()?;
    report(&recovery.report);
    let snapshot_lsn = recovery.snapshot.as_ref().map(|s| s.lsn);
    let mut layer = match &recovery.snapshot {
        Some(snapshot) => SessionLayer::from_image(&snapshot.bytes, config.clock.scale)
            .map_err(|problem| RecoveryError::Snapshot { path: snapshot.path.clone(), problem })?
            .with_calendar(calendar(config))
            .with_content_rules(content_rules(config)),
        None => fresh_layer(config),
    };
    let mut resume_at = layer.router().now();
    let mut records = 0;
    for record in recovery.records {
        let record = record?;
        let entry = codec::decode_entry(&record.payload)
            .map_err(|problem| RecoveryError::Record { lsn: record.lsn, problem })?;
        resume_at = resume_at.max(Millis(record.time_ms));
        layer.apply(Millis(record.time_ms), entry);
        let stamp = Stamp { business: Millis(record.time_ms), wall_ms: record.wall_ms };
        while let Some(action) = layer.poll_action() {
            observer.replayed(record.lsn, stamp, action);
        }
        records += 1;
    }
    layer
        .router()
        .config()
        .same_groups(&config.router)
        .map_err(|change| RecoveryError::GroupsChanged { data_dir: data_dir.clone(), change })?;
    let clock_anchor = clock_anchor(config, layer.clock_anchor(), resume_at);
    let first_entries = first_entries(&layer, config, clock_anchor);
    let store = Arc::new(store);
    let fresh = snapshot_lsn.is_none() && records == 0;
    if fresh {
        // The saved state always starts from a snapshot, so that a replay
        // uses the config the log was written under.
        let image = layer.image().map_err(|problem| RecoveryError::Snapshot { path: data_dir.clone(), problem })?;
        store.write_snapshot(0, &image)?;
    }
    let (on_progress, progress) = progress_channel();
    let sync = sync_policy(config);
    let options = WriterOptions { sync, segment_size: config.storage.segment_bytes, faults };
    let writer = store.start_writer(options, recovery.next_lsn, on_progress)?;
    let replay = ReplayStats { snapshot_lsn, records, duration: started.elapsed(), report: recovery.report };
    info!(
        data_dir = %data_dir.display(),
        snapshot_lsn = snapshot_lsn.unwrap_or(0),
        replayed = records,
        took_ms = replay.duration.as_millis() as u64,
        resume_at_ms = resume_at.0,
        calendar_time = %clock_anchor.instant(resume_at.0),
        "state recovered"
    );
    Ok(Opened {
        layer,
        journal: Journal::to_log(Box::new(FileLog::new(writer)), sync, recovery.next_lsn - 1),
        progress: Some(progress),
        store: Some(store),
        resume_at,
        clock_anchor,
        first_entries,
        replay,
    })
}

/// What recovery found that an operator should hear about.
fn report(report: &RecoveryReport) {
    for skipped in &report.skipped_snapshots {
        warn!(path = %skipped.path.display(), reason = %skipped.reason, "snapshot skipped: using an older one");
    }
    if let Some(tail) = &report.torn_tail {
        warn!(
            path = %tail.path.display(),
            offset = tail.offset,
            bytes = tail.bytes,
            reason = %tail.reason,
            action = ?tail.action,
            "the log ended in a torn write: cut back to the last whole record"
        );
    }
}

/// The config changes to log (rules, session limits and the roster may
/// change across a restart; groups may not), then the restart itself with
/// this run's clock anchor.
fn first_entries(layer: &SessionLayer, config: &Config, clock: ClockAnchor) -> Vec<Entry> {
    let mut entries = config_entries(layer, config);
    entries.push(Entry::Restarted { clock });
    entries
}

/// The entries that bring a layer (recovered, or running when the config
/// is reloaded) to `config`: new rules or session limits, a new roster.
/// Empty when neither changed. The skill groups are checked apart: they
/// cannot change without a fresh `data_dir`.
pub fn config_entries(layer: &SessionLayer, config: &Config) -> Vec<Entry> {
    let mut entries = Vec::new();
    let encoded = |rules: &crate::router::Rules| postcard::to_allocvec(rules).ok();
    let rules_changed = encoded(&layer.router().config().rules) != encoded(&config.router.rules);
    if rules_changed || layer.config() != &session_config(config) {
        entries
            .push(Entry::Configure { rules: Box::new(config.router.rules.clone()), session: session_config(config) });
    }
    if !layer.router().roster_change(&config.router.agents).is_empty() {
        entries.push(Entry::Roster { agents: config.router.agents.clone() });
    }
    if layer.desk().config() != &config.tickets {
        entries.push(Entry::Ticket(TicketEntry::Configure(Box::new(config.tickets.clone()))));
    }
    entries
}

fn sync_policy(config: &Config) -> SyncPolicy {
    match config.storage.sync {
        ConfigSync::Always => SyncPolicy::Always,
        ConfigSync::Interval => SyncPolicy::Interval(config.storage.sync_interval),
        ConfigSync::None => SyncPolicy::None,
    }
}
