//! Small file-system helpers shared by the log and the snapshots.

use std::fs::File;
use std::io;
use std::path::Path;

use crate::error::StorageError;

/// Makes a directory's entries durable: a new, renamed or removed file is
/// only certain to survive a power loss once its directory is synced.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    sync_dir_io(dir).map_err(StorageError::io(dir, "syncing directory"))
}

/// [`sync_dir`] for callers that handle the bare I/O error (the writer retries it).
pub(crate) fn sync_dir_io(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}
