//! Reference spectra and spectra attached to analyses.

use super::*;
use varde_domain::ErrorCode;
use varde_store::{AnalysisSpectrum, NewAnalysisSpectrum, NewReferenceSpectrum, ReferenceSpectrum, Technique};

fn blob(values: &[f64]) -> Vec<u8> {
    varde_store::points::to_bytes(values)
}

fn points(bytes: &[u8]) -> Result<Vec<f64>> {
    Ok(varde_store::points::from_bytes(bytes)?)
}

fn technique(text: &str) -> Result<Technique> {
    Technique::parse(text).ok_or_else(|| Error::corrupt(format!("unknown technique {text:?}")))
}

pub(super) async fn add_reference(
    tx: &Tx<'_>,
    spectrum: &NewReferenceSpectrum,
    actor: &str,
    at: Timestamp,
) -> Result<i64> {
    let id: i64 = query_one(
        tx,
        "INSERT INTO reference_spectra (substance, technique, name, source, x, y, added_by, added_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        &[
            &spectrum.substance,
            &spectrum.technique.as_str(),
            &spectrum.name,
            &spectrum.source,
            &blob(&spectrum.x),
            &blob(&spectrum.y),
            &actor,
            &ms(at),
        ],
    )
    .await?
    .try_get(0)?;
    append_audit(tx, at, actor, "reference_spectrum.add", &format!("{id} {}", spectrum.substance)).await?;
    Ok(id)
}

pub(super) async fn references(tx: &Tx<'_>) -> Result<Vec<ReferenceSpectrum>> {
    query(
        tx,
        "SELECT id, substance, technique, name, source, x, y, added_by, added_ms FROM reference_spectra ORDER BY id",
        &[],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(ReferenceSpectrum {
            id: r.try_get(0)?,
            spectrum: NewReferenceSpectrum {
                substance: r.try_get(1)?,
                technique: technique(r.try_get(2)?)?,
                name: r.try_get(3)?,
                source: r.try_get(4)?,
                x: points(r.try_get(5)?)?,
                y: points(r.try_get(6)?)?,
            },
            added_by: r.try_get(7)?,
            added_at: ts(r.try_get(8)?)?,
        })
    })
    .collect()
}

pub(super) async fn attach(
    tx: &Tx<'_>,
    code: SampleCode,
    spectrum: &NewAnalysisSpectrum,
    actor: &str,
    at: Timestamp,
) -> Result<i64> {
    let sample_id = sample_id_of(tx, code).await?;
    let owner: Option<i64> = query_opt(tx, "SELECT sample_id FROM analyses WHERE id = $1", &[&spectrum.analysis_id])
        .await?
        .map(|r| r.try_get(0))
        .transpose()?;
    if owner != Some(sample_id) {
        return Err(StoreError::Invalid {
            code: ErrorCode::UnknownAnalysis,
            message: format!("sample {code} has no analysis {}", spectrum.analysis_id),
        }
        .into());
    }
    let id: i64 = query_one(
        tx,
        "INSERT INTO analysis_spectra (analysis_id, technique, filename, format, original, x, y, proposals, uploaded_by, uploaded_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        &[
            &spectrum.analysis_id,
            &spectrum.technique.as_str(),
            &spectrum.filename,
            &spectrum.format,
            &spectrum.original,
            &blob(&spectrum.x),
            &blob(&spectrum.y),
            &spectrum.proposals,
            &actor,
            &ms(at),
        ],
    )
    .await?
    .try_get(0)?;
    let subject = format!("{} analysis {}", code.compact(), spectrum.analysis_id);
    append_audit(tx, at, actor, "spectrum.attach", &subject).await?;
    Ok(id)
}

pub(super) async fn of_sample(tx: &Tx<'_>, code: SampleCode) -> Result<Vec<AnalysisSpectrum>> {
    let sample_id = sample_id_of(tx, code).await?;
    query(
        tx,
        "SELECT sp.id, sp.analysis_id, sp.technique, sp.filename, sp.format, (length(sp.x) / 8)::bigint, sp.proposals,
                sp.uploaded_by, sp.uploaded_ms
         FROM analysis_spectra sp JOIN analyses a ON a.id = sp.analysis_id
         WHERE a.sample_id = $1 ORDER BY sp.id",
        &[&sample_id],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(AnalysisSpectrum {
            id: r.try_get(0)?,
            analysis_id: r.try_get(1)?,
            technique: technique(r.try_get(2)?)?,
            filename: r.try_get(3)?,
            format: r.try_get(4)?,
            points: narrow(r.try_get(5)?, "spectrum points")?,
            proposals: r.try_get(6)?,
            uploaded_by: r.try_get(7)?,
            uploaded_at: ts(r.try_get(8)?)?,
        })
    })
    .collect()
}
