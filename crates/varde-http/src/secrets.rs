//! Secrets: random tokens, comparison that takes as long whatever the guess (`subtle`), and argon2id password hashes.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;
use subtle::ConstantTimeEq;

/// 32 random bytes in hex: a session token, a CSRF token.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// Whether `a` and `b` are equal, in a time that does not tell how much of a guess was right (the length may show).
pub fn same(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// An argon2id hash (RFC 9106 parameters as the argon2 crate's default: m = 19 MiB, t = 2, p = 1) in PHC form.
pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).expect("16 bytes is a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("hashing cannot fail with valid parameters")
        .to_string()
}

/// Whether `password` is the one `hash` was made from (false for anything that is not a PHC hash).
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_argon2id_salted_and_verify() {
        let h = hash_password("korrekt hest batteri stift");
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_password("korrekt hest batteri stift", &h));
        assert!(!verify_password("Korrekt hest batteri stift", &h));
        assert_ne!(h, hash_password("korrekt hest batteri stift"), "salted");
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn tokens_are_compared_whole() {
        let t = random_token();
        assert_eq!(t.len(), 64);
        assert!(same(&t, &t.clone()));
        assert!(!same(&t, &t[..63]));
        assert!(!same(&t, &random_token()));
        assert!(!same("", "a"));
    }
}
