//! Fault injection for tests: make the log writer's writes or syncs fail the
//! way a full or failing disk would, then let them succeed again.
//!
//! ```
//! use switchboard_storage::{Faults, WriteFault};
//!
//! let faults = Faults::enabled();
//! // Write 10 bytes of the next write, then fail it (and every later one) with "no space left".
//! faults.fail_writes(WriteFault::Partial { bytes: 10 });
//! // ... submit batches; progress reports healthy: false while the writer retries ...
//! faults.clear();
//! // ... the writer's next retry succeeds.
//! # assert_eq!(faults.injected(), 0);
//! ```

use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

/// A switch a test holds to make the writer's I/O fail. Clones share it.
///
/// [`Faults::default`] is disabled and costs one branch per write: the
/// server passes it in production.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    state: Option<Arc<FaultState>>,
}

/// How writes fail while [`Faults::fail_writes`] is in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteFault {
    /// Nothing is written; the write fails with "no space left on device".
    Fail,
    /// The first `bytes` bytes are written, then the write fails: what a disk
    /// that fills up in the middle of a write does.
    Partial { bytes: usize },
}

#[derive(Debug, Default)]
struct FaultState {
    /// 0: writes succeed; 1: fail; 2: partial.
    write_mode: AtomicUsize,
    partial_bytes: AtomicUsize,
    /// Non-zero: syncs fail.
    sync_fails: AtomicUsize,
    injected: AtomicU64,
}

const WRITES_OK: usize = 0;
const WRITES_FAIL: usize = 1;
const WRITES_PARTIAL: usize = 2;

impl Faults {
    /// A switch that injects nothing until told to.
    pub fn enabled() -> Faults {
        Faults { state: Some(Arc::default()) }
    }

    /// Every write from now on fails as `fault` says, until [`Faults::clear`].
    pub fn fail_writes(&self, fault: WriteFault) {
        let state = self.state();
        if let WriteFault::Partial { bytes } = fault {
            state.partial_bytes.store(bytes, Ordering::SeqCst);
        }
        let mode = if fault == WriteFault::Fail { WRITES_FAIL } else { WRITES_PARTIAL };
        state.write_mode.store(mode, Ordering::SeqCst);
    }

    /// Every fdatasync from now on fails with an I/O error, until [`Faults::clear`].
    pub fn fail_syncs(&self) {
        self.state().sync_fails.store(1, Ordering::SeqCst);
    }

    /// Writes and syncs succeed again.
    pub fn clear(&self) {
        let state = self.state();
        state.write_mode.store(WRITES_OK, Ordering::SeqCst);
        state.sync_fails.store(0, Ordering::SeqCst);
    }

    /// How many failures were injected so far: lets a test wait until the writer has hit one.
    pub fn injected(&self) -> u64 {
        self.state.as_ref().map_or(0, |state| state.injected.load(Ordering::SeqCst))
    }

    fn state(&self) -> &FaultState {
        self.state.as_ref().expect("Faults::default() is disabled: use Faults::enabled() to inject faults")
    }

    /// `out.write_all(bytes)`, unless a write fault is in force.
    pub(crate) fn write_all(&self, out: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
        let Some(state) = &self.state else { return out.write_all(bytes) };
        match state.write_mode.load(Ordering::SeqCst) {
            WRITES_FAIL => Err(state.inject(no_space())),
            WRITES_PARTIAL => {
                let written = state.partial_bytes.load(Ordering::SeqCst).min(bytes.len());
                out.write_all(&bytes[..written])?;
                Err(state.inject(no_space()))
            }
            _ => out.write_all(bytes),
        }
    }

    /// An error to return instead of syncing, if a sync fault is in force.
    pub(crate) fn sync_error(&self) -> Option<io::Error> {
        let state = self.state.as_ref()?;
        (state.sync_fails.load(Ordering::SeqCst) != 0)
            .then(|| state.inject(io::Error::other("injected fault: fdatasync failed (EIO)")))
    }
}

impl FaultState {
    fn inject(&self, err: io::Error) -> io::Error {
        self.injected.fetch_add(1, Ordering::SeqCst);
        err
    }
}

fn no_space() -> io::Error {
    io::Error::new(io::ErrorKind::StorageFull, "injected fault: no space left on device")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_write_writes_the_first_bytes_then_fails() {
        let faults = Faults::enabled();
        faults.fail_writes(WriteFault::Partial { bytes: 3 });
        let mut out = Vec::new();
        let err = faults.write_all(&mut out, b"abcdef").unwrap_err();
        assert_eq!((out.as_slice(), err.kind()), (&b"abc"[..], io::ErrorKind::StorageFull));
        faults.clear();
        faults.write_all(&mut out, b"gh").unwrap();
        assert_eq!((out.as_slice(), faults.injected()), (&b"abcgh"[..], 1));
    }

    #[test]
    fn disabled_faults_never_inject() {
        let faults = Faults::default();
        let mut out = Vec::new();
        faults.write_all(&mut out, b"abc").unwrap();
        assert!(faults.sync_error().is_none());
        assert_eq!(faults.injected(), 0);
    }
}
