//! The notification to the EU Drugs Agency's European Drug Alert System (EDAS) for an alert: the information
//! Regulation (EU) 2023/1322 Art. 13(2) lists, points (a) to (j), in English, in words a national focal point would
//! send (substance and method names, not codes). Sample data goes by ISO week and form only (privacy rule 2).
//! Pure: the alert and its evidence in, the notification out.

use crate::alert::Alert;
use crate::alert_text::AlertTemplates;
use crate::alert_text::form_word;
use crate::catalogue::Catalogue;
use crate::geo::Geography;
use crate::lang::Lang;
use crate::method::{Method, MethodLimits};
use crate::sample::{AmountUnit, ComponentRole, Outcome, Sample};
use crate::tier::Tier;
use serde::Serialize;

/// A notification to EDAS, points (a) to (j) of Art. 13(2).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EdasNotification {
    pub alert_id: i64,
    pub tier: Tier,
    /// (a) the type and origin of the risk.
    pub a_type_and_origin: String,
    /// (b) the date and place of the event involving the risk.
    pub b_date_and_place: String,
    /// (c) the means of exposure, transmission or dissemination.
    pub c_means_of_exposure: String,
    /// (d) analytical and toxicological data: one line per sample, in words.
    pub d_analytical_and_toxicological_data: Vec<String>,
    /// (e) identification methods.
    pub e_identification_methods: Vec<String>,
    /// (f) health risks.
    pub f_health_risks: String,
    /// (g) social, safety and security risks.
    pub g_social_safety_security_risks: String,
    /// (h) health measures implemented or intended at national level.
    pub h_health_measures: String,
    /// (i) measures other than health measures.
    pub i_other_measures: String,
    /// (j) any other relevant information.
    pub j_other_information: String,
}

/// What Varde needs to name things.
pub struct Names<'a> {
    pub catalogue: &'a Catalogue,
    pub methods: &'a MethodLimits,
    pub geography: &'a Geography,
    pub templates: &'a AlertTemplates,
}

impl Names<'_> {
    fn substance(&self, id: &str) -> String {
        if let Some(s) = self.catalogue.get(id) {
            return format!("{} ({})", s.names.en, self.catalogue.class(s.class).names.en.to_lowercase());
        }
        if let Some(m) = Method::parse(id) {
            return format!("a positive {}", self.methods.name(m).en);
        }
        // A name the catalogue does not know was typed by a technician (`alert::UNKNOWN_SUBSTANCE` in the alert).
        "an unidentified substance".to_owned()
    }

    fn plain(&self, id: &str) -> String {
        self.catalogue.get(id).map_or_else(|| "an unidentified substance".to_owned(), |s| s.names.en.clone())
    }
}

fn join(items: &[String]) -> String {
    match items.len() {
        0 => String::new(),
        1 => items[0].clone(),
        n => format!("{} and {}", items[..n - 1].join(", "), items[n - 1]),
    }
}

/// One sample's analyses in words: "2026-W47, powder sold as heroin: FTIR found heroin (main component) and caffeine
/// (adulterant, 20 % w/w); nitazene test strip positive."
fn sample_line(s: &Sample, names: &Names) -> String {
    let week = s.received_at.to_zoned(jiff::tz::TimeZone::UTC).date().iso_week_date();
    let mut parts = Vec::new();
    for a in s.current_analyses() {
        let method = names.methods.name(a.method).en.clone();
        match &a.outcome {
            Outcome::Strip { result } => parts.push(format!("{method} {}", result.as_str())),
            Outcome::Components { components, inconclusive } => {
                let found: Vec<String> = components
                    .iter()
                    .map(|c| {
                        let role = match c.role {
                            ComponentRole::Main => "main component",
                            ComponentRole::Adulterant => "adulterant",
                            ComponentRole::Trace => "trace",
                        };
                        let amount = c.amount.map(|x| match x.unit {
                            AmountUnit::Percent => format!(", {} % w/w", x.value),
                            AmountUnit::Mg => format!(", {} mg per unit", x.value),
                            AmountUnit::Ug => format!(", {} µg per unit", x.value),
                        });
                        let name = if c.substance.known {
                            names.plain(&c.substance.substance)
                        } else {
                            "an unidentified substance".to_owned()
                        };
                        format!("{name} ({role}{})", amount.unwrap_or_default())
                    })
                    .collect();
                match (found.is_empty(), inconclusive) {
                    (true, true) => parts.push(format!("{method} inconclusive")),
                    (true, false) => parts.push(format!("{method} found nothing it can identify")),
                    (false, _) => parts.push(format!("{method} found {}", join(&found))),
                }
            }
        }
    }
    let sold: Vec<String> = s
        .sold_as
        .iter()
        .map(|r| if r.known { names.plain(&r.substance) } else { "an unidentified product".to_owned() })
        .collect();
    let sold = if sold.is_empty() { String::new() } else { format!(" sold as {}", join(&sold)) };
    format!("{}-W{:02}, {}{sold}: {}.", week.year(), week.week(), form_word(s.form, Lang::En), parts.join("; "))
}

/// The notification for `alert`, from its evidence samples.
pub fn notification(alert: &Alert, evidence: &[Sample], names: &Names, now: jiff::Timestamp) -> EdasNotification {
    let c = &alert.content;
    let places: Vec<String> = c
        .fylker
        .iter()
        .map(|f| names.geography.fylke(f).map_or_else(|| f.clone(), |x| x.public_name().to_owned()))
        .collect();
    let danger: Vec<String> = c.substances.iter().map(|s| names.substance(s)).collect();
    let sold: Vec<String> = c.product.sold_as.iter().map(|s| names.plain(s)).collect();
    // The methods that identified something; a negative strip identified nothing.
    let mut methods: Vec<Method> =
        evidence.iter().flat_map(|s| s.current_analyses().filter(|a| a.found_something()).map(|a| a.method)).collect();
    methods.sort_by_key(|m| m.as_str());
    methods.dedup();
    let certainty = if c.lab_confirmed {
        "confirmed by a laboratory"
    } else {
        "found by on-site analysis, not yet confirmed by a laboratory"
    };
    EdasNotification {
        alert_id: alert.id,
        tier: alert.tier,
        a_type_and_origin: format!(
            "{} in a {} product{}, {}; found by drug checking services in Norway ({} {}).",
            join(&danger),
            form_word(c.product.form, Lang::En),
            if sold.is_empty() { String::new() } else { format!(" sold as {}", join(&sold)) },
            certainty,
            evidence.len().max(alert.evidence_count as usize),
            if alert.evidence_count == 1 { "sample" } else { "samples" },
        ),
        b_date_and_place: format!(
            "Samples received from {} to {}; {}, Norway.",
            names.templates.date(alert.first_evidence_at, Lang::En),
            names.templates.date(alert.last_evidence_at, Lang::En),
            if places.is_empty() { "nationwide".to_owned() } else { join(&places) }
        ),
        c_means_of_exposure: "Consumption of a drug product bought on the illicit market.".to_owned(),
        d_analytical_and_toxicological_data: evidence.iter().map(|s| sample_line(s, names)).collect(),
        e_identification_methods: methods.iter().map(|m| names.methods.name(*m).en.clone()).collect(),
        f_health_risks: c.body.en.clone(),
        g_social_safety_security_risks: "Not assessed by Varde; add national information if any.".to_owned(),
        h_health_measures: format!(
            "Public warning by the national drug checking system (status: {}). Advice given: {}",
            alert.status_at(now).as_str(),
            c.advice.en
        ),
        i_other_measures: "None recorded.".to_owned(),
        j_other_information: c.uncertainty.en.clone(),
    }
}
