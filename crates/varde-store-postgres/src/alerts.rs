//! Alerts: drafting from evidence, the reviewer's lifecycle, versions and transitions.

use super::samples::{current_findings_of, load_samples, load_stored_many};
use super::*;
use varde_domain::alert::{self, AlertContent, AlertStatus};
use varde_domain::finding::Finding;
use varde_domain::joining::{self, Joinable, Joiner, Target};
use varde_domain::merging;
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

pub(super) async fn record_transition(
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

/// Writes what `joining::plan` decided (see `varde_store::port::Transaction::write_joins`) in a few statements for the whole
/// group; what each joiner joined.
pub(super) async fn write_joins(tx: &Tx<'_>, plan: &joining::Plan, joiners: &[Joiner<'_>]) -> Result<Vec<AlertRef>> {
    // The new drafts first: the rest refers to them by id.
    let new: Vec<&joining::Touched> = plan.touched.iter().filter(|t| matches!(t.target, Target::New(_))).collect();
    let mut ids: Vec<i64> = if new.is_empty() {
        Vec::new()
    } else {
        let column = |f: &dyn Fn(&joining::Touched) -> String| new.iter().map(|t| f(t)).collect::<Vec<_>>();
        let (tiers, keys, fylker) =
            (column(&|t| t.tier.as_str().into()), column(&|t| t.key.clone()), column(&|t| t.fylke.clone()));
        let statuses = column(&|t| t.status.as_str().into());
        let contents = column(&|t| content_json(t.content.as_ref().expect("a new draft has a text")));
        let created: Vec<i64> = plan.drafted.iter().map(|d| ms(d.at)).collect();
        let updated: Vec<i64> = new.iter().map(|t| ms(t.updated)).collect();
        let first: Vec<i64> = new.iter().map(|t| ms(t.first_evidence)).collect();
        let last: Vec<i64> = new.iter().map(|t| ms(t.last_evidence)).collect();
        query(
            tx,
            "INSERT INTO alerts (status, tier, product_key, fylke, content, created_ms, updated_ms, first_evidence_ms, last_evidence_ms)
             SELECT u.status, u.tier, u.key, u.fylke, u.content, u.created, u.updated, u.first, u.last
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[],
                         $8::bigint[], $9::bigint[])
               WITH ORDINALITY AS u(status, tier, key, fylke, content, created, updated, first, last, position)
             ORDER BY u.position RETURNING id",
            &[&statuses, &tiers, &keys, &fylker, &contents, &created, &updated, &first, &last],
        )
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?
    };
    // Ids are drawn in the order the rows are inserted: sorted, they are the drafts' in order.
    ids.sort_unstable();
    let id = |t: Target| match t {
        Target::Stored(id) => id,
        Target::New(n) => ids[n],
    };

    let evidence = async {
        let alerts: Vec<i64> = plan.evidence.iter().map(|e| id(e.0)).collect();
        let samples: Vec<i64> = plan.evidence.iter().map(|e| joiners[e.1].sample_id).collect();
        let added: Vec<i64> = plan.evidence.iter().map(|e| ms(e.2)).collect();
        if alerts.is_empty() {
            return Ok(0);
        }
        execute(
            tx,
            "INSERT INTO alert_evidence (alert_id, sample_id, added_ms, received_ms)
             SELECT u.alert_id, u.sample_id, u.added_ms, s.received_ms
             FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS u(alert_id, sample_id, added_ms)
               JOIN samples s ON s.id = u.sample_id
             ON CONFLICT DO NOTHING",
            &[&alerts, &samples, &added],
        )
        .await
    };
    let stored: Vec<&joining::Touched> =
        plan.touched.iter().filter(|t| matches!(t.target, Target::Stored(_))).collect();
    let changes = async {
        if stored.is_empty() {
            return Ok(0);
        }
        let alerts: Vec<i64> = stored.iter().map(|t| id(t.target)).collect();
        let statuses: Vec<&str> = stored.iter().map(|t| t.status.as_str()).collect();
        let tiers: Vec<&str> = stored.iter().map(|t| t.tier.as_str()).collect();
        let contents: Vec<Option<String>> = stored.iter().map(|t| t.content.as_ref().map(content_json)).collect();
        let first: Vec<i64> = stored.iter().map(|t| ms(t.first_evidence)).collect();
        let last: Vec<i64> = stored.iter().map(|t| ms(t.last_evidence)).collect();
        let updated: Vec<i64> = stored.iter().map(|t| ms(t.updated)).collect();
        let flags: Vec<bool> = stored.iter().map(|t| t.flag_new_evidence).collect();
        execute(
            tx,
            "UPDATE alerts a SET status = u.status, tier = u.tier, content = coalesce(u.content, a.content),
                 first_evidence_ms = u.first, last_evidence_ms = u.last, updated_ms = u.updated,
                 new_evidence = a.new_evidence OR u.flag
             FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[],
                         $8::bool[]) AS u(id, status, tier, content, first, last, updated, flag)
             WHERE a.id = u.id",
            &[&alerts, &statuses, &tiers, &contents, &first, &last, &updated, &flags],
        )
        .await
    };
    let transitions = async {
        let alerts: Vec<i64> = plan.transitions.iter().map(|t| id(t.0)).collect();
        let at: Vec<i64> = plan.transitions.iter().map(|t| ms(t.1)).collect();
        let actions: Vec<&str> = plan.transitions.iter().map(|t| t.2).collect();
        let from: Vec<Option<&str>> = plan.transitions.iter().map(|t| t.3.map(AlertStatus::as_str)).collect();
        let to: Vec<&str> = plan.transitions.iter().map(|t| t.4.as_str()).collect();
        execute(
            tx,
            "INSERT INTO alert_transitions (alert_id, at_ms, actor, action, from_status, to_status)
             SELECT u.alert_id, u.at_ms, 'varde', u.action, u.from_status, u.to_status
             FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[])
               WITH ORDINALITY AS u(alert_id, at_ms, action, from_status, to_status, position)
             ORDER BY u.position",
            &[&alerts, &at, &actions, &from, &to],
        )
        .await
    };
    let drafted: Vec<events::NewEvent> = plan
        .drafted
        .iter()
        .enumerate()
        .map(|(n, d)| events::NewEvent {
            at: d.at,
            kind: "alert.drafted",
            public: false,
            tier: Some(d.tier),
            fylker: d.content.fylker.clone(),
            alert_id: Some(ids[n]),
            payload: varde_domain::payloads::alert_drafted(ids[n], d.tier, &d.content, None),
        })
        .collect();
    // Sent together: the connection pipelines them.
    futures_util::future::try_join4(evidence, changes, transitions, events::append_all(tx, &drafted)).await?;
    Ok(plan.joined.iter().map(|(t, status, tier)| AlertRef { id: id(*t), status: *status, tier: *tier }).collect())
}

/// The alerts the joiners may join (a superset: `joining::plan` picks), each draft with its newest evidence: one
/// query for the alerts and their newest evidence, then one round of queries for those samples.
pub(super) async fn joinable(tx: &Tx<'_>, joiners: &[Joiner<'_>]) -> Result<Vec<Joinable>> {
    let window = alert::JOIN_WINDOW_DAYS * 86_400_000;
    let keys: Vec<&str> = joiners.iter().map(|j| j.key).collect();
    let fylker: Vec<&str> = joiners.iter().map(|j| j.fylke).collect();
    let received = joiners.iter().map(|j| ms(j.sample.received_at));
    let (earliest, latest) = (received.clone().min().unwrap_or(0), received.max().unwrap_or(0));
    let rows = query(
        tx,
        // The statuses of alert::JOINABLE; only a draft's text is rewritten (and an archived draft's, when new
        // evidence revives it), so only theirs need their newest evidence.
        "SELECT a.id, a.product_key, a.fylke, a.status, a.tier, a.first_evidence_ms, a.last_evidence_ms,
                a.evidence_count, e.sample_id
         FROM alerts a
         LEFT JOIN LATERAL (SELECT sample_id FROM alert_evidence
                            WHERE alert_id = a.id AND a.status IN ('draft', 'archived')
                            ORDER BY received_ms DESC, sample_id DESC LIMIT $6) e ON true
         WHERE (a.product_key, a.fylke) IN (SELECT * FROM unnest($1::text[], $2::text[]))
           AND a.status IN ('draft', 'published', 'archived')
           AND a.last_evidence_ms >= $3::bigint - $5::bigint AND a.first_evidence_ms <= $4::bigint + $5::bigint
         ORDER BY a.id",
        &[&keys, &fylker, &earliest, &latest, &window, &limit(alert::DRAFT_FROM_NEWEST)],
    )
    .await?;
    let mut joinable: Vec<Joinable> = Vec::new();
    let mut newest: Vec<(i64, i64)> = Vec::new();
    for r in &rows {
        let id: i64 = r.try_get(0)?;
        if joinable.last().is_none_or(|j| j.id != id) {
            let status: String = r.try_get(3)?;
            joinable.push(Joinable {
                id,
                key: r.try_get(1)?,
                fylke: r.try_get(2)?,
                status: AlertStatus::parse(&status).ok_or_else(|| corrupt("alert status", &status))?,
                tier: tier_of(r.try_get(4)?)?,
                first_evidence: ts(r.try_get(5)?)?,
                last_evidence: ts(r.try_get(6)?)?,
                evidence_count: narrow(r.try_get(7)?, "evidence count")?,
                newest: Vec::new(),
            });
        }
        if let Some(sample_id) = r.try_get::<_, Option<i64>>(8)? {
            newest.push((id, sample_id));
        }
    }
    if newest.is_empty() {
        return Ok(joinable);
    }
    let mut samples: Vec<i64> = newest.iter().map(|n| n.1).collect();
    samples.sort_unstable();
    samples.dedup();
    let (loaded, findings) =
        futures_util::future::try_join(load_samples(tx, &samples), current_findings_of(tx, &samples)).await?;
    let loaded: std::collections::HashMap<i64, Sample> = loaded.into_iter().map(|(id, s, _)| (id, s)).collect();
    for (alert, sample_id) in newest {
        let j = joinable.iter_mut().find(|j| j.id == alert).expect("an alert read above");
        let sample =
            loaded.get(&sample_id).ok_or_else(|| Error::corrupt(format!("evidence {sample_id} has no sample")))?;
        let findings = findings.get(&sample_id).cloned().unwrap_or_default();
        j.newest.push(joining::Evidence { sample_id, sample: sample.clone(), findings });
    }
    for j in &mut joinable {
        j.newest.sort_by_key(|e| std::cmp::Reverse((ms(e.sample.received_at), e.sample_id)));
    }
    Ok(joinable)
}

/// The evidence of two drafts together, each sample once: the newest to draft from, and how many.
pub(super) async fn together(tx: &Tx<'_>, from: i64, into: i64) -> Result<merging::Together> {
    let ids: Vec<i64> = query(
        tx,
        "SELECT sample_id FROM (SELECT DISTINCT sample_id, received_ms FROM alert_evidence WHERE alert_id IN ($1, $2)) e
         ORDER BY received_ms DESC, sample_id DESC LIMIT $3",
        &[&from, &into, &limit(alert::DRAFT_FROM_NEWEST)],
    )
    .await?
    .iter()
    .map(|r| r.try_get(0))
    .collect::<Result<_, _>>()?;
    // Only what drafting reads (not the alerts each sample is evidence for), sent together.
    let (loaded, mut findings, total) = futures_util::future::try_join3(
        load_samples(tx, &ids),
        current_findings_of(tx, &ids),
        query_one(
            tx,
            "SELECT count(DISTINCT sample_id) FROM alert_evidence WHERE alert_id IN ($1, $2)",
            &[&from, &into],
        ),
    )
    .await?;
    let newest = loaded.into_iter().map(|(id, sample, _)| (sample, findings.remove(&id).unwrap_or_default())).collect();
    let total: i64 = total.try_get(0)?;
    Ok(merging::Together { newest, total: narrow(total, "evidence count")? })
}

/// Archives drafts whose newest evidence is older than `before`; returns how many.
/// Moves the alerts in status `from` whose newest evidence is older than `before` to `to`; their ids.
pub(super) async fn move_stale(
    tx: &Tx<'_>,
    from: AlertStatus,
    to: AlertStatus,
    before: Timestamp,
    at: Timestamp,
) -> Result<Vec<i64>> {
    query(
        tx,
        "UPDATE alerts SET status = $3, updated_ms = $2 WHERE status = $4 AND last_evidence_ms < $1 RETURNING id",
        &[&ms(before), &ms(at), &to.as_str(), &from.as_str()],
    )
    .await?
    .iter()
    .map(|r| Ok(r.try_get(0)?))
    .collect()
}

/// Writes a merge of draft `from` into `merge.into` (see `varde_store::port::Transaction::write_merge`).
pub(super) async fn write_merge(tx: &Tx<'_>, from: i64, merge: &merging::Merge, at: Timestamp) -> Result<()> {
    let m = &merge.into;
    execute(
        tx,
        "INSERT INTO alert_evidence (alert_id, sample_id, added_ms, received_ms)
         SELECT $1, sample_id, $3, received_ms FROM alert_evidence WHERE alert_id = $2 ON CONFLICT DO NOTHING",
        &[&m.id, &from, &ms(at)],
    )
    .await?;
    execute(
        tx,
        "UPDATE alerts SET status = $2, tier = $3, content = $4, first_evidence_ms = $5, last_evidence_ms = $6,
         updated_ms = $7 WHERE id = $1",
        &[
            &m.id,
            &m.status.as_str(),
            &m.tier.as_str(),
            &content_json(&m.content),
            &ms(m.first_evidence),
            &ms(m.last_evidence),
            &ms(at),
        ],
    )
    .await?;
    execute(
        tx,
        "UPDATE alerts SET status = $2, withdrawn_ms = $3, updated_ms = $3 WHERE id = $1",
        &[&from, &merge.from_status.as_str(), &ms(at)],
    )
    .await?;
    Ok(())
}

/// The area an alert is about, as its product key grouped it.
pub(super) async fn area(tx: &Tx<'_>, id: i64) -> Result<String> {
    let row = query_opt(tx, "SELECT fylke FROM alerts WHERE id = $1", &[&id]).await?;
    Ok(row.ok_or(Error::Store(StoreError::UnknownAlert))?.try_get(0)?)
}

/// Writes a reviewer's change to alert `id` as `alert::Change` decided it, and the public version it makes.
pub(super) async fn write_change(
    tx: &Tx<'_>,
    id: i64,
    change: &alert::Change,
    note: Option<&str>,
    actor: &str,
    at: Timestamp,
) -> Result<()> {
    let body = content_json(&change.content);
    let (tier, valid_until) = (change.tier.as_str(), change.valid_until.map(ms));
    let version = change.version.map(i64::from);
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
                 version = coalesce($6, version), published_ms = coalesce(published_ms, $5), new_evidence = false
                 WHERE id = $1",
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
            "UPDATE alerts SET status = 'withdrawn', withdrawn_ms = $2, updated_ms = $2, version = coalesce($3, version)
             WHERE id = $1",
            &[&id, &ms(at), &version],
        )
        .await?,
    };
    if let Some(version) = version {
        execute(
            tx,
            "INSERT INTO alert_versions (alert_id, version, kind, at_ms, actor, tier, content, valid_until_ms, note)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[&id, &version, &change.kind, &ms(at), &actor, &tier, &body, &valid_until, &note],
        )
        .await?;
    }
    Ok(())
}

impl varde_store::port::Signals for super::Port<'_> {
    async fn insert_signal(&self, s: &varde_store::NewSignal, at: Timestamp) -> Result<bool> {
        let evidence = serde_json::to_string(&s.evidence).expect("ids serialise");
        let new = execute(
            self.0,
            "INSERT INTO signals (computed_ms, stream, area, week, method, observed, expected, upperbound, evidence)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (stream, area, week) DO NOTHING",
            &[&ms(at), &s.stream, &s.area, &s.week, &s.method, &s.observed, &s.expected, &s.upperbound, &evidence],
        )
        .await?;
        Ok(new > 0)
    }

    async fn signal_list(&self, all: bool) -> Result<Vec<varde_store::Signal>> {
        events::signals(self.0, all).await
    }

    async fn signal(&self, id: i64) -> Result<Option<varde_store::port::StoredSignal>> {
        let row = query_opt(self.0, "SELECT area, stream, status, evidence FROM signals WHERE id = $1", &[&id]).await?;
        row.map(|r| {
            let evidence: String = r.try_get(3)?;
            let evidence = serde_json::from_str(&evidence).map_err(|e| Error::corrupt(e.to_string()))?;
            Ok(varde_store::port::StoredSignal {
                area: r.try_get(0)?,
                stream: r.try_get(1)?,
                status: r.try_get(2)?,
                evidence,
            })
        })
        .transpose()
    }

    async fn evidence(&self, samples: &[i64]) -> Result<Vec<(Sample, Vec<Finding>)>> {
        let stored = load_stored_many(self.0, samples).await?;
        if stored.len() != samples.len() {
            return Err(Error::Store(StoreError::UnknownSample));
        }
        Ok(stored.into_iter().map(|s| (s.sample, s.findings)).collect())
    }

    async fn insert_draft(
        &self,
        key: &str,
        area: &str,
        draft: &varde_domain::recording::SignalDraft,
        at: Timestamp,
    ) -> Result<i64> {
        Ok(query_one(
            self.0,
            "INSERT INTO alerts (status, tier, product_key, fylke, content, created_ms, updated_ms, first_evidence_ms, last_evidence_ms)
             VALUES ('draft', $1, $2, $3, $4, $5, $5, $6, $7) RETURNING id",
            &[
                &draft.tier.as_str(),
                &key,
                &area,
                &content_json(&draft.content),
                &ms(at),
                &ms(draft.first),
                &ms(draft.last),
            ],
        )
        .await?
        .try_get(0)?)
    }

    async fn add_evidence(&self, alert: i64, samples: &[i64], at: Timestamp) -> Result<()> {
        for sample in samples {
            add_evidence(self.0, alert, *sample, at).await?;
        }
        Ok(())
    }

    async fn mark_drafted(&self, id: i64, alert: i64) -> Result<()> {
        execute(self.0, "UPDATE signals SET status = 'drafted', alert_id = $2 WHERE id = $1", &[&id, &alert]).await?;
        Ok(())
    }
}

impl varde_store::port::AlertPhotos for super::Port<'_> {
    async fn is_evidence(&self, alert: i64, sample: i64) -> Result<bool> {
        let sql = "SELECT EXISTS (SELECT 1 FROM alert_evidence WHERE alert_id = $1 AND sample_id = $2)";
        Ok(query_one(self.0, sql, &[&alert, &sample]).await?.try_get(0)?)
    }

    async fn sample_photo(&self, sample: i64) -> Result<Option<(Vec<u8>, u32, u32)>> {
        query_opt(self.0, "SELECT jpeg, width, height FROM photos WHERE sample_id = $1", &[&sample])
            .await?
            .map(|r| Ok((r.try_get(0)?, narrow(r.try_get(1)?, "photo width")?, narrow(r.try_get(2)?, "photo height")?)))
            .transpose()
    }

    async fn put_alert_photo(
        &self,
        alert: i64,
        sample: i64,
        p: &varde_store::port::ChosenPhoto,
        at: Timestamp,
    ) -> Result<()> {
        execute(
            self.0,
            "INSERT INTO alert_photos (alert_id, sample_id, jpeg, width, height, sha1, chosen_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (alert_id) DO UPDATE SET sample_id = excluded.sample_id, jpeg = excluded.jpeg, width = excluded.width,
             height = excluded.height, sha1 = excluded.sha1, chosen_ms = excluded.chosen_ms",
            &[&alert, &sample, &p.jpeg, &i64::from(p.width), &i64::from(p.height), &p.sha1, &ms(at)],
        )
        .await?;
        Ok(())
    }
}
