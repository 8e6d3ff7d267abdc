//! Snapshot files: writing one so that a crash never leaves a half-written
//! file under a snapshot's name, checking them, and choosing which to load.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::StorageError;
use crate::format::{self, HeaderProblem, SnapshotHeader, SNAPSHOT_HEADER_LEN};
use crate::fsutil::sync_dir;
use crate::segment::unknown_version;

/// The snapshot `recover` chose: the newest one that checked out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotData {
    /// The last record the snapshot includes; replay starts after it.
    pub lsn: u64,
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

/// A snapshot that `recover` passed over, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedSnapshot {
    pub path: PathBuf,
    pub reason: String,
}

/// One snapshot file, for an operator's listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotInfo {
    pub path: PathBuf,
    pub lsn: u64,
    /// The file's size.
    pub bytes: u64,
    pub status: SnapshotStatus,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SnapshotStatus {
    Valid,
    /// Would be skipped by `recover`, for this reason.
    Invalid(String),
}

/// What `write_snapshot` did, for metrics and logs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotWritten {
    pub path: PathBuf,
    pub lsn: u64,
    /// The file's size, header included.
    pub bytes: u64,
    /// Writing and syncing the snapshot, pruning excluded.
    pub duration: Duration,
    /// Older snapshots, damaged ones and leftover temp files removed.
    pub snapshots_deleted: Vec<PathBuf>,
    /// Log segments no kept snapshot needs any more.
    pub segments_deleted: Vec<PathBuf>,
    pub segment_bytes_deleted: u64,
}

/// A snapshot file, known so far only by its name.
#[derive(Clone, Debug)]
pub(crate) struct SnapshotFile {
    pub path: PathBuf,
    pub lsn: u64,
}

/// Valid, or the reason it is not.
type Checked<T> = Result<T, String>;

/// The snapshot files in `dir`, newest first. Temp files and others are ignored.
pub(crate) fn list_snapshots(dir: &Path) -> Result<Vec<SnapshotFile>, StorageError> {
    let mut found = Vec::new();
    for entry in read_dir(dir)? {
        let entry = entry.map_err(StorageError::io(dir, "listing snapshots"))?;
        if let Some(lsn) = entry.file_name().to_str().and_then(format::parse_snapshot_name) {
            found.push(SnapshotFile { path: entry.path(), lsn });
        }
    }
    found.sort_by_key(|snapshot| std::cmp::Reverse(snapshot.lsn));
    Ok(found)
}

fn read_dir(dir: &Path) -> Result<Vec<io::Result<fs::DirEntry>>, StorageError> {
    match fs::read_dir(dir) {
        Ok(entries) => Ok(entries.collect()),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(err) => Err(StorageError::io(dir, "listing snapshots")(err)),
    }
}

/// The newest valid snapshot, and the newer ones skipped on the way.
pub(crate) fn load_newest(dir: &Path) -> Result<(Option<SnapshotData>, Vec<SkippedSnapshot>), StorageError> {
    let mut skipped = Vec::new();
    for snapshot in list_snapshots(dir)? {
        match read_payload(&snapshot)? {
            Ok(bytes) => return Ok((Some(SnapshotData { lsn: snapshot.lsn, path: snapshot.path, bytes }), skipped)),
            Err(reason) => skipped.push(SkippedSnapshot { path: snapshot.path, reason }),
        }
    }
    Ok((None, skipped))
}

/// The snapshot at `lsn`, checked (`Some(Err(reason))` when it is damaged),
/// or `None` when there is no such file.
pub(crate) fn load_at(dir: &Path, lsn: u64) -> Result<Option<Checked<SnapshotData>>, StorageError> {
    let Some(snapshot) = list_snapshots(dir)?.into_iter().find(|s| s.lsn == lsn) else { return Ok(None) };
    let payload = read_payload(&snapshot)?;
    Ok(Some(payload.map(|bytes| SnapshotData { lsn, path: snapshot.path, bytes })))
}

/// Every snapshot file with its status, newest first.
pub(crate) fn describe_all(dir: &Path) -> Result<Vec<SnapshotInfo>, StorageError> {
    let mut infos = Vec::new();
    for snapshot in list_snapshots(dir)? {
        let bytes = fs::metadata(&snapshot.path).map_or(0, |meta| meta.len());
        let status = match verify(&snapshot)? {
            Ok(()) => SnapshotStatus::Valid,
            Err(reason) => SnapshotStatus::Invalid(reason),
        };
        infos.push(SnapshotInfo { path: snapshot.path, lsn: snapshot.lsn, bytes, status });
    }
    Ok(infos)
}

/// Reads and checks a whole snapshot. Only a header from another format
/// version is an error; any other problem (I/O included) makes it invalid,
/// so that recovery falls back to an older snapshot.
fn read_payload(snapshot: &SnapshotFile) -> Result<Checked<Vec<u8>>, StorageError> {
    let (mut file, header) = match open_checked(snapshot)? {
        Ok(opened) => opened,
        Err(reason) => return Ok(Err(reason)),
    };
    let mut bytes = vec![0u8; header.payload_len as usize];
    if let Err(err) = file.read_exact(&mut bytes) {
        return Ok(Err(format!("reading payload: {err}")));
    }
    Ok(check_crc(header, crc32fast::hash(&bytes)).map(|()| bytes))
}

/// Checks a whole snapshot without keeping it in memory.
fn verify(snapshot: &SnapshotFile) -> Result<Checked<()>, StorageError> {
    let (file, header) = match open_checked(snapshot)? {
        Ok(opened) => opened,
        Err(reason) => return Ok(Err(reason)),
    };
    match streamed_crc(file) {
        Ok(crc) => Ok(check_crc(header, crc)),
        Err(err) => Ok(Err(format!("reading payload: {err}"))),
    }
}

fn streamed_crc(mut file: File) -> io::Result<u32> {
    let mut hasher = crc32fast::Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match file.read(&mut buf)? {
            0 => return Ok(hasher.finalize()),
            n => hasher.update(&buf[..n]),
        }
    }
}

fn check_crc(header: SnapshotHeader, crc: u32) -> Checked<()> {
    if crc == header.payload_crc {
        Ok(())
    } else {
        Err("payload checksum mismatch".to_owned())
    }
}

/// Opens a snapshot and checks its header against its name and size,
/// leaving the file positioned at the payload.
fn open_checked(snapshot: &SnapshotFile) -> Result<Checked<(File, SnapshotHeader)>, StorageError> {
    let mut file = match File::open(&snapshot.path) {
        Ok(file) => file,
        Err(err) => return Ok(Err(format!("opening: {err}"))),
    };
    let file_len = match file.metadata() {
        Ok(meta) => meta.len(),
        Err(err) => return Ok(Err(format!("reading size: {err}"))),
    };
    let mut raw = [0u8; SNAPSHOT_HEADER_LEN];
    if file_len < SNAPSHOT_HEADER_LEN as u64 || file.read_exact(&mut raw).is_err() {
        return Ok(Err(format!("incomplete header ({file_len} bytes)")));
    }
    let header = match format::decode_snapshot_header(&raw) {
        Ok(header) => header,
        Err(HeaderProblem::Version(found)) => return Err(unknown_version(&snapshot.path, found)),
        Err(HeaderProblem::BadMagic) => return Ok(Err("not a snapshot file (bad magic)".to_owned())),
        Err(HeaderProblem::Checksum) => return Ok(Err("header checksum mismatch".to_owned())),
    };
    Ok(check_header_fits(snapshot, header, file_len).map(|()| (file, header)))
}

fn check_header_fits(snapshot: &SnapshotFile, header: SnapshotHeader, file_len: u64) -> Checked<()> {
    if header.lsn != snapshot.lsn {
        return Err(format!("header says lsn {}, file name says {}", header.lsn, snapshot.lsn));
    }
    let expected_len = SNAPSHOT_HEADER_LEN as u64 + header.payload_len;
    if file_len != expected_len {
        return Err(format!("file has {file_len} bytes, header says {expected_len}"));
    }
    Ok(())
}

/// Writes a snapshot under a temp name, syncs it, renames it into place and
/// syncs the directory: a crash at any point leaves either no file under the
/// final name or a complete one. Returns the final path and the file's size.
pub(crate) fn write(dir: &Path, lsn: u64, payload: &[u8]) -> Result<(PathBuf, u64), StorageError> {
    let path = dir.join(format::snapshot_file_name(lsn));
    let temp = format::snapshot_temp_path(&path);
    let header = SnapshotHeader { lsn, payload_len: payload.len() as u64, payload_crc: crc32fast::hash(payload) };
    write_synced(&temp, &format::encode_snapshot_header(header), payload)?;
    fs::rename(&temp, &path).map_err(StorageError::io(&temp, "renaming snapshot into place"))?;
    sync_dir(dir)?;
    Ok((path, SNAPSHOT_HEADER_LEN as u64 + payload.len() as u64))
}

/// Writes the header and then the payload straight from the caller's slice (no copy).
fn write_synced(path: &Path, header: &[u8], payload: &[u8]) -> Result<(), StorageError> {
    let file = File::create(path).map_err(StorageError::io(path, "creating snapshot"))?;
    let mut out = BufWriter::new(file);
    out.write_all(header).map_err(StorageError::io(path, "writing snapshot"))?;
    out.write_all(payload).map_err(StorageError::io(path, "writing snapshot"))?;
    let file = out.into_inner().map_err(|err| StorageError::io(path, "writing snapshot")(err.into_error()))?;
    file.sync_all().map_err(StorageError::io(path, "syncing snapshot"))
}

/// Which snapshots pruning keeps, and what it deleted.
#[derive(Debug, Default)]
pub(crate) struct PrunedSnapshots {
    pub deleted: Vec<PathBuf>,
    /// The older of the two kept snapshots: the log must keep every record after it.
    pub keep_lsn: Option<u64>,
}

/// Keeps the newest two valid snapshots (so a damaged newest one still has a
/// fallback) and deletes every other snapshot file and leftover temp file.
///
/// `known_valid` holds the lsns of snapshots this process wrote or loaded,
/// which are not read again: checking a snapshot of hundreds of MB on every
/// write would cost more than the write.
pub(crate) fn prune(dir: &Path, known_valid: &mut BTreeSet<u64>) -> Result<PrunedSnapshots, StorageError> {
    let mut pruned = PrunedSnapshots { deleted: remove_temp_files(dir)?, keep_lsn: None };
    let mut kept = 0;
    for snapshot in list_snapshots(dir)? {
        if kept < 2 && is_valid(&snapshot, known_valid)? {
            kept += 1;
            pruned.keep_lsn = Some(snapshot.lsn);
            continue;
        }
        known_valid.remove(&snapshot.lsn);
        fs::remove_file(&snapshot.path).map_err(StorageError::io(&snapshot.path, "deleting snapshot"))?;
        pruned.deleted.push(snapshot.path);
    }
    if kept < 2 {
        pruned.keep_lsn = None;
    }
    Ok(pruned)
}

fn is_valid(snapshot: &SnapshotFile, known_valid: &mut BTreeSet<u64>) -> Result<bool, StorageError> {
    if known_valid.contains(&snapshot.lsn) {
        return Ok(true);
    }
    let valid = verify(snapshot)?.is_ok();
    if valid {
        known_valid.insert(snapshot.lsn);
    }
    Ok(valid)
}

/// Removes `*.snap.tmp` files: snapshot writes are serialized, so any such
/// file is left over from a crash.
fn remove_temp_files(dir: &Path) -> Result<Vec<PathBuf>, StorageError> {
    let mut removed = Vec::new();
    for entry in read_dir(dir)? {
        let entry = entry.map_err(StorageError::io(dir, "listing snapshots"))?;
        let name = entry.file_name();
        let is_temp = name.to_str().and_then(|name| name.strip_suffix(".tmp")).and_then(format::parse_snapshot_name);
        if is_temp.is_some() {
            fs::remove_file(entry.path()).map_err(StorageError::io(entry.path(), "deleting temp snapshot"))?;
            removed.push(entry.path());
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_snapshot_loads_back_and_no_temp_file_remains() {
        let dir = tempfile::tempdir().unwrap();
        let (path, bytes) = write(dir.path(), 12, b"state").unwrap();
        assert_eq!(bytes, SNAPSHOT_HEADER_LEN as u64 + 5);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        let (loaded, skipped) = load_newest(dir.path()).unwrap();
        assert_eq!(loaded, Some(SnapshotData { lsn: 12, path, bytes: b"state".to_vec() }));
        assert!(skipped.is_empty());
    }

    #[test]
    fn a_snapshot_under_another_name_is_invalid() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _) = write(dir.path(), 12, b"state").unwrap();
        let renamed = dir.path().join(format::snapshot_file_name(13));
        fs::rename(&path, &renamed).unwrap();
        let (loaded, skipped) = load_newest(dir.path()).unwrap();
        assert_eq!(loaded, None);
        assert!(skipped[0].reason.contains("header says lsn 12"), "{:?}", skipped);
    }

    #[test]
    fn pruning_keeps_the_two_newest_valid_snapshots() {
        let dir = tempfile::tempdir().unwrap();
        for lsn in [10, 20, 30, 40] {
            write(dir.path(), lsn, b"state").unwrap();
        }
        let newest = dir.path().join(format::snapshot_file_name(40));
        let mut bytes = fs::read(&newest).unwrap();
        *bytes.last_mut().unwrap() ^= 1;
        fs::write(&newest, bytes).unwrap();
        fs::write(dir.path().join("00000000000000000050.snap.tmp"), b"half").unwrap();
        let pruned = prune(dir.path(), &mut BTreeSet::new()).unwrap();
        assert_eq!(pruned.keep_lsn, Some(20));
        let left: Vec<u64> = list_snapshots(dir.path()).unwrap().iter().map(|s| s.lsn).collect();
        assert_eq!(left, vec![30, 20]);
        assert_eq!(pruned.deleted.len(), 3, "{:?}", pruned.deleted);
    }
}
