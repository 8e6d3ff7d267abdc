//! Roster passwords: argon2id PHC strings (`switchboard hash-password`).

use std::sync::OnceLock;

use argon2::password_hash::SaltString;
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};

use crate::config::Secret;

/// A PHC string for `password` with the default argon2id parameters.
pub fn hash(password: &str) -> String {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).expect("16 bytes make a valid salt");
    Argon2::default().hash_password(password.as_bytes(), &salt).expect("argon2 with default parameters").to_string()
}

/// Does `password` match `stored`? With no stored hash (unknown agent, or an
/// agent without a password) a dummy hash is checked all the same and the
/// answer is no: the time taken does not tell which agent ids exist.
pub fn verify(stored: Option<&Secret>, password: &str) -> bool {
    let (phc, real) = match stored {
        Some(s) => (s.0.as_str(), true),
        None => (dummy_hash(), false),
    };
    let Ok(parsed) = PasswordHash::new(phc) else { return false };
    let matches = Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok();
    matches && real
}

/// Made once, with the same parameters `hash` uses.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash(&super::token::random_id()))
}
