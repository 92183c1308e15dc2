use super::*;
use crate::sample::{Amount, Analysis, Component, ComponentRole, Form};
use proptest::prelude::*;

struct World {
    catalogue: Catalogue,
    methods: MethodLimits,
    policy: RiskPolicy,
}

fn world() -> World {
    let catalogue = Catalogue::builtin().unwrap();
    let policy = RiskPolicy::builtin(&catalogue).unwrap_or_else(|e| panic!("{e}"));
    World { catalogue, methods: MethodLimits::builtin().unwrap(), policy }
}

use crate::testing::A;

fn sample(w: &World, sold_as: &[&str], form: Form, analyses: Vec<A>) -> Sample {
    crate::testing::sample(&w.catalogue, "2026-11-20T12:00:00Z", sold_as, form, analyses)
}

fn mg(v: f64) -> Option<Amount> {
    Some(Amount { value: v, unit: AmountUnit::Mg })
}

fn rules(w: &World, s: &Sample) -> Vec<(String, Tier)> {
    w.policy.assess(s, &w.catalogue, &w.methods).into_iter().map(|f| (f.rule, f.tier)).collect()
}

fn r(id: &str, t: Tier) -> (String, Tier) {
    (id.to_owned(), t)
}

#[test]
fn potent_opioids_in_a_product_not_sold_as_them_are_severe() {
    let w = world();
    let s =
        sample(&w, &["heroin"], Form::Powder, vec![A::Found(Method::Ftir, vec![("heroin", None), ("fentanyl", None)])]);
    assert_eq!(rules(&w, &s), vec![r("potent-opioid-unexpected", Tier::Severe)]);
    let s = sample(&w, &["oxycodone"], Form::Tablet, vec![A::Found(Method::LcMs, vec![("metonitazene", None)])]);
    assert_eq!(rules(&w, &s), vec![r("potent-opioid-unexpected", Tier::Severe), r("mis-sold", Tier::Severe)]);
    let s = sample(&w, &["fentanyl"], Form::Powder, vec![A::Found(Method::Ftir, vec![("fentanyl", None)])]);
    assert_eq!(rules(&w, &s), vec![], "fentanyl sold as fentanyl is what the person asked for");
    let s = sample(
        &w,
        &["fentanyl"],
        Form::Powder,
        vec![A::Found(Method::Ftir, vec![("fentanyl", None), ("carfentanil", None)])],
    );
    assert_eq!(
        rules(&w, &s),
        vec![r("potent-opioid-unexpected", Tier::Severe)],
        "carfentanil is not the opioid that was sold"
    );
}

#[test]
fn a_positive_nitazene_or_fentanyl_strip_in_a_product_not_sold_as_one_is_severe() {
    let w = world();
    let s = sample(&w, &["heroin"], Form::Powder, vec![A::Strip(Method::StripNitazene, AnalysisResult::Positive)]);
    let f = w.policy.assess(&s, &w.catalogue, &w.methods);
    assert_eq!(f.len(), 1);
    assert_eq!(
        (f[0].rule.as_str(), f[0].tier, f[0].method),
        ("nitazene-strip-positive", Tier::Severe, Some(Method::StripNitazene))
    );
    assert!(f[0].explanation.nb.contains("solgt som Heroin"), "{}", f[0].explanation.nb);
    let s = sample(&w, &["cocaine"], Form::Powder, vec![A::Strip(Method::StripFentanyl, AnalysisResult::Positive)]);
    assert_eq!(rules(&w, &s), vec![r("fentanyl-strip-positive", Tier::Severe)]);
    let s = sample(&w, &["fentanyl"], Form::Powder, vec![A::Strip(Method::StripFentanyl, AnalysisResult::Positive)]);
    assert_eq!(rules(&w, &s), vec![]);
    let s = sample(&w, &["heroin"], Form::Powder, vec![A::Strip(Method::StripNitazene, AnalysisResult::Negative)]);
    assert_eq!(rules(&w, &s), vec![]);
}

#[test]
fn mdma_per_tablet_thresholds() {
    let w = world();
    let tab = |dose| sample(&w, &["mdma"], Form::Tablet, vec![A::Found(Method::Hplc, vec![("mdma", mg(dose))])]);
    assert_eq!(rules(&w, &tab(110.0)), vec![]);
    assert_eq!(rules(&w, &tab(120.0)), vec![], "the thresholds are 'more than'");
    assert_eq!(rules(&w, &tab(150.0)), vec![r("mdma-dose", Tier::Caution)]);
    assert_eq!(rules(&w, &tab(230.0)), vec![r("mdma-dose", Tier::Warning)]);
    assert_eq!(rules(&w, &tab(301.0)), vec![r("mdma-dose", Tier::Severe)]);
    let f = w.policy.assess(&tab(230.0), &w.catalogue, &w.methods);
    assert!(f[0].explanation.en.contains("230 mg of MDMA"), "{}", f[0].explanation.en);
    assert!(f[0].explanation.nb.contains("1,3 mg per kg"));
}

#[test]
fn lsd_per_blotter_thresholds() {
    let w = world();
    let blot = |ug| {
        sample(
            &w,
            &["lsd"],
            Form::Blotter,
            vec![A::Found(Method::LcMs, vec![("lsd", Some(Amount { value: ug, unit: AmountUnit::Ug }))])],
        )
    };
    assert_eq!(rules(&w, &blot(100.0)), vec![]);
    assert_eq!(rules(&w, &blot(200.0)), vec![r("lsd-dose", Tier::Caution)]);
    assert_eq!(rules(&w, &blot(260.0)), vec![r("lsd-dose", Tier::Warning)]);
    assert!(w.policy.assess(&blot(260.0), &w.catalogue, &w.methods)[0].explanation.nn.contains("260 µg"));
}

#[test]
fn pmma_sold_as_mdma_is_a_warning_and_mis_sold_at_that_tier() {
    let w = world();
    let s = sample(&w, &["ecstasy"], Form::Tablet, vec![A::Found(Method::Hplc, vec![("pmma", mg(80.0))])]);
    assert_eq!(rules(&w, &s), vec![r("delayed-onset-substitute", Tier::Warning), r("mis-sold", Tier::Warning)]);
}

#[test]
fn synthetic_cannabinoids_xylazine_and_medetomidine_are_warnings() {
    let w = world();
    let s = sample(
        &w,
        &["cannabis"],
        Form::Plant,
        vec![A::Found(Method::GcMs, vec![("thc", None), ("MDMB-4en-PINACA", None)])],
    );
    assert_eq!(rules(&w, &s), vec![r("synthetic-cannabinoid", Tier::Warning)], "THC in cannabis is what was sold");
    let s =
        sample(&w, &["heroin"], Form::Powder, vec![A::Found(Method::Ftir, vec![("heroin", None), ("xylazine", None)])]);
    assert_eq!(rules(&w, &s), vec![r("veterinary-sedative", Tier::Warning)]);
    let s = sample(
        &w,
        &["heroin"],
        Form::Powder,
        vec![
            A::Strip(Method::StripXylazine, AnalysisResult::Positive),
            A::Strip(Method::StripMedetomidine, AnalysisResult::Positive),
        ],
    );
    assert_eq!(
        rules(&w, &s),
        vec![r("xylazine-strip-positive", Tier::Warning), r("medetomidine-strip-positive", Tier::Warning)]
    );
}

#[test]
fn designer_benzodiazepines_in_opioids_are_warnings_and_explained_once() {
    let w = world();
    let s = sample(
        &w,
        &["heroin"],
        Form::Powder,
        vec![A::Found(Method::LcMs, vec![("heroin", None), ("bromazolam", None)])],
    );
    assert_eq!(rules(&w, &s), vec![r("designer-benzodiazepine-in-opioid", Tier::Warning)]);
    let s = sample(&w, &["alprazolam"], Form::Tablet, vec![A::Found(Method::LcMs, vec![("bromazolam", mg(1.0))])]);
    assert_eq!(rules(&w, &s), vec![r("designer-benzodiazepine", Tier::Warning), r("mis-sold", Tier::Warning)]);
    let s =
        sample(&w, &["heroin"], Form::Powder, vec![A::Strip(Method::StripBenzodiazepine, AnalysisResult::Positive)]);
    assert_eq!(rules(&w, &s), vec![r("benzodiazepine-strip-in-opioid", Tier::Warning)]);
    let s =
        sample(&w, &["diazepam"], Form::Tablet, vec![A::Strip(Method::StripBenzodiazepine, AnalysisResult::Positive)]);
    assert_eq!(rules(&w, &s), vec![]);
}

#[test]
fn new_and_unknown_substances_are_warnings() {
    let w = world();
    let s = sample(&w, &["mdma"], Form::Crystal, vec![A::Found(Method::Ftir, vec![("eutylone", None)])]);
    assert_eq!(rules(&w, &s), vec![r("new-substance", Tier::Warning), r("mis-sold", Tier::Warning)]);
    let s = sample(&w, &["3-mmc"], Form::Crystal, vec![A::Found(Method::Ftir, vec![("3-MMC", None)])]);
    assert_eq!(rules(&w, &s), vec![], "a new substance bought as itself is not a surprise");
    let s = sample(
        &w,
        &["3-mmc"],
        Form::Crystal,
        vec![A::Found(Method::Ftir, vec![("3-mmc", None), ("Zorbazolam-X", None)])],
    );
    let f = w.policy.assess(&s, &w.catalogue, &w.methods);
    assert_eq!((f[0].rule.as_str(), f[0].tier), ("unknown-substance", Tier::Warning));
    assert_eq!(f[0].substances, vec!["Zorbazolam-X".to_owned()]);
    assert!(f[0].explanation.en.contains("\"Zorbazolam-X\""));
}

#[test]
fn mis_sold_is_at_least_caution_and_names_what_was_found() {
    let w = world();
    let s = sample(
        &w,
        &["cocaine"],
        Form::Powder,
        vec![A::Found(Method::Ftir, vec![("lidocaine", None), ("caffeine", None)])],
    );
    let f = w.policy.assess(&s, &w.catalogue, &w.methods);
    let got: Vec<_> = f.iter().map(|f| (f.rule.as_str(), f.tier)).collect();
    assert_eq!(
        got,
        vec![("mis-sold", Tier::Caution), ("unexpected-ingredient", Tier::Info), ("unexpected-ingredient", Tier::Info)]
    );
    assert!(f[0].explanation.nb.contains("Koffein og Lidokain"), "{}", f[0].explanation.nb);
    assert!(f[0].explanation.en.contains("Caffeine and Lidocaine"));
    // Nothing identified (only an inconclusive FTIR) is not mis-sold: it is uncertain.
    let s = sample(&w, &["cocaine"], Form::Powder, vec![A::Unsure(Method::Ftir)]);
    assert_eq!(rules(&w, &s), vec![r("inconclusive", Tier::Info)]);
    // Nobody said what it was sold as: nothing can be mis-sold.
    let s = sample(&w, &[], Form::Powder, vec![A::Found(Method::Ftir, vec![("caffeine", None)])]);
    assert_eq!(rules(&w, &s), vec![r("unexpected-ingredient", Tier::Info)]);
}

#[test]
fn uncertain_results_are_info_naming_the_method_in_each_language() {
    let w = world();
    let s = sample(&w, &["heroin"], Form::Powder, vec![A::Strip(Method::StripFentanyl, AnalysisResult::Inconclusive)]);
    let f = w.policy.assess(&s, &w.catalogue, &w.methods);
    assert_eq!((f[0].rule.as_str(), f[0].tier), ("inconclusive", Tier::Info));
    assert!(f[0].explanation.en.starts_with("The fentanyl strip could not"));
    assert!(f[0].explanation.nn.starts_with("fentanylstrips kunne ikkje"));
}

#[test]
fn superseded_analyses_do_not_count() {
    let w = world();
    let mut s = sample(
        &w,
        &["heroin"],
        Form::Powder,
        vec![
            A::Strip(Method::StripNitazene, AnalysisResult::Positive),
            A::Strip(Method::StripNitazene, AnalysisResult::Negative),
        ],
    );
    s.analyses[0].superseded_by = Some(2);
    s.analyses[1].amends = Some(1);
    assert_eq!(rules(&w, &s), vec![]);
}

#[test]
fn every_explanation_is_filled_in_all_three_languages() {
    let w = world();
    let s = sample(
        &w,
        &["heroin", "cocaine"],
        Form::Tablet,
        vec![
            A::Found(
                Method::Ftir,
                vec![
                    ("fentanyl", None),
                    ("pmma", mg(90.0)),
                    ("mdma", mg(350.0)),
                    ("xylazine", None),
                    ("bromazolam", None),
                    ("eutylone", None),
                    ("Unknown-Z", None),
                    ("caffeine", None),
                    ("mdmb-4en-pinaca", None),
                ],
            ),
            A::Strip(Method::StripNitazene, AnalysisResult::Positive),
            A::Unsure(Method::Raman),
        ],
    );
    let f = w.policy.assess(&s, &w.catalogue, &w.methods);
    assert!(f.len() >= 10, "{f:#?}");
    for finding in &f {
        assert_eq!(finding.policy_version, "2026.1");
        for lang in Lang::ALL {
            let t = finding.explanation.get(lang);
            assert!(!t.contains('{') && !t.contains('}'), "{}: {t}", finding.rule);
        }
    }
    assert!(f.windows(2).all(|p| p[0].tier >= p[1].tier), "most severe first");
}

#[test]
fn an_invalid_policy_is_refused_with_file_line_and_reason() {
    let w = world();
    let good = "version = \"t\"\n[[rule]]\nid = \"a\"\nkind = \"mis_sold\"\ntier = \"caution\"\nexplanation = { nb = \"x\", nn = \"x\", en = \"x\" }\n";
    assert!(RiskPolicy::parse("p.toml", good, &w.catalogue).is_ok());
    let cases = [
        (good.replace("mis_sold", "misold"), 2, "unknown kind"),
        (good.replace("kind = \"mis_sold\"", "kind = \"dose\"\nsubstance = \"mdmaa\"\nunit = \"mg\""), 2, "not a catalogue id"),
        (good.replace("en = \"x\"", "en = \"x {amont}\""), 2, "unknown placeholder {amont}"),
        (good.replace("tier = \"caution\"", "tier = \"red\""), 5, "red"),
        (good.replace("kind = \"mis_sold\"", "kind = \"dose\"\nsubstance = \"mdma\"\nunit = \"mg\"\nthresholds = [{ above = 200, tier = \"warning\" }, { above = 120, tier = \"severe\" }]"), 2, "must rise"),
    ];
    for (text, line, needle) in cases {
        let e = RiskPolicy::parse("p.toml", &text, &w.catalogue).unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("p.toml", line), "{e}");
        assert!(e.message.contains(needle), "{e}");
    }
}

// Property tests over samples built from a pool of substances and strips.

const POOL: &[&str] = &[
    "heroin",
    "cocaine",
    "mdma",
    "caffeine",
    "paracetamol",
    "levamisole",
    "fentanyl",
    "protonitazene",
    "xylazine",
    "bromazolam",
    "pmma",
    "3-mmc",
    "ketamine",
    "Mystery-Q",
];
const DANGEROUS: &[&str] = &[
    "fentanyl",
    "carfentanil",
    "isotonitazene",
    "protonitazene",
    "xylazine",
    "medetomidine",
    "pmma",
    "mdmb-4en-pinaca",
    "bromazolam",
    "Unlisted-N",
];
const SOLD: &[&str] = &["heroin", "cocaine", "mdma", "amphetamine", "ketamine", "oxycodone", "alprazolam"];
const STRIPS: &[Method] =
    &[Method::StripFentanyl, Method::StripNitazene, Method::StripXylazine, Method::StripBenzodiazepine];

fn arb_analyses() -> impl Strategy<Value = Vec<(bool, Vec<usize>, usize, u8)>> {
    // (is strip, component indices into POOL, strip index, strip result 0..3)
    prop::collection::vec((any::<bool>(), prop::collection::vec(0..POOL.len(), 0..5), 0..STRIPS.len(), 0u8..3), 0..5)
}

fn build(w: &World, sold: &[&'static str], spec: &[(bool, Vec<usize>, usize, u8)]) -> Sample {
    let analyses = spec
        .iter()
        .map(|(strip, comps, s, res)| {
            if *strip {
                let r =
                    [AnalysisResult::Positive, AnalysisResult::Negative, AnalysisResult::Inconclusive][*res as usize];
                A::Strip(STRIPS[*s], r)
            } else {
                let mut names: Vec<&'static str> = comps.iter().map(|i| POOL[*i]).collect();
                names.dedup();
                A::Found(Method::Ftir, names.into_iter().map(|n| (n, None)).collect())
            }
        })
        .collect();
    sample(w, sold, Form::Powder, analyses)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn findings_do_not_depend_on_the_order_of_analyses_or_components(
        sold in prop::sample::subsequence(SOLD.to_vec(), 0..3),
        spec in arb_analyses(),
        seed in any::<u64>(),
    ) {
        let w = world();
        let a = w.policy.assess(&build(&w, &sold, &spec), &w.catalogue, &w.methods);
        let mut shuffled = spec.clone();
        let n = shuffled.len();
        if n > 1 {
            shuffled.rotate_left((seed as usize) % n);
        }
        for (_, comps, _, _) in &mut shuffled {
            comps.reverse();
        }
        let b = w.policy.assess(&build(&w, &sold, &shuffled), &w.catalogue, &w.methods);
        prop_assert_eq!(a, b);
    }

    #[test]
    fn adding_a_dangerous_component_never_lowers_the_highest_tier(
        sold in prop::sample::subsequence(SOLD.to_vec(), 0..3),
        spec in arb_analyses(),
        danger in 0..DANGEROUS.len(),
    ) {
        let w = world();
        let before = highest(&w.policy.assess(&build(&w, &sold, &spec), &w.catalogue, &w.methods));
        let mut more = build(&w, &sold, &spec);
        let t = more.received_at;
        more.analyses.push(Analysis {
            id: 99, method: Method::GcMs, performed_at: t, recorded_at: t, amends: None, superseded_by: None,
            outcome: Outcome::Components { components: vec![Component { substance: w.catalogue.resolve(DANGEROUS[danger]), role: ComponentRole::Trace, amount: None, confidence: None }], inconclusive: false },
        });
        let after = highest(&w.policy.assess(&more, &w.catalogue, &w.methods));
        prop_assert!(after >= before, "{:?} -> {:?}", before, after);
        prop_assert!(after >= Some(Tier::Warning));
    }
}
