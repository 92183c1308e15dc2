//! Sealing identity data with a key kept outside the database, so that a copy of the database alone reveals no one.
//!
//! AES-256-GCM with a random 96-bit nonce per value and the column's name as associated data (a value sealed for
//! one column does not open in another). A sealed value is: version (1), the key's id (4 bytes: the start of the
//! SHA-256 of the key), the nonce (12 bytes), the ciphertext with its tag. The key id tells which key sealed a value,
//! so a key rotation re-seals everything and refuses a wrong key before it touches anything.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::RngCore;
use sha2::{Digest, Sha256};

const VERSION: u8 = 1;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("a key is 64 hexadecimal characters (32 bytes)")]
    BadKey,
    #[error("the data was sealed with another key (id {found}, this key is {expected})")]
    WrongKey { found: String, expected: String },
    #[error("a sealed value is damaged or was moved between columns")]
    Damaged,
}

/// A sealing key.
#[derive(Clone)]
pub struct Key {
    id: [u8; 4],
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key({})", self.id())
    }
}

impl Key {
    /// A key from its 64 hexadecimal characters (surrounding white space, as in a key file, is fine).
    pub fn from_hex(text: &str) -> Result<Key, SealError> {
        let bytes = hex::decode(text.trim()).map_err(|_| SealError::BadKey)?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| SealError::BadKey)?;
        Ok(Key::from_bytes(&bytes))
    }

    fn from_bytes(bytes: &[u8; 32]) -> Key {
        let digest = Sha256::digest(bytes);
        let id = [digest[0], digest[1], digest[2], digest[3]];
        Key { id, cipher: Aes256Gcm::new_from_slice(bytes).expect("a 32-byte key") }
    }

    /// A new random key, as 64 hexadecimal characters (for a key file).
    pub fn generate() -> String {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        hex::encode(bytes)
    }

    /// The key's id: the first four bytes of its SHA-256, in hexadecimal. Names the key without revealing it.
    pub fn id(&self) -> String {
        hex::encode(self.id)
    }

    /// Seals `plain` for `column`.
    pub fn seal(&self, column: &str, plain: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plain, aad: column.as_bytes() })
            .expect("AES-GCM seals any length we store");
        let mut out = Vec::with_capacity(1 + 4 + 12 + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&self.id);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Opens a value sealed for `column`.
    pub fn open(&self, column: &str, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        if sealed.len() < 1 + 4 + 12 + 16 || sealed[0] != VERSION {
            return Err(SealError::Damaged);
        }
        if sealed[1..5] != self.id {
            return Err(SealError::WrongKey { found: hex::encode(&sealed[1..5]), expected: self.id() });
        }
        self.cipher
            .decrypt(Nonce::from_slice(&sealed[5..17]), Payload { msg: &sealed[17..], aad: column.as_bytes() })
            .map_err(|_| SealError::Damaged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_with_their_key_and_column_only() {
        let key = Key::from_hex(&Key::generate()).unwrap();
        let sealed = key.seal("cases.person", b"Kari Nordmann");
        assert!(!sealed.windows(4).any(|w| w == b"Kari"), "no plain text in the sealed value");
        assert_eq!(key.open("cases.person", &sealed).unwrap(), b"Kari Nordmann");
        assert_ne!(key.seal("cases.person", b"Kari Nordmann"), sealed, "a fresh nonce each time");
        assert_eq!(key.open("cases.referral", &sealed), Err(SealError::Damaged), "moved to another column");
        let other = Key::from_hex(&Key::generate()).unwrap();
        assert!(matches!(other.open("cases.person", &sealed), Err(SealError::WrongKey { .. })));
        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert_eq!(key.open("cases.person", &flipped), Err(SealError::Damaged));
        assert_eq!(Key::from_hex("abcd").unwrap_err(), SealError::BadKey);
        assert_eq!(Key::from_hex(&format!("{}\n", "00".repeat(32))).unwrap().id().len(), 8);
    }
}
