//! `[quality]`: limits of the spot check and complaint API (`docs/quality.md`).

use serde::Deserialize;

use super::ConfigLoadError;

/// The keys of `[quality]` (the default file lists each: a test holds them together).
#[cfg(test)]
const KEYS: [&str; 1] = ["complaints_per_ip"];

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QualityConfig {
    /// New complaints (`POST /v1/complaints`) one client IP may file per
    /// minute, refused or not; past it `429 rate_limited`. Read at start.
    pub complaints_per_ip: u32,
}

impl Default for QualityConfig {
    fn default() -> Self {
        QualityConfig { complaints_per_ip: 10 }
    }
}

impl QualityConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigLoadError> {
        if self.complaints_per_ip == 0 {
            // Zero would mean nobody can ever complain: not a limit but an outage.
            return Err(ConfigLoadError::key("quality.complaints_per_ip", "must be at least 1"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn config(section: &str) -> Result<Config, crate::config::ConfigLoadError> {
        Config::from_toml_str(&format!(
            "{section}\n[gateway]\nallowed_origins = [\"https://shop.example\"]\n[[router.groups]]\nid = \"general\"\n"
        ))
    }

    #[test]
    fn the_limit_is_read_and_defaults_to_ten() {
        assert_eq!(config("").unwrap().quality.complaints_per_ip, 10);
        assert_eq!(config("[quality]\ncomplaints_per_ip = 3").unwrap().quality.complaints_per_ip, 3);
    }

    #[test]
    fn bad_values_name_their_key() {
        for section in [
            "[quality]\ncomplaints_per_ip = 0",
            "[quality]\ncomplaints_per_ip = -1",
            "[quality]\ncomplaints_per_ip = \"ten\"",
        ] {
            let err = config(section).unwrap_err();
            assert!(err.key_name().is_some_and(|k| k.starts_with("quality.complaints_per_ip")), "{section}: {err}");
        }
        let err = config("[quality]\ncomplaint_per_ip = 3").unwrap_err();
        assert!(err.key_name().is_some_and(|k| k.starts_with("quality")), "an unknown key: {err}");
    }

    /// `config/default.toml` sets every key of `[quality]` to its default, with a comment.
    #[test]
    fn the_default_file_lists_every_key_with_its_default_and_a_comment() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/default.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        let file: toml::Table = text.parse().unwrap();
        let section = file["quality"].as_table().unwrap();
        for key in super::KEYS {
            assert!(section.contains_key(key), "config/default.toml [quality] leaves out {key}");
            let line = text.lines().find(|l| l.starts_with(&format!("{key} ="))).unwrap();
            assert!(line.contains('#'), "`{line}` has no comment");
        }
        assert_eq!(section.len(), super::KEYS.len(), "a key in the file that the server does not know");
        let config = Config::load(Some(&path), Vec::new()).unwrap();
        assert_eq!(config.quality, super::QualityConfig::default());
    }
}
