//! What the person who brought a sample may see of its result, and the one guarded way to look it up: shared by the
//! result page, the JSON API and the technician's printed card.

use crate::AppState;
use crate::config::check::RESULT_ANSWER_AFTER as ANSWER_AFTER;
use crate::config::limits::LOOKUPS_PER_ADDRESS;
use crate::http::error::ApiError;
use crate::http::limits::ClientAddress;
use serde::Serialize;
use std::time::Instant;
use utoipa::ToSchema;
use varde_domain::catalogue::SubstanceClass;
use varde_domain::sample::{AnalysisResult, Component, Form, Outcome, Status};
use varde_domain::{Lang, Method, SampleCode, SubstanceRef, Tier};

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

/// What a guarded look-up found.
pub enum Lookup {
    Found(Box<varde_store::StoredSample>),
    /// Unknown and malformed codes alike.
    NotFound,
    /// The address has used its look-ups for the window.
    Limited,
}

/// The one way to look up a result, for the page and the API alike: at most
/// [`LOOKUPS_PER_ADDRESS`] per address in the window, counted together, and never answered sooner than
/// [`ANSWER_AFTER`] after `started`, so neither the count nor the time tells a known code from an unknown one.
pub async fn lookup(
    state: &AppState,
    address: &ClientAddress,
    code: &str,
    started: Instant,
) -> Result<Lookup, ApiError> {
    let found = if !state.limits.allow(&*state.app, LOOKUPS_PER_ADDRESS, &address.who()).await? {
        Ok(Lookup::Limited)
    } else {
        match SampleCode::parse(code) {
            Ok(c) => {
                state.app.queries().sample(c).await.map(|s| s.map_or(Lookup::NotFound, |s| Lookup::Found(Box::new(s))))
            }
            Err(_) => Ok(Lookup::NotFound),
        }
    };
    if let Some(rest) = ANSWER_AFTER.checked_sub(started.elapsed()) {
        tokio::time::sleep(rest).await;
    }
    Ok(found?)
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
