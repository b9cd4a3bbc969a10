//! API key secrets: minting, parsing a presented key, hashing and comparing.
//!
//! A key as a client presents it is `cdk_<key id>_<secret part>`:
//!
//! - the key id is [`KEY_ID_CHARS`] characters of lowercase base32 (`a`–`z`, `2`–`7`), 60
//!   random bits, stored in clear and used to find the key;
//! - the secret part is [`SECRET_BYTES`] random bytes (256 bits) written as lowercase hex.
//!
//! The store keeps only SHA-256 of the secret part's text. A plain hash (no salt, no slow
//! KDF) is right here: the secret is 256 random bits, not a password, so it cannot be
//! guessed from its hash. Verification compares hashes in constant time.

use crate::error::IdentityError;
use crate::model::KeyId;
use sha2::{Digest, Sha256};

/// The fixed start of every key, so leaked keys are easy to recognise and scan for.
pub const KEY_PREFIX: &str = "cdk_";
/// Length of the key id, in base32 characters (5 bits each).
pub const KEY_ID_CHARS: usize = 12;
/// Random bytes in the secret part (written as twice as many hex characters).
pub const SECRET_BYTES: usize = 32;

const SECRET_HEX_CHARS: usize = SECRET_BYTES * 2;
const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
const HEX: &[u8; 16] = b"0123456789abcdef";

/// A freshly minted key: the id, the full text to show once, and the hash to store.
pub(crate) struct Minted {
    pub id: KeyId,
    pub presented: String,
    pub secret_sha256: [u8; 32],
}

/// Mints a key from the operating system's random source.
pub(crate) fn mint() -> Result<Minted, IdentityError> {
    let mut id_bytes = [0u8; KEY_ID_CHARS];
    let mut secret = [0u8; SECRET_BYTES];
    getrandom::fill(&mut id_bytes)
        .and_then(|()| getrandom::fill(&mut secret))
        .map_err(|e| IdentityError::Failed(format!("no randomness for a new key: {e}")))?;
    // 256 is a multiple of 32, so taking the low five bits keeps every character uniform.
    let id: String = id_bytes
        .iter()
        .map(|b| char::from(BASE32[usize::from(b & 31)]))
        .collect();
    let mut secret_part = String::with_capacity(SECRET_HEX_CHARS);
    for b in secret {
        secret_part.push(char::from(HEX[usize::from(b >> 4)]));
        secret_part.push(char::from(HEX[usize::from(b & 15)]));
    }
    let secret_sha256 = secret_sha256(&secret_part);
    let presented = format!("{KEY_PREFIX}{id}_{secret_part}");
    Ok(Minted {
        id: KeyId(id),
        presented,
        secret_sha256,
    })
}

/// A presented key split into its parts; exists only if the text has the exact shape.
pub(crate) struct Presented<'a> {
    pub id: &'a str,
    pub secret_part: &'a str,
}

/// Splits `cdk_<id>_<secret>`; `None` for anything not exactly that shape.
pub(crate) fn parse(presented: &str) -> Option<Presented<'_>> {
    let rest = presented.strip_prefix(KEY_PREFIX)?;
    let (id, secret_part) = rest.split_once('_')?;
    let id_ok = id.len() == KEY_ID_CHARS && id.bytes().all(|b| BASE32.contains(&b));
    let secret_ok =
        secret_part.len() == SECRET_HEX_CHARS && secret_part.bytes().all(|b| HEX.contains(&b));
    (id_ok && secret_ok).then_some(Presented { id, secret_part })
}

/// SHA-256 of the secret part's text: what the store keeps instead of the secret.
pub(crate) fn secret_sha256(secret_part: &str) -> [u8; 32] {
    let digest = Sha256::digest(secret_part.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(&digest);
    out
}

/// Equality whose running time depends only on the lengths, not on where the bytes differ.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    // black_box keeps the optimiser from turning the fold into an early-exit comparison.
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_keys_parse_and_hash_back() {
        let minted = mint().expect("randomness");
        let parsed = parse(&minted.presented).expect("a minted key parses");
        assert_eq!(parsed.id, minted.id.0);
        assert_eq!(secret_sha256(parsed.secret_part), minted.secret_sha256);
        assert_eq!(
            minted.presented.len(),
            KEY_PREFIX.len() + KEY_ID_CHARS + 1 + SECRET_HEX_CHARS
        );
    }

    #[test]
    fn malformed_keys_do_not_parse() {
        let good = mint().expect("randomness").presented;
        let cases = [
            String::new(),
            "cdk_".to_owned(),
            good.replacen("cdk_", "cdx_", 1),
            good[..good.len() - 1].to_owned(),
            format!("{good}0"),
            good.to_uppercase(),
            good.replacen('_', "-", 2),
            format!(
                "{}_{}",
                &good[..KEY_PREFIX.len() + KEY_ID_CHARS],
                "g".repeat(64)
            ),
            format!("cdk_{}_{}", "a".repeat(11), "0".repeat(64)),
            format!("cdk_{}_{}", "a1aaaaaaaaaa", "0".repeat(64)),
        ];
        for case in cases {
            assert!(parse(&case).is_none(), "{case:?} should not parse");
        }
    }

    #[test]
    fn constant_time_eq_is_equality() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(constant_time_eq(b"", b""));
    }
}
