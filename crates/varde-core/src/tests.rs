//! The use cases against a transaction kept in memory: what each reads, what it writes and in what order, and that
//! a refusal writes nothing — without a database.

use super::*;
use std::cell::RefCell;
use std::future::Future;
use std::task::{Context, Poll, Waker};
use varde_domain::alert::{AlertAction, AlertEdit};
use varde_domain::catalogue::Catalogue;
use varde_domain::method::Method;
use varde_domain::sample::{Analysis, Component, ComponentRole, Form, Outcome, Status};
use varde_domain::service::ServiceSlug;
use varde_domain::{ErrorCode, Tier};

/// Runs a use case against [`Memory`], whose methods never wait.
fn now<R>(use_case: impl Future<Output = R>) -> R {
    match std::pin::pin!(use_case).as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(done) => done,
        Poll::Pending => unreachable!("memory never waits"),
    }
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn assessor() -> Assessor {
    Assessor::new(Catalogue::builtin().unwrap()).unwrap_or_else(|e| panic!("{e}"))
}

/// Heroin with fentanyl in it, by FTIR: a severe finding.
fn severe_sample(w: &Assessor, analysis_id: i64) -> Sample {
    let t = at("2026-11-02T10:00:00Z");
    let found = |n: &str| Component {
        substance: w.catalogue.resolve(n),
        role: ComponentRole::Main,
        amount: None,
        confidence: None,
    };
    let analyses = vec![Analysis {
        id: analysis_id,
        method: Method::Ftir,
        performed_at: t,
        recorded_at: t,
        outcome: Outcome::Components { components: vec![found("heroin"), found("fentanyl")], inconclusive: false },
        amends: None,
        superseded_by: None,
    }];
    Sample {
        code: SampleCode::parse("7KQ2-MX9P-4RTB").unwrap(),
        service: ServiceSlug::parse("oslo-brukerrom").unwrap(),
        received_at: t,
        registered_at: t,
        status: Status::of(&analyses),
        sold_as: vec![w.catalogue.resolve("heroin")],
        form: Form::Powder,
        colour: None,
        texture: None,
        notes: None,
        tablet: None,
        use_context: None,
        analyses,
    }
}

fn draft(w: &Assessor, id: i64) -> Alert {
    let sample = severe_sample(w, 1);
    let findings = w.findings(&sample);
    let (tier, content) = w.draft(&[(sample.clone(), findings)], None, "03");
    Alert {
        id,
        status: AlertStatus::Draft,
        tier,
        version: 0,
        content,
        created_at: sample.received_at,
        updated_at: sample.received_at,
        published_at: None,
        withdrawn_at: None,
        valid_until: None,
        evidence_count: 1,
        first_evidence_at: sample.received_at,
        last_evidence_at: sample.received_at,
        new_evidence: false,
        confirmed_at: None,
        photo: None,
        priority: None,
    }
}

/// A transaction in memory: what it reads is set up front, what it writes is logged, one line per write.
#[derive(Default)]
struct Memory {
    sample: Option<Sample>,
    /// Analysis id → (its sample, what superseded it).
    analyses: Vec<(i64, (i64, Option<i64>))>,
    alert: Option<Alert>,
    stale: Vec<i64>,
    writes: RefCell<Vec<String>>,
    events: RefCell<Vec<NewEvent>>,
}

impl Memory {
    fn wrote(&self, line: String) {
        self.writes.borrow_mut().push(line);
    }
    fn writes(&self) -> Vec<String> {
        self.writes.borrow().clone()
    }
}

impl Transaction for Memory {
    type Error = StoreError;

    async fn sample_id(&self, _code: SampleCode) -> Result<i64, StoreError> {
        self.sample.as_ref().map(|_| 1).ok_or(StoreError::UnknownSample)
    }
    async fn analysis_link(&self, id: i64) -> Result<Option<(i64, Option<i64>)>, StoreError> {
        Ok(self.analyses.iter().find(|a| a.0 == id).map(|a| a.1))
    }
    async fn insert_analysis(&self, sample: i64, a: &NewAnalysis, _at: Timestamp) -> Result<i64, StoreError> {
        self.wrote(format!("analysis of {sample} by {:?} amending {:?}", a.method, a.amends));
        Ok(9)
    }
    async fn supersede(&self, old: i64, by: i64) -> Result<(), StoreError> {
        self.wrote(format!("{old} superseded by {by}"));
        Ok(())
    }
    async fn renew_status(&self, sample: i64, _code: SampleCode) -> Result<Sample, StoreError> {
        self.wrote(format!("status of {sample}"));
        Ok(self.sample.clone().expect("a sample"))
    }
    async fn fylke_of(&self, _sample: i64) -> Result<String, StoreError> {
        Ok("03".into())
    }
    async fn replace_findings(&self, sample: i64, findings: &[Finding], _at: Timestamp) -> Result<(), StoreError> {
        let tiers: Vec<&str> = findings.iter().map(|f| f.tier.as_str()).collect();
        self.wrote(format!("findings of {sample}: {tiers:?}"));
        Ok(())
    }
    async fn alert_refs(&self, _sample: i64) -> Result<Vec<AlertRef>, StoreError> {
        Ok(vec![AlertRef { id: 4, status: AlertStatus::Published, tier: Tier::Warning }])
    }
    async fn join(&self, _assessor: &Assessor, joiners: &[Joiner<'_>]) -> Result<Vec<AlertRef>, StoreError> {
        let j = &joiners[0];
        self.wrote(format!("join {} in {} under {} (evidence of {:?})", j.sample_id, j.fylke, j.key, j.evidence_of));
        Ok(vec![AlertRef { id: 5, status: AlertStatus::Draft, tier: Tier::Severe }])
    }
    async fn audit(&self, _at: Timestamp, actor: &str, action: &str, subject: &str) -> Result<(), StoreError> {
        self.wrote(format!("audit {actor} {action} {subject}"));
        Ok(())
    }
    async fn event(&self, event: NewEvent) -> Result<(), StoreError> {
        self.wrote(format!("event {} public {}", event.kind, event.public));
        self.events.borrow_mut().push(event);
        Ok(())
    }
    async fn transition(
        &self,
        alert: i64,
        _at: Timestamp,
        actor: &str,
        reason: &str,
        from: Option<AlertStatus>,
        to: AlertStatus,
    ) -> Result<(), StoreError> {
        self.wrote(format!("transition {alert} {reason} by {actor}: {from:?} → {to:?}"));
        Ok(())
    }
    async fn alert(&self, id: i64) -> Result<Option<Alert>, StoreError> {
        Ok(self.alert.clone().filter(|a| a.id == id))
    }
    async fn alert_area(&self, _id: i64) -> Result<String, StoreError> {
        Ok("03".into())
    }
    async fn write_change(
        &self,
        id: i64,
        change: &Change,
        note: Option<&str>,
        _actor: &str,
        _at: Timestamp,
    ) -> Result<(), StoreError> {
        self.wrote(format!("alert {id} {:?} version {:?} note {note:?}", change.row, change.version));
        Ok(())
    }
    async fn together(&self, _from: i64, _into: i64) -> Result<Together, StoreError> {
        unreachable!("no merge here")
    }
    async fn write_merge(&self, _from: i64, _merge: &Merge, _at: Timestamp) -> Result<(), StoreError> {
        unreachable!("no merge here")
    }
    async fn move_stale(
        &self,
        from: AlertStatus,
        to: AlertStatus,
        _before: Timestamp,
        _at: Timestamp,
    ) -> Result<Vec<i64>, StoreError> {
        self.wrote(format!("stale {from:?} → {to:?}"));
        Ok(self.stale.clone())
    }
}

fn ftir(amends: Option<i64>) -> NewAnalysis {
    let outcome = Outcome::Components { components: vec![], inconclusive: true };
    NewAnalysis { method: Method::Ftir, performed_at: at("2026-11-02T11:00:00Z"), outcome, amends }
}

#[test]
fn an_amendment_supersedes_the_analysis_and_the_sample_is_assessed_and_joined_again() {
    let w = assessor();
    let tx = Memory { sample: Some(severe_sample(&w, 9)), analyses: vec![(2, (1, None))], ..Memory::default() };
    let code = SampleCode::parse("7KQ2-MX9P-4RTB").unwrap();
    let stored = now(check::add_analysis(&tx, &w, code, &ftir(Some(2)), "user:3", at("2026-11-02T11:00:00Z"))).unwrap();
    let writes = tx.writes();
    assert_eq!(
        writes[..4],
        [
            "analysis of 1 by Ftir amending Some(2)",
            "2 superseded by 9",
            "audit user:3 analysis.amend 7KQ2MX9P4RTB",
            "status of 1",
        ]
    );
    assert!(writes[4].starts_with("findings of 1: [\"severe\""), "{writes:?}");
    assert_eq!(writes[5], "event sample.finding public false", "findings are reported to staff only");
    assert!(writes[6].starts_with("join 1 in 03 under ") && writes[6].ends_with("(evidence of [4])"), "{writes:?}");
    assert_eq!(writes.len(), 7);
    assert_eq!(stored.alerts.iter().map(|a| a.id).collect::<Vec<_>>(), [4, 5], "known and newly joined alerts");
    assert_eq!(stored.findings.first().map(|f| f.tier), Some(Tier::Severe));
}

#[test]
fn an_analysis_that_cannot_be_amended_is_refused_before_anything_is_written() {
    let w = assessor();
    let tx = Memory { sample: Some(severe_sample(&w, 9)), analyses: vec![(2, (1, Some(3)))], ..Memory::default() };
    let code = SampleCode::parse("7KQ2-MX9P-4RTB").unwrap();
    let refused = now(check::add_analysis(&tx, &w, code, &ftir(Some(2)), "user:3", at("2026-11-02T11:00:00Z")));
    assert!(matches!(refused, Err(StoreError::Invalid { code: ErrorCode::AnalysisAlreadyAmended, .. })), "{refused:?}");
    let unknown = now(check::add_analysis(&tx, &w, code, &ftir(Some(7)), "user:3", at("2026-11-02T11:00:00Z")));
    assert!(matches!(unknown, Err(StoreError::Invalid { code: ErrorCode::UnknownAnalysis, .. })), "{unknown:?}");
    assert_eq!(tx.writes(), Vec::<String>::new());
}

#[test]
fn publishing_writes_the_row_and_version_then_records_and_announces_it_publicly() {
    let w = assessor();
    let tx = Memory { alert: Some(draft(&w, 7)), ..Memory::default() };
    let edit = AlertEdit { note: Some("checked".into()), ..AlertEdit::default() };
    now(warn::change_alert(&tx, &w, 7, AlertAction::Publish, &edit, "user:2", at("2026-11-03T09:00:00Z"))).unwrap();
    assert_eq!(
        tx.writes(),
        [
            "alert 7 Published version Some(1) note Some(\"checked\")",
            "transition 7 published by user:2: Some(Draft) → Published",
            "audit user:2 alert.published alert:7",
            "event alert.published public true",
        ]
    );
    let event = &tx.events.borrow()[0];
    assert_eq!((event.alert_id, event.fylker.as_slice()), (Some(7), ["03".to_owned()].as_slice()));
    assert_eq!(event.payload["id"], 7, "the event carries the alert as stored");
}

#[test]
fn a_discarded_draft_is_announced_to_staff_only_and_a_refused_action_writes_nothing() {
    let w = assessor();
    let tx = Memory { alert: Some(draft(&w, 7)), ..Memory::default() };
    let t = at("2026-11-03T09:00:00Z");
    now(warn::change_alert(&tx, &w, 7, AlertAction::Discard, &AlertEdit::default(), "user:2", t)).unwrap();
    assert_eq!(tx.writes().last().map(String::as_str), Some("event alert.discarded public false"));

    let tx = Memory { alert: Some(draft(&w, 7)), ..Memory::default() };
    let refused = now(warn::change_alert(&tx, &w, 7, AlertAction::Withdraw, &AlertEdit::default(), "user:2", t));
    assert!(matches!(refused, Err(StoreError::Invalid { code: ErrorCode::InvalidTransition, .. })), "{refused:?}");
    let missing = now(warn::change_alert(&tx, &w, 8, AlertAction::Publish, &AlertEdit::default(), "user:2", t));
    assert!(matches!(missing, Err(StoreError::UnknownAlert)), "{missing:?}");
    assert_eq!(tx.writes(), Vec::<String>::new());
}

#[test]
fn archiving_records_each_draft_and_audits_only_a_run_that_archived_some() {
    let (before, t) = (at("2026-11-01T00:00:00Z"), at("2026-11-22T00:00:00Z"));
    let none = Memory::default();
    assert_eq!(now(warn::archive_stale_drafts(&none, before, t)).unwrap(), 0);
    assert_eq!(none.writes(), ["stale Draft → Archived"]);

    let two = Memory { stale: vec![3, 8], ..Memory::default() };
    assert_eq!(now(warn::archive_stale_drafts(&two, before, t)).unwrap(), 2);
    assert_eq!(
        two.writes(),
        [
            "stale Draft → Archived",
            "transition 3 archived by varde: Some(Draft) → Archived",
            "transition 8 archived by varde: Some(Draft) → Archived",
            "audit varde alert.archive 2 drafts without evidence since 2026-11-01T00:00:00Z",
        ]
    );
}
