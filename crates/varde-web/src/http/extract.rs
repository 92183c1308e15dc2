//! Request extractors that turn every kind of bad input into an [`ApiError`] naming what was wrong.

use crate::AppState;
use crate::config::limits::MAX_BODY;
use crate::http::error::ApiError;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use bytes::Bytes;
use serde::de::DeserializeOwned;
use varde_domain::ErrorCode;
use varde_domain::auth::Principal;

/// A JSON body. Malformed JSON is `400 malformed_json`; a missing, unknown or wrongly typed field is
/// `400 invalid_field` naming the field's path; a body over 1 MiB is `413 payload_too_large`.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                let v = v.trim();
                v.eq_ignore_ascii_case("application/json") || (v.starts_with("application/") && v.ends_with("+json"))
            });
        if !is_json {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "send the body as JSON with Content-Type: application/json",
            ));
        }
        let bytes = read_body(req, state).await?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// The body, up to [`MAX_BODY`]: larger is `413 payload_too_large`.
async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(ErrorCode::PayloadTooLarge, format!("the body may be at most {MAX_BODY} bytes"))
        } else {
            ApiError::new(ErrorCode::UnreadableBody, rejection.body_text())
        }
    })
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_data() {
            let msg = inner.to_string();
            let msg = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
            let named =
                msg.split('`').nth(1).filter(|_| msg.starts_with("missing field") || msg.starts_with("unknown field"));
            // serde names a missing field in its message, not in the path (an unknown one is in both).
            let field = match (path.as_str(), named) {
                (".", Some(n)) => n.to_owned(),
                (p, Some(n)) if !p.ends_with(n) => format!("{p}.{n}"),
                (p, _) => p.to_owned(),
            };
            let code = if msg.starts_with("unknown field") { ErrorCode::UnknownField } else { ErrorCode::InvalidField };
            ApiError::new(code, format!("{field}: {msg}")).with_field(field)
        } else {
            ApiError::new(ErrorCode::MalformedJson, format!("the body is not valid JSON: {inner}"))
        }
    })?;
    de.end().map_err(|e| ApiError::new(ErrorCode::MalformedJson, format!("the body is not valid JSON: {e}")))?;
    Ok(value)
}

/// The caller, from `Authorization: Bearer <token>`. Missing or unknown tokens are `401`.
pub struct Auth(pub Principal);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let value = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
            ApiError::new(ErrorCode::MissingToken, "this request needs Authorization: Bearer <token>")
        })?;
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .ok_or_else(|| {
                ApiError::new(ErrorCode::InvalidToken, "the Authorization header must be 'Bearer <token>'")
            })?;
        let grant = state
            .tokens
            .grant(&*state.app, token)
            .await?
            .ok_or_else(|| ApiError::new(ErrorCode::InvalidToken, "the token is unknown or revoked"))?;
        if grant.expires.is_some_and(|at| at <= jiff::Timestamp::now()) {
            return Err(ApiError::new(ErrorCode::TokenExpired, "the token has expired; ask an admin for a new one"));
        }
        // A read-only token reads; whatever else it asks is refused before any handler runs.
        if grant.read_only && !matches!(parts.method, axum::http::Method::GET | axum::http::Method::HEAD) {
            return Err(ApiError::new(ErrorCode::ReadOnlyToken, "this token can only read (GET)"));
        }
        Ok(Auth(grant.principal()))
    }
}

/// The caller if a token is given; anonymous otherwise. A token that is given but unknown is still `401`.
pub struct MaybeAuth(pub Option<Principal>);

impl FromRequestParts<AppState> for MaybeAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if parts.headers.contains_key(header::AUTHORIZATION) {
            Auth::from_request_parts(parts, state).await.map(|Auth(p)| MaybeAuth(Some(p)))
        } else {
            Ok(MaybeAuth(None))
        }
    }
}

/// Only reviewers publish, update, withdraw and edit alerts.
pub fn require_reviewer(who: &Principal) -> Result<(), ApiError> {
    if who.role == varde_domain::auth::Role::Reviewer {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::ReviewerOnly, "only reviewers review, publish, update and withdraw alerts"))
    }
}

/// Reviewers and admins: the national roles.
pub fn require_national(who: &Principal) -> Result<(), ApiError> {
    if who.is_national() {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::NationalRoleOnly, "this needs a reviewer's or an admin's token"))
    }
}

/// A JSON body that may be left out (an empty body is `None`); otherwise as [`ApiJson`].
pub struct OptionalJson<T>(pub Option<T>);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_body(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(None));
        }
        parse_json(&bytes).map(|v| OptionalJson(Some(v)))
    }
}

/// A page form sent as multipart/form-data: its text fields, and the one file field's name and bytes.
pub struct UploadForm {
    pub fields: std::collections::HashMap<String, String>,
    pub file_name: String,
    pub file: Vec<u8>,
}

impl UploadForm {
    /// Reads every part; the part named `file_field` is the file (its name stripped of control characters
    /// and cut to 200 characters). A body over the route's limit is 413.
    pub async fn read(mut multipart: axum::extract::Multipart, file_field: &str) -> Result<UploadForm, ApiError> {
        let mut form = UploadForm { fields: Default::default(), file_name: String::new(), file: Vec::new() };
        while let Some(part) =
            multipart.next_field().await.map_err(|e| ApiError::new(ErrorCode::UnreadableBody, e.body_text()))?
        {
            let name = part.name().unwrap_or_default().to_owned();
            if name == file_field {
                form.file_name =
                    part.file_name().unwrap_or_default().chars().filter(|c| !c.is_control()).take(200).collect();
                form.file =
                    part.bytes().await.map_err(|e| ApiError::new(ErrorCode::PayloadTooLarge, e.body_text()))?.to_vec();
            } else {
                form.fields.insert(name, part.text().await.unwrap_or_default());
            }
        }
        Ok(form)
    }

    pub fn field(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", |v| v.trim())
    }
}

/// Refuses (403 `admin_only`, with `message`) anyone but an admin: for API routes only admins use.
pub fn require_admin(who: &varde_domain::auth::Principal, message: &'static str) -> Result<(), ApiError> {
    if who.role == varde_domain::auth::Role::Admin { Ok(()) } else { Err(ApiError::new(ErrorCode::AdminOnly, message)) }
}

/// Path parameters. A segment that does not parse (`/api/v1/alerts/k`, invalid UTF-8) names nothing: 404
/// `not_found` in the JSON error shape, never the parser's text.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state).await.map(|p| ApiPath(p.0)).map_err(|_| {
            ApiError::new(
                ErrorCode::NotFound,
                format!("{} names nothing here (a malformed id or code)", parts.uri.path()),
            )
        })
    }
}

/// A query string. A parameter that does not parse (`?limit=-1`, `?after=x`) is 400 `invalid_field` naming it; an
/// unknown parameter is ignored, as browsers and caches add their own.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de).map(ApiQuery).map_err(|e| {
            let field = e.path().to_string();
            let value =
                form_urlencoded::parse(query.as_bytes()).find(|(k, _)| *k == field).map(|(_, v)| v.into_owned());
            let message = match value {
                Some(v) => format!("{field}: '{v}' is not a value this parameter takes"),
                None if field == "." => "the query string cannot be read".to_owned(),
                None => format!("{field} is missing or cannot be read"),
            };
            ApiError::new(ErrorCode::InvalidField, message).with_field(field)
        })
    }
}
