//! Streaming the records of checked segments, one at a time.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::PathBuf;

use crate::batch::Record;
use crate::error::StorageError;
use crate::format::{self, BODY_FIXED_LEN, FRAME_HEADER_LEN, SEGMENT_HEADER_LEN};
use crate::segment::READ_BUFFER;

/// The part of a segment a scan found good.
#[derive(Clone, Debug)]
pub(crate) struct Span {
    pub path: PathBuf,
    pub first_lsn: u64,
    /// Reading stops here: what lies after was cut, or is a torn tail left in place.
    pub valid_end: u64,
}

/// The records from a given lsn on, in order, read from disk as the
/// iterator advances: a log of 10 million records is never in memory at once.
///
/// The segments were checked before this iterator was made, so an `Err` here
/// means a file changed since (a live data_dir pruned under a read-only
/// reader, say). The iterator ends after its first error.
#[derive(Debug)]
pub struct Records {
    spans: VecDeque<Span>,
    current: Option<Cursor>,
    from_lsn: u64,
    next_lsn: u64,
    failed: bool,
}

#[derive(Debug)]
struct Cursor {
    reader: BufReader<File>,
    path: PathBuf,
    offset: u64,
    end: u64,
}

impl Records {
    pub(crate) fn new(spans: Vec<Span>, from_lsn: u64) -> Records {
        let next_lsn = spans.first().map_or(from_lsn, |span| span.first_lsn);
        Records { spans: spans.into(), current: None, from_lsn, next_lsn, failed: false }
    }

    fn advance(&mut self) -> Result<Option<Record>, StorageError> {
        loop {
            let expected = self.next_lsn;
            let Some(cursor) = self.current_cursor()? else { return Ok(None) };
            if cursor.offset >= cursor.end {
                self.current = None;
                continue;
            }
            let record = read_record(cursor, expected)?;
            self.next_lsn += 1;
            if record.lsn >= self.from_lsn {
                return Ok(Some(record));
            }
        }
    }

    fn current_cursor(&mut self) -> Result<Option<&mut Cursor>, StorageError> {
        if self.current.is_none() {
            let Some(span) = self.spans.pop_front() else { return Ok(None) };
            if span.first_lsn != self.next_lsn {
                let reason = format!("segment starts at lsn {} where {} was expected", span.first_lsn, self.next_lsn);
                return Err(changed(&span.path, 0, reason));
            }
            self.current = Some(open_span(span)?);
        }
        Ok(self.current.as_mut())
    }
}

impl Iterator for Records {
    type Item = Result<Record, StorageError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let result = self.advance();
        self.failed = result.is_err();
        result.transpose()
    }
}

fn open_span(span: Span) -> Result<Cursor, StorageError> {
    let mut file = File::open(&span.path).map_err(StorageError::io(&span.path, "opening segment"))?;
    file.seek(SeekFrom::Start(SEGMENT_HEADER_LEN as u64))
        .map_err(StorageError::io(&span.path, "seeking in segment"))?;
    let reader = BufReader::with_capacity(READ_BUFFER, file);
    Ok(Cursor { reader, path: span.path, offset: SEGMENT_HEADER_LEN as u64, end: span.valid_end })
}

/// Reads the record at the cursor, checking it again: one allocation, for the payload.
fn read_record(cursor: &mut Cursor, expected_lsn: u64) -> Result<Record, StorageError> {
    let offset = cursor.offset;
    let mut head = [0u8; FRAME_HEADER_LEN + BODY_FIXED_LEN];
    read_exact(cursor, &mut head)?;
    let frame = format::decode_frame_header(head[..FRAME_HEADER_LEN].try_into().expect("frame header length"));
    if !format::plausible_body_len(frame.body_len) {
        return Err(changed(&cursor.path, offset, format!("record length {} is impossible", frame.body_len)));
    }
    let mut payload = vec![0u8; frame.body_len - BODY_FIXED_LEN];
    read_exact(cursor, &mut payload)?;
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&head[FRAME_HEADER_LEN..]);
    hasher.update(&payload);
    if hasher.finalize() != frame.crc {
        return Err(changed(&cursor.path, offset, "record checksum mismatch".to_owned()));
    }
    let meta = format::decode_body_meta(&head[FRAME_HEADER_LEN..]);
    if meta.lsn != expected_lsn {
        return Err(changed(&cursor.path, offset, format!("lsn {} where {expected_lsn} was expected", meta.lsn)));
    }
    cursor.offset += (FRAME_HEADER_LEN + frame.body_len) as u64;
    Ok(Record { lsn: meta.lsn, time_ms: meta.time_ms, wall_ms: meta.wall_ms, payload })
}

fn read_exact(cursor: &mut Cursor, buf: &mut [u8]) -> Result<(), StorageError> {
    cursor.reader.read_exact(buf).map_err(StorageError::io(&cursor.path, "reading segment"))
}

fn changed(path: &std::path::Path, offset: u64, reason: String) -> StorageError {
    StorageError::Corrupt {
        path: path.to_owned(),
        offset,
        reason: format!("{reason} (the file changed after it was checked)"),
    }
}
