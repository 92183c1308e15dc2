//! The risk policy and the engine that applies it. The policy is data (`data/risk-policy.toml`, versioned and
//! reviewed like code); the engine knows a handful of rule kinds and nothing about particular substances.
//!
//! Principles: only current analyses count (amended ones are history); each substance is explained once, by its
//! most severe rule; the result does not depend on the order of analyses or components.

use crate::catalogue::{Catalogue, RiskProperty, SubstanceClass, SubstanceRef};
use crate::datafile::DataFileError;
use crate::finding::Finding;
use crate::lang::{Lang, Localized};
use crate::method::{Method, MethodLimits};
use crate::sample::{AmountUnit, AnalysisResult, Outcome, Sample};
use crate::tier::Tier;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

#[derive(Debug, Clone)]
pub struct RiskPolicy {
    pub version: String,
    rules: Vec<Rule>,
    /// Sold as the key, found as any of the values, counts as found what was sold.
    equivalents: HashMap<String, Vec<String>>,
}

#[derive(Debug, Clone)]
struct Rule {
    id: String,
    kind: Kind,
    explanation: Localized,
    replaces_class_advice: bool,
}

#[derive(Debug, Clone)]
enum Kind {
    Present {
        select: Selector,
        unless_sold_as: bool,
        sold_as_classes: Vec<SubstanceClass>,
        tier: Tier,
    },
    Dose {
        substance: String,
        unit: AmountUnit,
        thresholds: Vec<(f64, Tier)>,
    },
    MisSold {
        tier: Tier,
    },
    StripPositive {
        method: Method,
        target_classes: Vec<SubstanceClass>,
        sold_as_classes: Vec<SubstanceClass>,
        tier: Tier,
    },
    Inconclusive {
        tier: Tier,
    },
}

/// Every criterion given must hold; an empty list is no criterion.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Selector {
    #[serde(default)]
    classes: Vec<SubstanceClass>,
    #[serde(default)]
    substances: Vec<String>,
    #[serde(default)]
    risks: Vec<RiskProperty>,
    #[serde(default)]
    unknown: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    version: String,
    #[serde(default)]
    equivalents: HashMap<String, Vec<String>>,
    rule: Vec<toml::Spanned<RawRule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    kind: String,
    #[serde(rename = "match")]
    select: Option<Selector>,
    #[serde(default)]
    unless_sold_as: bool,
    #[serde(default)]
    sold_as_classes: Vec<SubstanceClass>,
    tier: Option<Tier>,
    substance: Option<String>,
    unit: Option<AmountUnit>,
    thresholds: Option<Vec<RawThreshold>>,
    method: Option<Method>,
    target_classes: Option<Vec<SubstanceClass>>,
    explanation: Localized,
    /// The rule's advice goes against its substances' class advice (a late-acting substitute: do not take more,
    /// where the class says "wait two hours before more"), so the class advice is not given beside it.
    #[serde(default)]
    replaces_class_advice: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawThreshold {
    above: f64,
    tier: Tier,
}

const PLACEHOLDERS: [&str; 4] = ["{substance}", "{sold_as}", "{amount}", "{method}"];

impl RiskPolicy {
    pub const BUILTIN_FILE: &'static str = "data/risk-policy.toml";

    pub fn builtin(catalogue: &Catalogue) -> Result<RiskPolicy, DataFileError> {
        RiskPolicy::parse(Self::BUILTIN_FILE, include_str!("../data/risk-policy.toml"), catalogue)
    }

    /// Parses and validates a policy against the catalogue it will be used with.
    pub fn parse(file: &str, text: &str, catalogue: &Catalogue) -> Result<RiskPolicy, DataFileError> {
        let raw: RawPolicy = toml::from_str(text).map_err(|e| DataFileError::from_toml(file, text, &e))?;
        let top = |msg: String| DataFileError { file: file.to_owned(), line: 1, message: msg };
        for (sold, found) in &raw.equivalents {
            for id in std::iter::once(sold).chain(found) {
                if catalogue.get(id).is_none() {
                    return Err(top(format!("equivalents: '{id}' is not a catalogue id")));
                }
            }
        }
        let mut rules: Vec<Rule> = Vec::new();
        for spanned in raw.rule {
            let at = spanned.span().start;
            let r = spanned.into_inner();
            let err = |msg: String| DataFileError::at(file, text, at, format!("rule {}: {msg}", r.id));
            if rules.iter().any(|x| x.id == r.id) {
                return Err(err("the id is used twice".into()));
            }
            if let Some(lang) = r.explanation.first_empty() {
                return Err(err(format!("the explanation in {} is empty", lang.code())));
            }
            for lang in Lang::ALL {
                let t = r.explanation.get(lang);
                let mut rest = t;
                while let Some(i) = rest.find('{') {
                    let end = rest[i..].find('}').map_or(rest.len(), |e| i + e + 1);
                    let ph = &rest[i..end];
                    if !PLACEHOLDERS.contains(&ph) {
                        return Err(err(format!("unknown placeholder {ph} in the {} explanation", lang.code())));
                    }
                    rest = &rest[end..];
                }
            }
            let tier = || r.tier.ok_or_else(|| err("needs a tier".into()));
            let known = |id: &String| {
                if catalogue.get(id).is_some() { Ok(()) } else { Err(err(format!("'{id}' is not a catalogue id"))) }
            };
            let kind = match r.kind.as_str() {
                "present" => {
                    let select = r.select.clone().ok_or_else(|| err("a present rule needs match = { … }".into()))?;
                    if select.classes.is_empty()
                        && select.substances.is_empty()
                        && select.risks.is_empty()
                        && !select.unknown
                    {
                        return Err(err("match needs classes, substances, risks or unknown = true".into()));
                    }
                    select.substances.iter().try_for_each(known)?;
                    Kind::Present {
                        select,
                        unless_sold_as: r.unless_sold_as,
                        sold_as_classes: r.sold_as_classes.clone(),
                        tier: tier()?,
                    }
                }
                "dose" => {
                    let substance = r.substance.clone().ok_or_else(|| err("a dose rule needs substance".into()))?;
                    known(&substance)?;
                    let unit = r
                        .unit
                        .filter(|u| *u != AmountUnit::Percent)
                        .ok_or_else(|| err("a dose rule needs unit = \"mg\" or \"ug\"".into()))?;
                    let thresholds: Vec<(f64, Tier)> = r
                        .thresholds
                        .as_ref()
                        .ok_or_else(|| err("a dose rule needs thresholds".into()))?
                        .iter()
                        .map(|t| (t.above, t.tier))
                        .collect();
                    if thresholds.is_empty() || thresholds.windows(2).any(|w| w[0].0 >= w[1].0 || w[0].1 >= w[1].1) {
                        return Err(err("thresholds must rise, each with a higher tier than the one before".into()));
                    }
                    Kind::Dose { substance, unit, thresholds }
                }
                "mis_sold" => Kind::MisSold { tier: tier()? },
                "strip_positive" => {
                    let method = r
                        .method
                        .filter(|m| m.is_strip())
                        .ok_or_else(|| err("a strip_positive rule needs method = a strip".into()))?;
                    Kind::StripPositive {
                        method,
                        target_classes: r.target_classes.clone().unwrap_or_default(),
                        sold_as_classes: r.sold_as_classes.clone(),
                        tier: tier()?,
                    }
                }
                "inconclusive" => Kind::Inconclusive { tier: tier()? },
                other => {
                    return Err(err(format!(
                        "unknown kind '{other}' (present, dose, mis_sold, strip_positive, inconclusive)"
                    )));
                }
            };
            rules.push(Rule {
                id: r.id.clone(),
                kind,
                explanation: r.explanation,
                replaces_class_advice: r.replaces_class_advice,
            });
        }
        Ok(RiskPolicy { version: raw.version, rules, equivalents: raw.equivalents })
    }

    /// Whether rule `id`'s advice replaces the class advice of the substances it names (see the policy file).
    pub fn replaces_class_advice(&self, id: &str) -> bool {
        self.rules.iter().any(|r| r.id == id && r.replaces_class_advice)
    }

    /// The classes whose usual advice would contradict what `findings` advise, so it is left out beside them.
    pub fn replaced_classes(&self, findings: &[&Finding], catalogue: &Catalogue) -> Vec<SubstanceClass> {
        findings
            .iter()
            .filter(|f| self.replaces_class_advice(&f.rule))
            .flat_map(|f| f.substances.iter().filter_map(|s| catalogue.get(s).map(|s| s.class)))
            .collect()
    }

    pub fn rule_ids(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|r| r.id.as_str())
    }

    /// Applies the policy to a sample's current analyses.
    pub fn assess(&self, sample: &Sample, catalogue: &Catalogue, methods: &MethodLimits) -> Vec<Finding> {
        let ctx = Context::new(self, sample, catalogue);
        // (rule index, tier, substances, method, amount text)
        let mut fired: Vec<Fired> = Vec::new();
        for (i, rule) in self.rules.iter().enumerate() {
            match &rule.kind {
                Kind::Present { select, unless_sold_as, sold_as_classes, tier } => {
                    if !sold_as_classes.is_empty() && !ctx.sold_as_any_class(sold_as_classes) {
                        continue;
                    }
                    for found in ctx.found.keys() {
                        if ctx.matches(select, found) && !(*unless_sold_as && ctx.is_sold_as(found)) {
                            fired.push((i, *tier, vec![found.substance.clone()], None, None));
                        }
                    }
                }
                Kind::Dose { substance, unit, thresholds } => {
                    let Some(mg) = ctx.found.get(&SubstanceRef::known(substance)).copied().flatten() else {
                        continue;
                    };
                    let value = if *unit == AmountUnit::Ug { mg * 1000.0 } else { mg };
                    if let Some((_, tier)) = thresholds.iter().rev().find(|(above, _)| value > *above) {
                        let amount = if *unit == AmountUnit::Ug {
                            format!("{} µg", fmt_number(value))
                        } else {
                            format!("{} mg", fmt_number(value))
                        };
                        fired.push((i, *tier, vec![substance.clone()], None, Some(amount)));
                    }
                }
                Kind::StripPositive { method, target_classes, sold_as_classes, tier } => {
                    let positive = ctx.strips.iter().any(|(m, r)| m == method && *r == AnalysisResult::Positive);
                    if positive
                        && !ctx.sold_as_any_class(target_classes)
                        && (sold_as_classes.is_empty() || ctx.sold_as_any_class(sold_as_classes))
                    {
                        fired.push((i, *tier, Vec::new(), Some(*method), None));
                    }
                }
                Kind::Inconclusive { tier } => {
                    for m in &ctx.inconclusive {
                        fired.push((i, *tier, Vec::new(), Some(*m), None));
                    }
                }
                Kind::MisSold { .. } => {}
            }
        }
        // Each substance is explained once, by its most severe rule (the earlier rule on a tie).
        let mut best: BTreeMap<String, usize> = BTreeMap::new();
        for (k, f) in fired.iter().enumerate() {
            if let [s] = f.2.as_slice() {
                match best.get(s) {
                    Some(&j) if fired[j].1 >= f.1 => {}
                    _ => {
                        best.insert(s.clone(), k);
                    }
                }
            }
        }
        let mut kept: Vec<Fired> = fired
            .iter()
            .enumerate()
            .filter(|(k, f)| f.2.len() != 1 || best.get(&f.2[0]) == Some(k))
            .map(|(_, f)| f.clone())
            .collect();
        // Mis-sold last: its tier is at least the rule's, and that of what was found instead.
        for (i, rule) in self.rules.iter().enumerate() {
            if let Kind::MisSold { tier } = &rule.kind
                && ctx.is_mis_sold()
            {
                let instead = kept.iter().map(|f| f.1).max().map_or(*tier, |t| t.max(*tier));
                let found: Vec<String> = ctx.found.keys().map(|r| r.substance.clone()).collect();
                kept.push((i, instead, found, None, None));
            }
        }
        kept.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)).then(a.2.cmp(&b.2)).then(a.3.cmp(&b.3)));
        kept.into_iter()
            .map(|(i, tier, substances, method, amount)| {
                let rule = &self.rules[i];
                let explanation = render(&rule.explanation, |lang| {
                    let names = |ids: &[String]| -> String {
                        let names: Vec<String> = ids.iter().map(|id| ctx.name(id, lang)).collect();
                        join(&names, lang)
                    };
                    Vars {
                        substance: names(&substances),
                        sold_as: if ctx.sold.is_empty() {
                            nothing_named(lang).to_owned()
                        } else {
                            names(&ctx.sold.iter().map(|s| s.substance.clone()).collect::<Vec<_>>())
                        },
                        amount: amount
                            .clone()
                            .map(|a| if lang == Lang::En { a } else { a.replace('.', ",") })
                            .unwrap_or_default(),
                        method: method.map(|m| methods.name(m).get(lang).to_owned()).unwrap_or_default(),
                    }
                });
                Finding {
                    rule: rule.id.clone(),
                    policy_version: self.version.clone(),
                    tier,
                    substances,
                    method,
                    explanation,
                }
            })
            .collect()
    }
}

/// A rule that fired: (rule index, tier, substances it is about, method it is about, amount text).
type Fired = (usize, Tier, Vec<String>, Option<Method>, Option<String>);

/// What a sample's current analyses say, gathered once.
struct Context<'a> {
    policy: &'a RiskPolicy,
    catalogue: &'a Catalogue,
    sold: &'a [SubstanceRef],
    /// Every substance found by a current analysis, with its largest amount per unit in mg, if given.
    found: BTreeMap<SubstanceRef, Option<f64>>,
    strips: Vec<(Method, AnalysisResult)>,
    inconclusive: BTreeSet<Method>,
    identified_something: bool,
}

impl<'a> Context<'a> {
    fn new(policy: &'a RiskPolicy, sample: &'a Sample, catalogue: &'a Catalogue) -> Context<'a> {
        let mut found: BTreeMap<SubstanceRef, Option<f64>> = BTreeMap::new();
        let mut strips = Vec::new();
        let mut inconclusive = BTreeSet::new();
        let mut identified_something = false;
        for a in sample.current_analyses() {
            match &a.outcome {
                Outcome::Strip { result } => {
                    strips.push((a.method, *result));
                    if *result == AnalysisResult::Inconclusive {
                        inconclusive.insert(a.method);
                    }
                }
                Outcome::Components { components, inconclusive: unsure } => {
                    if *unsure {
                        inconclusive.insert(a.method);
                    } else if !components.is_empty() {
                        identified_something = true;
                    }
                    for c in components {
                        let mg = c.amount.and_then(|x| x.mg_per_unit());
                        let slot = found.entry(c.substance.clone()).or_insert(None);
                        if let Some(mg) = mg {
                            *slot = Some(slot.map_or(mg, |old: f64| old.max(mg)));
                        }
                    }
                }
            }
        }
        Context { policy, catalogue, sold: &sample.sold_as, found, strips, inconclusive, identified_something }
    }

    fn is_sold_as(&self, found: &SubstanceRef) -> bool {
        self.sold.iter().any(|s| {
            s == found
                || (s.known
                    && found.known
                    && self.policy.equivalents.get(&s.substance).is_some_and(|eq| eq.contains(&found.substance)))
        })
    }

    fn sold_as_any_class(&self, classes: &[SubstanceClass]) -> bool {
        self.sold.iter().any(|s| self.catalogue.substance(s).is_some_and(|x| classes.contains(&x.class)))
    }

    fn matches(&self, select: &Selector, found: &SubstanceRef) -> bool {
        match self.catalogue.substance(found) {
            None => select.unknown,
            Some(s) => {
                !select.unknown
                    && (select.classes.is_empty() || select.classes.contains(&s.class))
                    && (select.substances.is_empty() || select.substances.contains(&s.id))
                    && (select.risks.is_empty() || select.risks.iter().any(|r| s.has(*r)))
            }
        }
    }

    /// Sold as known substances, something was identified, and none of what was sold was found.
    fn is_mis_sold(&self) -> bool {
        let known_sold = self.sold.iter().any(|s| s.known);
        known_sold && self.identified_something && !self.found.keys().any(|f| self.is_sold_as(f))
    }

    fn name(&self, id: &str, lang: Lang) -> String {
        self.catalogue.get(id).map_or_else(|| id.to_owned(), |s| s.names.get(lang).to_owned())
    }
}

struct Vars {
    substance: String,
    sold_as: String,
    amount: String,
    method: String,
}

fn render(template: &Localized, vars: impl Fn(Lang) -> Vars) -> Localized {
    let one = |lang: Lang| {
        let v = vars(lang);
        template
            .get(lang)
            .replace("{substance}", &v.substance)
            .replace("{sold_as}", &v.sold_as)
            .replace("{amount}", &v.amount)
            .replace("{method}", &v.method)
    };
    Localized { nb: one(Lang::Nb), nn: one(Lang::Nn), en: one(Lang::En) }
}

fn nothing_named(lang: Lang) -> &'static str {
    match lang {
        Lang::Nb => "et ukjent produkt",
        Lang::Nn => "eit ukjent produkt",
        Lang::En => "an unspecified product",
    }
}

/// "a", "a og b", "a, b og c" (and in English "a, b and c").
fn join(names: &[String], lang: Lang) -> String {
    let and = if lang == Lang::En { "and" } else { "og" };
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} {and} {last}", init.join(", ")),
    }
}

fn fmt_number(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 { format!("{}", v.round() as i64) } else { format!("{v:.1}") }
}

/// The highest tier among findings, if any.
pub fn highest(findings: &[Finding]) -> Option<Tier> {
    findings.iter().map(|f| f.tier).max()
}

#[cfg(test)]
mod tests;
