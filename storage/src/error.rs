//! Every error of the crate. Each one that concerns a file names it, and a
//! damaged file also gets the byte offset, so that an operator can look.

use std::io;
use std::path::PathBuf;

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("data_dir {path} is not a directory")]
    NotADirectory { path: PathBuf },
    #[error("data_dir {path} does not exist")]
    DirMissing { path: PathBuf },
    #[error("cannot create data_dir {path}: {source}")]
    CreateDir { path: PathBuf, source: io::Error },
    #[error("data_dir {path} is not writable: {source}")]
    NotWritable { path: PathBuf, source: io::Error },
    #[error("data_dir {path} is in use by another process")]
    InUse { path: PathBuf },
    /// An I/O call failed; `action` says what was being done.
    #[error("{path}: {action}: {source}")]
    Io { path: PathBuf, action: &'static str, source: io::Error },
    #[error("{path}: format version {found}, but this build reads only version {supported}")]
    UnknownVersion { path: PathBuf, found: u32, supported: u32 },
    /// Damage that is not a torn tail: valid data follows it, or it sits in a
    /// segment that is not the last. Opening refuses rather than drop records.
    #[error("{path}: corrupt at byte offset {offset}: {reason}")]
    Corrupt { path: PathBuf, offset: u64, reason: String },
    /// Records the chosen snapshot needs are not in the log.
    #[error("log segments are missing: {detail}")]
    MissingSegments { detail: String },
    /// A batch does not continue the lsns submitted so far: a bug in the caller.
    #[error("lsn {got} where {expected} was expected: lsns must rise by exactly 1")]
    LsnGap { expected: u64, got: u64 },
    #[error("a record payload of {len} bytes is over the limit of {max}")]
    RecordTooLarge { len: usize, max: usize },
    #[error("the store was opened read-only")]
    ReadOnly,
    /// `start_writer` needs the tail that `recover` checked (and cut back).
    #[error("call recover() before start_writer(), once per writer")]
    NotRecovered,
    /// `start_writer` was given another lsn than the log's next.
    #[error("the log continues at lsn {expected}, not {got}")]
    WrongNextLsn { expected: u64, got: u64 },
    /// `recover` would race with the writer, which appends to the tail it checks.
    #[error("a writer is running on this store")]
    WriterRunning,
    #[error("the writer thread has stopped")]
    WriterStopped,
    #[error("the writer thread panicked")]
    WriterPanicked,
}

impl StorageError {
    /// A [`StorageError::Io`] error, for `map_err`.
    pub(crate) fn io(path: impl Into<PathBuf>, action: &'static str) -> impl FnOnce(io::Error) -> StorageError {
        let path = path.into();
        move |source| StorageError::Io { path, action, source }
    }
}
