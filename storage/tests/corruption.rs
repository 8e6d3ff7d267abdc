//! The corruption rules: a torn tail is cut (read-write) or only reported
//! (read-only); damage with valid data after it, or in a segment that is not
//! the last, fails the open with the file and byte offset; so does an lsn
//! gap or repeat.

mod common;

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use common::*;
use switchboard_storage::{OpenMode, StorageError, Store, SyncPolicy, TailAction, WriterOptions};

/// A log of 300 records over several segments; returns its last segment.
fn log_with_segments(dir: &Path) -> PathBuf {
    append(dir, 1..=300, 5, small_segments(SyncPolicy::None));
    let segments = segment_paths(dir);
    assert!(segments.len() >= 4);
    segments.last().unwrap().clone()
}

fn recover_err(dir: &Path, mode: OpenMode) -> StorageError {
    let store = Store::open(dir, mode).unwrap();
    store.recover().unwrap_err()
}

/// A segment's first and last lsn, from the listing.
fn lsns_in(dir: &Path, segment: &Path) -> (u64, u64) {
    let store = Store::open(dir, OpenMode::ReadOnly).unwrap();
    let info = store.segments().unwrap().into_iter().find(|info| info.path == segment).unwrap();
    (info.first_lsn, info.last_lsn)
}

#[test]
fn a_tail_cut_mid_record_is_left_alone_read_only_and_cut_read_write() {
    let dir = tempfile::tempdir().unwrap();
    let last = log_with_segments(dir.path());
    let offsets = frame_offsets(&last);
    let last_frame = *offsets.last().unwrap();
    let torn_len = last_frame + 11;
    OpenOptions::new().write(true).open(&last).unwrap().set_len(torn_len).unwrap();

    let (records_read, torn, next_lsn) = recover(dir.path(), OpenMode::ReadOnly);
    let torn = torn.expect("read-only reports the torn tail");
    assert_eq!(
        (torn.path.clone(), torn.offset, torn.bytes, torn.action),
        (last.clone(), last_frame, 11, TailAction::LeftInPlace)
    );
    assert!(torn.reason.contains("incomplete"), "{}", torn.reason);
    assert_eq!(file_len(&last), torn_len, "read-only must not cut");
    assert_eq!((records_read, next_lsn), (records(1..=299), 300));

    let (records_read, torn, next_lsn) = recover(dir.path(), OpenMode::ReadWrite);
    let torn = torn.expect("read-write reports the cut");
    assert_eq!(
        (torn.path, torn.offset, torn.bytes, torn.action),
        (last.clone(), last_frame, 11, TailAction::Truncated)
    );
    assert_eq!(file_len(&last), last_frame, "cut back to the end of the last good record");
    assert_eq!((records_read, next_lsn), (records(1..=299), 300));

    // The log goes on from there as if the torn record had never been written.
    append(dir.path(), 300..=310, 3, small_segments(SyncPolicy::Always));
    assert_eq!(read_all(dir.path()), records(1..=310));
    assert_eq!(recover(dir.path(), OpenMode::ReadWrite).1, None);
}

#[test]
fn garbage_after_the_last_record_is_cut_back() {
    let dir = tempfile::tempdir().unwrap();
    let last = log_with_segments(dir.path());
    let good_len = file_len(&last);
    let garbage: Vec<u8> = (0..100u32).map(|i| (i * 97 + 13) as u8).collect();
    OpenOptions::new().append(true).open(&last).unwrap().write_all(&garbage).unwrap();

    let (_, torn, _) = recover(dir.path(), OpenMode::ReadOnly);
    assert_eq!(torn.map(|t| (t.offset, t.bytes, t.action)), Some((good_len, 100, TailAction::LeftInPlace)));
    assert_eq!(file_len(&last), good_len + 100);

    let (records_read, torn, _) = recover(dir.path(), OpenMode::ReadWrite);
    assert_eq!(torn.map(|t| (t.path, t.offset, t.bytes)), Some((last.clone(), good_len, 100)));
    assert_eq!(file_len(&last), good_len);
    assert_eq!(records_read, records(1..=300));
}

#[test]
fn a_bad_checksum_on_the_very_last_record_is_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let last = log_with_segments(dir.path());
    let last_frame = *frame_offsets(&last).last().unwrap();
    flip_byte(&last, file_len(&last) - 1);
    let (records_read, torn, _) = recover(dir.path(), OpenMode::ReadWrite);
    assert_eq!(torn.map(|t| (t.offset, t.action)), Some((last_frame, TailAction::Truncated)));
    assert_eq!(records_read, records(1..=299));
}

/// Flips one byte of a record in the middle of `segment` and checks that
/// both modes refuse, naming the file and the record's offset, and that
/// nothing was cut.
fn assert_middle_flip_refused(dir: &Path, segment: &Path, byte_in_frame: u64) {
    let offsets = frame_offsets(segment);
    let bad_frame = offsets[offsets.len() / 2];
    let len_before = file_len(segment);
    flip_byte(segment, bad_frame + byte_in_frame);
    for mode in [OpenMode::ReadOnly, OpenMode::ReadWrite] {
        let err = recover_err(dir, mode);
        let message = err.to_string();
        assert!(
            matches!(&err, StorageError::Corrupt { path, offset, .. } if path == segment && *offset == bad_frame),
            "{err:?}"
        );
        assert!(message.contains(&segment.display().to_string()), "{message}");
        assert!(message.contains(&format!("byte offset {bad_frame}")), "{message}");
        assert_eq!(file_len(segment), len_before, "nothing may be cut");
    }
}

#[test]
fn a_flipped_payload_byte_in_the_middle_of_the_last_segment_fails_open() {
    let dir = tempfile::tempdir().unwrap();
    append(dir.path(), 1..=40, 40, small_segments(SyncPolicy::None)); // a single segment
    let segment = segment_paths(dir.path()).pop().unwrap();
    // Byte 8 + 24 + 1 is inside the payload (every record here has one of 2 bytes or more).
    assert_middle_flip_refused(dir.path(), &segment, 8 + 24 + 1);
}

#[test]
fn a_flipped_length_byte_in_the_middle_of_the_last_segment_fails_open() {
    let dir = tempfile::tempdir().unwrap();
    append(dir.path(), 1..=40, 40, small_segments(SyncPolicy::None));
    let segment = segment_paths(dir.path()).pop().unwrap();
    assert_middle_flip_refused(dir.path(), &segment, 0);
}

#[test]
fn a_length_made_huge_in_the_middle_still_fails_open() {
    let dir = tempfile::tempdir().unwrap();
    append(dir.path(), 1..=40, 40, small_segments(SyncPolicy::None));
    let segment = segment_paths(dir.path()).pop().unwrap();
    // The high byte of the length: the record now claims to run past the end of the file.
    assert_middle_flip_refused(dir.path(), &segment, 2);
}

#[test]
fn damage_in_a_segment_that_is_not_the_last_fails_open_even_at_its_end() {
    let dir = tempfile::tempdir().unwrap();
    log_with_segments(dir.path());
    let second = segment_paths(dir.path())[1].clone();
    let last_frame = *frame_offsets(&second).last().unwrap();
    flip_byte(&second, file_len(&second) - 1);
    let err = recover_err(dir.path(), OpenMode::ReadWrite);
    assert!(
        matches!(&err, StorageError::Corrupt { path, offset, .. } if *path == second && *offset == last_frame),
        "{err}"
    );
    assert!(err.to_string().contains("not the last"), "{err}");
}

#[test]
fn a_missing_segment_in_the_middle_is_a_gap() {
    let dir = tempfile::tempdir().unwrap();
    log_with_segments(dir.path());
    let segments = segment_paths(dir.path());
    fs::remove_file(&segments[1]).unwrap();
    let err = recover_err(dir.path(), OpenMode::ReadOnly);
    assert!(matches!(&err, StorageError::Corrupt { path, offset: 0, .. } if *path == segments[2]), "{err}");
    assert!(err.to_string().contains("a segment is missing"), "{err}");
}

#[test]
fn a_repeated_lsn_across_segments_fails_open() {
    let dir = tempfile::tempdir().unwrap();
    log_with_segments(dir.path());
    let second_first = lsns_in(dir.path(), &segment_paths(dir.path())[1]).0;
    // The same records cut into smaller segments: one of them starts inside
    // this log's first segment, so dropped in beside it, it repeats lsns.
    let other = tempfile::tempdir().unwrap();
    let smaller = WriterOptions { segment_size: 512, ..small_segments(SyncPolicy::None) };
    append(other.path(), 1..=300, 5, smaller);
    let intruder = segment_paths(other.path())
        .into_iter()
        .find(|path| (2..second_first).contains(&lsns_in(other.path(), path).0))
        .expect("a smaller segment starting inside the first one");
    let copied = dir.path().join("log").join(intruder.file_name().unwrap());
    fs::copy(&intruder, &copied).unwrap();

    let err = recover_err(dir.path(), OpenMode::ReadOnly);
    assert!(matches!(&err, StorageError::Corrupt { path, offset: 0, .. } if *path == copied), "{err}");
    assert!(err.to_string().contains("lsns repeat"), "{err}");
}

#[test]
fn a_record_with_a_valid_checksum_but_the_wrong_lsn_fails_open() {
    let dir = tempfile::tempdir().unwrap();
    append(dir.path(), 1..=10, 10, small_segments(SyncPolicy::None));
    let segment = segment_paths(dir.path()).pop().unwrap();
    // A well-formed record 12, taken from another log, appended after record 10.
    let other = tempfile::tempdir().unwrap();
    append(other.path(), 1..=12, 12, small_segments(SyncPolicy::None));
    let source = segment_paths(other.path()).pop().unwrap();
    let twelfth = frame_offsets(&source)[11] as usize;
    let mut log = fs::read(&segment).unwrap();
    let end = log.len() as u64;
    log.extend_from_slice(&fs::read(&source).unwrap()[twelfth..]);
    fs::write(&segment, log).unwrap();

    let err = recover_err(dir.path(), OpenMode::ReadWrite);
    assert!(matches!(&err, StorageError::Corrupt { offset, .. } if *offset == end), "{err}");
    assert!(err.to_string().contains("lsn 12 where 11 was expected"), "{err}");
}

#[test]
fn a_segment_from_another_format_version_is_named_with_both_versions() {
    let dir = tempfile::tempdir().unwrap();
    append(dir.path(), 1..=10, 10, small_segments(SyncPolicy::None));
    let segment = segment_paths(dir.path()).pop().unwrap();
    let mut bytes = fs::read(&segment).unwrap();
    bytes[4..8].copy_from_slice(&7u32.to_le_bytes());
    fs::write(&segment, bytes).unwrap();
    let err = recover_err(dir.path(), OpenMode::ReadWrite);
    assert!(matches!(&err, StorageError::UnknownVersion { found: 7, supported: 1, .. }), "{err}");
    let message = err.to_string();
    assert!(message.contains(&segment.display().to_string()) && message.contains("version 7"), "{message}");
}

#[test]
fn a_last_segment_with_a_torn_header_is_removed_and_recreated() {
    let dir = tempfile::tempdir().unwrap();
    append(dir.path(), 1..=300, 5, small_segments(SyncPolicy::None));
    let segments = segment_paths(dir.path());
    let last = segments.last().unwrap();
    let (first, _) = lsns_in(dir.path(), last);
    OpenOptions::new().write(true).open(last).unwrap().set_len(10).unwrap();

    let (records_read, torn, next_lsn) = recover(dir.path(), OpenMode::ReadWrite);
    assert_eq!(torn.map(|t| (t.offset, t.bytes, t.action)), Some((0, 10, TailAction::Removed)));
    assert!(!last.exists());
    assert_eq!((records_read.len() as u64, next_lsn), (first - 1, first));

    append(dir.path(), first..=first + 5, 2, small_segments(SyncPolicy::Always));
    assert_eq!(read_all(dir.path()), records(1..=first + 5));
}
