//! The file backend of the log: `switchboard-storage`'s segment files in a
//! `data_dir`, written by its writer thread.

use switchboard_storage::{Batch, RecordMeta, WriterHandle};

use super::{LogBackend, Lsn};

/// Batches records in the storage crate's on-disk framing and hands them to its writer.
#[derive(Debug)]
pub struct FileLog {
    writer: WriterHandle,
    batch: Batch,
}

impl FileLog {
    pub fn new(writer: WriterHandle) -> FileLog {
        FileLog { writer, batch: Batch::new() }
    }
}

impl LogBackend for FileLog {
    fn push(&mut self, meta: RecordMeta, payload: &[u8]) -> Result<(), String> {
        self.batch.push(meta, payload).map_err(|e| e.to_string())
    }

    fn submit(&mut self) -> Result<Option<Lsn>, String> {
        let batch = std::mem::take(&mut self.batch);
        let last = batch.last_lsn();
        self.writer.submit(batch).map_err(|e| e.to_string())?;
        Ok(last)
    }

    fn close(self: Box<Self>) -> Result<(), String> {
        self.writer.close().map_err(|e| e.to_string())
    }
}
