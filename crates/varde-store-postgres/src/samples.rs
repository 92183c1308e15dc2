//! Samples, analyses and their findings, as rows.

use super::*;
use varde_domain::alert::AlertStatus;
use varde_domain::feedback::{self, Intention};
use varde_domain::finding::Finding;
use varde_domain::sample::{
    Amount, AmountUnit, Analysis, AnalysisResult, Component, ComponentRole, Confidence, Form, Outcome, Sample,
};
use varde_store::AlertRef;

pub(super) async fn load_sample(tx: &Tx<'_>, code: SampleCode) -> Result<Option<Sample>> {
    let row = query_opt(
        tx,
        "SELECT s.id, v.slug, s.received_ms, s.registered_ms, s.form, s.colour, s.texture, s.notes, s.tablet, s.use_context
         FROM samples s JOIN services v ON v.id = s.service_id WHERE s.code = $1",
        &[&code.compact()],
    )
    .await?;
    let Some(r) = row else { return Ok(None) };
    let id: i64 = r.try_get(0)?;
    let slug: String = r.try_get(1)?;
    let form: String = r.try_get(4)?;
    let sold_as = sold_as(tx, id).await?;
    let analyses = load_analyses(tx, id).await?;
    Ok(Some(Sample {
        code,
        service: slug_of(&slug)?,
        received_at: ts(r.try_get(2)?)?,
        registered_at: ts(r.try_get(3)?)?,
        status: Status::of(&analyses),
        sold_as,
        form: Form::parse(&form).ok_or_else(|| corrupt("form", &form))?,
        colour: r.try_get(5)?,
        texture: r.try_get(6)?,
        notes: r.try_get(7)?,
        tablet: from_json(r.try_get(8)?)?,
        use_context: from_json(r.try_get(9)?)?,
        analyses,
    }))
}

async fn sold_as(tx: &Tx<'_>, sample_id: i64) -> Result<Vec<SubstanceRef>> {
    query(tx, "SELECT substance, known FROM sample_sold_as WHERE sample_id = $1 ORDER BY position", &[&sample_id])
        .await?
        .iter()
        .map(|r| Ok(SubstanceRef { substance: r.try_get(0)?, known: r.try_get(1)? }))
        .collect()
}

async fn load_analyses(tx: &Tx<'_>, sample_id: i64) -> Result<Vec<Analysis>> {
    let rows = query(
        tx,
        "SELECT id, method, result, inconclusive, performed_ms, recorded_ms, amends, superseded_by
         FROM analyses WHERE sample_id = $1 ORDER BY id",
        &[&sample_id],
    )
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let id: i64 = r.try_get(0)?;
        let method: String = r.try_get(1)?;
        let method = Method::parse(&method).ok_or_else(|| corrupt("method", &method))?;
        let outcome = if method.is_strip() {
            let result: String = r.try_get::<_, Option<String>>(2)?.unwrap_or_default();
            Outcome::Strip { result: AnalysisResult::parse(&result).ok_or_else(|| corrupt("strip result", &result))? }
        } else {
            let components = query(
                tx,
                "SELECT substance, known, role, amount_value, amount_unit, confidence FROM components
                 WHERE analysis_id = $1 ORDER BY position",
                &[&id],
            )
            .await?
            .iter()
            .map(|c| {
                let (value, unit): (Option<f64>, Option<String>) = (c.try_get(3)?, c.try_get(4)?);
                let confidence: Option<String> = c.try_get(5)?;
                Ok(Component {
                    substance: SubstanceRef { substance: c.try_get(0)?, known: c.try_get(1)? },
                    role: parse_role(c.try_get(2)?)?,
                    amount: match (value, unit) {
                        (Some(value), Some(unit)) => Some(Amount { value, unit: parse_unit(&unit)? }),
                        _ => None,
                    },
                    confidence: confidence.as_deref().map(parse_confidence).transpose()?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
            Outcome::Components { components, inconclusive: r.try_get(3)? }
        };
        out.push(Analysis {
            id,
            method,
            performed_at: ts(r.try_get(4)?)?,
            recorded_at: ts(r.try_get(5)?)?,
            outcome,
            amends: r.try_get(6)?,
            superseded_by: r.try_get(7)?,
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

pub(super) async fn insert_analysis(tx: &Tx<'_>, sample_id: i64, a: &NewAnalysis, at: Timestamp) -> Result<i64> {
    let (result, inconclusive) = match &a.outcome {
        Outcome::Strip { result } => (Some(result.as_str()), false),
        Outcome::Components { inconclusive, .. } => (None, *inconclusive),
    };
    let id: i64 = query_one(
        tx,
        "INSERT INTO analyses (sample_id, method, result, inconclusive, performed_ms, recorded_ms, amends)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        &[&sample_id, &a.method.as_str(), &result, &inconclusive, &ms(a.performed_at), &ms(at), &a.amends],
    )
    .await?
    .try_get(0)?;
    if let Outcome::Components { components, .. } = &a.outcome
        && !components.is_empty()
    {
        let substances: Vec<&str> = components.iter().map(|c| c.substance.substance.as_str()).collect();
        let known: Vec<bool> = components.iter().map(|c| c.substance.known).collect();
        let roles: Vec<&str> = components.iter().map(|c| c.role.as_str()).collect();
        let values: Vec<Option<f64>> = components.iter().map(|c| c.amount.map(|a| a.value)).collect();
        let units: Vec<Option<&str>> = components.iter().map(|c| c.amount.map(|a| a.unit.as_str())).collect();
        let confidences: Vec<Option<&str>> = components.iter().map(|c| c.confidence.map(Confidence::as_str)).collect();
        // One statement for all of them: writes run under the writers' lock, and each statement is a round trip.
        execute(
            tx,
            "INSERT INTO components (analysis_id, position, substance, known, role, amount_value, amount_unit, confidence)
             SELECT $1, u.position - 1, u.substance, u.known, u.role, u.amount_value, u.amount_unit, u.confidence
             FROM unnest($2::text[], $3::bool[], $4::text[], $5::float8[], $6::text[], $7::text[]) WITH ORDINALITY
               AS u(substance, known, role, amount_value, amount_unit, confidence, position)",
            &[&id, &substances, &known, &roles, &values, &units, &confidences],
        )
        .await?;
    }
    Ok(id)
}

pub(super) async fn sample_id_of(tx: &Tx<'_>, code: SampleCode) -> Result<i64> {
    query_opt(tx, "SELECT id FROM samples WHERE code = $1", &[&code.compact()])
        .await?
        .map(|r| r.try_get(0))
        .transpose()?
        .ok_or(Error::Store(StoreError::UnknownSample))
}

pub(super) async fn update_status(tx: &Tx<'_>, sample_id: i64, code: SampleCode) -> Result<Sample> {
    let sample = load_sample(tx, code).await?.ok_or(Error::Store(StoreError::UnknownSample))?;
    execute(tx, "UPDATE samples SET status = $1 WHERE id = $2", &[&sample.status.as_str(), &sample_id]).await?;
    Ok(sample)
}

/// A sample with its current findings and the alerts it is evidence for.
pub(super) async fn load_stored(tx: &Tx<'_>, code: SampleCode) -> Result<Option<StoredSample>> {
    let Some(sample) = load_sample(tx, code).await? else { return Ok(None) };
    let r = query_one(
        tx,
        "SELECT s.id, v.fylke FROM samples s JOIN services v ON v.id = s.service_id WHERE s.code = $1",
        &[&code.compact()],
    )
    .await?;
    let (id, fylke): (i64, String) = (r.try_get(0)?, r.try_get(1)?);
    let findings = current_findings(tx, id).await?;
    let alerts = alert_refs(tx, id).await?;
    Ok(Some(StoredSample { sample, fylke, findings, alerts }))
}

/// The alerts a sample is evidence for.
pub(super) async fn alert_refs(tx: &Tx<'_>, sample_id: i64) -> Result<Vec<AlertRef>> {
    query(
        tx,
        "SELECT a.id, a.status, a.tier FROM alert_evidence e JOIN alerts a ON a.id = e.alert_id
         WHERE e.sample_id = $1 ORDER BY a.id",
        &[&sample_id],
    )
    .await?
    .iter()
    .map(|r| {
        let status: String = r.try_get(1)?;
        Ok(AlertRef {
            id: r.try_get(0)?,
            status: AlertStatus::parse(&status).ok_or_else(|| corrupt("alert status", &status))?,
            tier: tier_of(r.try_get(2)?)?,
        })
    })
    .collect()
}

pub(super) async fn current_findings(tx: &Tx<'_>, sample_id: i64) -> Result<Vec<Finding>> {
    query(
        tx,
        "SELECT rule, policy_version, tier, substances, method, explanation FROM findings
         WHERE sample_id = $1 AND current ORDER BY id",
        &[&sample_id],
    )
    .await?
    .iter()
    .map(|r| {
        let method: Option<String> = r.try_get(4)?;
        Ok(Finding {
            rule: r.try_get(0)?,
            policy_version: r.try_get(1)?,
            tier: tier_of(r.try_get(2)?)?,
            substances: serde_json::from_str(r.try_get(3)?).map_err(|e| Error::corrupt(e.to_string()))?,
            method: method.as_deref().map(|m| Method::parse(m).ok_or_else(|| corrupt("method", m))).transpose()?,
            explanation: serde_json::from_str(r.try_get(5)?).map_err(|e| Error::corrupt(e.to_string()))?,
        })
    })
    .collect()
}

/// The samples received in `[from, to)`, summarised in six queries (not one per sample).
pub(super) async fn summaries(tx: &Tx<'_>, from: i64, to: i64) -> Result<Vec<varde_store::SampleSummary>> {
    use std::collections::HashMap;
    // The samples of the range, by the received_ms index; the other queries take their ids from it.
    const IN_RANGE: &str = "SELECT id FROM samples WHERE received_ms >= $1 AND received_ms < $2";
    let range: Params<'_> = &[&from, &to];
    let rows = query(
        tx,
        "SELECT s.id, s.received_ms, v.fylke, s.form FROM samples s JOIN services v ON v.id = s.service_id
         WHERE s.received_ms >= $1 AND s.received_ms < $2 ORDER BY s.id",
        range,
    )
    .await?;
    let mut sold: HashMap<i64, Vec<SubstanceRef>> = HashMap::new();
    let sql = format!(
        "SELECT sample_id, substance, known FROM sample_sold_as WHERE sample_id IN ({IN_RANGE}) ORDER BY sample_id, position"
    );
    for r in query(tx, &sql, range).await? {
        sold.entry(r.try_get(0)?).or_default().push(SubstanceRef { substance: r.try_get(1)?, known: r.try_get(2)? });
    }
    let mut found: HashMap<i64, Vec<SubstanceRef>> = HashMap::new();
    let sql = format!(
        "SELECT DISTINCT a.sample_id, c.substance, c.known FROM components c JOIN analyses a ON a.id = c.analysis_id
         WHERE a.superseded_by IS NULL AND a.sample_id IN ({IN_RANGE}) ORDER BY a.sample_id, c.substance"
    );
    for r in query(tx, &sql, range).await? {
        found.entry(r.try_get(0)?).or_default().push(SubstanceRef { substance: r.try_get(1)?, known: r.try_get(2)? });
    }
    let mut tiers: HashMap<i64, Tier> = HashMap::new();
    let mut rules: HashMap<i64, Vec<String>> = HashMap::new();
    // In the order the rules found them (a summary is the same whichever backend holds it).
    let sql =
        format!("SELECT sample_id, tier, rule FROM findings WHERE current AND sample_id IN ({IN_RANGE}) ORDER BY id");
    for r in query(tx, &sql, range).await? {
        let id: i64 = r.try_get(0)?;
        let tier = tier_of(r.try_get(1)?)?;
        let slot = tiers.entry(id).or_insert(tier);
        *slot = (*slot).max(tier);
        rules.entry(id).or_default().push(r.try_get(2)?);
    }
    let mut amounts: HashMap<i64, Vec<(String, f64)>> = HashMap::new();
    let sql = format!(
        "SELECT a.sample_id, c.substance, c.amount_value, c.amount_unit FROM components c JOIN analyses a ON a.id = c.analysis_id
         WHERE a.superseded_by IS NULL AND c.role = 'main' AND c.known AND c.amount_unit IN ('mg', 'ug')
           AND a.sample_id IN ({IN_RANGE}) ORDER BY c.analysis_id, c.position"
    );
    for r in query(tx, &sql, range).await? {
        let (value, unit): (f64, &str) = (r.try_get(2)?, r.try_get(3)?);
        amounts
            .entry(r.try_get(0)?)
            .or_default()
            .push((r.try_get(1)?, if unit == "ug" { value / 1000.0 } else { value }));
    }
    let mut feedback: HashMap<i64, (Option<Intention>, Option<feedback::Outcome>)> = HashMap::new();
    let sql = format!(
        "SELECT sample_id, intention, used, effect, unexpected FROM result_feedback WHERE sample_id IN ({IN_RANGE})"
    );
    for r in query(tx, &sql, range).await? {
        feedback.insert(r.try_get(0)?, feedback_of((r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?))?);
    }
    rows.iter()
        .map(|r| {
            let id: i64 = r.try_get(0)?;
            let form: String = r.try_get(3)?;
            let (intention, outcome) = feedback.remove(&id).unwrap_or((None, None));
            Ok(varde_store::SampleSummary {
                id,
                received: ts(r.try_get(1)?)?,
                fylke: r.try_get(2)?,
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

pub(super) async fn samples_of(
    tx: &Tx<'_>,
    service: &str,
    status: Option<Status>,
    n: usize,
) -> Result<Vec<varde_store::SampleLine>> {
    let rows = query(
        tx,
        "SELECT s.id, s.code, s.received_ms, s.form, s.status,
                (SELECT max(CASE f.tier WHEN 'severe' THEN 4 WHEN 'warning' THEN 3 WHEN 'caution' THEN 2 WHEN 'info' THEN 1 END)::bigint
                   FROM findings f WHERE f.sample_id = s.id AND f.current)
         FROM samples s JOIN services v ON v.id = s.service_id
         WHERE v.slug = $1 AND ($2::text IS NULL OR s.status = $2) ORDER BY s.received_ms DESC, s.id DESC LIMIT $3",
        &[&service, &status.map(Status::as_str), &limit(n)],
    )
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let (code, form, status): (String, String, String) = (r.try_get(1)?, r.try_get(3)?, r.try_get(4)?);
        let tier: Option<i64> = r.try_get(5)?;
        out.push(varde_store::SampleLine {
            code: code_of(&code)?,
            received: ts(r.try_get(2)?)?,
            form: Form::parse(&form).ok_or_else(|| corrupt("form", &form))?,
            sold_as: sold_as(tx, r.try_get(0)?).await?,
            status: Status::parse(&status).ok_or_else(|| corrupt("status", &status))?,
            highest_tier: tier.map(|t| [Tier::Info, Tier::Caution, Tier::Warning, Tier::Severe][(t - 1) as usize]),
        });
    }
    Ok(out)
}

/// A `result_feedback` row (see `varde_store::feedback_from_stored`).
pub(super) fn feedback_of(
    row: (Option<String>, Option<bool>, Option<String>, Option<String>),
) -> Result<(Option<Intention>, Option<feedback::Outcome>)> {
    Ok(varde_store::feedback_from_stored(row)?)
}
