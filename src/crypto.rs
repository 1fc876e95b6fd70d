//! Sealing what must not be readable at rest (recovery free text, second-factor secrets):
//! XChaCha20-Poly1305 (authenticated; random 24-byte nonces are safe) under a key id, with
//! associated data binding each ciphertext to its row and field, so a sealed value copied
//! elsewhere does not open. The keys are the `recovery.keys` of the configuration.

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};

use crate::config::{Environment, Settings};
use crate::error::{AppError, AppResult};

const NONCE: usize = 24;
const DEV_KEY_FILE: &str = "recovery-key";
const DEV_KEY_ID: &str = "dev";

/// The keys by id and the one new content is sealed with.
pub struct Keyring {
    current: String,
    ciphers: HashMap<String, XChaCha20Poly1305>,
}

/// A sealed value: the key id and nonce followed by the ciphertext.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sealed {
    pub key_id: String,
    pub bytes: Vec<u8>,
}

fn cipher(id: &str, base64: &str) -> Result<XChaCha20Poly1305, String> {
    let bytes = STANDARD
        .decode(base64.trim())
        .map_err(|_| format!("recovery.keys.{id} is not base64"))?;
    if bytes.len() != 32 {
        return Err(format!(
            "recovery.keys.{id} must be 32 bytes, not {}",
            bytes.len()
        ));
    }
    Ok(XChaCha20Poly1305::new(Key::from_slice(&bytes)))
}

impl Keyring {
    /// From settings; outside production without keys, from a key generated once into the
    /// data folder (mode 0600, with a warning).
    pub fn from_settings(settings: &Settings) -> Result<Self, String> {
        let r = &settings.recovery;
        if r.keys.is_empty() && settings.env != Environment::Production {
            return Self::development(settings);
        }
        let mut ciphers = HashMap::new();
        for (id, key) in &r.keys {
            ciphers.insert(id.clone(), cipher(id, key.expose())?);
        }
        if !ciphers.contains_key(&r.current_key_id) {
            return Err(format!(
                "recovery.current_key_id {:?} names none of recovery.keys",
                r.current_key_id
            ));
        }
        Ok(Self {
            current: r.current_key_id.clone(),
            ciphers,
        })
    }

    fn development(settings: &Settings) -> Result<Self, String> {
        let path = settings.data.dir.join(DEV_KEY_FILE);
        let key = match std::fs::read_to_string(&path) {
            Ok(existing) => existing.trim().to_string(),
            Err(_) => {
                let mut bytes = [0u8; 32];
                getrandom::fill(&mut bytes).map_err(|e| format!("randomness: {e}"))?;
                let key = STANDARD.encode(bytes);
                std::fs::create_dir_all(&settings.data.dir)
                    .map_err(|e| format!("cannot create {}: {e}", settings.data.dir.display()))?;
                let mut file = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&path)
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                file.write_all(key.as_bytes())
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                tracing::warn!(
                    path = %path.display(),
                    "no recovery.keys configured: generated a development key for recovery data; \
                     set PEERPATH__RECOVERY__KEYS__<id> and PEERPATH__RECOVERY__CURRENT_KEY_ID in production"
                );
                key
            }
        };
        let mut ciphers = HashMap::new();
        ciphers.insert(DEV_KEY_ID.to_string(), cipher(DEV_KEY_ID, &key)?);
        Ok(Self {
            current: DEV_KEY_ID.into(),
            ciphers,
        })
    }

    pub fn current_key_id(&self) -> &str {
        &self.current
    }

    /// Seals text under the current key, bound to `context` (table, row and field).
    pub fn seal(&self, plaintext: &str, context: &str) -> AppResult<Sealed> {
        let cipher = self
            .ciphers
            .get(&self.current)
            .ok_or_else(|| AppError::internal("the current recovery key is missing"))?;
        let mut nonce = [0u8; NONCE];
        getrandom::fill(&mut nonce).map_err(|e| AppError::internal(format!("randomness: {e}")))?;
        let sealed = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| AppError::internal("sealing recovery content failed"))?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        Ok(Sealed {
            key_id: self.current.clone(),
            bytes,
        })
    }

    /// Opens a sealed value; a wrong key, context or tampered bytes are an internal error
    /// that names neither the content nor the key.
    pub fn open(&self, sealed: &Sealed, context: &str) -> AppResult<String> {
        let cipher = self.ciphers.get(&sealed.key_id).ok_or_else(|| {
            AppError::internal(format!(
                "recovery key {:?} is not configured (needed to read old content)",
                sealed.key_id
            ))
        })?;
        if sealed.bytes.len() < NONCE {
            return Err(AppError::internal("a sealed recovery value is too short"));
        }
        let (nonce, ciphertext) = sealed.bytes.split_at(NONCE);
        let plain = cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| AppError::internal("a sealed recovery value does not open"))?;
        String::from_utf8(plain).map_err(|_| AppError::internal("recovery content is not UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(id: &str, key: [u8; 32]) -> Keyring {
        let mut ciphers = HashMap::new();
        ciphers.insert(
            id.to_string(),
            XChaCha20Poly1305::new(Key::from_slice(&key)),
        );
        Keyring {
            current: id.into(),
            ciphers,
        }
    }

    #[test]
    fn sealed_text_opens_only_with_its_key_and_context() {
        let a = ring("a", [7; 32]);
        let sealed = a
            .seal("call my sister", "plan:w1:crisis")
            .unwrap_or_else(|_| Sealed {
                key_id: String::new(),
                bytes: vec![],
            });
        assert_eq!(sealed.key_id, "a");
        assert!(!sealed.bytes.windows(6).any(|w| w == b"sister"));
        assert_eq!(
            a.open(&sealed, "plan:w1:crisis").ok().as_deref(),
            Some("call my sister")
        );
        assert!(
            a.open(&sealed, "plan:w2:crisis").is_err(),
            "bound to its row"
        );
        let mut tampered = sealed.clone();
        if let Some(last) = tampered.bytes.last_mut() {
            *last ^= 1;
        }
        assert!(a.open(&tampered, "plan:w1:crisis").is_err());
        let b = ring("b", [9; 32]);
        assert!(b.open(&sealed, "plan:w1:crisis").is_err(), "another key");
    }
}
