//! Switchboard's durable write-ahead log and snapshot files, for the
//! embedded mode.
//!
//! The server appends one record per state-changing input, releases an
//! input's effects only once its record is durable (or written, under a
//! laxer [`SyncPolicy`]), and now and then writes a snapshot of its whole
//! state. On start it loads the newest valid snapshot and replays the records
//! after it. Records are opaque bytes here: this crate knows lsns and
//! checksums, never what a record means. It uses plain threads (no async
//! runtime); the writer tells the caller of its progress through a callback.
//!
//! The on-disk format and the corruption rules are in the crate's README.
//!
//! ```
//! use switchboard_storage::{Batch, OpenMode, RecordMeta, Store, WriterOptions};
//!
//! # fn main() -> Result<(), switchboard_storage::StorageError> {
//! # let dir = tempfile::tempdir().unwrap();
//! let store = Store::open(dir.path(), OpenMode::ReadWrite)?;
//! let recovery = store.recover()?;
//! assert!(recovery.snapshot.is_none());
//! for record in recovery.records {
//!     let _record = record?; // apply it to the state
//! }
//! let writer = store.start_writer(WriterOptions::default(), recovery.next_lsn, |progress| {
//!     // release the effects of every input up to progress.synced_lsn
//!     assert!(progress.is_healthy());
//! })?;
//! let mut batch = Batch::new();
//! batch.push(RecordMeta { lsn: recovery.next_lsn, time_ms: 0, wall_ms: 0 }, b"an input")?;
//! writer.submit(batch)?;
//! writer.close()?;
//! store.write_snapshot(1, b"the whole state after lsn 1")?;
//! # Ok(())
//! # }
//! ```

mod batch;
mod error;
mod faults;
mod format;
mod fsutil;
mod reader;
mod recovery;
mod segment;
mod snapshot;
mod store;
mod writer;

pub use batch::{Batch, Record};
pub use error::StorageError;
pub use faults::{Faults, WriteFault};
pub use format::{RecordMeta, FORMAT_VERSION, MAX_PAYLOAD_LEN};
pub use reader::Records;
pub use recovery::{Recovery, RecoveryReport, TailAction, TornTail};
pub use snapshot::{SkippedSnapshot, SnapshotData, SnapshotInfo, SnapshotStatus, SnapshotWritten};
pub use store::{OpenMode, SegmentInfo, SegmentStatus, Store};
pub use writer::{Progress, SyncPolicy, WriterHandle, WriterOptions};
