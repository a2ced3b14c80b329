//! The SECRET method (ours): a challenge-response on a secret the daemon
//! and the client share, which never crosses the wire.
//!
//! When its turn comes among the chosen methods (after the auth choice):
//!
//! 1. the daemon sends [`NONCE_LEN`] random bytes;
//! 2. the client answers with one byte `n` (at most [`MAX_IDENTITY`]), `n`
//!    bytes of its identity (the name the daemon knows its secret by, and
//!    that group access rules name as `secret:ID`), and
//!    `HMAC-SHA256(secret, CONTEXT || nonce || n || identity)` ([`MAC_LEN`]
//!    bytes);
//! 3. the daemon compares in constant time; a wrong answer, an unknown
//!    identity or silence gives REJECT_AUTH (after the other methods, as
//!    5.0.1 answers every failure).

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The method's name in the auth list and choice.
pub const SECRET_METHOD: &str = "SECRET";
/// The challenge's length.
pub const NONCE_LEN: usize = 32;
/// The answer's MAC length.
pub const MAC_LEN: usize = 32;
/// The longest identity.
pub const MAX_IDENTITY: usize = 64;
/// Bound into every MAC, so that it answers only this exchange.
pub const CONTEXT: &[u8] = b"spread-rs SECRET 1\0";

fn keyed(secret: &[u8], nonce: &[u8; NONCE_LEN], identity: &[u8]) -> Hmac<Sha256> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key");
    m.update(CONTEXT);
    m.update(nonce);
    m.update(&[identity.len() as u8]);
    m.update(identity);
    m
}

/// Whether `identity` can be sent: 1 to 64 bytes of letters, digits and
/// `.`, `_`, `-`, `@`.
pub fn is_valid_identity(identity: &[u8]) -> bool {
    (1..=MAX_IDENTITY).contains(&identity.len())
        && identity
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"._-@".contains(b))
}

/// The client's answer to `nonce`.
pub fn answer(secret: &[u8], nonce: &[u8; NONCE_LEN], identity: &[u8]) -> Vec<u8> {
    let mac = keyed(secret, nonce, identity).finalize().into_bytes();
    let mut out = Vec::with_capacity(1 + identity.len() + MAC_LEN);
    out.push(identity.len() as u8);
    out.extend_from_slice(identity);
    out.extend_from_slice(&mac);
    out
}

/// The length of a complete answer whose first bytes are `head`, once its
/// identity length is known.
pub fn answer_len(head: &[u8]) -> Option<usize> {
    head.first().map(|&n| 1 + usize::from(n) + MAC_LEN)
}

/// Splits a complete answer into identity and MAC.
pub fn parse_answer(answer: &[u8]) -> Option<(&[u8], &[u8])> {
    let n = usize::from(*answer.first()?);
    if n > MAX_IDENTITY || answer.len() != 1 + n + MAC_LEN {
        return None;
    }
    Some((&answer[1..1 + n], &answer[1 + n..]))
}

/// Checks `mac` in constant time.
pub fn verify(secret: &[u8], nonce: &[u8; NONCE_LEN], identity: &[u8], mac: &[u8]) -> bool {
    keyed(secret, nonce, identity).verify_slice(mac).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answer_verifies_only_with_its_secret_nonce_and_identity() {
        let nonce = [7u8; NONCE_LEN];
        let a = answer(b"correct horse battery", &nonce, b"backup");
        assert_eq!(answer_len(&a[..1]), Some(a.len()));
        let (id, mac) = parse_answer(&a).unwrap();
        assert_eq!(id, b"backup");
        assert!(verify(b"correct horse battery", &nonce, id, mac));
        assert!(!verify(b"correct horse batterY", &nonce, id, mac));
        assert!(!verify(b"correct horse battery", &[8; NONCE_LEN], id, mac));
        assert!(!verify(b"correct horse battery", &nonce, b"backuP", mac));
        assert!(parse_answer(&a[..a.len() - 1]).is_none());
        assert!(is_valid_identity(b"svc.backup-1@host") && !is_valid_identity(b""));
        assert!(!is_valid_identity(b"a b") && !is_valid_identity(&[b'a'; 65]));
        // The secret is not in the answer.
        assert!(!a.windows(8).any(|w| w == b"correct "));
    }
}
