//! What an alert draft says, written from the rules that fired: a headline that fits an SMS, why the product is
//! dangerous, the product as people will recognise it, where and when and in how many samples, how certain, and the
//! advice for the classes of what was found. Texts come from `data/alert-templates.toml`; this module fills them in.
//! Pure: the store gathers the evidence; nothing here reads a clock or a database.

use crate::alert::{AlertContent, DRAFT_FROM, EvidenceSpan, Product, UNKNOWN_SUBSTANCE, danger_of, tier_for};
use crate::catalogue::{Catalogue, SubstanceClass};
use crate::datafile::DataFileError;
use crate::finding::Finding;
use crate::geo::Fylke;
use crate::lang::{Lang, Localized};
use crate::method::{Method, MethodLimits};
use crate::sample::{AmountUnit, ComponentRole, Form, Outcome, Sample};
use crate::tier::Tier;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The longest headline: one SMS.
pub const HEADLINE_MAX_CHARS: usize = 160;

/// One value per language.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PerLang<T> {
    nb: T,
    nn: T,
    en: T,
}

impl<T> PerLang<T> {
    fn get(&self, lang: Lang) -> &T {
        match lang {
            Lang::Nb => &self.nb,
            Lang::Nn => &self.nn,
            Lang::En => &self.en,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TierWords {
    info: Localized,
    caution: Localized,
    warning: Localized,
    severe: Localized,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Words {
    product: Localized,
    evidence_one_day: Localized,
    evidence_days: Localized,
    screened: Localized,
    confirmed: Localized,
    /// After `confirmed`: the on-site methods that found it too.
    also_onsite: Localized,
    emergency: Localized,
    /// The emergency line where an opioid was found or cannot be ruled out: it adds naloxone.
    emergency_opioid: Localized,
    unknown_substance: Localized,
    unspecified: Localized,
    and: Localized,
    logo: Localized,
    mass: Localized,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Plurals {
    sample: PerLang<[String; 2]>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct DateFormat {
    format: Localized,
    months: PerLang<Vec<String>>,
}

/// What a rule's drafts say.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleText {
    headline: Localized,
    why: Localized,
    /// Advice this rule adds to the class advice (e.g. "do not take a whole tablet").
    #[serde(default)]
    advice: Option<Localized>,
}

/// The alert templates data file, validated.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertTemplates {
    tier: TierWords,
    text: Words,
    plural: Plurals,
    date: DateFormat,
    /// Forms in running text, by `Form::as_str`.
    form: BTreeMap<String, Localized>,
    /// What a positive strip detects, by method id.
    strip: BTreeMap<String, Localized>,
    rule: BTreeMap<String, RuleText>,
}

/// The shipped templates, for texts that are needed where no [`AlertTemplates`] is at hand (a form's name).
pub fn builtin() -> &'static AlertTemplates {
    static BUILTIN: std::sync::LazyLock<AlertTemplates> =
        std::sync::LazyLock::new(|| AlertTemplates::builtin().unwrap_or_else(|e| panic!("{e}")));
    &BUILTIN
}

impl AlertTemplates {
    pub fn builtin() -> Result<AlertTemplates, DataFileError> {
        AlertTemplates::parse("data/alert-templates.toml", include_str!("../data/alert-templates.toml"))
    }

    pub fn parse(file: &str, text: &str) -> Result<AlertTemplates, DataFileError> {
        let t: AlertTemplates = toml::from_str(text).map_err(|e| DataFileError::from_toml(file, text, &e))?;
        let empty =
            |what: &str, l: &Localized| l.first_empty().map(|lang| format!("{what} is empty in {}", lang.code()));
        let mut problems: Vec<String> = Vec::new();
        for lang in [Lang::Nb, Lang::Nn, Lang::En] {
            if t.date.months.get(lang).len() != 12 {
                problems.push(format!("[date] months for {} do not name 12 months", lang.code()));
            }
        }
        for form in crate::sample::Form::ALL {
            match t.form.get(form.as_str()) {
                None => problems.push(format!("[form] has no {}", form.as_str())),
                Some(l) => problems.extend(empty(&format!("[form] {}", form.as_str()), l)),
            }
        }
        for m in Method::ALL.into_iter().filter(|m| m.is_strip()) {
            if !t.strip.contains_key(m.as_str()) {
                problems.push(format!("[strip] has no {}", m.as_str()));
            }
        }
        for (id, r) in &t.rule {
            problems.extend(empty(&format!("[rule.{id}] headline"), &r.headline));
            problems.extend(empty(&format!("[rule.{id}] why"), &r.why));
        }
        match problems.first() {
            None => Ok(t),
            Some(p) => Err(DataFileError { file: file.to_owned(), line: 1, message: p.clone() }),
        }
    }

    /// A form in running text.
    pub fn form(&self, form: crate::sample::Form) -> &Localized {
        &self.form[form.as_str()]
    }

    /// What a positive strip of `method` detects ("a nitazene").
    pub fn strip_target(&self, method: Method, lang: Lang) -> &str {
        self.strip.get(method.as_str()).map_or("", |l| l.get(lang))
    }

    pub fn tier_word(&self, tier: Tier) -> &Localized {
        match tier {
            Tier::Info => &self.tier.info,
            Tier::Caution => &self.tier.caution,
            Tier::Warning => &self.tier.warning,
            Tier::Severe => &self.tier.severe,
        }
    }

    /// The rules of `rule_ids` this file has no text for (checked against the risk policy at start).
    pub fn missing_rules<'a>(&self, rule_ids: impl Iterator<Item = &'a str>) -> Vec<String> {
        rule_ids.filter(|id| !self.rule.contains_key(*id)).map(str::to_owned).collect()
    }

    /// `n` samples, with the right plural.
    pub fn samples(&self, n: usize, lang: Lang) -> String {
        let [one, other] = self.plural.sample.get(lang);
        format!("{n} {}", if n == 1 { one } else { other })
    }

    /// A day as people write it: "20. november 2026", "20 November 2026".
    pub fn date(&self, t: jiff::Timestamp, lang: Lang) -> String {
        let tz = jiff::tz::TimeZone::get("Europe/Oslo").unwrap_or(jiff::tz::TimeZone::UTC);
        let d = t.to_zoned(tz).date();
        self.date
            .format
            .get(lang)
            .replace("{day}", &d.day().to_string())
            .replace("{month}", &self.date.months.get(lang)[d.month() as usize - 1])
            .replace("{year}", &d.year().to_string())
    }

    /// Writes a draft about these samples (newest first) in one fylke.
    /// `span` covers all the evidence when `evidence` holds only its newest samples (see
    /// [`crate::alert::DRAFT_FROM_NEWEST`]).
    pub fn draft(
        &self,
        evidence: &[(Sample, Vec<Finding>)],
        span: Option<EvidenceSpan>,
        fylke: &Fylke,
        catalogue: &Catalogue,
        methods: &MethodLimits,
        policy: &crate::risk::RiskPolicy,
    ) -> (Tier, AlertContent) {
        let total = span.map_or(evidence.len(), |s| s.total.max(evidence.len()));
        let tier = tier_for(evidence, total);
        let (newest, _) = &evidence[0];
        let (fired, rules) = fired_rules(evidence);
        let danger: Vec<String> = dedup(fired.iter().flat_map(|f| danger_of(f)));
        let primary_danger: Vec<String> =
            dedup(fired.iter().filter(|f| rules.first().is_some_and(|r| *r == f.rule)).flat_map(|f| danger_of(f)));
        let (lab_methods, onsite_methods) = methods_that_found(evidence);
        // A laboratory confirms only what it found.
        let lab = !lab_methods.is_empty();
        let method_names = |ms: &[Method], lang: Lang| -> String {
            ms.iter().map(|m| methods.name(*m).get(lang).to_owned()).collect::<Vec<_>>().join(", ")
        };
        let from = evidence.iter().map(|(s, _)| s.received_at).chain(span.map(|s| s.first)).min().expect("not empty");
        let to = evidence.iter().map(|(s, _)| s.received_at).chain(span.map(|s| s.last)).max().expect("not empty");
        let dose = highest_dose(evidence, &primary_danger);

        let public_id = |id: &str| public_id(id, catalogue);
        let name = |id: &str, lang: Lang| -> String {
            if let Some(s) = catalogue.get(id) {
                return s.names.get(lang).to_owned();
            }
            if let Some(m) = Method::parse(id) {
                return self.strip_target(m, lang).to_owned();
            }
            self.text.unknown_substance.get(lang).to_owned()
        };
        let list = |names: Vec<String>, lang: Lang| -> String {
            let names = dedup(names.into_iter());
            let and = format!(" {} ", self.text.and.get(lang));
            match names.len() {
                0 => String::new(),
                1 => names[0].clone(),
                n => format!("{}{and}{}", names[..n - 1].join(", "), names[n - 1]),
            }
        };
        let sold_as = |lang: Lang| -> String {
            if newest.sold_as.is_empty() {
                return self.text.unspecified.get(lang).to_owned();
            }
            let names = newest
                .sold_as
                .iter()
                .map(|s| match catalogue.get(&s.substance) {
                    Some(known) => format!("«{}»", known.names.get(lang)),
                    None => self.text.unknown_substance.get(lang).to_owned(),
                })
                .collect();
            list(names, lang)
        };
        let colours = crate::colour::builtin();
        let (colour, logo) = looks_of(evidence);
        let looks = |lang: Lang| -> String {
            let mut parts: Vec<String> = Vec::new();
            parts.extend(colour.as_deref().and_then(|ids| colours.describe(ids, lang)));
            parts.extend(logo.as_ref().map(|l| self.text.logo.get(lang).replace("{logo}", l)));
            parts.iter().map(|p| format!(", {p}")).collect()
        };
        let fill = |template: &str, lang: Lang, with_looks: bool| -> String {
            let looks = if with_looks { looks(lang) } else { String::new() };
            let form = form_word(newest.form, lang);
            template
                .replace("{tier}", self.tier_word(tier).get(lang))
                .replace("{danger}", &list(primary_danger.iter().map(|d| name(d, lang)).collect(), lang))
                .replace("{sold_as}", &sold_as(lang))
                .replace("{product}", &format!("{form}{looks}"))
                .replace("{looks}", &looks)
                .replace("{form}", form)
                .replace("{dose}", &dose.map(|d| d.text(lang)).unwrap_or_default())
                .replace("{place}", fylke.public_name())
                .replace("{count}", &self.samples(total, lang))
                .replace("{date}", &self.date(from, lang))
                .replace("{from}", &self.date(from, lang))
                .replace("{to}", &self.date(to, lang))
                .replace("{methods}", &method_names(&onsite_methods, lang))
        };
        let texts: Vec<&RuleText> = rules.iter().filter_map(|r| self.rule.get(*r)).collect();
        let primary = texts.first().copied();
        let per_lang = |f: &dyn Fn(Lang) -> String| Localized { nb: f(Lang::Nb), nn: f(Lang::Nn), en: f(Lang::En) };
        let title = per_lang(&|lang| {
            let template = primary.map_or("{tier}: {danger}, {place}", |r| r.headline.get(lang));
            // The looks (colour, logo) go first when the headline would not fit an SMS, then the end is cut.
            let full = fill(template, lang, true);
            let text = if full.chars().count() <= HEADLINE_MAX_CHARS { full } else { fill(template, lang, false) };
            cut(&text, HEADLINE_MAX_CHARS)
        });
        let body = per_lang(&|lang| {
            let mut sentences: Vec<String> = texts.iter().take(2).map(|r| fill(r.why.get(lang), lang, true)).collect();
            let mut product = format!("{}{}", form_word(newest.form, lang), looks(lang));
            if let Some(mass) = newest.tablet.as_ref().and_then(|t| t.mass_mg) {
                let mass = Dose { value: mass, unit: AmountUnit::Mg }.text(lang);
                product.push_str(&format!(", {}", self.text.mass.get(lang).replace("{mass}", &mass)));
            }
            sentences.push(self.text.product.get(lang).replace("{product}", &product));
            let evidence = if self.date(from, lang) == self.date(to, lang) {
                &self.text.evidence_one_day
            } else {
                &self.text.evidence_days
            };
            sentences.push(fill(evidence.get(lang), lang, true));
            sentences_once(&sentences)
        });
        let replaced = policy.replaced_classes(&fired, catalogue);
        let classes =
            dedup_classes(danger.iter().filter_map(|d| class_of(d, catalogue)).filter(|c| !replaced.contains(c)));
        // Naloxone only where it can help: an opioid was found, or the product was sold as one (then an opioid
        // cannot be ruled out, whatever else was found).
        let opioid = opioid_involved(
            danger.iter().map(String::as_str),
            newest.sold_as.iter().map(|s| s.substance.as_str()),
            catalogue,
        );
        let emergency = if opioid { &self.text.emergency_opioid } else { &self.text.emergency };
        let advice = per_lang(&|lang| {
            let mut parts: Vec<String> =
                texts.iter().filter_map(|r| r.advice.as_ref().map(|a| a.get(lang).to_owned())).collect();
            parts.extend(classes.iter().map(|c| catalogue.class(*c).advice.get(lang).to_owned()));
            parts.push(emergency.get(lang).to_owned());
            sentences_once(&parts)
        });
        let uncertainty = per_lang(&|lang| {
            if !lab {
                return fill(self.text.screened.get(lang), lang, true);
            }
            let mut text = self.text.confirmed.get(lang).replace("{methods}", &method_names(&lab_methods, lang));
            if !onsite_methods.is_empty() {
                text.push(' ');
                text.push_str(
                    &self.text.also_onsite.get(lang).replace("{methods}", &method_names(&onsite_methods, lang)),
                );
            }
            text
        });
        let product = Product {
            form: newest.form,
            colour,
            logo,
            sold_as: dedup(newest.sold_as.iter().map(|s| public_id(&s.substance))),
            mg_per_unit: main_mg_per_unit(newest),
        };
        let content = AlertContent {
            title,
            body,
            advice,
            uncertainty,
            product,
            substances: dedup(danger.iter().map(|id| public_id(id))),
            fylker: vec![fylke.number.clone()],
            lab_confirmed: lab,
        };
        (tier, content)
    }
}

/// The findings that make the product dangerous, most severe first, and their rules once each in that order (the
/// first is the draft's headline).
fn fired_rules(evidence: &[(Sample, Vec<Finding>)]) -> (Vec<&Finding>, Vec<&str>) {
    let mut fired: Vec<&Finding> =
        evidence.iter().flat_map(|(_, fs)| fs.iter().filter(|f| f.tier >= DRAFT_FROM)).collect();
    fired.sort_by_key(|f| std::cmp::Reverse(f.tier));
    let mut rules: Vec<&str> = Vec::new();
    for f in &fired {
        if !rules.contains(&f.rule.as_str()) {
            rules.push(&f.rule);
        }
    }
    (fired, rules)
}

/// The methods that found something, laboratory and on-site apart: a warning says honestly how it was found, and a
/// negative strip is no evidence for it. When nothing was found (what was sold was absent, or nothing was
/// identified), the methods that looked, as on-site ones.
fn methods_that_found(evidence: &[(Sample, Vec<Finding>)]) -> (Vec<Method>, Vec<Method>) {
    let found_by: std::collections::BTreeSet<Method> = evidence
        .iter()
        .flat_map(|(s, _)| s.current_analyses().filter(|a| a.found_something()).map(|a| a.method))
        .collect();
    if found_by.is_empty() {
        let mut looked: Vec<Method> =
            evidence.iter().flat_map(|(s, _)| s.current_analyses().map(|a| a.method)).collect();
        looked.sort_by_key(|m| m.as_str());
        looked.dedup();
        return (Vec::new(), looked);
    }
    found_by.into_iter().partition(|m| m.is_lab())
}

/// Every colour (as ids of the translated list) and logo the evidence shows, newest first, joined with "/": a draft
/// merged from two batches of one press says "rosa/blå" rather than whichever came last. Words the colour list does
/// not know (a description, a typing error) stay out of public text.
fn looks_of(evidence: &[(Sample, Vec<Finding>)]) -> (Option<String>, Option<String>) {
    let joined = |values: Vec<String>| Some(dedup(values.into_iter()).join("/")).filter(|v| !v.is_empty());
    let colours = crate::colour::builtin();
    let colour = joined(
        evidence
            .iter()
            .filter_map(|(s, _)| s.colour.as_deref().and_then(|c| colours.recognise(c)))
            .map(|c| c.id.clone())
            .collect(),
    );
    let logo = joined(evidence.iter().filter_map(|(s, _)| s.tablet.as_ref().and_then(|t| t.logo.clone())).collect());
    (colour, logo)
}

/// The highest amount of a main substance per unit (mg per tablet) in the sample's current analyses.
fn main_mg_per_unit(sample: &Sample) -> Option<f64> {
    sample
        .current_analyses()
        .filter_map(|a| match &a.outcome {
            Outcome::Components { components, .. } => components
                .iter()
                .filter(|c| c.role == ComponentRole::Main)
                .filter_map(|c| c.amount.and_then(|x| x.mg_per_unit()))
                .reduce(f64::max),
            Outcome::Strip { .. } => None,
        })
        .reduce(f64::max)
}

/// Privacy rule 7: a name the catalogue does not know is what a technician typed, and is never published verbatim.
/// Drafts say "an unknown substance" until a reviewer writes otherwise.
fn public_id(id: &str, catalogue: &Catalogue) -> String {
    if catalogue.get(id).is_some() || Method::parse(id).is_some() {
        id.to_owned()
    } else {
        UNKNOWN_SUBSTANCE.to_owned()
    }
}

/// Whether naloxone belongs in a warning: an opioid was `found` (substance ids or strip methods), or the product was
/// `sold_as` one, so that an opioid cannot be ruled out whatever else was found. Drafts and every channel's emergency
/// line ask this one question.
pub fn opioid_involved<'a>(
    found: impl IntoIterator<Item = &'a str>,
    sold_as: impl IntoIterator<Item = &'a str>,
    catalogue: &Catalogue,
) -> bool {
    found.into_iter().chain(sold_as).filter_map(|id| class_of(id, catalogue)).any(SubstanceClass::is_opioid)
}

/// The class whose advice fits a dangerous substance, or a strip's target.
fn class_of(id: &str, catalogue: &Catalogue) -> Option<SubstanceClass> {
    if let Some(s) = catalogue.get(id) {
        return Some(s.class);
    }
    match Method::parse(id)? {
        Method::StripFentanyl => Some(SubstanceClass::PotentSyntheticOpioid),
        Method::StripNitazene => Some(SubstanceClass::Nitazene),
        Method::StripXylazine | Method::StripMedetomidine => Some(SubstanceClass::Sedative),
        Method::StripBenzodiazepine => Some(SubstanceClass::Benzodiazepine),
        _ => None,
    }
}

fn dedup_classes(classes: impl Iterator<Item = SubstanceClass>) -> Vec<SubstanceClass> {
    let mut out = Vec::new();
    for c in classes {
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

/// The items in their order, each once.
pub(crate) fn dedup(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// The texts joined into one paragraph, each sentence once: two rules or a rule and a class may say the same thing
/// (the nitazene rule and the nitazene class both warn that fentanyl strips miss nitazenes), and a reader should
/// not read it twice. A sentence ends at `.`, `!` or `?` followed by a space.
pub(crate) fn sentences_once(texts: &[String]) -> String {
    let mut kept: Vec<&str> = Vec::new();
    for text in texts {
        let mut rest = text.trim();
        while !rest.is_empty() {
            let end = rest
                .char_indices()
                .find(|(i, c)| matches!(c, '.' | '!' | '?') && rest[i + 1..].starts_with(' '))
                .map_or(rest.len(), |(i, _)| i + 1);
            let sentence = rest[..end].trim();
            if !kept.contains(&sentence) {
                kept.push(sentence);
            }
            rest = rest[end..].trim_start();
        }
    }
    kept.join(" ")
}

/// Cuts `text` to at most `max` characters, at a word, with an ellipsis.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let kept: String = text.chars().take(max - 1).collect();
    let at_word = kept.rfind(' ').filter(|i| *i > max / 2).map_or(kept.as_str(), |i| &kept[..i]);
    format!("{}…", at_word.trim_end_matches([',', ':', ' ']))
}

/// An amount per unit, for the text.
#[derive(Debug, Clone, Copy)]
struct Dose {
    value: f64,
    unit: AmountUnit,
}

impl Dose {
    /// "270 mg", "1,5 mg" in Norwegian, "1.5 mg" in English.
    fn text(self, lang: Lang) -> String {
        let unit = match self.unit {
            AmountUnit::Ug => "µg",
            _ => "mg",
        };
        let number = if self.value >= 10.0 || self.value.fract() == 0.0 {
            format!("{}", self.value.round())
        } else {
            let s = format!("{:.1}", self.value);
            if lang == Lang::En { s } else { s.replace('.', ",") }
        };
        format!("{number} {unit}")
    }
}

/// The highest amount per unit (mg or µg) of any of `substances` in the evidence's current analyses.
fn highest_dose(evidence: &[(Sample, Vec<Finding>)], substances: &[String]) -> Option<Dose> {
    evidence
        .iter()
        .flat_map(|(s, _)| s.current_analyses())
        .filter_map(|a| match &a.outcome {
            Outcome::Components { components, .. } => Some(components),
            Outcome::Strip { .. } => None,
        })
        .flatten()
        .filter(|c| substances.contains(&c.substance.substance))
        .filter_map(|c| c.amount)
        .filter(|a| a.unit != AmountUnit::Percent)
        .map(|a| Dose { value: a.value, unit: a.unit })
        .max_by(|a, b| a.value.total_cmp(&b.value))
}

impl AlertContent {
    /// Whether an opioid is among what was found or what the product was sold as: then naloxone belongs in the
    /// alert's emergency line, and nowhere else.
    pub fn opioid_involved(&self, catalogue: &crate::catalogue::Catalogue) -> bool {
        opioid_involved(
            self.substances.iter().map(String::as_str),
            self.product.sold_as.iter().map(String::as_str),
            catalogue,
        )
    }
}

/// The form in running text, from the alert templates data file.
pub fn form_word(form: Form, lang: Lang) -> &'static str {
    builtin().form(form).get(lang)
}

#[cfg(test)]
mod tests;
