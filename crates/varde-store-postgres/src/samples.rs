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
    let Some(id) = id_of(tx, code).await? else { return Ok(None) };
    Ok(load_samples(tx, &[id]).await?.pop().map(|(_, sample, _)| sample))
}

async fn id_of(tx: &Tx<'_>, code: SampleCode) -> Result<Option<i64>> {
    Ok(query_opt(tx, "SELECT id FROM samples WHERE code = $1", &[&code.compact()])
        .await?
        .map(|r| r.try_get(0))
        .transpose()?)
}

/// Samples by id, in the order asked, each with its service's fylke: four queries however many there are, sent
/// together (a draft is rewritten from its newest samples under the writers' lock, where every round trip counts).
pub(super) async fn load_samples(tx: &Tx<'_>, ids: &[i64]) -> Result<Vec<(i64, Sample, String)>> {
    use std::collections::HashMap;
    let (rows, sold_rows, component_rows, analysis_rows) = futures_util::future::try_join4(
        query(
            tx,
            "SELECT s.id, s.code, v.slug, s.received_ms, s.registered_ms, s.form, s.colour, s.texture, s.notes,
                    s.tablet, s.use_context, v.fylke
             FROM samples s JOIN services v ON v.id = s.service_id WHERE s.id = ANY($1)",
            &[&ids],
        ),
        query(
            tx,
            "SELECT sample_id, substance, known FROM sample_sold_as WHERE sample_id = ANY($1)
             ORDER BY sample_id, position",
            &[&ids],
        ),
        query(
            tx,
            "SELECT c.analysis_id, c.substance, c.known, c.role, c.amount_value, c.amount_unit, c.confidence
             FROM components c JOIN analyses a ON a.id = c.analysis_id WHERE a.sample_id = ANY($1)
             ORDER BY c.analysis_id, c.position",
            &[&ids],
        ),
        query(
            tx,
            "SELECT sample_id, id, method, result, inconclusive, performed_ms, recorded_ms, amends, superseded_by
             FROM analyses WHERE sample_id = ANY($1) ORDER BY id",
            &[&ids],
        ),
    )
    .await?;
    let mut sold_as: HashMap<i64, Vec<SubstanceRef>> = HashMap::new();
    for r in sold_rows {
        sold_as.entry(r.try_get(0)?).or_default().push(SubstanceRef { substance: r.try_get(1)?, known: r.try_get(2)? });
    }
    let mut components: HashMap<i64, Vec<Component>> = HashMap::new();
    for c in component_rows {
        let (value, unit): (Option<f64>, Option<String>) = (c.try_get(4)?, c.try_get(5)?);
        let confidence: Option<String> = c.try_get(6)?;
        components.entry(c.try_get(0)?).or_default().push(Component {
            substance: SubstanceRef { substance: c.try_get(1)?, known: c.try_get(2)? },
            role: parse_role(c.try_get(3)?)?,
            amount: match (value, unit) {
                (Some(value), Some(unit)) => Some(Amount { value, unit: parse_unit(&unit)? }),
                _ => None,
            },
            confidence: confidence.as_deref().map(parse_confidence).transpose()?,
        });
    }
    let mut analyses: HashMap<i64, Vec<Analysis>> = HashMap::new();
    for r in analysis_rows {
        let id: i64 = r.try_get(1)?;
        let method: String = r.try_get(2)?;
        let method = Method::parse(&method).ok_or_else(|| corrupt("method", &method))?;
        let outcome = if method.is_strip() {
            let result: String = r.try_get::<_, Option<String>>(3)?.unwrap_or_default();
            Outcome::Strip { result: AnalysisResult::parse(&result).ok_or_else(|| corrupt("strip result", &result))? }
        } else {
            Outcome::Components { components: components.remove(&id).unwrap_or_default(), inconclusive: r.try_get(4)? }
        };
        analyses.entry(r.try_get(0)?).or_default().push(Analysis {
            id,
            method,
            performed_at: ts(r.try_get(5)?)?,
            recorded_at: ts(r.try_get(6)?)?,
            outcome,
            amends: r.try_get(7)?,
            superseded_by: r.try_get(8)?,
        });
    }
    let mut by_id: HashMap<i64, (Sample, String)> = HashMap::with_capacity(rows.len());
    for r in rows {
        let id: i64 = r.try_get(0)?;
        let (code, slug, form): (String, String, String) = (r.try_get(1)?, r.try_get(2)?, r.try_get(5)?);
        let analyses = analyses.remove(&id).unwrap_or_default();
        let sample = Sample {
            code: code_of(&code)?,
            service: slug_of(&slug)?,
            received_at: ts(r.try_get(3)?)?,
            registered_at: ts(r.try_get(4)?)?,
            status: Status::of(&analyses),
            sold_as: sold_as.remove(&id).unwrap_or_default(),
            form: Form::parse(&form).ok_or_else(|| corrupt("form", &form))?,
            colour: r.try_get(6)?,
            texture: r.try_get(7)?,
            notes: r.try_get(8)?,
            tablet: from_json(r.try_get(9)?)?,
            use_context: from_json(r.try_get(10)?)?,
            analyses,
        };
        by_id.insert(id, (sample, r.try_get(11)?));
    }
    Ok(ids.iter().filter_map(|id| by_id.remove(id).map(|(sample, fylke)| (*id, sample, fylke))).collect())
}

async fn sold_as(tx: &Tx<'_>, sample_id: i64) -> Result<Vec<SubstanceRef>> {
    query(tx, "SELECT substance, known FROM sample_sold_as WHERE sample_id = $1 ORDER BY position", &[&sample_id])
        .await?
        .iter()
        .map(|r| Ok(SubstanceRef { substance: r.try_get(0)?, known: r.try_get(1)? }))
        .collect()
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
    // As a registration writes its analyses, one statement per table.
    let id = registrations::insert_analyses(tx, &[(sample_id, a, at)]).await?[0];
    if let Outcome::Components { components, .. } = &a.outcome {
        let rows: Vec<_> = components.iter().enumerate().map(|(position, c)| (id, position, c)).collect();
        registrations::insert_components(tx, &rows).await?;
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
    let Some(id) = id_of(tx, code).await? else { return Ok(None) };
    Ok(load_stored_many(tx, &[id]).await?.pop())
}

/// Samples by id (see [`load_samples`]) with their current findings and the alerts they are evidence for: six
/// queries however many there are.
pub(super) async fn load_stored_many(tx: &Tx<'_>, ids: &[i64]) -> Result<Vec<StoredSample>> {
    let samples = load_samples(tx, ids).await?;
    let mut findings = current_findings_of(tx, ids).await?;
    let mut alerts = alert_refs_of(tx, ids).await?;
    Ok(samples
        .into_iter()
        .map(|(id, sample, fylke)| StoredSample {
            sample,
            fylke,
            findings: findings.remove(&id).unwrap_or_default(),
            alerts: alerts.remove(&id).unwrap_or_default(),
        })
        .collect())
}

/// The alerts a sample is evidence for.
pub(super) async fn alert_refs(tx: &Tx<'_>, sample_id: i64) -> Result<Vec<AlertRef>> {
    Ok(alert_refs_of(tx, &[sample_id]).await?.remove(&sample_id).unwrap_or_default())
}

async fn alert_refs_of(tx: &Tx<'_>, ids: &[i64]) -> Result<std::collections::HashMap<i64, Vec<AlertRef>>> {
    let mut out: std::collections::HashMap<i64, Vec<AlertRef>> = Default::default();
    for r in query(
        tx,
        "SELECT e.sample_id, a.id, a.status, a.tier FROM alert_evidence e JOIN alerts a ON a.id = e.alert_id
         WHERE e.sample_id = ANY($1) ORDER BY a.id",
        &[&ids],
    )
    .await?
    {
        let status: String = r.try_get(2)?;
        out.entry(r.try_get(0)?).or_default().push(AlertRef {
            id: r.try_get(1)?,
            status: AlertStatus::parse(&status).ok_or_else(|| corrupt("alert status", &status))?,
            tier: tier_of(r.try_get(3)?)?,
        });
    }
    Ok(out)
}

pub(super) async fn current_findings_of(
    tx: &Tx<'_>,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, Vec<Finding>>> {
    let mut out: std::collections::HashMap<i64, Vec<Finding>> = Default::default();
    for r in query(
        tx,
        "SELECT sample_id, rule, policy_version, tier, substances, method, explanation FROM findings
         WHERE sample_id = ANY($1) AND current ORDER BY id",
        &[&ids],
    )
    .await?
    {
        let method: Option<String> = r.try_get(5)?;
        out.entry(r.try_get(0)?).or_default().push(Finding {
            rule: r.try_get(1)?,
            policy_version: r.try_get(2)?,
            tier: tier_of(r.try_get(3)?)?,
            substances: serde_json::from_str(r.try_get(4)?).map_err(|e| Error::corrupt(e.to_string()))?,
            method: method.as_deref().map(|m| Method::parse(m).ok_or_else(|| corrupt("method", m))).transpose()?,
            explanation: serde_json::from_str(r.try_get(6)?).map_err(|e| Error::corrupt(e.to_string()))?,
        });
    }
    Ok(out)
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
