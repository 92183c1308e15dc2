//! The use cases of checking: a sample registered, an analysis added or amended, the assessment that follows every
//! change to a sample's analyses, and what the person said about the result.

use crate::decisions;
use jiff::Timestamp;
use varde_domain::SampleCode;
use varde_domain::assess::Assessor;
use varde_domain::feedback::{Intention, Outcome};
use varde_domain::joining::Joiner;
use varde_domain::recording::{self, Assessment};
use varde_domain::sample::{NewAnalysis, NewSample, Sample, Status};
use varde_store::port::{Attachments, Feedback, NewEvent, Registration, Transaction, join};
use varde_store::{NewAnalysisSpectrum, NewReferenceSpectrum, StoreError, StoredSample};

/// Registers a sample under `code` with its first analyses, audited, and assesses it: stored as the answer says,
/// without reading it back (`recording::registered`).
pub async fn register<T: Registration>(
    tx: &T,
    assessor: &Assessor,
    code: SampleCode,
    sample: NewSample,
    actor: &str,
    at: Timestamp,
) -> Result<StoredSample, T::Error> {
    let id = tx.insert_sample(code, &sample, Status::of_new(&sample.analyses), at).await?;
    let mut analysis_ids = Vec::with_capacity(sample.analyses.len());
    for analysis in &sample.analyses {
        analysis_ids.push(tx.insert_analysis(id, analysis, at).await?);
    }
    tx.audit(at, actor, "sample.create", code.compact()).await?;
    let registered = recording::registered(code, sample, at, &analysis_ids);
    assess(tx, assessor, id, registered, at).await
}

/// A national role reads a sample: the read is audited (a sample-level read by anyone but its own service's
/// technicians always is).
pub async fn read_sample<T: Transaction>(
    tx: &T,
    code: SampleCode,
    actor: &str,
    at: Timestamp,
) -> Result<Option<StoredSample>, T::Error> {
    let sample = tx.stored_sample(code).await?;
    if sample.is_some() {
        tx.audit(at, actor, "sample.read", code.compact()).await?;
    }
    Ok(sample)
}

/// Adds an analysis to the sample `code`; with `amends`, the earlier analysis (a current one of the same sample) is
/// kept but superseded. The sample's status follows its analyses, and it is assessed again.
pub async fn add_analysis<T: Transaction>(
    tx: &T,
    assessor: &Assessor,
    code: SampleCode,
    analysis: &NewAnalysis,
    actor: &str,
    at: Timestamp,
) -> Result<StoredSample, T::Error> {
    let sample = tx.sample_id(code).await?;
    if let Some(old) = analysis.amends {
        decisions::may_amend(sample, old, tx.analysis_link(old).await?)?;
    }
    let id = tx.insert_analysis(sample, analysis, at).await?;
    if let Some(old) = analysis.amends {
        tx.supersede(old, id).await?;
    }
    let action = if analysis.amends.is_some() { "analysis.amend" } else { "analysis.add" };
    tx.audit(at, actor, action, code.compact()).await?;
    let current = tx.renew_status(sample, code).await?;
    assess(tx, assessor, sample, current, at).await
}

/// Assesses sample `id` (in hand as `sample`, with its current analyses) under the risk policy: its findings replace
/// the current ones, a `sample.finding` event reports them to staff, and a finding that calls for an alert joins or
/// starts the draft for its product. Returns the sample as now stored.
pub async fn assess<T: Transaction>(
    tx: &T,
    assessor: &Assessor,
    id: i64,
    sample: Sample,
    at: Timestamp,
) -> Result<StoredSample, T::Error> {
    let fylke = tx.fylke_of(id).await?;
    let Assessment { findings, event, key } = recording::assessed(assessor, &sample, &fylke);
    tx.replace_findings(id, &findings, at).await?;
    if let Some((top, payload)) = event {
        let fylker = vec![fylke.clone()];
        let kind = "sample.finding";
        tx.event(NewEvent { at, kind, public: false, tier: Some(top), fylker, alert_id: None, payload }).await?;
    }
    // The sample and its findings are in hand; only the alerts it belongs to need reading.
    let mut alerts = tx.alert_refs(id).await?;
    if let Some(key) = key {
        let evidence_of: Vec<i64> = alerts.iter().map(|a| a.id).collect();
        let joiner = Joiner {
            sample_id: id,
            sample: &sample,
            findings: &findings,
            key: &key,
            fylke: &fylke,
            at,
            evidence_of: &evidence_of,
        };
        let joined = join(tx, assessor, &[joiner]).await?;
        alerts = decisions::after_joining(alerts, joined);
    }
    Ok(StoredSample { sample, fylke, findings, alerts })
}

/// The technician records what the person said they will do now they know the result (audited).
pub async fn set_intention<T: Feedback>(
    tx: &T,
    code: SampleCode,
    intention: Intention,
    actor: &str,
    at: Timestamp,
) -> Result<(), T::Error> {
    let sample = tx.sample_id(code).await?;
    tx.store_intention(sample, intention, at).await?;
    tx.audit(at, actor, "sample.intention", code.compact()).await
}

/// The person tells what happened. They are anonymous: the audit log says only that an outcome came for the sample.
pub async fn record_outcome<T: Feedback>(
    tx: &T,
    code: SampleCode,
    outcome: &Outcome,
    at: Timestamp,
) -> Result<(), T::Error> {
    let sample = tx.sample_id(code).await?;
    tx.store_outcome(sample, outcome, at).await?;
    tx.audit(at, "public", "sample.outcome", code.compact()).await
}

/// Stores (or replaces) a sample's photo (audited).
pub async fn set_photo<T: Attachments>(
    tx: &T,
    code: SampleCode,
    jpeg: &[u8],
    size: (u32, u32),
    actor: &str,
    at: Timestamp,
) -> Result<(), T::Error> {
    let sample = tx.sample_id(code).await?;
    tx.put_photo(sample, jpeg, size, at).await?;
    tx.audit(at, actor, "photo.set", code.compact()).await
}

/// Attaches a spectrum to one of sample `code`'s analyses (refused for another sample's analysis); audited. Its id.
pub async fn attach_spectrum<T: Attachments>(
    tx: &T,
    code: SampleCode,
    spectrum: &NewAnalysisSpectrum,
    actor: &str,
    at: Timestamp,
) -> Result<i64, T::Error> {
    let sample = tx.sample_id(code).await?;
    if tx.analysis_link(spectrum.analysis_id).await?.map(|(of, _)| of) != Some(sample) {
        let message = format!("sample {code} has no analysis {}", spectrum.analysis_id);
        return Err(StoreError::Invalid { code: varde_domain::ErrorCode::UnknownAnalysis, message }.into());
    }
    let id = tx.insert_analysis_spectrum(spectrum, actor, at).await?;
    let subject = format!("{} analysis {}", code.compact(), spectrum.analysis_id);
    tx.audit(at, actor, "spectrum.attach", &subject).await?;
    Ok(id)
}

/// Adds a reference spectrum to the library (audited); its id.
pub async fn add_reference_spectrum<T: Attachments>(
    tx: &T,
    spectrum: &NewReferenceSpectrum,
    actor: &str,
    at: Timestamp,
) -> Result<i64, T::Error> {
    let id = tx.insert_reference_spectrum(spectrum, actor, at).await?;
    tx.audit(at, actor, "reference_spectrum.add", &format!("{id} {}", spectrum.substance)).await?;
    Ok(id)
}
