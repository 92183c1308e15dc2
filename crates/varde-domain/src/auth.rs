//! Roles and what each may do. There is no police role, by design (privacy rule 4).

use crate::service::ServiceSlug;
use serde::{Deserialize, Serialize};

/// The shortest password a person may set, in characters: long enough to resist guessing at the login's
/// rate limits (NIST SP 800-63B asks for at least 8; passphrases are encouraged).
pub const MIN_PASSWORD_CHARS: usize = 12;

/// An API token lasts this many days unless its issuer says otherwise: long enough for a quarter's integration work,
/// short enough that a forgotten one stops working.
pub const TOKEN_DAYS_DEFAULT: u32 = 90;

/// The longest expiry a token may be given in days (an operator may still choose one that never expires).
pub const TOKEN_DAYS_MAX: u32 = 366;

/// Whether a password is long enough.
pub fn password_long_enough(password: &str) -> bool {
    password.chars().count() >= MIN_PASSWORD_CHARS
}

/// The longest username, in characters.
pub const MAX_USERNAME_CHARS: usize = 64;

/// A login name: trimmed, 1-64 characters, without spaces, and like all free text without personal data (a
/// username is written in the audit log and shown to admins; a phone number or e-mail address is not a name).
pub fn check_username(name: &str) -> Result<String, crate::InvalidInput> {
    let name = crate::sample::check_text("username", Some(name), MAX_USERNAME_CHARS)?.unwrap_or_default();
    if name.is_empty() || name.chars().any(char::is_whitespace) {
        return Err(crate::InvalidInput::invalid(
            "username",
            format!("a username has 1-{MAX_USERNAME_CHARS} characters and no spaces"),
        ));
    }
    Ok(name)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Works at one service: registers and reads that service's samples.
    Technician,
    /// National reviewer and analyst: reads all samples (audited), reviews and publishes alerts.
    Reviewer,
    /// Manages services, users, tokens and webhooks.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Technician => "technician",
            Role::Reviewer => "reviewer",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        [Role::Technician, Role::Reviewer, Role::Admin].into_iter().find(|r| r.as_str() == s)
    }
}

/// Who is acting: a role, and for a technician the one service it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// A stable, non-secret label for the audit log, such as `token:12` or `cli`.
    pub actor: String,
    pub role: Role,
    pub service: Option<ServiceSlug>,
}

impl Principal {
    /// Least privilege: only technicians register samples, analyses and user-room counts, and only for their own
    /// service. National roles read (audited) but do not write results; a national lab gets technician accounts of
    /// its own service. The refusal says which rule failed.
    pub fn may_register_at(&self, service: &ServiceSlug) -> Result<(), crate::ErrorCode> {
        match self.role {
            Role::Technician if self.service.as_ref() == Some(service) => Ok(()),
            Role::Technician => Err(crate::ErrorCode::WrongService),
            Role::Reviewer | Role::Admin => Err(crate::ErrorCode::TechnicianOnly),
        }
    }

    /// Reading a sample's full record: technicians their own service's, national roles any (and audited).
    pub fn may_read_sample_of(&self, service: &ServiceSlug) -> bool {
        self.is_national() || self.service.as_ref() == Some(service)
    }

    /// National roles' sample-level reads go to the audit log (privacy rule 4).
    pub fn is_national(&self) -> bool {
        matches!(self.role, Role::Reviewer | Role::Admin)
    }
}
