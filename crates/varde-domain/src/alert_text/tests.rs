use super::*;
use crate::assess::Assessor;
use crate::sample::{Amount, AnalysisResult, Form, Tablet};
use jiff::Timestamp;

fn assessor() -> Assessor {
    Assessor::new(Catalogue::builtin().unwrap()).unwrap_or_else(|e| panic!("{e}"))
}

use crate::testing::A;

fn sample(w: &Assessor, at: &str, sold_as: &[&str], form: Form, analyses: Vec<A>) -> Sample {
    crate::testing::sample(&w.catalogue, at, sold_as, form, analyses)
}

fn fentanyl_in_heroin(w: &Assessor) -> Sample {
    sample(
        w,
        "2026-11-20T12:00:00Z",
        &["heroin"],
        Form::Powder,
        vec![A::Found(Method::Ftir, vec![("heroin", None), ("fentanyl", None)])],
    )
}

fn mg(value: f64) -> Option<Amount> {
    Some(Amount { value, unit: AmountUnit::Mg })
}

fn draft(w: &Assessor, samples: Vec<Sample>, fylke: &str) -> (Tier, AlertContent) {
    let evidence: Vec<(Sample, Vec<Finding>)> = samples
        .into_iter()
        .map(|s| {
            let f = w.findings(&s);
            (s, f)
        })
        .collect();
    w.draft(&evidence, None, fylke)
}

fn every_text(c: &AlertContent) -> Vec<(&'static str, Lang, &str)> {
    let mut out = Vec::new();
    for lang in [Lang::Nb, Lang::Nn, Lang::En] {
        for (what, l) in
            [("title", &c.title), ("body", &c.body), ("advice", &c.advice), ("uncertainty", &c.uncertainty)]
        {
            out.push((what, lang, l.get(lang)));
        }
    }
    out
}

fn pink_tesla(mut s: Sample) -> Sample {
    s.colour = Some("rosa".into());
    s.tablet = Some(Tablet { mass_mg: Some(350.0), logo: Some("Tesla".into()), ..Tablet::default() });
    s
}

#[test]
fn a_high_dose_mdma_draft_names_the_dose_the_tablet_and_the_place_with_entactogen_advice() {
    let w = assessor();
    let s = pink_tesla(sample(
        &w,
        "2026-11-20T12:00:00Z",
        &["mdma"],
        Form::Tablet,
        vec![A::Found(Method::Ftir, vec![("mdma", mg(270.0))])],
    ));
    let (tier, c) = draft(&w, vec![s], "03");
    assert_eq!(tier, Tier::Warning);
    // The colour in the reader's language, from the translated list: "rosa" as typed, "pink" in English.
    assert_eq!(c.title.en, "High-dose MDMA tablets: 270 mg, pink, logo «Tesla», Oslo");
    assert_eq!(c.title.nb, "Høydose MDMA-tabletter: 270 mg, rosa, logo «Tesla», Oslo");
    assert!(c.body.en.contains("up to 270 mg of MDMA"), "{}", c.body.en);
    assert!(c.body.en.contains("tablet, pink, logo «Tesla», tablet weight 350 mg"), "{}", c.body.en);
    // The dose is the active content, the mass the whole tablet: each said as what it is.
    assert!(c.body.en.contains("up to 270 mg of MDMA") && !c.body.en.contains("350 mg per tablet"), "{}", c.body.en);
    assert!(c.body.en.contains("Found in 1 sample in Oslo on 20 November 2026."), "{}", c.body.en);
    assert!(c.body.nb.contains("Funnet i 1 prøve i Oslo 20. november 2026."), "{}", c.body.nb);
    // The entactogen class's advice and the rule's own; nothing that is only about opioids.
    assert!(c.advice.en.contains("wait at least two hours") && c.advice.en.contains("Do not take a whole tablet"));
    for lang in [Lang::Nb, Lang::Nn, Lang::En] {
        let a = c.advice.get(lang).to_lowercase();
        assert!(!a.contains("nalokson") && !a.contains("naloxone"), "{lang:?}: {a}");
        assert!(a.contains("113"), "the emergency line is always there: {a}");
    }
}

#[test]
fn a_fentanyl_in_heroin_draft_carries_naloxone_advice() {
    let w = assessor();
    let s = fentanyl_in_heroin(&w);
    let (tier, c) = draft(&w, vec![s], "50");
    assert_eq!(tier, Tier::Severe);
    assert!(c.title.en.starts_with("Severe alert: Fentanyl in «Heroin» (powder), Trøndelag"), "{}", c.title.en);
    assert!(!c.title.nb.contains("Trööndelage"), "the fylke as the public writes it");
    assert!(c.advice.en.contains("naloxone") && c.advice.nb.contains("nalokson") && c.advice.nn.contains("nalokson"));
}

#[test]
fn counts_are_written_with_the_right_plural_and_dates_as_people_write_them() {
    let w = assessor();
    let s = |at: &str| {
        sample(
            &w,
            at,
            &["heroin"],
            Form::Powder,
            vec![A::Strip(Method::parse("strip_nitazene").unwrap(), AnalysisResult::Positive)],
        )
    };
    let (_, c) = draft(&w, vec![s("2026-11-22T12:00:00Z"), s("2026-11-21T12:00:00Z"), s("2026-11-03T09:00:00Z")], "11");
    assert!(
        c.body.en.contains("Found in 3 samples in Rogaland between 3 November 2026 and 22 November 2026."),
        "{}",
        c.body.en
    );
    assert!(
        c.body.nn.contains("Funne i 3 prøver i Rogaland mellom 3. november 2026 og 22. november 2026."),
        "{}",
        c.body.nn
    );
    assert!(c.title.en.contains("a nitazene") || c.title.en.contains("nitazene detected"), "{}", c.title.en);
    for (what, lang, text) in every_text(&c) {
        assert!(!text.contains("(s)") && !text.contains("(r)"), "{what} {lang:?}: {text}");
    }
    assert_eq!(w.templates.samples(1, Lang::Nb), "1 prøve");
    assert_eq!(w.templates.samples(2, Lang::En), "2 samples");
}

/// Every rule of the risk policy, in every language, with long product details: the headline fits an SMS and no
/// placeholder is left unfilled anywhere.
#[test]
fn every_rule_writes_a_complete_draft_whose_headline_fits_an_sms() {
    let w = assessor();
    let mut s = sample(
        &w,
        "2026-11-20T12:00:00Z",
        &["3-mmc", "mdma", "ketamine"],
        Form::Tablet,
        vec![A::Found(Method::Ftir, vec![("n-ethylpentylone", mg(12.5)), ("para-fluorofentanyl", mg(0.4))])],
    );
    s.colour = Some("lys rosa med blå og grønne prikker".into());
    s.tablet =
        Some(Tablet { mass_mg: Some(412.0), logo: Some("Tesla Model S Plaid edition".into()), ..Tablet::default() });
    let rules: Vec<String> = w.policy.rule_ids().map(str::to_owned).collect();
    assert!(rules.len() >= 18);
    for rule in &rules {
        for substances in [vec!["n-ethylpentylone".to_owned(), "para-fluorofentanyl".to_owned()], vec![]] {
            let finding = Finding {
                rule: rule.clone(),
                policy_version: "test".into(),
                tier: Tier::Severe,
                method: substances.is_empty().then(|| Method::parse("strip_nitazene").unwrap()),
                substances,
                explanation: Localized { nb: "x".into(), nn: "x".into(), en: "x".into() },
            };
            let (_, c) = w.draft(&[(s.clone(), vec![finding])], None, "15");
            for lang in [Lang::Nb, Lang::Nn, Lang::En] {
                let title = c.title.get(lang);
                assert!(
                    title.chars().count() <= HEADLINE_MAX_CHARS,
                    "{rule} {lang:?}: {} chars: {title}",
                    title.chars().count()
                );
                assert!(title.contains("Møre og Romsdal") || title.ends_with('…'), "{rule} {lang:?}: {title}");
            }
            for (what, lang, text) in every_text(&c) {
                assert!(!text.contains('{') && !text.contains('}'), "{rule} {what} {lang:?}: {text}");
                assert!(!text.trim().is_empty(), "{rule} {what} {lang:?}");
            }
        }
    }
}

#[test]
fn a_template_file_missing_a_month_or_a_text_is_refused() {
    let text = include_str!("../../data/alert-templates.toml");
    let broken = text.replace("\"desember\"]", "]");
    assert!(AlertTemplates::parse("t.toml", &broken).unwrap_err().message.contains("12 months"));
    let empty = text.replace("en = \"High-dose MDMA tablets: {dose}{looks}, {place}\"", "en = \"\"");
    assert!(AlertTemplates::parse("t.toml", &empty).unwrap_err().message.contains("mdma-dose"));
    let no_vape = text.replace("vape = { nb = \"vape\", nn = \"vape\", en = \"vape\" }\n", "");
    assert!(AlertTemplates::parse("t.toml", &no_vape).unwrap_err().message.contains("[form] has no vape"));
}

#[test]
fn warnings_reach_their_area_severe_alerts_everyone_and_severe_ones_escalate_after_four_hours() {
    use crate::alert::{overdue, reaches};
    let w = assessor();
    let s = fentanyl_in_heroin(&w);
    let (tier, content) = draft(&w, vec![s], "03");
    let published: Timestamp = "2026-11-20T12:00:00Z".parse().unwrap();
    let mut alert = crate::alert::Alert {
        id: 1,
        status: crate::alert::AlertStatus::Published,
        tier,
        version: 1,
        content,
        created_at: published,
        updated_at: published,
        published_at: Some(published),
        withdrawn_at: None,
        valid_until: None,
        evidence_count: 1,
        first_evidence_at: published,
        last_evidence_at: published,
        new_evidence: false,
        confirmed_at: Some(published),
        photo: None,
        priority: None,
    };
    assert!(reaches(&alert, "03", false) && !reaches(&alert, "46", false) && reaches(&alert, "46", true));
    let hours = |h: i64| published + jiff::SignedDuration::from_hours(h);
    let four = jiff::SignedDuration::from_hours(crate::alert::ESCALATE_AFTER_HOURS);
    assert!(!overdue(&alert, hours(3), four) && overdue(&alert, hours(4), four));
    alert.tier = Tier::Warning;
    assert!(!reaches(&alert, "46", true), "only severe alerts reach the whole country");
    assert!(!overdue(&alert, hours(48), four), "only severe alerts escalate");
    alert.tier = Tier::Caution;
    assert!(!reaches(&alert, "03", true), "caution asks nobody to acknowledge");
}

/// Every rule × every class × sold as an opioid or not: naloxone is advised exactly where an opioid was found or the
/// product was sold as one, the advice names 113 once, and no sentence of the body or the advice is said twice.
#[test]
fn advice_fits_the_class_in_every_draft_with_113_once_and_no_sentence_twice() {
    let w = assessor();
    let mut representatives: BTreeMap<SubstanceClass, String> = BTreeMap::new();
    for s in w.catalogue.substances() {
        representatives.entry(s.class).or_insert_with(|| s.id.clone());
    }
    assert_eq!(representatives.len(), SubstanceClass::ALL.len(), "the catalogue has a substance of every class");
    let strips: Vec<Method> = Method::ALL.into_iter().filter(|m| m.is_strip()).collect();
    let rules: Vec<String> = w.policy.rule_ids().map(str::to_owned).collect();
    let mut naloxone_drafts = 0;
    for sold_as in ["heroin", "mdma", "ketamine"] {
        let s = sample(&w, "2026-11-20T12:00:00Z", &[sold_as], Form::Powder, vec![]);
        let found = representatives
            .values()
            .map(|id| (vec![id.clone()], None))
            .chain(strips.iter().map(|m| (Vec::new(), Some(*m))));
        for (substances, method) in found {
            for rule in &rules {
                let finding = Finding {
                    rule: rule.clone(),
                    policy_version: "test".into(),
                    tier: Tier::Warning,
                    method,
                    substances: substances.clone(),
                    explanation: Localized { nb: "x".into(), nn: "x".into(), en: "x".into() },
                };
                let (_, c) = w.draft(&[(s.clone(), vec![finding])], None, "03");
                let what = format!("{rule}, {substances:?}{method:?} sold as {sold_as}");
                let opioid = c.opioid_involved(&w.catalogue);
                assert_eq!(
                    opioid,
                    sold_as == "heroin"
                        || substances.iter().any(|id| w.catalogue.get(id).is_some_and(|x| x.class.is_opioid()))
                        || matches!(method, Some(Method::StripFentanyl | Method::StripNitazene)),
                    "{what}"
                );
                naloxone_drafts += usize::from(opioid);
                for lang in [Lang::Nb, Lang::Nn, Lang::En] {
                    let advice = c.advice.get(lang);
                    let says_naloxone = advice.to_lowercase().contains("nalo");
                    assert_eq!(says_naloxone, opioid, "{what} {lang:?}: {advice}");
                    assert_eq!(advice.matches("113").count(), 1, "{what} {lang:?}: {advice}");
                    for text in [advice, c.body.get(lang)] {
                        let sentences: Vec<&str> = text.split_inclusive(". ").map(str::trim).collect();
                        let unique: std::collections::BTreeSet<&str> = sentences.iter().copied().collect();
                        assert_eq!(unique.len(), sentences.len(), "{what} {lang:?}: {text}");
                    }
                }
            }
        }
    }
    assert!(naloxone_drafts > 0);
}

#[test]
fn sentences_are_kept_once_in_their_order() {
    let texts = ["A is bad. Do not use alone.".to_owned(), "Do not use alone. Call 113.".to_owned()];
    assert_eq!(sentences_once(&texts), "A is bad. Do not use alone. Call 113.");
    assert_eq!(sentences_once(&["Dose: 1.5 mg. Wait!".to_owned()]), "Dose: 1.5 mg. Wait!");
}

/// "Confirmed by laboratory analysis" names laboratory methods only; the on-site methods that found it are named as
/// such, and a negative strip is not cited as evidence anywhere.
#[test]
fn a_draft_says_honestly_how_it_was_found() {
    let w = assessor();
    let analyses = || {
        vec![
            A::Found(Method::Ftir, vec![("heroin", None), ("fentanyl", None)]),
            A::Strip(Method::StripFentanyl, AnalysisResult::Positive),
            A::Strip(Method::StripNitazene, AnalysisResult::Negative),
        ]
    };
    let screened = sample(&w, "2026-11-20T12:00:00Z", &["heroin"], Form::Powder, analyses());
    let (_, c) = draft(&w, vec![screened], "03");
    assert!(!c.lab_confirmed);
    assert!(
        c.uncertainty.nb.starts_with("Funnet ved analyse på stedet (FTIR, fentanylstrips) og ikke bekreftet"),
        "{}",
        c.uncertainty.nb
    );
    let mut with_lab = analyses();
    with_lab.push(A::Found(Method::GcMs, vec![("heroin", None), ("fentanyl", None)]));
    let confirmed = sample(&w, "2026-11-20T12:00:00Z", &["heroin"], Form::Powder, with_lab);
    let (_, c) = draft(&w, vec![confirmed], "03");
    assert!(c.lab_confirmed);
    assert_eq!(
        c.uncertainty.nb,
        "Bekreftet ved laboratorieanalyse (GC-MS). Også funnet ved analyse på stedet (FTIR, fentanylstrips)."
    );
    assert_eq!(
        c.uncertainty.en,
        "Confirmed by laboratory analysis (GC-MS). Also found by on-site analysis (FTIR, fentanyl strip)."
    );
    for (what, lang, text) in every_text(&c) {
        assert!(!text.to_lowercase().contains("nitazen"), "a negative strip is no evidence: {what} {lang:?}: {text}");
    }
}

/// PMMA sold as MDMA: the warning says not to take more, and the entactogens' usual "wait two hours before more"
/// is not given beside it (the risk policy's `replaces_class_advice`).
#[test]
fn a_pmma_draft_does_not_both_forbid_and_time_a_second_dose() {
    let w = assessor();
    let s =
        sample(&w, "2026-11-20T12:00:00Z", &["mdma"], Form::Tablet, vec![A::Found(Method::Ftir, vec![("pmma", None)])]);
    assert!(w.policy.replaces_class_advice("delayed-onset-substitute"));
    let (_, c) = draft(&w, vec![s], "03");
    for lang in [Lang::Nb, Lang::Nn, Lang::En] {
        let advice = c.advice.get(lang);
        let class = w.catalogue.class(crate::catalogue::SubstanceClass::Entactogen).advice.get(lang);
        assert!(!advice.contains(class), "{advice}");
    }
    assert!(c.advice.en.contains("do not take more even if you feel nothing"), "{}", c.advice.en);
    assert!(!c.advice.en.contains("before more"), "{}", c.advice.en);
    // An MDMA tablet without PMMA keeps the class's advice.
    let mdma = sample(
        &w,
        "2026-11-20T12:00:00Z",
        &["mdma"],
        Form::Tablet,
        vec![A::Found(Method::Ftir, vec![("mdma", mg(270.0))])],
    );
    let (_, c) = draft(&w, vec![mdma], "03");
    assert!(c.advice.en.contains("wait at least two hours before more"), "{}", c.advice.en);
}
