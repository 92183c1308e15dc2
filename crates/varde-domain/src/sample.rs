//! Samples and analyses: what the technician sends (`*Input`, as on the wire), how it is validated into values that
//! can be stored (`New*`), and what is stored (`Sample`, `Analysis`).
//!
//! Validation is the one place where the rules for a sample live: required fields, units that make sense for the
//! form, limits on text, and privacy rule 1 (no personal data in any free text).

use crate::catalogue::{Catalogue, SubstanceRef};
use crate::code::SampleCode;
use crate::method::Method;
use crate::service::ServiceSlug;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// The physical form of a sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Form {
    Powder,
    Crystal,
    Tablet,
    Capsule,
    Liquid,
    Blotter,
    Plant,
    Vape,
    Other,
}

impl Form {
    pub const ALL: [Form; 9] = [
        Form::Powder,
        Form::Crystal,
        Form::Tablet,
        Form::Capsule,
        Form::Liquid,
        Form::Blotter,
        Form::Plant,
        Form::Vape,
        Form::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Form::Powder => "powder",
            Form::Crystal => "crystal",
            Form::Tablet => "tablet",
            Form::Capsule => "capsule",
            Form::Liquid => "liquid",
            Form::Blotter => "blotter",
            Form::Plant => "plant",
            Form::Vape => "vape",
            Form::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Form> {
        Form::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// Forms that come in countable units, for which an amount per unit (mg, µg) makes sense.
    pub fn is_unit_dose(self) -> bool {
        matches!(self, Form::Tablet | Form::Capsule | Form::Blotter)
    }

    /// Forms whose physical description (mass, logo, size, score line) is recorded in `tablet`.
    pub fn has_tablet_fields(self) -> bool {
        matches!(self, Form::Tablet | Form::Capsule)
    }
}

/// A tablet's score line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ScoreLine {
    None,
    Single,
    Cross,
}

/// Physical description of a tablet or capsule. Every field is optional; unknown is `null`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Tablet {
    /// Whole tablet mass in milligrams.
    #[serde(default)]
    pub mass_mg: Option<f64>,
    #[serde(default)]
    pub logo: Option<String>,
    #[serde(default)]
    pub diameter_mm: Option<f64>,
    #[serde(default)]
    pub thickness_mm: Option<f64>,
    #[serde(default)]
    pub score: Option<ScoreLine>,
}

impl Tablet {
    fn is_empty(&self) -> bool {
        *self == Tablet::default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Route {
    Oral,
    Nasal,
    Smoked,
    Injected,
    Vaporised,
    Rectal,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Street,
    Friend,
    Online,
    Darknet,
    Other,
}

/// Optional, anonymous answers about use, asked only where the service chooses to; every field may be left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UseContext {
    #[serde(default)]
    pub route: Option<Route>,
    #[serde(default)]
    pub source: Option<Source>,
    /// Has the person already used some of this product?
    #[serde(default)]
    pub already_used: Option<bool>,
    /// Did the product have unexpected or unusually strong effects?
    #[serde(default)]
    pub unexpected_effects: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ComponentRole {
    Main,
    Adulterant,
    Trace,
}

/// The names the wire and both stores use, and back.
macro_rules! names {
    ($ty:ty { $($variant:ident = $name:literal),* $(,)? }) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self {
                    $(<$ty>::$variant => $name,)*
                }
            }
            pub fn parse(text: &str) -> Option<$ty> {
                match text {
                    $($name => Some(<$ty>::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

names!(ComponentRole { Main = "main", Adulterant = "adulterant", Trace = "trace" });
names!(AmountUnit { Percent = "percent", Mg = "mg", Ug = "ug" });
names!(Confidence { Low = "low", Medium = "medium", High = "high" });

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum AmountUnit {
    /// Percent by weight (w/w).
    Percent,
    /// Milligrams per unit (tablet, capsule, blotter).
    Mg,
    /// Micrograms per unit.
    Ug,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Amount {
    pub value: f64,
    pub unit: AmountUnit,
}

impl Amount {
    /// The amount in milligrams per unit, when it is given per unit.
    pub fn mg_per_unit(&self) -> Option<f64> {
        match self.unit {
            AmountUnit::Mg => Some(self.value),
            AmountUnit::Ug => Some(self.value / 1000.0),
            AmountUnit::Percent => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

/// A test strip's answer, or "could not tell" for any method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum AnalysisResult {
    Positive,
    Negative,
    Inconclusive,
}

impl AnalysisResult {
    pub fn as_str(self) -> &'static str {
        match self {
            AnalysisResult::Positive => "positive",
            AnalysisResult::Negative => "negative",
            AnalysisResult::Inconclusive => "inconclusive",
        }
    }

    pub fn parse(s: &str) -> Option<AnalysisResult> {
        [AnalysisResult::Positive, AnalysisResult::Negative, AnalysisResult::Inconclusive]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Input, as the technician's client sends it.

/// A new sample, as `POST /api/v1/samples` takes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SampleInput {
    /// The slug of the service registering the sample.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", min_length = 2, max_length = 48))]
    pub service: String,
    /// When the sample was handed in (RFC 3339). Defaults to now.
    #[serde(default, deserialize_with = "crate::wire::optional_time")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub received_at: Option<Timestamp>,
    /// What the product was sold as: catalogue names, synonyms or street names. Empty when the person does not know.
    pub sold_as: Vec<String>,
    pub form: Form,
    #[serde(default)]
    pub colour: Option<String>,
    #[serde(default)]
    pub texture: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
    /// Only for tablets and capsules.
    #[serde(default)]
    pub tablet: Option<Tablet>,
    #[serde(default)]
    pub use_context: Option<UseContext>,
    #[serde(default)]
    pub analyses: Vec<AnalysisInput>,
}

/// An analysis, as `POST /api/v1/samples/{code}/analyses` takes it (and inside a new sample).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AnalysisInput {
    pub method: Method,
    /// Required for test strips (positive, negative, inconclusive). For other methods only `inconclusive` is
    /// allowed, meaning the method could not identify the sample.
    #[serde(default)]
    pub result: Option<AnalysisResult>,
    /// Required for methods other than strips (may be empty: nothing identified).
    #[serde(default)]
    pub components: Option<Vec<ComponentInput>>,
    /// When the analysis was made (RFC 3339). Defaults to now.
    #[serde(default, deserialize_with = "crate::wire::optional_time")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub performed_at: Option<Timestamp>,
    /// The id of an earlier analysis of this sample that this one replaces (a corrected or lab-confirmed result).
    #[serde(default, deserialize_with = "crate::wire::optional_id")]
    pub amends: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ComponentInput {
    /// Any catalogue name, synonym or street name; an unknown name is kept as an unknown substance.
    pub substance: String,
    pub role: ComponentRole,
    #[serde(default)]
    pub amount: Option<Amount>,
    #[serde(default)]
    pub confidence: Option<Confidence>,
}

// ---------------------------------------------------------------------------------------------------------------
// Validated values, ready to store.

#[derive(Debug, Clone, PartialEq)]
pub struct NewSample {
    pub service: ServiceSlug,
    pub received_at: Timestamp,
    pub sold_as: Vec<SubstanceRef>,
    pub form: Form,
    pub colour: Option<String>,
    pub texture: Option<String>,
    pub notes: Option<String>,
    pub tablet: Option<Tablet>,
    pub use_context: Option<UseContext>,
    pub analyses: Vec<NewAnalysis>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewAnalysis {
    pub method: Method,
    pub performed_at: Timestamp,
    pub outcome: Outcome,
    pub amends: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum Outcome {
    /// A test strip's answer.
    Strip { result: AnalysisResult },
    /// Components identified (empty: none identified). `inconclusive` when the method could not tell.
    Components { components: Vec<Component>, inconclusive: bool },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Component {
    #[serde(flatten)]
    pub substance: SubstanceRef,
    pub role: ComponentRole,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<Amount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<Confidence>,
}

use crate::error::ErrorCode;
pub use crate::error::InvalidInput;

pub const MAX_NOTES: usize = 2000;
pub const MAX_SHORT_TEXT: usize = 80;
pub const MAX_SOLD_AS: usize = 10;
pub const MAX_COMPONENTS: usize = 20;
pub const MAX_ANALYSES: usize = 20;
/// How far in the future a received or performed time may lie, for clocks that are slightly off.
const CLOCK_SKEW: SignedDuration = SignedDuration::from_mins(10);

pub use crate::personal_data::check_text;

fn check_time(field: &str, t: Option<Timestamp>, now: Timestamp) -> Result<Timestamp, InvalidInput> {
    let t = t.unwrap_or(now);
    if t > now + CLOCK_SKEW {
        return Err(InvalidInput::new(ErrorCode::InvalidValue, field, format!("{field} lies in the future")));
    }
    // Drug checking in Norway has no samples from before 2000; an earlier date is a typing error.
    if t < Timestamp::from_second(946_684_800).expect("valid") {
        return Err(InvalidInput::new(ErrorCode::InvalidValue, field, format!("{field} is before the year 2000")));
    }
    Ok(t)
}

fn check_substance(field: &str, name: &str, catalogue: &Catalogue) -> Result<SubstanceRef, InvalidInput> {
    let name = check_text(field, Some(name), MAX_SHORT_TEXT)?
        .ok_or_else(|| InvalidInput::new(ErrorCode::InvalidValue, field, format!("{field} must name a substance")))?;
    Ok(catalogue.resolve(&name))
}

fn check_positive(field: &str, v: Option<f64>, max: f64) -> Result<(), InvalidInput> {
    match v {
        Some(x) if !(x.is_finite() && x > 0.0 && x <= max) => Err(InvalidInput::new(
            ErrorCode::InvalidValue,
            field,
            format!("{field} must be more than 0 and at most {max}"),
        )),
        _ => Ok(()),
    }
}

impl SampleInput {
    /// Validates a new sample. `now` is the server's clock; the catalogue resolves names.
    pub fn validate(self, catalogue: &Catalogue, now: Timestamp) -> Result<NewSample, InvalidInput> {
        let service = ServiceSlug::parse(&self.service)
            .map_err(|e| InvalidInput::new(ErrorCode::InvalidValue, "service", e.to_string()))?;
        let received_at = check_time("received_at", self.received_at, now)?;
        if self.sold_as.len() > MAX_SOLD_AS {
            return Err(InvalidInput::new(
                ErrorCode::InvalidValue,
                "sold_as",
                format!("sold_as may name at most {MAX_SOLD_AS} substances"),
            ));
        }
        let mut sold_as: Vec<SubstanceRef> = Vec::new();
        for (i, name) in self.sold_as.iter().enumerate() {
            let r = check_substance(&format!("sold_as[{i}]"), name, catalogue)?;
            if !sold_as.contains(&r) {
                sold_as.push(r);
            }
        }
        let tablet = match self.tablet.filter(|t| !t.is_empty()) {
            None => None,
            Some(_) if !self.form.has_tablet_fields() => {
                return Err(InvalidInput::new(
                    ErrorCode::TabletFieldsNotApplicable,
                    "tablet",
                    format!("tablet details apply to tablets and capsules, not to a {}", self.form.as_str()),
                ));
            }
            Some(t) => {
                check_positive("tablet.mass_mg", t.mass_mg, 5000.0)?;
                check_positive("tablet.diameter_mm", t.diameter_mm, 50.0)?;
                check_positive("tablet.thickness_mm", t.thickness_mm, 30.0)?;
                let logo = check_text("tablet.logo", t.logo.as_deref(), MAX_SHORT_TEXT)?;
                Some(Tablet { logo, ..t })
            }
        };
        if self.analyses.len() > MAX_ANALYSES {
            return Err(InvalidInput::new(
                ErrorCode::InvalidValue,
                "analyses",
                format!("at most {MAX_ANALYSES} analyses at once"),
            ));
        }
        let analyses = self
            .analyses
            .into_iter()
            .enumerate()
            .map(|(i, a)| {
                if a.amends.is_some() {
                    return Err(InvalidInput::new(
                        ErrorCode::InvalidValue,
                        format!("analyses[{i}].amends"),
                        "a new sample has no analyses to amend",
                    ));
                }
                // Analyses sent with the sample were made when it was handed in, unless they say otherwise.
                let a = AnalysisInput { performed_at: a.performed_at.or(Some(received_at)), ..a };
                a.validate(&format!("analyses[{i}]"), self.form, catalogue, now)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(NewSample {
            service,
            received_at,
            sold_as,
            form: self.form,
            colour: check_text("colour", self.colour.as_deref(), MAX_SHORT_TEXT)?,
            texture: check_text("texture", self.texture.as_deref(), MAX_SHORT_TEXT)?,
            notes: check_text("notes", self.notes.as_deref(), MAX_NOTES)?,
            tablet,
            use_context: self.use_context.filter(|u| *u != UseContext::default()),
            analyses,
        })
    }
}

impl AnalysisInput {
    /// Validates an analysis of a sample of the given form. `field` prefixes field names in errors.
    pub fn validate(
        self,
        field: &str,
        form: Form,
        catalogue: &Catalogue,
        now: Timestamp,
    ) -> Result<NewAnalysis, InvalidInput> {
        let performed_at = check_time(&format!("{field}.performed_at"), self.performed_at, now)?;
        let outcome = if self.method.is_strip() {
            if self.components.is_some() {
                return Err(InvalidInput::new(
                    ErrorCode::InvalidValue,
                    format!("{field}.components"),
                    "a test strip gives a result, not components",
                ));
            }
            let result = self.result.ok_or_else(|| {
                InvalidInput::new(
                    ErrorCode::InvalidValue,
                    format!("{field}.result"),
                    "a test strip needs a result: positive, negative or inconclusive",
                )
            })?;
            Outcome::Strip { result }
        } else {
            let inconclusive = match self.result {
                None => false,
                Some(AnalysisResult::Inconclusive) => true,
                Some(_) => {
                    return Err(InvalidInput::new(
                        ErrorCode::InvalidValue,
                        format!("{field}.result"),
                        format!("{} names components; its result can only be 'inconclusive'", self.method.as_str()),
                    ));
                }
            };
            let inputs = match self.components {
                Some(c) => c,
                None if inconclusive => Vec::new(),
                None => {
                    return Err(InvalidInput::new(
                        ErrorCode::InvalidValue,
                        format!("{field}.components"),
                        format!("{} needs components (an empty list if nothing was identified)", self.method.as_str()),
                    ));
                }
            };
            if inputs.len() > MAX_COMPONENTS {
                return Err(InvalidInput::new(
                    ErrorCode::InvalidValue,
                    format!("{field}.components"),
                    format!("at most {MAX_COMPONENTS} components"),
                ));
            }
            let mut components: Vec<Component> = Vec::with_capacity(inputs.len());
            for (i, c) in inputs.into_iter().enumerate() {
                let cf = format!("{field}.components[{i}]");
                let substance = check_substance(&format!("{cf}.substance"), &c.substance, catalogue)?;
                if components.iter().any(|k| k.substance == substance) {
                    return Err(InvalidInput::new(
                        ErrorCode::InvalidValue,
                        format!("{cf}.substance"),
                        format!("{} is listed twice", substance.substance),
                    ));
                }
                if let Some(a) = c.amount {
                    let af = format!("{cf}.amount");
                    match a.unit {
                        AmountUnit::Percent => check_positive(&format!("{af}.value"), Some(a.value), 100.0)?,
                        AmountUnit::Mg | AmountUnit::Ug if !form.is_unit_dose() => {
                            return Err(InvalidInput::new(
                                ErrorCode::AmountUnitNotApplicable,
                                format!("{af}.unit"),
                                format!(
                                    "an amount per unit (mg or ug) applies to tablets, capsules and blotters, not to a {}; give percent",
                                    form.as_str()
                                ),
                            ));
                        }
                        AmountUnit::Mg => check_positive(&format!("{af}.value"), Some(a.value), 5000.0)?,
                        AmountUnit::Ug => check_positive(&format!("{af}.value"), Some(a.value), 100_000.0)?,
                    }
                }
                components.push(Component { substance, role: c.role, amount: c.amount, confidence: c.confidence });
            }
            Outcome::Components { components, inconclusive }
        };
        Ok(NewAnalysis { method: self.method, performed_at, outcome, amends: self.amends })
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Stored values.

/// Where a sample is in its life. Derived from its analyses, never set by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Registered, not yet analysed.
    Received,
    /// Analysed on site (FTIR, Raman, reagents, strips).
    Screened,
    /// Confirmed by a laboratory method.
    Confirmed,
    /// A result the person may have seen was later corrected: they should look again.
    Amended,
}

impl Status {
    pub fn of(analyses: &[Analysis]) -> Status {
        if analyses.iter().any(|a| a.amends.is_some()) {
            Status::Amended
        } else if analyses.iter().any(|a| a.method.is_lab()) {
            Status::Confirmed
        } else if analyses.is_empty() {
            Status::Received
        } else {
            Status::Screened
        }
    }

    /// The status a new sample starts with, from the analyses it comes with (none amends anything yet).
    pub fn of_new(analyses: &[NewAnalysis]) -> Status {
        if analyses.is_empty() {
            Status::Received
        } else if analyses.iter().any(|a| a.method.is_lab()) {
            Status::Confirmed
        } else {
            Status::Screened
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Received => "received",
            Status::Screened => "screened",
            Status::Confirmed => "confirmed",
            Status::Amended => "amended",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        [Status::Received, Status::Screened, Status::Confirmed, Status::Amended]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Analysis {
    pub id: i64,
    pub method: Method,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub performed_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub recorded_at: Timestamp,
    #[serde(flatten)]
    pub outcome: Outcome,
    /// The analysis this one replaced.
    pub amends: Option<i64>,
    /// The analysis that replaced this one; a superseded analysis no longer counts for findings.
    pub superseded_by: Option<i64>,
}

impl Analysis {
    pub fn is_current(&self) -> bool {
        self.superseded_by.is_none()
    }

    /// Whether this analysis found something: components named, or a strip that was positive. Only these are
    /// evidence for a finding; a negative or inconclusive strip is not, and a warning does not cite it as such.
    pub fn found_something(&self) -> bool {
        match &self.outcome {
            Outcome::Strip { result } => *result == AnalysisResult::Positive,
            Outcome::Components { components, inconclusive } => !components.is_empty() && !inconclusive,
        }
    }
}

/// A stored sample with all its analyses (current and superseded, oldest first).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Sample {
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "7KQ2-MX9P-4RTB"))]
    #[serde(serialize_with = "crate::sample::serialize_code")]
    pub code: SampleCode,
    pub service: ServiceSlug,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub received_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub registered_at: Timestamp,
    pub status: Status,
    pub sold_as: Vec<SubstanceRef>,
    pub form: Form,
    pub colour: Option<String>,
    pub texture: Option<String>,
    pub notes: Option<String>,
    pub tablet: Option<Tablet>,
    pub use_context: Option<UseContext>,
    pub analyses: Vec<Analysis>,
}

impl Sample {
    /// The analyses that count now: those not replaced by an amendment.
    pub fn current_analyses(&self) -> impl Iterator<Item = &Analysis> {
        self.analyses.iter().filter(|a| a.is_current())
    }
}

pub fn serialize_code<S: serde::Serializer>(code: &SampleCode, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-11-20T14:00:00Z".parse().unwrap()
    }

    fn base() -> SampleInput {
        SampleInput {
            service: "oslo-brukerrom".into(),
            received_at: None,
            sold_as: vec!["heroin".into()],
            form: Form::Powder,
            colour: Some("brown".into()),
            texture: None,
            notes: None,
            tablet: None,
            use_context: None,
            analyses: vec![],
        }
    }

    fn cat() -> Catalogue {
        Catalogue::builtin().unwrap()
    }

    #[test]
    fn a_valid_sample_resolves_names_and_defaults_time() {
        let mut s = base();
        s.sold_as = vec!["Heroin".into(), "dop".into(), "mystery-x".into()];
        s.analyses = vec![AnalysisInput {
            method: Method::Ftir,
            result: None,
            components: Some(vec![ComponentInput {
                substance: "Koffein".into(),
                role: ComponentRole::Adulterant,
                amount: Some(Amount { value: 20.0, unit: AmountUnit::Percent }),
                confidence: None,
            }]),
            performed_at: None,
            amends: None,
        }];
        let v = s.validate(&cat(), now()).unwrap();
        assert_eq!(v.received_at, now());
        assert_eq!(
            v.sold_as,
            vec![SubstanceRef::known("heroin"), SubstanceRef { substance: "mystery-x".into(), known: false }]
        );
        let Outcome::Components { components, .. } = &v.analyses[0].outcome else { panic!() };
        assert_eq!(components[0].substance, SubstanceRef::known("caffeine"));
    }

    #[test]
    fn personal_data_in_any_free_text_is_refused_naming_the_field() {
        let mut s = base();
        s.notes = Some("ring meg på 912 34 567".into());
        let e = s.validate(&cat(), now()).unwrap_err();
        assert_eq!((e.code.as_str(), e.field.as_str()), ("personal_data_refused", "notes"));

        let mut s = base();
        s.sold_as = vec!["15076500565".into()];
        let e = s.validate(&cat(), now()).unwrap_err();
        assert_eq!((e.code.as_str(), e.field.as_str()), ("personal_data_refused", "sold_as[0]"));
    }

    #[test]
    fn mg_per_unit_only_for_unit_forms() {
        let mut s = base();
        s.analyses = vec![AnalysisInput {
            method: Method::Ftir,
            result: None,
            components: Some(vec![ComponentInput {
                substance: "heroin".into(),
                role: ComponentRole::Main,
                amount: Some(Amount { value: 20.0, unit: AmountUnit::Mg }),
                confidence: None,
            }]),
            performed_at: None,
            amends: None,
        }];
        let e = s.clone().validate(&cat(), now()).unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.field.as_str()),
            ("amount_unit_not_applicable", "analyses[0].components[0].amount.unit")
        );
        s.form = Form::Tablet;
        assert!(s.validate(&cat(), now()).is_ok());
    }

    #[test]
    fn tablet_fields_only_for_tablets_and_capsules() {
        let mut s = base();
        s.tablet = Some(Tablet { mass_mg: Some(300.0), ..Tablet::default() });
        assert_eq!(s.clone().validate(&cat(), now()).unwrap_err().code.as_str(), "tablet_fields_not_applicable");
        s.form = Form::Tablet;
        assert!(s.validate(&cat(), now()).is_ok());
        let mut s = base();
        s.tablet = Some(Tablet::default());
        assert!(s.validate(&cat(), now()).is_ok(), "an all-null tablet object is accepted for any form");
    }

    #[test]
    fn strips_need_a_result_and_other_methods_components() {
        let strip = AnalysisInput {
            method: Method::StripNitazene,
            result: None,
            components: None,
            performed_at: None,
            amends: None,
        };
        assert_eq!(strip.validate("a", Form::Powder, &cat(), now()).unwrap_err().field, "a.result");
        let ftir = AnalysisInput {
            method: Method::Ftir,
            result: Some(AnalysisResult::Positive),
            components: None,
            performed_at: None,
            amends: None,
        };
        assert_eq!(ftir.validate("a", Form::Powder, &cat(), now()).unwrap_err().field, "a.result");
        let ftir = AnalysisInput {
            method: Method::Ftir,
            result: Some(AnalysisResult::Inconclusive),
            components: None,
            performed_at: None,
            amends: None,
        };
        assert_eq!(
            ftir.validate("a", Form::Powder, &cat(), now()).unwrap().outcome,
            Outcome::Components { components: vec![], inconclusive: true }
        );
    }

    #[test]
    fn times_in_the_future_are_refused() {
        let mut s = base();
        s.received_at = Some("2026-11-21T14:00:00Z".parse().unwrap());
        assert_eq!(s.validate(&cat(), now()).unwrap_err().field, "received_at");
    }

    #[test]
    fn status_follows_the_analyses() {
        let t = now();
        let a = |id, method, amends| Analysis {
            id,
            method,
            performed_at: t,
            recorded_at: t,
            outcome: Outcome::Strip { result: AnalysisResult::Negative },
            amends,
            superseded_by: None,
        };
        assert_eq!(Status::of(&[]), Status::Received);
        assert_eq!(Status::of(&[a(1, Method::Ftir, None)]), Status::Screened);
        assert_eq!(Status::of(&[a(1, Method::Ftir, None), a(2, Method::GcMs, None)]), Status::Confirmed);
        assert_eq!(Status::of(&[a(1, Method::Ftir, None), a(2, Method::GcMs, Some(1))]), Status::Amended);
    }
}

#[cfg(test)]
mod names {
    use super::*;

    /// The stores keep the names the API speaks: each name reads back as its variant, and is its serde name.
    #[test]
    fn stored_names_are_the_wire_names_and_read_back() {
        fn check<T: Copy + PartialEq + std::fmt::Debug + Serialize>(
            all: &[T],
            name: fn(T) -> &'static str,
            parse: fn(&str) -> Option<T>,
        ) {
            for &v in all {
                assert_eq!(parse(name(v)), Some(v));
                assert_eq!(serde_json::to_value(v).unwrap(), name(v));
            }
            assert_eq!(parse("nonsense"), None);
        }
        check(
            &[ComponentRole::Main, ComponentRole::Adulterant, ComponentRole::Trace],
            ComponentRole::as_str,
            ComponentRole::parse,
        );
        check(&[AmountUnit::Percent, AmountUnit::Mg, AmountUnit::Ug], AmountUnit::as_str, AmountUnit::parse);
        check(&[Confidence::Low, Confidence::Medium, Confidence::High], Confidence::as_str, Confidence::parse);
    }
}
