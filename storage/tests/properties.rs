//! Property: whatever the batch sizes, payloads and segment size, what was
//! appended is what comes back, across a reopen in the middle.

mod common;

use common::*;
use proptest::prelude::*;
use switchboard_storage::{Batch, OpenMode, Record, RecordMeta, Store, SyncPolicy, WriterOptions};

/// Batches of 1 to 20 records with payloads of 0 to 300 random bytes.
fn batches() -> impl Strategy<Value = Vec<Vec<Vec<u8>>>> {
    let payload = prop::collection::vec(any::<u8>(), 0..300);
    prop::collection::vec(prop::collection::vec(payload, 1..20), 1..30)
}

fn write(dir: &std::path::Path, batches: &[Vec<Vec<u8>>], segment_size: u64, next_lsn: &mut u64) -> Vec<Record> {
    let options = WriterOptions { sync: SyncPolicy::None, segment_size, ..WriterOptions::default() };
    let (store, writer, _) = start(dir, options);
    let mut written = Vec::new();
    for payloads in batches {
        let mut batch = Batch::new();
        for payload in payloads {
            let meta = RecordMeta { lsn: *next_lsn, time_ms: *next_lsn ^ 0xffff, wall_ms: payload.len() as u64 };
            batch.push(meta, payload).unwrap();
            written.push(Record {
                lsn: meta.lsn,
                time_ms: meta.time_ms,
                wall_ms: meta.wall_ms,
                payload: payload.clone(),
            });
            *next_lsn += 1;
        }
        writer.submit(batch).unwrap();
    }
    writer.close().unwrap();
    drop(store);
    written
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn appended_records_round_trip(first in batches(), second in batches(), segment_size in 64u64..8192) {
        let dir = tempfile::tempdir().unwrap();
        let mut next_lsn = 1;
        let mut expected = write(dir.path(), &first, segment_size, &mut next_lsn);
        expected.extend(write(dir.path(), &second, segment_size, &mut next_lsn));

        let store = Store::open(dir.path(), OpenMode::ReadWrite).unwrap();
        let recovery = store.recover().unwrap();
        prop_assert_eq!(recovery.next_lsn, next_lsn);
        prop_assert_eq!(recovery.report.torn_tail, None);
        let read: Vec<Record> = recovery.records.collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(read, expected);
    }
}
