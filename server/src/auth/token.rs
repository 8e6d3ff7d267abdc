//! Signed tokens (JWT): issued by `/v1/login` with the HS256 secret, or by a
//! company's own backend with its key (RS256 or EdDSA). Each verifier is
//! pinned to one algorithm, so a token cannot choose how it is checked
//! (`alg: none`, or HS256 "signed" with the public key's bytes, are refused).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use switchboard_protocol::code;

use super::{Refusal, Role};
use crate::config::KeyAlgorithm;

/// How far in the future `iat` may be (clocks of the issuer and the server differ a little).
const MAX_CLOCK_SKEW_SECS: u64 = 5;

/// What a token says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The agent id.
    pub sub: String,
    pub role: Role,
    /// Expiry, Unix seconds.
    pub exp: u64,
    /// Issued at, Unix seconds.
    pub iat: u64,
    /// A unique id (for audit and a later revocation list).
    pub jti: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
}

/// Checks tokens with one key and one algorithm.
pub struct Verifier {
    key: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier").field("algorithms", &self.validation.algorithms).finish_non_exhaustive()
    }
}

impl Verifier {
    /// Tokens signed with `secret` (HS256).
    pub fn hs256(secret: &[u8]) -> Verifier {
        Verifier { key: DecodingKey::from_secret(secret), validation: validation(Algorithm::HS256) }
    }

    /// Tokens signed by the private half of a PEM public key.
    pub fn public_key(pem: &[u8], alg: KeyAlgorithm) -> Result<Verifier, jsonwebtoken::errors::Error> {
        let (key, alg) = match alg {
            KeyAlgorithm::RS256 => (DecodingKey::from_rsa_pem(pem)?, Algorithm::RS256),
            KeyAlgorithm::EdDSA => (DecodingKey::from_ed_pem(pem)?, Algorithm::EdDSA),
        };
        Ok(Verifier { key, validation: validation(alg) })
    }

    /// The claims of a valid token, or why it is refused.
    pub fn verify(&self, token: &str) -> Result<Claims, Refusal> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation)
            .map_err(|e| refusal_for(e.kind()))?
            .claims;
        if claims.iat > unix_now() + MAX_CLOCK_SKEW_SECS {
            return Err(Refusal::new(code::TOKEN_NOT_YET_VALID, "the token was issued in the future"));
        }
        Ok(claims)
    }
}

fn validation(alg: Algorithm) -> Validation {
    let mut v = Validation::new(alg);
    // No grace past `exp`: a 15-minute token means 15 minutes.
    v.leeway = 0;
    v.validate_nbf = true;
    v.set_required_spec_claims(&["exp", "sub", "iat"]);
    v
}

fn refusal_for(kind: &ErrorKind) -> Refusal {
    match kind {
        ErrorKind::ExpiredSignature => Refusal::new(code::TOKEN_EXPIRED, "the token has expired: sign in again"),
        ErrorKind::ImmatureSignature => Refusal::new(code::TOKEN_NOT_YET_VALID, "the token is not valid yet"),
        ErrorKind::InvalidAlgorithm => {
            Refusal::new(code::TOKEN_INVALID, "the token is signed with an algorithm this server does not accept")
        }
        ErrorKind::InvalidSignature => Refusal::new(code::TOKEN_INVALID, "the token's signature is wrong"),
        _ => Refusal::new(code::TOKEN_INVALID, "the token cannot be read"),
    }
}

/// Issues HS256 tokens (embedded sign-in only).
pub struct Signer {
    key: EncodingKey,
    ttl: Duration,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").field("ttl", &self.ttl).finish_non_exhaustive()
    }
}

/// A token just issued.
#[derive(Clone, Debug, Serialize)]
pub struct Issued {
    pub token: String,
    /// Unix milliseconds.
    pub expires_at: u64,
    pub role: Role,
}

impl Signer {
    pub fn hs256(secret: &[u8], ttl: Duration) -> Signer {
        Signer { key: EncodingKey::from_secret(secret), ttl }
    }

    pub fn issue(&self, agent: &str, role: Role) -> Issued {
        let iat = unix_now();
        let exp = iat + self.ttl.as_secs().max(1);
        let claims = Claims { sub: agent.to_owned(), role, exp, iat, jti: random_id(), nbf: None };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.key)
            .expect("HS256 encoding of plain claims cannot fail");
        Issued { token, expires_at: exp * 1000, role }
    }
}

/// 128 random bits as hex.
pub fn random_id() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
