//! Who may connect as which agent, and with what role (see `docs/security.md`).
//!
//! Only the gateway uses this: the session layer and the router get an agent
//! id that has already been checked, and nothing here reaches the input log.

pub mod barred;
pub mod disabled;
pub mod http;
pub mod password;
pub mod secret;
pub mod token;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::RwLock;
use std::time::Duration;

use anyhow::Context;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::{Deserialize, Serialize};
use switchboard_protocol::code;
use tokio::sync::watch;
use tracing::info;

use crate::config::{Config, Secret, StorageMode};
use crate::metrics::{Metrics, LOGIN_FAILURES, PASSWORD_CHECKS};
use crate::router::config::Role as RosterRole;
use disabled::DisabledAgents;
use token::{Issued, Signer, Verifier};

/// What a token allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Own sessions only.
    Agent,
    /// The snapshot and supervisor view; takes no sessions.
    Supervisor,
    /// What a supervisor may, and the admin endpoints.
    Admin,
}

impl Role {
    /// May this role see every group and agent (the `snapshot`)?
    pub fn may_supervise(self) -> bool {
        matches!(self, Role::Supervisor | Role::Admin)
    }
}

/// Why a token, a sign-in, a command or a handshake was refused: a stable
/// code and a sentence; serialized as the `{code, message}` body of HTTP refusals.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    pub fn new(code: &'static str, message: impl Into<String>) -> Refusal {
        Refusal { code, message: message.into() }
    }
}

/// A checked token: who, with which role, until when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub agent: String,
    pub role: Role,
    /// Unix seconds.
    pub expires_at: u64,
}

/// A roster entry as sign-in sees it.
#[derive(Clone, Debug)]
struct Account {
    role: Role,
    password_hash: Option<Secret>,
}

/// Everything the gateway needs to authenticate and authorise.
#[derive(Debug)]
pub struct Auth {
    verifier: Verifier,
    /// `None` with an external key: that company's backend issues the tokens.
    signer: Option<Signer>,
    /// Replaced whole when the config is reloaded.
    accounts: RwLock<BTreeMap<String, Account>>,
    disabled: DisabledAgents,
    /// Suspended and disqualified agents, from the last discipline computed (`crate::discipline`).
    barred: barred::Barred,
    limits: LoginLimits,
    /// Argon2 runs at once: each takes ~19 MiB and a core for tens of
    /// milliseconds, so a flood of logins from many addresses waits here
    /// instead of exhausting memory and the blocking pool.
    password_slots: tokio::sync::Semaphore,
    metrics: Metrics,
}

impl Auth {
    /// Reads the key or secret (creating one in `data_dir` if needed) and the disabled list.
    pub fn new(config: &Config, metrics: Metrics) -> anyhow::Result<Auth> {
        let (verifier, signer) = match (&config.auth.public_key_file, config.auth.public_key_alg) {
            (Some(path), Some(alg)) => {
                let pem = std::fs::read(path).with_context(|| format!("auth.public_key_file {}", path.display()))?;
                let verifier = Verifier::public_key(&pem, alg)
                    .with_context(|| format!("auth.public_key_file {} is not a {alg:?} public key", path.display()))?;
                info!(alg = ?alg, "tokens are checked with the configured public key; /v1/login is off");
                (verifier, None)
            }
            _ => {
                let secret = secret::signing_secret(config)?;
                (Verifier::hs256(&secret), Some(Signer::hs256(&secret, config.auth.token_ttl)))
            }
        };
        let disabled_path =
            (config.storage.mode == StorageMode::File).then(|| config.storage.data_dir.join(disabled::DISABLED_FILE));
        let disabled = DisabledAgents::load(disabled_path).context("cannot read the disabled agents list")?;
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Ok(Auth {
            verifier,
            signer,
            accounts: RwLock::new(accounts(config)),
            disabled,
            barred: barred::Barred::default(),
            limits: LoginLimits::new(config),
            password_slots: tokio::sync::Semaphore::new(cores),
            metrics,
        })
    }

    /// Checks a bearer token: valid, of a roster agent with the roster's role, not disabled.
    pub fn check(&self, token: Option<&str>) -> Result<Identity, Refusal> {
        let token = token.ok_or_else(|| Refusal::new(code::TOKEN_MISSING, "sign in first: no token was given"))?;
        let claims = self.verifier.verify(token)?;
        let identity = Identity { agent: claims.sub, role: claims.role, expires_at: claims.exp };
        self.may_stay(&identity)?;
        Ok(identity)
    }

    /// Whether a checked identity still holds: its agent on the roster with
    /// the same role, and not disabled. Live connections ask again whenever
    /// the roster or the disabled list changes.
    pub fn may_stay(&self, identity: &Identity) -> Result<(), Refusal> {
        let role = self.accounts().get(&identity.agent).map(|a| a.role);
        match role {
            None => Err(Refusal::new(code::UNKNOWN_AGENT, "the token names no agent of the roster")),
            Some(role) if role != identity.role => {
                Err(Refusal::new(code::FORBIDDEN, "the token's role is not the roster's role for this agent"))
            }
            Some(_) if self.disabled.contains(&identity.agent) => {
                Err(Refusal::new(code::AGENT_DISABLED, "this agent has been disabled by an admin"))
            }
            Some(_) => self.barred.refusal(&identity.agent).map_or(Ok(()), Err),
        }
    }

    /// Takes the suspended and disqualified agents of a new discipline
    /// computation; live connections of newly barred agents are closed.
    pub fn set_barred(&self, barred: std::collections::BTreeMap<String, switchboard_discipline::Bar>) {
        if self.barred.replace(barred) {
            self.disabled.notify();
        }
    }

    /// Why this agent may not sign in now because of discipline, if so.
    pub fn barred(&self, agent: &str) -> Option<Refusal> {
        self.barred.refusal(agent)
    }

    /// Takes the roster's accounts (passwords, roles) from a reloaded config
    /// and tells every live connection to check its agent again.
    pub fn replace_accounts(&self, config: &Config) {
        *self.accounts.write().expect("accounts lock") = accounts(config);
        self.disabled.notify();
    }

    fn accounts(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Account>> {
        self.accounts.read().expect("accounts lock")
    }

    /// A token for a live connection: it must be valid and name the connection's agent.
    pub fn check_renewal(&self, current: &Identity, token: Option<&str>) -> Result<Identity, Refusal> {
        let renewed = self.check(token)?;
        if renewed.agent != current.agent {
            return Err(Refusal::new(code::FORBIDDEN, "the token is for another agent than this connection's"));
        }
        Ok(renewed)
    }

    pub fn is_disabled(&self, agent: &str) -> bool {
        self.disabled.contains(agent)
    }

    /// Changes whenever an admin disables or enables an agent, or a reload
    /// replaces the roster: each live connection then asks [`Auth::may_stay`].
    pub fn access_changes(&self) -> watch::Receiver<u64> {
        self.disabled.subscribe()
    }

    pub fn knows(&self, agent: &str) -> bool {
        self.accounts().contains_key(agent)
    }

    pub(crate) fn disabled(&self) -> &DisabledAgents {
        &self.disabled
    }

    /// A new token for a checked identity (the role is the roster's).
    fn issue(&self, agent: &str) -> Option<Issued> {
        let role = self.accounts().get(agent)?.role;
        Some(self.signer.as_ref()?.issue(agent, role))
    }

    fn login_failed(&self, reason: &'static str) {
        self.metrics.counter(LOGIN_FAILURES, &[("reason", reason)]).increment(1);
    }

    fn password_checked(&self) {
        self.metrics.counter(PASSWORD_CHECKS, &[]).increment(1);
    }
}

/// Every roster entry with its sign-in role and password hash.
fn accounts(config: &Config) -> BTreeMap<String, Account> {
    let role_of = |id: &str, roster: RosterRole| match roster {
        _ if config.accounts.admins.contains(id) => Role::Admin,
        RosterRole::Supervisor => Role::Supervisor,
        RosterRole::Agent => Role::Agent,
    };
    config
        .router
        .agents
        .iter()
        .map(|a| {
            let id = a.id.as_str().to_owned();
            let account = Account {
                role: role_of(&id, a.role),
                password_hash: config.accounts.password_hashes.get(&id).cloned(),
            };
            (id, account)
        })
        .collect()
}

/// Login attempts per agent id and per client IP (token buckets).
#[derive(Debug)]
struct LoginLimits {
    per_account: DefaultKeyedRateLimiter<String>,
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
}

/// Keys kept before old ones are swept (random agent ids must not grow memory without end).
const LIMITER_SWEEP_AT: usize = 10_000;

impl LoginLimits {
    fn new(config: &Config) -> LoginLimits {
        let quota = |n: u32| Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN));
        LoginLimits {
            per_account: RateLimiter::keyed(quota(config.auth.login_per_account)),
            per_ip: RateLimiter::keyed(quota(config.auth.login_per_ip)),
        }
    }

    /// `Err(wait)` when either limit is reached.
    fn check(&self, agent: &str, ip: IpAddr) -> Result<(), Duration> {
        if self.per_account.len() > LIMITER_SWEEP_AT {
            self.per_account.retain_recent();
        }
        if self.per_ip.len() > LIMITER_SWEEP_AT {
            self.per_ip.retain_recent();
        }
        let now = DefaultClock::default().now();
        self.per_ip.check_key(&ip).map_err(|not_until| not_until.wait_time_from(now))?;
        self.per_account.check_key(&agent.to_owned()).map_err(|not_until| not_until.wait_time_from(now))
    }
}
