//! The result look-up a person makes with their code, without logging in. It shows what they may see: what was
//! found, how certain it is, and advice; never the technician's notes or anything about other samples.

use crate::AppState;
use crate::check::result::Lookup;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::lang::negotiate;
use crate::http::limits::ClientAddress;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use varde_domain::ErrorCode;
use varde_domain::catalogue::SubstanceClass;
use varde_domain::sample::{AnalysisResult, Component, Form, Outcome, Status};
use varde_domain::{Lang, Method, SubstanceRef, Tier};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LangQuery {
    /// nb, nn or en; otherwise from Accept-Language, else nb.
    lang: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PublicResult {
    pub code: String,
    pub lang: Lang,
    pub status: Status,
    /// True when a result was corrected after it was first given: the person should read it again.
    pub amended: bool,
    /// The day the sample was handed in (no time of day).
    pub received_on: String,
    pub form: Form,
    pub colour: Option<String>,
    pub sold_as: Vec<NamedSubstance>,
    pub analyses: Vec<PublicAnalysis>,
    pub findings: Vec<PublicFinding>,
    /// Harm-reduction advice for each class of substance found.
    pub advice: Vec<ClassAdvice>,
}

#[derive(Serialize, ToSchema)]
pub struct NamedSubstance {
    #[serde(flatten)]
    pub substance: SubstanceRef,
    /// The name in the chosen language, or the name as given for a substance not in the catalogue.
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct PublicAnalysis {
    pub method: Method,
    /// For test strips.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<AnalysisResult>,
    pub inconclusive: bool,
    pub components: Vec<PublicComponent>,
    /// What this method cannot see, in the chosen language.
    pub limits: String,
}

#[derive(Serialize, ToSchema)]
pub struct PublicComponent {
    #[serde(flatten)]
    pub component: Component,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct PublicFinding {
    pub rule: String,
    pub tier: Tier,
    pub explanation: String,
}

#[derive(Serialize, ToSchema)]
pub struct ClassAdvice {
    pub class: SubstanceClass,
    pub name: String,
    pub advice: String,
}

/// Look up a result by its code. An unknown code and a malformed one get the same answer.
#[utoipa::path(
    get, path = "/api/v1/results/{code}", tag = "public",
    params(("code" = String, Path, description = "The code on the result card"), LangQuery),
    responses((status = 200, body = PublicResult), (status = 404, body = ErrorBody),
        (status = 429, description = "more than 5 look-ups from this address in 10 minutes (page and API together)", body = ErrorBody)),
)]
pub async fn get(
    State(state): State<AppState>,
    address: ClientAddress,
    // A code that is not even UTF-8 is looked up as what it is, an unknown code: same limit, time and answer.
    code: Result<ApiPath<String>, ApiError>,
    ApiQuery(q): ApiQuery<LangQuery>,
    headers: HeaderMap,
) -> Result<Json<PublicResult>, ApiError> {
    let started = std::time::Instant::now();
    let lang = negotiate(q.lang.as_deref(), &headers);
    let code = code.map(|c| c.0).unwrap_or_default();
    match crate::check::result::lookup(&state, &address, &code, started).await? {
        Lookup::Found(stored) => Ok(Json(public_result(&state, &stored, lang))),
        Lookup::NotFound => {
            Err(ApiError::new(ErrorCode::ResultNotFound, "no result has that code; check it and try again"))
        }
        Lookup::Limited => Err(ApiError::new(
            ErrorCode::TooManyRequests,
            "too many look-ups from this address; wait ten minutes and try again",
        )),
    }
}

/// What the person who brought the sample may see, in their language. Shared by the JSON API and the result page.
pub fn public_result(state: &AppState, stored: &varde_store::StoredSample, lang: Lang) -> PublicResult {
    let sample = &stored.sample;
    let cat = &state.assessor.catalogue;
    let name =
        |r: &SubstanceRef| cat.substance(r).map_or_else(|| r.substance.clone(), |s| s.names.get(lang).to_owned());
    let mut classes: Vec<SubstanceClass> = Vec::new();
    let analyses = sample
        .current_analyses()
        .map(|a| {
            let (result, inconclusive, components) = match &a.outcome {
                Outcome::Strip { result } => (Some(*result), *result == AnalysisResult::Inconclusive, Vec::new()),
                Outcome::Components { components, inconclusive } => (None, *inconclusive, components.clone()),
            };
            for c in &components {
                if let Some(s) = cat.substance(&c.substance)
                    && !classes.contains(&s.class)
                {
                    classes.push(s.class);
                }
            }
            PublicAnalysis {
                method: a.method,
                result,
                inconclusive,
                components: components
                    .into_iter()
                    .map(|c| PublicComponent { name: name(&c.substance), component: c })
                    .collect(),
                limits: state.assessor.methods.of(a.method).get(lang).to_owned(),
            }
        })
        .collect();
    // A finding whose advice goes against its class's (PMMA: do not take more) is not contradicted beside it.
    let findings: Vec<&varde_domain::finding::Finding> = stored.findings.iter().collect();
    let replaced = state.assessor.policy.replaced_classes(&findings, cat);
    let advice = classes
        .into_iter()
        .filter(|k| !replaced.contains(k))
        .map(|k| {
            let info = cat.class(k);
            ClassAdvice { class: k, name: info.names.get(lang).to_owned(), advice: info.advice.get(lang).to_owned() }
        })
        .collect();
    let oslo = jiff::tz::TimeZone::get("Europe/Oslo").unwrap_or(jiff::tz::TimeZone::UTC);
    PublicResult {
        code: sample.code.to_string(),
        lang,
        status: sample.status,
        amended: sample.status == Status::Amended,
        received_on: sample.received_at.to_zoned(oslo).date().to_string(),
        form: sample.form,
        colour: sample.colour.clone(),
        sold_as: sample.sold_as.iter().map(|s| NamedSubstance { name: name(s), substance: s.clone() }).collect(),
        analyses,
        findings: stored
            .findings
            .iter()
            .map(|f| PublicFinding {
                rule: f.rule.clone(),
                tier: f.tier,
                explanation: f.explanation.get(lang).to_owned(),
            })
            .collect(),
        advice,
    }
}
