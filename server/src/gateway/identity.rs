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
//! This runs in the gateway, before anything is logged: the log records only
//! the outcome (the verified id), so a replay needs no secret and gives the
//! same result even if the secret changes later.

use std::sync::Arc;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::CustomersConfig;

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
        let Ok(hash) = hex::decode(hash) else {
            return CustomerIdentity::Invalid("identifier_hash is not hex");
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
        mac.update(identifier.as_bytes());
        match mac.verify_slice(&hash) {
            Ok(()) => CustomerIdentity::Verified(Arc::from(identifier)),
            Err(_) => CustomerIdentity::Invalid("identifier_hash does not match the identifier"),
        }
    }
}

/// The hash a host site computes (for tests and documentation examples).
pub fn identifier_hash(secret: &str, identifier: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(identifier.as_bytes());
    hex::encode(mac.finalize().into_bytes())
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
}
