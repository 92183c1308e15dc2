//! The event log (outbox), webhook subscribers and their deliveries, time-to-warning figures, signals, indicators,
//! users and tokens.

use super::*;
use varde_store::{Delivery, Event, WarningTimes, Webhook};

pub(super) async fn newest(tx: &Tx<'_>) -> Result<i64> {
    Ok(query_one(tx, "SELECT coalesce(max(seq), 0) FROM events", &[]).await?.try_get(0)?)
}

tokio::task_local! {
    /// The newest event a write appended (see `PostgresStore::write_events`): the store's watch moves to it once
    /// the write commits, without reading it back.
    pub(super) static APPENDED: std::cell::Cell<i64>;
}

pub(super) use varde_store::port::NewEvent;

/// Appends events in order and announces each to every instance (`NOTIFY` is delivered when the transaction
/// commits, and not at all if it rolls back), in one statement: events are appended under the writers' lock, and
/// each statement is a round trip.
/// Returns the newest sequence number appended (0 for none).
pub(super) async fn append_all(tx: &Tx<'_>, events: &[NewEvent]) -> Result<i64> {
    if events.is_empty() {
        return Ok(0);
    }
    let ats: Vec<i64> = events.iter().map(|e| ms(e.at)).collect();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind).collect();
    let public: Vec<bool> = events.iter().map(|e| e.public).collect();
    let tiers: Vec<Option<&str>> = events.iter().map(|e| e.tier.map(Tier::as_str)).collect();
    let fylker: Vec<String> =
        events.iter().map(|e| serde_json::to_string(&e.fylker).expect("strings serialise")).collect();
    let alerts: Vec<Option<i64>> = events.iter().map(|e| e.alert_id).collect();
    let payloads: Vec<String> = events.iter().map(|e| e.payload.to_string()).collect();
    let newest: i64 = query_one(
        tx,
        "WITH e AS (INSERT INTO events (at_ms, kind, public, tier, fylker, alert_id, payload)
                    SELECT u.at_ms, u.kind, u.public, u.tier, u.fylker, u.alert_id, u.payload
                    FROM unnest($1::bigint[], $2::text[], $3::bool[], $4::text[], $5::text[], $6::bigint[], $7::text[])
                      WITH ORDINALITY AS u(at_ms, kind, public, tier, fylker, alert_id, payload, position)
                    ORDER BY u.position
                    RETURNING seq),
              announced AS (SELECT seq, pg_notify($8, current_schema() || ' ' || seq) FROM e)
         SELECT max(seq) FROM announced",
        &[&ats, &kinds, &public, &tiers, &fylker, &alerts, &payloads, &EVENTS_CHANNEL],
    )
    .await?
    .try_get(0)?;
    let _ = APPENDED.try_with(|n| n.set(n.get().max(newest)));
    Ok(newest)
}

pub(super) async fn after(tx: &Tx<'_>, seq: i64, n: usize) -> Result<Vec<Event>> {
    query(
        tx,
        "SELECT seq, at_ms, kind, public, tier, fylker, alert_id, payload FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
        &[&seq, &limit(n)],
    )
    .await?
    .iter()
    .map(|r| {
        let tier: Option<&str> = r.try_get(4)?;
        Ok(Event {
            seq: r.try_get(0)?,
            at: ts(r.try_get(1)?)?,
            kind: r.try_get(2)?,
            public: r.try_get(3)?,
            tier: tier.map(tier_of).transpose()?,
            fylker: serde_json::from_str(r.try_get(5)?).map_err(|e| Error::corrupt(e.to_string()))?,
            alert_id: r.try_get(6)?,
            payload: serde_json::from_str(r.try_get(7)?).map_err(|e| Error::corrupt(e.to_string()))?,
        })
    })
    .collect()
}

pub(super) async fn webhooks(tx: &Tx<'_>) -> Result<Vec<Webhook>> {
    query(tx, "SELECT id, url, secret, min_tier, fylker, cursor, active FROM webhooks ORDER BY id", &[])
        .await?
        .iter()
        .map(|r| {
            Ok(Webhook {
                id: r.try_get(0)?,
                url: r.try_get(1)?,
                secret: r.try_get(2)?,
                min_tier: tier_of(r.try_get(3)?)?,
                fylker: serde_json::from_str(r.try_get(4)?).map_err(|e| Error::corrupt(e.to_string()))?,
                cursor: r.try_get(5)?,
                active: r.try_get(6)?,
            })
        })
        .collect()
}

pub(super) async fn skip_to(tx: &Tx<'_>, webhook_id: i64, seq: i64) -> Result<()> {
    // The cursor only moves forward: a late or repeated call cannot make a subscriber receive an event twice.
    execute(tx, "UPDATE webhooks SET cursor = greatest(cursor, $2) WHERE id = $1", &[&webhook_id, &seq]).await?;
    Ok(())
}

pub(super) async fn delivery_status(tx: &Tx<'_>, webhook_id: i64) -> Result<(u64, Option<String>)> {
    let failed: i64 = query_one(tx, "SELECT count(*) FROM deliveries WHERE webhook_id = $1 AND NOT ok", &[&webhook_id])
        .await?
        .try_get(0)?;
    let last: Option<String> = query_opt(
        tx,
        "SELECT error FROM deliveries WHERE webhook_id = $1 AND NOT ok ORDER BY id DESC LIMIT 1",
        &[&webhook_id],
    )
    .await?
    .map(|r| r.try_get::<_, Option<String>>(0))
    .transpose()?
    .flatten();
    Ok((narrow(failed, "failed deliveries")?, last))
}

pub(super) async fn warning_times(tx: &Tx<'_>) -> Result<Vec<WarningTimes>> {
    query(
        tx,
        "SELECT
            (SELECT min(s.received_ms) FROM alert_evidence e JOIN samples s ON s.id = e.sample_id WHERE e.alert_id = a.id),
            (SELECT min(f.assessed_ms) FROM alert_evidence e JOIN findings f ON f.sample_id = e.sample_id WHERE e.alert_id = a.id),
            a.created_ms,
            a.published_ms,
            (SELECT min(d.at_ms) FROM events ev JOIN deliveries d ON d.event_seq = ev.seq AND d.ok
              WHERE ev.alert_id = a.id AND ev.kind = 'alert.published'),
            (SELECT array_agg(k.acknowledged_ms ORDER BY k.acknowledged_ms) FROM alert_acknowledgements k WHERE k.alert_id = a.id)
         FROM alerts a ORDER BY a.id",
        &[],
    )
    .await?
    .iter()
    .map(|r| {
        let acknowledged: Option<Vec<i64>> = r.try_get(5)?;
        Ok(WarningTimes {
            received: ts(r.try_get(0)?)?,
            assessed: ts(r.try_get(1)?)?,
            drafted: ts(r.try_get(2)?)?,
            published: r.try_get::<_, Option<i64>>(3)?.map(ts).transpose()?,
            first_delivered: r.try_get::<_, Option<i64>>(4)?.map(ts).transpose()?,
            acknowledged: acknowledged.unwrap_or_default().into_iter().map(ts).collect::<Result<_>>()?,
        })
    })
    .collect()
}

pub(super) async fn signals(tx: &Tx<'_>, all: bool) -> Result<Vec<varde_store::Signal>> {
    let sql = format!(
        "SELECT id, computed_ms, stream, area, week, method, observed, expected, upperbound, evidence, status, alert_id
         FROM signals {} ORDER BY week DESC, id DESC",
        if all { "" } else { "WHERE status = 'open'" }
    );
    let rows = query(tx, &sql, &[]).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let ids: Vec<i64> = serde_json::from_str(r.try_get(9)?).map_err(|e| Error::corrupt(e.to_string()))?;
        let mut evidence = Vec::with_capacity(ids.len());
        for id in &ids {
            let code: String = query_one(tx, "SELECT code FROM samples WHERE id = $1", &[id]).await?.try_get(0)?;
            evidence.push(code_of(&code)?.to_string());
        }
        out.push(varde_store::Signal {
            id: r.try_get(0)?,
            computed_at: ts(r.try_get(1)?)?,
            stream: r.try_get(2)?,
            area: r.try_get(3)?,
            week: r.try_get(4)?,
            method: r.try_get(5)?,
            observed: r.try_get(6)?,
            expected: r.try_get(7)?,
            upperbound: r.try_get(8)?,
            evidence,
            status: r.try_get(10)?,
            alert_id: r.try_get(11)?,
        });
    }
    Ok(out)
}

pub(super) async fn concern_times(tx: &Tx<'_>) -> Result<Vec<(Timestamp, String)>> {
    query(tx, "SELECT received_ms, fylke FROM concern_reports ORDER BY received_ms", &[])
        .await?
        .iter()
        .map(|r| Ok((ts(r.try_get(0)?)?, r.try_get(1)?)))
        .collect()
}

pub(super) async fn user_room_days(
    tx: &Tx<'_>,
    service: Option<&str>,
) -> Result<Vec<(varde_domain::indicator::UserRoomDay, String)>> {
    query(
        tx,
        "SELECT s.slug, s.fylke, d.day, d.visits, d.overdoses, d.naloxone, d.referrals FROM user_room_days d
         JOIN services s ON s.id = d.service_id WHERE $1::text IS NULL OR s.slug = $1 ORDER BY d.day, s.slug",
        &[&service],
    )
    .await?
    .iter()
    .map(|r| {
        let day: String = r.try_get(2)?;
        let day = day.parse().map_err(|_| corrupt("day", &day))?;
        let count = |i: usize| -> Result<u32> { narrow(r.try_get(i)?, "user-room count") };
        let record = varde_domain::indicator::UserRoomDay {
            service: r.try_get(0)?,
            day,
            visits: count(3)?,
            overdoses: count(4)?,
            naloxone: count(5)?,
            referrals: count(6)?,
        };
        Ok((record, r.try_get(1)?))
    })
    .collect()
}

pub(super) async fn deaths(tx: &Tx<'_>) -> Result<Vec<(i32, u32)>> {
    query(tx, "SELECT year, deaths FROM deaths ORDER BY year", &[])
        .await?
        .iter()
        .map(|r| Ok((narrow(r.try_get(0)?, "year")?, narrow(r.try_get(1)?, "deaths")?)))
        .collect()
}

pub(super) async fn user(tx: &Tx<'_>, username: &str) -> Result<Option<varde_store::UserRecord>> {
    query_opt(
        tx,
        "SELECT u.id, u.username, u.password_hash, u.role, s.slug, u.totp_secret FROM users u
         LEFT JOIN services s ON s.id = u.service_id WHERE u.username = $1 AND NOT u.disabled",
        &[&username],
    )
    .await?
    .map(|r| {
        let slug: Option<&str> = r.try_get(4)?;
        Ok(varde_store::UserRecord {
            id: r.try_get(0)?,
            username: r.try_get(1)?,
            password_hash: r.try_get(2)?,
            role: role_of(r.try_get(3)?)?,
            service: slug.map(slug_of).transpose()?,
            totp_secret: r.try_get(5)?,
        })
    })
    .transpose()
}

pub(super) async fn create_session(
    tx: &Tx<'_>,
    hash: &[u8; 32],
    user_id: i64,
    csrf: &str,
    at: Timestamp,
    expires: Timestamp,
    verified: bool,
) -> Result<()> {
    execute(tx, "DELETE FROM sessions WHERE expires_ms < $1", &[&ms(at)]).await?;
    execute(
        tx,
        "INSERT INTO sessions (hash, user_id, csrf, created_ms, expires_ms, verified) VALUES ($1, $2, $3, $4, $5, $6)",
        &[&&hash[..], &user_id, &csrf, &ms(at), &ms(expires), &verified],
    )
    .await?;
    append_audit(tx, at, &format!("user:{user_id}"), "session.start", "login").await
}

/// Audits each ended session (rows of `user_id`) as its user's `session.end`, with `why`.
pub(super) async fn audit_session_ends(tx: &Tx<'_>, rows: &[Row], at: Timestamp, why: &str) -> Result<()> {
    for row in rows {
        let user: i64 = row.try_get(0)?;
        append_audit(tx, at, &format!("user:{user}"), "session.end", why).await?;
    }
    Ok(())
}

pub(super) async fn sessions_of(tx: &Tx<'_>, user_id: i64, now: Timestamp) -> Result<Vec<varde_store::SessionLine>> {
    let rows = query(
        tx,
        "SELECT hash, created_ms, expires_ms FROM sessions WHERE user_id = $1 AND expires_ms > $2 ORDER BY created_ms DESC",
        &[&user_id, &ms(now)],
    )
    .await?;
    rows.iter()
        .map(|r| {
            let hash: Vec<u8> = r.try_get(0)?;
            let hash: [u8; 32] =
                hash.try_into().map_err(|_| Error::corrupt("a session hash is not 32 bytes".into()))?;
            Ok(varde_store::SessionLine {
                key: varde_store::SessionLine::key_of(&hash),
                started: ts(r.try_get(1)?)?,
                expires: ts(r.try_get(2)?)?,
            })
        })
        .collect()
}

pub(super) async fn session(
    tx: &Tx<'_>,
    hash: &[u8; 32],
    now: Timestamp,
) -> Result<Option<varde_store::SessionRecord>> {
    query_opt(
        tx,
        "SELECT u.id, u.username, u.role, s.slug, x.csrf, x.verified, COALESCE(x.last_seen_ms, x.created_ms)
         FROM sessions x JOIN users u ON u.id = x.user_id
         LEFT JOIN services s ON s.id = u.service_id WHERE x.hash = $1 AND x.expires_ms > $2 AND NOT u.disabled",
        &[&&hash[..], &ms(now)],
    )
    .await?
    .map(|r| {
        let slug: Option<&str> = r.try_get(3)?;
        Ok(varde_store::SessionRecord {
            user_id: r.try_get(0)?,
            username: r.try_get(1)?,
            role: role_of(r.try_get(2)?)?,
            service: slug.map(slug_of).transpose()?,
            csrf: r.try_get(4)?,
            verified: r.try_get(5)?,
            last_seen: ts(r.try_get(6)?)?,
        })
    })
    .transpose()
}

pub(super) async fn users(tx: &Tx<'_>) -> Result<Vec<(String, Role, Option<ServiceSlug>, bool)>> {
    query(
        tx,
        "SELECT u.username, u.role, s.slug, u.disabled FROM users u LEFT JOIN services s ON s.id = u.service_id
         ORDER BY u.username",
        &[],
    )
    .await?
    .iter()
    .map(|r| {
        let slug: Option<&str> = r.try_get(2)?;
        Ok((r.try_get(0)?, role_of(r.try_get(1)?)?, slug.map(slug_of).transpose()?, r.try_get(3)?))
    })
    .collect()
}

pub(super) async fn tokens(tx: &Tx<'_>) -> Result<Vec<varde_store::TokenLine>> {
    query(
        tx,
        "SELECT t.id, t.role, s.slug, t.label, t.created_ms, t.revoked_ms, t.read_only, t.expires_ms, t.last_used_ms
         FROM tokens t LEFT JOIN services s ON s.id = t.service_id ORDER BY t.id",
        &[],
    )
    .await?
    .iter()
    .map(|r| {
        let slug: Option<&str> = r.try_get(2)?;
        Ok(varde_store::TokenLine {
            id: r.try_get(0)?,
            role: role_of(r.try_get(1)?)?,
            service: slug.map(slug_of).transpose()?,
            label: r.try_get(3)?,
            created: ts(r.try_get(4)?)?,
            revoked: r.try_get::<_, Option<i64>>(5)?.map(ts).transpose()?,
            read_only: r.try_get(6)?,
            expires: r.try_get::<_, Option<i64>>(7)?.map(ts).transpose()?,
            last_used: r.try_get::<_, Option<i64>>(8)?.map(ts).transpose()?,
        })
    })
    .collect()
}

impl varde_store::port::Indicators for super::Port<'_> {
    async fn put_deaths(&self, year: i32, deaths: u32, note: Option<&str>, source: &str) -> Result<()> {
        execute(
            self.0,
            "INSERT INTO deaths (year, deaths, note, source) VALUES ($1, $2, $3, $4)
             ON CONFLICT (year) DO UPDATE SET deaths = excluded.deaths, note = excluded.note, source = excluded.source",
            &[&i64::from(year), &i64::from(deaths), &note, &source],
        )
        .await?;
        Ok(())
    }

    async fn insert_concern(&self, r: &varde_domain::indicator::NewConcern, at: Timestamp) -> Result<i64> {
        Ok(query_one(
            self.0,
            "INSERT INTO concern_reports (received_ms, kommune, fylke, happened, believed, looked_like)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            &[&ms(at), &r.kommune, &r.fylke, &r.happened, &r.believed, &r.looked_like],
        )
        .await?
        .try_get(0)?)
    }

    async fn has_user_room_day(&self, service: i64, day: &str) -> Result<bool> {
        let sql = "SELECT EXISTS (SELECT 1 FROM user_room_days WHERE service_id = $1 AND day = $2)";
        Ok(query_one(self.0, sql, &[&service, &day]).await?.try_get(0)?)
    }

    async fn put_user_room_day(&self, service: i64, d: &varde_domain::indicator::UserRoomDay) -> Result<()> {
        execute(
            self.0,
            "INSERT INTO user_room_days (service_id, day, visits, overdoses, naloxone, referrals) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (service_id, day) DO UPDATE SET visits = excluded.visits, overdoses = excluded.overdoses,
             naloxone = excluded.naloxone, referrals = excluded.referrals",
            &[
                &service,
                &d.day.to_string(),
                &i64::from(d.visits),
                &i64::from(d.overdoses),
                &i64::from(d.naloxone),
                &i64::from(d.referrals),
            ],
        )
        .await?;
        Ok(())
    }
}

impl varde_store::port::Webhooks for super::Port<'_> {
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
        Ok(query_one(
            self.0,
            "INSERT INTO webhooks (url, secret, min_tier, fylker, cursor, created_ms) VALUES ($1, $2, $3, $4, $5, $6)
             RETURNING id",
            &[&url, &secret, &min_tier.as_str(), &fylker, &cursor, &ms(at)],
        )
        .await?
        .try_get(0)?)
    }

    async fn insert_delivery(&self, d: &Delivery) -> Result<()> {
        execute(
            self.0,
            "INSERT INTO deliveries (webhook_id, event_seq, attempt, at_ms, ok, status, error) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[&d.webhook_id, &d.event_seq, &i64::from(d.attempt), &ms(d.at), &d.ok, &d.status.map(i64::from), &d.error],
        )
        .await?;
        Ok(())
    }

    async fn advance_webhook(&self, id: i64, seq: i64) -> Result<()> {
        skip_to(self.0, id, seq).await
    }
}
