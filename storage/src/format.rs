//! The bytes on disk: file names, file headers and record framing.
//!
//! Everything is little-endian. The layout is described for people in the
//! crate's README; this module is the only code that knows it.

use std::path::{Path, PathBuf};

/// The format version this build writes and the only one it reads.
pub const FORMAT_VERSION: u32 = 1;

/// First bytes of every segment file.
pub const SEGMENT_MAGIC: [u8; 4] = *b"SWLG";
/// First bytes of every snapshot file.
pub const SNAPSHOT_MAGIC: [u8; 4] = *b"SWSN";

/// Segment header: magic, version, first lsn, header crc, reserved zero.
pub const SEGMENT_HEADER_LEN: usize = 24;
/// Snapshot header: magic, version, lsn, payload length, payload crc, header crc.
pub const SNAPSHOT_HEADER_LEN: usize = 32;

/// Before each record body: body length (u32) and body crc32 (u32).
pub const FRAME_HEADER_LEN: usize = 8;
/// The fixed part of a record body: lsn, time_ms, wall_ms.
pub const BODY_FIXED_LEN: usize = 24;
/// The smallest frame on disk, which bounds how many records fit in a span.
pub const MIN_FRAME_LEN: u64 = (FRAME_HEADER_LEN + BODY_FIXED_LEN) as u64;
/// Largest payload accepted. A length field above this is nonsense, which
/// lets a reader reject a damaged length before trying to read 4 GiB.
pub const MAX_PAYLOAD_LEN: usize = 64 << 20;

const SEGMENT_EXT: &str = "seg";
const SNAPSHOT_EXT: &str = "snap";
const LSN_DIGITS: usize = 20;

/// `00000000000000000042.seg`: zero-padded so that names sort like lsns.
pub fn segment_file_name(first_lsn: u64) -> String {
    format!("{first_lsn:0LSN_DIGITS$}.{SEGMENT_EXT}")
}

/// `00000000000000000042.snap`.
pub fn snapshot_file_name(lsn: u64) -> String {
    format!("{lsn:0LSN_DIGITS$}.{SNAPSHOT_EXT}")
}

/// The temporary name a snapshot is written under before the rename.
pub fn snapshot_temp_path(final_path: &Path) -> PathBuf {
    let mut name = final_path.as_os_str().to_owned();
    name.push(".tmp");
    PathBuf::from(name)
}

/// The lsn in a segment file name, or `None` for any other file.
pub fn parse_segment_name(name: &str) -> Option<u64> {
    parse_lsn_name(name, SEGMENT_EXT)
}

/// The lsn in a snapshot file name, or `None` for any other file (temp files included).
pub fn parse_snapshot_name(name: &str) -> Option<u64> {
    parse_lsn_name(name, SNAPSHOT_EXT)
}

fn parse_lsn_name(name: &str, ext: &str) -> Option<u64> {
    let (stem, found_ext) = name.split_once('.')?;
    if found_ext != ext || stem.len() != LSN_DIGITS || !stem.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    stem.parse().ok()
}

/// What is wrong with a file header.
#[derive(Debug, PartialEq, Eq)]
pub enum HeaderProblem {
    /// Not one of our files, or damaged beyond recognition.
    BadMagic,
    /// Written by another version of this format.
    Version(u32),
    /// The header's own checksum fails.
    Checksum,
}

/// A segment file's header.
pub fn encode_segment_header(first_lsn: u64) -> [u8; SEGMENT_HEADER_LEN] {
    let mut header = [0u8; SEGMENT_HEADER_LEN];
    header[0..4].copy_from_slice(&SEGMENT_MAGIC);
    header[4..8].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    header[8..16].copy_from_slice(&first_lsn.to_le_bytes());
    let crc = crc32fast::hash(&header[0..16]);
    header[16..20].copy_from_slice(&crc.to_le_bytes());
    header
}

/// The first lsn a segment header declares. The version is checked before the
/// checksum, so that a file from a newer build says so instead of "corrupt".
pub fn decode_segment_header(header: &[u8; SEGMENT_HEADER_LEN]) -> Result<u64, HeaderProblem> {
    check_magic_and_version(header, SEGMENT_MAGIC)?;
    if read_u32(header, 16) != crc32fast::hash(&header[0..16]) {
        return Err(HeaderProblem::Checksum);
    }
    Ok(read_u64(header, 8))
}

/// What a snapshot header declares about the payload after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnapshotHeader {
    pub lsn: u64,
    pub payload_len: u64,
    pub payload_crc: u32,
}

pub fn encode_snapshot_header(fields: SnapshotHeader) -> [u8; SNAPSHOT_HEADER_LEN] {
    let mut header = [0u8; SNAPSHOT_HEADER_LEN];
    header[0..4].copy_from_slice(&SNAPSHOT_MAGIC);
    header[4..8].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    header[8..16].copy_from_slice(&fields.lsn.to_le_bytes());
    header[16..24].copy_from_slice(&fields.payload_len.to_le_bytes());
    header[24..28].copy_from_slice(&fields.payload_crc.to_le_bytes());
    let crc = crc32fast::hash(&header[0..28]);
    header[28..32].copy_from_slice(&crc.to_le_bytes());
    header
}

pub fn decode_snapshot_header(header: &[u8; SNAPSHOT_HEADER_LEN]) -> Result<SnapshotHeader, HeaderProblem> {
    check_magic_and_version(header, SNAPSHOT_MAGIC)?;
    if read_u32(header, 28) != crc32fast::hash(&header[0..28]) {
        return Err(HeaderProblem::Checksum);
    }
    Ok(SnapshotHeader {
        lsn: read_u64(header, 8),
        payload_len: read_u64(header, 16),
        payload_crc: read_u32(header, 24),
    })
}

fn check_magic_and_version(header: &[u8], magic: [u8; 4]) -> Result<(), HeaderProblem> {
    if header[0..4] != magic {
        return Err(HeaderProblem::BadMagic);
    }
    match read_u32(header, 4) {
        FORMAT_VERSION => Ok(()),
        other => Err(HeaderProblem::Version(other)),
    }
}

/// The fixed fields at the start of a record body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordMeta {
    /// Log sequence number: the first record is 1, each next one is one more.
    pub lsn: u64,
    /// Business time, opaque to this crate.
    pub time_ms: u64,
    /// Unix time in milliseconds when the record was appended, for operators' tools.
    pub wall_ms: u64,
}

/// Appends one framed record (length, crc, body) to `out`.
pub fn encode_record(out: &mut Vec<u8>, meta: RecordMeta, payload: &[u8]) {
    let body_len = BODY_FIXED_LEN + payload.len();
    let frame_start = out.len();
    out.reserve(FRAME_HEADER_LEN + body_len);
    out.extend_from_slice(&(body_len as u32).to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    let body_start = out.len();
    out.extend_from_slice(&meta.lsn.to_le_bytes());
    out.extend_from_slice(&meta.time_ms.to_le_bytes());
    out.extend_from_slice(&meta.wall_ms.to_le_bytes());
    out.extend_from_slice(payload);
    let crc = crc32fast::hash(&out[body_start..]);
    out[frame_start + 4..body_start].copy_from_slice(&crc.to_le_bytes());
}

/// A frame header as read, before the body is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    pub body_len: usize,
    pub crc: u32,
}

pub fn decode_frame_header(bytes: &[u8; FRAME_HEADER_LEN]) -> FrameHeader {
    FrameHeader { body_len: read_u32(bytes, 0) as usize, crc: read_u32(bytes, 4) }
}

/// Whether a body length could have been written by [`encode_record`].
pub fn plausible_body_len(body_len: usize) -> bool {
    (BODY_FIXED_LEN..=BODY_FIXED_LEN + MAX_PAYLOAD_LEN).contains(&body_len)
}

/// The fixed fields of a body whose length and checksum were already checked.
pub fn decode_body_meta(body: &[u8]) -> RecordMeta {
    RecordMeta { lsn: read_u64(body, 0), time_ms: read_u64(body, 8), wall_ms: read_u64(body, 16) }
}

pub fn body_checksum_ok(frame: FrameHeader, body: &[u8]) -> bool {
    crc32fast::hash(body) == frame.crc
}

fn read_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("four bytes"))
}

fn read_u64(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("eight bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_like_lsns_and_parse_back() {
        let mut names = vec![segment_file_name(10), segment_file_name(9), segment_file_name(100)];
        names.sort();
        assert_eq!(names, vec![segment_file_name(9), segment_file_name(10), segment_file_name(100)]);
        assert_eq!(names[0], "00000000000000000009.seg");
        assert_eq!(parse_segment_name("00000000000000000100.seg"), Some(100));
        assert_eq!(parse_segment_name("00000000000000000100.snap"), None);
        assert_eq!(parse_snapshot_name("00000000000000000100.snap.tmp"), None);
        assert_eq!(parse_snapshot_name("100.snap"), None);
        assert_eq!(parse_snapshot_name(&snapshot_file_name(7)), Some(7));
    }

    #[test]
    fn segment_header_round_trips_and_names_a_newer_version() {
        let header = encode_segment_header(42);
        assert_eq!(decode_segment_header(&header), Ok(42));
        let mut newer = header;
        newer[4..8].copy_from_slice(&2u32.to_le_bytes());
        assert_eq!(decode_segment_header(&newer), Err(HeaderProblem::Version(2)));
        let mut flipped = header;
        flipped[9] ^= 1;
        assert_eq!(decode_segment_header(&flipped), Err(HeaderProblem::Checksum));
        flipped[0] = b'X';
        assert_eq!(decode_segment_header(&flipped), Err(HeaderProblem::BadMagic));
    }

    #[test]
    fn snapshot_header_round_trips() {
        let fields = SnapshotHeader { lsn: 9, payload_len: 1234, payload_crc: 0xdead_beef };
        assert_eq!(decode_snapshot_header(&encode_snapshot_header(fields)), Ok(fields));
    }

    #[test]
    fn record_frame_checks_its_body() {
        let mut out = vec![0xAA];
        let meta = RecordMeta { lsn: 5, time_ms: 6, wall_ms: 7 };
        encode_record(&mut out, meta, b"hello");
        let frame = decode_frame_header(out[1..9].try_into().unwrap());
        assert_eq!(frame.body_len, BODY_FIXED_LEN + 5);
        let body = &out[9..];
        assert!(body_checksum_ok(frame, body));
        assert_eq!(decode_body_meta(body), meta);
        assert_eq!(&body[BODY_FIXED_LEN..], b"hello");
        let mut damaged = body.to_vec();
        damaged[BODY_FIXED_LEN] ^= 0x20;
        assert!(!body_checksum_ok(frame, &damaged));
    }
}
