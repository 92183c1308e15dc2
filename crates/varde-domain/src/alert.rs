//! Alert drafts: which samples are the same product, how many make a warning stronger, and the first text a
//! reviewer edits. Pure: the store finds the matching draft; this module decides what matches and what it says.

use crate::error::ErrorCode;
use crate::finding::Finding;
use crate::lang::{Lang, Localized};
use crate::sample::{ComponentRole, Form, Outcome, Sample};
use crate::text::fold;
use crate::tier::Tier;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Samples of one product in one fylke join one draft if they arrive within this many days of each other.
pub const JOIN_WINDOW_DAYS: i64 = 14;
/// A draft with no new evidence for this many days leaves the review queue (archived; revived by new evidence).
pub const ARCHIVE_AFTER_DAYS: i64 = 21;
/// The transition of a draft archived for want of new evidence: (reason, from, to).
pub const ARCHIVING: (&str, AlertStatus, AlertStatus) = ("archived", AlertStatus::Draft, AlertStatus::Archived);

/// This many samples of one product raise the draft's tier one step (capped at severe).
pub const ESCALATE_AT: usize = 3;

/// The tier from which a finding makes an alert draft.
pub const DRAFT_FROM: Tier = Tier::Warning;

/// How a draft names a substance the catalogue does not know (privacy rule 7: never the name as typed).
pub const UNKNOWN_SUBSTANCE: &str = "unknown-substance";

/// What makes two samples "the same product": form, main composition, what made them dangerous, and for tablets
/// the logo and colour. `None` when nothing in the sample is worth a draft.
pub fn product_key(sample: &Sample, findings: &[Finding]) -> Option<String> {
    let danger: BTreeSet<String> = findings.iter().filter(|f| f.tier >= DRAFT_FROM).flat_map(danger_of).collect();
    if danger.is_empty() {
        return None;
    }
    let mut main: BTreeSet<String> = BTreeSet::new();
    for a in sample.current_analyses() {
        if let Outcome::Components { components, .. } = &a.outcome {
            main.extend(
                components.iter().filter(|c| c.role == ComponentRole::Main).map(|c| c.substance.substance.clone()),
            );
        }
    }
    if main.is_empty() {
        main.extend(sample.sold_as.iter().map(|s| format!("sold:{}", s.substance)));
    }
    let join = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join("+");
    let mut key = format!("{}|{}|{}", sample.form.as_str(), join(&main), join(&danger));
    if sample.form.has_tablet_fields() {
        let logo = sample.tablet.as_ref().and_then(|t| t.logo.as_deref()).map(fold).unwrap_or_default();
        let colour = sample.colour.as_deref().map(fold).unwrap_or_default();
        key.push_str(&format!("|{logo}|{colour}"));
    }
    Some(key)
}

/// The tier of a draft: the highest finding among its samples, one step higher from [`ESCALATE_AT`] samples.
pub fn draft_tier(evidence: &[(Sample, Vec<Finding>)]) -> Tier {
    tier_for(evidence, evidence.len())
}

/// The tier for `total` samples, of which `evidence` are at hand.
pub(crate) fn tier_for(evidence: &[(Sample, Vec<Finding>)], total: usize) -> Tier {
    let base = evidence.iter().flat_map(|(_, f)| f.iter().map(|f| f.tier)).max().unwrap_or(Tier::Info);
    if total >= ESCALATE_AT { base.raised() } else { base }
}

/// How many samples of a draft's evidence its text is written from (the newest); counts and dates cover all.
pub const DRAFT_FROM_NEWEST: usize = 5;

/// What a draft says about all its evidence, when only the newest samples are at hand.
#[derive(Debug, Clone, Copy)]
pub struct EvidenceSpan {
    pub total: usize,
    pub first: jiff::Timestamp,
    pub last: jiff::Timestamp,
}

/// The product as the public will recognise it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Product {
    pub form: Form,
    pub colour: Option<String>,
    pub logo: Option<String>,
    /// Sold as (catalogue ids or names as given).
    pub sold_as: Vec<String>,
    /// The highest amount per unit found of the main substance, in mg, for tablets and capsules.
    pub mg_per_unit: Option<f64>,
}

/// An alert's text and facts, as drafted and as reviewers edit it. Every text in three languages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertContent {
    pub title: Localized,
    pub body: Localized,
    pub advice: Localized,
    pub uncertainty: Localized,
    pub product: Product,
    /// What made the product dangerous: catalogue ids, names as given, or strip methods.
    pub substances: Vec<String>,
    /// Two-digit fylkesnummer; empty means national.
    pub fylker: Vec<String>,
    /// Whether a laboratory method confirmed the finding in at least one sample.
    #[serde(default)]
    pub lab_confirmed: bool,
}

/// The statuses an alert of a sample's product and fylke can have and still take the sample as evidence (within
/// [`JOIN_WINDOW_DAYS`] of its evidence): anything else (withdrawn, expired, discarded) makes a new draft.
pub const JOINABLE: [AlertStatus; 3] = [AlertStatus::Draft, AlertStatus::Published, AlertStatus::Archived];

/// What a sample that calls for an alert does to the alert it joins, decided here once for every storage backend:
/// the backend finds the newest joinable alert (or none, and drafts a new one) and carries this out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Joining {
    /// The alert's status afterwards.
    pub status: AlertStatus,
    /// The transition to record, with its reason (`revived`, `evidence`); none when the sample already was evidence.
    pub transition: Option<(&'static str, AlertStatus)>,
    /// Rewrite the draft's text and tier from its evidence (tiers only rise: see the backend's redraft).
    pub redraft: bool,
    /// Tell the reviewers that a published alert has new evidence.
    pub flag_new_evidence: bool,
}

/// New evidence for an alert in `status`; `added` is false when the sample already was its evidence (an amended
/// analysis assessed again), which changes nothing but the draft's text.
pub fn join(status: AlertStatus, added: bool) -> Joining {
    match (status, added) {
        // New evidence brings an archived draft back to the review queue.
        (AlertStatus::Archived, true) => Joining {
            status: AlertStatus::Draft,
            transition: Some(("revived", AlertStatus::Draft)),
            redraft: true,
            flag_new_evidence: false,
        },
        (status, added) => Joining {
            status,
            transition: added.then_some(("evidence", status)),
            redraft: status == AlertStatus::Draft,
            flag_new_evidence: added && status != AlertStatus::Draft,
        },
    }
}

/// Where an alert is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum AlertStatus {
    /// Written by Varde, waiting for a reviewer. Not public.
    Draft,
    /// Public. Updates keep it published with a new version.
    Published,
    /// Taken back by a reviewer after publication; stays visible as withdrawn (CAP Cancel) so that those who saw it
    /// learn it no longer holds.
    Withdrawn,
    /// Past its validity period.
    Expired,
    /// A draft a reviewer set aside without publishing. Never public: reviewers alone see it.
    Discarded,
    /// A draft with no new evidence for [`ARCHIVE_AFTER_DAYS`]: out of the review queue, never public, found by
    /// reviewers with `status=archived`; new evidence that joins it makes it a draft again.
    Archived,
}

impl AlertStatus {
    pub const ALL: [AlertStatus; 6] = [
        AlertStatus::Draft,
        AlertStatus::Published,
        AlertStatus::Withdrawn,
        AlertStatus::Expired,
        AlertStatus::Discarded,
        AlertStatus::Archived,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Draft => "draft",
            AlertStatus::Published => "published",
            AlertStatus::Withdrawn => "withdrawn",
            AlertStatus::Expired => "expired",
            AlertStatus::Discarded => "discarded",
            AlertStatus::Archived => "archived",
        }
    }

    pub fn parse(s: &str) -> Option<AlertStatus> {
        AlertStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Whether anyone may see an alert in this status: only what was once published.
    pub fn is_public(self) -> bool {
        matches!(self, AlertStatus::Published | AlertStatus::Withdrawn | AlertStatus::Expired)
    }
}

/// What a reviewer does to an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertAction {
    Edit,
    Publish,
    Update,
    Withdraw,
    Discard,
    /// A reviewer confirms a published alert still holds (new evidence, or none against it): a new version, valid
    /// for the default period from now.
    Reconfirm,
}

/// Whether draft `from` may be merged into draft `into`: two different alerts, each a draft (or archived draft), about
/// the same area. The reason when not.
pub fn may_merge(from: &Alert, into: &Alert) -> Result<(), String> {
    if from.id == into.id {
        return Err("a draft cannot be merged into itself".into());
    }
    for x in [from, into] {
        if !matches!(x.status, AlertStatus::Draft | AlertStatus::Archived) {
            return Err(format!("alert {} is {}: only drafts are merged", x.id, x.status.as_str()));
        }
    }
    if from.content.fylker != into.content.fylker {
        return Err("drafts about different areas are not merged".into());
    }
    Ok(())
}

/// The lifecycle: draft → published → (updated …) → withdrawn or expired, or draft → discarded. Drafts are edited,
/// published alerts updated (each update a new version). Only what was published can be withdrawn: withdrawal is
/// itself a public message (CAP Cancel), so withdrawing a draft would publish it; a draft is discarded instead.
pub fn transition(from: AlertStatus, action: AlertAction) -> Result<AlertStatus, String> {
    use AlertAction::*;
    use AlertStatus::*;
    match (from, action) {
        (Draft, Edit) => Ok(Draft),
        (Draft, Publish) => Ok(Published),
        (Draft | Archived, Discard) => Ok(Discarded),
        (Published, Update | Reconfirm) => Ok(Published),
        (Published, Withdraw) => Ok(Withdrawn),
        (Draft, Withdraw) => Err("a draft was never public, so it cannot be withdrawn: discard it".into()),
        (Published, Discard) => Err("a published alert is withdrawn, not discarded".into()),
        (Published, Edit) => Err("a published alert is changed with update, which makes a new version".into()),
        (Published, Publish) => Err("the alert is already published".into()),
        (Draft, Update) => Err("a draft is edited, not updated; publish it first".into()),
        (Draft, Reconfirm) => Err("only a published alert is re-confirmed; publish the draft first".into()),
        (Archived, _) => {
            Err("an archived draft comes back as a draft when new evidence joins it; until then it can be discarded"
                .into())
        }
        (Withdrawn | Expired | Discarded, _) => Err(format!("a {} alert cannot be changed", from.as_str())),
    }
}

/// What a reviewer's action does to an alert, decided before anything is written: both stores write exactly this.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub from: AlertStatus,
    pub to: AlertStatus,
    /// The transition's name; also the audit action (`alert.{kind}`) and a new version's kind.
    pub kind: &'static str,
    /// The text and tier with the edit applied (what the alert row and a new version hold).
    pub content: AlertContent,
    pub tier: Tier,
    pub valid_until: Option<jiff::Timestamp>,
    /// What happens to the stored alert.
    pub row: RowChange,
    /// A new public version and its number.
    pub version: Option<u32>,
    /// The event that reports it (public when `to` is).
    pub event: Option<&'static str>,
}

/// How a reviewer's action changes the stored alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowChange {
    /// A draft edited: text, tier and validity replaced.
    Edited,
    /// Published, updated or re-confirmed: text, tier, validity and version replaced, the first publication kept,
    /// the new evidence seen.
    Published,
    /// A draft set aside: status and time only (never public, so no version).
    Discarded,
    /// A publication withdrawn: status, time and version (the withdrawal is a public version with the text as
    /// edited; the alert's text stays what was published).
    Withdrawn,
}

/// Why an action was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum Refused {
    /// Not a step of the lifecycle (see [`transition`]).
    Transition(String),
    /// The edit fails its checks.
    Input(crate::sample::InvalidInput),
}

impl Change {
    pub fn of(
        alert: &Alert,
        action: AlertAction,
        edit: &AlertEdit,
        geography: &crate::Geography,
        at: jiff::Timestamp,
    ) -> Result<Change, Refused> {
        let from = alert.status_at(at);
        let to = transition(from, action).map_err(Refused::Transition)?;
        let mut content = alert.content.clone();
        edit.apply(&mut content, geography, at).map_err(Refused::Input)?;
        let tier = edit.tier.unwrap_or(alert.tier);
        let kept = edit.valid_until.or(alert.valid_until);
        // A publication or re-confirmation without a validity period is valid for the default period from now (a
        // re-confirmation says the alert still holds); an update keeps the validity it had.
        let fresh = Some(edit.valid_until.unwrap_or(at + jiff::SignedDuration::from_hours(DEFAULT_VALIDITY_DAYS * 24)));
        let next = Some(alert.version + 1);
        let (kind, row, valid_until, version, event) = match action {
            AlertAction::Edit => ("edited", RowChange::Edited, kept, None, None),
            AlertAction::Publish => ("published", RowChange::Published, fresh, next, Some("alert.published")),
            // Subscribers and CAP see a re-confirmation as what it is on the wire: an update.
            AlertAction::Reconfirm => ("reconfirmed", RowChange::Published, fresh, next, Some("alert.updated")),
            AlertAction::Update => ("updated", RowChange::Published, kept.or(fresh), next, Some("alert.updated")),
            AlertAction::Discard => ("discarded", RowChange::Discarded, kept, None, Some("alert.discarded")),
            AlertAction::Withdraw => ("withdrawn", RowChange::Withdrawn, kept, next, Some("alert.withdrawn")),
        };
        Ok(Change { from, to, kind, content, tier, valid_until, row, version, event })
    }
}

/// An alert as stored, with its current content. Events carry it as their payload, and subscribers' messages are
/// written from that copy (the version the event announced), so it reads back too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Alert {
    pub id: i64,
    pub status: AlertStatus,
    pub tier: Tier,
    /// Published versions so far (0 for a draft).
    pub version: u32,
    #[serde(flatten)]
    pub content: AlertContent,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: jiff::Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: jiff::Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub published_at: Option<jiff::Timestamp>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub withdrawn_at: Option<jiff::Timestamp>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub valid_until: Option<jiff::Timestamp>,
    pub evidence_count: u32,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub first_evidence_at: jiff::Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub last_evidence_at: jiff::Timestamp,
    /// Samples joined after the last publication: a reviewer may want to update.
    pub new_evidence: bool,
    /// When a reviewer last published, updated or re-confirmed it: how current the public should take it to be.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub confirmed_at: Option<jiff::Timestamp>,
    /// The pill photo a reviewer chose to publish with the alert.
    #[serde(skip_serializing_if = "Option::is_none", skip_deserializing)]
    pub photo: Option<AlertPhoto>,
    /// For a draft in the review queue: its place, 1 the most urgent (see [`review_order`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<u32>,
}

impl Alert {
    /// The alert as the public may see it: the moments that follow from its samples (the first and the last
    /// evidence, and the draft's creation, which happens as its first sample is registered) are given as the day
    /// they fell on in Norway, never the time of day (privacy rule 2 in docs/privacy.md: alerts may name the day). With one
    /// sample at the only service in its fylke, a time to the millisecond would say when that person came.
    pub fn public_view(mut self) -> Alert {
        let day_of = |t: jiff::Timestamp| -> jiff::Timestamp {
            let oslo = jiff::tz::TimeZone::get("Europe/Oslo").unwrap_or(jiff::tz::TimeZone::UTC);
            t.to_zoned(oslo).start_of_day().map_or(t, |d| d.timestamp())
        };
        self.first_evidence_at = day_of(self.first_evidence_at);
        self.last_evidence_at = day_of(self.last_evidence_at);
        self.created_at = day_of(self.created_at);
        self
    }

    /// The status as the public sees it at `now`: a published alert past its validity period has expired.
    pub fn status_at(&self, now: jiff::Timestamp) -> AlertStatus {
        match (self.status, self.valid_until) {
            (AlertStatus::Published, Some(until)) if until <= now => AlertStatus::Expired,
            (s, _) => s,
        }
    }
}

/// The review queue's order, most urgent first: tier, then evidence count, then lab confirmation, then the newest
/// evidence. Sort drafts by this key (ascending).
pub fn review_order(a: &Alert) -> impl Ord + use<> {
    use std::cmp::Reverse;
    (Reverse(a.tier), Reverse(a.evidence_count), Reverse(a.content.lab_confirmed), Reverse(a.last_evidence_at), a.id)
}

/// A photo published with an alert: a JPEG without metadata, served at `href`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertPhoto {
    /// Path of the image on this server, e.g. `/alerts/12/photo.jpg`.
    pub href: String,
    pub mime_type: &'static str,
    /// Bytes.
    pub size: u64,
    pub width: u32,
    pub height: u32,
    /// Hex SHA-1 of the file (CAP 1.2's resource digest).
    pub sha1: String,
}

/// A chosen photo's facts as stored.
#[derive(Debug, Clone, Deserialize)]
pub struct PhotoFacts {
    pub size: u64,
    pub width: u32,
    pub height: u32,
    pub sha1: String,
}

impl PhotoFacts {
    /// The photo of alert `id`.
    pub fn at(self, id: i64) -> AlertPhoto {
        AlertPhoto {
            href: format!("/alerts/{id}/photo.jpg"),
            mime_type: "image/jpeg",
            size: self.size,
            width: self.width,
            height: self.height,
            sha1: self.sha1,
        }
    }
}

/// A severe alert still not acknowledged by a service it reaches this many hours after publication is escalated.
pub const ESCALATE_AFTER_HOURS: i64 = 4;

/// Whether a published alert asks a service in `service_fylke` to acknowledge it: warnings and severe alerts reach
/// the services in their area (every service for a national alert), and with `severe_everywhere` severe alerts reach
/// every service in the country.
pub fn reaches(alert: &Alert, service_fylke: &str, severe_everywhere: bool) -> bool {
    alert.tier >= Tier::Warning
        && (alert.content.fylker.is_empty()
            || alert.content.fylker.iter().any(|f| f == service_fylke)
            || (severe_everywhere && alert.tier == Tier::Severe))
}

/// Whether a service's missing acknowledgement of `alert` is overdue at `now`, `after` publication (by default
/// [`ESCALATE_AFTER_HOURS`]).
pub fn overdue(alert: &Alert, now: jiff::Timestamp, after: jiff::SignedDuration) -> bool {
    alert.tier == Tier::Severe && alert.published_at.is_some_and(|p| now.duration_since(p) >= after)
}

/// What a reviewer narrows the queue to.
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    pub min_tier: Option<Tier>,
    /// Two-digit fylkesnummer.
    pub fylke: Option<String>,
    /// Drafts about a substance of this class.
    pub class: Option<crate::SubstanceClass>,
}

/// The review queue: the drafts that pass `filter`, most urgent first, each with its place in the whole queue.
pub fn review_queue(mut drafts: Vec<Alert>, filter: &QueueFilter, catalogue: &crate::Catalogue) -> Vec<Alert> {
    drafts.retain(|a| a.status == AlertStatus::Draft);
    drafts.sort_by_key(review_order);
    for (i, a) in drafts.iter_mut().enumerate() {
        a.priority = Some(i as u32 + 1);
    }
    drafts.retain(|a| {
        filter.min_tier.is_none_or(|t| a.tier >= t)
            && filter.fylke.as_ref().is_none_or(|f| a.content.fylker.is_empty() || a.content.fylker.contains(f))
            && filter
                .class
                .is_none_or(|c| a.content.substances.iter().any(|s| catalogue.get(s).is_some_and(|x| x.class == c)))
    });
    drafts
}

/// A published alert about the same danger in the same area as `draft`, if any: the reviewer may update it rather
/// than publish a second warning.
pub fn similar_published<'a>(draft: &Alert, published: &'a [Alert]) -> Option<&'a Alert> {
    published.iter().find(|p| {
        p.status == AlertStatus::Published
            && p.content.fylker == draft.content.fylker
            && p.content.substances.iter().any(|s| draft.content.substances.contains(s))
    })
}

/// One publication, update or withdrawal, as it was.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertVersion {
    pub version: u32,
    /// published, updated or withdrawn.
    pub kind: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: jiff::Timestamp,
    pub tier: Tier,
    pub content: AlertContent,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub valid_until: Option<jiff::Timestamp>,
    pub note: Option<String>,
}

/// A reviewer's changes; fields left out stay as they are.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AlertEdit {
    #[serde(default)]
    pub title: Option<Localized>,
    #[serde(default)]
    pub body: Option<Localized>,
    #[serde(default)]
    pub advice: Option<Localized>,
    #[serde(default)]
    pub uncertainty: Option<Localized>,
    #[serde(default)]
    pub tier: Option<Tier>,
    /// Two-digit fylkesnummer; an empty list makes the alert national.
    #[serde(default)]
    pub fylker: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::wire::optional_time")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub valid_until: Option<jiff::Timestamp>,
    /// Why (kept with the version; shown with withdrawals).
    #[serde(default)]
    pub note: Option<String>,
}

/// How long a publication is valid when the reviewer does not say.
pub const DEFAULT_VALIDITY_DAYS: i64 = 30;

impl AlertEdit {
    /// Checks the edit (every text in all three languages, no personal data, real fylker, a future validity) and
    /// applies it to `content`.
    pub fn apply(
        &self,
        content: &mut AlertContent,
        geography: &crate::Geography,
        now: jiff::Timestamp,
    ) -> Result<(), crate::sample::InvalidInput> {
        use crate::sample::{InvalidInput, check_text};
        for (name, value, slot) in [
            ("title", &self.title, &mut content.title),
            ("body", &self.body, &mut content.body),
            ("advice", &self.advice, &mut content.advice),
            ("uncertainty", &self.uncertainty, &mut content.uncertainty),
        ] {
            if let Some(v) = value {
                let max = if name == "title" { 200 } else { 4000 };
                let mut checked = v.clone();
                for lang in Lang::ALL {
                    let field = format!("{name}.{}", lang.code());
                    let t = check_text(&field, Some(v.get(lang)), max)?.ok_or_else(|| InvalidInput {
                        code: ErrorCode::InvalidValue,
                        field: field.clone(),
                        message: format!("{field} must not be empty: every text exists in all three languages"),
                    })?;
                    match lang {
                        Lang::Nb => checked.nb = t,
                        Lang::Nn => checked.nn = t,
                        Lang::En => checked.en = t,
                    }
                }
                *slot = checked;
            }
        }
        if let Some(fylker) = &self.fylker {
            if let Some(bad) = fylker.iter().find(|f| geography.fylke(f).is_none()) {
                return Err(InvalidInput {
                    code: ErrorCode::InvalidValue,
                    field: "fylker".into(),
                    message: format!("'{bad}' is not a fylkesnummer"),
                });
            }
            content.fylker = fylker.clone();
        }
        if let Some(until) = self.valid_until
            && until <= now
        {
            return Err(InvalidInput {
                code: ErrorCode::InvalidValue,
                field: "valid_until".into(),
                message: "valid_until must lie in the future".into(),
            });
        }
        check_text("note", self.note.as_deref(), 1000)?;
        Ok(())
    }
}

/// What a finding says made the product dangerous: its substances, or for a strip result the strip method.
pub(crate) fn danger_of(f: &Finding) -> Vec<String> {
    if f.substances.is_empty() {
        f.method.map(|m| m.as_str().to_owned()).into_iter().collect()
    } else {
        f.substances.clone()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn new_evidence_revives_an_archived_draft_redrafts_a_draft_and_flags_a_published_alert() {
        let revived = join(AlertStatus::Archived, true);
        assert_eq!((revived.status, revived.transition), (AlertStatus::Draft, Some(("revived", AlertStatus::Draft))));
        assert!(revived.redraft && !revived.flag_new_evidence);
        let draft = join(AlertStatus::Draft, true);
        assert_eq!(draft.transition, Some(("evidence", AlertStatus::Draft)));
        assert!(draft.redraft && !draft.flag_new_evidence);
        let published = join(AlertStatus::Published, true);
        assert_eq!(published.status, AlertStatus::Published);
        assert!(!published.redraft && published.flag_new_evidence, "a published text changes only by a reviewer");
        // A sample that already was evidence (assessed again after an amendment): no transition, no flag; a draft
        // is still rewritten, an archived one stays archived.
        assert_eq!(join(AlertStatus::Published, false).transition, None);
        assert!(!join(AlertStatus::Published, false).flag_new_evidence);
        assert!(join(AlertStatus::Draft, false).redraft);
        assert_eq!(join(AlertStatus::Archived, false).status, AlertStatus::Archived);
        assert!(!join(AlertStatus::Archived, false).redraft);
    }

    use super::*;

    #[test]
    fn lifecycle_allows_only_the_documented_transitions() {
        use AlertAction::*;
        use AlertStatus::*;
        assert_eq!(transition(Draft, Publish), Ok(Published));
        assert_eq!(transition(Published, Update), Ok(Published));
        assert_eq!(transition(Published, Reconfirm), Ok(Published));
        assert_eq!(transition(Published, Withdraw), Ok(Withdrawn));
        assert_eq!(transition(Draft, Discard), Ok(Discarded));
        assert_eq!(transition(Archived, Discard), Ok(Discarded));
        for (from, action) in [
            (Draft, Withdraw),
            (Published, Discard),
            (Discarded, Publish),
            (Discarded, Edit),
            (Discarded, Withdraw),
            (Archived, Publish),
            (Draft, Reconfirm),
            (Withdrawn, Reconfirm),
            (Archived, Edit),
            (Archived, Withdraw),
            (Published, Publish),
            (Published, Edit),
            (Draft, Update),
            (Withdrawn, Publish),
            (Withdrawn, Update),
            (Expired, Update),
            (Withdrawn, Withdraw),
        ] {
            assert!(transition(from, action).is_err(), "{from:?} {action:?}");
        }
    }

    #[test]
    fn three_samples_raise_the_tier_one_step_capped_at_severe() {
        use crate::sample::Status;
        let t: jiff::Timestamp = "2026-11-20T12:00:00Z".parse().unwrap();
        let sample = Sample {
            code: crate::SampleCode::parse("0000-0000-0000").unwrap(),
            service: crate::service::ServiceSlug::parse("x-y").unwrap(),
            received_at: t,
            registered_at: t,
            status: Status::Received,
            sold_as: vec![],
            form: Form::Powder,
            colour: None,
            texture: None,
            notes: None,
            tablet: None,
            use_context: None,
            analyses: vec![],
        };
        let finding = |tier| Finding {
            rule: "r".into(),
            policy_version: "v".into(),
            tier,
            substances: vec!["x".into()],
            method: None,
            explanation: Localized { nb: "a".into(), nn: "a".into(), en: "a".into() },
        };
        let ev = |n: usize, tier| (0..n).map(|_| (sample.clone(), vec![finding(tier)])).collect::<Vec<_>>();
        assert_eq!(draft_tier(&ev(1, Tier::Warning)), Tier::Warning);
        assert_eq!(draft_tier(&ev(2, Tier::Warning)), Tier::Warning);
        assert_eq!(draft_tier(&ev(3, Tier::Warning)), Tier::Severe);
        assert_eq!(draft_tier(&ev(5, Tier::Severe)), Tier::Severe);
    }
}
