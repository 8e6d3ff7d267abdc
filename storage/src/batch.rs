//! Records and batches of records.

use crate::error::StorageError;
use crate::format::{self, RecordMeta, MAX_PAYLOAD_LEN};

/// One record of the log: what the server appended, read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Log sequence number: the first record is 1, each next one is one more.
    pub lsn: u64,
    /// Business time, opaque to this crate.
    pub time_ms: u64,
    /// Unix time in milliseconds when the record was appended.
    pub wall_ms: u64,
    /// The record itself, opaque to this crate.
    pub payload: Vec<u8>,
}

impl Record {
    /// The fixed fields, as [`Batch::push`] takes them.
    pub fn meta(&self) -> RecordMeta {
        RecordMeta { lsn: self.lsn, time_ms: self.time_ms, wall_ms: self.wall_ms }
    }
}

/// Records already encoded in the on-disk framing, in one buffer.
///
/// The hot path pushes each record's payload straight into the batch, so a
/// batch costs one growing allocation however many records it holds, and the
/// writer thread writes the buffer as it is. Lsns must rise by exactly 1
/// within a batch and from one submitted batch to the next.
#[derive(Clone, Debug, Default)]
pub struct Batch {
    bytes: Vec<u8>,
    first_lsn: u64,
    records: u64,
}

impl Batch {
    pub fn new() -> Batch {
        Batch::default()
    }

    /// A batch whose buffer holds `bytes` encoded bytes before it grows; see
    /// [`Batch::encoded_len_of`].
    pub fn with_capacity(bytes: usize) -> Batch {
        Batch { bytes: Vec::with_capacity(bytes), ..Batch::default() }
    }

    /// What a record with a payload of `payload_len` bytes takes on disk.
    pub fn encoded_len_of(payload_len: usize) -> usize {
        format::FRAME_HEADER_LEN + format::BODY_FIXED_LEN + payload_len
    }

    /// Encodes one record at the end of the batch. Refuses (and changes
    /// nothing) when the lsn does not follow the previous record's, or the
    /// payload is over the size a reader accepts.
    pub fn push(&mut self, meta: RecordMeta, payload: &[u8]) -> Result<(), StorageError> {
        if payload.len() > MAX_PAYLOAD_LEN {
            return Err(StorageError::RecordTooLarge { len: payload.len(), max: MAX_PAYLOAD_LEN });
        }
        if self.records == 0 {
            self.first_lsn = meta.lsn;
        } else if meta.lsn != self.first_lsn + self.records {
            return Err(StorageError::LsnGap { expected: self.first_lsn + self.records, got: meta.lsn });
        }
        format::encode_record(&mut self.bytes, meta, payload);
        self.records += 1;
        Ok(())
    }

    /// [`Batch::push`] for a record already built.
    pub fn push_record(&mut self, record: &Record) -> Result<(), StorageError> {
        self.push(record.meta(), &record.payload)
    }

    /// How many records the batch holds.
    pub fn len(&self) -> u64 {
        self.records
    }

    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// The first record's lsn, if there is one.
    pub fn first_lsn(&self) -> Option<u64> {
        (self.records > 0).then_some(self.first_lsn)
    }

    /// The last record's lsn, if there is one.
    pub fn last_lsn(&self) -> Option<u64> {
        (self.records > 0).then(|| self.first_lsn + self.records - 1)
    }

    /// Bytes the batch takes on disk.
    pub fn encoded_len(&self) -> usize {
        self.bytes.len()
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Appends the records of `next`, which continues this batch's lsns (the
    /// writer merges queued batches, which `submit` already checked).
    pub(crate) fn extend_from(&mut self, next: &Batch) {
        if self.records == 0 {
            self.first_lsn = next.first_lsn;
        }
        debug_assert!(next.records == 0 || next.first_lsn == self.first_lsn + self.records);
        self.bytes.extend_from_slice(&next.bytes);
        self.records += next.records;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(lsn: u64) -> RecordMeta {
        RecordMeta { lsn, time_ms: lsn * 10, wall_ms: 0 }
    }

    #[test]
    fn a_batch_counts_its_records_and_bytes() {
        let mut batch = Batch::new();
        assert_eq!((batch.first_lsn(), batch.last_lsn()), (None, None));
        batch.push(meta(7), b"abc").unwrap();
        batch.push(meta(8), b"").unwrap();
        assert_eq!((batch.first_lsn(), batch.last_lsn(), batch.len()), (Some(7), Some(8), 2));
        assert_eq!(batch.encoded_len(), Batch::encoded_len_of(3) + Batch::encoded_len_of(0));
    }

    #[test]
    fn merged_batches_read_as_one() {
        let mut first = Batch::new();
        first.push(meta(3), b"a").unwrap();
        let mut second = Batch::new();
        second.push(meta(4), b"bc").unwrap();
        second.push(meta(5), b"").unwrap();
        let expected_len = first.encoded_len() + second.encoded_len();
        first.extend_from(&second);
        assert_eq!((first.first_lsn(), first.last_lsn(), first.encoded_len()), (Some(3), Some(5), expected_len));
        first.push(meta(6), b"d").unwrap();
    }

    #[test]
    fn a_gap_inside_a_batch_is_refused_and_changes_nothing() {
        let mut batch = Batch::new();
        batch.push(meta(1), b"a").unwrap();
        let before = batch.encoded_len();
        let err = batch.push(meta(3), b"b").unwrap_err();
        assert!(matches!(err, StorageError::LsnGap { expected: 2, got: 3 }), "{err}");
        assert_eq!((batch.len(), batch.encoded_len()), (1, before));
    }
}
