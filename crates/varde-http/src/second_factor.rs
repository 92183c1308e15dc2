//! A second factor for local accounts: time-based one-time passwords (TOTP, RFC 6238, through `totp-rs`) and
//! single-use recovery codes.
//!
//! The TOTP parameters are the ones every authenticator app reads from an `otpauth://` address without asking:
//! HMAC-SHA1, 6 digits, 30-second steps, a 160-bit secret. A code is accepted one step early or late (a phone's
//! clock drifts); the caller accepts each step once (RFC 6238 §5.2), so a code seen over a shoulder cannot be used
//! again.

use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};
use totp_rs::{Builder, Secret, Totp};

/// How many recovery codes an enrolment gives.
pub const RECOVERY_CODES: usize = 10;

/// A new TOTP secret in base32 (as stored, and as an authenticator app is given it to type by hand).
pub fn new_secret() -> String {
    let mut bytes = [0u8; 20];
    rand::rng().fill_bytes(&mut bytes);
    Secret::from(bytes).to_base32()
}

/// A person's TOTP generator: `secret` in base32, named in the authenticator app as `account` at `issuer`.
pub struct OneTimeCodes(Totp);

impl OneTimeCodes {
    /// None when `secret` is not a valid base32 secret of at least 128 bits.
    pub fn new(secret: &str, issuer: &str, account: &str) -> Option<OneTimeCodes> {
        let secret = Secret::try_from_base32(secret).ok()?;
        // The builder's defaults are RFC 6238's: SHA-1, 6 digits, 30-second steps.
        Builder::new()
            .with_secret(secret)
            .with_issuer(Some(issuer))
            .with_account_name(account)
            .build()
            .ok()
            .map(OneTimeCodes)
    }

    /// The `otpauth://totp/…` address an authenticator app reads from a QR code.
    pub fn url(&self) -> String {
        self.0.to_url().expect("issuer and account name were checked when built")
    }

    /// The time step the code is valid for at `unix_seconds` (one step of drift either way), or None. Spaces in the
    /// code are ignored (apps show "123 456").
    pub fn check(&self, code: &str, unix_seconds: u64) -> Option<u64> {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let now = unix_seconds / 30;
        (now.saturating_sub(1)..=now + 1).find(|step| self.0.generate(step * 30).to_string() == code)
    }

    /// The code for `unix_seconds` (for tests, and for nothing else).
    pub fn code_at(&self, unix_seconds: u64) -> String {
        self.0.generate(unix_seconds).to_string()
    }
}

/// Fresh recovery codes: ten of ten characters each from an alphabet without look-alikes (about 50 bits each),
/// written in two groups of five, "k7m2p-9xq4w".
pub fn new_recovery_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..RECOVERY_CODES)
        .map(|_| {
            let c: String = (0..10).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect();
            format!("{}-{}", &c[..5], &c[5..])
        })
        .collect()
}

/// What is stored of a recovery code: SHA-256 of the code as typed without spaces or hyphens, in lower case. A code
/// carries 50 random bits, so a fast hash is enough (unlike a password, it cannot be guessed from a dictionary).
pub fn recovery_hash(code: &str) -> [u8; 32] {
    let normal: String = code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect();
    Sha256::digest(normal.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238, appendix B: the SHA-1 test vectors (8 digits there; the last 6 of each here).
    #[test]
    fn codes_are_those_of_rfc_6238() {
        let secret = Secret::from(*b"12345678901234567890").to_base32();
        let codes = OneTimeCodes::new(&secret, "Varde", "test").expect("a valid secret");
        for (time, expected) in
            [(59, "287082"), (1_111_111_109, "081804"), (1_234_567_890, "005924"), (2_000_000_000, "279037")]
        {
            assert_eq!(codes.code_at(time), expected, "at {time}");
            assert!(codes.check(expected, time).is_some());
        }
    }

    #[test]
    fn a_code_holds_one_step_either_side_and_no_further() {
        let codes = OneTimeCodes::new(&new_secret(), "Varde", "kari").expect("a valid secret");
        let t = 1_800_000_000;
        let code = codes.code_at(t);
        assert_eq!(codes.check(&code, t), Some(t / 30));
        assert_eq!(codes.check(&code, t + 30), Some(t / 30), "a phone 30 s behind");
        assert_eq!(codes.check(&format!("{} {}", &code[..3], &code[3..]), t), Some(t / 30), "as an app shows it");
        assert_eq!(codes.check(&code, t + 90), None, "three steps later");
        assert_eq!(codes.check("12345", t), None);
        assert_eq!(codes.check("abcdef", t), None);
        assert!(codes.url().starts_with("otpauth://totp/Varde:kari?secret="));
    }

    #[test]
    fn recovery_codes_are_distinct_and_hash_as_typed_in_any_way() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert_eq!(codes.iter().collect::<std::collections::HashSet<_>>().len(), RECOVERY_CODES);
        let c = &codes[0];
        assert_eq!(recovery_hash(c), recovery_hash(&c.replace('-', " ").to_uppercase()));
        assert_ne!(recovery_hash(c), recovery_hash(&codes[1]));
        assert!(OneTimeCodes::new("not base32!", "Varde", "x").is_none());
    }
}
