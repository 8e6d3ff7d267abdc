//! Snapshots: the newest valid one is loaded, a damaged one falls back to
//! the previous, a temp file is never loaded, the records a snapshot needs
//! must all exist, and pruning keeps what a fallback would need.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::*;
use switchboard_storage::{OpenMode, SnapshotStatus, StorageError, Store, SyncPolicy};

fn state_at(lsn: u64) -> Vec<u8> {
    format!("the whole state after lsn {lsn}").into_bytes().repeat(50)
}

fn snapshot_path(dir: &Path, lsn: u64) -> PathBuf {
    dir.join("snapshots").join(format!("{lsn:020}.snap"))
}

/// A log of 1..=300 over several segments.
fn log(dir: &Path) {
    append(dir, 1..=300, 6, small_segments(SyncPolicy::None));
}

fn write_snapshots(dir: &Path, lsns: &[u64]) -> Store {
    let store = Store::open(dir, OpenMode::ReadWrite).unwrap();
    store.recover().unwrap();
    for &lsn in lsns {
        let written = store.write_snapshot(lsn, &state_at(lsn)).unwrap();
        assert_eq!((written.path, written.lsn), (snapshot_path(dir, lsn), lsn));
        assert_eq!(written.bytes, file_len(&snapshot_path(dir, lsn)));
    }
    store
}

#[test]
fn recovery_loads_the_newest_snapshot_and_replays_only_what_follows() {
    let dir = tempfile::tempdir().unwrap();
    log(dir.path());
    drop(write_snapshots(dir.path(), &[120, 200]));
    let store = Store::open(dir.path(), OpenMode::ReadWrite).unwrap();
    let recovery = store.recover().unwrap();
    let snapshot = recovery.snapshot.unwrap();
    assert_eq!((snapshot.lsn, snapshot.bytes), (200, state_at(200)));
    assert_eq!(recovery.report.records_to_replay, 100);
    assert_eq!(recovery.records.collect::<Result<Vec<_>, _>>().unwrap(), records(201..=300));
    assert_eq!(recovery.next_lsn, 301);
}

#[test]
fn a_corrupt_newest_snapshot_falls_back_to_the_older_one() {
    let dir = tempfile::tempdir().unwrap();
    log(dir.path());
    drop(write_snapshots(dir.path(), &[120, 200]));
    let newest = snapshot_path(dir.path(), 200);
    flip_byte(&newest, file_len(&newest) / 2);

    let store = Store::open(dir.path(), OpenMode::ReadWrite).unwrap();
    let recovery = store.recover().unwrap();
    assert_eq!(recovery.snapshot.as_ref().map(|s| (s.lsn, s.bytes.clone())), Some((120, state_at(120))));
    let skipped = &recovery.report.skipped_snapshots;
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0].path, newest);
    assert!(skipped[0].reason.contains("checksum"), "{}", skipped[0].reason);
    assert_eq!(recovery.records.collect::<Result<Vec<_>, _>>().unwrap(), records(121..=300));

    let listed = store.snapshots().unwrap();
    assert_eq!(listed.iter().map(|s| s.lsn).collect::<Vec<_>>(), vec![200, 120]);
    assert!(matches!(&listed[0].status, SnapshotStatus::Invalid(reason) if reason.contains("checksum")));
    assert_eq!(listed[1].status, SnapshotStatus::Valid);
}

#[test]
fn a_leftover_temp_snapshot_is_never_loaded_and_the_next_write_removes_it() {
    let dir = tempfile::tempdir().unwrap();
    log(dir.path());
    drop(write_snapshots(dir.path(), &[120]));
    // What a crash in the middle of writing snapshot 250 leaves: half a file under the temp name.
    let temp = dir.path().join("snapshots").join(format!("{:020}.snap.tmp", 250));
    fs::write(&temp, &state_at(250)[..40]).unwrap();

    let store = Store::open(dir.path(), OpenMode::ReadWrite).unwrap();
    let recovery = store.recover().unwrap();
    assert_eq!(recovery.snapshot.map(|s| s.lsn), Some(120));
    assert!(recovery.report.skipped_snapshots.is_empty());
    assert_eq!(store.snapshots().unwrap().len(), 1);

    let written = store.write_snapshot(260, &state_at(260)).unwrap();
    assert_eq!(written.snapshots_deleted, vec![temp.clone()]);
    assert!(!temp.exists());
}

#[test]
fn a_missing_segment_the_snapshot_needs_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    log(dir.path());
    drop(write_snapshots(dir.path(), &[150]));
    let segments = segment_paths(dir.path());
    let store = Store::open(dir.path(), OpenMode::ReadOnly).unwrap();
    let holding_151 =
        store.segments().unwrap().into_iter().position(|s| s.first_lsn <= 151 && 151 <= s.last_lsn).unwrap();
    // Everything up to and including the segment holding lsn 151 goes.
    for segment in &segments[..=holding_151] {
        fs::remove_file(segment).unwrap();
    }
    let store = Store::open(dir.path(), OpenMode::ReadWrite).unwrap();
    let err = store.recover().unwrap_err();
    assert!(matches!(err, StorageError::MissingSegments { .. }), "{err}");
    assert!(err.to_string().contains("from lsn 151"), "{err}");
}

#[test]
fn a_snapshot_ahead_of_the_whole_log_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    log(dir.path());
    drop(write_snapshots(dir.path(), &[500]));
    let err = Store::open(dir.path(), OpenMode::ReadOnly).unwrap().recover().unwrap_err();
    assert!(err.to_string().contains("the log ends at lsn 300"), "{err}");
}

#[test]
fn pruning_keeps_two_snapshots_and_the_log_after_the_older() {
    let dir = tempfile::tempdir().unwrap();
    log(dir.path());
    let store = write_snapshots(dir.path(), &[50]);
    let segments_before = segment_paths(dir.path());

    // One snapshot: no fallback yet, so the log is kept whole.
    assert_eq!(segment_paths(dir.path()), segments_before);
    let bytes_before = store.log_bytes();

    // Two snapshots: the segments wholly at or below the older one (50) go.
    let second = store.write_snapshot(150, &state_at(150)).unwrap();
    assert!(second.snapshots_deleted.is_empty());
    assert!(!second.segments_deleted.is_empty());
    let written = store.write_snapshot(250, &state_at(250)).unwrap();
    assert_eq!(written.snapshots_deleted, vec![snapshot_path(dir.path(), 50)]);
    assert!(!written.segments_deleted.is_empty());
    let deleted = second.segment_bytes_deleted + written.segment_bytes_deleted;
    assert_eq!(store.log_bytes(), bytes_before - deleted);

    let listing = store.segments().unwrap();
    let first_kept = listing.first().unwrap();
    assert!(first_kept.first_lsn <= 151 && 151 <= first_kept.last_lsn, "{first_kept:?}");
    for gone in second.segments_deleted.iter().chain(&written.segments_deleted) {
        assert!(!gone.exists());
    }
    drop(store);

    // The newest damaged: the older kept snapshot still has every record it needs.
    flip_byte(&snapshot_path(dir.path(), 250), 40);
    let (records_read, _, next_lsn) = recover(dir.path(), OpenMode::ReadWrite);
    assert_eq!((records_read, next_lsn), (records(151..=300), 301));
}

#[test]
fn snapshots_while_the_writer_appends_never_delete_its_segment() {
    let dir = tempfile::tempdir().unwrap();
    let (store, writer, reports) = start(dir.path(), small_segments(SyncPolicy::Always));
    submit_all(&writer, 1..=200, 4);
    reports.wait_for("durable up to 200", |p| p.synced_lsn == 200);
    store.write_snapshot(150, &state_at(150)).unwrap();
    store.write_snapshot(200, &state_at(200)).unwrap();
    // Everything is covered by a snapshot, yet the segment being appended to stays.
    let written = store.write_snapshot(200, &state_at(200)).unwrap();
    assert!(written.segments_deleted.is_empty());
    submit_all(&writer, 201..=260, 4);
    writer.close().unwrap();
    drop(store);

    let (records_read, _, next_lsn) = recover(dir.path(), OpenMode::ReadWrite);
    assert_eq!((records_read, next_lsn), (records(201..=260), 261));
}

#[test]
fn a_read_only_store_writes_no_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), OpenMode::ReadOnly).unwrap();
    assert!(matches!(store.write_snapshot(1, b"x"), Err(StorageError::ReadOnly)));
}
