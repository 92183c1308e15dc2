//! Passkeys (WebAuthn, through `webauthn-rs`) as a second factor for local accounts: the ceremonies' two halves
//! each, with the credentials and the ceremony's state as JSON text, so that the caller keeps them where it keeps
//! sessions (in the database, so that any instance can finish what another began). User verification is required
//! (a PIN, a fingerprint, the phone's unlock), which is what makes a passkey a second factor.
//!
//! The relying party is the host of the public address: a passkey made for `varde.example.no` works only there.
//! Browsers refuse an IP address as relying party, so with a public address such as `http://127.0.0.1:8080` passkeys
//! are unavailable (the pages say so and offer the authenticator app), and `http://localhost` works for development.

use serde_json::Value;
use webauthn_rs::prelude::{
    Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential, Url, Uuid,
};
use webauthn_rs::{Webauthn, WebauthnBuilder};

/// The browsers' half of the ceremonies, served by both modules: it shows the parts `#passkey-add` and
/// `#passkey-login` and runs them against the addresses they name (`data-start`, `data-finish`).
pub const SCRIPT: &[u8] = include_bytes!("../static/passkeys.js");

static TEXTS: std::sync::LazyLock<crate::i18n::Texts> =
    std::sync::LazyLock::new(|| crate::i18n::Texts::parse("i18n/passkeys.toml", include_str!("../i18n/passkeys.toml")));

/// A passkey text in the language with code `lang`: `title`, `intro`, `none`, `unavailable`, `name`, `column`,
/// `add`, `added`, `last_used`, `remove`, `use`, `failed`.
pub fn text(lang: &str, key: &str) -> &'static str {
    TEXTS.get(lang, key)
}

/// Passkeys for the site at one public address.
pub struct Passkeys {
    webauthn: Option<Webauthn>,
}

impl std::fmt::Debug for Passkeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passkeys").field("available", &self.available()).finish()
    }
}

/// Why a ceremony failed: for the log; the person is told only that the passkey was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed(pub String);

fn failed(e: impl std::fmt::Display) -> Failed {
    Failed(e.to_string())
}

impl Passkeys {
    /// Passkeys for the site at `public_url` (`https://host[:port]`, or `http://localhost:port`); unavailable when its
    /// host is an IP address or the address does not parse.
    pub fn new(public_url: &str) -> Passkeys {
        let webauthn = Url::parse(public_url).ok().and_then(|origin| {
            let host = origin.host_str()?.to_owned();
            if host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[') {
                return None;
            }
            WebauthnBuilder::new(&host, &origin).ok()?.rp_name("Varde").build().ok()
        });
        Passkeys { webauthn }
    }

    pub fn available(&self) -> bool {
        self.webauthn.is_some()
    }

    fn webauthn(&self) -> Result<&Webauthn, Failed> {
        self.webauthn.as_ref().ok_or_else(|| Failed("passkeys need a public address with a host name".into()))
    }

    /// Starts adding a passkey for user `user` (`username` is shown by the authenticator), excluding the
    /// credentials they have: the options for `navigator.credentials.create` (JSON) and the state to keep.
    pub fn start_registration(
        &self,
        user: i64,
        username: &str,
        existing: &[String],
    ) -> Result<(Value, String), Failed> {
        let exclude: Vec<_> = existing
            .iter()
            .filter_map(|c| serde_json::from_str::<Passkey>(c).ok())
            .map(|p| p.cred_id().clone())
            .collect();
        let (options, state) = self
            .webauthn()?
            .start_passkey_registration(user_handle(user), username, username, Some(exclude))
            .map_err(failed)?;
        Ok((serde_json::to_value(options).map_err(failed)?, serde_json::to_string(&state).map_err(failed)?))
    }

    /// Finishes adding a passkey with the browser's answer (`PublicKeyCredential.toJSON()`): the credential to keep.
    pub fn finish_registration(&self, answer: &Value, state: &str) -> Result<String, Failed> {
        let answer: RegisterPublicKeyCredential = serde_json::from_value(answer.clone()).map_err(failed)?;
        let state: PasskeyRegistration = serde_json::from_str(state).map_err(failed)?;
        let passkey = self.webauthn()?.finish_passkey_registration(&answer, &state).map_err(failed)?;
        serde_json::to_string(&passkey).map_err(failed)
    }

    /// Starts a login's passkey step with the person's credentials: the options for `navigator.credentials.get`
    /// and the state to keep.
    pub fn start_authentication(&self, credentials: &[String]) -> Result<(Value, String), Failed> {
        let passkeys: Vec<Passkey> = credentials.iter().filter_map(|c| serde_json::from_str(c).ok()).collect();
        if passkeys.is_empty() {
            return Err(Failed("the person has no passkey".into()));
        }
        let (options, state) = self.webauthn()?.start_passkey_authentication(&passkeys).map_err(failed)?;
        Ok((serde_json::to_value(options).map_err(failed)?, serde_json::to_string(&state).map_err(failed)?))
    }

    /// Finishes a login's passkey step with the browser's answer: which of `credentials` (by the caller's id)
    /// answered, and that credential as it is now when its counter or backup state changed.
    pub fn finish_authentication(
        &self,
        answer: &Value,
        state: &str,
        credentials: &[(i64, String)],
    ) -> Result<(i64, Option<String>), Failed> {
        let answer: PublicKeyCredential = serde_json::from_value(answer.clone()).map_err(failed)?;
        let state: PasskeyAuthentication = serde_json::from_str(state).map_err(failed)?;
        let result = self.webauthn()?.finish_passkey_authentication(&answer, &state).map_err(failed)?;
        for (id, credential) in credentials {
            let Ok(mut passkey) = serde_json::from_str::<Passkey>(credential) else { continue };
            if passkey.cred_id() == result.cred_id() {
                let updated = match passkey.update_credential(&result) {
                    Some(true) => Some(serde_json::to_string(&passkey).map_err(failed)?),
                    _ => None,
                };
                return Ok((*id, updated));
            }
        }
        Err(Failed("the passkey that answered is not the person's".into()))
    }
}

/// The user handle an authenticator keeps with a passkey: stable per user, and nothing about them but that.
fn user_handle(user: i64) -> Uuid {
    Uuid::from_u64_pair(0x7661_7264_6500_0000, user as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_is_there_in_three_languages() {
        let keys = [
            "title",
            "intro",
            "none",
            "unavailable",
            "name",
            "column",
            "add",
            "added",
            "last_used",
            "remove",
            "use",
            "failed",
        ];
        for key in keys {
            assert!(!text("nn", key).is_empty());
        }
        assert_eq!(TEXTS.len(), keys.len(), "no text nobody uses");
    }

    #[test]
    fn a_host_name_is_a_relying_party_and_an_ip_address_is_not() {
        assert!(Passkeys::new("https://varde.example.no").available());
        assert!(Passkeys::new("http://localhost:8080").available());
        assert!(!Passkeys::new("http://127.0.0.1:8080").available());
        assert!(!Passkeys::new("http://[::1]:8080").available());
        assert!(!Passkeys::new("not a url").available());
    }

    #[test]
    fn registration_starts_with_a_challenge_and_a_forged_answer_is_refused() {
        let passkeys = Passkeys::new("https://varde.example.no");
        let (options, state) = passkeys.start_registration(6, "rolf", &[]).unwrap();
        assert_eq!(options["publicKey"]["rp"]["id"], "varde.example.no");
        assert_eq!(options["publicKey"]["authenticatorSelection"]["userVerification"], "required");
        assert!(options["publicKey"]["challenge"].as_str().is_some_and(|c| c.len() >= 40));
        let forged = serde_json::json!({"id": "AA", "rawId": "AA", "type": "public-key",
            "response": {"attestationObject": "AA", "clientDataJSON": "AA"}});
        assert!(passkeys.finish_registration(&forged, &state).is_err());
        assert!(passkeys.finish_registration(&forged, "not a state").is_err());
        // With no passkeys there is nothing to ask for.
        assert!(passkeys.start_authentication(&[]).is_err());
    }
}
