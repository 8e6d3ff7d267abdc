//! Attacks on sign-in and the agent handshake (docs/security.md): every bad
//! token refused with its code, roles enforced per command, expiry and
//! renewal on a live connection, passwords, brute force, disabled agents,
//! external keys and key confusion.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine;
use common::{
    config, http_post, login, sample, start, token_for, token_with_role, with_bearer, Client, Side, TEST_SECRET,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use switchboard_server::auth::password;
use switchboard_server::auth::token::unix_now;
use switchboard_server::auth::Role;
use switchboard_server::config::{Config, KeyAlgorithm, Secret};

const ANN_PASSWORD: &str = "correct horse battery staple";
const ADMIN_PASSWORD: &str = "admin password for tests";

/// The test roster with passwords: ann (agent), sue (supervisor), and `ada`, an admin.
fn auth_config(extra: &str) -> Config {
    let admin = "[[router.agents]]\nid = \"ada\"\nrole = \"supervisor\"\ngroups = []\n";
    let mut config = config(600.0, &format!("{extra}\n{admin}"));
    config.accounts.password_hashes.insert("ann".into(), Secret(password::hash(ANN_PASSWORD)));
    config.accounts.password_hashes.insert("ada".into(), Secret(password::hash(ADMIN_PASSWORD)));
    config.accounts.admins.insert("ada".into());
    config
}

fn agent_url(addr: std::net::SocketAddr, query: &str) -> String {
    format!("ws://{addr}/v1/ws/agent{query}")
}

/// Claims as JSON, for tokens the server's own signer would never make.
fn claims(sub: &str, role: &str, exp: u64) -> Value {
    json!({"sub": sub, "role": role, "exp": exp, "iat": unix_now(), "jti": "test"})
}

fn hs256(claims: &Value, key: &[u8]) -> String {
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(key)).unwrap()
}

/// A token with `alg: none` and no signature.
fn alg_none(claims: &Value) -> String {
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    format!("{}.{}.", b64(&json!({"alg": "none", "typ": "JWT"})), b64(claims))
}

/// Connects with `token` (if any) and expects one error frame with `code`, then close 1008.
async fn refused_handshake(url: &str, token: Option<&str>, code: &str) {
    let request = match token {
        Some(t) => with_bearer(url, t),
        None => tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(url).unwrap(),
    };
    let mut c = Client::connect_with(request, Side::Agent).await;
    let error = c.expect("error").await;
    assert_eq!(error["code"], code, "{url}: {error}");
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(c.expect_close().await, Some(1008), "{code}: close code");
}

#[tokio::test]
async fn every_bad_token_is_refused_with_its_code() {
    let server = start(auth_config("")).await;
    let url = agent_url(server.public_addr, "");
    let hour = unix_now() + 3600;

    refused_handshake(&url, None, "token_missing").await;
    refused_handshake(&url, Some("not-a-jwt"), "token_invalid").await;
    refused_handshake(&url, Some("a.b.c"), "token_invalid").await;
    let wrong_key = hs256(&claims("ann", "agent", hour), b"another-secret-another-secret-another-secret");
    refused_handshake(&url, Some(&wrong_key), "token_invalid").await;
    refused_handshake(&url, Some(&alg_none(&claims("ann", "agent", hour))), "token_invalid").await;
    let expired = hs256(&claims("ann", "agent", unix_now() - 10), TEST_SECRET.as_bytes());
    refused_handshake(&url, Some(&expired), "token_expired").await;
    let mut later = claims("ann", "agent", hour);
    later["nbf"] = json!(unix_now() + 600);
    refused_handshake(&url, Some(&hs256(&later, TEST_SECRET.as_bytes())), "token_not_yet_valid").await;
    let mut future = claims("ann", "agent", hour);
    future["iat"] = json!(unix_now() + 600);
    refused_handshake(&url, Some(&hs256(&future, TEST_SECRET.as_bytes())), "token_not_yet_valid").await;
    let no_role = json!({"sub": "ann", "exp": hour, "iat": unix_now(), "jti": "x"});
    refused_handshake(&url, Some(&hs256(&no_role, TEST_SECRET.as_bytes())), "token_invalid").await;
    refused_handshake(&url, Some(&token_for("mallory")), "unknown_agent").await;
    // An agent claiming a role the roster does not give them.
    refused_handshake(&url, Some(&token_with_role("ann", Role::Supervisor)), "forbidden").await;
    // A valid token for someone else than ?agent=.
    refused_handshake(&agent_url(server.public_addr, "?agent=sue"), Some(&token_for("ann")), "forbidden").await;

    // The token in the URL is not read (it would end up in access logs).
    let in_query = agent_url(server.public_addr, &format!("?token={}", token_for("ann")));
    refused_handshake(&in_query, None, "token_missing").await;

    // A valid token: the agent is the token's `sub`, no ?agent= needed.
    let mut ann = Client::connect_with(with_bearer(&url, &token_for("ann")), Side::Agent).await;
    let welcome = ann.expect("welcome").await;
    assert_eq!(welcome["agent"], "ann");
    assert_eq!(welcome["role"], "agent");
    ann.ok(json!({"type": "ping"})).await;
    // Programs that can set headers may send `Authorization: Bearer` instead.
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(url.as_str()).unwrap();
    let header = format!("Bearer {}", token_for("ben")).parse().unwrap();
    request.headers_mut().insert("authorization", header);
    let mut ben = Client::connect_with(request, Side::Agent).await;
    assert_eq!(ben.expect("welcome").await["agent"], "ben");

    let metrics = common::http_get(server.admin_addr, "/metrics").await.1;
    assert!(sample(&metrics, "switchboard_protocol_errors_total{code=\"token_invalid\"}").unwrap() >= 5.0);
}

#[tokio::test]
async fn roles_are_checked_for_every_command() {
    let server = start(auth_config("")).await;
    let addr = server.public_addr;
    let mut ann = Client::agent(addr, "ann").await;
    // An agent's token never gets the supervisors' snapshot.
    ann.refused(json!({"type": "snapshot"}), "supervisors_only").await;
    let mut sue = Client::agent(addr, "sue").await;
    let snapshot = sue.command(json!({"type": "snapshot"})).await;
    assert_eq!(snapshot["type"], "ack", "{snapshot}");
    // Supervisors take no sessions (the router's rule, unchanged).
    sue.refused(json!({"type": "set_availability", "state": "available"}), "supervisor_cannot_serve").await;
    // An admin is a supervisor to the router: the snapshot, no sessions.
    let ada_token = token_with_role("ada", Role::Admin);
    let mut ada = Client::connect_with(with_bearer(&agent_url(addr, ""), &ada_token), Side::Agent).await;
    assert_eq!(ada.expect("welcome").await["agent"], "ada");
    assert_eq!(ada.command(json!({"type": "snapshot"})).await["type"], "ack");
    // The admin API takes admin tokens only.
    let path = "/v1/admin/agents/ben/disable";
    let by_supervisor = http_post(server.admin_addr, path, Some(&token_for("sue")), "").await;
    assert_eq!((by_supervisor.status, by_supervisor.json()["code"].clone()), (403, json!("forbidden")));
    let anonymous = http_post(server.admin_addr, path, None, "").await;
    assert_eq!((anonymous.status, anonymous.json()["code"].clone()), (401, json!("token_missing")));
}

/// A token that expires in `secs` seconds.
fn short_token(agent: &str, secs: u64) -> String {
    hs256(&claims(agent, "agent", unix_now() + secs), TEST_SECRET.as_bytes())
}

#[tokio::test]
async fn an_expired_token_ends_a_live_connection_unless_renewed() {
    let server = start(auth_config("")).await;
    let url = agent_url(server.public_addr, "");

    let mut expiring = Client::connect_with(with_bearer(&url, &short_token("ann", 2)), Side::Agent).await;
    expiring.expect("state").await;
    let started = Instant::now();
    let error = expiring.expect("error").await;
    assert_eq!(error["code"], "token_expired", "{error}");
    assert_eq!(expiring.expect_close().await, Some(1008));
    assert!(started.elapsed() < Duration::from_secs(4), "closed {:?} after connecting", started.elapsed());

    let mut renewed = Client::connect_with(with_bearer(&url, &short_token("ben", 2)), Side::Agent).await;
    renewed.expect("state").await;
    renewed.ok(json!({"type": "token", "token": token_for("ben")})).await;
    // A token for someone else, or a bad one, is refused and the connection lives on.
    renewed.refused(json!({"type": "token", "token": token_for("ann")}), "forbidden").await;
    renewed.refused(json!({"type": "token", "token": "junk"}), "token_invalid").await;
    renewed.expect_none("error", Duration::from_secs(3)).await;
    renewed.ok(json!({"type": "ping"})).await;
}

#[tokio::test]
async fn sign_in_renew_and_the_same_answer_for_unknown_agents() {
    let server = start(auth_config("[auth]\nlogin_per_account = 50\nlogin_per_ip = 100\n")).await;
    let (addr, admin) = (server.public_addr, server.admin_addr);

    let ok = login(addr, "ann", ANN_PASSWORD).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let body = ok.json();
    assert_eq!(body["role"], "agent");
    assert!(body["expires_at"].as_u64().unwrap() > unix_now() * 1000);
    let token = body["token"].as_str().unwrap().to_owned();
    let mut ann = Client::connect_with(with_bearer(&agent_url(addr, ""), &token), Side::Agent).await;
    assert_eq!(ann.expect("welcome").await["agent"], "ann");

    let renewed = http_post(addr, "/v1/token/renew", Some(&token), "").await;
    assert_eq!(renewed.status, 200, "{}", renewed.body);
    assert_ne!(renewed.json()["token"], body["token"], "a fresh token (new jti)");
    let expired = short_token("ann", 0);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let late = http_post(addr, "/v1/token/renew", Some(&expired), "").await;
    assert_eq!((late.status, late.json()["code"].clone()), (401, json!("token_expired")));

    // Wrong password and unknown agent: the same answer, and both ran argon2.
    let checks = || async {
        let text = common::http_get(admin, "/metrics").await.1;
        sample(&text, "switchboard_password_checks_total").unwrap()
    };
    let mut times = [Vec::new(), Vec::new()];
    for _ in 0..3 {
        for (i, agent) in ["ann", "nobody"].into_iter().enumerate() {
            let before = checks().await;
            let started = Instant::now();
            let answer = login(addr, agent, "wrong password").await;
            times[i].push(started.elapsed());
            assert_eq!(answer.status, 401, "{agent}: {}", answer.body);
            assert_eq!(answer.json()["code"], "invalid_credentials");
            assert_eq!(answer.json()["message"], "wrong agent id or password");
            assert_eq!(checks().await, before + 1.0, "{agent}: one argon2 verification");
        }
    }
    // Loose on purpose (a shared machine): an unknown id is not answered much faster.
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[1]
    };
    let (wrong, unknown) = (median(&mut times[0]), median(&mut times[1]));
    assert!(unknown * 4 >= wrong, "unknown agent {unknown:?} vs wrong password {wrong:?}");
    let metrics = common::http_get(admin, "/metrics").await.1;
    assert_eq!(sample(&metrics, "switchboard_login_failures_total{reason=\"invalid_credentials\"}"), Some(6.0));

    let bad = http_post(addr, "/v1/login", None, "{\"agent\": 1}").await;
    assert_eq!((bad.status, bad.json()["code"].clone()), (400, json!("invalid_request")));
}

#[tokio::test]
async fn brute_force_hits_the_limit() {
    let server = start(auth_config("[auth]\nlogin_per_account = 3\nlogin_per_ip = 100\n")).await;
    let addr = server.public_addr;
    for _ in 0..3 {
        assert_eq!(login(addr, "ann", "guess").await.status, 401);
    }
    let limited = login(addr, "ann", ANN_PASSWORD).await;
    assert_eq!(limited.status, 429, "{}", limited.body);
    assert_eq!(limited.json()["code"], "login_rate_limited");
    let retry: u64 = limited.header("retry-after").expect("Retry-After").parse().unwrap();
    assert!((1..=61).contains(&retry), "{retry}");
    // Another account from the same address is not locked out by it.
    assert_eq!(login(addr, "ada", ADMIN_PASSWORD).await.status, 200);

    let server = start(auth_config("[auth]\nlogin_per_account = 100\nlogin_per_ip = 2\n")).await;
    let addr = server.public_addr;
    assert_eq!(login(addr, "ann", "guess").await.status, 401);
    assert_eq!(login(addr, "ben", "guess").await.status, 401);
    assert_eq!(login(addr, "sue", "guess").await.status, 429, "per IP, whichever account");
}

#[tokio::test]
async fn a_disabled_agent_is_cut_off_refused_and_stays_disabled_after_a_restart() {
    let dir = tempfile::Builder::new().prefix("auth-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let with_dir = || {
        let mut config = auth_config("");
        config.storage.data_dir = dir.path().to_owned();
        config
    };
    let server = start(with_dir()).await;
    let (addr, admin) = (server.public_addr, server.admin_addr);
    let ada = login(addr, "ada", ADMIN_PASSWORD).await.json()["token"].as_str().unwrap().to_owned();
    let ann_token = login(addr, "ann", ANN_PASSWORD).await.json()["token"].as_str().unwrap().to_owned();
    let mut ann = Client::available_agent(addr, "ann").await;

    let started = Instant::now();
    let disabled = http_post(admin, "/v1/admin/agents/ann/disable", Some(&ada), "").await;
    assert_eq!(disabled.status, 200, "{}", disabled.body);
    assert_eq!(disabled.json(), json!({"agent": "ann", "disabled": true}));
    assert_eq!(ann.expect("error").await["code"], "agent_disabled");
    assert_eq!(ann.expect_close().await, Some(1008));
    assert!(started.elapsed() < Duration::from_secs(2), "cut off after {:?}", started.elapsed());

    let answer = login(addr, "ann", ANN_PASSWORD).await;
    assert_eq!((answer.status, answer.json()["code"].clone()), (403, json!("agent_disabled")));
    let renew = http_post(addr, "/v1/token/renew", Some(&ann_token), "").await;
    assert_eq!((renew.status, renew.json()["code"].clone()), (403, json!("agent_disabled")));
    refused_handshake(&agent_url(addr, ""), Some(&ann_token), "agent_disabled").await;
    let unknown = http_post(admin, "/v1/admin/agents/nobody/disable", Some(&ada), "").await;
    assert_eq!((unknown.status, unknown.json()["code"].clone()), (404, json!("unknown_agent")));
    server.shutdown().await.unwrap();

    let server = start(with_dir()).await;
    let answer = login(server.public_addr, "ann", ANN_PASSWORD).await;
    assert_eq!(answer.json()["code"], "agent_disabled", "the list survives a restart");
    let enabled = http_post(server.admin_addr, "/v1/admin/agents/ann/enable", Some(&ada), "").await;
    assert_eq!(enabled.status, 200, "{}", enabled.body);
    assert_eq!(login(server.public_addr, "ann", ANN_PASSWORD).await.status, 200);
}

/// An openssl key pair in `dir`: (private PEM, public PEM file).
fn key_pair(dir: &Path, algorithm: &[&str]) -> (Vec<u8>, PathBuf) {
    let private = dir.join("private.pem");
    let public = dir.join("public.pem");
    let run = |args: &[&str]| {
        let out = Command::new("openssl").args(args).output().expect("the openssl CLI");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let mut genpkey = vec!["genpkey"];
    genpkey.extend_from_slice(algorithm);
    genpkey.extend_from_slice(&["-out", private.to_str().unwrap()]);
    run(&genpkey);
    run(&["pkey", "-in", private.to_str().unwrap(), "-pubout", "-out", public.to_str().unwrap()]);
    (std::fs::read(&private).unwrap(), public)
}

/// A server that takes tokens signed by a fresh openssl key of `alg`, its
/// `data_dir` in the key's folder: (server, private PEM, public PEM, folder).
async fn external_server(alg: KeyAlgorithm) -> (common::TestServer, Vec<u8>, Vec<u8>, tempfile::TempDir) {
    let dir = tempfile::Builder::new().prefix("keys-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let genpkey: &[&str] = match alg {
        KeyAlgorithm::RS256 => &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        KeyAlgorithm::EdDSA => &["-algorithm", "ed25519"],
    };
    let (private, public) = key_pair(dir.path(), genpkey);
    let mut config = auth_config("");
    config.auth.secret = None;
    config.auth.public_key_file = Some(public.clone());
    config.auth.public_key_alg = Some(alg);
    config.storage.data_dir = dir.path().join("data");
    let server = start(config).await;
    (server, private, std::fs::read(&public).unwrap(), dir)
}

fn sign_with(alg: KeyAlgorithm, claims: &Value, private: &[u8]) -> String {
    let (header, key) = match alg {
        KeyAlgorithm::RS256 => (Header::new(Algorithm::RS256), EncodingKey::from_rsa_pem(private).unwrap()),
        KeyAlgorithm::EdDSA => (Header::new(Algorithm::EdDSA), EncodingKey::from_ed_pem(private).unwrap()),
    };
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

#[tokio::test]
async fn an_external_key_is_the_only_verifier_and_its_algorithm_is_pinned() {
    let hour = unix_now() + 3600;
    for alg in [KeyAlgorithm::RS256, KeyAlgorithm::EdDSA] {
        let (server, private, public_pem, dir) = external_server(alg).await;
        let url = agent_url(server.public_addr, "");
        let signed = sign_with(alg, &claims("ann", "agent", hour), &private);
        let mut ann = Client::connect_with(with_bearer(&url, &signed), Side::Agent).await;
        assert_eq!(ann.expect("welcome").await["agent"], "ann", "{alg:?}");

        // Key confusion: HS256 "signed" with the public key's PEM bytes.
        let confused = hs256(&claims("ben", "agent", hour), &public_pem);
        refused_handshake(&url, Some(&confused), "token_invalid").await;
        // Tokens of an embedded secret are not accepted beside the external key.
        refused_handshake(&url, Some(&token_for("ben")), "token_invalid").await;
        refused_handshake(&url, Some(&alg_none(&claims("ben", "agent", hour))), "token_invalid").await;
        // The company's backend issues tokens: no login, no renewal, no secret here.
        let answer = login(server.public_addr, "ann", ANN_PASSWORD).await;
        assert_eq!((answer.status, answer.json()["code"].clone()), (404, json!("login_disabled")));
        let renew = http_post(server.public_addr, "/v1/token/renew", Some(&signed), "").await;
        assert_eq!(renew.json()["code"], "login_disabled");
        assert!(!dir.path().join("data/auth-secret").exists());
        // In-band renewal takes the company's tokens.
        ann.ok(json!({"type": "token", "token": sign_with(alg, &claims("ann", "agent", hour), &private)})).await;
    }
}

#[tokio::test]
async fn without_a_secret_one_is_created_in_the_data_dir_and_kept() {
    let dir = tempfile::Builder::new().prefix("secret-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let with_dir = || {
        let mut config = auth_config("");
        config.auth.secret = None;
        config.storage.data_dir = dir.path().to_owned();
        config
    };
    let server = start(with_dir()).await;
    let token = login(server.public_addr, "ann", ANN_PASSWORD).await.json()["token"].as_str().unwrap().to_owned();
    let file = dir.path().join("auth-secret");
    let secret = std::fs::read_to_string(&file).unwrap();
    assert_eq!(secret.len(), 64, "256 bits in hex");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    server.shutdown().await.unwrap();

    let server = start(with_dir()).await;
    let renewed = http_post(server.public_addr, "/v1/token/renew", Some(&token), "").await;
    assert_eq!(renewed.status, 200, "a token of the first run is still good: {}", renewed.body);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), secret);
}
