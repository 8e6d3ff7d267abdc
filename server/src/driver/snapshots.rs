//! When to take a snapshot, and writing it off the driver's thread.
//!
//! A snapshot is the session layer's whole image at an lsn. The driver
//! copies the layer between two entries (the only pause it sees: frames are
//! shared, not copied); a blocking task encodes the copy; the image is kept
//! until the log is on disk up to that lsn (a snapshot must never be ahead
//! of the log it replaces), then written by a blocking task, which also
//! deletes the log segments it makes unnecessary. One at a time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use switchboard_storage::{SnapshotWritten, StorageError, Store};
use tokio::sync::mpsc;

use crate::journal::Lsn;
use crate::session::SessionLayer;

/// A snapshot's written result, back on the driver's loop.
pub type Written = Result<SnapshotWritten, StorageError>;

/// A copy encoded in the background, back on the driver's loop.
#[derive(Debug)]
pub struct Encoded {
    pub lsn: Lsn,
    pub image: Result<Vec<u8>, String>,
    pub took: Duration,
}

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
    encoding: bool,
    writing: bool,
    done_tx: mpsc::UnboundedSender<Written>,
    pub done: mpsc::UnboundedReceiver<Written>,
    encoded_tx: mpsc::UnboundedSender<Encoded>,
    pub encoded: mpsc::UnboundedReceiver<Encoded>,
    /// Encodes and writes, one job at a time (`None` in memory mode).
    worker: Option<Background>,
}

impl Snapshots {
    /// `store` is `None` in memory mode (never due). `last_lsn`: where the recovered state stands.
    pub fn new(store: Option<Arc<Store>>, every: u64, interval: Duration, last_lsn: Lsn) -> Snapshots {
        let (done_tx, done) = mpsc::unbounded_channel();
        let (encoded_tx, encoded) = mpsc::unbounded_channel();
        let worker = store.as_ref().map(|_| Background::start("snapshots").expect("a thread for snapshots"));
        Snapshots {
            worker,
            store,
            every,
            interval,
            last_lsn,
            last_at: Instant::now(),
            pending: None,
            encoding: false,
            writing: false,
            done_tx,
            done,
            encoded_tx,
            encoded,
        }
    }

    /// Is a snapshot of the state at `last` due? After `every` entries, or
    /// `interval` with at least one entry, and none under way.
    pub fn due(&self, last: Lsn) -> bool {
        let behind = last.saturating_sub(self.last_lsn);
        self.store.is_some()
            && !self.is_busy()
            && behind > 0
            && (behind >= self.every || self.last_at.elapsed() >= self.interval)
    }

    /// Encodes `copy`, the state at `lsn`, on a background thread; the result
    /// comes back through [`encoded`](Self::encoded).
    pub fn encode(&mut self, lsn: Lsn, copy: SessionLayer) {
        self.last_lsn = lsn;
        self.last_at = Instant::now();
        self.encoding = true;
        let encoded = self.encoded_tx.clone();
        self.run(move || {
            let started = Instant::now();
            let image = copy.image();
            // The copy is big: free it here, not on the driver's thread.
            drop(copy);
            drop(encoded.send(Encoded { lsn, image, took: started.elapsed() }));
        });
    }

    fn run(&self, job: impl FnOnce() + Send + 'static) {
        if let Some(worker) = &self.worker {
            worker.run(job);
        }
    }

    /// The background encoding finished: keep the image until the log is on disk up to its lsn.
    pub fn on_encoded(&mut self, lsn: Lsn, image: Option<Vec<u8>>) {
        self.encoding = false;
        self.pending = image.map(|image| (lsn, image));
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
        self.run(move || drop(done.send(store.write_snapshot(lsn, &image))));
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
        self.encoding || self.writing || self.pending.is_some()
    }

    /// The newest snapshot's lsn.
    pub fn last_lsn(&self) -> Lsn {
        self.last_lsn
    }
}

/// A thread of its own, at a lower CPU priority than the server's other
/// threads, that runs jobs in order. Snapshots are background work: when the
/// machine is saturated, the live chats must have the cores and a snapshot
/// may take longer (the log keeps everything until it is written). The
/// thread ends when the sender is dropped.
#[derive(Debug)]
struct Background {
    jobs: std::sync::mpsc::Sender<Job>,
}

type Job = Box<dyn FnOnce() + Send>;

impl Background {
    fn start(name: &str) -> std::io::Result<Background> {
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        std::thread::Builder::new().name(name.to_owned()).spawn(move || {
            lower_priority();
            for job in queue {
                job();
            }
        })?;
        Ok(Background { jobs })
    }

    fn run(&self, job: impl FnOnce() + Send + 'static) {
        if self.jobs.send(Box::new(job)).is_err() {
            tracing::error!("the snapshot thread has stopped: no more snapshots until a restart");
        }
    }
}

/// Nice value of the snapshot thread: about a tenth of a core's share against the server's threads when
/// every core is busy, all of any idle core.
const BACKGROUND_NICE: i32 = 10;

/// Never raises the priority: a server started niced keeps its snapshots at
/// least as nice as itself (as root, setpriority could lower it).
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn lower_priority() {
    let nice = thread_nice().map_or(BACKGROUND_NICE, |now| now.max(BACKGROUND_NICE));
    // SAFETY: setpriority only reads its arguments; on Linux, PRIO_PROCESS with
    // who = 0 sets the calling thread's nice value (a per-thread attribute), not
    // the whole process's. Raising a nice value needs no privilege; if it fails
    // the snapshot merely runs at normal priority.
    let _ = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, nice) };
}

/// The calling thread's nice value, from `/proc/thread-self/stat` (field 19).
#[cfg(target_os = "linux")]
fn thread_nice() -> Option<i32> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    let after_name = &stat[stat.rfind(')')? + 2..];
    after_name.split_whitespace().nth(16)?.parse().ok()
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Arc<Store>) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), switchboard_storage::OpenMode::ReadWrite).unwrap();
        (dir, Arc::new(store))
    }

    #[test]
    fn the_count_starts_from_the_snapshot_recovered_not_from_the_end_of_the_log() {
        let (_dir, store) = store();
        // Started from a snapshot at 100 with 250 entries replayed after it.
        let snapshots = Snapshots::new(Some(store), 200, Duration::from_secs(3600), 100);
        assert!(!snapshots.due(299), "199 entries since the snapshot");
        assert!(snapshots.due(300), "200 entries since the snapshot, though only a few since the start");
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn background_jobs_run_on_a_thread_of_their_own_at_a_lower_priority() {
        let caller = thread_nice().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let report = move || drop(tx.send((std::thread::current().name().map(str::to_owned), thread_nice())));
        let worker = Background::start("test-background").unwrap();
        worker.run(report);
        let (name, nice) = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(name.as_deref(), Some("test-background"));
        // At least BACKGROUND_NICE: a test run that is itself niced stays as nice as it was.
        assert_eq!(nice, Some(BACKGROUND_NICE.max(caller)), "the snapshot threads yield to the live chats");
        assert_eq!(thread_nice(), Some(caller), "the caller's priority is untouched");
    }

    #[test]
    fn memory_mode_never_takes_one() {
        let snapshots = Snapshots::new(None, 1, Duration::ZERO, 0);
        assert!(!snapshots.due(1_000));
    }
}
