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

mod batch;
mod error;
mod format;
mod fsutil;
mod reader;
mod segment;
mod snapshot;

pub use batch::{Batch, Record};
pub use error::StorageError;
pub use format::{RecordMeta, FORMAT_VERSION, MAX_PAYLOAD_LEN};
pub use reader::Records;
pub use snapshot::{SkippedSnapshot, SnapshotData, SnapshotInfo, SnapshotStatus, SnapshotWritten};
