//! A synthetic year of drug checking, for demonstrations, benchmarks and tests. Clearly labelled (services are
//! named "Demo: …" and every sample's notes say it is synthetic) and deterministic: the same seed and end date give
//! the same services, samples and codes.
//!
//! The mixes follow what European drug-checking services publish: heroin cut with caffeine and paracetamol,
//! cocaine with levamisole and phenacetin, MDMA tablets from 60 to over 300 mg, fake benzodiazepine tablets that are
//! bromazolam, and rare but deadly nitazenes, fentanyl, xylazine and PMMA. The numbers are invented.

use jiff::{SignedDuration, Timestamp};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use varde_domain::SampleCode;
use varde_domain::method::Method;
use varde_domain::sample::{
    Amount, AmountUnit, AnalysisInput, AnalysisResult, ComponentInput, ComponentRole, Confidence, Form, Route,
    SampleInput, ScoreLine, Source, Tablet, UseContext,
};
use varde_domain::service::ServiceKind;

/// How long before the end of the demo year the newest sample is received (seconds).
const EARLIEST_SECS: i64 = 30 * 60;

pub const NOTE: &str = "Syntetiske demodata / synthetic demo data";

/// A service in the demo: slug, name, kind, kommunenummer, relative share of samples.
pub struct DemoService {
    pub slug: &'static str,
    pub name: &'static str,
    pub kind: ServiceKind,
    pub kommune: &'static str,
    weight: u32,
}

pub const SERVICES: &[DemoService] = &[
    DemoService {
        slug: "oslo-brukerrom",
        name: "Demo: Oslo brukerrom",
        kind: ServiceKind::UserRoom,
        kommune: "0301",
        weight: 22,
    },
    DemoService {
        slug: "oslo-lavterskel",
        name: "Demo: Oslo lavterskel helsetilbud",
        kind: ServiceKind::LowThreshold,
        kommune: "0301",
        weight: 14,
    },
    DemoService {
        slug: "bergen-brukerrom",
        name: "Demo: Bergen brukerrom",
        kind: ServiceKind::UserRoom,
        kommune: "4601",
        weight: 12,
    },
    DemoService {
        slug: "trondheim-lavterskel",
        name: "Demo: Trondheim lavterskel",
        kind: ServiceKind::LowThreshold,
        kommune: "5001",
        weight: 8,
    },
    DemoService {
        slug: "stavanger-lavterskel",
        name: "Demo: Stavanger lavterskel",
        kind: ServiceKind::LowThreshold,
        kommune: "1103",
        weight: 7,
    },
    DemoService {
        slug: "kristiansand-lavterskel",
        name: "Demo: Kristiansand lavterskel",
        kind: ServiceKind::LowThreshold,
        kommune: "4204",
        weight: 5,
    },
    DemoService {
        slug: "tromso-lavterskel",
        name: "Demo: Tromsø lavterskel",
        kind: ServiceKind::LowThreshold,
        kommune: "5501",
        weight: 4,
    },
    DemoService {
        slug: "drammen-lavterskel",
        name: "Demo: Drammen lavterskel",
        kind: ServiceKind::LowThreshold,
        kommune: "3301",
        weight: 5,
    },
    DemoService {
        slug: "fredrikstad-lavterskel",
        name: "Demo: Fredrikstad lavterskel",
        kind: ServiceKind::LowThreshold,
        kommune: "3107",
        weight: 4,
    },
    DemoService {
        slug: "bodo-oppsokende",
        name: "Demo: Bodø oppsøkende team",
        kind: ServiceKind::Outreach,
        kommune: "1804",
        weight: 3,
    },
    DemoService {
        slug: "oslo-festival",
        name: "Demo: Festival i Oslo (sommer)",
        kind: ServiceKind::Festival,
        kommune: "0301",
        weight: 6,
    },
    DemoService {
        slug: "nasjonal-post",
        name: "Demo: Rusmiddelanalyse per post",
        kind: ServiceKind::Postal,
        kommune: "0301",
        weight: 10,
    },
];

/// One generated sample: its code and the input a technician's client would send.
pub struct DemoSample {
    pub code: SampleCode,
    pub input: SampleInput,
}

/// About as many samples as a busy national drug-checking service would check in a year. A larger demo spreads over
/// as many years as it takes (400,000 samples: ten years), so its history grows, not its weekly density.
pub const SAMPLES_PER_YEAR: usize = 40_000;

/// Generates `count` samples received in the years before `end`: the last 365 days for up to
/// [`SAMPLES_PER_YEAR`], more years for more.
pub fn samples(seed: u64, end: Timestamp, count: usize) -> Vec<DemoSample> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let years = count.div_ceil(SAMPLES_PER_YEAR).max(1) as i64;
    (0..count)
        .map(|_| {
            let code = SampleCode::generate(&mut rng);
            DemoSample { code, input: sample(&mut rng, end, years) }
        })
        .collect()
}

/// One sample received at a random time in the `years` × 365 days before `end`, from a random service.
pub fn sample<R: Rng>(rng: &mut R, end: Timestamp, years: i64) -> SampleInput {
    let span = years.max(1) * 365 * 86_400;
    let total: u32 = SERVICES.iter().map(|s| s.weight).sum();
    // Weighted choice: a ticket in 0..total falls into one service's share.
    let mut ticket = rng.random_range(0..total);
    let mut service = &SERVICES[0];
    for s in SERVICES {
        if ticket < s.weight {
            service = s;
            break;
        }
        ticket -= s.weight;
    }
    // At least half an hour before the end, so that every analysis (2 to 30 minutes after) has been performed.
    let mut at = end - SignedDuration::from_secs(rng.random_range(EARLIEST_SECS..span));
    // The festival service works only in June to August: draw again until the day is in those months (every
    // 365-day window holds a summer, so this ends quickly).
    if service.kind == ServiceKind::Festival {
        while !(6..=8).contains(&at.to_zoned(jiff::tz::TimeZone::UTC).month()) {
            at = end - SignedDuration::from_secs(rng.random_range(EARLIEST_SECS..span));
        }
    }
    let mut s = product(rng);
    s.service = service.slug.to_owned();
    s.received_at = Some(at);
    for a in &mut s.analyses {
        a.performed_at = Some(at + SignedDuration::from_mins(rng.random_range(2..30)));
    }
    s.notes = Some(NOTE.to_owned());
    if rng.random_bool(0.4) {
        s.use_context = Some(UseContext {
            route: Some(pick(rng, &[Route::Injected, Route::Smoked, Route::Nasal, Route::Oral])),
            source: Some(pick(rng, &[Source::Street, Source::Friend, Source::Online, Source::Darknet])),
            already_used: Some(rng.random_bool(0.3)),
            unexpected_effects: Some(rng.random_bool(0.08)),
        });
    }
    s
}

/// One of `xs`, uniformly.
fn pick<T: Copy, R: Rng>(rng: &mut R, xs: &[T]) -> T {
    xs[rng.random_range(0..xs.len())]
}

fn comp(substance: &str, role: ComponentRole, amount: Option<Amount>) -> ComponentInput {
    ComponentInput { substance: substance.to_owned(), role, amount, confidence: Some(Confidence::High) }
}

fn pct(v: f64) -> Option<Amount> {
    Some(Amount { value: (v * 10.0).round() / 10.0, unit: AmountUnit::Percent })
}

fn mg(v: f64) -> Option<Amount> {
    Some(Amount { value: v.round(), unit: AmountUnit::Mg })
}

fn ftir(components: Vec<ComponentInput>) -> AnalysisInput {
    AnalysisInput { method: Method::Ftir, result: None, components: Some(components), performed_at: None, amends: None }
}

fn strip(method: Method, positive: bool) -> AnalysisInput {
    let result = if positive { AnalysisResult::Positive } else { AnalysisResult::Negative };
    AnalysisInput { method, result: Some(result), components: None, performed_at: None, amends: None }
}

fn base(sold_as: &str, form: Form, colour: &str) -> SampleInput {
    SampleInput {
        service: String::new(),
        received_at: None,
        sold_as: vec![sold_as.to_owned()],
        form,
        colour: Some(colour.to_owned()),
        texture: None,
        notes: None,
        tablet: None,
        use_context: None,
        analyses: Vec::new(),
    }
}

/// One sample of a product the demo's services see, drawn in the proportions of a Norwegian low-threshold service's
/// year (the rolls below); each product's own function draws its analyses.
fn product<R: Rng>(rng: &mut R) -> SampleInput {
    match rng.random_range(0..1000) {
        0..=299 => heroin(rng),
        300..=549 => cocaine(rng),
        550..=699 => mdma_tablet(rng),
        700..=759 => mdma_crystal(rng),
        760..=859 => amphetamine(rng),
        860..=884 => methamphetamine(rng),
        885..=924 => ketamine(rng),
        925..=959 => benzodiazepine_tablet(rng),
        960..=974 => oxycodone_tablet(rng),
        975..=986 => lsd_blotter(rng),
        987..=994 => cannabis(rng),
        _ => ghb_or_unknown(rng),
    }
}

/// Each of `list`'s adulterants, found with its probability, at 5-40 %.
fn adulterants<R: Rng>(rng: &mut R, list: &[(&str, f64)]) -> Vec<ComponentInput> {
    let mut out = Vec::new();
    for (name, p) in list {
        if rng.random_bool(*p) {
            out.push(comp(name, ComponentRole::Adulterant, pct(rng.random_range(5.0..40.0))));
        }
    }
    out
}

/// Heroin: mostly cut with caffeine and paracetamol; rare nitazenes, fentanyl and xylazine.
fn heroin<R: Rng>(rng: &mut R) -> SampleInput {
    let mut s = base("heroin", Form::Powder, pick(rng, &["brown", "beige", "light brown"]));
    let mut main = vec![comp("heroin", ComponentRole::Main, pct(rng.random_range(10.0..60.0)))];
    main.extend(adulterants(rng, &[("caffeine", 0.75), ("paracetamol", 0.55), ("dextromethorphan", 0.03)]));
    s.analyses.push(ftir(main));
    let nitazene = rng.random_bool(0.03);
    let fentanyl = !nitazene && rng.random_bool(0.01);
    s.analyses.push(strip(Method::StripFentanyl, fentanyl));
    s.analyses.push(strip(Method::StripNitazene, nitazene));
    if rng.random_bool(0.3) {
        s.analyses.push(strip(Method::StripXylazine, rng.random_bool(0.04)));
    }
    if nitazene && rng.random_bool(0.6) {
        let which = pick(rng, &["protonitazene", "metonitazene", "n-pyrrolidino-etonitazene", "isotonitazene"]);
        s.analyses.push(AnalysisInput {
            method: Method::GcMs,
            result: None,
            components: Some(vec![comp("heroin", ComponentRole::Main, None), comp(which, ComponentRole::Trace, None)]),
            performed_at: None,
            amends: None,
        });
    }
    s
}

/// Cocaine: levamisole and phenacetin; a few are not cocaine at all.
fn cocaine<R: Rng>(rng: &mut R) -> SampleInput {
    let mut s = base("cocaine", Form::Powder, "white");
    if rng.random_bool(0.03) {
        s.analyses.push(ftir(vec![
            comp("3-mmc", ComponentRole::Main, None),
            comp("lidocaine", ComponentRole::Adulterant, pct(20.0)),
        ]));
    } else {
        let mut c = vec![comp("cocaine", ComponentRole::Main, pct(rng.random_range(30.0..90.0)))];
        c.extend(adulterants(
            rng,
            &[("levamisole", 0.4), ("phenacetin", 0.2), ("lidocaine", 0.15), ("caffeine", 0.1), ("mannitol", 0.1)],
        ));
        s.analyses.push(ftir(c));
        s.analyses.push(strip(Method::StripFentanyl, rng.random_bool(0.004)));
    }
    s
}

/// MDMA tablets: 60-320 mg, some far above what people expect; rare PMMA and cathinones.
fn mdma_tablet<R: Rng>(rng: &mut R) -> SampleInput {
    let colour = pick(rng, &["pink", "blue", "orange", "green", "yellow", "purple"]);
    let logo = pick(rng, &["Tesla", "Philipp Plein", "Punisher", "Red Bull", "Superman", "Rolex", "Heart"]);
    let mut s = base("mdma", Form::Tablet, colour);
    let dose: f64 = (rng.random_range(60.0..240.0_f64)
        + if rng.random_bool(0.15) { rng.random_range(40.0..80.0) } else { 0.0 })
    .min(320.0);
    s.tablet = Some(Tablet {
        mass_mg: Some((dose * rng.random_range(1.8..2.6)).round()),
        logo: Some(logo.to_owned()),
        diameter_mm: Some((rng.random_range(8.0..12.0) * 10.0_f64).round() / 10.0),
        thickness_mm: Some((rng.random_range(3.5..6.5) * 10.0_f64).round() / 10.0),
        score: Some(if rng.random_bool(0.5) { ScoreLine::Single } else { ScoreLine::None }),
    });
    let main = if rng.random_bool(0.015) {
        comp("pmma", ComponentRole::Main, mg(rng.random_range(40.0..120.0)))
    } else if rng.random_bool(0.03) {
        comp("eutylone", ComponentRole::Main, mg(rng.random_range(100.0..200.0)))
    } else {
        comp("mdma", ComponentRole::Main, mg(dose))
    };
    let mut c = vec![main];
    c.extend(adulterants(rng, &[("caffeine", 0.05)]).into_iter().map(|mut a| {
        a.amount = mg(rng.random_range(10.0..50.0));
        a
    }));
    s.analyses.push(AnalysisInput {
        method: Method::Hplc,
        result: None,
        components: Some(c),
        performed_at: None,
        amends: None,
    });
    s
}

/// MDMA crystal, sometimes a cathinone sold as MDMA.
fn mdma_crystal<R: Rng>(rng: &mut R) -> SampleInput {
    let mut s = base("mdma", Form::Crystal, "translucent");
    let main = if rng.random_bool(0.05) { "3-mmc" } else { "mdma" };
    s.analyses.push(ftir(vec![comp(main, ComponentRole::Main, pct(rng.random_range(60.0..95.0)))]));
    s
}

/// Amphetamine, with caffeine; some methamphetamine.
fn amphetamine<R: Rng>(rng: &mut R) -> SampleInput {
    let mut s = base("amphetamine", Form::Powder, pick(rng, &["white", "off-white", "pink"]));
    let main = if rng.random_bool(0.08) { "methamphetamine" } else { "amphetamine" };
    let mut c = vec![comp(main, ComponentRole::Main, pct(rng.random_range(8.0..50.0)))];
    c.extend(adulterants(rng, &[("caffeine", 0.5), ("glucose", 0.3), ("creatine", 0.1), ("dimethyl-sulfone", 0.1)]));
    s.analyses.push(ftir(c));
    s
}

/// Methamphetamine crystal.
fn methamphetamine<R: Rng>(rng: &mut R) -> SampleInput {
    let mut s = base("methamphetamine", Form::Crystal, "clear");
    s.analyses.push(ftir(vec![comp("methamphetamine", ComponentRole::Main, pct(rng.random_range(70.0..98.0)))]));
    s
}

/// Ketamine, sometimes an analogue.
fn ketamine<R: Rng>(rng: &mut R) -> SampleInput {
    let mut s = base("ketamine", Form::Crystal, "white");
    let main = if rng.random_bool(0.05) { "2-fdck" } else { "ketamine" };
    s.analyses.push(ftir(vec![comp(main, ComponentRole::Main, pct(rng.random_range(70.0..98.0)))]));
    s
}

/// Benzodiazepine tablets: often bromazolam or another designer benzodiazepine.
fn benzodiazepine_tablet<R: Rng>(rng: &mut R) -> SampleInput {
    let sold = pick(rng, &["alprazolam", "clonazepam", "diazepam"]);
    let mut s = base(sold, Form::Tablet, pick(rng, &["white", "yellow", "blue"]));
    s.tablet = Some(Tablet {
        logo: Some(if sold == "alprazolam" { "Xanax" } else { "Roche" }.to_owned()),
        ..Tablet::default()
    });
    let found = if rng.random_bool(0.45) { pick(rng, &["bromazolam", "etizolam", "flualprazolam"]) } else { sold };
    s.analyses.push(AnalysisInput {
        method: Method::LcMs,
        result: None,
        components: Some(vec![comp(found, ComponentRole::Main, mg(rng.random_range(0.5..4.0)))]),
        performed_at: None,
        amends: None,
    });
    s.analyses.push(strip(Method::StripBenzodiazepine, true));
    s
}

/// Oxycodone tablets from the street: some are nitazenes or fentanyl.
fn oxycodone_tablet<R: Rng>(rng: &mut R) -> SampleInput {
    let mut s = base("oxycodone", Form::Tablet, "blue");
    s.tablet = Some(Tablet { logo: Some("M 30".to_owned()), ..Tablet::default() });
    let (main, strip_n, strip_f) = match rng.random_range(0..10) {
        0 => ("metonitazene", true, false),
        1 => ("fentanyl", false, true),
        _ => ("oxycodone", false, false),
    };
    s.analyses.push(AnalysisInput {
        method: Method::LcMs,
        result: None,
        components: Some(vec![comp(main, ComponentRole::Main, None)]),
        performed_at: None,
        amends: None,
    });
    s.analyses.push(strip(Method::StripNitazene, strip_n));
    s.analyses.push(strip(Method::StripFentanyl, strip_f));
    s
}

/// LSD blotters.
fn lsd_blotter<R: Rng>(rng: &mut R) -> SampleInput {
    let mut s = base("lsd", Form::Blotter, "printed");
    let main = if rng.random_bool(0.1) {
        comp("1p-lsd", ComponentRole::Main, None)
    } else {
        comp(
            "lsd",
            ComponentRole::Main,
            Some(Amount { value: rng.random_range(40.0..260.0_f64).round(), unit: AmountUnit::Ug }),
        )
    };
    s.analyses.push(AnalysisInput {
        method: Method::LcMs,
        result: None,
        components: Some(vec![main]),
        performed_at: None,
        amends: None,
    });
    s
}

/// Cannabis, sometimes sprayed with a synthetic cannabinoid.
fn cannabis<R: Rng>(rng: &mut R) -> SampleInput {
    let mut s = base("cannabis", Form::Plant, "green");
    let found = if rng.random_bool(0.2) { "mdmb-4en-pinaca" } else { "thc" };
    s.analyses.push(AnalysisInput {
        method: Method::GcMs,
        result: None,
        components: Some(vec![comp(found, ComponentRole::Main, None)]),
        performed_at: None,
        amends: None,
    });
    s
}

/// GHB, and the odd unknown.
fn ghb_or_unknown<R: Rng>(rng: &mut R) -> SampleInput {
    if rng.random_bool(0.7) {
        let mut s = base("ghb", Form::Liquid, "clear");
        s.analyses.push(ftir(vec![comp("ghb", ComponentRole::Main, None)]));
        s
    } else {
        let mut s = base("unknown research chemical", Form::Powder, "white");
        s.analyses.push(AnalysisInput {
            method: Method::Ftir,
            result: Some(AnalysisResult::Inconclusive),
            components: Some(vec![]),
            performed_at: None,
            amends: None,
        });
        s
    }
}

/// A year of daily counts for every demo user room, ending the day before `today`: visits around each room's usual
/// level (quieter at weekends), an overdose on some days, naloxone at most once per overdose, a few referrals.
pub fn user_room_days(seed: u64, today: jiff::civil::Date) -> Vec<varde_domain::indicator::UserRoomDay> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5553_4552_524f_4f4d);
    let mut out = Vec::new();
    for (i, s) in SERVICES.iter().filter(|s| s.kind == ServiceKind::UserRoom).enumerate() {
        let usual = 35 + 20 * i as u32;
        for back in 1..=365 {
            let Ok(day) = today.checked_sub(jiff::Span::new().days(back)) else { continue };
            let weekend = matches!(day.weekday(), jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday);
            let level = if weekend { usual * 3 / 4 } else { usual };
            let visits = rng.random_range(level * 7 / 10..=level * 13 / 10);
            // About one overdose every four days in a busy room.
            let overdoses = (0..visits).filter(|_| rng.random_bool(0.006)).count() as u32;
            let naloxone = (0..overdoses).filter(|_| rng.random_bool(0.7)).count() as u32;
            let referrals = rng.random_range(0..=3);
            out.push(varde_domain::indicator::UserRoomDay {
                service: s.slug.to_owned(),
                day,
                visits,
                overdoses,
                naloxone,
                referrals,
            });
        }
    }
    out
}

/// What a person said and later told about a result, for the demo: four in ten say what they will do, one in
/// twelve later tells what happened; the worse the finding, the more say they will not use it (the direction
/// CanTEST and others report: about one in ten discard a sample after a result, many more after a dangerous one).
pub fn feedback(
    rng: &mut ChaCha8Rng,
    tier: Option<varde_domain::Tier>,
) -> (Option<varde_domain::feedback::Intention>, Option<varde_domain::feedback::Outcome>) {
    use varde_domain::Tier;
    use varde_domain::feedback::{Effect, Intention, Outcome, UnexpectedEffect};
    // Percentages for not use, take less, lab test, as planned (the rest: not stated).
    let (not_use, take_less, lab, planned) = match tier {
        Some(Tier::Severe) => (45, 25, 10, 15),
        Some(Tier::Warning) => (20, 35, 5, 35),
        Some(Tier::Caution) => (8, 25, 2, 60),
        _ => (3, 7, 0, 85),
    };
    let intention = rng.random_bool(0.4).then(|| {
        let r = rng.random_range(0..100);
        if r < not_use {
            Intention::NotUse
        } else if r < not_use + take_less {
            Intention::TakeLess
        } else if r < not_use + take_less + lab {
            Intention::LabTest
        } else if r < not_use + take_less + lab + planned {
            Intention::AsPlanned
        } else {
            Intention::NotStated
        }
    });
    let outcome = rng.random_bool(0.08).then(|| {
        let did_not_use = match intention {
            Some(Intention::NotUse) => 0.8,
            _ => f64::from(not_use) / 100.0,
        };
        if rng.random_bool(did_not_use) {
            Outcome { used: false, effect: None, unexpected: vec![] }
        } else {
            let effect = [Effect::AsExpected, Effect::AsExpected, Effect::Stronger, Effect::Weaker, Effect::Unexpected]
                [rng.random_range(0..5)];
            let unexpected = if effect == Effect::Unexpected {
                vec![UnexpectedEffect::ALL[rng.random_range(0..UnexpectedEffect::ALL.len())]]
            } else {
                vec![]
            };
            Outcome { used: true, effect: Some(effect), unexpected }
        }
    });
    (intention, outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use varde_domain::{Catalogue, Geography};

    fn end() -> Timestamp {
        "2026-11-20T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn same_seed_same_data_other_seed_other_data() {
        let a = samples(7, end(), 200);
        let b = samples(7, end(), 200);
        let c = samples(8, end(), 200);
        assert!(
            a.iter().zip(&b).all(|(x, y)| x.code == y.code && format!("{:?}", x.input) == format!("{:?}", y.input))
        );
        assert!(a.iter().zip(&c).any(|(x, y)| x.code != y.code));
    }

    #[test]
    fn every_generated_sample_is_valid_and_labelled_and_in_the_year() {
        let cat = Catalogue::builtin().unwrap();
        for s in samples(1, end(), 3000) {
            assert_eq!(s.input.notes.as_deref(), Some(NOTE));
            let at = s.input.received_at.unwrap();
            assert!(at < end() && at > end() - SignedDuration::from_hours(366 * 24));
            let v = s.input.clone().validate(&cat, end()).unwrap_or_else(|e| panic!("{e}: {:?}", s.input));
            for r in v.sold_as.iter().filter(|r| r.substance != "unknown research chemical") {
                assert!(r.known, "{r:?} is in the catalogue");
            }
        }
    }

    /// `varde demo --samples 1000000` once failed: a sample received a minute before the end had analyses "performed"
    /// in the future. With 60,000 samples a few land in the last half hour, where that happened.
    #[test]
    fn no_analysis_is_performed_after_the_end_of_the_year() {
        for s in samples(3, end(), 60_000) {
            for a in &s.input.analyses {
                assert!(a.performed_at.unwrap() <= end(), "{:?}", s.input.received_at);
            }
        }
    }

    /// A large demo is a longer history, not a denser year: 100,000 samples cover three years.
    #[test]
    fn a_large_demo_spreads_over_years_at_a_busy_services_rate() {
        let year = SignedDuration::from_hours(365 * 24);
        let received: Vec<Timestamp> =
            samples(5, end(), 100_000).iter().map(|s| s.input.received_at.unwrap()).collect();
        let earliest = *received.iter().min().unwrap();
        assert!(earliest < end() - year * 2 && earliest > end() - year * 3, "{earliest}");
        let last_year = received.iter().filter(|t| **t > end() - year).count();
        assert!((30_000..=37_000).contains(&last_year), "about a third in the last year: {last_year}");
    }

    #[test]
    fn services_are_in_real_kommuner() {
        let geo = Geography::norway();
        assert_eq!(SERVICES.len(), 12);
        for s in SERVICES {
            assert!(geo.kommune(s.kommune).is_some(), "{}", s.kommune);
            assert!(s.name.starts_with("Demo: "));
        }
    }

    #[test]
    fn the_year_has_the_dangerous_products_a_demo_must_show() {
        let found: Vec<String> = samples(1, end(), 4000)
            .iter()
            .flat_map(|s| {
                s.input
                    .analyses
                    .iter()
                    .flat_map(|a| a.components.iter().flatten().map(|c| c.substance.clone()))
                    .collect::<Vec<_>>()
            })
            .collect();
        for needle in ["heroin", "levamisole", "phenacetin", "bromazolam", "pmma", "fentanyl", "eutylone", "3-mmc"] {
            assert!(found.iter().any(|f| f == needle), "{needle}");
        }
        assert!(found.iter().any(|f| f.contains("nitazene")));
    }
}
