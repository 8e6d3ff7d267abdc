//! Property: the spill file is a queue that survives reopening. Random
//! appends, drains and reopens (a restart, even after `kill -9`) against a
//! model: what is read comes in the order appended, nothing appended is
//! lost, and a reopen gives back, from the start, everything since the file
//! was last emptied (written again then: records are idempotent).

use proptest::prelude::*;
use switchboard_records::{Backlog, RatingRow, Record, Spool};

#[derive(Clone, Debug)]
enum Step {
    Append(u8),
    Drain(u8),
    Reopen,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![(1u8..20).prop_map(Step::Append), (1u8..20).prop_map(Step::Drain), Just(Step::Reopen)]
}

fn record(n: u64) -> Record {
    Record::Rating(RatingRow { session: n, rating: "satisfied".into() })
}

/// The file's records since it was last emptied, and how many of them are written.
#[derive(Default)]
struct Model {
    file: Vec<Record>,
    read: usize,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn the_spill_file_keeps_order_and_loses_nothing(steps in proptest::collection::vec(step(), 1..40)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spill.jsonl");
        let open = || Backlog::File(Spool::open(&path, u64::MAX).unwrap());
        let mut backlog = open();
        let mut model = Model::default();
        let mut next = 0u64;
        for step in steps {
            match step {
                Step::Append(n) => {
                    let batch: Vec<Record> = (0..u64::from(n)).map(|i| record(next + i)).collect();
                    next += u64::from(n);
                    prop_assert_eq!(backlog.append(batch.clone()), None);
                    model.file.extend(batch);
                }
                Step::Drain(n) => {
                    let (read, damaged) = backlog.peek(usize::from(n));
                    let end = (model.read + usize::from(n)).min(model.file.len());
                    prop_assert_eq!(damaged, 0);
                    prop_assert_eq!(&read[..], &model.file[model.read..end]);
                    backlog.consume();
                    model.read = end;
                    if model.read == model.file.len() {
                        model = Model::default();
                    }
                }
                Step::Reopen => {
                    drop(backlog);
                    backlog = open();
                    model.read = 0;
                }
            }
            prop_assert_eq!(backlog.len(), (model.file.len() - model.read) as u64);
            prop_assert_eq!(backlog.is_empty(), model.file.len() == model.read);
        }
    }
}
