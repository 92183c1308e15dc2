use super::*;
use crate::Catalogue;
use crate::method::Method;
use crate::sample::Form;
use crate::testing::A;

fn assessor() -> Assessor {
    Assessor::new(Catalogue::builtin().unwrap()).unwrap_or_else(|e| panic!("{e}"))
}

fn evidence(
    w: &Assessor,
    at: &str,
    found: Vec<(&'static str, Option<crate::sample::Amount>)>,
) -> (Sample, Vec<Finding>) {
    let sample =
        crate::testing::sample(&w.catalogue, at, &["heroin"], Form::Powder, vec![A::Found(Method::Ftir, found)]);
    let findings = w.findings(&sample);
    (sample, findings)
}

/// A draft about Oslo drafted from its evidence, as a store would hold it.
fn draft(w: &Assessor, id: i64, status: AlertStatus, tier: Tier, evidence: &[(Sample, Vec<Finding>)]) -> Alert {
    let first = evidence.iter().map(|e| e.0.received_at).min().unwrap();
    let last = evidence.iter().map(|e| e.0.received_at).max().unwrap();
    let (_, content) = w.draft(evidence, None, "03");
    Alert {
        id,
        status,
        tier,
        version: 0,
        content,
        created_at: first,
        updated_at: last,
        published_at: None,
        withdrawn_at: None,
        valid_until: None,
        evidence_count: evidence.len() as u32,
        first_evidence_at: first,
        last_evidence_at: last,
        new_evidence: false,
        confirmed_at: None,
        photo: None,
        priority: None,
    }
}

#[test]
fn the_merged_draft_covers_both_and_is_redrafted_from_the_evidence_together() {
    let w = assessor();
    let old = evidence(&w, "2026-03-01T10:00:00Z", vec![("heroin", None), ("fentanyl", None)]);
    let new = evidence(&w, "2026-03-09T10:00:00Z", vec![("heroin", None), ("fentanyl", None)]);
    let newer = evidence(&w, "2026-03-12T10:00:00Z", vec![("heroin", None), ("fentanyl", None)]);
    let from = draft(&w, 7, AlertStatus::Draft, Tier::Severe, std::slice::from_ref(&old));
    let into = draft(&w, 9, AlertStatus::Archived, Tier::Caution, &[newer.clone(), new.clone()]);
    let together = Together { newest: vec![newer.clone(), new.clone(), old.clone()], total: 3 };
    let merge = plan(&w, &from, &into, "03", together.clone()).unwrap();

    assert_eq!(merge.into.id, 9);
    assert_eq!(merge.into.status, AlertStatus::Draft, "an archived draft merged into is revived");
    assert_eq!(merge.into.tier, Tier::Severe, "the merged draft's tier is never below either's");
    assert_eq!(merge.into.first_evidence, old.0.received_at);
    assert_eq!(merge.into.last_evidence, newer.0.received_at);
    let span = EvidenceSpan { total: 3, first: old.0.received_at, last: newer.0.received_at };
    assert_eq!(merge.into.content, w.draft(&together.newest, Some(span), "03").1, "redrafted from all three");
    assert_ne!(merge.into.content, into.content, "the text tells of the evidence together");
    assert_eq!(merge.from_status, AlertStatus::Discarded);
    assert_eq!(
        merge.transitions,
        [
            (7, "merged", AlertStatus::Draft, AlertStatus::Discarded),
            (9, "evidence", AlertStatus::Archived, AlertStatus::Draft)
        ]
    );
    assert_eq!(merge.audit, ("alert.merge", "alert:7 into alert:9".to_owned()));
}

#[test]
fn the_tier_drafted_from_the_evidence_together_may_raise_it() {
    let w = assessor();
    let a = evidence(&w, "2026-03-01T10:00:00Z", vec![("heroin", None), ("fentanyl", None)]);
    let b = evidence(&w, "2026-03-02T10:00:00Z", vec![("heroin", None), ("fentanyl", None)]);
    let from = draft(&w, 1, AlertStatus::Draft, Tier::Info, std::slice::from_ref(&a));
    let into = draft(&w, 2, AlertStatus::Draft, Tier::Info, std::slice::from_ref(&b));
    let together = Together { newest: vec![b.clone(), a.clone()], total: 2 };
    let drafted = w.draft(&together.newest, None, "03").0;
    assert!(drafted > Tier::Info, "fentanyl in heroin is drafted above info");
    assert_eq!(plan(&w, &from, &into, "03", together).unwrap().into.tier, drafted);
}

#[test]
fn only_two_drafts_about_one_area_are_merged() {
    let w = assessor();
    let a = evidence(&w, "2026-03-01T10:00:00Z", vec![("heroin", None), ("fentanyl", None)]);
    let together = || Together { newest: vec![a.clone()], total: 1 };
    let d = draft(&w, 1, AlertStatus::Draft, Tier::Severe, std::slice::from_ref(&a));
    assert!(plan(&w, &d, &d, "03", together()).is_err(), "not into itself");
    let published = Alert { id: 2, status: AlertStatus::Published, ..d.clone() };
    assert!(plan(&w, &d, &published, "03", together()).is_err(), "not into a published alert");
    let discarded = Alert { id: 3, status: AlertStatus::Discarded, ..d.clone() };
    assert!(plan(&w, &discarded, &d, "03", together()).is_err(), "not from a discarded draft");
    let elsewhere =
        Alert { id: 4, content: AlertContent { fylker: vec!["46".into()], ..d.content.clone() }, ..d.clone() };
    assert!(plan(&w, &elsewhere, &d, "03", together()).is_err(), "not across areas");
    let archived = Alert { id: 5, status: AlertStatus::Archived, ..d.clone() };
    assert!(plan(&w, &archived, &d, "03", together()).is_ok(), "an archived draft may be merged");
}
