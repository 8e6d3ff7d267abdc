//! What each sync policy reports as written and as synced.

mod common;

use std::time::{Duration, Instant};

use common::*;
use switchboard_storage::{Faults, OpenMode, SyncPolicy, WriterOptions};

#[test]
fn always_reports_written_and_synced_together_after_a_sync() {
    let dir = tempfile::tempdir().unwrap();
    let (store, writer, reports) = start(dir.path(), small_segments(SyncPolicy::Always));
    submit_all(&writer, 1..=100, 10);
    reports.wait_for("durable to 100", |p| p.synced_lsn == 100);
    writer.close().unwrap();
    let all = reports.all();
    let mut previous = 0;
    for report in &all {
        assert!(report.is_healthy());
        assert_eq!(report.written_lsn, report.synced_lsn, "{report:?}");
        assert!(report.synced_lsn >= previous, "went back: {all:#?}");
        assert!(report.records > 0 && report.sync_duration.is_some(), "{report:?}");
        previous = report.synced_lsn;
    }
    assert_eq!(all.iter().map(|r| r.records).sum::<u64>(), 100);
    let total_bytes: u64 = all.iter().map(|r| r.bytes).sum();
    assert!(total_bytes > 100 * 32, "{total_bytes}");
    assert_eq!(all.last().unwrap().log_bytes, store.log_bytes());
}

#[test]
fn none_reports_written_and_never_synced() {
    let dir = tempfile::tempdir().unwrap();
    let (_store, writer, reports) = start(dir.path(), small_segments(SyncPolicy::None));
    submit_all(&writer, 1..=100, 10);
    reports.wait_for("written to 100", |p| p.written_lsn == 100);
    writer.close().unwrap();
    for report in reports.all() {
        assert_eq!((report.synced_lsn, report.sync_duration), (0, None), "{report:?}");
    }
}

#[test]
fn interval_reports_written_at_once_and_synced_after_the_interval_without_more_writes() {
    // Long enough that a loaded machine still writes the batches well inside it.
    let interval = Duration::from_secs(1);
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    // One segment: rolling to a new segment syncs the old one, which would blur the picture.
    let options = WriterOptions { sync: SyncPolicy::Interval(interval), ..WriterOptions::default() };
    let (_store, writer, reports) = start(dir.path(), options);
    submit_all(&writer, 1..=30, 10);

    let written = reports.wait_for("written to 30", |p| p.written_lsn == 30);
    assert!(written.synced_lsn < 30, "synced at once: {written:?}");
    assert!(written.records > 0 && written.sync_duration.is_none(), "{written:?}");

    let synced = reports.wait_for("synced to 30", |p| p.synced_lsn == 30);
    assert!(started.elapsed() >= interval, "synced after {:?}", started.elapsed());
    assert_eq!((synced.records, synced.written_lsn), (0, 30), "a report of the sync alone: {synced:?}");
    assert!(synced.sync_duration.is_some());

    // Nothing more to sync: no further reports while idle.
    let count = reports.all().len();
    std::thread::sleep(interval + Duration::from_millis(100));
    assert_eq!(reports.all().len(), count);
    writer.close().unwrap();
}

#[test]
fn close_syncs_everything_submitted_under_interval() {
    let dir = tempfile::tempdir().unwrap();
    let (store, writer, reports) = start(dir.path(), small_segments(SyncPolicy::Interval(Duration::from_secs(60))));
    submit_all(&writer, 1..=50, 7);
    writer.close().unwrap();
    let last = reports.all().pop().unwrap();
    assert_eq!((last.written_lsn, last.synced_lsn), (50, 50));
    drop(store);
    assert_eq!(recover(dir.path(), OpenMode::ReadWrite).0, records(1..=50));
}

#[test]
fn batches_queued_during_a_sync_share_the_next_write_and_sync() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Faults::enabled();
    let options = WriterOptions { faults: faults.clone(), ..WriterOptions::default() };
    let (_store, writer, reports) = start(dir.path(), options);
    // Hold the writer in its first sync while 199 more batches queue up.
    faults.fail_syncs();
    writer.submit(batch(1..=1)).unwrap();
    reports.wait_for("the first sync failing", |p| !p.is_healthy());
    submit_all(&writer, 2..=200, 1);
    faults.clear();
    reports.wait_for("durable to 200", |p| p.synced_lsn == 200);
    writer.close().unwrap();

    let writes: Vec<_> = reports.all().into_iter().filter(|p| p.records > 0).collect();
    assert_eq!(writes.iter().map(|p| (p.records, p.synced_lsn)).collect::<Vec<_>>(), vec![(1, 1), (199, 200)]);
    assert_eq!(read_all(dir.path()), records(1..=200));
}
