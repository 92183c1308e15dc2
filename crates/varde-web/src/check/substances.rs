//! Public substance pages: what Varde knows about each substance, and harm-reduction advice for its group.

use crate::AppState;
use crate::http::error::ApiError;
use crate::http::i18n::t;
use crate::http::lang::negotiate;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::html;
use varde_domain::ErrorCode;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/substances", get(list)).route("/substances/{id}", get(detail))
}

#[derive(serde::Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

async fn list(State(state): State<AppState>, Query(q): Query<LangQuery>, headers: HeaderMap) -> Response {
    let lang = negotiate(q.lang.as_deref(), &headers);
    let cat = &state.assessor.catalogue;
    let body = html! {
        h1 { (t(lang, "substances")) }
        p { (t(lang, "substances_intro")) }
        @for class in cat.classes() {
            h2 { (class.names.get(lang)) }
            p { (class.advice.get(lang)) }
            ul {
                @for s in cat.substances().iter().filter(|s| s.class == class.id) {
                    li { a href={ "/substances/" (s.id) "?lang=" (lang.code()) } { (s.names.get(lang)) } }
                }
            }
        }
    };
    crate::http::pages::page(crate::http::pages::layout(lang, t(lang, "substances"), "/substances", body))
}

async fn detail(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = negotiate(q.lang.as_deref(), &headers);
    let Some(s) = state.assessor.catalogue.get(&id) else {
        return Ok(ApiError::new(ErrorCode::NotFound, "no such substance").into_response());
    };
    let class = state.assessor.catalogue.class(s.class);
    let other: Vec<&String> = s.synonyms.iter().chain(&s.street_names).collect();
    let body = html! {
        h1 { (s.names.get(lang)) }
        p.meta { a href={ "/substances?lang=" (lang.code()) } { (class.names.get(lang)) } }
        @if !other.is_empty() { p { strong { (t(lang, "also_known_as")) } ": " (other.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(", ")) } }
        @if !s.risks.is_empty() {
            h2 { (t(lang, "risks")) }
            ul { @for r in &s.risks { li { (t(lang, &format!("risk_{}", serde_json::to_value(r).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()))) } } }
        }
        h2 { (t(lang, "what_to_do")) }
        p { (class.advice.get(lang)) }
        p.emergency { (t(lang, if s.class.is_opioid() { "emergency_opioid" } else { "emergency" })) }
        @if s.cas.is_some() || s.pubchem_cid.is_some() || s.inchikey.is_some() {
            h2 { (t(lang, "identifiers")) }
            dl {
                @if let Some(c) = &s.cas { dt { "CAS" } dd { (c) } }
                @if let Some(c) = s.pubchem_cid { dt { "PubChem CID" } dd { (c) } }
                @if let Some(c) = &s.inchikey { dt { "InChIKey" } dd { (c) } }
            }
        }
    };
    Ok(crate::http::pages::page(crate::http::pages::layout(
        lang,
        s.names.get(lang),
        &format!("/substances/{id}"),
        body,
    )))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_risk_property_has_a_text_in_three_languages() {
        use varde_domain::catalogue::RiskProperty::*;
        for r in [
            HighPotency,
            DelayedOnset,
            UnknownEffects,
            NotReversedByNaloxone,
            NarrowDoseRange,
            LongActing,
            ToxicAdulterant,
            Serotonergic,
        ] {
            let key = format!("risk_{}", serde_json::to_value(r).unwrap().as_str().unwrap());
            for lang in varde_domain::Lang::ALL {
                assert!(!crate::http::i18n::t(lang, &key).is_empty());
            }
        }
    }
}
