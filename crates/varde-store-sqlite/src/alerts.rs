//! Alerts: drafting from evidence, the reviewer's lifecycle, versions and transitions.

use super::samples::load_stored;
use super::*;
use varde_domain::Tier;
use varde_domain::alert::{self, Alert, AlertContent, AlertStatus, AlertVersion};
use varde_domain::finding::Finding;
use varde_domain::joining::{self, Joinable, Joiner, Target};
use varde_domain::merging;
use varde_store::{AlertFilter, AlertRef};

const ALERT_COLUMNS: &str = "a.id, a.status, a.tier, a.content, a.version, a.created_ms, a.updated_ms, a.published_ms,
    a.withdrawn_ms, a.valid_until_ms, a.first_evidence_ms, a.last_evidence_ms, a.new_evidence,
    a.evidence_count,
    (SELECT max(v.at_ms) FROM alert_versions v WHERE v.alert_id = a.id AND v.kind IN ('published', 'updated', 'reconfirmed')),
    (SELECT json_object('size', length(p.jpeg), 'width', p.width, 'height', p.height, 'sha1', p.sha1)
     FROM alert_photos p WHERE p.alert_id = a.id)";

fn alert_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AlertRow> {
    Ok(AlertRow {
        id: r.get(0)?,
        status: r.get(1)?,
        tier: r.get(2)?,
        content: r.get(3)?,
        version: r.get(4)?,
        created: r.get(5)?,
        updated: r.get(6)?,
        published: r.get(7)?,
        withdrawn: r.get(8)?,
        valid_until: r.get(9)?,
        first: r.get(10)?,
        last: r.get(11)?,
        new_evidence: r.get(12)?,
        evidence: r.get(13)?,
        confirmed: r.get(14)?,
        photo: r.get(15)?,
    })
}

struct AlertRow {
    id: i64,
    status: String,
    tier: String,
    content: String,
    version: u32,
    created: i64,
    updated: i64,
    published: Option<i64>,
    withdrawn: Option<i64>,
    valid_until: Option<i64>,
    first: i64,
    last: i64,
    new_evidence: bool,
    evidence: u32,
    confirmed: Option<i64>,
    photo: Option<String>,
}

impl AlertRow {
    fn into_alert(self) -> Result<Alert> {
        let opt = |v: Option<i64>| v.map(ts).transpose();
        Ok(Alert {
            id: self.id,
            status: AlertStatus::parse(&self.status).ok_or_else(|| corrupt("alert status", &self.status))?,
            tier: Tier::parse(&self.tier).ok_or_else(|| corrupt("tier", &self.tier))?,
            version: self.version,
            content: serde_json::from_str(&self.content).map_err(|e| Error::corrupt(e.to_string()))?,
            created_at: ts(self.created)?,
            updated_at: ts(self.updated)?,
            published_at: opt(self.published)?,
            withdrawn_at: opt(self.withdrawn)?,
            valid_until: opt(self.valid_until)?,
            evidence_count: self.evidence,
            first_evidence_at: ts(self.first)?,
            last_evidence_at: ts(self.last)?,
            new_evidence: self.new_evidence,
            confirmed_at: opt(self.confirmed)?,
            photo: self
                .photo
                .map(|p| serde_json::from_str::<alert::PhotoFacts>(&p).map(|f| f.at(self.id)))
                .transpose()
                .map_err(|e| Error::corrupt(e.to_string()))?,
            priority: None,
        })
    }
}

pub(super) fn load_alert(conn: &Connection, id: i64) -> Result<Option<Alert>> {
    let sql = format!("SELECT {ALERT_COLUMNS} FROM alerts a WHERE a.id = ?1");
    conn.prepare_cached(&sql)?.query_row([id], alert_row).optional()?.map(AlertRow::into_alert).transpose()
}

/// The listing query for alerts in `statuses` stored statuses (none: every alert). The statuses are chosen in SQL,
/// through the status index: the public list asks for the few published and withdrawn alerts, and must not read
/// (and parse) every draft of years of history to find them.
pub(super) fn list_sql(statuses: usize) -> String {
    let filter =
        if statuses == 0 { String::new() } else { format!("WHERE a.status IN ({})", vec!["?"; statuses].join(", ")) };
    format!(
        "SELECT {ALERT_COLUMNS} FROM alerts a {filter} ORDER BY coalesce(a.published_ms, a.created_ms) DESC, a.id DESC"
    )
}

pub(super) fn list(conn: &Connection, filter: &AlertFilter) -> Result<Vec<Alert>> {
    let mut stmt = conn.prepare_cached(&list_sql(filter.statuses.len()))?;
    let mut out = Vec::new();
    let statuses: Vec<&str> = filter.statuses.iter().map(|s| s.as_str()).collect();
    let mut rows = stmt.query(rusqlite::params_from_iter(statuses))?;
    let limit = if filter.limit == 0 { usize::MAX } else { filter.limit };
    while let Some(r) = rows.next()? {
        let a = alert_row(r)?.into_alert()?;
        let status_ok = filter.statuses.is_empty() || filter.statuses.contains(&a.status);
        let tier_ok = filter.min_tier.is_none_or(|t| a.tier >= t);
        let fylke_ok =
            filter.fylke.as_ref().is_none_or(|f| a.content.fylker.is_empty() || a.content.fylker.contains(f));
        if status_ok && tier_ok && fylke_ok {
            out.push(a);
            if out.len() >= limit {
                break;
            }
        }
    }
    Ok(out)
}

pub(super) fn versions(conn: &Connection, id: i64) -> Result<Vec<AlertVersion>> {
    let mut stmt = conn.prepare_cached(
        "SELECT version, kind, at_ms, tier, content, valid_until_ms, note FROM alert_versions WHERE alert_id = ?1 ORDER BY version",
    )?;
    let rows: Vec<(u32, String, i64, String, String, Option<i64>, Option<String>)> = stmt
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)))?
        .collect::<Result<_, _>>()?;
    rows.into_iter()
        .map(|(version, kind, at, tier, content, valid_until, note)| {
            Ok(AlertVersion {
                version,
                kind,
                at: ts(at)?,
                tier: Tier::parse(&tier).ok_or_else(|| corrupt("tier", &tier))?,
                content: serde_json::from_str(&content).map_err(|e| Error::corrupt(e.to_string()))?,
                valid_until: valid_until.map(ts).transpose()?,
                note,
            })
        })
        .collect()
}

/// The evidence samples, newest first; at most `limit` of them.
pub(super) fn evidence(conn: &Connection, id: i64, limit: usize) -> Result<Vec<StoredSample>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.code FROM alert_evidence e JOIN samples s ON s.id = e.sample_id WHERE e.alert_id = ?1
         ORDER BY e.received_ms DESC, e.sample_id DESC LIMIT ?2",
    )?;
    let codes: Vec<String> = stmt.query_map(params![id, limit as i64], |r| r.get(0))?.collect::<Result<_, _>>()?;
    codes
        .into_iter()
        .map(|c| {
            let code = SampleCode::parse(&c).map_err(|_| corrupt("sample code", &c))?;
            load_stored(conn, code)?.ok_or(Error::Store(StoreError::UnknownSample))
        })
        .collect()
}

pub(super) fn record_transition(
    conn: &Connection,
    id: i64,
    at: Timestamp,
    actor: &str,
    action: &str,
    from: Option<AlertStatus>,
    to: AlertStatus,
) -> Result<()> {
    conn.prepare_cached("INSERT INTO alert_transitions (alert_id, at_ms, actor, action, from_status, to_status) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?
        .execute(params![id, ms(at), actor, action, from.map(AlertStatus::as_str), to.as_str()])?;
    Ok(())
}

fn content_json(c: &AlertContent) -> String {
    serde_json::to_string(c).expect("plain data serialises")
}

/// Writes what `joining::plan` decided (see `varde_store::port::Transaction::write_joins`); what each joiner joined.
pub(super) fn write_joins(conn: &Connection, plan: &joining::Plan, joiners: &[Joiner<'_>]) -> Result<Vec<AlertRef>> {
    // The new drafts first: the rest refers to them by id.
    let mut ids = Vec::with_capacity(plan.drafted.len());
    for t in plan.touched.iter().filter(|t| matches!(t.target, Target::New(_))) {
        let Target::New(n) = t.target else { continue };
        let content = t.content.as_ref().expect("a new draft has a text");
        conn.prepare_cached(
            "INSERT INTO alerts (status, tier, product_key, fylke, content, created_ms, updated_ms, first_evidence_ms, last_evidence_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        .execute(params![
            t.status.as_str(),
            t.tier.as_str(),
            t.key,
            t.fylke,
            content_json(content),
            ms(plan.drafted[n].at),
            ms(t.updated),
            ms(t.first_evidence),
            ms(t.last_evidence)
        ])?;
        ids.push(conn.last_insert_rowid());
    }
    let id = |t: Target| match t {
        Target::Stored(id) => id,
        Target::New(n) => ids[n],
    };
    for t in plan.touched.iter().filter(|t| matches!(t.target, Target::Stored(_))) {
        conn.prepare_cached(
            "UPDATE alerts SET status = ?2, tier = ?3, content = coalesce(?4, content), first_evidence_ms = ?5,
             last_evidence_ms = ?6, updated_ms = ?7, new_evidence = new_evidence OR ?8 WHERE id = ?1",
        )?
        .execute(params![
            id(t.target),
            t.status.as_str(),
            t.tier.as_str(),
            t.content.as_ref().map(content_json),
            ms(t.first_evidence),
            ms(t.last_evidence),
            ms(t.updated),
            t.flag_new_evidence
        ])?;
    }
    for (target, joiner, at) in &plan.evidence {
        conn.prepare_cached(
            "INSERT OR IGNORE INTO alert_evidence (alert_id, sample_id, added_ms, received_ms)
             SELECT ?1, ?2, ?3, received_ms FROM samples WHERE id = ?2",
        )?
        .execute(params![id(*target), joiners[*joiner].sample_id, ms(*at)])?;
    }
    for (target, at, reason, from, to) in &plan.transitions {
        record_transition(conn, id(*target), *at, "varde", reason, *from, *to)?;
    }
    for (n, d) in plan.drafted.iter().enumerate() {
        super::events::append(
            conn,
            &varde_store::port::NewEvent {
                at: d.at,
                kind: "alert.drafted",
                public: false,
                tier: Some(d.tier),
                fylker: d.content.fylker.clone(),
                alert_id: Some(ids[n]),
                payload: varde_domain::payloads::alert_drafted(ids[n], d.tier, &d.content, None),
            },
        )?;
    }
    Ok(plan.joined.iter().map(|(t, status, tier)| AlertRef { id: id(*t), status: *status, tier: *tier }).collect())
}

/// The alerts the joiners may join (a superset: `joining::plan` picks), each draft with its newest evidence.
pub(super) fn joinable(conn: &Connection, joiners: &[Joiner<'_>]) -> Result<Vec<Joinable>> {
    let window = alert::JOIN_WINDOW_DAYS * 86_400_000;
    let mut products: Vec<(&str, &str)> = joiners.iter().map(|j| (j.key, j.fylke)).collect();
    products.sort_unstable();
    products.dedup();
    let received = joiners.iter().map(|j| ms(j.sample.received_at));
    let (earliest, latest) = (received.clone().min().unwrap_or(0), received.max().unwrap_or(0));
    let mut joinable = Vec::new();
    for (key, fylke) in products {
        let mut stmt = conn.prepare_cached(
            // The statuses of alert::JOINABLE.
            "SELECT id, status, tier, first_evidence_ms, last_evidence_ms, evidence_count FROM alerts
             WHERE product_key = ?1 AND fylke = ?2 AND status IN ('draft', 'published', 'archived')
               AND last_evidence_ms >= ?3 - ?5 AND first_evidence_ms <= ?4 + ?5",
        )?;
        let rows = stmt.query_map(params![key, fylke, earliest, latest, window], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
        })?;
        for row in rows {
            let (id, status, tier, first, last, count): (i64, String, String, i64, i64, i64) = row?;
            let status = AlertStatus::parse(&status).ok_or_else(|| corrupt("alert status", &status))?;
            // Only a draft's text is rewritten (and an archived draft's, when new evidence revives it).
            let newest = if matches!(status, AlertStatus::Draft | AlertStatus::Archived) {
                newest_evidence(conn, id)?
            } else {
                Vec::new()
            };
            joinable.push(Joinable {
                id,
                key: key.to_owned(),
                fylke: fylke.to_owned(),
                status,
                tier: Tier::parse(&tier).ok_or_else(|| corrupt("tier", &tier))?,
                first_evidence: ts(first)?,
                last_evidence: ts(last)?,
                evidence_count: count as usize,
                newest,
            });
        }
    }
    Ok(joinable)
}

/// An alert's newest evidence, newest first, as drafts are written from it.
fn newest_evidence(conn: &Connection, id: i64) -> Result<Vec<joining::Evidence>> {
    let mut stmt = conn.prepare_cached(
        "SELECT e.sample_id, s.code FROM alert_evidence e JOIN samples s ON s.id = e.sample_id WHERE e.alert_id = ?1
         ORDER BY e.received_ms DESC, e.sample_id DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![id, alert::DRAFT_FROM_NEWEST as i64], |r| Ok((r.get(0)?, r.get(1)?)))?;
    load_evidence(conn, rows.collect::<Result<_, _>>()?)
}

/// The evidence of two drafts together, each sample once: the newest to draft from, and how many.
pub(super) fn together(conn: &Connection, from: i64, into: i64) -> Result<merging::Together> {
    let mut stmt = conn.prepare_cached(
        "SELECT e.sample_id, s.code
         FROM (SELECT DISTINCT sample_id, received_ms FROM alert_evidence WHERE alert_id IN (?1, ?2)) e
         JOIN samples s ON s.id = e.sample_id ORDER BY e.received_ms DESC, e.sample_id DESC LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![from, into, alert::DRAFT_FROM_NEWEST as i64], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let newest = load_evidence(conn, rows.collect::<Result<_, _>>()?)?.into_iter().map(|e| (e.sample, e.findings));
    let total: i64 = conn
        .prepare_cached("SELECT count(DISTINCT sample_id) FROM alert_evidence WHERE alert_id IN (?1, ?2)")?
        .query_row(params![from, into], |r| r.get(0))?;
    Ok(merging::Together { newest: newest.collect(), total: total as usize })
}

/// Evidence samples, in the order given as (sample id, code), with their current findings.
fn load_evidence(conn: &Connection, rows: Vec<(i64, String)>) -> Result<Vec<joining::Evidence>> {
    rows.into_iter()
        .map(|(sample_id, code)| {
            let code = SampleCode::parse(&code).map_err(|_| corrupt("sample code", &code))?;
            let s = load_stored(conn, code)?.ok_or(Error::Store(StoreError::UnknownSample))?;
            Ok(joining::Evidence { sample_id, sample: s.sample, findings: s.findings })
        })
        .collect()
}

/// Archives drafts whose newest evidence is older than `before`; returns how many.
/// Moves the alerts in status `from` whose newest evidence is older than `before` to `to`; their ids.
pub(super) fn move_stale(
    conn: &Connection,
    from: AlertStatus,
    to: AlertStatus,
    before: Timestamp,
    at: Timestamp,
) -> Result<Vec<i64>> {
    Ok(conn
        .prepare_cached(
            "UPDATE alerts SET status = ?3, updated_ms = ?2 WHERE status = ?4 AND last_evidence_ms < ?1 RETURNING id",
        )?
        .query_map(params![ms(before), ms(at), to.as_str(), from.as_str()], |r| r.get(0))?
        .collect::<Result<_, _>>()?)
}

/// Writes a merge of draft `from` into `merge.into` (see `varde_store::port::Transaction::write_merge`).
pub(super) fn write_merge(conn: &Connection, from: i64, merge: &merging::Merge, at: Timestamp) -> Result<()> {
    let m = &merge.into;
    conn.prepare_cached(
        "INSERT OR IGNORE INTO alert_evidence (alert_id, sample_id, added_ms, received_ms)
         SELECT ?1, sample_id, ?3, received_ms FROM alert_evidence WHERE alert_id = ?2",
    )?
    .execute(params![m.id, from, ms(at)])?;
    conn.prepare_cached(
        "UPDATE alerts SET status = ?2, tier = ?3, content = ?4, first_evidence_ms = ?5, last_evidence_ms = ?6,
         updated_ms = ?7 WHERE id = ?1",
    )?
    .execute(params![
        m.id,
        m.status.as_str(),
        m.tier.as_str(),
        content_json(&m.content),
        ms(m.first_evidence),
        ms(m.last_evidence),
        ms(at)
    ])?;
    conn.prepare_cached("UPDATE alerts SET status = ?2, withdrawn_ms = ?3, updated_ms = ?3 WHERE id = ?1")?
        .execute(params![from, merge.from_status.as_str(), ms(at)])?;
    Ok(())
}

/// The area an alert is about, as its product key grouped it.
pub(super) fn area(conn: &Connection, id: i64) -> Result<String> {
    conn.prepare_cached("SELECT fylke FROM alerts WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?
        .ok_or(Error::Store(StoreError::UnknownAlert))
}

/// Writes a reviewer's change to alert `id` as `alert::Change` decided it, and the public version it makes.
pub(super) fn write_change(
    conn: &Connection,
    id: i64,
    change: &alert::Change,
    note: Option<&str>,
    actor: &str,
    at: Timestamp,
) -> Result<()> {
    let body = content_json(&change.content);
    let (tier, valid_until, version) = (change.tier.as_str(), change.valid_until.map(ms), change.version);
    match change.row {
        alert::RowChange::Edited => conn.execute(
            "UPDATE alerts SET content = ?2, tier = ?3, valid_until_ms = ?4, updated_ms = ?5 WHERE id = ?1",
            params![id, body, tier, valid_until, ms(at)],
        )?,
        alert::RowChange::Published => conn.execute(
            "UPDATE alerts SET status = 'published', content = ?2, tier = ?3, valid_until_ms = ?4, updated_ms = ?5,
             version = coalesce(?6, version), published_ms = coalesce(published_ms, ?5), new_evidence = 0 WHERE id = ?1",
            params![id, body, tier, valid_until, ms(at), version],
        )?,
        alert::RowChange::Discarded => conn.execute(
            "UPDATE alerts SET status = 'discarded', withdrawn_ms = ?2, updated_ms = ?2 WHERE id = ?1",
            params![id, ms(at)],
        )?,
        alert::RowChange::Withdrawn => conn.execute(
            "UPDATE alerts SET status = 'withdrawn', withdrawn_ms = ?2, updated_ms = ?2, version = coalesce(?3, version)
             WHERE id = ?1",
            params![id, ms(at), version],
        )?,
    };
    if let Some(version) = version {
        conn.prepare_cached(
            "INSERT INTO alert_versions (alert_id, version, kind, at_ms, actor, tier, content, valid_until_ms, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        .execute(params![id, version, change.kind, ms(at), actor, tier, body, valid_until, note])?;
    }
    Ok(())
}

impl varde_store::port::Signals for super::Tx<'_> {
    async fn insert_signal(&self, s: &varde_store::NewSignal, at: Timestamp) -> Result<bool> {
        let new = self
            .conn()
            .prepare_cached(
                "INSERT INTO signals (computed_ms, stream, area, week, method, observed, expected, upperbound, evidence)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (stream, area, week) DO NOTHING",
            )?
            .execute(params![
                ms(at),
                s.stream,
                s.area,
                s.week,
                s.method,
                s.observed,
                s.expected,
                s.upperbound,
                serde_json::to_string(&s.evidence).expect("ids serialise"),
            ])?;
        Ok(new > 0)
    }

    async fn signal_list(&self, all: bool) -> Result<Vec<varde_store::Signal>> {
        super::events::signals(&self.conn(), all)
    }

    async fn signal(&self, id: i64) -> Result<Option<varde_store::port::StoredSignal>> {
        let row: Option<(String, String, String, String)> = self
            .conn()
            .prepare_cached("SELECT area, stream, status, evidence FROM signals WHERE id = ?1")?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()?;
        row.map(|(area, stream, status, evidence)| {
            let evidence = serde_json::from_str(&evidence).map_err(|e| Error::corrupt(e.to_string()))?;
            Ok(varde_store::port::StoredSignal { area, stream, status, evidence })
        })
        .transpose()
    }

    async fn evidence(&self, samples: &[i64]) -> Result<Vec<(Sample, Vec<Finding>)>> {
        let conn = self.conn();
        let mut code = conn.prepare_cached("SELECT code FROM samples WHERE id = ?1")?;
        samples
            .iter()
            .map(|id| {
                let text: String =
                    code.query_row([id], |r| r.get(0)).optional()?.ok_or(Error::Store(StoreError::UnknownSample))?;
                let code = SampleCode::parse(&text).map_err(|_| corrupt("sample code", &text))?;
                let s = load_stored(&conn, code)?.ok_or(Error::Store(StoreError::UnknownSample))?;
                Ok((s.sample, s.findings))
            })
            .collect()
    }

    async fn insert_draft(
        &self,
        key: &str,
        area: &str,
        draft: &varde_domain::recording::SignalDraft,
        at: Timestamp,
    ) -> Result<i64> {
        self.conn()
            .prepare_cached(
                "INSERT INTO alerts (status, tier, product_key, fylke, content, created_ms, updated_ms, first_evidence_ms, last_evidence_ms)
                 VALUES ('draft', ?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7)",
            )?
            .execute(params![
                draft.tier.as_str(),
                key,
                area,
                content_json(&draft.content),
                ms(at),
                ms(draft.first),
                ms(draft.last)
            ])?;
        Ok(self.conn().last_insert_rowid())
    }

    async fn add_evidence(&self, alert: i64, samples: &[i64], at: Timestamp) -> Result<()> {
        let conn = self.conn();
        let mut add = conn.prepare_cached(
            "INSERT OR IGNORE INTO alert_evidence (alert_id, sample_id, added_ms, received_ms)
             SELECT ?1, ?2, ?3, received_ms FROM samples WHERE id = ?2",
        )?;
        for sample in samples {
            add.execute(params![alert, sample, ms(at)])?;
        }
        Ok(())
    }

    async fn mark_drafted(&self, id: i64, alert: i64) -> Result<()> {
        self.conn()
            .prepare_cached("UPDATE signals SET status = 'drafted', alert_id = ?2 WHERE id = ?1")?
            .execute(params![id, alert])?;
        Ok(())
    }
}

impl varde_store::port::AlertPhotos for super::Tx<'_> {
    async fn is_evidence(&self, alert: i64, sample: i64) -> Result<bool> {
        Ok(self
            .conn()
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM alert_evidence WHERE alert_id = ?1 AND sample_id = ?2)")?
            .query_row(params![alert, sample], |r| r.get(0))?)
    }

    async fn sample_photo(&self, sample: i64) -> Result<Option<(Vec<u8>, u32, u32)>> {
        Ok(self
            .conn()
            .prepare_cached("SELECT jpeg, width, height FROM photos WHERE sample_id = ?1")?
            .query_row([sample], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?)
    }

    async fn put_alert_photo(
        &self,
        alert: i64,
        sample: i64,
        p: &varde_store::port::ChosenPhoto,
        at: Timestamp,
    ) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO alert_photos (alert_id, sample_id, jpeg, width, height, sha1, chosen_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (alert_id) DO UPDATE SET sample_id = excluded.sample_id, jpeg = excluded.jpeg, width = excluded.width,
                 height = excluded.height, sha1 = excluded.sha1, chosen_ms = excluded.chosen_ms",
            )?
            .execute(params![alert, sample, p.jpeg, p.width, p.height, p.sha1, ms(at)])?;
        Ok(())
    }
}
