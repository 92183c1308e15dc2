//! Reference spectra and spectra attached to analyses.

use super::*;
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

impl varde_store::port::Attachments for super::Port<'_> {
    async fn put_photo(&self, sample: i64, jpeg: &[u8], size: (u32, u32), at: Timestamp) -> Result<()> {
        execute(
            self.0,
            "INSERT INTO photos (sample_id, jpeg, width, height, uploaded_ms) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (sample_id) DO UPDATE SET jpeg = excluded.jpeg, width = excluded.width,
             height = excluded.height, uploaded_ms = excluded.uploaded_ms",
            &[&sample, &jpeg, &i64::from(size.0), &i64::from(size.1), &ms(at)],
        )
        .await?;
        Ok(())
    }

    async fn insert_analysis_spectrum(
        &self,
        spectrum: &NewAnalysisSpectrum,
        actor: &str,
        at: Timestamp,
    ) -> Result<i64> {
        Ok(query_one(
            self.0,
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
        .try_get(0)?)
    }

    async fn insert_reference_spectrum(
        &self,
        spectrum: &NewReferenceSpectrum,
        actor: &str,
        at: Timestamp,
    ) -> Result<i64> {
        Ok(query_one(
            self.0,
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
        .try_get(0)?)
    }
}
