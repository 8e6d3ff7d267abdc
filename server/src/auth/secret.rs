//! Where the HS256 signing secret comes from when the config gives none.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use tracing::{info, warn};

use crate::config::{Config, StorageMode, MIN_SECRET_BYTES};

/// The file in `data_dir` that keeps a generated secret across restarts.
pub const SECRET_FILE: &str = "auth-secret";

/// `auth.secret`, else the one in `data_dir` (created on first start), else
/// (memory mode) a new one for this process only. Never logged.
pub fn signing_secret(config: &Config) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = &config.auth.secret {
        return Ok(secret.0.as_bytes().to_vec());
    }
    match config.storage.mode {
        StorageMode::Memory => {
            warn!("auth.secret is not set and storage.mode is memory: tokens are signed with a random secret of this process and end with it");
            Ok(random_secret().into_bytes())
        }
        StorageMode::File => load_or_create(&config.storage.data_dir.join(SECRET_FILE)),
    }
}

/// 256 random bits, as 64 hex characters.
fn random_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The secret kept in `path`, made (random, mode 0600) on first use; the
/// chat receipts' key is kept the same way (`quality::receipt`).
pub(crate) fn load_or_create(path: &Path) -> anyhow::Result<Vec<u8>> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let secret = text.trim();
            anyhow::ensure!(
                secret.len() >= MIN_SECRET_BYTES,
                "{}: the signing secret is shorter than {MIN_SECRET_BYTES} bytes",
                path.display()
            );
            Ok(secret.as_bytes().to_vec())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(path),
        Err(e) => Err(e).with_context(|| format!("cannot read the signing secret {}", path.display())),
    }
}

fn create(path: &Path) -> anyhow::Result<Vec<u8>> {
    let secret = random_secret();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(secret.as_bytes())?;
    file.sync_all()?;
    info!(path = %path.display(), "created a random secret (the config sets none)");
    Ok(secret.into_bytes())
}
