//! Errors leave the server in one shape, `{"error": "<stable_snake_code>", "message": "<human text>"}`, with an
//! optional `field`. Clients translate the code; the message is for people reading logs and curl output.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use varde_domain::sample::InvalidInput;
use varde_store::StoreError;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable snake_case code, e.g. `personal_data_refused`.
    pub error: &'static str,
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

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, body: ErrorBody { error: code, message: message.into(), field: None } }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> ApiError {
        self.body.field = Some(field.into());
        self
    }

    pub fn unauthorized(code: &'static str, message: &str) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, code, message)
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, code, message)
    }

    pub fn not_found(code: &'static str, message: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn internal() -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "something went wrong on the server; nothing was stored",
        )
    }
}

impl From<InvalidInput> for ApiError {
    fn from(e: InvalidInput) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.code, e.message).with_field(e.field)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::UnknownService(slug) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_service",
                format!("there is no service '{slug}'; `varde service list` shows the registered ones"),
            )
            .with_field("service"),
            StoreError::UnknownSample => ApiError::not_found("sample_not_found", "no sample has that code"),
            StoreError::UnknownAlert => ApiError::not_found("alert_not_found", "no alert has that id"),
            StoreError::Input(e) => e.into(),
            StoreError::Invalid { code, message } => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message),
            StoreError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            e @ (StoreError::CodeTaken | StoreError::Corrupt(_) | StoreError::Database(_) | StoreError::Closed) => {
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
        res
    }
}
