//! Verified customers: a host site that knows its signed-in user vouches
//! for them, as Chatwoot's and Intercom's identity verification do.
//!
//! The site computes `identifier_hash` = hex(HMAC-SHA256(secret,
//! identifier)) on its server with `customers.identity_secret` and puts
//! both on the widget's script tag; the widget passes them on the customer's
//! WebSocket join. Only someone who knows the secret can make a hash that
//! matches, so a customer cannot pose as another by editing the page. The
//! hash is compared in constant time (`Mac::verify_slice`), so response
//! times say nothing about how much of a forged hash was right.
//!
//! The same site may vouch for the customer's queue priority: a
//! `priority_hash` = hex(HMAC-SHA256(secret, identifier + "\n" +
//! "priority=" + priority)). It is bound to the verified identifier, so a
//! signed "urgent" copied from one customer's page is worth nothing to
//! anyone else, and the newline (which identifiers may not contain) keeps
//! it from ever equalling an `identifier_hash`. Without a `priority_hash`
//! the `priority` a client asks for is ignored: anyone could type
//! `?priority=urgent`. The router's own complaint-tendency signal still
//! raises priorities as before.
//!
//! This runs in the gateway, before anything is logged: the log records only
//! the outcome (the verified id, the priority), so a replay needs no secret
//! and gives the same result even if the secret changes later.

use std::sync::Arc;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use switchboard_protocol::common::Priority as WirePriority;

use crate::config::CustomersConfig;
use crate::router::input::Priority;
use crate::session::convert::priority_from_wire;

/// Longest identifier accepted (a user id or an e-mail address fits).
pub const MAX_IDENTIFIER_CHARS: usize = 256;

/// Who a joining customer is, as far as the server can tell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CustomerIdentity {
    /// No identity claimed: an unverified customer (a name, if any, is only what they typed).
    Anonymous,
    /// The host site vouched for this identifier.
    Verified(Arc<str>),
    /// A claim that does not hold: refused with `identity_invalid`; the text says why.
    Invalid(&'static str),
}

/// The priority a join gets: the one the host site signed (`Normal` when it
/// signed none), or why the signature does not hold (refused with
/// `priority_invalid`).
pub type PriorityClaim = Result<Priority, &'static str>;

/// Checks identity claims against the configured secret.
pub struct IdentityVerifier {
    secret: Option<Vec<u8>>,
}

/// Never prints the secret.
impl std::fmt::Debug for IdentityVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityVerifier").field("configured", &self.secret.is_some()).finish()
    }
}

impl IdentityVerifier {
    pub fn new(config: &CustomersConfig) -> IdentityVerifier {
        let secret = Some(config.identity_secret.as_bytes().to_vec()).filter(|s| !s.is_empty());
        IdentityVerifier { secret }
    }

    /// The identity the join's `identifier` and `identifier_hash` establish.
    pub fn verify(&self, identifier: Option<&str>, hash: Option<&str>) -> CustomerIdentity {
        let (identifier, hash) = match (identifier.filter(|i| !i.is_empty()), hash.filter(|h| !h.is_empty())) {
            (None, None) => return CustomerIdentity::Anonymous,
            (Some(i), Some(h)) => (i, h),
            (Some(_), None) => return CustomerIdentity::Invalid("identifier given without identifier_hash"),
            (None, Some(_)) => return CustomerIdentity::Invalid("identifier_hash given without identifier"),
        };
        if identifier.chars().count() > MAX_IDENTIFIER_CHARS || identifier.chars().any(char::is_control) {
            return CustomerIdentity::Invalid("identifier is too long or has control characters");
        }
        let Some(secret) = &self.secret else {
            return CustomerIdentity::Invalid("this server verifies no customer identities (no identity secret set)");
        };
        match signed(secret, identifier, hash) {
            Signature::Matches => CustomerIdentity::Verified(Arc::from(identifier)),
            Signature::NotHex => CustomerIdentity::Invalid("identifier_hash is not hex"),
            Signature::Differs => CustomerIdentity::Invalid("identifier_hash does not match the identifier"),
        }
    }

    /// The priority the join's `priority` and `priority_hash` establish for
    /// `identity` (checked first). An unsigned `priority` is ignored.
    pub fn verify_priority(
        &self,
        identity: &CustomerIdentity,
        priority: Option<WirePriority>,
        hash: Option<&str>,
    ) -> PriorityClaim {
        let Some(hash) = hash.filter(|h| !h.is_empty()) else { return Ok(Priority::Normal) };
        let (CustomerIdentity::Verified(identifier), Some(secret)) = (identity, &self.secret) else {
            return Err("priority_hash needs a verified customer (identifier and identifier_hash)");
        };
        let Some(priority) = priority else { return Err("priority_hash given without priority") };
        match signed(secret, &priority_message(identifier, priority), hash) {
            Signature::Matches => Ok(priority_from_wire(priority)),
            Signature::NotHex => Err("priority_hash is not hex"),
            Signature::Differs => Err("priority_hash does not match the identifier and priority"),
        }
    }
}

enum Signature {
    Matches,
    NotHex,
    Differs,
}

/// Does `hash` (hex) sign `message` with `secret`? Compared in constant time.
fn signed(secret: &[u8], message: &str, hash: &str) -> Signature {
    let Ok(hash) = hex::decode(hash) else { return Signature::NotHex };
    match mac(secret, message).verify_slice(&hash) {
        Ok(()) => Signature::Matches,
        Err(_) => Signature::Differs,
    }
}

fn mac(secret: &[u8], message: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(message.as_bytes());
    mac
}

/// What a `priority_hash` signs.
fn priority_message(identifier: &str, priority: WirePriority) -> String {
    format!("{identifier}\npriority={}", priority.as_str())
}

/// The hash a host site computes (for tests and documentation examples).
pub fn identifier_hash(secret: &str, identifier: &str) -> String {
    hex::encode(mac(secret.as_bytes(), identifier).finalize().into_bytes())
}

/// The priority hash a host site computes (for tests and documentation examples).
pub fn priority_hash(secret: &str, identifier: &str, priority: WirePriority) -> String {
    identifier_hash(secret, &priority_message(identifier, priority))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef-test-secret";

    fn verifier(secret: &str) -> IdentityVerifier {
        IdentityVerifier::new(&CustomersConfig { identity_secret: secret.to_owned() })
    }

    #[test]
    fn the_right_hash_verifies_and_a_wrong_one_is_invalid() {
        let v = verifier(SECRET);
        let good = identifier_hash(SECRET, "user-42");
        assert_eq!(v.verify(Some("user-42"), Some(&good)), CustomerIdentity::Verified("user-42".into()));
        assert_eq!(v.verify(Some("user-42"), Some(&good.to_uppercase())), CustomerIdentity::Verified("user-42".into()));
        let mut flipped = good.clone().into_bytes();
        flipped[0] = if flipped[0] == b'0' { b'1' } else { b'0' };
        let flipped = String::from_utf8(flipped).unwrap();
        assert!(matches!(v.verify(Some("user-42"), Some(&flipped)), CustomerIdentity::Invalid(_)));
        assert!(matches!(v.verify(Some("user-43"), Some(&good)), CustomerIdentity::Invalid(_)));
        assert!(matches!(v.verify(Some("user-42"), Some(&good[..32])), CustomerIdentity::Invalid(_)));
        assert!(matches!(v.verify(Some("user-42"), Some("zz")), CustomerIdentity::Invalid(_)));
        let other = identifier_hash("another-site-secret!", "user-42");
        assert!(matches!(v.verify(Some("user-42"), Some(&other)), CustomerIdentity::Invalid(_)));
    }

    #[test]
    fn half_a_claim_or_no_secret_is_invalid_and_no_claim_is_anonymous() {
        let v = verifier(SECRET);
        assert_eq!(v.verify(None, None), CustomerIdentity::Anonymous);
        assert_eq!(v.verify(Some(""), Some("")), CustomerIdentity::Anonymous);
        assert!(matches!(v.verify(Some("user-42"), None), CustomerIdentity::Invalid(_)));
        assert!(matches!(v.verify(None, Some("ab")), CustomerIdentity::Invalid(_)));
        let long = "x".repeat(MAX_IDENTIFIER_CHARS + 1);
        assert!(matches!(v.verify(Some(&long), Some(&identifier_hash(SECRET, &long))), CustomerIdentity::Invalid(_)));
        let unconfigured = verifier("");
        let hash = identifier_hash("", "user-42");
        assert!(matches!(unconfigured.verify(Some("user-42"), Some(&hash)), CustomerIdentity::Invalid(_)));
    }

    #[test]
    fn only_a_priority_the_site_signed_for_this_customer_counts() {
        let v = verifier(SECRET);
        let wei = CustomerIdentity::Verified("user-42".into());
        let urgent = priority_hash(SECRET, "user-42", WirePriority::Urgent);
        assert_eq!(v.verify_priority(&wei, Some(WirePriority::Urgent), Some(&urgent)), Ok(Priority::Urgent));
        let high = priority_hash(SECRET, "user-42", WirePriority::High);
        assert_eq!(v.verify_priority(&wei, Some(WirePriority::High), Some(&high)), Ok(Priority::High));
        // Unsigned: ignored, whoever asks.
        assert_eq!(v.verify_priority(&wei, Some(WirePriority::Urgent), None), Ok(Priority::Normal));
        assert_eq!(
            v.verify_priority(&CustomerIdentity::Anonymous, Some(WirePriority::Urgent), Some("")),
            Ok(Priority::Normal)
        );
        // Signed for another priority, another customer, with another secret, or not at all.
        assert!(v.verify_priority(&wei, Some(WirePriority::Urgent), Some(&high)).is_err());
        let someone_else = priority_hash(SECRET, "user-43", WirePriority::Urgent);
        assert!(v.verify_priority(&wei, Some(WirePriority::Urgent), Some(&someone_else)).is_err());
        let forged = priority_hash("a-guessed-secret-of-16+", "user-42", WirePriority::Urgent);
        assert!(v.verify_priority(&wei, Some(WirePriority::Urgent), Some(&forged)).is_err());
        assert!(v.verify_priority(&wei, Some(WirePriority::Urgent), Some("zz")).is_err());
        assert!(v.verify_priority(&wei, None, Some(&urgent)).is_err(), "a hash without the priority it signs");
        assert!(v.verify_priority(&CustomerIdentity::Anonymous, Some(WirePriority::Urgent), Some(&urgent)).is_err());
        // An identifier hash is never a priority hash (the newline keeps them apart).
        let identifier_only = identifier_hash(SECRET, "user-42");
        assert!(v.verify_priority(&wei, Some(WirePriority::Urgent), Some(&identifier_only)).is_err());
    }
}
