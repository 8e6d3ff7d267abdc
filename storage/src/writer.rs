//! The writer thread: appends submitted batches in order, syncs them as the
//! policy says (one fdatasync for every batch queued meanwhile: group commit),
//! and reports progress through the caller's callback.
//!
//! I/O errors never stop it and never panic it: it reports the error, waits
//! (50 ms, doubling to 1 s), cuts the segment back to the last offset known
//! good and tries again, for as long as it takes. Nothing reported durable is
//! ever lost, and nothing is written twice or out of order.

use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom};
use std::mem;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::batch::Batch;
use crate::error::StorageError;
use crate::faults::Faults;
use crate::format::{self, SEGMENT_HEADER_LEN};
use crate::fsutil::sync_dir_io;
use crate::recovery::{Tail, TailSegment};
use crate::store::Shared;

/// When the writer makes written records durable (`storage.sync`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SyncPolicy {
    /// fdatasync after every write, before reporting: nothing reported is
    /// lost even on power loss. Batches queued during a sync share the next.
    #[default]
    Always,
    /// Report each write at once; fdatasync at most once per interval, and
    /// once more when writes stop. A power loss may lose up to the interval.
    Interval(Duration),
    /// Never sync (tests, benchmarks): a power loss may lose whatever the OS
    /// had not flushed yet.
    None,
}

/// How the writer works.
#[derive(Clone, Debug)]
pub struct WriterOptions {
    pub sync: SyncPolicy,
    /// Start a new segment once the current one is at least this long.
    pub segment_size: u64,
    /// Disabled unless a test enables it.
    pub faults: Faults,
}

impl Default for WriterOptions {
    fn default() -> WriterOptions {
        WriterOptions { sync: SyncPolicy::Always, segment_size: 64 << 20, faults: Faults::default() }
    }
}

/// Reported after every write (and every sync on its own), and on every error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Every record up to here is in the OS: its effects may be released
    /// under [`SyncPolicy::Interval`] and [`SyncPolicy::None`].
    pub written_lsn: u64,
    /// Every record up to here is on disk. Equal to `written_lsn` under
    /// [`SyncPolicy::Always`].
    pub synced_lsn: u64,
    /// Records and bytes written since the previous report (0 for a report
    /// of a sync on its own, or of an error).
    pub records: u64,
    pub bytes: u64,
    /// Time spent writing them, retries included.
    pub write_duration: Duration,
    /// Time spent in fdatasync since the previous report, if one ran.
    pub sync_duration: Option<Duration>,
    /// All segment files' bytes now.
    pub log_bytes: u64,
    /// The I/O error the writer is retrying after; `None` when healthy.
    pub error: Option<String>,
}

impl Progress {
    /// Whether the last I/O succeeded. The report after a retry that worked is healthy again.
    pub fn is_healthy(&self) -> bool {
        self.error.is_none()
    }
}

/// The caller's end of the writer thread. Dropping it stops the thread once
/// it has written what was submitted, without waiting for it.
#[derive(Debug)]
pub struct WriterHandle {
    submitter: Mutex<Submitter>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Debug)]
struct Submitter {
    sender: Option<Sender<Batch>>,
    next_lsn: u64,
}

impl WriterHandle {
    /// Queues a batch to be written after every batch submitted before it.
    /// Never blocks (the queue is unbounded: the caller bounds what it has in
    /// flight). An empty batch is ignored. Refused when the batch does not
    /// start at [`WriterHandle::next_lsn`]: a gap or repeat is a caller bug.
    pub fn submit(&self, batch: Batch) -> Result<(), StorageError> {
        let (Some(first), Some(last)) = (batch.first_lsn(), batch.last_lsn()) else { return Ok(()) };
        let mut submitter = lock(&self.submitter);
        if first != submitter.next_lsn {
            return Err(StorageError::LsnGap { expected: submitter.next_lsn, got: first });
        }
        let sender = submitter.sender.as_ref().ok_or(StorageError::WriterStopped)?;
        sender.send(batch).map_err(|_| StorageError::WriterStopped)?;
        submitter.next_lsn = last + 1;
        Ok(())
    }

    /// The lsn the next submitted batch must start with.
    pub fn next_lsn(&self) -> u64 {
        lock(&self.submitter).next_lsn
    }

    /// Writes (and, unless the policy is `None`, syncs) everything submitted,
    /// then stops the thread. Blocks until then: while the disk keeps failing,
    /// the writer keeps retrying and this keeps waiting.
    pub fn close(mut self) -> Result<(), StorageError> {
        self.shut_down()
    }

    fn shut_down(&mut self) -> Result<(), StorageError> {
        lock(&self.submitter).sender = None;
        match self.thread.take() {
            Some(thread) => thread.join().map_err(|_| StorageError::WriterPanicked),
            None => Ok(()),
        }
    }
}

/// Dropping does not wait: the thread still writes what was submitted (and
/// keeps retrying on a failing disk) but nobody blocks on it, so a panic or
/// an abandoned server cannot hang on a disk that never recovers.
impl Drop for WriterHandle {
    fn drop(&mut self) {
        lock(&self.submitter).sender = None;
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Opens the tail segment (syncing what earlier runs left in it, so that
/// `synced_lsn` is true from the start) and spawns the thread.
pub(crate) fn start<F>(
    shared: Arc<Shared>,
    tail: Tail,
    options: WriterOptions,
    on_progress: F,
) -> Result<WriterHandle, StorageError>
where
    F: Fn(Progress) + Send + 'static,
{
    let segment = tail.segment.map(|segment| open_tail(segment, options.sync)).transpose()?;
    let last_lsn = tail.next_lsn - 1;
    let (sender, receiver) = mpsc::channel();
    let writer = Writer {
        segment,
        unsynced: Vec::new(),
        written_lsn: last_lsn,
        synced_lsn: last_lsn,
        last_sync: Instant::now(),
        figures: Figures::default(),
        on_progress,
        options,
        shared: Arc::clone(&shared),
    };
    shared.writer_running.store(true, Ordering::SeqCst);
    let spawned = thread::Builder::new().name("switchboard-wal".to_owned()).spawn(move || writer.run(receiver));
    let thread = spawned.map_err(|err| {
        shared.writer_running.store(false, Ordering::SeqCst);
        StorageError::io(&shared.log_dir, "starting the writer thread")(err)
    })?;
    let submitter = Submitter { sender: Some(sender), next_lsn: tail.next_lsn };
    Ok(WriterHandle { submitter: Mutex::new(submitter), thread: Some(thread) })
}

fn open_tail(tail: TailSegment, policy: SyncPolicy) -> Result<OpenSegment, StorageError> {
    let mut file =
        OpenOptions::new().write(true).open(&tail.path).map_err(StorageError::io(&tail.path, "opening segment"))?;
    file.seek(SeekFrom::Start(tail.len)).map_err(StorageError::io(&tail.path, "seeking to the end of segment"))?;
    if policy != SyncPolicy::None {
        file.sync_data().map_err(StorageError::io(&tail.path, "syncing segment"))?;
    }
    Ok(OpenSegment { file, path: tail.path, len: tail.len, synced_len: tail.len, dirty: false, sync_failed: false })
}

/// The segment being appended to.
#[derive(Debug)]
struct OpenSegment {
    file: File,
    path: PathBuf,
    /// End of the last batch written in full; the file's cursor is here
    /// unless `dirty`.
    len: u64,
    /// End of what the last successful fdatasync covered.
    synced_len: u64,
    /// A write failed: bytes past `len` may exist and must be cut first.
    dirty: bool,
    /// A sync failed: the kernel may have dropped the unsynced pages while
    /// still reporting them written, so they are written again before the
    /// next sync (retrying only the fdatasync could report lost data durable).
    sync_failed: bool,
}

/// Figures accumulated for the next progress report.
#[derive(Debug, Default)]
struct Figures {
    records: u64,
    bytes: u64,
    write: Duration,
    sync: Option<Duration>,
}

/// Queued batches are merged into one write up to this size.
const MAX_GROUP_BYTES: usize = 4 << 20;
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

struct Writer<F> {
    shared: Arc<Shared>,
    options: WriterOptions,
    on_progress: F,
    /// `None` until the first write when the log is empty.
    segment: Option<OpenSegment>,
    /// Batches written since the last sync, all in the current segment, kept
    /// to be written again if a sync fails. Always empty under `None`.
    unsynced: Vec<Batch>,
    written_lsn: u64,
    synced_lsn: u64,
    last_sync: Instant,
    figures: Figures,
}

/// What the writer does next.
enum Next {
    Write(Batch),
    /// The interval has passed with written, unsynced records.
    Sync,
    Stop,
}

impl<F: Fn(Progress)> Writer<F> {
    fn run(mut self, receiver: Receiver<Batch>) {
        let shared = Arc::clone(&self.shared);
        let _running = ClearOnDrop(&shared.writer_running);
        loop {
            match self.next(&receiver) {
                Next::Write(first) => {
                    let group = gather(first, &receiver, self.room());
                    self.write_group(group);
                }
                Next::Sync => {
                    self.sync();
                    self.report();
                }
                Next::Stop => break,
            }
        }
        if self.policy() != SyncPolicy::None && self.synced_lsn < self.written_lsn {
            self.sync();
            self.report();
        }
    }

    fn policy(&self) -> SyncPolicy {
        self.options.sync
    }

    /// Waits for a batch, or under `Interval` for the next sync being due.
    fn next(&self, receiver: &Receiver<Batch>) -> Next {
        let Some(due) = self.sync_due() else {
            return receiver.recv().map_or(Next::Stop, Next::Write);
        };
        match receiver.recv_timeout(due.saturating_duration_since(Instant::now())) {
            Ok(batch) => Next::Write(batch),
            Err(RecvTimeoutError::Timeout) => Next::Sync,
            Err(RecvTimeoutError::Disconnected) => Next::Stop,
        }
    }

    fn sync_due(&self) -> Option<Instant> {
        match self.policy() {
            SyncPolicy::Interval(every) if self.synced_lsn < self.written_lsn => Some(self.last_sync + every),
            _ => None,
        }
    }

    /// Bytes a merged group may take: what is left in the current segment
    /// (or a whole new one), so that a segment passes its size by at most one
    /// submitted batch, and never more than `MAX_GROUP_BYTES`.
    fn room(&self) -> usize {
        let size = self.options.segment_size;
        let used = self.segment.as_ref().map_or(0, |segment| segment.len);
        let left = if used < size { size - used } else { size };
        usize::try_from(left).unwrap_or(usize::MAX).min(MAX_GROUP_BYTES)
    }

    fn write_group(&mut self, group: Batch) {
        let started = Instant::now();
        self.append(group);
        self.figures.write += started.elapsed();
        let sync_now = match self.policy() {
            SyncPolicy::Always => true,
            SyncPolicy::Interval(every) => self.last_sync.elapsed() >= every,
            SyncPolicy::None => false,
        };
        if sync_now {
            self.sync();
        }
        self.report();
    }

    fn append(&mut self, batch: Batch) {
        let (Some(first), Some(last)) = (batch.first_lsn(), batch.last_lsn()) else { return };
        self.ensure_room(first);
        self.retry("writing", |writer| writer.try_write(&batch));
        self.written_lsn = last;
        self.figures.records += batch.len();
        self.figures.bytes += batch.encoded_len() as u64;
        if self.policy() != SyncPolicy::None {
            self.unsynced.push(batch);
        }
    }

    /// Makes sure a segment with room is open, starting one at `first_lsn`
    /// if needed. The full segment is synced first, so that only the last
    /// segment can ever have a torn tail.
    fn ensure_room(&mut self, first_lsn: u64) {
        let full = self.segment.as_ref().is_none_or(|segment| segment.len >= self.options.segment_size);
        if !full {
            return;
        }
        if self.policy() != SyncPolicy::None && self.segment.as_ref().is_some_and(|s| s.synced_len < s.len) {
            self.sync();
        }
        self.segment = None;
        let segment = self.retry("creating segment", |writer| writer.try_create(first_lsn));
        self.segment = Some(segment);
    }

    fn try_create(&self, first_lsn: u64) -> io::Result<OpenSegment> {
        let path = self.shared.log_dir.join(format::segment_file_name(first_lsn));
        let mut file = OpenOptions::new().write(true).create(true).truncate(true).open(&path)?;
        self.options.faults.write_all(&mut file, &format::encode_segment_header(first_lsn))?;
        if self.policy() != SyncPolicy::None {
            self.sync_file(&file)?;
            sync_dir_io(&self.shared.log_dir)?;
        }
        self.shared.log_bytes.fetch_add(SEGMENT_HEADER_LEN as u64, Ordering::SeqCst);
        let len = SEGMENT_HEADER_LEN as u64;
        Ok(OpenSegment { file, path, len, synced_len: len, dirty: false, sync_failed: false })
    }

    /// Writes one batch at the segment's end, first cutting anything a failed
    /// write left there.
    fn try_write(&mut self, batch: &Batch) -> io::Result<()> {
        let segment = self.segment.as_mut().expect("ensure_room opened a segment");
        if segment.dirty {
            segment.file.set_len(segment.len)?;
            segment.file.seek(SeekFrom::Start(segment.len))?;
            segment.dirty = false;
        }
        segment.dirty = true;
        self.options.faults.write_all(&mut segment.file, batch.bytes())?;
        segment.dirty = false;
        segment.len += batch.encoded_len() as u64;
        self.shared.log_bytes.fetch_add(batch.encoded_len() as u64, Ordering::SeqCst);
        Ok(())
    }

    /// Syncs the current segment, retrying until it works.
    fn sync(&mut self) {
        if self.segment.is_none() {
            return;
        }
        let started = Instant::now();
        self.retry("syncing", Writer::try_sync);
        *self.figures.sync.get_or_insert(Duration::ZERO) += started.elapsed();
        self.synced_lsn = self.written_lsn;
        self.last_sync = Instant::now();
    }

    fn try_sync(&mut self) -> io::Result<()> {
        if self.segment.as_ref().is_some_and(|segment| segment.sync_failed) {
            self.rewrite_unsynced()?;
        }
        let segment = self.segment.as_mut().expect("sync checks for a segment");
        segment.sync_failed = true;
        if let Some(err) = self.options.faults.sync_error() {
            return Err(err);
        }
        segment.file.sync_data()?;
        segment.sync_failed = false;
        segment.synced_len = segment.len;
        self.unsynced.clear();
        Ok(())
    }

    /// After a failed sync: cuts the segment back to what the last good sync
    /// covered and writes the batches since then again from memory.
    fn rewrite_unsynced(&mut self) -> io::Result<()> {
        let segment = self.segment.as_mut().expect("rewrite needs a segment");
        segment.file.set_len(segment.synced_len)?;
        self.shared.log_bytes.fetch_sub(segment.len - segment.synced_len, Ordering::SeqCst);
        segment.len = segment.synced_len;
        segment.file.seek(SeekFrom::Start(segment.len))?;
        for batch in &self.unsynced {
            self.options.faults.write_all(&mut segment.file, batch.bytes())?;
            segment.len += batch.encoded_len() as u64;
            self.shared.log_bytes.fetch_add(batch.encoded_len() as u64, Ordering::SeqCst);
        }
        Ok(())
    }

    fn sync_file(&self, file: &File) -> io::Result<()> {
        match self.options.faults.sync_error() {
            Some(err) => Err(err),
            None => file.sync_data(),
        }
    }

    /// Runs `op` until it succeeds, reporting each failure and backing off.
    fn retry<T>(&mut self, action: &str, mut op: impl FnMut(&mut Self) -> io::Result<T>) -> T {
        let mut delay = FIRST_BACKOFF;
        loop {
            match op(self) {
                Ok(value) => return value,
                Err(err) => {
                    self.report_error(format!("{action} {}: {err}", self.segment_name()));
                    thread::sleep(delay);
                    delay = (delay * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    fn segment_name(&self) -> String {
        match &self.segment {
            Some(segment) => segment.path.display().to_string(),
            None => self.shared.log_dir.display().to_string(),
        }
    }

    fn report(&mut self) {
        let figures = mem::take(&mut self.figures);
        (self.on_progress)(self.progress(figures, None));
    }

    fn report_error(&self, error: String) {
        (self.on_progress)(self.progress(Figures::default(), Some(error)));
    }

    fn progress(&self, figures: Figures, error: Option<String>) -> Progress {
        let written_lsn = match self.policy() {
            SyncPolicy::Always => self.synced_lsn,
            _ => self.written_lsn,
        };
        Progress {
            written_lsn,
            synced_lsn: self.synced_lsn,
            records: figures.records,
            bytes: figures.bytes,
            write_duration: figures.write,
            sync_duration: figures.sync,
            log_bytes: self.shared.log_bytes.load(Ordering::SeqCst),
            error,
        }
    }
}

/// Clears the store's "writer running" flag when the thread ends, even by a
/// panic in the caller's callback.
struct ClearOnDrop<'a>(&'a AtomicBool);

impl Drop for ClearOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

/// The first batch merged with whatever else is already queued, while the
/// group is under `limit` bytes: one write and one sync for all of them.
/// Copying small batches into one buffer costs less than a write call each.
fn gather(first: Batch, receiver: &Receiver<Batch>, limit: usize) -> Batch {
    let mut group = first;
    while group.encoded_len() < limit {
        let Ok(batch) = receiver.try_recv() else { break };
        group.extend_from(&batch);
    }
    group
}
