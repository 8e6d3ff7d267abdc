//! When to take a snapshot, and writing it off the driver's thread.
//!
//! A snapshot is the session layer's whole image at an lsn. It is encoded
//! on the driver's thread (the state must not change meanwhile), kept until
//! the log is on disk up to that lsn (a snapshot must never be ahead of the
//! log it replaces), then written by a blocking task, which also deletes the
//! log segments it makes unnecessary. One at a time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use switchboard_storage::{SnapshotWritten, StorageError, Store};
use tokio::sync::mpsc;

use crate::journal::Lsn;

/// A snapshot's written result, back on the driver's loop.
pub type Written = Result<SnapshotWritten, StorageError>;

#[derive(Debug)]
pub struct Snapshots {
    store: Option<Arc<Store>>,
    every: u64,
    interval: Duration,
    /// The lsn of the newest snapshot taken (or loaded).
    last_lsn: Lsn,
    last_at: Instant,
    /// Encoded, waiting for the log to be on disk up to its lsn.
    pending: Option<(Lsn, Vec<u8>)>,
    writing: bool,
    done_tx: mpsc::UnboundedSender<Written>,
    pub done: mpsc::UnboundedReceiver<Written>,
}

impl Snapshots {
    /// `store` is `None` in memory mode (never due). `last_lsn`: where the recovered state stands.
    pub fn new(store: Option<Arc<Store>>, every: u64, interval: Duration, last_lsn: Lsn) -> Snapshots {
        let (done_tx, done) = mpsc::unbounded_channel();
        Snapshots {
            store,
            every,
            interval,
            last_lsn,
            last_at: Instant::now(),
            pending: None,
            writing: false,
            done_tx,
            done,
        }
    }

    /// Is a snapshot of the state at `last` due? After `every` entries, or
    /// `interval` with at least one entry, and none under way.
    pub fn due(&self, last: Lsn) -> bool {
        let behind = last.saturating_sub(self.last_lsn);
        self.store.is_some()
            && !self.writing
            && self.pending.is_none()
            && behind > 0
            && (behind >= self.every || self.last_at.elapsed() >= self.interval)
    }

    /// Keeps an encoded snapshot of the state at `lsn` until the log is on disk that far.
    pub fn taken(&mut self, lsn: Lsn, image: Vec<u8>) {
        self.last_lsn = lsn;
        self.last_at = Instant::now();
        self.pending = Some((lsn, image));
    }

    /// Starts writing the pending snapshot once the log is on disk up to its lsn.
    pub fn write_when_synced(&mut self, synced: Lsn) {
        let Some(store) = &self.store else { return };
        if self.writing || self.pending.as_ref().is_none_or(|(lsn, _)| *lsn > synced) {
            return;
        }
        let (lsn, image) = self.pending.take().expect("checked");
        let (store, done) = (store.clone(), self.done_tx.clone());
        self.writing = true;
        tokio::task::spawn_blocking(move || drop(done.send(store.write_snapshot(lsn, &image))));
    }

    /// Writes a snapshot of the state at `lsn` now (the log must be on disk
    /// that far); `None` in memory mode.
    pub async fn write_now(&mut self, lsn: Lsn, image: Vec<u8>) -> Option<Written> {
        let store = self.store.clone()?;
        self.last_lsn = lsn;
        self.writing = true;
        tokio::task::spawn_blocking(move || store.write_snapshot(lsn, &image)).await.ok()
    }

    /// The write finished (either way).
    pub fn finished(&mut self) {
        self.writing = false;
    }

    pub fn is_busy(&self) -> bool {
        self.writing || self.pending.is_some()
    }

    /// The newest snapshot's lsn.
    pub fn last_lsn(&self) -> Lsn {
        self.last_lsn
    }
}
