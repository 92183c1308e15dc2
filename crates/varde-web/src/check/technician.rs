//! The gate of the technicians' pages: technicians only (a page saying so to anyone else), and every form's CSRF
//! token.

use crate::http::error::ApiError;
use crate::http::i18n::t;
use crate::http::session::SessionUser;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;
use varde_domain::Lang;
use varde_domain::auth::Role;

pub fn technician_only(lang: Lang, user: &SessionUser) -> Option<Response> {
    (user.0.role != Role::Technician).then(|| {
        let body = html! { h1 { (t(lang, "staff")) } p.error role="alert" { (t(lang, "technicians_only")) } };
        (
            StatusCode::FORBIDDEN,
            crate::http::pages::page(crate::http::pages::staff_layout(&user.0, lang, t(lang, "staff"), "/staff", body)),
        )
            .into_response()
    })
}

/// Every technician's form post starts the same way: technicians only (a page saying so otherwise), and the form's
/// CSRF token. `Ok(Some(page))` is the refusal to answer with.
pub fn technician_post(lang: Lang, user: &SessionUser, csrf: &str) -> Result<Option<Response>, ApiError> {
    if let Some(refused) = technician_only(lang, user) {
        return Ok(Some(refused));
    }
    user.check_csrf(csrf)?;
    Ok(None)
}

/// A technician's form with nothing but its CSRF token (acknowledging a warning, taking it back).
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct CsrfOnly {
    pub csrf: String,
}
