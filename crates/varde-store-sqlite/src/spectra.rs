//! Reference spectra and spectra attached to analyses.

use super::{ms, sample_id_of, ts};
use crate::error::{Error, Result};
use jiff::Timestamp;
use rusqlite::{Connection, params};
use varde_domain::SampleCode;
use varde_store::{AnalysisSpectrum, NewAnalysisSpectrum, NewReferenceSpectrum, ReferenceSpectrum, Technique};

fn blob(values: &[f64]) -> Vec<u8> {
    varde_store::points::to_bytes(values)
}

fn points(bytes: &[u8]) -> Result<Vec<f64>> {
    Ok(varde_store::points::from_bytes(bytes)?)
}

fn technique(text: String) -> Result<Technique> {
    Technique::parse(&text).ok_or_else(|| Error::corrupt(format!("unknown technique {text:?}")))
}

pub(super) fn references(conn: &Connection) -> Result<Vec<ReferenceSpectrum>> {
    let mut statement = conn.prepare(
        "SELECT id, substance, technique, name, source, x, y, added_by, added_ms FROM reference_spectra ORDER BY id",
    )?;
    let rows = statement.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, Vec<u8>>(5)?,
            r.get::<_, Vec<u8>>(6)?,
            r.get::<_, String>(7)?,
            r.get::<_, i64>(8)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, substance, kind, name, source, x, y, added_by, added_ms) = row?;
        out.push(ReferenceSpectrum {
            id,
            spectrum: NewReferenceSpectrum {
                substance,
                technique: technique(kind)?,
                name,
                source,
                x: points(&x)?,
                y: points(&y)?,
            },
            added_by,
            added_at: ts(added_ms)?,
        });
    }
    Ok(out)
}

pub(super) fn of_sample(conn: &Connection, code: SampleCode) -> Result<Vec<AnalysisSpectrum>> {
    let sample_id = sample_id_of(conn, code)?;
    let mut statement = conn.prepare(
        "SELECT sp.id, sp.analysis_id, sp.technique, sp.filename, sp.format, length(sp.x) / 8, sp.proposals,
                sp.uploaded_by, sp.uploaded_ms
         FROM analysis_spectra sp JOIN analyses a ON a.id = sp.analysis_id
         WHERE a.sample_id = ?1 ORDER BY sp.id",
    )?;
    let rows = statement.query_map([sample_id], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, i64>(5)?,
            r.get::<_, String>(6)?,
            r.get::<_, String>(7)?,
            r.get::<_, i64>(8)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, analysis_id, kind, filename, format, points, proposals, uploaded_by, uploaded_ms) = row?;
        out.push(AnalysisSpectrum {
            id,
            analysis_id,
            technique: technique(kind)?,
            filename,
            format,
            points: points as usize,
            proposals,
            uploaded_by,
            uploaded_at: ts(uploaded_ms)?,
        });
    }
    Ok(out)
}

impl varde_store::port::Attachments for super::Tx<'_> {
    async fn put_photo(&self, sample: i64, jpeg: &[u8], size: (u32, u32), at: Timestamp) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO photos (sample_id, jpeg, width, height, uploaded_ms) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (sample_id) DO UPDATE SET jpeg = excluded.jpeg, width = excluded.width,
                 height = excluded.height, uploaded_ms = excluded.uploaded_ms",
            )?
            .execute(params![sample, jpeg, size.0, size.1, ms(at)])?;
        Ok(())
    }

    async fn insert_analysis_spectrum(
        &self,
        spectrum: &NewAnalysisSpectrum,
        actor: &str,
        at: Timestamp,
    ) -> Result<i64> {
        self.conn()
            .prepare_cached(
                "INSERT INTO analysis_spectra (analysis_id, technique, filename, format, original, x, y, proposals, uploaded_by, uploaded_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![
                spectrum.analysis_id,
                spectrum.technique.as_str(),
                spectrum.filename,
                spectrum.format,
                spectrum.original,
                blob(&spectrum.x),
                blob(&spectrum.y),
                spectrum.proposals,
                actor,
                ms(at)
            ])?;
        Ok(self.conn().last_insert_rowid())
    }

    async fn insert_reference_spectrum(
        &self,
        spectrum: &NewReferenceSpectrum,
        actor: &str,
        at: Timestamp,
    ) -> Result<i64> {
        self.conn()
            .prepare_cached(
                "INSERT INTO reference_spectra (substance, technique, name, source, x, y, added_by, added_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                spectrum.substance,
                spectrum.technique.as_str(),
                spectrum.name,
                spectrum.source,
                blob(&spectrum.x),
                blob(&spectrum.y),
                actor,
                ms(at)
            ])?;
        Ok(self.conn().last_insert_rowid())
    }
}
