//! The application: every use case of Varde behind one API ([`Application`]) that pages, the JSON API, the command
//! line and the background jobs call, served by [`Core`] over any [`Backend`]. A use case is written once, here and in
//! the area modules; a backend only runs its units of work in its transactions and answers the queries of
//! [`Queries`], which the application hands out as they are ([`Application::queries`]).

use crate::identity::Vouched;
use crate::{admin, check, detect, identity, reach, retention, warn};
use async_trait::async_trait;
use futures_util::future::BoxFuture;
use jiff::Timestamp;
use std::sync::{Arc, Mutex};
use varde_domain::SampleCode;
use varde_domain::Tier;
use varde_domain::alert::{Alert, AlertAction, AlertEdit};
use varde_domain::assess::Assessor;
use varde_domain::auth::{Principal, Role};
use varde_domain::sample::{NewAnalysis, NewSample};
use varde_domain::service::{Service, ServiceSlug};
use varde_domain::sign_in::{NewSignInRule, SignInRule};
use varde_store::port::{Backend, Turn};
use varde_store::{
    Delivery, Handover, NewAnalysisSpectrum, NewReferenceSpectrum, NewSignal, NewSubscriber, NewToken, Purged, Queries,
    Requested, Signal, StoreError, StoredPasskey, StoredSample, Subscriber, Webhook,
};

/// Varde's use cases, as the rest of the product calls them (behind an `Arc<dyn Application>`, whichever backend
/// serves it). Each writes in one transaction: all of it is stored, or none.
#[async_trait]
pub trait Application: Send + Sync + 'static {
    /// The reads that are one query and the row-level writes no use case orders, served by the backend as they are.
    fn queries(&self) -> &dyn Queries;

    async fn add_service(&self, service: Service, actor: &str, at: Timestamp) -> Result<(), StoreError>;

    async fn add_token(&self, token: NewToken, actor: &str, at: Timestamp) -> Result<i64, StoreError>;

    /// Stores a new sample under `code`. Fails with [`StoreError::CodeTaken`] if the code exists (the caller draws
    /// another) and [`StoreError::UnknownService`] if the service does not. The risk policy assesses it in the same
    /// transaction, and a finding of warning or above starts or joins an alert draft.
    async fn create_sample(
        &self,
        code: SampleCode,
        sample: NewSample,
        actor: &Principal,
        at: Timestamp,
    ) -> Result<StoredSample, StoreError>;
    /// Adds an analysis; with `amends`, the earlier analysis is kept but superseded. Findings are recomputed and
    /// the earlier ones kept as history.
    async fn add_analysis(
        &self,
        code: SampleCode,
        analysis: NewAnalysis,
        actor: &Principal,
        at: Timestamp,
    ) -> Result<StoredSample, StoreError>;
    /// Reads a sample for a national role, recording the read in the audit log.
    async fn sample_audited(
        &self,
        code: SampleCode,
        actor: &Principal,
        at: Timestamp,
    ) -> Result<Option<StoredSample>, StoreError>;
    /// The samples behind an alert, newest first. A sample-level read, so audited.
    async fn alert_evidence(&self, id: i64, actor: &Principal, at: Timestamp) -> Result<Vec<StoredSample>, StoreError>;
    /// Edits, publishes, updates or withdraws an alert, recording the transition with who and when.
    async fn change_alert(
        &self,
        id: i64,
        action: AlertAction,
        edit: AlertEdit,
        actor: &Principal,
        at: Timestamp,
    ) -> Result<Alert, StoreError>;

    /// Archives drafts whose newest evidence is older than `before` (out of the review queue until new evidence
    /// joins); returns how many.
    async fn archive_stale_drafts(&self, before: Timestamp, at: Timestamp) -> Result<usize, StoreError>;
    /// Merges draft `from` into draft `into` (same area): `from`'s samples become `into`'s evidence and `from` is
    /// discarded. Returns the merged draft.
    async fn merge_alerts(&self, from: i64, into: i64, actor: &Principal, at: Timestamp) -> Result<Alert, StoreError>;

    async fn add_webhook(
        &self,
        url: &str,
        secret: &str,
        min_tier: Tier,
        fylker: &[String],
        actor: &Principal,
        at: Timestamp,
    ) -> Result<Webhook, StoreError>;
    /// Records one delivery attempt; a successful one moves the subscriber's cursor to the event.
    async fn record_delivery(&self, delivery: Delivery) -> Result<(), StoreError>;

    /// Records signals not seen before (a stream, area and week is recorded once); returns how many were new.
    async fn record_signals(&self, signals: Vec<NewSignal>, at: Timestamp) -> Result<usize, StoreError>;
    /// Signals, newest first; only open ones unless `all`. Lists sample codes, so audited.
    async fn signals(&self, all: bool, actor: &Principal, at: Timestamp) -> Result<Vec<Signal>, StoreError>;
    /// Makes an alert draft from an open signal's evidence.
    async fn draft_from_signal(&self, id: i64, actor: &Principal, at: Timestamp) -> Result<Alert, StoreError>;

    /// Stores an anonymous concern report.
    async fn add_concern(&self, report: varde_domain::indicator::NewConcern, at: Timestamp) -> Result<(), StoreError>;
    /// Records (or corrects) a user room's counts for a day; `Ok(true)` when it was new.
    async fn upsert_user_room_day(
        &self,
        day: varde_domain::indicator::UserRoomDay,
        actor: &Principal,
        at: Timestamp,
    ) -> Result<bool, StoreError>;

    /// Adds or replaces drug-induced deaths for years (year, deaths, note, source).
    async fn import_deaths(
        &self,
        rows: Vec<(i32, u32, Option<String>, String)>,
        at: Timestamp,
    ) -> Result<usize, StoreError>;

    async fn add_user(
        &self,
        username: &str,
        password_hash: &str,
        role: Role,
        service: Option<ServiceSlug>,
        actor: &str,
        at: Timestamp,
    ) -> Result<i64, StoreError>;
    /// An enabled user by name.
    /// The technician records what the person said they will do (audited); a second recording replaces the first.
    async fn set_intention(
        &self,
        code: SampleCode,
        intention: varde_domain::feedback::Intention,
        actor: &Principal,
        at: Timestamp,
    ) -> Result<(), StoreError>;
    /// The person tells what happened (audited without any actor but "public"); a second telling replaces the first.
    async fn record_outcome(
        &self,
        code: SampleCode,
        outcome: varde_domain::feedback::Outcome,
        at: Timestamp,
    ) -> Result<(), StoreError>;
    /// Sets a user's password (audited) and ends their sessions; `not_found` for an unknown user.
    async fn set_password(
        &self,
        username: &str,
        password_hash: &str,
        actor: &str,
        at: Timestamp,
    ) -> Result<(), StoreError>;
    /// An admin ends every session of `username` (`admin::end_user_sessions`).
    async fn end_user_sessions(&self, username: &str, actor: &Principal, at: Timestamp) -> Result<(), StoreError>;
    /// Revokes a token; it stops working within the token cache's lifetime (30 s).
    async fn revoke_token(&self, id: i64, actor: &str, at: Timestamp) -> Result<(), StoreError>;

    /// Passes a session's second factor with the app's code for `step` or a recovery code (`identity::pass_second_factor`).
    async fn pass_second_factor(
        &self,
        session: [u8; 32],
        user: i64,
        step: Option<i64>,
        recovery: [u8; 32],
        at: Timestamp,
    ) -> Result<bool, StoreError>;
    /// Enrols a TOTP secret with new recovery codes and passes the session (`identity::enrol_totp`).
    async fn enrol_totp(
        &self,
        session: [u8; 32],
        user: i64,
        secret: &str,
        recovery: &[[u8; 32]],
        step: i64,
        at: Timestamp,
    ) -> Result<(), StoreError>;
    /// Removes a user's second factor (`identity::reset_second_factor`).
    async fn reset_second_factor(&self, username: &str, actor: &str, at: Timestamp) -> Result<(), StoreError>;
    /// Audits a wrong password for an existing user (`identity::login_failed`).
    async fn login_failed(&self, user: i64, at: Timestamp) -> Result<(), StoreError>;
    /// Audits a second factor refused without a code tried (`identity::second_factor_refused`).
    async fn second_factor_refused(&self, user: i64, at: Timestamp) -> Result<(), StoreError>;
    /// A person an identity provider vouched for signs in under the sign-in rules (`identity::sign_in`): their user
    /// id and role, or none when refused (audited).
    async fn sign_in(&self, person: Vouched, at: Timestamp) -> Result<Option<(i64, Role)>, StoreError>;
    /// Audits a sign-in through `issuer` refused for `reason` (`identity::sign_in_refused`).
    async fn sign_in_refused(&self, issuer: &str, reason: &str, at: Timestamp) -> Result<(), StoreError>;
    /// Every sign-in rule, oldest first.
    async fn sign_in_rules(&self) -> Result<Vec<SignInRule>, StoreError>;
    /// A user's passkeys, oldest first.
    async fn passkeys(&self, user: i64) -> Result<Vec<StoredPasskey>, StoreError>;
    /// Adds a passkey (`identity::add_passkey`); its id.
    async fn add_passkey(&self, user: i64, name: &str, credential: &str, at: Timestamp) -> Result<i64, StoreError>;
    /// Passes a session's second factor with a passkey (`identity::pass_with_passkey`).
    async fn pass_with_passkey(
        &self,
        session: [u8; 32],
        user: i64,
        id: i64,
        credential: Option<String>,
        at: Timestamp,
    ) -> Result<(), StoreError>;
    /// Removes a user's passkey (`identity::remove_passkey`).
    async fn remove_passkey(&self, user: i64, id: i64, at: Timestamp) -> Result<(), StoreError>;
    /// Adds a sign-in rule (`identity::add_sign_in_rule`); its id.
    async fn add_sign_in_rule(&self, rule: NewSignInRule, actor: &str, at: Timestamp) -> Result<i64, StoreError>;
    /// Removes a sign-in rule (`identity::remove_sign_in_rule`).
    async fn remove_sign_in_rule(&self, id: i64, actor: &str, at: Timestamp) -> Result<(), StoreError>;

    /// A reviewer chooses the photo of one of an alert's evidence samples to publish with the alert (replacing any
    /// chosen before). The photo is copied, so it stays with the alert when the sample's photo is purged.
    async fn choose_alert_photo(
        &self,
        alert: i64,
        code: SampleCode,
        actor: &Principal,
        at: Timestamp,
    ) -> Result<(), StoreError>;
    /// A technician of `service` says the alert was seen and passed on; false when that service already had.
    async fn acknowledge(
        &self,
        alert: i64,
        service: &ServiceSlug,
        actor: &Principal,
        at: Timestamp,
    ) -> Result<bool, StoreError>;

    /// Stores (or replaces) a sample's photo, already stripped of metadata.
    async fn set_photo(
        &self,
        code: SampleCode,
        jpeg: Vec<u8>,
        size: (u32, u32),
        actor: &Principal,
        at: Timestamp,
    ) -> Result<(), StoreError>;

    /// Adds a reference spectrum to the library (audited).
    async fn add_reference_spectrum(
        &self,
        spectrum: NewReferenceSpectrum,
        actor: &Principal,
        at: Timestamp,
    ) -> Result<i64, StoreError>;
    /// Attaches a spectrum to an analysis of the sample `code` (refused when the analysis is another
    /// sample's). Audited.
    async fn attach_spectrum(
        &self,
        code: SampleCode,
        spectrum: NewAnalysisSpectrum,
        actor: &Principal,
        at: Timestamp,
    ) -> Result<i64, StoreError>;
    /// Retention (privacy rule 5, docs/privacy.md): removes the photos and free-text notes of samples received before
    /// `before`, and the texts of concern reports received before it. Counts, findings and alerts stay.
    async fn purge_before(&self, before: Timestamp, at: Timestamp) -> Result<Purged, StoreError>;

    /// A subscription request (audited as `subscription.request` with the subscriber's id, never the address).
    /// Returns the subscriber as now stored and what the request found; see [`Requested`].
    async fn request_subscription(
        &self,
        new: NewSubscriber,
        at: Timestamp,
    ) -> Result<(Subscriber, Requested), StoreError>;
    /// Confirms an e-mail subscription. `not_found` when there is none, `link_used` when it was confirmed already.
    async fn confirm_subscription(&self, id: i64, at: Timestamp) -> Result<Subscriber, StoreError>;
    /// Deletes a subscriber and their waiting messages; `why` goes to the audit log (`unsubscribe`, `gone`, …).
    /// False when there was none.
    async fn delete_subscriber(&self, id: i64, why: &str, at: Timestamp) -> Result<bool, StoreError>;
    /// Deletes e-mail requests not confirmed since `before`.
    async fn purge_unconfirmed(&self, before: Timestamp, at: Timestamp) -> Result<usize, StoreError>;
    /// Queues the alert events since the last call for every confirmed subscriber who wants them (once per
    /// subscriber and event). Returns how many messages were queued, and whether events remain to be read.
    async fn fan_out(&self, at: Timestamp) -> Result<(usize, bool), StoreError>;
    /// Records how handing over messages went, all in one transaction.
    async fn settle_messages(&self, outcomes: Vec<(i64, Handover)>, at: Timestamp) -> Result<(), StoreError>;
    /// Sets or clears a service's escalation address (audited).
    async fn set_service_contact(
        &self,
        service: &ServiceSlug,
        email: Option<String>,
        actor: &str,
        at: Timestamp,
    ) -> Result<(), StoreError>;
    /// Records that an alert was escalated to a service by e-mail (audited); false if it already was.
    /// A technician of `service` takes back its acknowledgement of alert `alert` within a minute of giving it
    /// (`warn::undo_acknowledgement`); false when there was none.
    async fn undo_acknowledgement(
        &self,
        alert: i64,
        service: &ServiceSlug,
        actor: &Principal,
        at: Timestamp,
    ) -> Result<bool, StoreError>;
    async fn record_escalation(&self, alert: i64, service: &ServiceSlug, at: Timestamp) -> Result<bool, StoreError>;
}

/// The application over backend `B`.
pub struct Core<B> {
    backend: B,
    assessor: Arc<Assessor>,
    /// How far this instance's fan-out has read (see [`reach::fan_out`]).
    fan_out_read: Mutex<Option<i64>>,
}

impl<B: Backend> Core<B> {
    /// The application over `backend`, judging samples with `assessor` (the risk policy in force).
    pub fn new(backend: B, assessor: Arc<Assessor>) -> Core<B> {
        Core { backend, assessor, fan_out_read: Mutex::new(None) }
    }

    /// The backend, for what only it can do (its own maintenance).
    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// Runs a use case in a write transaction, after every write before it.
    async fn work<R, W>(&self, work: W) -> Result<R, StoreError>
    where
        R: Send + 'static,
        W: for<'t> FnOnce(&'t B::Tx<'t>) -> BoxFuture<'t, Result<R, B::Error>> + Send + 'static,
    {
        self.backend.write(Turn::Writers, work).await
    }

    async fn work_in<R, W>(&self, turn: Turn, work: W) -> Result<R, StoreError>
    where
        R: Send + 'static,
        W: for<'t> FnOnce(&'t B::Tx<'t>) -> BoxFuture<'t, Result<R, B::Error>> + Send + 'static,
    {
        self.backend.write(turn, work).await
    }
}

#[async_trait]
impl<B: Backend> Application for Core<B> {
    fn queries(&self) -> &dyn Queries {
        &self.backend
    }

    async fn add_service(&self, service: Service, actor: &str, at: Timestamp) -> Result<(), StoreError> {
        let actor = actor.to_owned();
        self.work(move |tx| Box::pin(async move { admin::add_service(tx, &service, &actor, at).await })).await
    }

    async fn add_token(&self, token: NewToken, actor: &str, at: Timestamp) -> Result<i64, StoreError> {
        let actor = actor.to_owned();
        self.work(move |tx| Box::pin(async move { admin::add_token(tx, &token, &actor, at).await })).await
    }

    async fn create_sample(
        &self,
        code: SampleCode,
        sample: NewSample,
        actor: &Principal,
        at: Timestamp,
    ) -> Result<StoredSample, StoreError> {
        if let Some(groups) = self.backend.grouped_registration() {
            return groups.register(code, sample, actor, at).await;
        }
        let actor = actor.actor.clone();
        let assessor = self.assessor.clone();
        self.work(move |tx| Box::pin(async move { check::register(tx, &assessor, code, sample, &actor, at).await }))
            .await
    }

    async fn add_analysis(
        &self,
        code: SampleCode,
        analysis: NewAnalysis,
        actor: &Principal,
        at: Timestamp,
    ) -> Result<StoredSample, StoreError> {
        let actor = actor.actor.clone();
        let assessor = self.assessor.clone();
        self.work(move |tx| {
            Box::pin(async move { check::add_analysis(tx, &assessor, code, &analysis, &actor, at).await })
        })
        .await
    }

    async fn sample_audited(
        &self,
        code: SampleCode,
        actor: &Principal,
        at: Timestamp,
    ) -> Result<Option<StoredSample>, StoreError> {
        let actor = actor.actor.clone();
        self.work(move |tx| Box::pin(async move { check::read_sample(tx, code, &actor, at).await })).await
    }

    async fn alert_evidence(&self, id: i64, actor: &Principal, at: Timestamp) -> Result<Vec<StoredSample>, StoreError> {
        let actor = actor.actor.clone();
        self.work(move |tx| Box::pin(async move { warn::read_evidence(tx, id, &actor, at).await })).await
    }

    async fn change_alert(
        &self,
        id: i64,
        action: AlertAction,
        edit: AlertEdit,
        actor: &Principal,
        at: Timestamp,
    ) -> Result<Alert, StoreError> {
        let actor = actor.actor.clone();
        let assessor = self.assessor.clone();
        self.work(move |tx| {
            Box::pin(async move { warn::change_alert(tx, &assessor, id, action, &edit, &actor, at).await })
        })
        .await
    }

    async fn archive_stale_drafts(&self, before: Timestamp, at: Timestamp) -> Result<usize, StoreError> {
        self.work(move |tx| Box::pin(async move { warn::archive_stale_drafts(tx, before, at).await })).await
    }

    async fn merge_alerts(&self, from: i64, into: i64, actor: &Principal, at: Timestamp) -> Result<Alert, StoreError> {
        let actor = actor.actor.clone();
        let assessor = self.assessor.clone();
        self.work(move |tx| Box::pin(async move { warn::merge_alerts(tx, &assessor, from, into, &actor, at).await }))
            .await
    }

    async fn add_webhook(
        &self,
        url: &str,
        secret: &str,
        min_tier: Tier,
        fylker: &[String],
        actor: &Principal,
        at: Timestamp,
    ) -> Result<Webhook, StoreError> {
        let (url, secret, fylker, actor) = (url.to_owned(), secret.to_owned(), fylker.to_vec(), actor.actor.clone());
        self.work(move |tx| {
            Box::pin(async move { reach::add_webhook(tx, &url, &secret, min_tier, &fylker, &actor, at).await })
        })
        .await
    }

    async fn record_delivery(&self, delivery: Delivery) -> Result<(), StoreError> {
        self.work(move |tx| Box::pin(async move { reach::record_delivery(tx, &delivery).await })).await
    }

    async fn record_signals(&self, signals: Vec<NewSignal>, at: Timestamp) -> Result<usize, StoreError> {
        self.work(move |tx| Box::pin(async move { detect::record_signals(tx, &signals, at).await })).await
    }

    async fn signals(&self, all: bool, actor: &Principal, at: Timestamp) -> Result<Vec<Signal>, StoreError> {
        let actor = actor.actor.clone();
        self.work(move |tx| Box::pin(async move { detect::read_signals(tx, all, &actor, at).await })).await
    }

    async fn draft_from_signal(&self, id: i64, actor: &Principal, at: Timestamp) -> Result<Alert, StoreError> {
        let actor = actor.actor.clone();
        let assessor = self.assessor.clone();
        self.work(move |tx| Box::pin(async move { detect::draft_from_signal(tx, &assessor, id, &actor, at).await }))
            .await
    }

    async fn add_concern(&self, report: varde_domain::indicator::NewConcern, at: Timestamp) -> Result<(), StoreError> {
        self.work(move |tx| Box::pin(async move { detect::add_concern(tx, &report, at).await })).await
    }

    async fn upsert_user_room_day(
        &self,
        day: varde_domain::indicator::UserRoomDay,
        actor: &Principal,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let actor = actor.actor.clone();
        self.work(move |tx| Box::pin(async move { detect::record_user_room_day(tx, &day, &actor, at).await })).await
    }

    async fn import_deaths(
        &self,
        rows: Vec<(i32, u32, Option<String>, String)>,
        at: Timestamp,
    ) -> Result<usize, StoreError> {
        self.work(move |tx| Box::pin(async move { detect::import_deaths(tx, &rows, at).await })).await
    }

    async fn add_user(
        &self,
        username: &str,
        password_hash: &str,
        role: Role,
        service: Option<ServiceSlug>,
        actor: &str,
        at: Timestamp,
    ) -> Result<i64, StoreError> {
        let (u, h, a) = (username.to_owned(), password_hash.to_owned(), actor.to_owned());
        self.work(move |tx| Box::pin(async move { admin::add_user(tx, &u, &h, role, service.as_ref(), &a, at).await }))
            .await
    }

    async fn set_intention(
        &self,
        code: SampleCode,
        intention: varde_domain::feedback::Intention,
        actor: &Principal,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let actor = actor.actor.clone();
        self.work(move |tx| Box::pin(async move { check::set_intention(tx, code, intention, &actor, at).await })).await
    }

    async fn record_outcome(
        &self,
        code: SampleCode,
        outcome: varde_domain::feedback::Outcome,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        self.work(move |tx| Box::pin(async move { check::record_outcome(tx, code, &outcome, at).await })).await
    }

    async fn set_password(
        &self,
        username: &str,
        password_hash: &str,
        actor: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let (u, h, a) = (username.to_owned(), password_hash.to_owned(), actor.to_owned());
        self.work(move |tx| Box::pin(async move { admin::set_password(tx, &u, &h, &a, at).await })).await
    }

    async fn end_user_sessions(&self, username: &str, actor: &Principal, at: Timestamp) -> Result<(), StoreError> {
        let (u, a) = (username.to_owned(), actor.actor.clone());
        self.work(move |tx| Box::pin(async move { admin::end_user_sessions(tx, &u, &a, at).await })).await
    }

    async fn revoke_token(&self, id: i64, actor: &str, at: Timestamp) -> Result<(), StoreError> {
        let actor = actor.to_owned();
        self.work(move |tx| Box::pin(async move { admin::revoke_token(tx, id, &actor, at).await })).await
    }

    async fn pass_second_factor(
        &self,
        session: [u8; 32],
        user: i64,
        step: Option<i64>,
        recovery: [u8; 32],
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        self.work(move |tx| {
            Box::pin(async move { identity::pass_second_factor(tx, session, user, step, recovery, at).await })
        })
        .await
    }

    async fn enrol_totp(
        &self,
        session: [u8; 32],
        user: i64,
        secret: &str,
        recovery: &[[u8; 32]],
        step: i64,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let (secret, recovery) = (secret.to_owned(), recovery.to_vec());
        self.work(move |tx| {
            Box::pin(async move { identity::enrol_totp(tx, session, user, &secret, &recovery, step, at).await })
        })
        .await
    }

    async fn reset_second_factor(&self, username: &str, actor: &str, at: Timestamp) -> Result<(), StoreError> {
        let (u, a) = (username.to_owned(), actor.to_owned());
        self.work(move |tx| Box::pin(async move { identity::reset_second_factor(tx, &u, &a, at).await })).await
    }

    async fn login_failed(&self, user: i64, at: Timestamp) -> Result<(), StoreError> {
        self.work(move |tx| Box::pin(async move { identity::login_failed(tx, user, at).await })).await
    }

    async fn second_factor_refused(&self, user: i64, at: Timestamp) -> Result<(), StoreError> {
        self.work(move |tx| Box::pin(async move { identity::second_factor_refused(tx, user, at).await })).await
    }

    async fn sign_in(&self, p: Vouched, at: Timestamp) -> Result<Option<(i64, Role)>, StoreError> {
        self.work(move |tx| {
            Box::pin(async move { identity::sign_in(tx, &p.issuer, &p.subject, &p.username, &p.claims, at).await })
        })
        .await
    }

    async fn sign_in_refused(&self, issuer: &str, reason: &str, at: Timestamp) -> Result<(), StoreError> {
        let (i, r) = (issuer.to_owned(), reason.to_owned());
        self.work(move |tx| Box::pin(async move { identity::sign_in_refused(tx, &i, &r, at).await })).await
    }

    async fn sign_in_rules(&self) -> Result<Vec<SignInRule>, StoreError> {
        self.work(move |tx| Box::pin(async move { identity::sign_in_rules(tx).await })).await
    }

    async fn passkeys(&self, user: i64) -> Result<Vec<StoredPasskey>, StoreError> {
        self.work(move |tx| Box::pin(async move { identity::passkeys(tx, user).await })).await
    }

    async fn add_passkey(&self, user: i64, name: &str, credential: &str, at: Timestamp) -> Result<i64, StoreError> {
        let (name, credential) = (name.to_owned(), credential.to_owned());
        self.work(move |tx| Box::pin(async move { identity::add_passkey(tx, user, &name, &credential, at).await }))
            .await
    }

    async fn pass_with_passkey(
        &self,
        session: [u8; 32],
        user: i64,
        id: i64,
        credential: Option<String>,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        self.work(move |tx| {
            Box::pin(async move { identity::pass_with_passkey(tx, session, user, id, credential.as_deref(), at).await })
        })
        .await
    }

    async fn remove_passkey(&self, user: i64, id: i64, at: Timestamp) -> Result<(), StoreError> {
        self.work(move |tx| Box::pin(async move { identity::remove_passkey(tx, user, id, at).await })).await
    }

    async fn add_sign_in_rule(&self, rule: NewSignInRule, actor: &str, at: Timestamp) -> Result<i64, StoreError> {
        let actor = actor.to_owned();
        self.work(move |tx| Box::pin(async move { identity::add_sign_in_rule(tx, rule, &actor, at).await })).await
    }

    async fn remove_sign_in_rule(&self, id: i64, actor: &str, at: Timestamp) -> Result<(), StoreError> {
        let actor = actor.to_owned();
        self.work(move |tx| Box::pin(async move { identity::remove_sign_in_rule(tx, id, &actor, at).await })).await
    }

    async fn set_photo(
        &self,
        code: SampleCode,
        jpeg: Vec<u8>,
        size: (u32, u32),
        actor: &Principal,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let actor = actor.actor.clone();
        self.work(move |tx| Box::pin(async move { check::set_photo(tx, code, &jpeg, size, &actor, at).await })).await
    }

    async fn choose_alert_photo(
        &self,
        alert: i64,
        code: SampleCode,
        actor: &Principal,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let actor = actor.actor.clone();
        self.work(move |tx| Box::pin(async move { warn::choose_alert_photo(tx, alert, code, &actor, at).await })).await
    }

    async fn acknowledge(
        &self,
        alert: i64,
        service: &ServiceSlug,
        actor: &Principal,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let (service, actor) = (service.clone(), actor.actor.clone());
        self.work(move |tx| Box::pin(async move { warn::acknowledge(tx, alert, &service, &actor, at).await })).await
    }

    async fn purge_before(&self, before: Timestamp, at: Timestamp) -> Result<Purged, StoreError> {
        self.work(move |tx| Box::pin(async move { retention::purge_before(tx, before, at).await })).await
    }

    async fn add_reference_spectrum(
        &self,
        spectrum: NewReferenceSpectrum,
        actor: &Principal,
        at: Timestamp,
    ) -> Result<i64, StoreError> {
        let actor = actor.actor.clone();
        self.work(move |tx| Box::pin(async move { check::add_reference_spectrum(tx, &spectrum, &actor, at).await }))
            .await
    }

    async fn attach_spectrum(
        &self,
        code: SampleCode,
        spectrum: NewAnalysisSpectrum,
        actor: &Principal,
        at: Timestamp,
    ) -> Result<i64, StoreError> {
        let actor = actor.actor.clone();
        self.work(move |tx| Box::pin(async move { check::attach_spectrum(tx, code, &spectrum, &actor, at).await }))
            .await
    }

    async fn request_subscription(
        &self,
        new: NewSubscriber,
        at: Timestamp,
    ) -> Result<(Subscriber, Requested), StoreError> {
        self.work(move |tx| Box::pin(async move { reach::request_subscription(tx, &new, at).await })).await
    }

    async fn confirm_subscription(&self, id: i64, at: Timestamp) -> Result<Subscriber, StoreError> {
        self.work(move |tx| Box::pin(async move { reach::confirm_subscription(tx, id, at).await })).await
    }

    async fn delete_subscriber(&self, id: i64, why: &str, at: Timestamp) -> Result<bool, StoreError> {
        let why = why.to_owned();
        self.work(move |tx| Box::pin(async move { reach::delete_subscriber(tx, id, &why, at).await })).await
    }

    async fn purge_unconfirmed(&self, before: Timestamp, at: Timestamp) -> Result<usize, StoreError> {
        self.work(move |tx| Box::pin(async move { reach::purge_unconfirmed(tx, before, at).await })).await
    }

    async fn fan_out(&self, at: Timestamp) -> Result<(usize, bool), StoreError> {
        let read = *self.fan_out_read.lock().expect("not poisoned");
        let out =
            self.work_in(Turn::FanOut, move |tx| Box::pin(async move { reach::fan_out(tx, at, read).await })).await?;
        *self.fan_out_read.lock().expect("not poisoned") = Some(out.read);
        Ok((out.queued, out.more))
    }

    async fn settle_messages(&self, outcomes: Vec<(i64, Handover)>, at: Timestamp) -> Result<(), StoreError> {
        self.work(move |tx| Box::pin(async move { reach::settle_messages(tx, &outcomes, at).await })).await
    }

    async fn set_service_contact(
        &self,
        service: &ServiceSlug,
        email: Option<String>,
        actor: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let (service, actor) = (service.clone(), actor.to_owned());
        self.work(move |tx| {
            Box::pin(async move { admin::set_service_contact(tx, &service, email.as_deref(), &actor, at).await })
        })
        .await
    }

    async fn undo_acknowledgement(
        &self,
        alert: i64,
        service: &ServiceSlug,
        actor: &Principal,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let (service, actor) = (service.clone(), actor.actor.clone());
        self.work(move |tx| Box::pin(async move { warn::undo_acknowledgement(tx, alert, &service, &actor, at).await }))
            .await
    }

    async fn record_escalation(&self, alert: i64, service: &ServiceSlug, at: Timestamp) -> Result<bool, StoreError> {
        let service = service.clone();
        self.work(move |tx| Box::pin(async move { warn::record_escalation(tx, alert, &service, at).await })).await
    }
}
