//! Samples, analyses and their findings, as rows.

use super::*;
use varde_domain::Tier;
use varde_domain::alert::AlertStatus;
use varde_domain::feedback::{self, Intention};
use varde_domain::finding::Finding;
use varde_store::{AlertRef, StoredSample};

pub(super) fn load_sample(conn: &Connection, code: SampleCode) -> Result<Option<Sample>> {
    let row = conn
        .prepare_cached(
            "SELECT s.id, v.slug, s.received_ms, s.registered_ms, s.form, s.colour, s.texture, s.notes, s.tablet, s.use_context, s.status
             FROM samples s JOIN services v ON v.id = s.service_id WHERE s.code = ?1",
        )?
        .query_row([code.compact()], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, Option<String>>(7)?,
                    r.get::<_, Option<String>>(8)?,
                    r.get::<_, Option<String>>(9)?,
                    r.get::<_, String>(10)?,
                ))
        })
        .optional()?;
    let Some((id, slug, received, registered, form, colour, texture, notes, tablet, use_context, _status)) = row else {
        return Ok(None);
    };
    let mut stmt =
        conn.prepare_cached("SELECT substance, known FROM sample_sold_as WHERE sample_id = ?1 ORDER BY position")?;
    let sold_as = stmt
        .query_map([id], |r| Ok(SubstanceRef { substance: r.get(0)?, known: r.get(1)? }))?
        .collect::<Result<Vec<_>, _>>()?;
    let analyses = load_analyses(conn, id)?;
    Ok(Some(Sample {
        code,
        service: ServiceSlug::parse(&slug).map_err(|_| corrupt("service slug", &slug))?,
        received_at: ts(received)?,
        registered_at: ts(registered)?,
        status: Status::of(&analyses),
        sold_as,
        form: Form::parse(&form).ok_or_else(|| corrupt("form", &form))?,
        colour,
        texture,
        notes,
        tablet: from_json(tablet)?,
        use_context: from_json(use_context)?,
        analyses,
    }))
}

fn load_analyses(conn: &Connection, sample_id: i64) -> Result<Vec<Analysis>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, method, result, inconclusive, performed_ms, recorded_ms, amends, superseded_by
         FROM analyses WHERE sample_id = ?1 ORDER BY id",
    )?;
    type Row = (i64, String, Option<String>, bool, i64, i64, Option<i64>, Option<i64>);
    let rows: Vec<Row> = stmt
        .query_map([sample_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut comp = conn.prepare_cached(
        "SELECT substance, known, role, amount_value, amount_unit, confidence FROM components WHERE analysis_id = ?1 ORDER BY position",
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for (id, method, result, inconclusive, performed, recorded, amends, superseded_by) in rows {
        let method = Method::parse(&method).ok_or_else(|| corrupt("method", &method))?;
        let outcome = if method.is_strip() {
            let r = result.unwrap_or_default();
            Outcome::Strip { result: AnalysisResult::parse(&r).ok_or_else(|| corrupt("strip result", &r))? }
        } else {
            type CRow = (String, bool, String, Option<f64>, Option<String>, Option<String>);
            let rows: Vec<CRow> = comp
                .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))?
                .collect::<Result<_, _>>()?;
            let components = rows
                .into_iter()
                .map(|(substance, known, role, value, unit, confidence)| {
                    Ok(Component {
                        substance: SubstanceRef { substance, known },
                        role: parse_role(&role)?,
                        amount: match (value, unit) {
                            (Some(value), Some(unit)) => Some(Amount { value, unit: parse_unit(&unit)? }),
                            _ => None,
                        },
                        confidence: confidence.as_deref().map(parse_confidence).transpose()?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            Outcome::Components { components, inconclusive }
        };
        out.push(Analysis {
            id,
            method,
            performed_at: ts(performed)?,
            recorded_at: ts(recorded)?,
            outcome,
            amends,
            superseded_by,
        });
    }
    Ok(out)
}

fn parse_role(s: &str) -> Result<ComponentRole> {
    ComponentRole::parse(s).ok_or_else(|| corrupt("role", s))
}

fn parse_unit(s: &str) -> Result<AmountUnit> {
    AmountUnit::parse(s).ok_or_else(|| corrupt("unit", s))
}

fn parse_confidence(s: &str) -> Result<Confidence> {
    Confidence::parse(s).ok_or_else(|| corrupt("confidence", s))
}

pub(super) fn insert_analysis(conn: &Connection, sample_id: i64, a: &NewAnalysis, at: Timestamp) -> Result<i64> {
    let (result, inconclusive) = match &a.outcome {
        Outcome::Strip { result } => (Some(result.as_str()), false),
        Outcome::Components { inconclusive, .. } => (None, *inconclusive),
    };
    conn.prepare_cached(
        "INSERT INTO analyses (sample_id, method, result, inconclusive, performed_ms, recorded_ms, amends) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![sample_id, a.method.as_str(), result, inconclusive, ms(a.performed_at), ms(at), a.amends])?;
    let id = conn.last_insert_rowid();
    if let Outcome::Components { components, .. } = &a.outcome {
        let mut stmt = conn.prepare_cached(
            "INSERT INTO components (analysis_id, position, substance, known, role, amount_value, amount_unit, confidence)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for (i, c) in components.iter().enumerate() {
            stmt.execute(params![
                id,
                i as i64,
                c.substance.substance,
                c.substance.known,
                c.role.as_str(),
                c.amount.map(|a| a.value),
                c.amount.map(|a| a.unit.as_str()),
                c.confidence.map(Confidence::as_str),
            ])?;
        }
    }
    Ok(id)
}

pub(super) fn sample_id_of(conn: &Connection, code: SampleCode) -> Result<i64> {
    conn.query_row("SELECT id FROM samples WHERE code = ?1", [code.compact()], |r| r.get(0))
        .optional()?
        .ok_or(Error::Store(StoreError::UnknownSample))
}

pub(super) fn update_status(conn: &Connection, sample_id: i64, code: SampleCode) -> Result<Sample> {
    let sample = load_sample(conn, code)?.ok_or(Error::Store(StoreError::UnknownSample))?;
    conn.execute("UPDATE samples SET status = ?1 WHERE id = ?2", params![sample.status.as_str(), sample_id])?;
    Ok(sample)
}

/// A sample with its current findings and the alerts it is evidence for.
pub(super) fn load_stored(conn: &Connection, code: SampleCode) -> Result<Option<StoredSample>> {
    let Some(sample) = load_sample(conn, code)? else { return Ok(None) };
    let (id, fylke): (i64, String) = conn
        .prepare_cached("SELECT s.id, v.fylke FROM samples s JOIN services v ON v.id = s.service_id WHERE s.code = ?1")?
        .query_row([code.compact()], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let findings = current_findings(conn, id)?;
    let alerts = alert_refs(conn, id)?;
    Ok(Some(StoredSample { sample, fylke, findings, alerts }))
}

/// The alerts a sample is evidence for.
pub(super) fn alert_refs(conn: &Connection, sample_id: i64) -> Result<Vec<AlertRef>> {
    let mut stmt = conn.prepare_cached(
        "SELECT a.id, a.status, a.tier FROM alert_evidence e JOIN alerts a ON a.id = e.alert_id
         WHERE e.sample_id = ?1 ORDER BY a.id",
    )?;
    let rows: Vec<(i64, String, String)> =
        stmt.query_map([sample_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<Result<_, _>>()?;
    rows.into_iter()
        .map(|(id, status, tier)| {
            Ok(AlertRef {
                id,
                status: AlertStatus::parse(&status).ok_or_else(|| corrupt("alert status", &status))?,
                tier: Tier::parse(&tier).ok_or_else(|| corrupt("tier", &tier))?,
            })
        })
        .collect()
}

pub(super) fn current_findings(conn: &Connection, sample_id: i64) -> Result<Vec<Finding>> {
    let mut stmt = conn.prepare_cached(
        "SELECT rule, policy_version, tier, substances, method, explanation FROM findings
         WHERE sample_id = ?1 AND current = 1 ORDER BY id",
    )?;
    let rows: Vec<(String, String, String, String, Option<String>, String)> = stmt
        .query_map([sample_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))?
        .collect::<Result<_, _>>()?;
    rows.into_iter()
        .map(|(rule, policy_version, tier, substances, method, explanation)| {
            Ok(Finding {
                rule,
                policy_version,
                tier: Tier::parse(&tier).ok_or_else(|| corrupt("tier", &tier))?,
                substances: serde_json::from_str(&substances).map_err(|e| Error::corrupt(e.to_string()))?,
                method: method.as_deref().map(|m| Method::parse(m).ok_or_else(|| corrupt("method", m))).transpose()?,
                explanation: serde_json::from_str(&explanation).map_err(|e| Error::corrupt(e.to_string()))?,
            })
        })
        .collect()
}

/// The samples received in `[from, to)`, summarised in six queries (not one per sample).
pub(super) fn summaries(conn: &Connection, from: i64, to: i64) -> Result<Vec<varde_store::SampleSummary>> {
    use std::collections::HashMap;
    // The samples of the range, by the received_ms index; the other queries take their ids from it.
    const IN_RANGE: &str = "SELECT id FROM samples WHERE received_ms >= ?1 AND received_ms < ?2";
    let mut stmt = conn.prepare_cached(
        "SELECT s.id, s.received_ms, v.fylke, s.form FROM samples s JOIN services v ON v.id = s.service_id
         WHERE s.received_ms >= ?1 AND s.received_ms < ?2 ORDER BY s.id",
    )?;
    let rows: Vec<(i64, i64, String, String)> =
        stmt.query_map([from, to], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?.collect::<Result<_, _>>()?;
    let mut sold: HashMap<i64, Vec<SubstanceRef>> = HashMap::new();
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT sample_id, substance, known FROM sample_sold_as WHERE sample_id IN ({IN_RANGE}) ORDER BY sample_id, position"
    ))?;
    for r in stmt.query_map([from, to], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, bool>(2)?)))? {
        let (id, substance, known) = r?;
        sold.entry(id).or_default().push(SubstanceRef { substance, known });
    }
    let mut found: HashMap<i64, Vec<SubstanceRef>> = HashMap::new();
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT DISTINCT a.sample_id, c.substance, c.known FROM components c JOIN analyses a ON a.id = c.analysis_id
         WHERE a.superseded_by IS NULL AND a.sample_id IN ({IN_RANGE}) ORDER BY a.sample_id, c.substance"
    ))?;
    for r in stmt.query_map([from, to], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, bool>(2)?)))? {
        let (id, substance, known) = r?;
        found.entry(id).or_default().push(SubstanceRef { substance, known });
    }
    let mut tiers: HashMap<i64, Tier> = HashMap::new();
    let mut rules: HashMap<i64, Vec<String>> = HashMap::new();
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT sample_id, tier, rule FROM findings WHERE current = 1 AND sample_id IN ({IN_RANGE}) ORDER BY id"
    ))?;
    for r in
        stmt.query_map([from, to], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))?
    {
        let (id, tier, rule) = r?;
        let tier = Tier::parse(&tier).ok_or_else(|| corrupt("tier", &tier))?;
        let slot = tiers.entry(id).or_insert(tier);
        *slot = (*slot).max(tier);
        rules.entry(id).or_default().push(rule);
    }
    let mut amounts: HashMap<i64, Vec<(String, f64)>> = HashMap::new();
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT a.sample_id, c.substance, c.amount_value, c.amount_unit FROM components c JOIN analyses a ON a.id = c.analysis_id
         WHERE a.superseded_by IS NULL AND c.role = 'main' AND c.known = 1 AND c.amount_unit IN ('mg', 'ug')
           AND a.sample_id IN ({IN_RANGE}) ORDER BY c.analysis_id, c.position"
    ))?;
    for r in stmt.query_map([from, to], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, f64>(2)?, r.get::<_, String>(3)?))
    })? {
        let (id, substance, value, unit) = r?;
        amounts.entry(id).or_default().push((substance, if unit == "ug" { value / 1000.0 } else { value }));
    }
    let mut feedback: HashMap<i64, (Option<Intention>, Option<feedback::Outcome>)> = HashMap::new();
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT sample_id, intention, used, effect, unexpected FROM result_feedback WHERE sample_id IN ({IN_RANGE})"
    ))?;
    for r in stmt.query_map([from, to], |r| Ok((r.get::<_, i64>(0)?, (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))))? {
        let (id, row) = r?;
        feedback.insert(id, feedback_of(row)?);
    }
    rows.into_iter()
        .map(|(id, received, fylke, form)| {
            let (intention, outcome) = feedback.remove(&id).unwrap_or((None, None));
            Ok(varde_store::SampleSummary {
                id,
                received: ts(received)?,
                fylke,
                form: Form::parse(&form).ok_or_else(|| corrupt("form", &form))?,
                sold_as: sold.remove(&id).unwrap_or_default(),
                found: found.remove(&id).unwrap_or_default(),
                highest_tier: tiers.get(&id).copied(),
                rules: rules.remove(&id).unwrap_or_default(),
                mg_per_unit: amounts.remove(&id).unwrap_or_default(),
                intention,
                outcome,
            })
        })
        .collect()
}

pub(super) fn samples_of(
    conn: &Connection,
    service: &str,
    status: Option<Status>,
    limit: usize,
) -> Result<Vec<varde_store::SampleLine>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.id, s.code, s.received_ms, s.form, s.status,
                (SELECT max(CASE f.tier WHEN 'severe' THEN 4 WHEN 'warning' THEN 3 WHEN 'caution' THEN 2 WHEN 'info' THEN 1 END)
                   FROM findings f WHERE f.sample_id = s.id AND f.current = 1)
         FROM samples s JOIN services v ON v.id = s.service_id
         WHERE v.slug = ?1 AND (?2 IS NULL OR s.status = ?2) ORDER BY s.received_ms DESC, s.id DESC LIMIT ?3",
    )?;
    type Row = (i64, String, i64, String, String, Option<i64>);
    let rows: Vec<Row> = stmt
        .query_map(params![service, status.map(Status::as_str), limit as i64], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut sold =
        conn.prepare_cached("SELECT substance, known FROM sample_sold_as WHERE sample_id = ?1 ORDER BY position")?;
    rows.into_iter()
        .map(|(id, code, received, form, status, tier)| {
            let sold_as = sold
                .query_map([id], |r| Ok(SubstanceRef { substance: r.get(0)?, known: r.get(1)? }))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(varde_store::SampleLine {
                code: SampleCode::parse(&code).map_err(|_| corrupt("sample code", &code))?,
                received: ts(received)?,
                form: Form::parse(&form).ok_or_else(|| corrupt("form", &form))?,
                sold_as,
                status: Status::parse(&status).ok_or_else(|| corrupt("status", &status))?,
                highest_tier: tier.map(|t| [Tier::Info, Tier::Caution, Tier::Warning, Tier::Severe][(t - 1) as usize]),
            })
        })
        .collect()
}

/// A `result_feedback` row (see `varde_store::feedback_from_stored`).
pub(super) fn feedback_of(
    row: (Option<String>, Option<bool>, Option<String>, Option<String>),
) -> Result<(Option<Intention>, Option<feedback::Outcome>)> {
    Ok(varde_store::feedback_from_stored(row)?)
}

impl varde_store::port::Registration for super::Tx<'_> {
    async fn insert_sample(&self, code: SampleCode, sample: &NewSample, status: Status, at: Timestamp) -> Result<i64> {
        let conn = &*self.conn();
        let service_id: i64 = conn
            .prepare_cached("SELECT id FROM services WHERE slug = ?1")?
            .query_row([sample.service.as_str()], |r| r.get(0))
            .optional()?
            .ok_or_else(|| StoreError::UnknownService(sample.service.to_string()))?;
        let inserted = conn
            .prepare_cached(
                "INSERT INTO samples (code, service_id, received_ms, registered_ms, form, colour, texture, notes, tablet, use_context, status)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?
            .execute(params![
                code.compact(),
                service_id,
                ms(sample.received_at),
                ms(at),
                sample.form.as_str(),
                sample.colour,
                sample.texture,
                sample.notes,
                to_json(&sample.tablet),
                to_json(&sample.use_context),
                status.as_str(),
            ]);
        match inserted {
            Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == ErrorCode::ConstraintViolation => {
                return Err(StoreError::CodeTaken.into());
            }
            other => other?,
        };
        let id = conn.last_insert_rowid();
        let mut sold_as = conn.prepare_cached(
            "INSERT INTO sample_sold_as (sample_id, position, substance, known) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for (i, s) in sample.sold_as.iter().enumerate() {
            sold_as.execute(params![id, i as i64, s.substance, s.known])?;
        }
        Ok(id)
    }
}
