//! Where records wait while the database cannot take them: a spill file in
//! the `data_dir` (it survives a restart, even `kill -9`), or memory when
//! there is no `data_dir`. Both keep arrival order and have a limit; what
//! does not fit is dropped and counted, never silently.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use tracing::{error, warn};

use crate::record::Record;

/// Why records were lost here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
    /// Over the limit.
    Full,
    /// The spill file could not be written or read back.
    Failed,
}

/// Records waiting for the database.
#[derive(Debug)]
pub enum Backlog {
    Memory { records: VecDeque<Record>, limit: usize, peeked: usize },
    File(Spool),
}

impl Backlog {
    pub fn memory(limit: usize) -> Backlog {
        Backlog::Memory { records: VecDeque::new(), limit, peeked: 0 }
    }

    /// Adds at the end; what could not be kept, and why.
    pub fn append(&mut self, batch: Vec<Record>) -> Option<(Loss, u64)> {
        match self {
            Backlog::Memory { records, limit, .. } => {
                let room = limit.saturating_sub(records.len());
                let lost = batch.len().saturating_sub(room) as u64;
                records.extend(batch.into_iter().take(room));
                (lost > 0).then_some((Loss::Full, lost))
            }
            Backlog::File(spool) => spool.append(&batch),
        }
    }

    /// Up to `n` of the oldest records, left in place until [`Backlog::consume`];
    /// with the records lost reading them (a damaged line).
    pub fn peek(&mut self, n: usize) -> (Vec<Record>, u64) {
        match self {
            Backlog::Memory { records, peeked, .. } => {
                *peeked = n.min(records.len());
                (records.iter().take(n).cloned().collect(), 0)
            }
            Backlog::File(spool) => spool.peek(n),
        }
    }

    /// Removes what the last [`Backlog::peek`] returned (now written).
    pub fn consume(&mut self) {
        match self {
            Backlog::Memory { records, peeked, .. } => {
                records.drain(..std::mem::take(peeked));
            }
            Backlog::File(spool) => spool.consume(),
        }
    }

    pub fn len(&self) -> u64 {
        match self {
            Backlog::Memory { records, .. } => records.len() as u64,
            Backlog::File(spool) => spool.records,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of the spill file (0 in memory).
    pub fn bytes(&self) -> u64 {
        match self {
            Backlog::Memory { .. } => 0,
            Backlog::File(spool) => spool.len - spool.read_at,
        }
    }
}

/// The spill file: one JSON record per line, appended and synced; read from
/// `read_at`; emptied once everything in it is written.
#[derive(Debug)]
pub struct Spool {
    path: PathBuf,
    file: File,
    limit: u64,
    /// Bytes in the file.
    len: u64,
    /// Where the oldest unwritten record starts.
    read_at: u64,
    /// Records after `read_at`.
    records: u64,
    /// What the last peek covered: bytes and records.
    peeked: (u64, u64),
}

impl Spool {
    /// Opens (or creates) the spill file; what an earlier run left in it is
    /// kept for writing. A torn last line (the process died mid-write) is cut off.
    pub fn open(path: &Path, limit: u64) -> std::io::Result<Spool> {
        let file = OpenOptions::new().read(true).append(true).create(true).open(path)?;
        let (whole, records) = whole_lines(&file)?;
        let len = file.metadata()?.len();
        if whole < len {
            warn!(path = %path.display(), bytes = len - whole, "records spill file ended in a torn write: cut off");
            file.set_len(whole)?;
        }
        Ok(Spool { path: path.to_owned(), file, limit, len: whole, read_at: 0, records, peeked: (0, 0) })
    }

    pub fn records(&self) -> u64 {
        self.records
    }

    fn append(&mut self, batch: &[Record]) -> Option<(Loss, u64)> {
        let mut buf = Vec::new();
        let mut kept = 0u64;
        for record in batch {
            let mut line = serde_json::to_vec(record).expect("plain data encodes");
            line.push(b'\n');
            if self.len + (buf.len() + line.len()) as u64 > self.limit {
                break;
            }
            buf.extend_from_slice(&line);
            kept += 1;
        }
        let over = batch.len() as u64 - kept;
        if let Err(e) = self.write(&buf) {
            error!(path = %self.path.display(), error = %e, records = batch.len(), "records spill file cannot be written: records lost");
            return Some((Loss::Failed, batch.len() as u64));
        }
        self.records += kept;
        (over > 0).then_some((Loss::Full, over))
    }

    fn write(&mut self, buf: &[u8]) -> std::io::Result<()> {
        let written = self.file.write_all(buf).and_then(|()| self.file.sync_data());
        match written {
            Ok(()) => {
                self.len += buf.len() as u64;
                Ok(())
            }
            Err(e) => {
                // A partial line would hide every line after it: cut back to the last whole one.
                let _ = self.file.set_len(self.len);
                Err(e)
            }
        }
    }

    fn peek(&mut self, n: usize) -> (Vec<Record>, u64) {
        match self.read(n) {
            Ok(read) => read,
            Err(e) => {
                error!(path = %self.path.display(), error = %e, "records spill file cannot be read: its records are lost");
                let lost = self.records;
                self.peeked = (self.len - self.read_at, self.records);
                (Vec::new(), lost)
            }
        }
    }

    fn read(&mut self, n: usize) -> std::io::Result<(Vec<Record>, u64)> {
        let mut reader = BufReader::new(&self.file);
        reader.seek(SeekFrom::Start(self.read_at))?;
        let (mut records, mut bytes, mut lines, mut damaged) = (Vec::new(), 0u64, 0u64, 0u64);
        let mut line = String::new();
        while records.len() < n {
            line.clear();
            let read = reader.read_line(&mut line)?;
            if read == 0 {
                break;
            }
            bytes += read as u64;
            lines += 1;
            match serde_json::from_str(line.trim_end()) {
                Ok(record) => records.push(record),
                Err(e) => {
                    error!(path = %self.path.display(), error = %e, "a damaged record in the records spill file: lost");
                    damaged += 1;
                }
            }
        }
        self.peeked = (bytes, lines);
        Ok((records, damaged))
    }

    fn consume(&mut self) {
        let (bytes, lines) = std::mem::take(&mut self.peeked);
        self.read_at += bytes;
        self.records = self.records.saturating_sub(lines);
        if self.read_at >= self.len {
            // Everything in it is written: start the file again.
            if let Err(e) = self.file.set_len(0).and_then(|()| self.file.sync_data()) {
                warn!(path = %self.path.display(), error = %e, "records spill file could not be emptied");
                return;
            }
            (self.len, self.read_at, self.records) = (0, 0, 0);
        }
    }
}

/// The length of the file's whole lines and how many there are.
fn whole_lines(file: &File) -> std::io::Result<(u64, u64)> {
    let mut reader = BufReader::new(file);
    reader.seek(SeekFrom::Start(0))?;
    let (mut whole, mut lines) = (0u64, 0u64);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let read = reader.read_until(b'\n', &mut buf)?;
        if read == 0 || buf.last() != Some(&b'\n') {
            return Ok((whole, lines));
        }
        whole += read as u64;
        lines += 1;
    }
}
