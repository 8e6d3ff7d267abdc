//! `[auth]` and the sign-in parts of the roster (see `docs/security.md`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::ConfigLoadError;

/// A value that must never reach a log: `Debug` prints `***`.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// The shortest `auth.secret` accepted: an HS256 key shorter than its hash is guessable.
pub const MIN_SECRET_BYTES: usize = 32;

/// How agents, supervisors and admins prove who they are.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// The HS256 signing secret of the tokens `/v1/login` issues (also
    /// `SWITCHBOARD_AUTH__SECRET`). Unset: a random one is created in
    /// `data_dir/auth-secret` on first start (per process in memory mode).
    pub secret: Option<Secret>,
    /// How long a token is valid; clients renew before it ends.
    #[serde(with = "humantime_serde")]
    pub token_ttl: Duration,
    /// A PEM public key of the company's own identity backend. When set, only
    /// tokens signed by it (with `public_key_alg`) are accepted and
    /// `/v1/login` is off: one verifier is active, never two.
    pub public_key_file: Option<PathBuf>,
    /// `RS256` or `EdDSA`: pinned, so no token can choose another algorithm.
    pub public_key_alg: Option<KeyAlgorithm>,
    /// Login attempts per agent id per minute (a burst of this many, then one
    /// every 60 s / n).
    pub login_per_account: u32,
    /// Login attempts per client IP per minute.
    pub login_per_ip: u32,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            secret: None,
            token_ttl: Duration::from_secs(15 * 60),
            public_key_file: None,
            public_key_alg: None,
            login_per_account: 5,
            login_per_ip: 30,
        }
    }
}

/// The algorithms an external key may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub enum KeyAlgorithm {
    RS256,
    EdDSA,
}

impl AuthConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigLoadError> {
        if self.token_ttl < Duration::from_secs(1) {
            return Err(ConfigLoadError::key("auth.token_ttl", "must be at least 1s"));
        }
        if self.secret.as_ref().is_some_and(|s| s.0.len() < MIN_SECRET_BYTES) {
            return Err(ConfigLoadError::key(
                "auth.secret",
                format!("must be at least {MIN_SECRET_BYTES} bytes (e.g. `openssl rand -hex 32`)"),
            ));
        }
        if self.public_key_file.is_some() != self.public_key_alg.is_some() {
            return Err(ConfigLoadError::key(
                "auth.public_key_alg",
                "auth.public_key_file and auth.public_key_alg (RS256 or EdDSA) go together",
            ));
        }
        for (key, value) in
            [("auth.login_per_account", self.login_per_account), ("auth.login_per_ip", self.login_per_ip)]
        {
            if value == 0 {
                return Err(ConfigLoadError::key(key, "must be at least 1"));
            }
        }
        Ok(())
    }
}

/// The sign-in side of the roster: password hashes and who is an admin.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Accounts {
    /// Agent id -> argon2id PHC string.
    pub password_hashes: BTreeMap<String, Secret>,
    /// Roster entries with `role = "admin"` (the router sees them as supervisors).
    pub admins: BTreeSet<String>,
}

impl Accounts {
    /// Removes `password_hash` from every `[[router.agents]]` entry and turns
    /// `role = "admin"` into `supervisor` for the router, keeping both here.
    pub(super) fn take_from(table: &mut toml::Table) -> Result<Accounts, ConfigLoadError> {
        let mut accounts = Accounts::default();
        let Some(toml::Value::Table(router)) = table.get_mut("router") else { return Ok(accounts) };
        let Some(toml::Value::Array(agents)) = router.get_mut("agents") else { return Ok(accounts) };
        for (i, agent) in agents.iter_mut().enumerate() {
            let toml::Value::Table(agent) = agent else { continue };
            let Some(toml::Value::String(id)) = agent.get("id").cloned() else { continue };
            if let Some(hash) = agent.remove("password_hash") {
                let key = format!("router.agents[{i}].password_hash");
                let toml::Value::String(hash) = hash else {
                    return Err(ConfigLoadError::key(key, "must be a string (switchboard hash-password prints one)"));
                };
                check_phc(&hash).map_err(|problem| ConfigLoadError::key(key, problem))?;
                accounts.password_hashes.insert(id.clone(), Secret(hash));
            }
            if agent.get("role").and_then(toml::Value::as_str) == Some("admin") {
                agent.insert("role".into(), toml::Value::String("supervisor".into()));
                accounts.admins.insert(id);
            }
        }
        Ok(accounts)
    }
}

/// An argon2id PHC string, or why not.
fn check_phc(hash: &str) -> Result<(), String> {
    let parsed = argon2::PasswordHash::new(hash)
        .map_err(|e| format!("not a PHC string ({e}); `switchboard hash-password` prints one"))?;
    if parsed.algorithm.as_str() != "argon2id" {
        return Err(format!("must be an argon2id hash, not {}", parsed.algorithm));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn roster(alice_extra: &str) -> String {
        format!(
            "[gateway]\nallowed_origins = [\"https://shop.example\"]\n\n[[router.groups]]\nid = \"general\"\n\n[[router.agents]]\nid = \"alice\"\ngroups = [{{ group = \"general\" }}]\n{alice_extra}\n\n[[router.agents]]\nid = \"root\"\nrole = \"admin\"\ngroups = []\n"
        )
    }

    const HASH_A: &str =
        "$argon2id$v=19$m=19456,t=2,p=1$gmQlF1u2Tx6i63Lq5DYIuQ$aHs7x3/nkf+6l7+93RQEQbVLfzmSDxfT6F245w+dN4U";
    const HASH_B: &str =
        "$argon2id$v=19$m=19456,t=2,p=1$vWfhPdM5ehJBU751T8qvLA$uOwAMdsyLBJjcEAKs6m3xCjbpTcekQXdtU1Kva85q98";

    #[test]
    fn passwords_and_admins_stay_out_of_the_router_and_a_new_password_is_no_roster_change() {
        let a = Config::from_toml_str(&roster(&format!("password_hash = \"{HASH_A}\""))).unwrap();
        let b = Config::from_toml_str(&roster(&format!("password_hash = \"{HASH_B}\""))).unwrap();
        assert_eq!(a.accounts.password_hashes["alice"].0, HASH_A);
        assert!(a.accounts.admins.contains("root"));
        assert_eq!(
            a.router.agents[1].role,
            crate::router::config::Role::Supervisor,
            "an admin is a supervisor to the router"
        );
        assert_eq!(a.router.agents, b.router.agents, "a password is not part of the router's roster");
        assert!(!format!("{a:?}").contains(HASH_A), "Debug hides the hashes");
    }

    #[test]
    fn the_default_config_signs_in_with_the_documented_demo_passwords() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/default.toml");
        let config = Config::load(Some(&path), Vec::new()).unwrap();
        for agent in &config.router.agents {
            let id = agent.id.as_str();
            let hash = config.accounts.password_hashes.get(id).unwrap_or_else(|| panic!("{id} has no password"));
            assert!(crate::auth::password::verify(Some(hash), &format!("{id}-demo")), "{id}: README says {id}-demo");
        }
        assert!(config.accounts.admins.contains("sam"));
    }

    #[test]
    fn the_secret_can_come_from_the_environment() {
        let mut table: toml::Table = roster("").parse().unwrap();
        let secret = "an-environment-secret-of-enough-bytes-0123";
        let set =
            crate::config::apply_env(&mut table, [("SWITCHBOARD_AUTH__SECRET".to_owned(), secret.to_owned())]).unwrap();
        let config = Config::from_table(table, &set).unwrap();
        assert_eq!(config.auth.secret.unwrap().0, secret);
    }

    #[test]
    fn bad_auth_values_name_their_key() {
        let err = Config::from_toml_str(&roster("password_hash = \"hunter2\"")).unwrap_err();
        assert_eq!(err.key_name(), Some("router.agents[0].password_hash"), "{err}");
        let err = Config::from_toml_str(&format!("[auth]\nsecret = \"short\"\n{}", roster(""))).unwrap_err();
        assert_eq!(err.key_name(), Some("auth.secret"), "{err}");
        let err = Config::from_toml_str(&format!("[auth]\npublic_key_file = \"k.pem\"\n{}", roster(""))).unwrap_err();
        assert_eq!(err.key_name(), Some("auth.public_key_alg"), "{err}");
        let err = Config::from_toml_str(&format!("[auth]\npublic_key_alg = \"HS256\"\n{}", roster(""))).unwrap_err();
        assert_eq!(err.key_name(), Some("auth.public_key_alg"), "{err}");
    }
}
