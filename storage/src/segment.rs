//! Finding segment files and checking one from end to end.
//!
//! A scan reads every frame, checks its length, checksum and lsn, and stops at
//! the first one that fails. It then looks past the damage for a valid record:
//! whether one exists decides between a torn tail (nothing valid after it,
//! safe to cut) and corruption in the middle (valid records after it, which
//! must never be dropped silently). The scan only describes; the caller
//! decides what the damage means for its segment's place in the log.

use std::fs::{self, File};
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::error::StorageError;
use crate::format::{self, HeaderProblem, FRAME_HEADER_LEN, MIN_FRAME_LEN, SEGMENT_HEADER_LEN};

/// Large enough that a scan makes few read calls, small enough to not matter.
pub(crate) const READ_BUFFER: usize = 256 << 10;

/// A segment file, known so far only by its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SegmentFile {
    pub path: PathBuf,
    /// The lsn in the file name.
    pub first_lsn: u64,
}

/// The segment files in `log_dir`, oldest first. Other files are ignored.
pub(crate) fn list_segments(log_dir: &Path) -> Result<Vec<SegmentFile>, StorageError> {
    let mut segments = Vec::new();
    let entries = match fs::read_dir(log_dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(segments),
        Err(err) => return Err(StorageError::io(log_dir, "listing segments")(err)),
    };
    for entry in entries {
        let entry = entry.map_err(StorageError::io(log_dir, "listing segments"))?;
        let name = entry.file_name();
        if let Some(first_lsn) = name.to_str().and_then(format::parse_segment_name) {
            segments.push(SegmentFile { path: entry.path(), first_lsn });
        }
    }
    segments.sort_by_key(|segment| segment.first_lsn);
    Ok(segments)
}

/// What a scan found wrong, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Damage {
    /// Byte offset of the first bad frame (0: the header).
    pub offset: u64,
    pub reason: String,
    pub kind: DamageKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DamageKind {
    /// Nothing valid follows the damage: a torn tail if this is the last segment.
    Tail,
    /// A valid record with a higher lsn follows the damage.
    FollowedByValidData,
    /// A record with a valid checksum carries the wrong lsn: a gap or a repeat.
    LsnOutOfOrder,
}

/// What a scan of one segment found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SegmentScan {
    pub path: PathBuf,
    pub first_lsn: u64,
    /// The last good record's lsn; `first_lsn - 1` when there is none.
    pub last_lsn: u64,
    pub records: u64,
    /// Where the last good record ends (0 when even the header is bad).
    pub valid_end: u64,
    pub file_len: u64,
    pub damage: Option<Damage>,
}

/// Reads the whole segment. Fails only on I/O errors and on a header from
/// another format version; everything else is described in the result.
pub(crate) fn scan_segment(segment: &SegmentFile) -> Result<SegmentScan, StorageError> {
    let path = &segment.path;
    let mut file = File::open(path).map_err(StorageError::io(path, "opening segment"))?;
    let file_len = file.metadata().map_err(StorageError::io(path, "reading segment size"))?.len();
    let mut scan = SegmentScan {
        path: path.clone(),
        first_lsn: segment.first_lsn,
        last_lsn: segment.first_lsn.saturating_sub(1),
        records: 0,
        valid_end: 0,
        file_len,
        damage: None,
    };
    if let Some(reason) = check_header(&mut file, segment, file_len)? {
        scan.damage = Some(classify(&mut file, &scan, 0, reason)?);
        return Ok(scan);
    }
    scan.valid_end = SEGMENT_HEADER_LEN as u64;
    let found = read_frames(&mut file, &mut scan)?;
    if let Some((offset, reason, kind)) = found {
        scan.damage = Some(match kind {
            DamageKind::LsnOutOfOrder => Damage { offset, reason, kind },
            _ => classify(&mut file, &scan, offset, reason)?,
        });
    }
    Ok(scan)
}

/// `Some(reason)` when the header is damaged or incomplete.
fn check_header(file: &mut File, segment: &SegmentFile, file_len: u64) -> Result<Option<String>, StorageError> {
    if file_len < SEGMENT_HEADER_LEN as u64 {
        return Ok(Some(format!("incomplete header ({file_len} bytes)")));
    }
    let mut header = [0u8; SEGMENT_HEADER_LEN];
    file.read_exact(&mut header).map_err(StorageError::io(&segment.path, "reading segment header"))?;
    Ok(match format::decode_segment_header(&header) {
        Ok(lsn) if lsn == segment.first_lsn => None,
        Ok(lsn) => Some(format!("header says first lsn {lsn}, file name says {}", segment.first_lsn)),
        Err(HeaderProblem::Version(found)) => return Err(unknown_version(&segment.path, found)),
        Err(HeaderProblem::BadMagic) => Some("not a segment file (bad magic)".to_owned()),
        Err(HeaderProblem::Checksum) => Some("header checksum mismatch".to_owned()),
    })
}

pub(crate) fn unknown_version(path: &Path, found: u32) -> StorageError {
    StorageError::UnknownVersion { path: path.to_owned(), found, supported: format::FORMAT_VERSION }
}

type FrameFailure = (u64, String, DamageKind);

/// Reads frames after the header, advancing `scan`, until the end or the
/// first bad frame, which it returns.
fn read_frames(file: &mut File, scan: &mut SegmentScan) -> Result<Option<FrameFailure>, StorageError> {
    let path = scan.path.clone();
    let mut reader = BufReader::with_capacity(READ_BUFFER, file);
    let mut body = Vec::new();
    loop {
        let offset = scan.valid_end;
        let remaining = scan.file_len - offset;
        if remaining == 0 {
            return Ok(None);
        }
        if remaining < FRAME_HEADER_LEN as u64 {
            return Ok(Some((offset, format!("incomplete frame header ({remaining} bytes)"), DamageKind::Tail)));
        }
        let mut head = [0u8; FRAME_HEADER_LEN];
        reader.read_exact(&mut head).map_err(StorageError::io(&path, "reading segment"))?;
        let frame = format::decode_frame_header(&head);
        if !format::plausible_body_len(frame.body_len) {
            return Ok(Some((offset, format!("record length {} is impossible", frame.body_len), DamageKind::Tail)));
        }
        let frame_len = (FRAME_HEADER_LEN + frame.body_len) as u64;
        if frame_len > remaining {
            let reason = format!("incomplete record ({remaining} of {frame_len} bytes)");
            return Ok(Some((offset, reason, DamageKind::Tail)));
        }
        body.resize(frame.body_len, 0);
        reader.read_exact(&mut body).map_err(StorageError::io(&path, "reading segment"))?;
        if !format::body_checksum_ok(frame, &body) {
            return Ok(Some((offset, "record checksum mismatch".to_owned(), DamageKind::Tail)));
        }
        let lsn = format::decode_body_meta(&body).lsn;
        if lsn != scan.last_lsn + 1 {
            let reason = format!("record has lsn {lsn} where {} was expected", scan.last_lsn + 1);
            return Ok(Some((offset, reason, DamageKind::LsnOutOfOrder)));
        }
        scan.last_lsn = lsn;
        scan.records += 1;
        scan.valid_end = offset + frame_len;
    }
}

/// Damage at `offset`: a torn tail, unless a valid record follows it.
fn classify(file: &mut File, scan: &SegmentScan, offset: u64, reason: String) -> Result<Damage, StorageError> {
    let follows = valid_record_after(file, scan, offset)?;
    let kind = match follows {
        Some(_) => DamageKind::FollowedByValidData,
        None => DamageKind::Tail,
    };
    let reason = match follows {
        Some(at) => format!("{reason}; a valid record follows at byte offset {at}"),
        None => reason,
    };
    Ok(Damage { offset, reason, kind })
}

/// The offset of a valid record after the damage at `bad_offset`, if any.
///
/// Tries every byte offset, since a damaged length field says nothing about
/// where the next record starts. A candidate must have a plausible length
/// that fits in the file, an lsn above the last good one but no higher than
/// the records that could fit between, and a matching checksum; the lsn
/// bound makes random bytes fail before any checksum is computed, so the
/// search stays linear. Reads the rest of the file into memory: at most one
/// segment, and only when the segment is damaged.
fn valid_record_after(file: &mut File, scan: &SegmentScan, bad_offset: u64) -> Result<Option<u64>, StorageError> {
    let path = &scan.path;
    let mut rest = Vec::new();
    file.seek(SeekFrom::Start(bad_offset)).map_err(StorageError::io(path, "seeking in segment"))?;
    file.read_to_end(&mut rest).map_err(StorageError::io(path, "reading segment"))?;
    let last_good = scan.last_lsn;
    for start in 1..rest.len() {
        let max_lsn = last_good + 1 + start as u64 / MIN_FRAME_LEN;
        if is_valid_frame(&rest[start..], last_good, max_lsn) {
            return Ok(Some(bad_offset + start as u64));
        }
    }
    Ok(None)
}

fn is_valid_frame(bytes: &[u8], last_good: u64, max_lsn: u64) -> bool {
    let Some(head) = bytes.get(..FRAME_HEADER_LEN) else { return false };
    let frame = format::decode_frame_header(head.try_into().expect("frame header length"));
    if !format::plausible_body_len(frame.body_len) {
        return false;
    }
    let Some(body) = bytes.get(FRAME_HEADER_LEN..FRAME_HEADER_LEN + frame.body_len) else { return false };
    let lsn = format::decode_body_meta(body).lsn;
    lsn > last_good && lsn <= max_lsn && format::body_checksum_ok(frame, body)
}

/// What pruning the log removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct PrunedSegments {
    pub paths: Vec<PathBuf>,
    pub bytes: u64,
}

/// Deletes the segments whose records are all at or below `keep_lsn`.
///
/// A segment's last lsn is known without reading it: it is one below the
/// next segment's first. So a segment goes only when the next one exists and
/// starts at or below `keep_lsn + 1`, and the last segment (the one the
/// writer appends to) is never deleted.
pub(crate) fn prune_segments(log_dir: &Path, keep_lsn: u64) -> Result<PrunedSegments, StorageError> {
    let segments = list_segments(log_dir)?;
    let mut pruned = PrunedSegments::default();
    for pair in segments.windows(2) {
        let (old, next) = (&pair[0], &pair[1]);
        if next.first_lsn > keep_lsn + 1 {
            break;
        }
        let len = fs::metadata(&old.path).map_err(StorageError::io(&old.path, "reading segment size"))?.len();
        fs::remove_file(&old.path).map_err(StorageError::io(&old.path, "deleting segment"))?;
        pruned.bytes += len;
        pruned.paths.push(old.path.clone());
    }
    Ok(pruned)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::format::RecordMeta;

    fn write_segment(dir: &Path, first_lsn: u64, count: u64) -> SegmentFile {
        let path = dir.join(format::segment_file_name(first_lsn));
        let mut bytes = format::encode_segment_header(first_lsn).to_vec();
        for lsn in first_lsn..first_lsn + count {
            format::encode_record(&mut bytes, RecordMeta { lsn, time_ms: 1, wall_ms: 2 }, &[lsn as u8; 40]);
        }
        File::create(&path).unwrap().write_all(&bytes).unwrap();
        SegmentFile { path, first_lsn }
    }

    fn frame_len() -> u64 {
        MIN_FRAME_LEN + 40
    }

    #[test]
    fn a_clean_segment_scans_without_damage() {
        let dir = tempfile::tempdir().unwrap();
        let segment = write_segment(dir.path(), 5, 10);
        let scan = scan_segment(&segment).unwrap();
        assert_eq!((scan.first_lsn, scan.last_lsn, scan.records), (5, 14, 10));
        assert_eq!(scan.valid_end, scan.file_len);
        assert_eq!(scan.damage, None);
    }

    #[test]
    fn a_cut_last_record_is_a_tail() {
        let dir = tempfile::tempdir().unwrap();
        let segment = write_segment(dir.path(), 1, 3);
        let len = fs::metadata(&segment.path).unwrap().len();
        File::options().write(true).open(&segment.path).unwrap().set_len(len - 5).unwrap();
        let scan = scan_segment(&segment).unwrap();
        assert_eq!(scan.records, 2);
        let damage = scan.damage.unwrap();
        assert_eq!((damage.offset, damage.kind), (SEGMENT_HEADER_LEN as u64 + 2 * frame_len(), DamageKind::Tail));
    }

    #[test]
    fn a_damaged_length_in_the_middle_is_followed_by_valid_data() {
        let dir = tempfile::tempdir().unwrap();
        let segment = write_segment(dir.path(), 1, 10);
        let mut bytes = fs::read(&segment.path).unwrap();
        let third = SEGMENT_HEADER_LEN + 2 * frame_len() as usize;
        bytes[third + 1] ^= 0x40;
        fs::write(&segment.path, &bytes).unwrap();
        let damage = scan_segment(&segment).unwrap().damage.unwrap();
        assert_eq!((damage.offset, damage.kind), (third as u64, DamageKind::FollowedByValidData));
    }

    #[test]
    fn pruning_keeps_every_segment_with_a_record_above_keep_lsn() {
        let dir = tempfile::tempdir().unwrap();
        for first in [1, 11, 21, 31] {
            write_segment(dir.path(), first, 10);
        }
        let firsts = |dir: &Path| list_segments(dir).unwrap().iter().map(|s| s.first_lsn).collect::<Vec<_>>();
        assert_eq!(prune_segments(dir.path(), 9).unwrap().paths.len(), 0);
        assert_eq!(prune_segments(dir.path(), 10).unwrap().paths.len(), 1);
        assert_eq!(firsts(dir.path()), vec![11, 21, 31]);
        // Everything is covered, yet the last segment stays: the writer appends to it.
        prune_segments(dir.path(), 1000).unwrap();
        assert_eq!(firsts(dir.path()), vec![31]);
    }

    #[test]
    fn a_header_from_another_version_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let segment = write_segment(dir.path(), 1, 1);
        let mut bytes = fs::read(&segment.path).unwrap();
        bytes[4..8].copy_from_slice(&9u32.to_le_bytes());
        fs::write(&segment.path, &bytes).unwrap();
        let err = scan_segment(&segment).unwrap_err();
        assert!(matches!(err, StorageError::UnknownVersion { found: 9, supported: 1, .. }), "{err}");
    }
}
