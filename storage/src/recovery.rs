//! Deciding what a data_dir holds: which snapshot to load, which records to
//! replay after it, and whether the damage found is a torn tail (cut it) or
//! corruption (refuse to open).

use std::fs::{self, File, OpenOptions};
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::StorageError;
use crate::format::{self, HeaderProblem, SEGMENT_HEADER_LEN};
use crate::fsutil::sync_dir;
use crate::reader::{Records, Span};
use crate::segment::{self, DamageKind, SegmentFile, SegmentScan};
use crate::snapshot::{SkippedSnapshot, SnapshotData};
use crate::OpenMode;

/// What [`Store::recover`](crate::Store::recover) found: the state to start
/// from and the records to apply to it, in order.
#[derive(Debug)]
pub struct Recovery {
    /// The newest valid snapshot, or `None` when there is none (start from
    /// an empty state and replay the log from lsn 1).
    pub snapshot: Option<SnapshotData>,
    /// Every record after the snapshot's lsn, streamed from disk.
    pub records: Records,
    /// The lsn the next appended record must carry: pass it to `start_writer`.
    pub next_lsn: u64,
    pub report: RecoveryReport,
}

/// What recovery found and did, for the server's log and metrics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Newer snapshots that failed their checks, newest first.
    pub skipped_snapshots: Vec<SkippedSnapshot>,
    pub torn_tail: Option<TornTail>,
    /// Segments read from end to end (those holding records after the snapshot).
    pub segments_checked: usize,
    /// How many records `records` will yield.
    pub records_to_replay: u64,
    /// The last lsn in the log after any cut; 0 when the log is empty.
    pub last_lsn: u64,
}

/// An incomplete or damaged end of the last segment, with nothing valid after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TornTail {
    pub path: PathBuf,
    /// Where the last good record ends: the file was (or would be) cut here.
    pub offset: u64,
    /// Bytes after `offset`.
    pub bytes: u64,
    pub reason: String,
    pub action: TailAction,
}

/// What was done with a torn tail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TailAction {
    /// Read-write: the file was cut back to `offset`.
    Truncated,
    /// Read-write: not even the header was complete, so the file was removed.
    Removed,
    /// Read-only: nothing was changed; reading stopped at `offset`.
    LeftInPlace,
}

/// Where the writer continues after recovery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Tail {
    /// The last segment, unless the log is empty (or its only file was removed).
    pub segment: Option<TailSegment>,
    pub next_lsn: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TailSegment {
    pub path: PathBuf,
    pub first_lsn: u64,
    pub len: u64,
}

/// The checked part of the log, from the segment holding a given lsn on.
#[derive(Debug)]
pub(crate) struct LogCheck {
    pub spans: Vec<Span>,
    pub torn_tail: Option<TornTail>,
    pub segments_checked: usize,
    pub records_from: u64,
    pub last_lsn: u64,
    pub tail: Tail,
}

/// Builds a [`Recovery`] from a loaded snapshot and the log after it.
pub(crate) fn recover(
    log_dir: &Path,
    newest: (Option<SnapshotData>, Vec<SkippedSnapshot>),
    mode: OpenMode,
) -> Result<(Recovery, Tail), StorageError> {
    let (snapshot, skipped_snapshots) = newest;
    let from_lsn = snapshot.as_ref().map_or(0, |snapshot| snapshot.lsn) + 1;
    let check = check_log(log_dir, from_lsn, mode)?;
    if check.last_lsn + 1 < from_lsn {
        let detail =
            format!("the snapshot needs records from lsn {from_lsn}, but the log ends at lsn {}", check.last_lsn);
        return Err(StorageError::MissingSegments { detail });
    }
    let report = RecoveryReport {
        skipped_snapshots,
        torn_tail: check.torn_tail,
        segments_checked: check.segments_checked,
        records_to_replay: check.records_from,
        last_lsn: check.last_lsn,
    };
    let records = Records::new(check.spans, from_lsn);
    let recovery = Recovery { snapshot, records, next_lsn: check.tail.next_lsn, report };
    Ok((recovery, check.tail))
}

/// Reads every segment from the one holding `from_lsn` to the last, checking
/// each record and the lsns across segments. A torn tail is cut in
/// read-write mode and left alone in read-only mode; any other damage is an
/// error naming the file and offset.
pub(crate) fn check_log(log_dir: &Path, from_lsn: u64, mode: OpenMode) -> Result<LogCheck, StorageError> {
    let segments = segment::list_segments(log_dir)?;
    let Some(start) = segments.iter().rposition(|segment| segment.first_lsn <= from_lsn) else {
        return empty_or_missing(&segments, from_lsn);
    };
    check_versions(&segments[..start])?;
    let mut scans: Vec<SegmentScan> = Vec::new();
    let mut torn_tail = None;
    for (index, segment) in segments.iter().enumerate().skip(start) {
        let scan = segment::scan_segment(segment)?;
        check_follows(scans.last(), &scan)?;
        if let Some(damage) = &scan.damage {
            let is_last = index + 1 == segments.len();
            if !is_last || damage.kind != DamageKind::Tail {
                return Err(corrupt_at(&scan, is_last));
            }
            torn_tail = Some(handle_torn_tail(&scan, mode)?);
        }
        scans.push(scan);
    }
    Ok(summarize(scans, torn_tail, from_lsn))
}

/// No segment holds `from_lsn`: fine for an empty log read from its start.
fn empty_or_missing(segments: &[SegmentFile], from_lsn: u64) -> Result<LogCheck, StorageError> {
    let detail = match segments.first() {
        None if from_lsn <= 1 => {
            let tail = Tail { segment: None, next_lsn: 1 };
            return Ok(LogCheck {
                spans: Vec::new(),
                torn_tail: None,
                segments_checked: 0,
                records_from: 0,
                last_lsn: 0,
                tail,
            });
        }
        None => format!("records from lsn {from_lsn} are needed, but the log is empty"),
        Some(oldest) => format!(
            "records from lsn {from_lsn} are needed, but the oldest segment {} starts at lsn {}",
            oldest.path.display(),
            oldest.first_lsn
        ),
    };
    Err(StorageError::MissingSegments { detail })
}

/// Segments before the needed ones are not read, but one from another format
/// version still means this build is the wrong one for the data_dir.
fn check_versions(segments: &[SegmentFile]) -> Result<(), StorageError> {
    for segment in segments {
        let mut header = [0u8; SEGMENT_HEADER_LEN];
        let read = File::open(&segment.path).and_then(|mut file| file.read_exact(&mut header));
        if read.is_ok() {
            if let Err(HeaderProblem::Version(found)) = format::decode_segment_header(&header) {
                return Err(segment::unknown_version(&segment.path, found));
            }
        }
    }
    Ok(())
}

/// A segment must start right after the previous one's last record.
fn check_follows(previous: Option<&SegmentScan>, scan: &SegmentScan) -> Result<(), StorageError> {
    let Some(previous) = previous else { return Ok(()) };
    let expected = previous.last_lsn + 1;
    if scan.first_lsn == expected {
        return Ok(());
    }
    let what = if scan.first_lsn > expected { "a segment is missing" } else { "lsns repeat" };
    let reason = format!(
        "segment starts at lsn {} but {} ends at lsn {} ({what})",
        scan.first_lsn,
        previous.path.display(),
        previous.last_lsn
    );
    Err(StorageError::Corrupt { path: scan.path.clone(), offset: 0, reason })
}

fn corrupt_at(scan: &SegmentScan, is_last: bool) -> StorageError {
    let damage = scan.damage.as_ref().expect("called for a damaged segment");
    let mut reason = damage.reason.clone();
    if !is_last {
        reason.push_str(" (in a segment that is not the last, so it cannot be a torn tail)");
    }
    StorageError::Corrupt { path: scan.path.clone(), offset: damage.offset, reason }
}

/// Cuts a torn tail in read-write mode; reports it in either mode.
fn handle_torn_tail(scan: &SegmentScan, mode: OpenMode) -> Result<TornTail, StorageError> {
    let damage = scan.damage.as_ref().expect("called for a damaged segment");
    let action = match (mode, scan.valid_end) {
        (OpenMode::ReadOnly, _) => TailAction::LeftInPlace,
        (OpenMode::ReadWrite, 0) => remove_segment(&scan.path)?,
        (OpenMode::ReadWrite, end) => truncate_segment(&scan.path, end)?,
    };
    let offset = scan.valid_end;
    Ok(TornTail {
        path: scan.path.clone(),
        offset,
        bytes: scan.file_len - offset,
        reason: damage.reason.clone(),
        action,
    })
}

fn truncate_segment(path: &Path, len: u64) -> Result<TailAction, StorageError> {
    let file =
        OpenOptions::new().write(true).open(path).map_err(StorageError::io(path, "opening segment to cut it"))?;
    file.set_len(len).map_err(StorageError::io(path, "cutting torn tail"))?;
    file.sync_all().map_err(StorageError::io(path, "syncing cut segment"))?;
    Ok(TailAction::Truncated)
}

fn remove_segment(path: &Path) -> Result<TailAction, StorageError> {
    fs::remove_file(path).map_err(StorageError::io(path, "removing segment with a torn header"))?;
    if let Some(dir) = path.parent() {
        sync_dir(dir)?;
    }
    Ok(TailAction::Removed)
}

fn summarize(scans: Vec<SegmentScan>, torn_tail: Option<TornTail>, from_lsn: u64) -> LogCheck {
    let last = scans.last().expect("at least the segment holding from_lsn");
    let last_lsn = last.last_lsn;
    let removed = torn_tail.as_ref().is_some_and(|tail| tail.action == TailAction::Removed);
    let tail_segment = (!removed && last.valid_end > 0).then(|| TailSegment {
        path: last.path.clone(),
        first_lsn: last.first_lsn,
        len: last.valid_end,
    });
    let records_from = scans.iter().map(|scan| records_at_or_after(scan, from_lsn)).sum();
    let segments_checked = scans.len();
    let spans = scans
        .into_iter()
        .filter(|scan| scan.valid_end > 0)
        .map(|scan| Span { path: scan.path, first_lsn: scan.first_lsn, valid_end: scan.valid_end })
        .collect();
    let tail = Tail { segment: tail_segment, next_lsn: last_lsn + 1 };
    LogCheck { spans, torn_tail, segments_checked, records_from, last_lsn, tail }
}

fn records_at_or_after(scan: &SegmentScan, from_lsn: u64) -> u64 {
    let first = scan.first_lsn.max(from_lsn);
    (scan.last_lsn + 1).saturating_sub(first)
}
