use super::*;
use crate::Catalogue;
use crate::method::Method;
use crate::sample::{AnalysisResult, Form};
use crate::testing::A;

fn assessor() -> Assessor {
    Assessor::new(Catalogue::builtin().unwrap()).unwrap_or_else(|e| panic!("{e}"))
}

/// A sample received at `at`, with its findings and product key.
struct S {
    id: i64,
    sample: Sample,
    findings: Vec<Finding>,
    key: String,
    fylke: &'static str,
    evidence_of: Vec<i64>,
}

fn fentanyl_heroin(w: &Assessor, id: i64, at: &str) -> S {
    found(w, id, at, vec![A::Found(Method::Ftir, vec![("heroin", None), ("fentanyl", None)])])
}

fn found(w: &Assessor, id: i64, at: &str, analyses: Vec<A>) -> S {
    let sample = crate::testing::sample(&w.catalogue, at, &["heroin"], Form::Powder, analyses);
    let findings = w.findings(&sample);
    let key = alert::product_key(&sample, &findings).expect("a sample worth a draft");
    S { id, sample, findings, key, fylke: "03", evidence_of: vec![] }
}

fn joiners(samples: &[S]) -> Vec<Joiner<'_>> {
    samples
        .iter()
        .map(|s| Joiner {
            sample_id: s.id,
            sample: &s.sample,
            findings: &s.findings,
            key: &s.key,
            fylke: s.fylke,
            at: s.sample.received_at,
            evidence_of: &s.evidence_of,
        })
        .collect()
}

/// An alert as comparable facts: id, status, tier, span, count, newest evidence.
type Fact = (i64, AlertStatus, Tier, Timestamp, Timestamp, usize, Vec<i64>);

/// A store in memory: writes plans as a backend does, drawing ids for new drafts in order.
#[derive(Default, Clone)]
struct Memory {
    alerts: Vec<Joinable>,
    content: std::collections::HashMap<i64, AlertContent>,
    next_id: i64,
}

impl Memory {
    /// Writes `plan`; what each joiner joined, by id.
    fn write(&mut self, plan: &Plan, joiners: &[Joiner<'_>]) -> Vec<(i64, AlertStatus, Tier)> {
        let ids: Vec<i64> = plan.drafted.iter().map(|_| self.draw()).collect();
        let id = |t: Target| match t {
            Target::Stored(id) => id,
            Target::New(n) => ids[n],
        };
        for t in &plan.touched {
            let a = match self.alerts.iter().position(|a| a.id == id(t.target)) {
                Some(p) => &mut self.alerts[p],
                None => {
                    self.alerts.push(Joinable {
                        id: id(t.target),
                        key: t.key.clone(),
                        fylke: t.fylke.clone(),
                        status: t.status,
                        tier: t.tier,
                        first_evidence: t.first_evidence,
                        last_evidence: t.last_evidence,
                        evidence_count: 0,
                        newest: vec![],
                    });
                    self.alerts.last_mut().expect("just pushed")
                }
            };
            (a.status, a.tier, a.first_evidence, a.last_evidence) =
                (t.status, t.tier, t.first_evidence, t.last_evidence);
            if let Some(c) = &t.content {
                self.content.insert(a.id, c.clone());
            }
        }
        for (target, i, _) in &plan.evidence {
            let a = self.alerts.iter_mut().find(|a| a.id == id(*target)).expect("a touched alert");
            a.evidence_count += 1;
            let j = &joiners[*i];
            place(
                &mut a.newest,
                Evidence { sample_id: j.sample_id, sample: j.sample.clone(), findings: j.findings.to_vec() },
            );
        }
        plan.joined.iter().map(|(t, status, tier)| (id(*t), *status, *tier)).collect()
    }

    fn draw(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }

    /// The alerts as comparable facts: id, status, tier, span, count, newest evidence.
    fn facts(&self) -> Vec<Fact> {
        let mut facts: Vec<_> = self
            .alerts
            .iter()
            .map(|a| {
                let newest = a.newest.iter().map(|e| e.sample_id).collect();
                (a.id, a.status, a.tier, a.first_evidence, a.last_evidence, a.evidence_count, newest)
            })
            .collect();
        facts.sort_by_key(|f| f.0);
        facts
    }
}

#[test]
fn samples_of_one_product_make_one_draft_that_escalates_with_the_third() {
    let w = assessor();
    let samples: Vec<S> = (0..4).map(|i| fentanyl_heroin(&w, 10 + i, &format!("2026-11-2{i}T12:00:00Z"))).collect();
    let plan = plan(&w, vec![], &joiners(&samples));
    assert_eq!(plan.drafted.len(), 1, "one product in one fylke is one draft");
    assert_eq!(plan.joined.iter().map(|j| j.0).collect::<Vec<_>>(), vec![Target::New(0); 4]);
    let first = plan.joined[0].2;
    assert_eq!(plan.joined[1].2, first);
    assert_eq!(plan.joined[2].2, first.raised(), "the third sample of one product raises the tier");
    assert_eq!(plan.evidence.iter().map(|e| e.1).collect::<Vec<_>>(), vec![0, 1, 2, 3]);
    let reasons: Vec<&str> = plan.transitions.iter().map(|t| t.2).collect();
    assert_eq!(reasons, ["drafted", "evidence", "evidence", "evidence"]);
    let draft = &plan.touched[0];
    assert_eq!((draft.status, draft.tier), (AlertStatus::Draft, first.raised()));
    assert_eq!(draft.first_evidence, samples[0].sample.received_at);
    assert_eq!(draft.last_evidence, samples[3].sample.received_at);
    assert_eq!(draft.updated, samples[3].sample.received_at);
    // The event tells of the draft as its first sample made it; the row holds it as all four rewrote it.
    assert_eq!(plan.drafted[0].tier, first);
    assert_ne!(plan.drafted[0].content, *draft.content.as_ref().unwrap());
}

#[test]
fn a_group_plans_what_its_samples_one_after_the_other_would() {
    let w = assessor();
    let mut samples: Vec<S> =
        (0..7).map(|i| fentanyl_heroin(&w, 20 + i, &format!("2026-11-0{}T12:00:00Z", i + 1))).collect();
    // Another product, another fylke, and one received long after (outside the window): each a draft of its own.
    samples.insert(
        3,
        found(&w, 40, "2026-11-03T12:00:00Z", vec![A::Strip(Method::StripFentanyl, AnalysisResult::Positive)]),
    );
    let mut elsewhere = fentanyl_heroin(&w, 41, "2026-11-04T12:00:00Z");
    elsewhere.fylke = "46";
    samples.insert(5, elsewhere);
    samples.push(fentanyl_heroin(&w, 42, "2026-12-20T12:00:00Z"));
    // Received before the others but registered after: among the newest evidence only by its time.
    samples.push(fentanyl_heroin(&w, 43, "2026-10-30T12:00:00Z"));
    let mut stored = Memory { next_id: 100, ..Memory::default() };
    stored.alerts.push(Joinable {
        id: 5,
        key: samples[0].key.clone(),
        fylke: "03".into(),
        status: AlertStatus::Archived,
        tier: Tier::Warning,
        first_evidence: "2026-10-25T12:00:00Z".parse().unwrap(),
        last_evidence: "2026-10-25T12:00:00Z".parse().unwrap(),
        evidence_count: 1,
        newest: vec![],
    });

    let mut together = stored.clone();
    let joined_together = together.write(&plan(&w, together.alerts.clone(), &joiners(&samples)), &joiners(&samples));
    let mut one_by_one = stored;
    let mut joined_one_by_one = Vec::new();
    for s in &samples {
        let one = joiners(std::slice::from_ref(s));
        joined_one_by_one.extend(one_by_one.write(&plan(&w, one_by_one.alerts.clone(), &one), &one));
    }

    assert_eq!(joined_together, joined_one_by_one);
    assert_eq!(together.facts(), one_by_one.facts());
    assert_eq!(together.content, one_by_one.content);
    // What that is: the archived draft revived by the first sample and joined by the other six and the late-received
    // one; the strip-only product, the other fylke and the much later sample each started a draft.
    let ids: Vec<i64> = joined_together.iter().map(|j| j.0).collect();
    assert_eq!(ids, [5, 5, 5, 101, 5, 102, 5, 5, 5, 103, 5]);
    assert_eq!(joined_together[0].1, AlertStatus::Draft);
    let revived = &together.facts()[0];
    assert_eq!((revived.5, revived.6.clone()), (9, vec![26, 25, 24, 23, 22]));
}

#[test]
fn a_published_alert_is_flagged_and_keeps_its_text_and_a_draft_never_falls_a_tier() {
    let w = assessor();
    let xylazine = |id, at| found(&w, id, at, vec![A::Found(Method::Ftir, vec![("heroin", None), ("xylazine", None)])]);
    let samples = [xylazine(1, "2026-11-02T12:00:00Z"), xylazine(2, "2026-11-02T13:00:00Z")];
    let joinable = |id, status| Joinable {
        id,
        key: samples[0].key.clone(),
        fylke: "03".into(),
        status,
        tier: Tier::Severe,
        first_evidence: "2026-11-01T12:00:00Z".parse().unwrap(),
        last_evidence: "2026-11-01T12:00:00Z".parse().unwrap(),
        evidence_count: 0,
        newest: vec![],
    };
    let published = plan(&w, vec![joinable(7, AlertStatus::Published)], &joiners(&samples[..1]));
    let t = &published.touched[0];
    assert!(t.flag_new_evidence && t.content.is_none());
    assert_eq!(
        published.transitions,
        [(
            Target::Stored(7),
            samples[0].sample.received_at,
            "evidence",
            Some(AlertStatus::Published),
            AlertStatus::Published
        )]
    );
    // A newer joinable alert is the one joined; the older one is not touched.
    let drafted =
        plan(&w, vec![joinable(7, AlertStatus::Published), joinable(8, AlertStatus::Draft)], &joiners(&samples));
    assert_eq!(drafted.touched.len(), 1);
    let t = &drafted.touched[0];
    assert_eq!((t.target, t.tier, t.flag_new_evidence), (Target::Stored(8), Tier::Severe, false));
    assert!(t.content.is_some());
    assert!(samples[0].findings.iter().all(|f| f.tier < Tier::Severe), "the evidence alone drafts below severe");
}

#[test]
fn a_sample_assessed_again_rewrites_the_draft_it_is_evidence_of_without_joining_it_twice() {
    let w = assessor();
    let mut s = fentanyl_heroin(&w, 1, "2026-11-02T12:00:00Z");
    s.evidence_of = vec![7];
    let j = Joinable {
        id: 7,
        key: s.key.clone(),
        fylke: "03".into(),
        status: AlertStatus::Draft,
        tier: Tier::Warning,
        first_evidence: s.sample.received_at,
        last_evidence: s.sample.received_at,
        evidence_count: 1,
        newest: vec![Evidence { sample_id: 1, sample: s.sample.clone(), findings: vec![] }],
    };
    let p = plan(&w, vec![j], &joiners(std::slice::from_ref(&s)));
    assert!(p.evidence.is_empty() && p.transitions.is_empty());
    assert_eq!(p.joined, [(Target::Stored(7), AlertStatus::Draft, p.touched[0].tier)]);
    let (_, content) = w.draft(
        &[(s.sample.clone(), s.findings.clone())],
        Some(EvidenceSpan { total: 1, first: s.sample.received_at, last: s.sample.received_at }),
        "03",
    );
    assert_eq!(p.touched[0].content.as_ref(), Some(&content), "written from its findings now, once");
}
