//! Join-or-draft, decided once for every storage backend: given samples whose findings call for an alert (in the
//! order they commit) and the alerts they may join, which alert each joins or starts, and what every alert touched
//! looks like afterwards — status, tier, text, evidence span, the transitions to record.
//!
//! The backend reads the joinable alerts of the samples' product keys (with their newest evidence), calls [`plan`]
//! and writes the [`Plan`] — for one sample or for a whole group commit at once: the plan is what joining the samples
//! one after the other would have written, so a backend may carry out many in a few statements.

use crate::alert::{self, AlertContent, AlertStatus, EvidenceSpan};
use crate::assess::Assessor;
use crate::finding::Finding;
use crate::sample::Sample;
use crate::tier::Tier;
use jiff::Timestamp;

/// An alert a sample may join: one in [`alert::JOINABLE`] with its product key, as the backend read it.
#[derive(Debug, Clone)]
pub struct Joinable {
    pub id: i64,
    pub key: String,
    pub fylke: String,
    pub status: AlertStatus,
    pub tier: Tier,
    pub first_evidence: Timestamp,
    pub last_evidence: Timestamp,
    pub evidence_count: usize,
    /// Its newest evidence (by received time, then sample id, newest first; at most [`alert::DRAFT_FROM_NEWEST`]),
    /// needed only when its text may be rewritten (a draft, or an archived draft that new evidence revives).
    pub newest: Vec<Evidence>,
}

/// A sample that is an alert's evidence, with its current findings.
#[derive(Debug, Clone)]
pub struct Evidence {
    pub sample_id: i64,
    pub sample: Sample,
    pub findings: Vec<Finding>,
}

/// A sample whose findings call for an alert (it has a product key).
#[derive(Debug, Clone, Copy)]
pub struct Joiner<'a> {
    pub sample_id: i64,
    pub sample: &'a Sample,
    pub findings: &'a [Finding],
    /// From [`alert::product_key`].
    pub key: &'a str,
    pub fylke: &'a str,
    /// When it is joined (its registration or the analysis that changed its findings).
    pub at: Timestamp,
    /// The alerts it is evidence for already (none for a sample being registered).
    pub evidence_of: &'a [i64],
}

/// An alert the plan touches: one that was stored, or the n-th draft the plan starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    // Stored alerts come first in this order, and new drafts by the order they are started: the order their ids
    // are drawn in, so "the newest joinable alert" is the greatest target.
    Stored(i64),
    New(usize),
}

/// What an alert the plan touches is afterwards.
#[derive(Debug, Clone)]
pub struct Touched {
    pub target: Target,
    pub key: String,
    pub fylke: String,
    pub status: AlertStatus,
    pub tier: Tier,
    /// The rewritten text, when it was rewritten (always, for a new draft).
    pub content: Option<AlertContent>,
    pub first_evidence: Timestamp,
    pub last_evidence: Timestamp,
    /// When it was last touched: the newest joiner's `at`.
    pub updated: Timestamp,
    /// A published alert got new evidence: the reviewers are told.
    pub flag_new_evidence: bool,
}

/// A draft the plan starts, as first drafted from the sample that started it: what the `alert.drafted` event says.
#[derive(Debug, Clone)]
pub struct Drafted {
    pub tier: Tier,
    pub content: AlertContent,
    pub at: Timestamp,
}

/// A transition to record: (alert, at, reason, from, to).
pub type Transition = (Target, Timestamp, &'static str, Option<AlertStatus>, AlertStatus);

/// What join-or-draft writes for a group of samples.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// The drafts started, in order: `Target::New(n)` is `drafted[n]`.
    pub drafted: Vec<Drafted>,
    /// Every alert touched, stored ones first, in target order.
    pub touched: Vec<Touched>,
    /// New evidence: (alert, joiner's index, at).
    pub evidence: Vec<(Target, usize, Timestamp)>,
    pub transitions: Vec<Transition>,
    /// For each joiner: the alert it joined or started, with its status and tier right after it did.
    pub joined: Vec<(Target, AlertStatus, Tier)>,
}

impl Plan {
    pub fn touched(&self, target: Target) -> Option<&Touched> {
        self.touched.iter().find(|t| t.target == target)
    }
}

/// One alert while planning.
struct State {
    touched: Touched,
    count: usize,
    newest: Vec<Evidence>,
    changed: bool,
}

/// Joins each sample, in order, to the newest joinable alert about its product in its fylke whose evidence lies
/// within [`alert::JOIN_WINDOW_DAYS`] of it, or starts a draft; see [`alert::join`] for what joining does to each
/// status. A draft's text and tier are rewritten from its newest evidence, its count and its span; its tier never
/// falls.
pub fn plan(assessor: &Assessor, joinable: Vec<Joinable>, joiners: &[Joiner<'_>]) -> Plan {
    let window = alert::JOIN_WINDOW_DAYS * 86_400_000;
    let mut states: Vec<State> = joinable
        .into_iter()
        .map(|j| State {
            touched: Touched {
                target: Target::Stored(j.id),
                key: j.key,
                fylke: j.fylke,
                status: j.status,
                tier: j.tier,
                content: None,
                first_evidence: j.first_evidence,
                last_evidence: j.last_evidence,
                updated: j.last_evidence,
                flag_new_evidence: false,
            },
            count: j.evidence_count,
            newest: j.newest,
            changed: false,
        })
        .collect();
    let mut plan = Plan::default();
    for (index, joiner) in joiners.iter().enumerate() {
        let received = joiner.sample.received_at.as_millisecond();
        let open = states
            .iter_mut()
            .filter(|s| {
                let t = &s.touched;
                t.key == joiner.key
                    && t.fylke == joiner.fylke
                    && alert::JOINABLE.contains(&t.status)
                    && t.last_evidence.as_millisecond() >= received - window
                    && t.first_evidence.as_millisecond() <= received + window
            })
            .max_by_key(|s| s.touched.target);
        let evidence = || Evidence {
            sample_id: joiner.sample_id,
            sample: joiner.sample.clone(),
            findings: joiner.findings.to_vec(),
        };
        match open {
            Some(state) => {
                let target = state.touched.target;
                let added = match target {
                    Target::Stored(id) => !joiner.evidence_of.contains(&id),
                    Target::New(_) => true,
                };
                let t = &mut state.touched;
                let before = t.status;
                t.first_evidence = t.first_evidence.min(joiner.sample.received_at);
                t.last_evidence = t.last_evidence.max(joiner.sample.received_at);
                t.updated = joiner.at;
                let joining = alert::join(before, added);
                t.status = joining.status;
                if added {
                    state.count += 1;
                    plan.evidence.push((target, index, joiner.at));
                }
                if let Some((reason, to)) = joining.transition {
                    plan.transitions.push((target, joiner.at, reason, Some(before), to));
                }
                if joining.redraft {
                    place(&mut state.newest, evidence());
                    let span = EvidenceSpan {
                        total: state.count,
                        first: state.touched.first_evidence,
                        last: state.touched.last_evidence,
                    };
                    let drafted: Vec<(Sample, Vec<Finding>)> =
                        state.newest.iter().map(|e| (e.sample.clone(), e.findings.clone())).collect();
                    let (tier, content) = assessor.draft(&drafted, Some(span), &state.touched.fylke);
                    state.touched.tier = state.touched.tier.max(tier);
                    state.touched.content = Some(content);
                }
                state.touched.flag_new_evidence |= joining.flag_new_evidence;
                state.changed = true;
                plan.joined.push((target, state.touched.status, state.touched.tier));
            }
            None => {
                let (tier, content) =
                    assessor.draft(&[(joiner.sample.clone(), joiner.findings.to_vec())], None, joiner.fylke);
                let target = Target::New(plan.drafted.len());
                plan.drafted.push(Drafted { tier, content: content.clone(), at: joiner.at });
                plan.evidence.push((target, index, joiner.at));
                plan.transitions.push((target, joiner.at, "drafted", None, AlertStatus::Draft));
                plan.joined.push((target, AlertStatus::Draft, tier));
                states.push(State {
                    touched: Touched {
                        target,
                        key: joiner.key.to_owned(),
                        fylke: joiner.fylke.to_owned(),
                        status: AlertStatus::Draft,
                        tier,
                        content: Some(content),
                        first_evidence: joiner.sample.received_at,
                        last_evidence: joiner.sample.received_at,
                        updated: joiner.at,
                        flag_new_evidence: false,
                    },
                    count: 1,
                    newest: vec![evidence()],
                    changed: true,
                });
            }
        }
    }
    plan.touched = states.into_iter().filter(|s| s.changed).map(|s| s.touched).collect();
    plan.touched.sort_by_key(|t| t.target);
    plan
}

/// Puts a sample among an alert's newest evidence (in place of its earlier self, if it is there), keeping the order
/// the backends read them in and at most [`alert::DRAFT_FROM_NEWEST`].
fn place(newest: &mut Vec<Evidence>, e: Evidence) {
    newest.retain(|n| n.sample_id != e.sample_id);
    let order = |e: &Evidence| std::cmp::Reverse((e.sample.received_at.as_millisecond(), e.sample_id));
    let at = newest.partition_point(|n| order(n) < order(&e));
    newest.insert(at, e);
    newest.truncate(alert::DRAFT_FROM_NEWEST);
}

#[cfg(test)]
mod tests;
