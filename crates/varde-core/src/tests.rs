//! The use cases against a transaction kept in memory: what each reads, what it writes and in what order, and that
//! a refusal writes nothing — without a database.

use super::*;
use jiff::Timestamp;
use std::future::Future;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};
use varde_domain::SampleCode;
use varde_domain::alert::{Alert, AlertStatus, Change};
use varde_domain::alert::{AlertAction, AlertEdit};
use varde_domain::assess::Assessor;
use varde_domain::catalogue::Catalogue;
use varde_domain::finding::Finding;
use varde_domain::joining::Joiner;
use varde_domain::merging::{Merge, Together};
use varde_domain::method::Method;
use varde_domain::sample::{Analysis, Component, ComponentRole, Form, Outcome, Status};
use varde_domain::sample::{NewAnalysis, Sample};
use varde_domain::service::ServiceSlug;
use varde_domain::subscription::{Channel, GIVE_UP_AFTER, Preferences};
use varde_domain::{ErrorCode, Lang, Tier};
use varde_store::port::{NewEvent, Transaction};
use varde_store::{AlertRef, StoreError};
use varde_store::{Event, Handover, MessageKind, NewSubscriber, Requested, StoredSample, Subscriber};

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
    /// Further alerts (a merge reads two).
    more: Vec<Alert>,
    stale: Vec<i64>,
    /// The subscriber a request finds: its id and whether it is confirmed.
    found: Option<(i64, bool)>,
    subscribers: Vec<Subscriber>,
    log: Vec<Event>,
    cursor: Option<i64>,
    /// How many attempts a message has had before this one.
    attempts: u32,
    signal: Option<varde_store::port::StoredSignal>,
    /// An evidence sample's photo.
    photo: Option<Vec<u8>>,
    /// Whether the row an insert would add is there already (a sample's code, a user-room day, an acknowledgement).
    there: bool,
    purged: varde_store::Purged,
    /// When the service acknowledged the alert, if it has.
    acknowledged: Option<Timestamp>,
    /// The sign-in rules, and the user a provider's subject signed in as before.
    rules: Vec<varde_domain::sign_in::SignInRule>,
    linked: Option<varde_store::LinkedUser>,
    writes: Mutex<Vec<String>>,
    events: Mutex<Vec<NewEvent>>,
}

impl Memory {
    fn wrote(&self, line: String) {
        self.writes.lock().unwrap().push(line);
    }
    fn writes(&self) -> Vec<String> {
        self.writes.lock().unwrap().clone()
    }
}

impl Transaction for Memory {
    type Error = StoreError;

    async fn service_id(&self, slug: &str) -> Result<i64, StoreError> {
        if slug == "oslo-brukerrom" { Ok(3) } else { Err(StoreError::UnknownService(slug.into())) }
    }
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
    async fn stored_sample(&self, _code: SampleCode) -> Result<Option<StoredSample>, StoreError> {
        unreachable!("not asked here")
    }
    async fn alert_refs(&self, _sample: i64) -> Result<Vec<AlertRef>, StoreError> {
        Ok(vec![AlertRef { id: 4, status: AlertStatus::Published, tier: Tier::Warning }])
    }
    async fn joinable(&self, _joiners: &[Joiner<'_>]) -> Result<Vec<varde_domain::joining::Joinable>, StoreError> {
        Ok(vec![])
    }
    async fn write_joins(
        &self,
        plan: &varde_domain::joining::Plan,
        joiners: &[Joiner<'_>],
    ) -> Result<Vec<AlertRef>, StoreError> {
        let j = &joiners[0];
        let drafted = plan.drafted.len();
        self.wrote(format!(
            "join {} in {} under {} (evidence of {:?}): {drafted} drafted",
            j.sample_id, j.fylke, j.key, j.evidence_of
        ));
        Ok(vec![AlertRef { id: 5, status: AlertStatus::Draft, tier: Tier::Severe }])
    }
    async fn audit(&self, _at: Timestamp, actor: &str, action: &str, subject: &str) -> Result<(), StoreError> {
        self.wrote(format!("audit {actor} {action} {subject}"));
        Ok(())
    }
    async fn newest_event(&self) -> Result<i64, StoreError> {
        Ok(self.log.last().map_or(0, |e| e.seq))
    }
    async fn event(&self, event: NewEvent) -> Result<(), StoreError> {
        self.wrote(format!("event {} public {}", event.kind, event.public));
        self.events.lock().unwrap().push(event);
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
        Ok(self.alert.iter().chain(&self.more).find(|a| a.id == id).cloned())
    }
    async fn alert_evidence(&self, _id: i64) -> Result<Vec<StoredSample>, StoreError> {
        unreachable!("not asked here")
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
        let w = assessor();
        let sample = severe_sample(&w, 1);
        let findings = w.findings(&sample);
        Ok(Together { newest: vec![(sample, findings)], total: 2 })
    }
    async fn write_merge(&self, from: i64, merge: &Merge, _at: Timestamp) -> Result<(), StoreError> {
        let m = &merge.into;
        self.wrote(format!(
            "merge {from} into {}: {:?} {}, {from} {:?}",
            m.id,
            m.status,
            m.tier.as_str(),
            merge.from_status
        ));
        Ok(())
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
    assert!(
        writes[6].starts_with("join 1 in 03 under ") && writes[6].ends_with("(evidence of [4]): 1 drafted"),
        "{writes:?}"
    );
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
    let event = &tx.events.lock().unwrap()[0];
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

impl varde_store::port::Reach for Memory {
    async fn subscriber_with(&self, _channel: Channel, _address: &str) -> Result<Option<(i64, bool)>, StoreError> {
        Ok(self.found)
    }
    async fn insert_subscriber(
        &self,
        new: &NewSubscriber,
        _at: Timestamp,
        confirmed: Option<Timestamp>,
    ) -> Result<i64, StoreError> {
        self.wrote(format!("new {:?} subscriber confirmed {}", new.channel, confirmed.is_some()));
        Ok(12)
    }
    async fn renew_subscriber(
        &self,
        id: i64,
        _new: &NewSubscriber,
        _at: Timestamp,
        confirmed: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        self.wrote(format!("renew {id} confirmed {}", confirmed.is_some()));
        Ok(())
    }
    async fn subscriber(&self, id: i64) -> Result<Option<Subscriber>, StoreError> {
        Ok(Some(subscriber(id, self.found.is_some_and(|f| f.1))))
    }
    async fn set_confirmed(&self, id: i64, _at: Timestamp) -> Result<(), StoreError> {
        self.wrote(format!("confirm {id}"));
        Ok(())
    }
    async fn delete_subscriber(&self, id: i64) -> Result<bool, StoreError> {
        self.wrote(format!("delete {id}"));
        Ok(true)
    }
    async fn unconfirmed_since(&self, _before: Timestamp) -> Result<Vec<i64>, StoreError> {
        Ok(vec![])
    }
    async fn enqueue(
        &self,
        subscriber: i64,
        kind: MessageKind,
        event: Option<i64>,
        _at: Timestamp,
    ) -> Result<usize, StoreError> {
        self.wrote(format!("queue {} for {subscriber} about {event:?}", kind.as_str()));
        Ok(1)
    }
    async fn fan_out_cursor(&self) -> Result<Option<i64>, StoreError> {
        Ok(self.cursor)
    }
    async fn set_fan_out_cursor(&self, seq: i64) -> Result<(), StoreError> {
        self.wrote(format!("cursor {seq}"));
        Ok(())
    }
    async fn events_after(&self, seq: i64, limit: usize) -> Result<Vec<Event>, StoreError> {
        Ok(self.log.iter().filter(|e| e.seq > seq).take(limit).cloned().collect())
    }
    async fn confirmed_subscribers(&self) -> Result<Vec<Subscriber>, StoreError> {
        self.wrote("read subscribers".into());
        Ok(self.subscribers.clone())
    }
    async fn drop_message(&self, id: i64) -> Result<(), StoreError> {
        self.wrote(format!("drop message {id}"));
        Ok(())
    }
    async fn retry_message(&self, id: i64, _due: Timestamp, _error: &str) -> Result<Option<u32>, StoreError> {
        self.wrote(format!("retry message {id}"));
        Ok(Some(self.attempts + 1))
    }
    async fn message_subscriber(&self, _id: i64) -> Result<Option<i64>, StoreError> {
        Ok(Some(12))
    }
}

fn subscriber(id: i64, confirmed: bool) -> Subscriber {
    Subscriber {
        id,
        channel: Channel::Email,
        address: format!("s{id}@example.org"),
        push_keys: None,
        preferences: Preferences { fylker: vec!["03".into()], min_tier: Tier::Warning, lang: Lang::Nb },
        nonce: "n".into(),
        created_at: at("2026-11-01T00:00:00Z"),
        confirmed_at: confirmed.then(|| at("2026-11-01T00:00:00Z")),
    }
}

fn request(channel: Channel) -> NewSubscriber {
    let preferences = Preferences { fylker: vec![], min_tier: Tier::Warning, lang: Lang::Nn };
    NewSubscriber { channel, address: "a@example.org".into(), push_keys: None, preferences, nonce: "n".into() }
}

#[test]
fn a_subscription_request_confirms_new_and_pending_addresses_and_tells_a_confirmed_one_without_changing_it() {
    let t = at("2026-11-03T09:00:00Z");
    let cases = [
        (
            Channel::Email,
            None,
            Requested::New,
            vec!["new Email subscriber confirmed false", "queue confirm for 12 about None"],
        ),
        (
            Channel::Email,
            Some((4, false)),
            Requested::StillPending,
            vec!["renew 4 confirmed false", "queue confirm for 4 about None"],
        ),
        (Channel::Email, Some((4, true)), Requested::AlreadyConfirmed, vec!["queue notice for 4 about None"]),
        (Channel::Push, None, Requested::New, vec!["new Push subscriber confirmed true"]),
        (Channel::Push, Some((4, true)), Requested::AlreadyConfirmed, vec!["renew 4 confirmed true"]),
    ];
    for (channel, found, answer, writes) in cases {
        let tx = Memory { found, ..Memory::default() };
        let (_, answered) = now(reach::request_subscription(&tx, &request(channel), t)).unwrap();
        assert_eq!(answered, answer, "{channel:?} {found:?}");
        let id = found.map_or(12, |f| f.0);
        let mut expected: Vec<String> = writes.into_iter().map(String::from).collect();
        expected.push(format!("audit public subscription.request subscriber:{id}"));
        assert_eq!(tx.writes(), expected, "{channel:?} {found:?}");
    }
}

fn alert_event(seq: i64, kind: &str, public: bool) -> Event {
    Event {
        seq,
        at: at("2026-11-03T09:00:00Z"),
        kind: kind.into(),
        public,
        tier: Some(Tier::Severe),
        fylker: vec!["03".into()],
        alert_id: Some(7),
        payload: serde_json::Value::Null,
    }
}

#[test]
fn the_fan_out_queues_what_subscribers_want_since_its_cursor_and_starts_from_now_the_first_time() {
    let t = at("2026-11-03T10:00:00Z");
    let log = vec![
        alert_event(1, "alert.published", true),
        alert_event(2, "sample.finding", false),
        alert_event(3, "alert.updated", true),
    ];
    let subscribers = vec![subscriber(20, true), subscriber(21, false)];
    let done = |queued, read| reach::FanOut { queued, more: false, read };
    let first = Memory { log: log.clone(), subscribers: subscribers.clone(), ..Memory::default() };
    assert_eq!(now(reach::fan_out(&first, t, None)).unwrap(), done(0, 3));
    assert_eq!(first.writes(), ["cursor 3"], "history is not sent to anyone");

    let since_one = Memory { log: log.clone(), subscribers, cursor: Some(1), ..Memory::default() };
    assert_eq!(now(reach::fan_out(&since_one, t, None)).unwrap(), done(1, 3));
    assert_eq!(since_one.writes(), ["read subscribers", "queue alert for 20 about Some(3)", "cursor 3"]);
}

#[test]
fn events_for_nobody_move_the_fan_out_on_without_a_write_until_a_page_of_them_has_passed() {
    let t = at("2026-11-03T10:00:00Z");
    let finding = |seq| alert_event(seq, "sample.finding", false);
    let quiet = Memory { log: vec![finding(4), finding(5)], cursor: Some(3), ..Memory::default() };
    assert_eq!(now(reach::fan_out(&quiet, t, None)).unwrap(), reach::FanOut { queued: 0, more: false, read: 5 });
    assert!(quiet.writes().is_empty(), "neither subscribers read nor cursor written: {:?}", quiet.writes());

    // The next fan-out goes on from where this instance read; one without that memory reads from the cursor.
    let later = Memory {
        log: vec![finding(4), finding(5), alert_event(6, "alert.published", true)],
        subscribers: vec![subscriber(20, true)],
        cursor: Some(3),
        ..Memory::default()
    };
    assert_eq!(now(reach::fan_out(&later, t, Some(5))).unwrap().read, 6);
    assert_eq!(later.writes(), ["read subscribers", "queue alert for 20 about Some(6)", "cursor 6"]);
    let restarted =
        Memory { log: later.log.clone(), subscribers: later.subscribers.clone(), cursor: Some(3), ..Memory::default() };
    assert_eq!(
        now(reach::fan_out(&restarted, t, None)).unwrap().queued,
        1,
        "the events for nobody queue nothing again"
    );

    // A page of events for nobody is written past, so that a restart re-reads at most a page.
    let page = reach::FAN_OUT_EVENTS as i64;
    let busy = Memory { log: (4..4 + page).map(finding).collect(), cursor: Some(3), ..Memory::default() };
    let out = now(reach::fan_out(&busy, t, None)).unwrap();
    assert_eq!((out.more, out.read), (true, 3 + page));
    assert_eq!(busy.writes(), [format!("cursor {}", 3 + page)]);
    let short = Memory { log: (4..3 + page).map(finding).collect(), cursor: Some(3), ..Memory::default() };
    now(reach::fan_out(&short, t, None)).unwrap();
    assert!(short.writes().is_empty(), "a page less one is not written");
    let remembered = Memory { log: (4..6 + page).map(finding).collect(), cursor: Some(3), ..Memory::default() };
    assert_eq!(now(reach::fan_out(&remembered, t, Some(5))).unwrap().read, 5 + page, "read on from 5, not from 3");
}

#[test]
fn settling_drops_sent_and_refused_messages_retries_failures_until_it_gives_up_and_deletes_gone_subscribers() {
    let t = at("2026-11-03T10:00:00Z");
    let retry = || Handover::Retry { error: "timeout".into(), due: t };
    let outcomes =
        vec![(1, Handover::Sent), (2, retry()), (3, Handover::Refused { error: "550".into() }), (4, Handover::Gone)];
    let early = Memory::default();
    now(reach::settle_messages(&early, &outcomes, t)).unwrap();
    assert_eq!(
        early.writes(),
        [
            "drop message 1",
            "retry message 2",
            "drop message 3",
            "delete 12",
            "audit public subscription.delete.gone subscriber:12",
        ]
    );
    let last = Memory { attempts: GIVE_UP_AFTER - 1, ..Memory::default() };
    now(reach::settle_messages(&last, &[(2, retry())], t)).unwrap();
    assert_eq!(last.writes(), ["retry message 2", "drop message 2"], "the last attempt gives up");
}

impl varde_store::port::Signals for Memory {
    async fn insert_signal(&self, _signal: &varde_store::NewSignal, _at: Timestamp) -> Result<bool, StoreError> {
        unreachable!("not asked here")
    }
    async fn signal_list(&self, _all: bool) -> Result<Vec<varde_store::Signal>, StoreError> {
        unreachable!("not asked here")
    }
    async fn signal(&self, _id: i64) -> Result<Option<varde_store::port::StoredSignal>, StoreError> {
        Ok(self.signal.clone())
    }
    async fn evidence(&self, samples: &[i64]) -> Result<Vec<(Sample, Vec<Finding>)>, StoreError> {
        let w = assessor();
        Ok(samples.iter().map(|_| severe_sample(&w, 1)).map(|s| (s.clone(), w.findings(&s))).collect())
    }
    async fn insert_draft(
        &self,
        key: &str,
        area: &str,
        draft: &varde_domain::recording::SignalDraft,
        _at: Timestamp,
    ) -> Result<i64, StoreError> {
        self.wrote(format!("draft {key} about {area} at {}", draft.tier.as_str()));
        Ok(7)
    }
    async fn add_evidence(&self, alert: i64, samples: &[i64], _at: Timestamp) -> Result<(), StoreError> {
        self.wrote(format!("evidence {samples:?} for {alert}"));
        Ok(())
    }
    async fn mark_drafted(&self, id: i64, alert: i64) -> Result<(), StoreError> {
        self.wrote(format!("signal {id} drafted into {alert}"));
        Ok(())
    }
}

impl varde_store::port::Retention for Memory {
    async fn purge(&self, _before: Timestamp) -> Result<varde_store::Purged, StoreError> {
        self.wrote("purge".into());
        Ok(self.purged)
    }
}

#[test]
fn a_draft_from_an_open_signal_carries_its_evidence_and_only_an_open_signal_is_drafted() {
    let w = assessor();
    let t = at("2026-11-03T10:00:00Z");
    let signal = |status: &str| varde_store::port::StoredSignal {
        area: "national".into(),
        stream: "fentanyl".into(),
        status: status.into(),
        evidence: vec![31, 32],
    };
    let open = Memory { signal: Some(signal("open")), alert: Some(draft(&w, 7)), ..Memory::default() };
    now(detect::draft_from_signal(&open, &w, 5, "user:2", t)).unwrap();
    assert_eq!(
        open.writes(),
        [
            "draft signal:5:fentanyl about national at severe",
            "evidence [31, 32] for 7",
            "transition 7 drafted by user:2: None → Draft",
            "signal 5 drafted into 7",
            "event alert.drafted public false",
            "audit user:2 signal.draft signal:5 alert:7",
        ]
    );
    assert_eq!(
        open.events.lock().unwrap()[0].fylker,
        Vec::<String>::new(),
        "a national signal drafts a national alert"
    );

    for (found, code) in [(Some(signal("drafted")), ErrorCode::SignalNotOpen), (None, ErrorCode::UnknownSignal)] {
        let tx = Memory { signal: found, ..Memory::default() };
        let refused = now(detect::draft_from_signal(&tx, &w, 5, "user:2", t));
        assert!(matches!(&refused, Err(StoreError::Invalid { code: c, .. }) if *c == code), "{refused:?}");
        assert_eq!(tx.writes(), Vec::<String>::new());
    }
}

#[test]
fn retention_is_audited_only_when_it_removed_something() {
    let (before, t) = (at("2026-09-01T00:00:00Z"), at("2026-11-30T00:00:00Z"));
    let nothing = Memory::default();
    now(retention::purge_before(&nothing, before, t)).unwrap();
    assert_eq!(nothing.writes(), ["purge"]);
    let purged = varde_store::Purged { photos: 2, sample_notes: 1, concern_texts: 0 };
    let some = Memory { purged, ..Memory::default() };
    assert_eq!(now(retention::purge_before(&some, before, t)).unwrap(), purged);
    assert_eq!(
        some.writes(),
        ["purge", "audit varde retention.purge before 2026-09-01T00:00:00Z: 2 photos, 1 notes, 0 concern texts"]
    );
}

impl varde_store::port::Indicators for Memory {
    async fn put_deaths(&self, _year: i32, _deaths: u32, _note: Option<&str>, _source: &str) -> Result<(), StoreError> {
        unreachable!("not asked here")
    }
    async fn insert_concern(
        &self,
        _report: &varde_domain::indicator::NewConcern,
        _at: Timestamp,
    ) -> Result<i64, StoreError> {
        unreachable!("not asked here")
    }
    async fn has_user_room_day(&self, _service: i64, _day: &str) -> Result<bool, StoreError> {
        Ok(self.there)
    }
    async fn put_user_room_day(
        &self,
        service: i64,
        day: &varde_domain::indicator::UserRoomDay,
    ) -> Result<(), StoreError> {
        self.wrote(format!("counts of {service} on {}: {} visits", day.day, day.visits));
        Ok(())
    }
}

impl varde_store::port::Acknowledgements for Memory {
    async fn insert_acknowledgement(
        &self,
        alert: i64,
        service: i64,
        _actor: &str,
        _at: Timestamp,
    ) -> Result<bool, StoreError> {
        self.wrote(format!("acknowledge {alert} by {service}"));
        Ok(!self.there)
    }
    async fn acknowledged_at(&self, _alert: i64, _service: i64) -> Result<Option<Timestamp>, StoreError> {
        Ok(self.acknowledged)
    }
    async fn remove_acknowledgement(&self, alert: i64, service: i64) -> Result<(), StoreError> {
        self.wrote(format!("remove acknowledgement of {alert} by {service}"));
        Ok(())
    }
    async fn insert_escalation(&self, _alert: i64, _slug: &str, _at: Timestamp) -> Result<bool, StoreError> {
        unreachable!("not asked here")
    }
}

#[test]
fn a_user_room_day_is_added_then_corrected_and_an_unknown_service_is_refused() {
    let t = at("2026-11-03T10:00:00Z");
    let day = |service: &str| varde_domain::indicator::UserRoomDay {
        service: service.into(),
        day: "2026-11-02".parse().unwrap(),
        visits: 41,
        overdoses: 1,
        naloxone: 1,
        referrals: 0,
    };
    let new = Memory::default();
    assert!(now(detect::record_user_room_day(&new, &day("oslo-brukerrom"), "user:4", t)).unwrap());
    assert_eq!(
        new.writes(),
        ["counts of 3 on 2026-11-02: 41 visits", "audit user:4 user_room_day.add oslo-brukerrom:2026-11-02"]
    );
    let again = Memory { there: true, ..Memory::default() };
    assert!(!now(detect::record_user_room_day(&again, &day("oslo-brukerrom"), "user:4", t)).unwrap());
    assert_eq!(again.writes()[1], "audit user:4 user_room_day.correct oslo-brukerrom:2026-11-02");
    let unknown = Memory::default();
    let refused = now(detect::record_user_room_day(&unknown, &day("bergen-x"), "user:4", t));
    assert!(matches!(refused, Err(StoreError::UnknownService(_))), "{refused:?}");
    assert_eq!(unknown.writes(), Vec::<String>::new());
}

#[test]
fn an_acknowledgement_is_audited_once_per_service() {
    let t = at("2026-11-03T10:00:00Z");
    let service = ServiceSlug::parse("oslo-brukerrom").unwrap();
    let first = Memory::default();
    assert!(now(warn::acknowledge(&first, 7, &service, "user:5", t)).unwrap());
    assert_eq!(first.writes(), ["acknowledge 7 by 3", "audit user:5 alert.acknowledge alert:7 service:oslo-brukerrom"]);
    let second = Memory { there: true, ..Memory::default() };
    assert!(!now(warn::acknowledge(&second, 7, &service, "user:5", t)).unwrap());
    assert_eq!(second.writes(), ["acknowledge 7 by 3"]);
}

#[test]
fn an_acknowledgement_is_undone_within_its_minute_and_stands_after_it() {
    let given = at("2026-11-03T10:00:00Z");
    let service = ServiceSlug::parse("oslo-brukerrom").unwrap();
    let soon = Memory { acknowledged: Some(given), ..Memory::default() };
    assert!(now(warn::undo_acknowledgement(&soon, 7, &service, "user:5", at("2026-11-03T10:01:00Z"))).unwrap());
    assert_eq!(
        soon.writes(),
        ["remove acknowledgement of 7 by 3", "audit user:5 alert.acknowledge.undo alert:7 service:oslo-brukerrom"]
    );
    let late = Memory { acknowledged: Some(given), ..Memory::default() };
    let refused = now(warn::undo_acknowledgement(&late, 7, &service, "user:5", at("2026-11-03T10:01:01Z")));
    assert!(matches!(refused, Err(StoreError::Invalid { code: ErrorCode::UndoWindowPassed, .. })), "{refused:?}");
    assert_eq!(late.writes(), Vec::<String>::new(), "a refusal writes nothing");
    let none = Memory::default();
    assert!(!now(warn::undo_acknowledgement(&none, 7, &service, "user:5", given)).unwrap());
    assert_eq!(none.writes(), Vec::<String>::new());
}

impl varde_store::port::Registration for Memory {
    async fn insert_sample(
        &self,
        code: SampleCode,
        sample: &varde_domain::sample::NewSample,
        status: Status,
        _at: Timestamp,
    ) -> Result<i64, StoreError> {
        if self.there {
            return Err(StoreError::CodeTaken);
        }
        self.wrote(format!("sample {code} from {} {}", sample.service, status.as_str()));
        Ok(1)
    }
}

#[test]
fn a_registration_stores_the_sample_and_its_analyses_then_assesses_it_as_answered_and_a_taken_code_writes_nothing() {
    let w = assessor();
    let sample = severe_sample(&w, 1);
    let new = varde_domain::sample::NewSample {
        service: sample.service.clone(),
        received_at: sample.received_at,
        sold_as: sample.sold_as.clone(),
        form: sample.form,
        colour: None,
        texture: None,
        notes: None,
        tablet: None,
        use_context: None,
        analyses: vec![NewAnalysis {
            method: Method::Ftir,
            performed_at: sample.received_at,
            outcome: sample.analyses[0].outcome.clone(),
            amends: None,
        }],
    };
    let t = at("2026-11-02T10:05:00Z");
    let tx = Memory::default();
    let stored = now(check::register(&tx, &w, sample.code, new.clone(), "user:3", t)).unwrap();
    let writes = tx.writes();
    assert_eq!(
        writes[..3],
        [
            "sample 7KQ2-MX9P-4RTB from oslo-brukerrom screened",
            "analysis of 1 by Ftir amending None",
            "audit user:3 sample.create 7KQ2MX9P4RTB"
        ]
    );
    assert!(writes[3].starts_with("findings of 1: [\"severe\""), "{writes:?}");
    assert_eq!(writes[4], "event sample.finding public false");
    assert!(writes[5].starts_with("join 1 in 03 under "), "{writes:?}");
    assert_eq!(stored.sample.analyses[0].id, 9, "the analysis as stored, with its id");
    assert_eq!(stored.sample.registered_at, t);

    let taken = Memory { there: true, ..Memory::default() };
    let refused = now(check::register(&taken, &w, sample.code, new, "user:3", t));
    assert!(matches!(refused, Err(StoreError::CodeTaken)), "{refused:?}");
    assert_eq!(taken.writes(), Vec::<String>::new());
}

impl varde_store::port::AlertPhotos for Memory {
    async fn is_evidence(&self, _alert: i64, _sample: i64) -> Result<bool, StoreError> {
        Ok(self.there)
    }
    async fn sample_photo(&self, _sample: i64) -> Result<Option<(Vec<u8>, u32, u32)>, StoreError> {
        Ok(self.photo.clone().map(|jpeg| (jpeg, 640, 480)))
    }
    async fn put_alert_photo(
        &self,
        alert: i64,
        sample: i64,
        photo: &varde_store::port::ChosenPhoto,
        _at: Timestamp,
    ) -> Result<(), StoreError> {
        self.wrote(format!("photo of {sample} for {alert}: {}x{} sha1 {}", photo.width, photo.height, photo.sha1));
        Ok(())
    }
}

#[test]
fn an_alert_photo_is_an_evidence_samples_photo_copied_with_its_digest() {
    let w = assessor();
    let t = at("2026-11-03T10:00:00Z");
    let code = SampleCode::parse("7KQ2-MX9P-4RTB").unwrap();
    let with = |there: bool, photo: Option<&[u8]>| Memory {
        sample: Some(severe_sample(&w, 1)),
        alert: Some(draft(&w, 7)),
        there,
        photo: photo.map(<[u8]>::to_vec),
        ..Memory::default()
    };
    let chosen = with(true, Some(b"abc"));
    now(warn::choose_alert_photo(&chosen, 7, code, "user:2", t)).unwrap();
    assert_eq!(
        chosen.writes(),
        [
            // SHA-1 of "abc", the FIPS 180 test vector.
            "photo of 1 for 7: 640x480 sha1 a9993e364706816aba3e25717850c26c9cd0d89d",
            "audit user:2 alert.photo alert:7 sample:7KQ2MX9P4RTB",
        ]
    );
    for (tx, why) in [(with(false, Some(b"abc")), "is not evidence"), (with(true, None), "has no photo")] {
        let refused = now(warn::choose_alert_photo(&tx, 7, code, "user:2", t));
        assert!(
            matches!(&refused, Err(StoreError::Invalid { code: ErrorCode::InvalidValue, message }) if message.contains(why)),
            "{refused:?}"
        );
        assert_eq!(tx.writes(), Vec::<String>::new());
    }
}

impl varde_store::port::Webhooks for Memory {
    async fn insert_webhook(
        &self,
        url: &str,
        _secret: &str,
        min_tier: Tier,
        _fylker: &[String],
        cursor: i64,
        _at: Timestamp,
    ) -> Result<i64, StoreError> {
        self.wrote(format!("webhook {url} from {} at {cursor}", min_tier.as_str()));
        Ok(2)
    }
    async fn insert_delivery(&self, d: &varde_store::Delivery) -> Result<(), StoreError> {
        self.wrote(format!("delivery of {} to {}: ok {}", d.event_seq, d.webhook_id, d.ok));
        Ok(())
    }
    async fn advance_webhook(&self, id: i64, seq: i64) -> Result<(), StoreError> {
        self.wrote(format!("webhook {id} past {seq}"));
        Ok(())
    }
}

#[test]
fn a_webhook_starts_at_the_newest_event_and_only_a_delivered_event_moves_its_cursor() {
    let t = at("2026-11-03T10:00:00Z");
    let tx = Memory {
        log: vec![alert_event(1, "alert.published", true), alert_event(8, "alert.updated", true)],
        ..Memory::default()
    };
    let hook = now(reach::add_webhook(&tx, "https://example.org/h", "s", Tier::Warning, &[], "user:1", t)).unwrap();
    assert_eq!((hook.id, hook.cursor), (2, 8));
    assert_eq!(tx.writes(), ["webhook https://example.org/h from warning at 8", "audit user:1 webhook.add webhook:2"]);

    let delivery = |ok| varde_store::Delivery {
        webhook_id: 2,
        event_seq: 9,
        attempt: 1,
        at: t,
        ok,
        status: Some(if ok { 200 } else { 503 }),
        error: None,
    };
    let tx = Memory::default();
    now(reach::record_delivery(&tx, &delivery(false))).unwrap();
    now(reach::record_delivery(&tx, &delivery(true))).unwrap();
    assert_eq!(tx.writes(), ["delivery of 9 to 2: ok false", "delivery of 9 to 2: ok true", "webhook 2 past 9"]);
}

impl varde_store::port::Administration for Memory {
    async fn insert_service(
        &self,
        _service: &varde_domain::service::Service,
        _at: Timestamp,
    ) -> Result<bool, StoreError> {
        unreachable!("not asked here")
    }
    async fn insert_token(
        &self,
        _token: &varde_store::NewToken,
        _service: Option<i64>,
        _at: Timestamp,
    ) -> Result<i64, StoreError> {
        unreachable!("not asked here")
    }
    async fn revoke_token(&self, _id: i64, _at: Timestamp) -> Result<bool, StoreError> {
        unreachable!("not asked here")
    }
    async fn insert_user(
        &self,
        username: &str,
        password_hash: &str,
        role: varde_domain::auth::Role,
        service: Option<i64>,
        _at: Timestamp,
    ) -> Result<Option<i64>, StoreError> {
        self.wrote(format!("user {username} {password_hash} {} {service:?}", role.as_str()));
        Ok(Some(8))
    }
    async fn user_id(&self, username: &str) -> Result<Option<i64>, StoreError> {
        Ok((username == "kari").then_some(6))
    }
    async fn set_password_hash(&self, user: i64, password_hash: &str) -> Result<(), StoreError> {
        self.wrote(format!("password of {user}: {password_hash}"));
        Ok(())
    }
    async fn end_sessions(&self, user: i64) -> Result<(), StoreError> {
        self.wrote(format!("sessions of {user} ended"));
        Ok(())
    }
    async fn set_contact(&self, _slug: &str, _email: Option<&str>) -> Result<bool, StoreError> {
        unreachable!("not asked here")
    }
    async fn set_totp(&self, user: i64, secret: Option<&str>) -> Result<(), StoreError> {
        self.wrote(format!("totp of {user}: {secret:?}"));
        Ok(())
    }
    async fn replace_recovery_codes(&self, user: i64, hashes: &[[u8; 32]]) -> Result<(), StoreError> {
        self.wrote(format!("{} recovery codes of {user}", hashes.len()));
        Ok(())
    }
    async fn accept_totp_step(&self, user: i64, step: i64) -> Result<bool, StoreError> {
        // Step 100 was accepted before: it and earlier ones are refused.
        self.wrote(format!("step {step} of {user}"));
        Ok(step > 100)
    }
    async fn use_recovery_code(&self, user: i64, hash: [u8; 32], _at: Timestamp) -> Result<bool, StoreError> {
        self.wrote(format!("recovery code of {user}"));
        Ok(hash == [7; 32])
    }
    async fn verify_session(&self, _hash: [u8; 32]) -> Result<Option<i64>, StoreError> {
        self.wrote("session verified".into());
        Ok(Some(6))
    }
    async fn sign_in_rules(&self) -> Result<Vec<varde_domain::sign_in::SignInRule>, StoreError> {
        Ok(self.rules.clone())
    }
    async fn insert_sign_in_rule(
        &self,
        rule: &varde_domain::sign_in::NewSignInRule,
        service: Option<i64>,
        _at: Timestamp,
    ) -> Result<i64, StoreError> {
        self.wrote(format!("rule {}={} {} {service:?}", rule.claim, rule.value, rule.role.as_str()));
        Ok(4)
    }
    async fn delete_sign_in_rule(&self, id: i64) -> Result<bool, StoreError> {
        self.wrote(format!("rule {id} deleted"));
        Ok(self.rules.iter().any(|r| r.id == id))
    }
    async fn linked_user(&self, _issuer: &str, _subject: &str) -> Result<Option<varde_store::LinkedUser>, StoreError> {
        Ok(self.linked.clone())
    }
    async fn link_identity(&self, issuer: &str, subject: &str, user: i64, _at: Timestamp) -> Result<(), StoreError> {
        self.wrote(format!("{issuer} {subject} is user {user}"));
        Ok(())
    }
    async fn set_role(
        &self,
        user: i64,
        role: varde_domain::auth::Role,
        service: Option<i64>,
    ) -> Result<(), StoreError> {
        self.wrote(format!("user {user} now {} {service:?}", role.as_str()));
        Ok(())
    }
    async fn passkeys_of(&self, _user: i64) -> Result<Vec<varde_store::StoredPasskey>, StoreError> {
        Ok(Vec::new())
    }
    async fn insert_passkey(
        &self,
        user: i64,
        name: &str,
        _credential: &str,
        _at: Timestamp,
    ) -> Result<i64, StoreError> {
        self.wrote(format!("passkey {name} of {user}"));
        Ok(2)
    }
    async fn passkey_used(&self, id: i64, credential: Option<&str>, _at: Timestamp) -> Result<(), StoreError> {
        self.wrote(format!("passkey {id} used, credential {}", if credential.is_some() { "updated" } else { "kept" }));
        Ok(())
    }
    async fn delete_passkey(&self, user: i64, id: i64) -> Result<bool, StoreError> {
        self.wrote(format!("passkey {id} of {user} deleted"));
        Ok(id == 2)
    }
}

/// Signing in through a provider: the first sign-in makes the user the matching rule allows (no password) and links
/// the subject; a later one brings the role in line with the rules; a disabled user or a person no rule names is
/// refused with only the audit entry written.
#[test]
fn a_sign_in_follows_the_rules_and_a_refusal_writes_only_its_audit_entry() {
    use varde_domain::auth::Role;
    use varde_domain::sign_in::{NewSignInRule, SignInRule};
    let t = at("2026-11-03T10:00:00Z");
    let rule = |id, value: &str, role, service: Option<&str>| SignInRule {
        id,
        rule: NewSignInRule {
            issuer: "entra".into(),
            claim: "groups".into(),
            value: value.into(),
            role,
            service: service.map(|s| ServiceSlug::parse(s).unwrap()),
        },
    };
    let rules = vec![rule(1, "tech", Role::Technician, Some("oslo-brukerrom")), rule(2, "rev", Role::Reviewer, None)];
    let claims = |g: &str| serde_json::json!({"groups": [g]}).as_object().unwrap().clone();
    let sign_in = |tx, g| now(identity::sign_in(tx, "entra", "sub-1", "entra-00aa", &claims(g), t));

    let tx = Memory { rules: rules.clone(), ..Memory::default() };
    assert_eq!(sign_in(&tx, "tech").unwrap(), Some((8, Role::Technician)));
    assert_eq!(
        tx.writes(),
        [
            "user entra-00aa ! technician Some(3)",
            "entra sub-1 is user 8",
            "audit oidc:entra user.add user:8 role:technician rule:1",
            "audit user:8 login.oidc issuer:entra rule:1",
        ]
    );

    let linked = varde_store::LinkedUser {
        id: 8,
        role: Role::Technician,
        service: Some(ServiceSlug::parse("oslo-brukerrom").unwrap()),
        disabled: false,
    };
    let tx = Memory { rules: rules.clone(), linked: Some(linked.clone()), ..Memory::default() };
    assert_eq!(sign_in(&tx, "tech").unwrap(), Some((8, Role::Technician)));
    assert_eq!(tx.writes(), ["audit user:8 login.oidc issuer:entra rule:1"], "nothing changed, nothing written");
    let tx = Memory { rules: rules.clone(), linked: Some(linked.clone()), ..Memory::default() };
    assert_eq!(sign_in(&tx, "rev").unwrap(), Some((8, Role::Reviewer)));
    assert_eq!(
        tx.writes(),
        [
            "user 8 now reviewer None",
            "audit oidc:entra user.role user:8 role:reviewer rule:2",
            "audit user:8 login.oidc issuer:entra rule:2",
        ]
    );

    let disabled = varde_store::LinkedUser { disabled: true, ..linked };
    let tx = Memory { rules: rules.clone(), linked: Some(disabled), ..Memory::default() };
    assert_eq!(sign_in(&tx, "rev").unwrap(), None);
    assert_eq!(tx.writes(), ["audit oidc:entra login.refused disabled"]);
    let tx = Memory { rules, ..Memory::default() };
    assert_eq!(sign_in(&tx, "staff").unwrap(), None);
    assert_eq!(tx.writes(), ["audit oidc:entra login.refused no_rule"]);

    // Keeping the rules: checked before anything is written, audited, and an unknown one is not found.
    let tx = Memory::default();
    let bad = rule(0, "x", Role::Technician, None).rule;
    assert!(matches!(now(identity::add_sign_in_rule(&tx, bad, "cli", t)), Err(StoreError::Input(_))));
    assert_eq!(tx.writes(), Vec::<String>::new());
    let good = rule(0, "rev", Role::Reviewer, None).rule;
    assert_eq!(now(identity::add_sign_in_rule(&tx, good, "cli", t)).unwrap(), 4);
    let refused = now(identity::remove_sign_in_rule(&tx, 9, "cli", t));
    assert!(matches!(refused, Err(StoreError::Invalid { code: ErrorCode::NotFound, .. })), "{refused:?}");
    assert_eq!(
        tx.writes(),
        [
            "rule groups=rev reviewer None",
            "audit cli sign_in_rule.add rule:4 issuer:entra role:reviewer",
            "rule 9 deleted"
        ]
    );
}

#[test]
fn a_new_password_ends_the_users_sessions_and_an_unknown_user_is_refused() {
    let t = at("2026-11-03T10:00:00Z");
    let tx = Memory::default();
    now(admin::set_password(&tx, "kari", "$argon2id$x", "cli", t)).unwrap();
    assert_eq!(tx.writes(), ["password of 6: $argon2id$x", "sessions of 6 ended", "audit cli user.password user:6"]);
    let none = Memory::default();
    let refused = now(admin::set_password(&none, "ola", "$argon2id$x", "cli", t));
    assert!(matches!(refused, Err(StoreError::Invalid { code: ErrorCode::NotFound, .. })), "{refused:?}");
    assert_eq!(none.writes(), Vec::<String>::new());
}

#[test]
fn merging_writes_the_plan_records_both_transitions_and_tells_staff_and_only_drafts_are_merged() {
    let w = assessor();
    let t = at("2026-11-04T10:00:00Z");
    let archived = Alert { status: AlertStatus::Archived, ..draft(&w, 9) };
    let tx = Memory { alert: Some(draft(&w, 7)), more: vec![archived], ..Memory::default() };
    now(warn::merge_alerts(&tx, &w, 7, 9, "user:2", t)).unwrap();
    assert_eq!(
        tx.writes(),
        [
            "merge 7 into 9: Draft severe, 7 Discarded",
            "transition 7 merged by user:2: Some(Draft) → Discarded",
            // An archived draft merged into is revived, as new evidence revives it.
            "transition 9 evidence by user:2: Some(Archived) → Draft",
            "audit user:2 alert.merge alert:7 into alert:9",
            "event alert.merged public false",
        ]
    );

    let published = Alert { status: AlertStatus::Published, ..draft(&w, 9) };
    let tx = Memory { alert: Some(draft(&w, 7)), more: vec![published], ..Memory::default() };
    let refused = now(warn::merge_alerts(&tx, &w, 7, 9, "user:2", t));
    assert!(matches!(refused, Err(StoreError::Invalid { code: ErrorCode::InvalidTransition, .. })), "{refused:?}");
    assert_eq!(tx.writes(), Vec::<String>::new());
}

#[test]
fn an_admin_ends_a_users_sessions_audited_and_an_unknown_user_is_refused() {
    let t = at("2026-11-03T10:00:00Z");
    let tx = Memory::default();
    now(admin::end_user_sessions(&tx, "kari", "user:1", t)).unwrap();
    assert_eq!(tx.writes(), ["sessions of 6 ended", "audit user:1 session.end.all user:6"]);
    let none = Memory::default();
    let refused = now(admin::end_user_sessions(&none, "ola", "user:1", t));
    assert!(matches!(refused, Err(StoreError::Invalid { code: ErrorCode::NotFound, .. })), "{refused:?}");
    assert_eq!(none.writes(), Vec::<String>::new());
}

/// The second factor's use cases: the app's code for a new time step passes; a step used before falls back to a
/// recovery code, which passes once it matches; anything else is refused; each outcome is audited, and only a pass
/// verifies the session.
#[test]
fn a_second_factor_passes_by_a_new_step_or_a_recovery_code_and_every_outcome_is_audited() {
    let t = at("2026-11-03T10:00:00Z");
    let tx = Memory::default();
    assert!(now(identity::pass_second_factor(&tx, [1; 32], 6, Some(101), [0; 32], t)).unwrap());
    assert_eq!(tx.writes(), ["step 101 of 6", "session verified", "audit user:6 login.second_factor totp"]);
    let tx = Memory::default();
    assert!(now(identity::pass_second_factor(&tx, [1; 32], 6, Some(100), [7; 32], t)).unwrap());
    assert_eq!(
        tx.writes(),
        ["step 100 of 6", "recovery code of 6", "session verified", "audit user:6 login.second_factor recovery_code"]
    );
    let tx = Memory::default();
    assert!(!now(identity::pass_second_factor(&tx, [1; 32], 6, None, [0; 32], t)).unwrap());
    assert_eq!(tx.writes(), ["recovery code of 6", "audit user:6 login.second_factor_failed code"]);

    let tx = Memory::default();
    now(identity::enrol_totp(&tx, [1; 32], 6, "JBSWY3DPEHPK3PXP", &[[2; 32]; 10], 200, t)).unwrap();
    assert_eq!(
        tx.writes(),
        [
            "totp of 6: Some(\"JBSWY3DPEHPK3PXP\")",
            "10 recovery codes of 6",
            "step 200 of 6",
            "session verified",
            "audit user:6 second_factor.enrol totp",
            "audit user:6 login.second_factor totp",
        ]
    );
    let tx = Memory::default();
    now(identity::reset_second_factor(&tx, "kari", "cli", t)).unwrap();
    assert_eq!(tx.writes(), ["totp of 6: None", "0 recovery codes of 6", "audit cli second_factor.reset user:6"]);
    let none = Memory::default();
    let refused = now(identity::reset_second_factor(&none, "ola", "cli", t));
    assert!(matches!(refused, Err(StoreError::Invalid { code: ErrorCode::NotFound, .. })), "{refused:?}");

    // Passkeys: added with a checked name, used to pass (the credential kept or updated), removed; all audited.
    let tx = Memory::default();
    assert_eq!(now(identity::add_passkey(&tx, 6, " Telefon ", "{}", t)).unwrap(), 2);
    now(identity::pass_with_passkey(&tx, [1; 32], 6, 2, None, t)).unwrap();
    now(identity::remove_passkey(&tx, 6, 2, t)).unwrap();
    let refused = now(identity::remove_passkey(&tx, 6, 3, t));
    assert!(matches!(refused, Err(StoreError::Invalid { code: ErrorCode::NotFound, .. })), "{refused:?}");
    assert_eq!(
        tx.writes(),
        [
            "passkey Telefon of 6",
            "audit user:6 second_factor.passkey_add passkey:2",
            "passkey 2 used, credential kept",
            "session verified",
            "audit user:6 login.second_factor passkey",
            "passkey 2 of 6 deleted",
            "audit user:6 second_factor.passkey_remove passkey:2",
            "passkey 3 of 6 deleted",
        ]
    );
    let refused = now(identity::add_passkey(&Memory::default(), 6, "kari@example.no", "{}", t));
    assert!(matches!(refused, Err(StoreError::Input(_))), "{refused:?}");
}
