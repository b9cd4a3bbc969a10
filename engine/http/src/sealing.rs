//! Secrets at rest. Some secrets must be kept usable, not only checkable: the `whsec_`
//! secrets crossdock signs webhooks with, the secrets carriers sign their pushes with, the
//! bearer tokens of poll carriers. They are stored sealed with ChaCha20-Poly1305 under the
//! installation's key (`secrets_key`, or the `secrets.key` file made in the data directory
//! on first start), each with a fresh random nonce and its place (`table.column`) as
//! associated data, so a sealed value copied to another column does not open. A value
//! without the `sealed:v1:` prefix is one stored before sealing existed and reads as is.
//!
//! Every process sharing one database must be given the same key.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use std::path::Path;

const PREFIX: &str = "sealed:v1:";
const NONCE_BYTES: usize = 12;
/// The key file's name in the data directory.
pub const KEY_FILE: &str = "secrets.key";

/// Seals and opens stored secrets with the installation's key.
#[derive(Clone)]
pub struct Sealer {
    cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

impl Sealer {
    pub fn new(key: [u8; 32]) -> Sealer {
        Sealer {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&key)),
        }
    }

    /// A key of this process only (tests, tools that store nothing).
    pub fn ephemeral() -> Sealer {
        let mut key = [0u8; 32];
        // Without randomness a zero key still seals; only tests and tools use this.
        let _ = getrandom::fill(&mut key);
        Sealer::new(key)
    }

    /// A key given as base64 of 32 bytes (`secrets_key`).
    pub fn from_base64(text: &str) -> Result<Sealer, String> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| "secrets_key is not base64".to_owned())?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "secrets_key must be 32 bytes (44 characters of base64)".to_owned())?;
        Ok(Sealer::new(key))
    }

    /// The key in `dir/secrets.key`, made (32 random bytes, base64, mode 0600) if absent.
    pub fn load_or_create(dir: &Path) -> Result<Sealer, String> {
        let path = dir.join(KEY_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Sealer::from_base64(&text).map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                getrandom::fill(&mut key).map_err(|e| format!("no randomness for a key: {e}"))?;
                std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                write_private(&path, STANDARD.encode(key).as_bytes())
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                Ok(Sealer::new(key))
            }
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// `plain` sealed for the column `place`.
    pub fn seal(&self, place: &str, plain: &str) -> Result<String, String> {
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(&mut nonce).map_err(|e| format!("no randomness for a nonce: {e}"))?;
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: place.as_bytes(),
                },
            )
            .map_err(|_| "sealing failed".to_owned())?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!("{PREFIX}{}", STANDARD.encode(out)))
    }

    /// The secret stored in the column `place`: opened if sealed, as is if stored before
    /// sealing; `None` if it was sealed under another key or altered.
    pub fn open(&self, place: &str, stored: &str) -> Option<String> {
        let Some(sealed) = stored.strip_prefix(PREFIX) else {
            return Some(stored.to_owned());
        };
        let bytes = STANDARD.decode(sealed).ok()?;
        if bytes.len() < NONCE_BYTES {
            return None;
        }
        let (nonce, body) = bytes.split_at(NONCE_BYTES);
        let plain = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: place.as_bytes(),
                },
            )
            .ok()?;
        String::from_utf8(plain).ok()
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_their_key_and_place() {
        let s = Sealer::new([7u8; 32]);
        let sealed = s.seal("tracking_webhooks.secret", "whsec_abc").unwrap();
        assert!(sealed.starts_with(PREFIX) && !sealed.contains("whsec_abc"));
        assert_ne!(
            sealed,
            s.seal("tracking_webhooks.secret", "whsec_abc").unwrap(),
            "fresh nonces"
        );
        assert_eq!(
            s.open("tracking_webhooks.secret", &sealed).as_deref(),
            Some("whsec_abc")
        );
        assert_eq!(
            s.open("tracking_connections.token", &sealed),
            None,
            "another column"
        );
        assert_eq!(
            Sealer::new([8u8; 32]).open("tracking_webhooks.secret", &sealed),
            None,
            "another key"
        );
        let mut altered = sealed.clone();
        altered.pop();
        altered.push('A');
        assert_eq!(s.open("tracking_webhooks.secret", &altered), None);
        assert_eq!(
            s.open("x", "plain-from-before").as_deref(),
            Some("plain-from-before")
        );
    }

    #[test]
    fn the_key_file_is_made_once_and_read_back() {
        let dir = std::env::temp_dir().join(format!("crossdock-sealing-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let a = Sealer::load_or_create(&dir).unwrap();
        let sealed = a.seal("p", "v").unwrap();
        let b = Sealer::load_or_create(&dir).unwrap();
        assert_eq!(b.open("p", &sealed).as_deref(), Some("v"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(Sealer::from_base64("c2hvcnQ=").is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
