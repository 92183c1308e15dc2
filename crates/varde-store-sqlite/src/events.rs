//! The event log (outbox), webhook subscribers and their deliveries, and time-to-warning figures.

use super::*;
use varde_domain::Tier;
use varde_store::{Delivery, Event, WarningTimes, Webhook};

pub(super) fn newest(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT coalesce(max(seq), 0) FROM events", [], |r| r.get(0))?)
}

/// Appends an event (announced once the writer's transaction commits, see `writer_loop`).
pub(super) fn append(conn: &Connection, e: &varde_store::port::NewEvent) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO events (at_ms, kind, public, tier, fylker, alert_id, payload) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        ms(e.at),
        e.kind,
        e.public,
        e.tier.map(Tier::as_str),
        serde_json::to_string(&e.fylker).expect("strings serialise"),
        e.alert_id,
        e.payload.to_string(),
    ])?;
    Ok(())
}

pub(super) fn after(conn: &Connection, seq: i64, limit: usize) -> Result<Vec<Event>> {
    let mut stmt = conn.prepare_cached("SELECT seq, at_ms, kind, public, tier, fylker, alert_id, payload FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2")?;
    type Row = (i64, i64, String, bool, Option<String>, String, Option<i64>, String);
    let rows: Vec<Row> = stmt
        .query_map(params![seq, limit as i64], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?))
        })?
        .collect::<Result<_, _>>()?;
    rows.into_iter()
        .map(|(seq, at, kind, public, tier, fylker, alert_id, payload)| {
            Ok(Event {
                seq,
                at: ts(at)?,
                kind,
                public,
                tier: tier.as_deref().map(|t| Tier::parse(t).ok_or_else(|| corrupt("tier", t))).transpose()?,
                fylker: serde_json::from_str(&fylker).map_err(|e| Error::corrupt(e.to_string()))?,
                alert_id,
                payload: serde_json::from_str(&payload).map_err(|e| Error::corrupt(e.to_string()))?,
            })
        })
        .collect()
}

pub(super) fn webhooks(conn: &Connection) -> Result<Vec<Webhook>> {
    let mut stmt =
        conn.prepare_cached("SELECT id, url, secret, min_tier, fylker, cursor, active FROM webhooks ORDER BY id")?;
    let rows: Vec<(i64, String, String, String, String, i64, bool)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)))?
        .collect::<Result<_, _>>()?;
    rows.into_iter()
        .map(|(id, url, secret, min_tier, fylker, cursor, active)| {
            Ok(Webhook {
                id,
                url,
                secret,
                min_tier: Tier::parse(&min_tier).ok_or_else(|| corrupt("tier", &min_tier))?,
                fylker: serde_json::from_str(&fylker).map_err(|e| Error::corrupt(e.to_string()))?,
                cursor,
                active,
            })
        })
        .collect()
}

pub(super) fn skip_to(conn: &Connection, webhook_id: i64, seq: i64) -> Result<()> {
    // The cursor only moves forward: a late or repeated call cannot make a subscriber receive an event twice.
    conn.prepare_cached("UPDATE webhooks SET cursor = max(cursor, ?2) WHERE id = ?1")?
        .execute(params![webhook_id, seq])?;
    Ok(())
}

pub(super) fn delivery_status(conn: &Connection, webhook_id: i64) -> Result<(u64, Option<String>)> {
    let failed: i64 =
        conn.query_row("SELECT count(*) FROM deliveries WHERE webhook_id = ?1 AND ok = 0", [webhook_id], |r| r.get(0))?;
    let last: Option<String> = conn
        .query_row(
            "SELECT error FROM deliveries WHERE webhook_id = ?1 AND ok = 0 ORDER BY id DESC LIMIT 1",
            [webhook_id],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    Ok((failed as u64, last))
}

pub(super) fn warning_times(conn: &Connection) -> Result<Vec<WarningTimes>> {
    let mut stmt = conn.prepare(
        "SELECT
            (SELECT min(s.received_ms) FROM alert_evidence e JOIN samples s ON s.id = e.sample_id WHERE e.alert_id = a.id),
            (SELECT min(f.assessed_ms) FROM alert_evidence e JOIN findings f ON f.sample_id = e.sample_id WHERE e.alert_id = a.id),
            a.created_ms,
            a.published_ms,
            (SELECT min(d.at_ms) FROM events ev JOIN deliveries d ON d.event_seq = ev.seq AND d.ok = 1
              WHERE ev.alert_id = a.id AND ev.kind = 'alert.published'),
            (SELECT group_concat(k.acknowledged_ms) FROM alert_acknowledgements k WHERE k.alert_id = a.id)
         FROM alerts a ORDER BY a.id",
    )?;
    type Row = (i64, i64, i64, Option<i64>, Option<i64>, Option<String>);
    let rows: Vec<Row> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))?
        .collect::<Result<_, _>>()?;
    rows.into_iter()
        .map(|(received, assessed, drafted, published, delivered, acks)| {
            let acknowledged = acks
                .unwrap_or_default()
                .split(',')
                .filter(|a| !a.is_empty())
                .map(|a| a.parse::<i64>().map_err(|_| corrupt("acknowledgement time", a)).and_then(ts))
                .collect::<Result<_, _>>()?;
            Ok(WarningTimes {
                received: ts(received)?,
                assessed: ts(assessed)?,
                drafted: ts(drafted)?,
                published: published.map(ts).transpose()?,
                first_delivered: delivered.map(ts).transpose()?,
                acknowledged,
            })
        })
        .collect()
}

pub(super) fn signals(conn: &Connection, all: bool) -> Result<Vec<varde_store::Signal>> {
    let sql = format!(
        "SELECT id, computed_ms, stream, area, week, method, observed, expected, upperbound, evidence, status, alert_id
         FROM signals {} ORDER BY week DESC, id DESC",
        if all { "" } else { "WHERE status = 'open'" }
    );
    let mut stmt = conn.prepare(&sql)?;
    type Row = (i64, i64, String, String, String, String, f64, Option<f64>, f64, String, String, Option<i64>);
    let rows: Vec<Row> = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
                r.get(10)?,
                r.get(11)?,
            ))
        })?
        .collect::<Result<_, _>>()?;
    let mut code = conn.prepare_cached("SELECT code FROM samples WHERE id = ?1")?;
    rows.into_iter()
        .map(
            |(id, computed, stream, area, week, method, observed, expected, upperbound, evidence, status, alert_id)| {
                let ids: Vec<i64> = serde_json::from_str(&evidence).map_err(|e| Error::corrupt(e.to_string()))?;
                let evidence = ids
                    .iter()
                    .map(|i| {
                        let c: String = code.query_row([i], |r| r.get(0))?;
                        Ok(SampleCode::parse(&c).map_err(|_| corrupt("sample code", &c))?.to_string())
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(varde_store::Signal {
                    id,
                    computed_at: ts(computed)?,
                    stream,
                    area,
                    week,
                    method,
                    observed,
                    expected,
                    upperbound,
                    evidence,
                    status,
                    alert_id,
                })
            },
        )
        .collect()
}

pub(super) fn concern_times(conn: &Connection) -> Result<Vec<(Timestamp, String)>> {
    let mut stmt = conn.prepare("SELECT received_ms, fylke FROM concern_reports ORDER BY received_ms")?;
    let rows: Vec<(i64, String)> = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    rows.into_iter().map(|(t, f)| Ok((ts(t)?, f))).collect()
}

pub(super) fn user_room_days(
    conn: &Connection,
    service: Option<&str>,
) -> Result<Vec<(varde_domain::indicator::UserRoomDay, String)>> {
    let mut stmt = conn.prepare(
        "SELECT s.slug, s.fylke, d.day, d.visits, d.overdoses, d.naloxone, d.referrals FROM user_room_days d
         JOIN services s ON s.id = d.service_id WHERE ?1 IS NULL OR s.slug = ?1 ORDER BY d.day, s.slug",
    )?;
    type Row = (String, String, String, u32, u32, u32, u32);
    let rows: Vec<Row> = stmt
        .query_map([service], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)))?
        .collect::<Result<_, _>>()?;
    rows.into_iter()
        .map(|(service, fylke, day, visits, overdoses, naloxone, referrals)| {
            let day = day.parse().map_err(|_| corrupt("day", &day))?;
            Ok((varde_domain::indicator::UserRoomDay { service, day, visits, overdoses, naloxone, referrals }, fylke))
        })
        .collect()
}

pub(super) fn deaths(conn: &Connection) -> Result<Vec<(i32, u32)>> {
    let mut stmt = conn.prepare("SELECT year, deaths FROM deaths ORDER BY year")?;
    Ok(stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?)
}

pub(super) fn user(conn: &Connection, username: &str) -> Result<Option<varde_store::UserRecord>> {
    type Row = (i64, String, String, String, Option<String>, Option<String>);
    let row: Option<Row> = conn
        .query_row(
            "SELECT u.id, u.username, u.password_hash, u.role, s.slug, u.totp_secret FROM users u
             LEFT JOIN services s ON s.id = u.service_id WHERE u.username = ?1 AND u.disabled = 0",
            [username],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
        )
        .optional()?;
    row.map(|(id, username, password_hash, role, slug, totp_secret)| {
        Ok(varde_store::UserRecord {
            id,
            username,
            password_hash,
            role: Role::parse(&role).ok_or_else(|| corrupt("role", &role))?,
            service: slug.map(|s| ServiceSlug::parse(&s).map_err(|_| corrupt("service slug", &s))).transpose()?,
            totp_secret,
        })
    })
    .transpose()
}

pub(super) fn create_session(
    conn: &Connection,
    hash: &[u8; 32],
    user_id: i64,
    csrf: &str,
    at: Timestamp,
    expires: Timestamp,
    verified: bool,
) -> Result<()> {
    conn.execute("DELETE FROM sessions WHERE expires_ms < ?1", [ms(at)])?;
    conn.execute(
        "INSERT INTO sessions (hash, user_id, csrf, created_ms, expires_ms, verified) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![&hash[..], user_id, csrf, ms(at), ms(expires), verified],
    )?;
    append_audit(conn, at, &format!("user:{user_id}"), "session.start", "login")
}

/// Deletes the sessions `condition` selects, auditing each as its user's `session.end` (with `why`); how many.
pub(super) fn end_sessions(
    conn: &Connection,
    condition: &str,
    values: &[&dyn rusqlite::ToSql],
    at: Timestamp,
    why: &str,
) -> Result<usize> {
    let users: Vec<i64> = conn
        .prepare(&format!("DELETE FROM sessions WHERE {condition} RETURNING user_id"))?
        .query_map(values, |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for user in &users {
        append_audit(conn, at, &format!("user:{user}"), "session.end", why)?;
    }
    Ok(users.len())
}

pub(super) fn sessions_of(conn: &Connection, user_id: i64, now: Timestamp) -> Result<Vec<varde_store::SessionLine>> {
    let mut stmt = conn.prepare_cached(
        "SELECT hash, created_ms, expires_ms FROM sessions WHERE user_id = ?1 AND expires_ms > ?2 ORDER BY created_ms DESC",
    )?;
    let rows: Vec<(Vec<u8>, i64, i64)> = stmt
        .query_map(params![user_id, ms(now)], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    rows.into_iter()
        .map(|(hash, started, expires)| {
            let hash: [u8; 32] = hash.try_into().map_err(|_| corrupt("session hash", "not 32 bytes"))?;
            Ok(varde_store::SessionLine {
                key: varde_store::SessionLine::key_of(&hash),
                started: ts(started)?,
                expires: ts(expires)?,
            })
        })
        .collect()
}

pub(super) fn session(
    conn: &Connection,
    hash: &[u8; 32],
    now: Timestamp,
) -> Result<Option<varde_store::SessionRecord>> {
    type Row = (i64, String, String, Option<String>, String, bool, i64);
    let row: Option<Row> = conn
        .prepare_cached(
            "SELECT u.id, u.username, u.role, s.slug, x.csrf, x.verified, COALESCE(x.last_seen_ms, x.created_ms)
             FROM sessions x JOIN users u ON u.id = x.user_id
             LEFT JOIN services s ON s.id = u.service_id WHERE x.hash = ?1 AND x.expires_ms > ?2 AND u.disabled = 0",
        )?
        .query_row(params![&hash[..], ms(now)], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
        })
        .optional()?;
    row.map(|(user_id, username, role, slug, csrf, verified, last_seen)| {
        Ok(varde_store::SessionRecord {
            user_id,
            username,
            role: Role::parse(&role).ok_or_else(|| corrupt("role", &role))?,
            service: slug.map(|s| ServiceSlug::parse(&s).map_err(|_| corrupt("service slug", &s))).transpose()?,
            csrf,
            verified,
            last_seen: ts(last_seen)?,
        })
    })
    .transpose()
}

pub(super) fn users(conn: &Connection) -> Result<Vec<(String, Role, Option<ServiceSlug>, bool)>> {
    let mut stmt = conn.prepare("SELECT u.username, u.role, s.slug, u.disabled FROM users u LEFT JOIN services s ON s.id = u.service_id ORDER BY u.username")?;
    let rows: Vec<(String, String, Option<String>, bool)> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?.collect::<Result<_, _>>()?;
    rows.into_iter()
        .map(|(name, role, slug, disabled)| {
            Ok((
                name,
                Role::parse(&role).ok_or_else(|| corrupt("role", &role))?,
                slug.map(|s| ServiceSlug::parse(&s).map_err(|_| corrupt("service slug", &s))).transpose()?,
                disabled,
            ))
        })
        .collect()
}

pub(super) fn tokens(conn: &Connection) -> Result<Vec<varde_store::TokenLine>> {
    let mut stmt = conn.prepare(
        "SELECT t.id, t.role, s.slug, t.label, t.created_ms, t.revoked_ms, t.read_only, t.expires_ms, t.last_used_ms
         FROM tokens t LEFT JOIN services s ON s.id = t.service_id ORDER BY t.id",
    )?;
    type Row = (i64, String, Option<String>, Option<String>, i64, Option<i64>, bool, Option<i64>, Option<i64>);
    let rows: Vec<Row> = stmt
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?))
        })?
        .collect::<Result<_, _>>()?;
    rows.into_iter()
        .map(|(id, role, slug, label, created, revoked, read_only, expires, last_used)| {
            Ok(varde_store::TokenLine {
                id,
                role: Role::parse(&role).ok_or_else(|| corrupt("role", &role))?,
                service: slug.map(|s| ServiceSlug::parse(&s).map_err(|_| corrupt("service slug", &s))).transpose()?,
                label,
                created: ts(created)?,
                revoked: revoked.map(ts).transpose()?,
                read_only,
                expires: expires.map(ts).transpose()?,
                last_used: last_used.map(ts).transpose()?,
            })
        })
        .collect()
}

impl varde_store::port::Indicators for super::Tx<'_> {
    async fn put_deaths(&self, year: i32, deaths: u32, note: Option<&str>, source: &str) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO deaths (year, deaths, note, source) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (year) DO UPDATE SET deaths = excluded.deaths, note = excluded.note, source = excluded.source",
            )?
            .execute(params![year, deaths, note, source])?;
        Ok(())
    }

    async fn insert_concern(&self, r: &varde_domain::indicator::NewConcern, at: Timestamp) -> Result<i64> {
        self.conn()
            .prepare_cached(
                "INSERT INTO concern_reports (received_ms, kommune, fylke, happened, believed, looked_like)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![ms(at), r.kommune, r.fylke, r.happened, r.believed, r.looked_like])?;
        Ok(self.conn().last_insert_rowid())
    }

    async fn has_user_room_day(&self, service: i64, day: &str) -> Result<bool> {
        Ok(self
            .conn()
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM user_room_days WHERE service_id = ?1 AND day = ?2)")?
            .query_row(params![service, day], |r| r.get(0))?)
    }

    async fn put_user_room_day(&self, service: i64, d: &varde_domain::indicator::UserRoomDay) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO user_room_days (service_id, day, visits, overdoses, naloxone, referrals) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (service_id, day) DO UPDATE SET visits = excluded.visits, overdoses = excluded.overdoses,
                 naloxone = excluded.naloxone, referrals = excluded.referrals",
            )?
            .execute(params![service, d.day.to_string(), d.visits, d.overdoses, d.naloxone, d.referrals])?;
        Ok(())
    }
}

impl varde_store::port::Webhooks for super::Tx<'_> {
    async fn insert_webhook(
        &self,
        url: &str,
        secret: &str,
        min_tier: Tier,
        fylker: &[String],
        cursor: i64,
        at: Timestamp,
    ) -> Result<i64> {
        let fylker = serde_json::to_string(fylker).expect("strings serialise");
        self.conn()
            .prepare_cached(
                "INSERT INTO webhooks (url, secret, min_tier, fylker, cursor, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![url, secret, min_tier.as_str(), fylker, cursor, ms(at)])?;
        Ok(self.conn().last_insert_rowid())
    }

    async fn insert_delivery(&self, d: &Delivery) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO deliveries (webhook_id, event_seq, attempt, at_ms, ok, status, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![d.webhook_id, d.event_seq, d.attempt, ms(d.at), d.ok, d.status, d.error])?;
        Ok(())
    }

    async fn advance_webhook(&self, id: i64, seq: i64) -> Result<()> {
        skip_to(&self.conn(), id, seq)
    }
}
