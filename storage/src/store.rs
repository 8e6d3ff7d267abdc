//! A data_dir, opened: the directory checks, the lock, and the operations
//! that need both (recovery, the writer, snapshots, listings).

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use crate::error::StorageError;
use crate::format;
use crate::fsutil::sync_dir;
use crate::reader::Records;
use crate::recovery::{self, Recovery, Tail};
use crate::segment;
use crate::snapshot::{self, SnapshotData, SnapshotInfo, SnapshotWritten};
use crate::writer::{self, Progress, WriterHandle, WriterOptions};

const LOG_DIR: &str = "log";
const SNAPSHOT_DIR: &str = "snapshots";
const LOCK_FILE: &str = "LOCK";

/// How a data_dir is opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenMode {
    /// The server: creates what is missing, takes the directory lock, cuts a
    /// torn tail, appends and writes snapshots.
    ReadWrite,
    /// Operator tools, on a copy or on a live data_dir: no lock, and nothing
    /// is ever written, cut or removed.
    ReadOnly,
}

/// An open data_dir.
///
/// `Store` is `Send + Sync`: the server can share it (in an `Arc`) between
/// the thread that writes snapshots and the rest. A second read-write open
/// of the same data_dir, from this process or another, is refused while
/// this one (or a writer it started) is alive.
#[derive(Debug)]
pub struct Store {
    shared: Arc<Shared>,
}

/// What the store and its writer thread share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub root: PathBuf,
    pub log_dir: PathBuf,
    pub snapshot_dir: PathBuf,
    pub mode: OpenMode,
    /// Held (locked) for as long as the store or its writer lives.
    _lock: Option<File>,
    /// Bytes of all segment files: the writer adds, pruning subtracts.
    pub log_bytes: AtomicU64,
    /// Set by `recover` (read-write), taken by `start_writer`.
    tail: Mutex<Option<Tail>>,
    pub writer_running: AtomicBool,
    /// Serializes snapshot writes; holds the lsns of snapshots known valid.
    snapshots: Mutex<BTreeSet<u64>>,
}

/// One segment file, for an operator's listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentInfo {
    pub path: PathBuf,
    pub first_lsn: u64,
    /// The last good record's lsn; `first_lsn - 1` when there is none.
    pub last_lsn: u64,
    pub records: u64,
    /// The file's size.
    pub bytes: u64,
    pub status: SegmentStatus,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SegmentStatus {
    Ok,
    /// Reading stops at `offset`. In the last segment with nothing valid
    /// after it, this is a torn tail; anywhere else `recover` refuses.
    Damaged {
        offset: u64,
        reason: String,
    },
}

impl Store {
    /// Opens (read-write: creates) a data_dir. Every refusal names the path:
    /// not a directory, cannot be created, not writable (checked by creating
    /// and removing a probe file), or in use by another server.
    pub fn open(dir: impl AsRef<Path>, mode: OpenMode) -> Result<Store, StorageError> {
        let root = dir.as_ref().to_owned();
        let lock = match mode {
            OpenMode::ReadWrite => Some(prepare_for_writing(&root)?),
            OpenMode::ReadOnly => {
                check_is_dir(&root)?;
                None
            }
        };
        let shared = Shared {
            log_dir: root.join(LOG_DIR),
            snapshot_dir: root.join(SNAPSHOT_DIR),
            root,
            mode,
            _lock: lock,
            log_bytes: AtomicU64::new(0),
            tail: Mutex::new(None),
            writer_running: AtomicBool::new(false),
            snapshots: Mutex::new(BTreeSet::new()),
        };
        Ok(Store { shared: Arc::new(shared) })
    }

    pub fn dir(&self) -> &Path {
        &self.shared.root
    }

    pub fn mode(&self) -> OpenMode {
        self.shared.mode
    }

    /// Finds the newest valid snapshot and checks every record after it; in
    /// read-write mode also cuts a torn tail. Fails (naming file and offset)
    /// on corruption that is not a torn tail, on an lsn gap or repeat, and
    /// when records the snapshot needs are missing.
    pub fn recover(&self) -> Result<Recovery, StorageError> {
        if self.shared.writer_running.load(Ordering::SeqCst) {
            return Err(StorageError::WriterRunning);
        }
        let newest = snapshot::load_newest(&self.shared.snapshot_dir)?;
        if let Some(loaded) = &newest.0 {
            lock(&self.shared.snapshots).insert(loaded.lsn);
        }
        let (recovery, tail) = recovery::recover(&self.shared.log_dir, newest, self.shared.mode)?;
        self.shared.log_bytes.store(total_log_bytes(&self.shared.log_dir)?, Ordering::SeqCst);
        if self.shared.mode == OpenMode::ReadWrite {
            *lock(&self.shared.tail) = Some(tail);
        }
        Ok(recovery)
    }

    /// Starts the writer thread, which appends at `next_lsn` (the
    /// [`Recovery::next_lsn`] of the preceding `recover`). Read-write only,
    /// one writer at a time.
    pub fn start_writer<F>(
        &self,
        options: WriterOptions,
        next_lsn: u64,
        on_progress: F,
    ) -> Result<WriterHandle, StorageError>
    where
        F: Fn(Progress) + Send + 'static,
    {
        if self.shared.mode == OpenMode::ReadOnly {
            return Err(StorageError::ReadOnly);
        }
        let mut slot = lock(&self.shared.tail);
        let tail = slot.take().ok_or(StorageError::NotRecovered)?;
        if tail.next_lsn != next_lsn {
            let expected = tail.next_lsn;
            *slot = Some(tail);
            return Err(StorageError::WrongNextLsn { expected, got: next_lsn });
        }
        writer::start(Arc::clone(&self.shared), tail, options, on_progress)
    }

    /// Writes a snapshot of the state up to and including `lsn`, then prunes:
    /// keeps the newest two valid snapshots and deletes the log segments whose
    /// records are all at or below the older one's lsn.
    ///
    /// Blocking (fsyncs): call it from a background thread, and only once the
    /// log is durable up to `lsn`. The payload is written from the slice as
    /// it is, without a copy.
    pub fn write_snapshot(&self, lsn: u64, payload: &[u8]) -> Result<SnapshotWritten, StorageError> {
        if self.shared.mode == OpenMode::ReadOnly {
            return Err(StorageError::ReadOnly);
        }
        let mut known_valid = lock(&self.shared.snapshots);
        let started = Instant::now();
        let (path, bytes) = snapshot::write(&self.shared.snapshot_dir, lsn, payload)?;
        let duration = started.elapsed();
        known_valid.insert(lsn);
        let pruned = snapshot::prune(&self.shared.snapshot_dir, &mut known_valid)?;
        let segments = match pruned.keep_lsn {
            Some(keep_lsn) => segment::prune_segments(&self.shared.log_dir, keep_lsn)?,
            None => Default::default(),
        };
        self.shared.log_bytes.fetch_sub(segments.bytes, Ordering::SeqCst);
        if !segments.paths.is_empty() || !pruned.deleted.is_empty() {
            sync_dir(&self.shared.log_dir)?;
            sync_dir(&self.shared.snapshot_dir)?;
        }
        Ok(SnapshotWritten {
            path,
            lsn,
            bytes,
            duration,
            snapshots_deleted: pruned.deleted,
            segments_deleted: segments.paths,
            segment_bytes_deleted: segments.bytes,
        })
    }

    /// Every segment file, oldest first, each read from end to end. Never
    /// changes anything, in either mode.
    pub fn segments(&self) -> Result<Vec<SegmentInfo>, StorageError> {
        let mut infos = Vec::new();
        for file in segment::list_segments(&self.shared.log_dir)? {
            let scan = segment::scan_segment(&file)?;
            let status = match scan.damage {
                None => SegmentStatus::Ok,
                Some(damage) => SegmentStatus::Damaged { offset: damage.offset, reason: damage.reason },
            };
            infos.push(SegmentInfo {
                path: scan.path,
                first_lsn: scan.first_lsn,
                last_lsn: scan.last_lsn,
                records: scan.records,
                bytes: scan.file_len,
                status,
            });
        }
        Ok(infos)
    }

    /// Every snapshot file, newest first, each checked. Never changes anything.
    pub fn snapshots(&self) -> Result<Vec<SnapshotInfo>, StorageError> {
        snapshot::describe_all(&self.shared.snapshot_dir)
    }

    /// The snapshot at exactly `lsn`, checked (for operators' tools that
    /// replay from an older snapshot than `recover` would choose). Never
    /// changes anything.
    pub fn read_snapshot(&self, lsn: u64) -> Result<SnapshotData, StorageError> {
        match snapshot::load_at(&self.shared.snapshot_dir, lsn)? {
            Some(Ok(data)) => Ok(data),
            Some(Err(reason)) => Err(StorageError::Corrupt {
                path: self.shared.snapshot_dir.join(format::snapshot_file_name(lsn)),
                offset: 0,
                reason,
            }),
            None => Err(StorageError::MissingSegments { detail: format!("no snapshot at lsn {lsn}") }),
        }
    }

    /// The records from `lsn` on, checked first like `recover` does but
    /// never cut (in either mode): a torn tail just ends the records.
    pub fn read_from(&self, lsn: u64) -> Result<Records, StorageError> {
        let check = recovery::check_log(&self.shared.log_dir, lsn, OpenMode::ReadOnly)?;
        Ok(Records::new(check.spans, lsn))
    }

    /// Every record still in the log, from the oldest segment on.
    pub fn read_all(&self) -> Result<Records, StorageError> {
        let oldest = segment::list_segments(&self.shared.log_dir)?.first().map_or(1, |segment| segment.first_lsn);
        self.read_from(oldest)
    }

    /// Bytes of all segment files, as of the last `recover`, append or prune.
    pub fn log_bytes(&self) -> u64 {
        self.shared.log_bytes.load(Ordering::SeqCst)
    }
}

/// Locks a mutex whose data no panic can leave half-changed.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn check_is_dir(root: &Path) -> Result<(), StorageError> {
    match fs::metadata(root) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(StorageError::NotADirectory { path: root.to_owned() }),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Err(StorageError::DirMissing { path: root.to_owned() }),
        Err(err) => Err(StorageError::io(root, "reading data_dir")(err)),
    }
}

/// Creates the data_dir if needed, proves it writable, locks it, and
/// creates its subdirectories. Returns the locked lock file.
fn prepare_for_writing(root: &Path) -> Result<File, StorageError> {
    match fs::metadata(root) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Err(StorageError::NotADirectory { path: root.to_owned() }),
        // Missing, or not reachable (a parent is a file, say): creating it gives the clearest error.
        Err(_) => create_root(root)?,
    }
    probe_writable(root)?;
    let lock = lock_dir(root)?;
    create_dir(&root.join(LOG_DIR))?;
    create_dir(&root.join(SNAPSHOT_DIR))?;
    sync_dir(root)?;
    Ok(lock)
}

/// Creates the data_dir itself, but not its parents: a typo in the path must
/// fail, not start an empty state beside the real one.
fn create_root(root: &Path) -> Result<(), StorageError> {
    fs::create_dir(root).map_err(|source| StorageError::CreateDir { path: root.to_owned(), source })
}

fn create_dir(path: &Path) -> Result<(), StorageError> {
    fs::create_dir_all(path).map_err(|source| StorageError::CreateDir { path: path.to_owned(), source })
}

/// Permissions alone do not say whether a directory is writable (a read-only
/// mount, root, ACLs): creating and removing a file does.
fn probe_writable(root: &Path) -> Result<(), StorageError> {
    let probe = root.join(format!(".write-probe-{}", std::process::id()));
    let not_writable = |source| StorageError::NotWritable { path: root.to_owned(), source };
    File::create(&probe).map_err(not_writable)?;
    fs::remove_file(&probe).map_err(not_writable)
}

/// Takes an exclusive lock on `LOCK`, released by the OS when the file is
/// closed or the process dies: a stale lock file never blocks a restart.
fn lock_dir(root: &Path) -> Result<File, StorageError> {
    let path = root.join(LOCK_FILE);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(StorageError::io(&path, "opening lock file"))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(StorageError::InUse { path: root.to_owned() }),
        Err(TryLockError::Error(err)) => Err(StorageError::io(&path, "locking data_dir")(err)),
    }
}

fn total_log_bytes(log_dir: &Path) -> Result<u64, StorageError> {
    let mut total = 0;
    for segment in segment::list_segments(log_dir)? {
        total += fs::metadata(&segment.path).map_err(StorageError::io(&segment.path, "reading segment size"))?.len();
    }
    Ok(total)
}
