//! The input journal: every [`Entry`] is appended to a durable log before
//! any of its effects reach a client, and snapshots bound what a restart
//! replays.
//!
//! The driver appends each entry it applies ([`Journal::append`]), submits
//! what it appended as one batch whenever the previous batch is done
//! ([`Journal::flush`]: group commit, so the batch grows with the load), and
//! holds every action until [`Journal::released`] passes the entry that
//! caused it. The log backend (`switchboard-storage`'s segment files today;
//! Redis Streams in cluster mode later) reports its progress from its own
//! thread through a channel.
//!
//! With `storage.mode = "memory"` there is no backend: every entry counts as
//! durable at once and nothing survives a restart.

pub mod codec;
pub mod file;
pub mod recovery;
pub mod tools;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use switchboard_storage::Progress;
use switchboard_storage::{RecordMeta, SyncPolicy};
use tokio::sync::mpsc;
use tracing::error;

use crate::router::Millis;
use crate::session::Entry;

/// A log sequence number: the position of an entry in the log, from 1.
pub type Lsn = u64;

/// When an entry was applied, on both clocks: business time (what the
/// router runs on) and the wall clock (what the log records beside it, and
/// what the records store shows).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stamp {
    pub business: Millis,
    /// Milliseconds since the Unix epoch.
    pub wall_ms: u64,
}

/// Where entries go: segment files in a `data_dir` today ([`file::FileLog`]),
/// Redis Streams in cluster mode later. A backend writes batches in order on
/// its own thread and reports [`Progress`] (what is written, what is synced,
/// errors while it retries) through the channel it was given.
pub trait LogBackend: Send + std::fmt::Debug {
    /// Adds a record to the batch being built.
    fn push(&mut self, meta: RecordMeta, payload: &[u8]) -> Result<(), String>;
    /// Hands the batch built so far to the writer; its last lsn, or `None` if it was empty.
    fn submit(&mut self) -> Result<Option<Lsn>, String>;
    /// Writes and syncs everything submitted, then stops. Blocks: do not call
    /// it while the backend is failing (drop it instead).
    fn close(self: Box<Self>) -> Result<(), String>;
}

/// See the module docs.
#[derive(Debug)]
pub struct Journal {
    /// `None` in memory mode.
    writer: Option<Box<dyn LogBackend>>,
    sync: SyncPolicy,
    /// Something was appended since the last submit.
    pending: bool,
    /// The last entry appended.
    last: Lsn,
    /// The last entry of the batch being written, if one is.
    in_flight: Option<Lsn>,
    /// Effects of entries up to here may reach clients.
    released: Lsn,
    /// Everything up to here is on disk.
    synced: Lsn,
    healthy: bool,
    scratch: Vec<u8>,
}

/// Why an entry could not be appended (a bug, not an I/O error: I/O errors
/// are the writer's and arrive as [`Progress`]).
#[derive(Debug, thiserror::Error)]
#[error("cannot log the input: {0}")]
pub struct AppendError(String);

impl Journal {
    /// No log: everything counts as durable at once.
    pub fn in_memory(last: Lsn) -> Journal {
        Journal::with_writer(None, SyncPolicy::None, last)
    }

    /// Appends through `writer`, whose next lsn is `last + 1`.
    pub fn to_log(writer: Box<dyn LogBackend>, sync: SyncPolicy, last: Lsn) -> Journal {
        Journal::with_writer(Some(writer), sync, last)
    }

    fn with_writer(writer: Option<Box<dyn LogBackend>>, sync: SyncPolicy, last: Lsn) -> Journal {
        Journal {
            writer,
            sync,
            pending: false,
            last,
            in_flight: None,
            released: last,
            synced: last,
            healthy: true,
            scratch: Vec::new(),
        }
    }

    pub fn is_durable(&self) -> bool {
        self.writer.is_some()
    }

    /// The last entry appended.
    pub fn last(&self) -> Lsn {
        self.last
    }

    /// Effects of entries up to here may reach clients.
    pub fn released(&self) -> Lsn {
        self.released
    }

    /// Everything up to here is on disk (a snapshot may be installed up to here).
    pub fn synced(&self) -> Lsn {
        self.synced
    }

    /// False while the backend is failing (it keeps retrying).
    pub fn is_healthy(&self) -> bool {
        self.healthy
    }

    /// Adds an entry to the next batch; returns its lsn.
    pub fn append(&mut self, now: Millis, entry: &Entry) -> Result<Lsn, AppendError> {
        let lsn = self.last + 1;
        if let Some(writer) = &mut self.writer {
            let payload = codec::encode_entry(entry, std::mem::take(&mut self.scratch)).map_err(AppendError)?;
            let meta = RecordMeta { lsn, time_ms: now.0, wall_ms: wall_ms() };
            let pushed = writer.push(meta, &payload);
            self.scratch = payload;
            pushed.map_err(AppendError)?;
            self.pending = true;
        } else {
            self.released = lsn;
            self.synced = lsn;
        }
        self.last = lsn;
        Ok(lsn)
    }

    /// Submits what was appended, unless a batch is still being written (it
    /// goes when that one is done: group commit).
    pub fn flush(&mut self) {
        let Some(writer) = &mut self.writer else { return };
        if self.in_flight.is_some() || !self.pending {
            return;
        }
        self.pending = false;
        match writer.submit() {
            Ok(last) => self.in_flight = last,
            // Only a bug or a dead writer thread gets here; effects stay held.
            Err(e) => error!(error = %e, "the log writer refused a batch"),
        }
    }

    /// Takes the writer's report; says whether more effects may now be released.
    pub fn on_progress(&mut self, progress: &Progress) -> bool {
        self.healthy = progress.is_healthy();
        // `none` never syncs, and promises nothing past a process crash: for it what is written
        // counts as on disk, or no snapshot would ever be written and the log would grow forever.
        let on_disk = match self.sync {
            SyncPolicy::None => progress.written_lsn.max(progress.synced_lsn),
            SyncPolicy::Always | SyncPolicy::Interval(_) => progress.synced_lsn,
        };
        self.synced = self.synced.max(on_disk);
        if self.in_flight.is_some_and(|lsn| progress.written_lsn >= lsn) {
            self.in_flight = None;
        }
        let durable = match self.sync {
            SyncPolicy::Always => progress.synced_lsn,
            SyncPolicy::Interval(_) | SyncPolicy::None => progress.written_lsn,
        };
        let more = durable > self.released;
        self.released = self.released.max(durable);
        more
    }

    /// Is everything appended written and released?
    pub fn is_idle(&self) -> bool {
        self.released == self.last
    }

    /// Writes and syncs everything submitted, then stops the writer (blocking).
    pub fn close(&mut self) {
        if let Some(writer) = self.writer.take() {
            if let Err(e) = writer.close() {
                error!(error = %e, "closing the log writer failed");
            }
        }
    }
}

/// The progress channel: the writer thread's reports, for the driver's loop.
pub fn progress_channel() -> (impl Fn(Progress) + Send + 'static, mpsc::UnboundedReceiver<Progress>) {
    let (tx, rx) = mpsc::unbounded_channel();
    (move |p| drop(tx.send(p)), rx)
}

/// Now, in milliseconds since the Unix epoch (for operators' tools only: replay never reads it).
pub fn wall_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_millis() as u64
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// A backend that takes everything and writes nothing (the reports are made up by the test).
    #[derive(Debug)]
    struct Nowhere;

    impl LogBackend for Nowhere {
        fn push(&mut self, _: RecordMeta, _: &[u8]) -> Result<(), String> {
            Ok(())
        }
        fn submit(&mut self) -> Result<Option<Lsn>, String> {
            Ok(None)
        }
        fn close(self: Box<Self>) -> Result<(), String> {
            Ok(())
        }
    }

    fn written_not_synced(lsn: Lsn) -> Progress {
        Progress {
            written_lsn: lsn,
            synced_lsn: 0,
            records: lsn,
            bytes: 0,
            write_duration: Duration::ZERO,
            sync_duration: None,
            log_bytes: 0,
            error: None,
        }
    }

    #[test]
    fn what_may_be_released_and_what_a_snapshot_may_stand_for_follow_the_sync_policy() {
        // (policy, released after a write without sync, counted as on disk)
        let cases = [
            (SyncPolicy::Always, 0, 0),
            (SyncPolicy::Interval(Duration::from_millis(10)), 5, 0),
            // `none` never syncs: if written did not count, no snapshot would ever be written.
            (SyncPolicy::None, 5, 5),
        ];
        for (sync, released, synced) in cases {
            let mut journal = Journal::to_log(Box::new(Nowhere), sync, 0);
            for _ in 0..5 {
                journal.append(Millis(1), &Entry::Tick).unwrap();
            }
            journal.on_progress(&written_not_synced(5));
            assert_eq!((journal.released(), journal.synced()), (released, synced), "{sync:?}");
        }
    }
}
