//! Errors leave the server in one shape, `{"error": "<stable_snake_code>", "message": "<human text>"}`, with an
//! optional `field`. The codes are [`ErrorCode`]s, each with one HTTP status ([`status`]) and a text in nb, nn and en
//! (`i18n/errors.toml`, [`text`]); clients translate the code, the message is for people reading logs and curl output.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::LazyLock;
use utoipa::ToSchema;
use varde_domain::sample::InvalidInput;
use varde_domain::{ErrorCode, Lang, Localized};
use varde_store::StoreError;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable snake_case code, e.g. `personal_data_refused`; docs/api.md lists them all.
    #[schema(value_type = String, example = "personal_data_refused")]
    pub error: ErrorCode,
    pub message: String,
    /// The request field the error concerns, as a path such as `analyses[0].components[1].amount.unit`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
}

/// The HTTP status every response with `code` carries.
pub fn status(code: ErrorCode) -> StatusCode {
    use ErrorCode::*;
    match code {
        MalformedJson | InvalidField | UnknownField | UnreadableBody => StatusCode::BAD_REQUEST,
        MissingToken | InvalidToken | TokenExpired | SignInRefused | PasskeyRefused => StatusCode::UNAUTHORIZED,
        ReadOnlyToken | WrongService | TechnicianOnly | ReviewerOnly | NationalRoleOnly | AdminOnly | CsrfFailed => {
            StatusCode::FORBIDDEN
        }
        NotFound | SampleNotFound | ResultNotFound | AlertNotFound => StatusCode::NOT_FOUND,
        MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        Conflict => StatusCode::CONFLICT,
        PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        PersonalDataRefused
        | UnknownService
        | InvalidValue
        | TextTooLong
        | AmountUnitNotApplicable
        | TabletFieldsNotApplicable
        | UnknownAnalysis
        | AnalysisAlreadyAmended
        | InvalidTransition
        | UnknownSignal
        | SignalNotOpen
        | UnknownToken
        | UnknownSubstance
        | UnreadableSpectrum
        | MethodWithoutSpectrum
        | ChannelUnavailable => StatusCode::UNPROCESSABLE_ENTITY,
        LinkUsed => StatusCode::GONE,
        UndoWindowPassed => StatusCode::CONFLICT,
        TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        InternalError => StatusCode::INTERNAL_SERVER_ERROR,
        StorageUnavailable => StatusCode::SERVICE_UNAVAILABLE,
    }
}

static TEXTS: LazyLock<HashMap<String, Localized>> = LazyLock::new(|| {
    let map: HashMap<String, Localized> = toml::from_str(include_str!("../../i18n/errors.toml"))
        .unwrap_or_else(|e| panic!("i18n/errors.toml: {e} (a code lacks nb, nn or en?)"));
    for (key, value) in &map {
        if let Some(lang) = value.first_empty() {
            panic!("i18n/errors.toml: [{key}] is empty in {}", lang.code());
        }
    }
    map
});

/// What `code` means, for a person, in `lang`.
pub fn text(code: ErrorCode, lang: Lang) -> &'static str {
    TEXTS.get(code.as_str()).map_or_else(|| panic!("i18n/errors.toml has no {code}"), |t| t.get(lang))
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.body.error.as_str(), self.body.message)
    }
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError { status: status(code), body: ErrorBody { error: code, message: message.into(), field: None } }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> ApiError {
        self.body.field = Some(field.into());
        self
    }

    pub fn internal() -> ApiError {
        ApiError::new(ErrorCode::InternalError, "something went wrong on the server; nothing was stored")
    }

    pub fn code(&self) -> ErrorCode {
        self.body.error
    }
}

impl From<InvalidInput> for ApiError {
    fn from(e: InvalidInput) -> ApiError {
        ApiError::new(e.code, e.message).with_field(e.field)
    }
}

/// A rendering that could not be written (see `crate::know::figures::Rendering`): nothing the client can change.
impl From<std::io::Error> for ApiError {
    fn from(e: std::io::Error) -> ApiError {
        tracing::error!(error = %e, "rendering failed");
        ApiError::new(ErrorCode::InternalError, "the figures could not be rendered; try again later")
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::UnknownService(slug) => ApiError::new(
                ErrorCode::UnknownService,
                format!("there is no service '{slug}'; `varde service list` shows the registered ones"),
            )
            .with_field("service"),
            StoreError::UnknownSample => ApiError::new(ErrorCode::SampleNotFound, "no sample has that code"),
            StoreError::UnknownAlert => ApiError::new(ErrorCode::AlertNotFound, "no alert has that id"),
            StoreError::Input(e) => e.into(),
            StoreError::Invalid { code, message } => ApiError::new(code, message),
            StoreError::Conflict(m) => ApiError::new(ErrorCode::Conflict, m),
            e @ (StoreError::Unavailable(_) | StoreError::Closed) => {
                tracing::error!(error = %e, "storage unavailable");
                ApiError::new(
                    ErrorCode::StorageUnavailable,
                    "the database cannot take this now (storage unavailable); nothing was stored, try again later",
                )
            }
            e
            @ (StoreError::CodeTaken | StoreError::Corrupt(_) | StoreError::Database(_) | StoreError::Internal(_)) => {
                tracing::error!(error = %e, "store failure");
                ApiError::internal()
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = (self.status, axum::Json(self.body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"varde\""));
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code has a status (the match above is exhaustive), a text in each language, and a row in docs/api.md's
    /// table of errors, so a client author finds every code the server can send.
    #[test]
    fn every_error_code_has_three_texts_and_a_row_in_the_api_document() {
        let api_doc = include_str!("../../../../docs/api.md");
        for code in ErrorCode::ALL {
            for lang in [Lang::Nb, Lang::Nn, Lang::En] {
                assert!(!text(*code, lang).is_empty());
            }
            let row = api_doc.lines().any(|l| l.starts_with('|') && l.contains(&format!("`{code}`")));
            assert!(row, "docs/api.md has no table row naming `{code}`");
            let _ = status(*code);
        }
        assert_eq!(TEXTS.len(), ErrorCode::ALL.len(), "i18n/errors.toml has a code the enum does not");
    }
}
