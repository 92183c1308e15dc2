//! Why Varde refused something: one enum of stable codes that leave the server as `{"error": "<code>"}` and that
//! clients (and Varde's own pages) translate. Every code is listed once here; the web edge gives each its HTTP
//! status, `varde-web/i18n/errors.toml` its text in nb, nn and en, and docs/api.md a row. A test walks
//! [`ErrorCode::ALL`] to hold all three in step.

use serde::{Serialize, Serializer};

macro_rules! error_codes {
    ($($(#[doc = $doc:literal])* $variant:ident = $code:literal,)*) => {
        /// A stable snake_case error code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode { $($(#[doc = $doc])* $variant,)* }

        impl ErrorCode {
            /// Every code, in the order of the table in docs/api.md.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code,)* }
            }
        }
    };
}

error_codes! {
    /// Not JSON.
    MalformedJson = "malformed_json",
    /// A missing or wrongly typed field, a path or query parameter that does not parse.
    InvalidField = "invalid_field",
    /// A field that does not exist.
    UnknownField = "unknown_field",
    /// The body could not be read (a broken upload).
    UnreadableBody = "unreadable_body",
    MissingToken = "missing_token",
    InvalidToken = "invalid_token",
    /// A token past its expiry.
    TokenExpired = "token_expired",
    /// A read-only token asked to write.
    ReadOnlyToken = "read_only_token",
    /// A technician writing to or reading another service's sample.
    WrongService = "wrong_service",
    TechnicianOnly = "technician_only",
    ReviewerOnly = "reviewer_only",
    NationalRoleOnly = "national_role_only",
    AdminOnly = "admin_only",
    /// A sign-in through an identity provider that Varde refused: the answer was not for this browser's sign-in,
    /// the provider refused the code, its ID token did not verify, or no sign-in rule names the person.
    SignInRefused = "sign_in_refused",
    /// A passkey's answer that did not verify, or a passkey ceremony that was not started.
    PasskeyRefused = "passkey_refused",
    /// A form without the anti-forgery token that was sent with it.
    CsrfFailed = "csrf_failed",
    NotFound = "not_found",
    SampleNotFound = "sample_not_found",
    ResultNotFound = "result_not_found",
    AlertNotFound = "alert_not_found",
    MethodNotAllowed = "method_not_allowed",
    /// A name (user, service slug) that is taken.
    Conflict = "conflict",
    PayloadTooLarge = "payload_too_large",
    UnsupportedMediaType = "unsupported_media_type",
    /// Free text that holds a fødselsnummer, D-number, phone number or e-mail address.
    PersonalDataRefused = "personal_data_refused",
    UnknownService = "unknown_service",
    InvalidValue = "invalid_value",
    TextTooLong = "text_too_long",
    AmountUnitNotApplicable = "amount_unit_not_applicable",
    TabletFieldsNotApplicable = "tablet_fields_not_applicable",
    UnknownAnalysis = "unknown_analysis",
    AnalysisAlreadyAmended = "analysis_already_amended",
    /// An alert action its status does not allow (e.g. updating a draft, publishing a discarded one).
    InvalidTransition = "invalid_transition",
    UnknownSignal = "unknown_signal",
    SignalNotOpen = "signal_not_open",
    UnknownToken = "unknown_token",
    /// A name that is not in the substance catalogue where only a catalogue substance will do.
    UnknownSubstance = "unknown_substance",
    UnreadableSpectrum = "unreadable_spectrum",
    MethodWithoutSpectrum = "method_without_spectrum",
    /// A subscription confirmation link that was used already.
    LinkUsed = "link_used",
    /// Undoing an acknowledgement after the minute it can be undone in.
    UndoWindowPassed = "undo_window_passed",
    /// A subscription channel this server does not offer (e-mail without an SMTP server).
    ChannelUnavailable = "channel_unavailable",
    TooManyRequests = "too_many_requests",
    InternalError = "internal_error",
    /// The database cannot take writes (disk full, database unreachable); nothing was stored.
    StorageUnavailable = "storage_unavailable",
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an input was refused: a stable code for clients to translate, the field it concerns, and a human message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InvalidInput {
    pub code: ErrorCode,
    pub field: String,
    pub message: String,
}

impl InvalidInput {
    pub fn new(code: ErrorCode, field: impl Into<String>, message: impl Into<String>) -> InvalidInput {
        InvalidInput { code, field: field.into(), message: message.into() }
    }

    /// `invalid_value` for `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> InvalidInput {
        InvalidInput::new(ErrorCode::InvalidValue, field, message)
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn codes_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for c in ErrorCode::ALL {
            assert!(seen.insert(c.as_str()), "{c} twice");
            assert!(c.as_str().chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'), "{c}");
        }
    }
}
