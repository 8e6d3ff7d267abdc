//! Appending and reading back: records cross segments intact, a reopened
//! log continues its lsns, and the operator listings agree with the files.

mod common;

use common::*;
use switchboard_storage::{Batch, OpenMode, RecordMeta, SegmentStatus, StorageError, Store, SyncPolicy, WriterOptions};

#[test]
fn records_cross_several_segments_and_read_back_identical() {
    let dir = tempfile::tempdir().unwrap();
    append(dir.path(), 1..=600, 7, small_segments(SyncPolicy::Always));

    let segments = segment_paths(dir.path());
    assert!(segments.len() >= 5, "only {} segments", segments.len());
    assert_eq!(read_all(dir.path()), records(1..=600));

    let store = Store::open(dir.path(), OpenMode::ReadWrite).unwrap();
    let recovery = store.recover().unwrap();
    assert_eq!((recovery.next_lsn, recovery.report.records_to_replay), (601, 600));
    assert_eq!(recovery.report.segments_checked, segments.len());
    assert_eq!(recovery.report.torn_tail, None);
    let replayed: Vec<_> = recovery.records.collect::<Result<_, _>>().unwrap();
    assert_eq!(replayed, records(1..=600));
}

#[test]
fn the_listing_names_every_segment_with_its_lsns_and_size() {
    let dir = tempfile::tempdir().unwrap();
    append(dir.path(), 1..=300, 10, small_segments(SyncPolicy::None));
    let store = Store::open(dir.path(), OpenMode::ReadOnly).unwrap();
    let segments = store.segments().unwrap();
    assert_eq!(segments.iter().map(|s| s.path.clone()).collect::<Vec<_>>(), segment_paths(dir.path()));
    assert_eq!(segments.first().unwrap().first_lsn, 1);
    assert_eq!(segments.last().unwrap().last_lsn, 300);
    for pair in segments.windows(2) {
        assert_eq!(pair[1].first_lsn, pair[0].last_lsn + 1);
    }
    for segment in &segments {
        assert_eq!(segment.records, segment.last_lsn + 1 - segment.first_lsn);
        assert_eq!(segment.bytes, file_len(&segment.path));
        assert_eq!(segment.status, SegmentStatus::Ok);
    }
    assert_eq!(store.log_bytes(), 0, "a read-only store counts nothing before recover");
    store.recover().unwrap();
    assert_eq!(store.log_bytes(), segments.iter().map(|s| s.bytes).sum::<u64>());
}

#[test]
fn a_reopened_log_continues_its_lsns() {
    let dir = tempfile::tempdir().unwrap();
    append(dir.path(), 1..=50, 4, small_segments(SyncPolicy::Always));
    let (records_read, torn, next_lsn) = recover(dir.path(), OpenMode::ReadWrite);
    assert_eq!((records_read.len(), torn, next_lsn), (50, None, 51));

    append(dir.path(), 51..=120, 9, small_segments(SyncPolicy::Always));
    assert_eq!(read_all(dir.path()), records(1..=120));
}

#[test]
fn the_writer_refuses_a_wrong_start_and_a_gap_between_batches() {
    let dir = tempfile::tempdir().unwrap();
    append(dir.path(), 1..=10, 10, WriterOptions::default());
    let store = Store::open(dir.path(), OpenMode::ReadWrite).unwrap();
    let no_progress = |_| {};
    let err = store.start_writer(WriterOptions::default(), 1, no_progress).unwrap_err();
    assert!(matches!(err, StorageError::NotRecovered), "{err}");

    let recovery = store.recover().unwrap();
    let err = store.start_writer(WriterOptions::default(), 5, no_progress).unwrap_err();
    assert!(matches!(err, StorageError::WrongNextLsn { expected: 11, got: 5 }), "{err}");
    let writer = store.start_writer(WriterOptions::default(), recovery.next_lsn, no_progress).unwrap();
    let err = store.recover().unwrap_err();
    assert!(matches!(err, StorageError::WriterRunning), "{err}");

    let err = writer.submit(batch(12..=13)).unwrap_err();
    assert!(matches!(err, StorageError::LsnGap { expected: 11, got: 12 }), "{err}");
    writer.submit(Batch::new()).unwrap();
    writer.submit(batch(11..=13)).unwrap();
    assert_eq!(writer.next_lsn(), 14);
    writer.close().unwrap();
    assert_eq!(read_all(dir.path()), records(1..=13));
}

#[test]
fn a_brand_new_dir_has_no_snapshot_and_no_records() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("new");
    let store = Store::open(&data_dir, OpenMode::ReadWrite).unwrap();
    let recovery = store.recover().unwrap();
    assert!(recovery.snapshot.is_none());
    assert_eq!(recovery.next_lsn, 1);
    assert_eq!(recovery.records.count(), 0);
    assert_eq!(recovery.report, Default::default());
    assert!(data_dir.join("log").is_dir() && data_dir.join("snapshots").is_dir());
    assert!(store.segments().unwrap().is_empty() && store.snapshots().unwrap().is_empty());
}

#[test]
fn an_operator_reads_from_any_lsn_still_in_the_log() {
    let dir = tempfile::tempdir().unwrap();
    append(dir.path(), 1..=200, 13, small_segments(SyncPolicy::None));
    let store = Store::open(dir.path(), OpenMode::ReadOnly).unwrap();
    let from_150: Vec<_> = store.read_from(150).unwrap().collect::<Result<_, _>>().unwrap();
    assert_eq!(from_150, records(150..=200));
    assert_eq!(store.read_from(201).unwrap().count(), 0);
    let err = store.read_from(0).unwrap_err();
    assert!(matches!(err, StorageError::MissingSegments { .. }), "{err}");
}

#[test]
fn an_oversized_payload_is_refused_before_it_reaches_the_log() {
    let mut batch = Batch::new();
    let huge = vec![0u8; switchboard_storage::MAX_PAYLOAD_LEN + 1];
    let err = batch.push(RecordMeta { lsn: 1, time_ms: 0, wall_ms: 0 }, &huge).unwrap_err();
    assert!(matches!(err, StorageError::RecordTooLarge { .. }), "{err}");
    assert!(batch.is_empty());
}

#[test]
fn the_store_and_the_writer_handle_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Store>();
    shareable::<switchboard_storage::WriterHandle>();
}
