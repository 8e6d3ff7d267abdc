//! Chat receipts: the customer's proof, after a chat has ended, that it was
//! theirs. The resume token dies with the session (soon after the close),
//! but a complaint may come days later from the same browser, so the
//! `closed` frame carries a receipt: an HMAC of this server's records origin
//! and the session id under a key that never leaves the server. Nothing is
//! stored per chat, and a receipt names exactly one chat of one `data_dir`.
//!
//! The gateway stamps it on the way out ([`Stamper`]), not the session
//! layer: frames the session layer makes are logged, snapshotted and
//! replayed, and the key must stay out of all three (as tokens do).

use std::sync::Arc;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::{Config, StorageMode};
use crate::session::Frame;

/// The file in `data_dir` that keeps the receipts' key when `auth.secret` is not set.
pub const KEY_FILE: &str = "receipt-secret";

/// Signs and checks receipts for this server's chats.
pub struct Receipts {
    key: Vec<u8>,
    origin: String,
}

impl std::fmt::Debug for Receipts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receipts").field("origin", &self.origin).finish_non_exhaustive()
    }
}

impl Receipts {
    pub fn new(key: Vec<u8>, origin: &str) -> Receipts {
        Receipts { key, origin: origin.to_owned() }
    }

    /// The key: derived from `auth.secret` when set (servers sharing it share
    /// receipts' key, as they share tokens), else kept in `data_dir`, else
    /// (memory mode) this process's only.
    pub fn from_config(config: &Config, origin: &str) -> anyhow::Result<Receipts> {
        let key = match (&config.auth.secret, config.storage.mode) {
            (Some(secret), _) => mac(secret.0.as_bytes(), "switchboard chat receipts").finalize().into_bytes().to_vec(),
            (None, StorageMode::Memory) => rand::random::<[u8; 32]>().to_vec(),
            (None, StorageMode::File) => crate::auth::secret::load_or_create(&config.storage.data_dir.join(KEY_FILE))?,
        };
        Ok(Receipts::new(key, origin))
    }

    /// The receipt of chat `session` (hex).
    pub fn sign(&self, session: u64) -> String {
        self.sign_named(Named::Chat, &session.to_string())
    }

    /// Is `receipt` the receipt of chat `session`? Compared in constant time.
    pub fn check(&self, session: u64, receipt: &str) -> bool {
        self.check_named(Named::Chat, &session.to_string(), receipt)
    }

    /// The token a customer reads complaint `id` with (hex): it outlives the
    /// ticket token and the chat receipt's browser storage alike.
    pub fn sign_complaint(&self, id: &str) -> String {
        self.sign_named(Named::Complaint, id)
    }

    pub fn check_complaint(&self, id: &str, token: &str) -> bool {
        self.check_named(Named::Complaint, id, token)
    }

    fn sign_named(&self, what: Named, id: &str) -> String {
        hex::encode(mac(&self.key, &self.message(what, id)).finalize().into_bytes())
    }

    fn check_named(&self, what: Named, id: &str, token: &str) -> bool {
        let Ok(bytes) = hex::decode(token.trim()) else { return false };
        mac(&self.key, &self.message(what, id)).verify_slice(&bytes).is_ok()
    }

    /// What is signed: the kind first, so that a chat's receipt never passes for a complaint's token.
    fn message(&self, what: Named, id: &str) -> String {
        let kind = match what {
            Named::Chat => "chat",
            Named::Complaint => "complaint",
        };
        format!("{kind}\n{}\n{id}", self.origin)
    }
}

#[derive(Clone, Copy)]
enum Named {
    Chat,
    Complaint,
}

fn mac(key: &[u8], message: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(message.as_bytes());
    mac
}

/// A customer connection's writer: learns the session from `welcome` and
/// adds `receipt` to `closed` (live or replayed on a resume alike).
#[derive(Debug)]
pub struct Stamper {
    receipts: Arc<Receipts>,
    session: Option<u64>,
}

/// Frames are serialized with their `type` first; only these two are read back.
const WELCOME: &str = r#"{"type":"welcome""#;
const CLOSED: &str = r#"{"type":"closed""#;

impl Stamper {
    pub fn new(receipts: Arc<Receipts>) -> Stamper {
        Stamper { receipts, session: None }
    }

    /// `frame`, with a receipt if it is the `closed` frame.
    pub fn frame(&mut self, frame: Frame) -> Frame {
        if frame.as_str().starts_with(WELCOME) {
            self.session = session_of(frame.as_str());
            return frame;
        }
        let Some(session) = self.session.filter(|_| frame.as_str().starts_with(CLOSED)) else { return frame };
        match serde_json::from_str::<serde_json::Value>(frame.as_str()) {
            Ok(serde_json::Value::Object(mut fields)) => {
                fields.insert("session".into(), session.into());
                fields.insert("receipt".into(), self.receipts.sign(session).into());
                Frame::from(serde_json::Value::Object(fields).to_string())
            }
            _ => frame,
        }
    }
}

fn session_of(welcome: &str) -> Option<u64> {
    let value: serde_json::Value = serde_json::from_str(welcome).ok()?;
    value.get("session")?.as_u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receipts(origin: &str) -> Arc<Receipts> {
        Arc::new(Receipts::new(b"a key of the test, long enough".to_vec(), origin))
    }

    #[test]
    fn a_receipt_names_one_chat_of_one_origin() {
        let r = receipts("aaaa");
        let seventeen = r.sign(17);
        assert!(r.check(17, &seventeen));
        assert!(!r.check(18, &seventeen));
        assert!(!receipts("bbbb").check(17, &seventeen));
        assert!(!r.check(17, "not hex"));
        assert!(!r.check(17, ""));
        assert!(!r.check_complaint("17", &seventeen), "a receipt is no complaint token");
        assert!(r.check_complaint("c1", &r.sign_complaint("c1")));
    }

    #[test]
    fn the_closed_frame_gets_the_receipt_of_the_welcomed_session() {
        let r = receipts("aaaa");
        let mut stamper = Stamper::new(r.clone());
        let before = Frame::from(r#"{"type":"closed","seq":3,"reason":"customer_left","can_rate":true}"#);
        assert_eq!(stamper.frame(before.clone()), before, "no welcome yet: no session to sign");
        stamper.frame(Frame::from(r#"{"type":"welcome","session":17,"token":"t","group":"g"}"#));
        let message = Frame::from(r#"{"type":"agent_message","seq":4,"agent_name":"A","text":"closed"}"#);
        assert_eq!(stamper.frame(message.clone()), message);
        let stamped: serde_json::Value = serde_json::from_str(stamper.frame(before).as_str()).unwrap();
        assert_eq!(stamped["session"], 17);
        assert_eq!(stamped["reason"], "customer_left");
        assert!(r.check(17, stamped["receipt"].as_str().unwrap()));
    }
}
