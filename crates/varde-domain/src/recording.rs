//! What recording a sample or a signal's draft decides, before anything is written: a registered sample as it is
//! stored, its assessment (findings, the event they make, the product key it joins under), and a draft made from a
//! signal's evidence. Pure: the core's use cases and PostgreSQL's grouped registration write what these say.

use crate::SampleCode;
use crate::assess::Assessor;
use crate::sample::{NewSample, Sample};
use jiff::Timestamp;

/// A sample just registered as a store holds it, without reading it back: times to the millisecond, the analyses
/// with the ids they were stored under (in order), recorded at `at`. A new sample's analyses amend nothing (the
/// domain refuses that), so none is superseded.
pub fn registered(code: SampleCode, new: NewSample, at: Timestamp, analysis_ids: &[i64]) -> Sample {
    debug_assert_eq!(new.analyses.len(), analysis_ids.len(), "an id for each analysis");
    let kept = |t: Timestamp| Timestamp::from_millisecond(t.as_millisecond()).expect("a time in range stays in range");
    let analyses: Vec<crate::sample::Analysis> = new
        .analyses
        .into_iter()
        .zip(analysis_ids)
        .map(|(a, id)| crate::sample::Analysis {
            id: *id,
            method: a.method,
            performed_at: kept(a.performed_at),
            recorded_at: kept(at),
            outcome: a.outcome,
            amends: a.amends,
            superseded_by: None,
        })
        .collect();
    Sample {
        code,
        service: new.service,
        received_at: kept(new.received_at),
        registered_at: kept(at),
        status: crate::sample::Status::of(&analyses),
        sold_as: new.sold_as,
        form: new.form,
        colour: new.colour,
        texture: new.texture,
        notes: new.notes,
        tablet: new.tablet,
        use_context: new.use_context,
        analyses,
    }
}

/// What assessing a sample decides, for both backends alike: its findings under the risk policy, the
/// `sample.finding` event they make (its tier and payload; none without findings), and the product key under which
/// it joins or starts a draft (none when its findings call for no alert).
#[derive(Debug, Clone)]
pub struct Assessment {
    pub findings: Vec<crate::finding::Finding>,
    pub event: Option<(crate::Tier, serde_json::Value)>,
    pub key: Option<String>,
}

/// Assesses `sample`, received at a service in `fylke`.
pub fn assessed(assessor: &Assessor, sample: &Sample, fylke: &str) -> Assessment {
    let findings = assessor.findings(sample);
    let event = crate::payloads::sample_finding(sample, fylke, &findings);
    let key = crate::alert::product_key(sample, &findings);
    Assessment { findings, event, key }
}

/// A draft made from a signal: its tier (at least caution: a signal is worth a look), text, and the span of its
/// evidence (`at` when it has none).
pub struct SignalDraft {
    pub tier: crate::Tier,
    pub content: crate::alert::AlertContent,
    pub first: Timestamp,
    pub last: Timestamp,
}

/// Drafts an alert from a signal's evidence in `area` (a fylke, or "national": then about no fylke in particular).
pub fn signal_draft(
    assessor: &Assessor,
    mut evidence: Vec<(Sample, Vec<crate::finding::Finding>)>,
    area: &str,
    at: Timestamp,
) -> SignalDraft {
    evidence.sort_by_key(|e| std::cmp::Reverse(e.0.received_at));
    let (drafted, mut content) = assessor.draft(&evidence, None, area);
    if area == "national" {
        content.fylker = Vec::new();
    }
    let times = || evidence.iter().map(|(s, _)| s.received_at);
    SignalDraft {
        tier: drafted.max(crate::Tier::Caution),
        content,
        first: times().min().unwrap_or(at),
        last: times().max().unwrap_or(at),
    }
}
