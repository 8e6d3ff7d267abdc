//! Disk-full and I/O errors, injected: the writer reports them, retries,
//! never reports durable what is not, and once the disk recovers everything
//! submitted is on disk once, in order.

mod common;

use std::path::Path;
use std::thread;
use std::time::Duration;

use common::*;
use switchboard_storage::{Faults, OpenMode, Progress, SyncPolicy, WriteFault, WriterOptions};

/// Which I/O fails.
#[derive(Clone, Copy, Debug)]
enum Fault {
    Writes(WriteFault),
    Syncs,
}

const INTERVAL: SyncPolicy = SyncPolicy::Interval(Duration::from_millis(30));

fn options_with(faults: &Faults, sync: SyncPolicy) -> WriterOptions {
    WriterOptions { faults: faults.clone(), ..small_segments(sync) }
}

fn arm(faults: &Faults, fault: Fault) {
    match fault {
        Fault::Writes(write_fault) => faults.fail_writes(write_fault),
        Fault::Syncs => faults.fail_syncs(),
    }
}

/// The highest lsn a report vouches for: under `Interval`, failing syncs do
/// not stop writes from being reported written; everything else must stand still.
fn vouched(progress: &Progress, fault: Fault, sync: SyncPolicy) -> u64 {
    match (fault, sync) {
        (Fault::Syncs, SyncPolicy::Interval(_)) => progress.synced_lsn,
        _ => progress.written_lsn.max(progress.synced_lsn),
    }
}

/// Writes 1..=40, makes I/O fail while 41..=150 are submitted, then clears
/// the fault and checks that exactly 1..=150 end up on disk.
fn fail_then_recover(dir: &Path, fault: Fault, sync: SyncPolicy) {
    let faults = Faults::enabled();
    let (store, writer, reports) = start(dir, options_with(&faults, sync));
    submit_all(&writer, 1..=40, 5);
    reports.wait_for("for lsn 40", |p| p.written_lsn == 40 && p.is_healthy());
    arm(&faults, fault);
    submit_all(&writer, 41..=120, 8);
    let unhealthy = reports.wait_for("unhealthy", |p| !p.is_healthy());
    assert!(unhealthy.error.as_deref().unwrap_or("").contains("injected fault"), "{unhealthy:?}");
    while faults.injected() < 3 {
        thread::sleep(Duration::from_millis(20));
    }
    submit_all(&writer, 121..=150, 10);
    let before_clear = reports.all();
    faults.clear();
    for report in &before_clear {
        assert!(vouched(report, fault, sync) <= 40, "claimed past lsn 40 while failing: {report:?}");
    }

    let recovered = reports.wait_for("healthy with lsn 150 durable", |p| p.synced_lsn == 150 && p.is_healthy());
    assert!(recovered.log_bytes > 0);
    writer.close().unwrap();
    drop(store);

    let (records_read, torn, next_lsn) = recover(dir, OpenMode::ReadWrite);
    assert_eq!(torn, None, "retries cut what failed writes left");
    assert_eq!((records_read, next_lsn), (records(1..=150), 151));
}

#[test]
fn failed_writes_are_retried_until_the_disk_has_room_again() {
    let dir = tempfile::tempdir().unwrap();
    fail_then_recover(dir.path(), Fault::Writes(WriteFault::Fail), SyncPolicy::Always);
}

#[test]
fn a_partial_write_is_cut_before_the_retry() {
    let dir = tempfile::tempdir().unwrap();
    fail_then_recover(dir.path(), Fault::Writes(WriteFault::Partial { bytes: 13 }), SyncPolicy::Always);
}

#[test]
fn a_partial_write_under_interval_sync_is_cut_too() {
    let dir = tempfile::tempdir().unwrap();
    fail_then_recover(dir.path(), Fault::Writes(WriteFault::Partial { bytes: 200 }), INTERVAL);
}

#[test]
fn failed_syncs_are_retried_and_nothing_unsynced_is_reported_durable() {
    let dir = tempfile::tempdir().unwrap();
    fail_then_recover(dir.path(), Fault::Syncs, SyncPolicy::Always);
}

#[test]
fn failed_syncs_under_interval_rewrite_every_unsynced_batch() {
    let dir = tempfile::tempdir().unwrap();
    fail_then_recover(dir.path(), Fault::Syncs, INTERVAL);
}

#[test]
fn segments_are_still_rolled_while_writes_fail_now_and_then() {
    // Tiny segments: faults also hit the creation of new segment files.
    let dir = tempfile::tempdir().unwrap();
    let faults = Faults::enabled();
    let options = WriterOptions { segment_size: 256, ..options_with(&faults, SyncPolicy::Always) };
    let (store, writer, reports) = start(dir.path(), options);
    for round in 0..5u64 {
        faults.fail_writes(WriteFault::Partial { bytes: 5 });
        submit_all(&writer, round * 20 + 1..=round * 20 + 20, 3);
        let injected = faults.injected();
        while faults.injected() == injected {
            thread::sleep(Duration::from_millis(5));
        }
        faults.clear();
        reports.wait_for("round durable", |p| p.synced_lsn == round * 20 + 20);
    }
    writer.close().unwrap();
    drop(store);
    assert!(segment_paths(dir.path()).len() > 5);
    let (records_read, torn, _) = recover(dir.path(), OpenMode::ReadWrite);
    assert_eq!((records_read, torn), (records(1..=100), None));
}
