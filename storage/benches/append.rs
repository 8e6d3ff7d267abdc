//! Append throughput: one batch in flight at a time (submit, wait until the
//! writer reports it), for sync None vs Always and batches of 1, 16 and 256
//! records of 64 bytes. Under Always each batch waits for its own
//! fdatasync, so records per second grow with the batch size: that growth
//! is what group commit buys. `burst` submits 256 one-record batches at once
//! and waits for the last: the writer merges what is queued into one write
//! and one sync, so it should land near a single batch of 256.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use switchboard_storage::{Batch, OpenMode, RecordMeta, Store, SyncPolicy, WriterHandle, WriterOptions};

const PAYLOAD: [u8; 64] = [7; 64];

/// The highest lsn the writer reported (written under None, durable under Always).
#[derive(Default)]
struct Watermark {
    lsn: Mutex<u64>,
    moved: Condvar,
}

impl Watermark {
    fn wait_for(&self, lsn: u64) {
        let mut seen = self.lsn.lock().unwrap();
        while *seen < lsn {
            seen = self.moved.wait(seen).unwrap();
        }
    }
}

struct Log {
    _dir: tempfile::TempDir,
    _store: Store,
    writer: WriterHandle,
    watermark: Arc<Watermark>,
}

impl Log {
    fn start(sync: SyncPolicy) -> Log {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), OpenMode::ReadWrite).unwrap();
        let next_lsn = store.recover().unwrap().next_lsn;
        let watermark = Arc::new(Watermark::default());
        let reported = Arc::clone(&watermark);
        let options = WriterOptions { sync, ..WriterOptions::default() };
        let writer = store
            .start_writer(options, next_lsn, move |progress| {
                assert!(progress.is_healthy(), "{progress:?}");
                *reported.lsn.lock().unwrap() = progress.written_lsn;
                reported.moved.notify_all();
            })
            .unwrap();
        Log { _dir: dir, _store: store, writer, watermark }
    }

    /// Submits one batch of `records` records and returns its last lsn.
    fn submit(&self, records: u64) -> u64 {
        let first = self.writer.next_lsn();
        let mut batch = Batch::with_capacity(records as usize * Batch::encoded_len_of(PAYLOAD.len()));
        for lsn in first..first + records {
            batch.push(RecordMeta { lsn, time_ms: lsn, wall_ms: lsn }, &PAYLOAD).unwrap();
        }
        self.writer.submit(batch).unwrap();
        first + records - 1
    }
}

fn policies() -> [(&'static str, SyncPolicy); 2] {
    [("none", SyncPolicy::None), ("always", SyncPolicy::Always)]
}

fn one_batch_in_flight(c: &mut Criterion) {
    for (name, sync) in policies() {
        let mut group = c.benchmark_group(format!("append/{name}"));
        for records in [1u64, 16, 256] {
            let log = Log::start(sync);
            group.throughput(Throughput::Elements(records));
            group.bench_with_input(BenchmarkId::new("batch", records), &records, |b, &records| {
                b.iter_custom(|iters| {
                    let started = Instant::now();
                    for _ in 0..iters {
                        let last = log.submit(records);
                        log.watermark.wait_for(last);
                    }
                    started.elapsed()
                })
            });
        }
        group.finish();
    }
}

fn burst_of_single_records(c: &mut Criterion) {
    const BURST: u64 = 256;
    for (name, sync) in policies() {
        let mut group = c.benchmark_group(format!("append/{name}"));
        let log = Log::start(sync);
        group.throughput(Throughput::Elements(BURST));
        group.bench_function("burst_256x1", |b| {
            b.iter_custom(|iters| {
                let started = Instant::now();
                for _ in 0..iters {
                    let mut last = 0;
                    for _ in 0..BURST {
                        last = log.submit(1);
                    }
                    log.watermark.wait_for(last);
                }
                started.elapsed()
            })
        });
        group.finish();
    }
}

fn config() -> Criterion {
    Criterion::default().sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3))
}

criterion_group! { name = benches; config = config(); targets = one_batch_in_flight, burst_of_single_records }
criterion_main!(benches);
