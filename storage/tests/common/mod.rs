//! Helpers shared by the integration tests: deterministic records, a log
//! written end to end, and a progress collector a test can wait on.

#![allow(dead_code)] // each test binary uses its own subset

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use switchboard_storage::{
    Batch, OpenMode, Progress, Record, Store, SyncPolicy, TornTail, WriterHandle, WriterOptions,
};

/// The record every test expects at `lsn`: payload lengths vary from 0 to 199 bytes.
pub fn record(lsn: u64) -> Record {
    let len = (lsn * 37 % 200) as usize;
    let payload = (0..len).map(|i| (lsn as usize * 7 + i) as u8).collect();
    Record { lsn, time_ms: lsn * 1000, wall_ms: 1_700_000_000_000 + lsn, payload }
}

pub fn records(lsns: std::ops::RangeInclusive<u64>) -> Vec<Record> {
    lsns.map(record).collect()
}

pub fn batch(lsns: std::ops::RangeInclusive<u64>) -> Batch {
    let mut batch = Batch::new();
    for lsn in lsns {
        batch.push_record(&record(lsn)).unwrap();
    }
    batch
}

/// Options with small segments, so that a few hundred records span several.
pub fn small_segments(sync: SyncPolicy) -> WriterOptions {
    WriterOptions { sync, segment_size: 2048, ..WriterOptions::default() }
}

/// Every progress report, and a way to wait for one.
#[derive(Clone, Default)]
pub struct Reports {
    inner: Arc<(Mutex<Vec<Progress>>, Condvar)>,
}

impl Reports {
    pub fn callback(&self) -> impl Fn(Progress) + Send + 'static {
        let inner = Arc::clone(&self.inner);
        move |progress| {
            inner.0.lock().unwrap().push(progress);
            inner.1.notify_all();
        }
    }

    pub fn all(&self) -> Vec<Progress> {
        self.inner.0.lock().unwrap().clone()
    }

    /// The first report (in order) matching `test`, waiting up to 10 s for it.
    pub fn wait_for(&self, what: &str, test: impl Fn(&Progress) -> bool) -> Progress {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut reports = self.inner.0.lock().unwrap();
        loop {
            if let Some(found) = reports.iter().find(|progress| test(progress)) {
                return found.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "no progress report {what} within 10 s; got {reports:#?}");
            reports = self.inner.1.wait_timeout(reports, left).unwrap().0;
        }
    }
}

/// Opens `dir` read-write, recovers, and starts a writer.
pub fn start(dir: &Path, options: WriterOptions) -> (Store, WriterHandle, Reports) {
    let store = Store::open(dir, OpenMode::ReadWrite).unwrap();
    let recovery = store.recover().unwrap();
    let reports = Reports::default();
    let writer = store.start_writer(options, recovery.next_lsn, reports.callback()).unwrap();
    (store, writer, reports)
}

/// Appends records `lsns` in batches of `per_batch`, then closes the writer.
pub fn append(dir: &Path, lsns: std::ops::RangeInclusive<u64>, per_batch: u64, options: WriterOptions) {
    let (_store, writer, _) = start(dir, options);
    submit_all(&writer, lsns, per_batch);
    writer.close().unwrap();
}

pub fn submit_all(writer: &WriterHandle, lsns: std::ops::RangeInclusive<u64>, per_batch: u64) {
    let (first, last) = (*lsns.start(), *lsns.end());
    let mut lsn = first;
    while lsn <= last {
        let end = (lsn + per_batch - 1).min(last);
        writer.submit(batch(lsn..=end)).unwrap();
        lsn = end + 1;
    }
}

/// Every record in the log, read in read-only mode.
pub fn read_all(dir: &Path) -> Vec<Record> {
    let store = Store::open(dir, OpenMode::ReadOnly).unwrap();
    store.read_all().unwrap().collect::<Result<_, _>>().unwrap()
}

/// What `recover` yields in `mode`: the records and the torn tail reported.
pub fn recover(dir: &Path, mode: OpenMode) -> (Vec<Record>, Option<TornTail>, u64) {
    let store = Store::open(dir, mode).unwrap();
    let recovery = store.recover().unwrap();
    let records = recovery.records.collect::<Result<_, _>>().unwrap();
    (records, recovery.report.torn_tail, recovery.next_lsn)
}

/// The segment files, oldest first.
pub fn segment_paths(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = fs::read_dir(dir.join("log")).unwrap().map(|entry| entry.unwrap().path()).collect();
    paths.retain(|path| path.extension().is_some_and(|ext| ext == "seg"));
    paths.sort();
    paths
}

pub fn file_len(path: &Path) -> u64 {
    fs::metadata(path).unwrap().len()
}

/// Byte offsets where each record's frame starts in a segment file.
pub fn frame_offsets(path: &Path) -> Vec<u64> {
    let bytes = fs::read(path).unwrap();
    let mut offsets = Vec::new();
    let mut at = 24usize;
    while at + 8 <= bytes.len() {
        offsets.push(at as u64);
        let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        at += 8 + len;
    }
    offsets
}

pub fn flip_byte(path: &Path, offset: u64) {
    let mut bytes = fs::read(path).unwrap();
    bytes[offset as usize] ^= 0x5a;
    fs::write(path, bytes).unwrap();
}
