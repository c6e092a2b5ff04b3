//! Secrets the server must use later (webhook signing secrets) are sealed at rest with
//! XChaCha20-Poly1305 under the server's secret key, never stored in plain text.
//!
//! The key comes from `HANDOFF_SECRET_KEY` (base64 of 32 bytes), or from
//! `<data dir>/secret.key` (created on first run, mode 0600) when none is given.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use handoff_protocol::SecretString;

use crate::error::{AppError, AppResult};

#[derive(Clone)]
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox([redacted])")
    }
}

const PREFIX: &str = "v1:";

impl SecretBox {
    /// From a base64-encoded 32-byte key.
    pub fn from_base64(key: &SecretString) -> anyhow::Result<SecretBox> {
        let bytes =
            B64.decode(key.expose().trim()).map_err(|_| anyhow::anyhow!("the secret key is not valid base64"))?;
        anyhow::ensure!(bytes.len() == 32, "the secret key must be 32 bytes (base64 of 32 random bytes)");
        Ok(SecretBox { cipher: XChaCha20Poly1305::new_from_slice(&bytes).expect("32-byte key") })
    }

    /// A new random key, base64-encoded.
    pub fn generate_key() -> SecretString {
        SecretString::new(B64.encode(rand::random::<[u8; 32]>()))
    }

    /// The key from `<dir>/secret.key`, created (mode 0600) if missing.
    pub fn key_file(dir: &std::path::Path) -> anyhow::Result<SecretString> {
        let path = dir.join("secret.key");
        if let Ok(text) = std::fs::read_to_string(&path) {
            return Ok(SecretString::new(text.trim()));
        }
        let key = Self::generate_key();
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        use std::io::Write;
        opts.open(&path)?.write_all(key.expose().as_bytes())?;
        tracing::warn!(path = %path.display(), "created a secret key file; set HANDOFF_SECRET_KEY to manage the key yourself");
        Ok(key)
    }

    pub fn seal(&self, plain: &str) -> String {
        let nonce: [u8; 24] = rand::random();
        let ct = self.cipher.encrypt(XNonce::from_slice(&nonce), plain.as_bytes()).expect("encryption cannot fail");
        let mut out = nonce.to_vec();
        out.extend(ct);
        format!("{PREFIX}{}", B64.encode(out))
    }

    pub fn open(&self, sealed: &str) -> AppResult<SecretString> {
        let fail = || AppError::Internal("a stored secret cannot be opened (was the secret key changed?)".into());
        let raw = B64.decode(sealed.strip_prefix(PREFIX).ok_or_else(fail)?).map_err(|_| fail())?;
        if raw.len() < 24 {
            return Err(fail());
        }
        let plain = self.cipher.decrypt(XNonce::from_slice(&raw[..24]), &raw[24..]).map_err(|_| fail())?;
        Ok(SecretString::new(String::from_utf8(plain).map_err(|_| fail())?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_wrong_key_fails() {
        let a = SecretBox::from_base64(&SecretBox::generate_key()).unwrap();
        let b = SecretBox::from_base64(&SecretBox::generate_key()).unwrap();
        let sealed = a.seal("whsec_abc");
        assert!(!sealed.contains("whsec_abc"));
        assert_ne!(sealed, a.seal("whsec_abc"), "fresh nonce each time");
        assert_eq!(a.open(&sealed).unwrap().expose(), "whsec_abc");
        assert!(b.open(&sealed).is_err());
        assert!(SecretBox::from_base64(&SecretString::new("c2hvcnQ=")).is_err());
    }
}
