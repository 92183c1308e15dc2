//! Alerts: drafting from evidence, the reviewer's lifecycle, versions and transitions.

use super::samples::load_stored_many;
use super::*;
use varde_domain::ErrorCode;
use varde_domain::alert::{self, AlertContent, AlertStatus};
use varde_domain::finding::Finding;
use varde_domain::sample::Sample;
use varde_store::AlertRef;

const ALERT_COLUMNS: &str = "a.id, a.status, a.tier, a.content, a.version, a.created_ms, a.updated_ms, a.published_ms,
    a.withdrawn_ms, a.valid_until_ms, a.first_evidence_ms, a.last_evidence_ms, a.new_evidence,
    a.evidence_count,
    (SELECT max(v.at_ms) FROM alert_versions v WHERE v.alert_id = a.id AND v.kind IN ('published', 'updated', 'reconfirmed')),
    (SELECT json_build_object('size', length(p.jpeg), 'width', p.width, 'height', p.height, 'sha1', p.sha1)::text
     FROM alert_photos p WHERE p.alert_id = a.id)";

fn to_alert(r: &Row) -> Result<Alert> {
    let opt = |i: usize| -> Result<Option<Timestamp>> { r.try_get::<_, Option<i64>>(i)?.map(ts).transpose() };
    let id: i64 = r.try_get(0)?;
    let status: String = r.try_get(1)?;
    let photo: Option<String> = r.try_get(15)?;
    Ok(Alert {
        id,
        status: AlertStatus::parse(&status).ok_or_else(|| corrupt("alert status", &status))?,
        tier: tier_of(r.try_get(2)?)?,
        version: narrow(r.try_get(4)?, "alert version")?,
        content: serde_json::from_str(r.try_get(3)?).map_err(|e| Error::corrupt(e.to_string()))?,
        created_at: ts(r.try_get(5)?)?,
        updated_at: ts(r.try_get(6)?)?,
        published_at: opt(7)?,
        withdrawn_at: opt(8)?,
        valid_until: opt(9)?,
        evidence_count: narrow(r.try_get(13)?, "evidence count")?,
        first_evidence_at: ts(r.try_get(10)?)?,
        last_evidence_at: ts(r.try_get(11)?)?,
        new_evidence: r.try_get(12)?,
        confirmed_at: opt(14)?,
        photo: photo
            .map(|p| serde_json::from_str::<alert::PhotoFacts>(&p).map(|f| f.at(id)))
            .transpose()
            .map_err(|e| Error::corrupt(e.to_string()))?,
        priority: None,
    })
}

pub(super) async fn load_alert(tx: &Tx<'_>, id: i64) -> Result<Option<Alert>> {
    let sql = format!("SELECT {ALERT_COLUMNS} FROM alerts a WHERE a.id = $1");
    query_opt(tx, &sql, &[&id]).await?.as_ref().map(to_alert).transpose()
}

pub(super) async fn list(tx: &Tx<'_>, filter: &AlertFilter) -> Result<Vec<Alert>> {
    // The statuses are chosen in SQL, through the status index: the public list asks for the few published and
    // withdrawn alerts and must not read every draft of years of history to find them.
    let statuses: Vec<&str> = filter.statuses.iter().map(|s| s.as_str()).collect();
    let sql = format!(
        "SELECT {ALERT_COLUMNS} FROM alerts a WHERE (cardinality($1::text[]) = 0 OR a.status = ANY($1))
         ORDER BY coalesce(a.published_ms, a.created_ms) DESC, a.id DESC"
    );
    let limit = if filter.limit == 0 { usize::MAX } else { filter.limit };
    let mut out = Vec::new();
    for r in query(tx, &sql, &[&statuses]).await? {
        let a = to_alert(&r)?;
        let tier_ok = filter.min_tier.is_none_or(|t| a.tier >= t);
        let fylke_ok =
            filter.fylke.as_ref().is_none_or(|f| a.content.fylker.is_empty() || a.content.fylker.contains(f));
        if tier_ok && fylke_ok {
            out.push(a);
            if out.len() >= limit {
                break;
            }
        }
    }
    Ok(out)
}

pub(super) async fn versions(tx: &Tx<'_>, id: i64) -> Result<Vec<AlertVersion>> {
    query(
        tx,
        "SELECT version, kind, at_ms, tier, content, valid_until_ms, note FROM alert_versions WHERE alert_id = $1 ORDER BY version",
        &[&id],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(AlertVersion {
            version: narrow(r.try_get(0)?, "alert version")?,
            kind: r.try_get(1)?,
            at: ts(r.try_get(2)?)?,
            tier: tier_of(r.try_get(3)?)?,
            content: serde_json::from_str(r.try_get(4)?).map_err(|e| Error::corrupt(e.to_string()))?,
            valid_until: r.try_get::<_, Option<i64>>(5)?.map(ts).transpose()?,
            note: r.try_get(6)?,
        })
    })
    .collect()
}

/// The evidence samples, newest first; at most `n` of them.
pub(super) async fn evidence(tx: &Tx<'_>, id: i64, n: usize) -> Result<Vec<StoredSample>> {
    let ids: Vec<i64> = query(
        tx,
        "SELECT sample_id FROM alert_evidence WHERE alert_id = $1 ORDER BY received_ms DESC, sample_id DESC LIMIT $2",
        &[&id, &limit(n)],
    )
    .await?
    .iter()
    .map(|r| r.try_get(0))
    .collect::<Result<_, _>>()?;
    load_stored_many(tx, &ids).await
}

async fn record_transition(
    tx: &Tx<'_>,
    id: i64,
    at: Timestamp,
    actor: &str,
    action: &str,
    from: Option<AlertStatus>,
    to: AlertStatus,
) -> Result<()> {
    execute(
        tx,
        "INSERT INTO alert_transitions (alert_id, at_ms, actor, action, from_status, to_status) VALUES ($1, $2, $3, $4, $5, $6)",
        &[&id, &ms(at), &actor, &action, &from.map(AlertStatus::as_str), &to.as_str()],
    )
    .await?;
    Ok(())
}

fn content_json(c: &AlertContent) -> String {
    serde_json::to_string(c).expect("plain data serialises")
}

async fn add_evidence(tx: &Tx<'_>, alert: i64, sample: i64, at: Timestamp) -> Result<u64> {
    execute(
        tx,
        "INSERT INTO alert_evidence (alert_id, sample_id, added_ms, received_ms)
         SELECT $1, $2, $3, received_ms FROM samples WHERE id = $2 ON CONFLICT DO NOTHING",
        &[&alert, &sample, &ms(at)],
    )
    .await
}

/// Joins the sample to an open alert about the same product in the same fylke within the window, or starts a
/// draft (see `alert::join` for what joining does to each status). Runs under the writers' lock, so two samples of
/// one product committing together cannot both find no draft and make two.
#[allow(clippy::too_many_arguments)]
pub(super) async fn join_or_draft(
    tx: &Tx<'_>,
    assessor: &Assessor,
    sample_id: i64,
    sample: &Sample,
    findings: &[Finding],
    key: &str,
    fylke: &str,
    at: Timestamp,
) -> Result<AlertRef> {
    let window = alert::JOIN_WINDOW_DAYS * 86_400_000;
    let received = ms(sample.received_at);
    let open = query_opt(
        tx,
        // The statuses of alert::JOINABLE.
        "SELECT id, status, tier FROM alerts WHERE product_key = $1 AND fylke = $2 AND status IN ('draft', 'published', 'archived')
         AND last_evidence_ms >= $3::bigint - $4::bigint AND first_evidence_ms <= $3::bigint + $4::bigint
         ORDER BY id DESC LIMIT 1",
        &[&key, &fylke, &received, &window],
    )
    .await?;
    match open {
        Some(r) => {
            let (id, status): (i64, String) = (r.try_get(0)?, r.try_get(1)?);
            let mut tier = tier_of(r.try_get(2)?)?;
            let added = add_evidence(tx, id, sample_id, at).await?;
            execute(
                tx,
                "UPDATE alerts SET first_evidence_ms = least(first_evidence_ms, $2), last_evidence_ms = greatest(last_evidence_ms, $2),
                 updated_ms = $3 WHERE id = $1",
                &[&id, &received, &ms(at)],
            )
            .await?;
            let status = AlertStatus::parse(&status).ok_or_else(|| corrupt("alert status", &status))?;
            let joining = alert::join(status, added > 0);
            if joining.status != status {
                execute(tx, "UPDATE alerts SET status = $2 WHERE id = $1", &[&id, &joining.status.as_str()]).await?;
            }
            if let Some((reason, to)) = joining.transition {
                record_transition(tx, id, at, "varde", reason, Some(status), to).await?;
            }
            if joining.redraft {
                tier = redraft(tx, assessor, id, fylke).await?;
            }
            if joining.flag_new_evidence {
                execute(tx, "UPDATE alerts SET new_evidence = true WHERE id = $1", &[&id]).await?;
            }
            Ok(AlertRef { id, status: joining.status, tier })
        }
        None => {
            let (tier, content) = assessor.draft(&[(sample.clone(), findings.to_vec())], None, fylke);
            let id: i64 = query_one(
                tx,
                "INSERT INTO alerts (status, tier, product_key, fylke, content, created_ms, updated_ms, first_evidence_ms, last_evidence_ms)
                 VALUES ('draft', $1, $2, $3, $4, $5, $5, $6, $6) RETURNING id",
                &[&tier.as_str(), &key, &fylke, &content_json(&content), &ms(at), &received],
            )
            .await?
            .try_get(0)?;
            add_evidence(tx, id, sample_id, at).await?;
            record_transition(tx, id, at, "varde", "drafted", None, AlertStatus::Draft).await?;
            let payload = varde_store::payloads::alert_drafted(id, tier, &content, None);
            events::append(tx, at, "alert.drafted", false, Some(tier), &content.fylker, Some(id), &payload).await?;
            Ok(AlertRef { id, status: AlertStatus::Draft, tier })
        }
    }
}

/// Rewrites a draft's text and tier from its evidence: the text from the newest samples, count, dates and escalation
/// from them all. New evidence never lowers a draft's tier. Returns the tier.
async fn redraft(tx: &Tx<'_>, assessor: &Assessor, id: i64, fylke: &str) -> Result<Tier> {
    let evidence: Vec<(Sample, Vec<Finding>)> =
        evidence(tx, id, alert::DRAFT_FROM_NEWEST).await?.into_iter().map(|s| (s.sample, s.findings)).collect();
    let r = query_one(
        tx,
        "SELECT evidence_count, first_evidence_ms, last_evidence_ms, tier FROM alerts WHERE id = $1",
        &[&id],
    )
    .await?;
    let span = alert::EvidenceSpan {
        total: narrow(r.try_get(0)?, "evidence count")?,
        first: ts(r.try_get(1)?)?,
        last: ts(r.try_get(2)?)?,
    };
    let (drafted, content) = assessor.draft(&evidence, Some(span), fylke);
    let tier = drafted.max(tier_of(r.try_get(3)?)?);
    execute(
        tx,
        "UPDATE alerts SET tier = $2, content = $3 WHERE id = $1",
        &[&id, &tier.as_str(), &content_json(&content)],
    )
    .await?;
    Ok(tier)
}

/// Archives drafts whose newest evidence is older than `before`; returns how many.
pub(super) async fn archive_stale(tx: &Tx<'_>, before: Timestamp, at: Timestamp) -> Result<usize> {
    let ids: Vec<i64> = query(
        tx,
        "UPDATE alerts SET status = 'archived', updated_ms = $2 WHERE status = 'draft' AND last_evidence_ms < $1 RETURNING id",
        &[&ms(before), &ms(at)],
    )
    .await?
    .iter()
    .map(|r| r.try_get(0))
    .collect::<Result<_, _>>()?;
    for id in &ids {
        record_transition(tx, *id, at, "varde", "archived", Some(AlertStatus::Draft), AlertStatus::Archived).await?;
    }
    if !ids.is_empty() {
        let subject = format!("{} drafts without evidence since {before}", ids.len());
        append_audit(tx, at, "varde", "alert.archive", &subject).await?;
    }
    Ok(ids.len())
}

/// Merges draft `from` into draft `into` (both drafts or archived, in the same fylke): every sample of `from` becomes
/// evidence of `into`, whose text is rewritten from it all; `from` is discarded.
pub(super) async fn merge(
    tx: &Tx<'_>,
    assessor: &Assessor,
    from: i64,
    into: i64,
    actor: &str,
    at: Timestamp,
) -> Result<Alert> {
    let a = load_alert(tx, from).await?.ok_or(Error::Store(StoreError::UnknownAlert))?;
    let b = load_alert(tx, into).await?.ok_or(Error::Store(StoreError::UnknownAlert))?;
    alert::may_merge(&a, &b)
        .map_err(|message| Error::Store(StoreError::Invalid { code: ErrorCode::InvalidTransition, message }))?;
    let fylke: String = query_one(tx, "SELECT fylke FROM alerts WHERE id = $1", &[&into]).await?.try_get(0)?;
    execute(
        tx,
        "INSERT INTO alert_evidence (alert_id, sample_id, added_ms, received_ms)
         SELECT $1, sample_id, $3, received_ms FROM alert_evidence WHERE alert_id = $2 ON CONFLICT DO NOTHING",
        &[&into, &from, &ms(at)],
    )
    .await?;
    let raise = a.tier > b.tier;
    execute(
        tx,
        "UPDATE alerts SET status = 'draft', first_evidence_ms = least(first_evidence_ms, $2),
         last_evidence_ms = greatest(last_evidence_ms, $3), tier = CASE WHEN $4 THEN $5 ELSE tier END, updated_ms = $6
         WHERE id = $1",
        &[&into, &ms(a.first_evidence_at), &ms(a.last_evidence_at), &raise, &a.tier.as_str(), &ms(at)],
    )
    .await?;
    redraft(tx, assessor, into, &fylke).await?;
    execute(
        tx,
        "UPDATE alerts SET status = 'discarded', withdrawn_ms = $2, updated_ms = $2 WHERE id = $1",
        &[&from, &ms(at)],
    )
    .await?;
    record_transition(tx, from, at, actor, "merged", Some(a.status), AlertStatus::Discarded).await?;
    record_transition(tx, into, at, actor, "evidence", Some(b.status), AlertStatus::Draft).await?;
    append_audit(tx, at, actor, "alert.merge", &format!("alert:{from} into alert:{into}")).await?;
    let merged = load_alert(tx, into).await?.ok_or(Error::Store(StoreError::UnknownAlert))?;
    let payload = varde_store::payloads::alert_merged(into, from, merged.tier, &merged.content.title);
    events::append(tx, at, "alert.merged", false, Some(merged.tier), &merged.content.fylker, Some(into), &payload)
        .await?;
    Ok(merged)
}

/// Copies the photo of one of the alert's evidence samples to the alert, to be published with it.
pub(super) async fn choose_photo(tx: &Tx<'_>, alert: i64, code: SampleCode, actor: &str, at: Timestamp) -> Result<()> {
    use sha1::Digest;
    load_alert(tx, alert).await?.ok_or(Error::Store(StoreError::UnknownAlert))?;
    let sample = sample_id_of(tx, code).await?;
    let evidence: bool = query_one(
        tx,
        "SELECT EXISTS (SELECT 1 FROM alert_evidence WHERE alert_id = $1 AND sample_id = $2)",
        &[&alert, &sample],
    )
    .await?
    .try_get(0)?;
    if !evidence {
        return Err(StoreError::Invalid {
            code: ErrorCode::InvalidValue,
            message: format!("sample {code} is not evidence for alert {alert}"),
        }
        .into());
    }
    let photo = query_opt(tx, "SELECT jpeg, width, height FROM photos WHERE sample_id = $1", &[&sample]).await?;
    let photo = photo.ok_or_else(|| StoreError::Invalid {
        code: ErrorCode::InvalidValue,
        message: format!("sample {code} has no photo"),
    })?;
    let (jpeg, width, height): (Vec<u8>, i64, i64) = (photo.try_get(0)?, photo.try_get(1)?, photo.try_get(2)?);
    let sha1 = hex::encode(sha1::Sha1::digest(&jpeg));
    execute(
        tx,
        "INSERT INTO alert_photos (alert_id, sample_id, jpeg, width, height, sha1, chosen_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (alert_id) DO UPDATE SET sample_id = excluded.sample_id, jpeg = excluded.jpeg, width = excluded.width,
         height = excluded.height, sha1 = excluded.sha1, chosen_ms = excluded.chosen_ms",
        &[&alert, &sample, &jpeg, &width, &height, &sha1, &ms(at)],
    )
    .await?;
    append_audit(tx, at, actor, "alert.photo", &format!("alert:{alert} sample:{}", code.compact())).await
}

/// A reviewer's action on an alert, written as `alert::Change` decides it.
pub(super) async fn change(
    tx: &Tx<'_>,
    assessor: &Assessor,
    id: i64,
    action: AlertAction,
    edit: &AlertEdit,
    actor: &str,
    at: Timestamp,
) -> Result<Alert> {
    let alert = load_alert(tx, id).await?.ok_or(Error::Store(StoreError::UnknownAlert))?;
    let change = alert::Change::of(&alert, action, edit, &assessor.geography, at).map_err(|refused| match refused {
        alert::Refused::Transition(message) => StoreError::Invalid { code: ErrorCode::InvalidTransition, message },
        alert::Refused::Input(e) => StoreError::Input(e),
    })?;
    let body = content_json(&change.content);
    let (tier, valid_until) = (change.tier.as_str(), change.valid_until.map(ms));
    let version = i64::from(change.version.unwrap_or(alert.version));
    match change.row {
        alert::RowChange::Edited => {
            execute(
                tx,
                "UPDATE alerts SET content = $2, tier = $3, valid_until_ms = $4, updated_ms = $5 WHERE id = $1",
                &[&id, &body, &tier, &valid_until, &ms(at)],
            )
            .await?
        }
        alert::RowChange::Published => {
            execute(
                tx,
                "UPDATE alerts SET status = 'published', content = $2, tier = $3, valid_until_ms = $4, updated_ms = $5,
                 version = $6, published_ms = coalesce(published_ms, $5), new_evidence = false WHERE id = $1",
                &[&id, &body, &tier, &valid_until, &ms(at), &version],
            )
            .await?
        }
        alert::RowChange::Discarded => {
            execute(
                tx,
                "UPDATE alerts SET status = 'discarded', withdrawn_ms = $2, updated_ms = $2 WHERE id = $1",
                &[&id, &ms(at)],
            )
            .await?
        }
        alert::RowChange::Withdrawn => execute(
            tx,
            "UPDATE alerts SET status = 'withdrawn', withdrawn_ms = $2, updated_ms = $2, version = $3 WHERE id = $1",
            &[&id, &ms(at), &version],
        )
        .await?,
    };
    if change.version.is_some() {
        execute(
            tx,
            "INSERT INTO alert_versions (alert_id, version, kind, at_ms, actor, tier, content, valid_until_ms, note)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[&id, &version, &change.kind, &ms(at), &actor, &tier, &body, &valid_until, &edit.note],
        )
        .await?;
    }
    record_transition(tx, id, at, actor, change.kind, Some(change.from), change.to).await?;
    append_audit(tx, at, actor, &format!("alert.{}", change.kind), &format!("alert:{id}")).await?;
    let changed = load_alert(tx, id).await?.ok_or(Error::Store(StoreError::UnknownAlert))?;
    if let Some(event) = change.event {
        // A discarded draft was never public; only staff hear of it.
        let payload = serde_json::to_value(&changed).expect("plain data serialises");
        let public = change.to.is_public();
        events::append(tx, at, event, public, Some(changed.tier), &changed.content.fylker, Some(id), &payload).await?;
    }
    Ok(changed)
}

/// An alert draft from an open signal: its evidence samples, drafted as any other (national signals make national
/// drafts), at least at caution.
pub(super) async fn draft_from_signal(
    tx: &Tx<'_>,
    assessor: &Assessor,
    signal: i64,
    actor: &str,
    at: Timestamp,
) -> Result<Alert> {
    let row = query_opt(tx, "SELECT area, evidence, status, stream FROM signals WHERE id = $1", &[&signal]).await?;
    let status: Option<String> = row.as_ref().map(|r| r.try_get(2)).transpose()?;
    varde_store::decisions::signal_to_draft(signal, status.as_deref())?;
    let row = row.expect("checked above");
    let (area, evidence_json, stream): (String, String, String) = (row.try_get(0)?, row.try_get(1)?, row.try_get(3)?);
    let ids: Vec<i64> = serde_json::from_str(&evidence_json).map_err(|e| Error::corrupt(e.to_string()))?;
    let stored = load_stored_many(tx, &ids).await?;
    if stored.len() != ids.len() {
        return Err(Error::Store(StoreError::UnknownSample));
    }
    let evidence: Vec<(Sample, Vec<Finding>)> = stored.into_iter().map(|s| (s.sample, s.findings)).collect();
    let varde_store::decisions::SignalDraft { tier, content, first, last } =
        varde_store::decisions::signal_draft(assessor, evidence, &area, at);
    let (first, last) = (ms(first), ms(last));
    let alert_id: i64 = query_one(
        tx,
        "INSERT INTO alerts (status, tier, product_key, fylke, content, created_ms, updated_ms, first_evidence_ms, last_evidence_ms)
         VALUES ('draft', $1, $2, $3, $4, $5, $5, $6, $7) RETURNING id",
        &[&tier.as_str(), &format!("signal:{signal}:{stream}"), &area, &content_json(&content), &ms(at), &first, &last],
    )
    .await?
    .try_get(0)?;
    for id in &ids {
        add_evidence(tx, alert_id, *id, at).await?;
    }
    record_transition(tx, alert_id, at, actor, "drafted", None, AlertStatus::Draft).await?;
    execute(tx, "UPDATE signals SET status = 'drafted', alert_id = $2 WHERE id = $1", &[&signal, &alert_id]).await?;
    let payload = varde_store::payloads::alert_drafted(alert_id, tier, &content, Some(signal));
    events::append(tx, at, "alert.drafted", false, Some(tier), &content.fylker, Some(alert_id), &payload).await?;
    append_audit(tx, at, actor, "signal.draft", &format!("signal:{signal} alert:{alert_id}")).await?;
    load_alert(tx, alert_id).await?.ok_or(Error::Store(StoreError::UnknownAlert))
}
