//! Opening a data_dir: the lock, and clear errors for paths that cannot serve.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::*;
use switchboard_storage::{OpenMode, StorageError, Store, SyncPolicy, WriterOptions};

#[test]
fn a_second_read_write_open_is_refused_while_the_first_lives() {
    let dir = tempfile::tempdir().unwrap();
    let first = Store::open(dir.path(), OpenMode::ReadWrite).unwrap();
    let err = Store::open(dir.path(), OpenMode::ReadWrite).unwrap_err();
    assert!(matches!(&err, StorageError::InUse { path } if path == dir.path()), "{err}");
    assert_eq!(err.to_string(), format!("data_dir {} is in use by another process", dir.path().display()));

    // Operator tools still read it.
    Store::open(dir.path(), OpenMode::ReadOnly).unwrap().recover().unwrap();

    drop(first);
    Store::open(dir.path(), OpenMode::ReadWrite).unwrap();
}

#[test]
fn a_running_writer_keeps_the_lock_after_its_store_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let (store, writer, _) = start(dir.path(), WriterOptions { sync: SyncPolicy::None, ..WriterOptions::default() });
    drop(store);
    assert!(matches!(Store::open(dir.path(), OpenMode::ReadWrite), Err(StorageError::InUse { .. })));
    writer.close().unwrap();
    Store::open(dir.path(), OpenMode::ReadWrite).unwrap();
}

#[test]
fn a_file_is_not_a_data_dir_in_either_mode() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain-file");
    fs::write(&file, b"x").unwrap();
    for mode in [OpenMode::ReadWrite, OpenMode::ReadOnly] {
        let err = Store::open(&file, mode).unwrap_err();
        assert!(matches!(&err, StorageError::NotADirectory { path } if *path == file), "{err}");
        assert_eq!(err.to_string(), format!("data_dir {} is not a directory", file.display()));
    }
}

#[test]
fn a_path_that_cannot_be_created_names_the_path_and_the_os_error() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("plain-file"), b"x").unwrap();
    let below_a_file = dir.path().join("plain-file").join("data");
    let err = Store::open(&below_a_file, OpenMode::ReadWrite).unwrap_err();
    assert!(matches!(&err, StorageError::CreateDir { path, .. } if *path == below_a_file), "{err}");
    let message = err.to_string();
    assert!(message.contains(&below_a_file.display().to_string()) && message.contains("Not a directory"), "{message}");
}

/// A directory this process cannot write to. Permission bits do not stop
/// root, so as root the test uses /sys (sysfs refuses new files), as the
/// probe in `Store::open` is meant to catch exactly such cases.
fn unwritable_dir(scratch: &Path) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let locked = scratch.join("read-only");
    fs::create_dir(&locked).unwrap();
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o555)).unwrap();
    if fs::write(locked.join("probe"), b"x").is_err() {
        return Some(locked);
    }
    let sys = PathBuf::from("/sys");
    let sys_refuses = sys.is_dir() && fs::write(sys.join("switchboard-probe"), b"x").is_err();
    sys_refuses.then_some(sys)
}

#[test]
fn a_directory_that_is_not_writable_is_refused_with_the_os_error() {
    let scratch = tempfile::tempdir().unwrap();
    let Some(dir) = unwritable_dir(scratch.path()) else {
        eprintln!("skipped: no unwritable directory on this machine");
        return;
    };
    let err = Store::open(&dir, OpenMode::ReadWrite).unwrap_err();
    assert!(matches!(&err, StorageError::NotWritable { path, .. } if *path == dir), "{err}");
    let message = err.to_string();
    assert!(message.starts_with(&format!("data_dir {} is not writable: ", dir.display())), "{message}");
    assert!(!dir.join("LOCK").exists() && !dir.join("log").exists());
    // Reading is another matter.
    Store::open(&dir, OpenMode::ReadOnly).unwrap();
}

#[test]
fn read_only_writes_nothing_and_needs_an_existing_dir() {
    let scratch = tempfile::tempdir().unwrap();
    let missing = scratch.path().join("missing");
    let err = Store::open(&missing, OpenMode::ReadOnly).unwrap_err();
    assert!(matches!(&err, StorageError::DirMissing { path } if *path == missing), "{err}");
    assert!(!missing.exists());

    let empty = scratch.path().join("empty");
    fs::create_dir(&empty).unwrap();
    let store = Store::open(&empty, OpenMode::ReadOnly).unwrap();
    let recovery = store.recover().unwrap();
    assert_eq!((recovery.next_lsn, recovery.records.count()), (1, 0));
    assert!(matches!(store.start_writer(WriterOptions::default(), 1, |_| {}), Err(StorageError::ReadOnly)));
    assert_eq!(fs::read_dir(&empty).unwrap().count(), 0, "read-only created files");
}
