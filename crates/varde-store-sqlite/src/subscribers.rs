//! Subscribers and their outbox (personal data, kept in tables of their own: no query here touches samples), and
//! escalations of unacknowledged severe alerts to services.

use super::*;
use varde_domain::Lang;
use varde_domain::subscription::{Channel, Preferences};
use varde_store::{MessageKind, NewSubscriber, OutboxMessage, ServiceContact, Subscriber};

/// Where fan-out has read the event log to (in `meta`).
const FAN_OUT_CURSOR: &str = "subscriber_fan_out_cursor";

const COLUMNS: &str = "id, channel, address, p256dh, auth, fylker, min_tier, lang, nonce, created_ms, confirmed_ms";

type Row = (i64, String, String, Option<String>, Option<String>, String, String, String, String, i64, Option<i64>);

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    row_from(r, 0)
}

/// The subscriber's columns ([`COLUMNS`]) starting at column `at`.
fn row_from(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<Row> {
    Ok((
        r.get(at)?,
        r.get(at + 1)?,
        r.get(at + 2)?,
        r.get(at + 3)?,
        r.get(at + 4)?,
        r.get(at + 5)?,
        r.get(at + 6)?,
        r.get(at + 7)?,
        r.get(at + 8)?,
        r.get(at + 9)?,
        r.get(at + 10)?,
    ))
}

fn to_subscriber(
    (id, channel, address, p256dh, auth, fylker, min_tier, lang, nonce, created, confirmed): Row,
) -> Result<Subscriber> {
    Ok(Subscriber {
        id,
        channel: Channel::parse(&channel).ok_or_else(|| corrupt("channel", &channel))?,
        address,
        push_keys: p256dh.zip(auth),
        preferences: Preferences {
            fylker: serde_json::from_str(&fylker).map_err(|e| Error::corrupt(e.to_string()))?,
            min_tier: Tier::parse(&min_tier).ok_or_else(|| corrupt("tier", &min_tier))?,
            lang: Lang::parse(&lang).ok_or_else(|| corrupt("language", &lang))?,
        },
        nonce,
        created_at: ts(created)?,
        confirmed_at: confirmed.map(ts).transpose()?,
    })
}

pub(super) fn load(conn: &Connection, id: i64) -> Result<Option<Subscriber>> {
    let found = conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM subscribers WHERE id = ?1"))?
        .query_row([id], row)
        .optional()?;
    found.map(to_subscriber).transpose()
}

pub(super) fn pending(conn: &Connection, id: i64) -> Result<u64> {
    Ok(conn.query_row("SELECT count(*) FROM subscriber_outbox WHERE subscriber_id = ?1", [id], |r| r.get(0))?)
}

pub(super) fn due(conn: &Connection, channel: Channel, now: Timestamp, limit: usize) -> Result<Vec<OutboxMessage>> {
    let columns = COLUMNS.split(", ").map(|c| format!("s.{c}")).collect::<Vec<_>>().join(", ");
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT o.id, o.kind, o.event_seq, o.attempts, {columns} FROM subscriber_outbox o JOIN subscribers s ON s.id = o.subscriber_id
         WHERE s.channel = ?1 AND o.due_ms <= ?2 ORDER BY o.due_ms, o.id LIMIT ?3"
    ))?;
    let rows: Vec<((i64, String, Option<i64>, u32), Row)> = stmt
        .query_map(params![channel.as_str(), ms(now), limit as i64], |r| {
            let head = (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
            let sub = row_from(r, 4)?;
            Ok((head, sub))
        })?
        .collect::<Result<_, _>>()?;
    // Many messages share an event (one publication, thousands of subscribers): read each event once.
    let mut events: std::collections::HashMap<i64, varde_store::Event> = std::collections::HashMap::new();
    rows.into_iter()
        .map(|((id, kind, seq, attempts), sub)| {
            let kind = match kind.as_str() {
                "confirm" => MessageKind::Confirm,
                "notice" => MessageKind::Notice,
                "alert" => MessageKind::Alert,
                other => return Err(corrupt("message kind", other)),
            };
            let event = match seq {
                Some(seq) => match events.entry(seq) {
                    std::collections::hash_map::Entry::Occupied(e) => Some(e.get().clone()),
                    std::collections::hash_map::Entry::Vacant(slot) => {
                        let e = super::events::after(conn, seq - 1, 1)?
                            .into_iter()
                            .find(|e| e.seq == seq)
                            .ok_or_else(|| Error::corrupt(format!("outbox message for missing event {seq}")))?;
                        Some(slot.insert(e).clone())
                    }
                },
                None => None,
            };
            Ok(OutboxMessage { id, kind, subscriber: to_subscriber(sub)?, event, attempts })
        })
        .collect()
}

pub(super) fn contacts(conn: &Connection) -> Result<Vec<ServiceContact>> {
    let rows: Vec<(String, String)> = conn
        .prepare_cached("SELECT slug, contact_email FROM services WHERE contact_email IS NOT NULL ORDER BY slug")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    rows.into_iter()
        .map(|(slug, email)| {
            Ok(ServiceContact {
                service: ServiceSlug::parse(&slug).map_err(|_| corrupt("service slug", &slug))?,
                email,
            })
        })
        .collect()
}

pub(super) fn escalations(conn: &Connection, alert: i64) -> Result<Vec<ServiceSlug>> {
    let slugs: Vec<String> = conn
        .prepare_cached(
            "SELECT s.slug FROM alert_escalations e JOIN services s ON s.id = e.service_id WHERE e.alert_id = ?1 ORDER BY s.slug",
        )?
        .query_map([alert], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    slugs.into_iter().map(|s| ServiceSlug::parse(&s).map_err(|_| corrupt("service slug", &s))).collect()
}

impl varde_store::port::Reach for super::Tx<'_> {
    async fn subscriber_with(&self, channel: Channel, address: &str) -> Result<Option<(i64, bool)>> {
        let found: Option<(i64, Option<i64>)> = self
            .conn()
            .prepare_cached("SELECT id, confirmed_ms FROM subscribers WHERE channel = ?1 AND address = ?2")?
            .query_row(params![channel.as_str(), address], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        Ok(found.map(|(id, confirmed)| (id, confirmed.is_some())))
    }

    async fn insert_subscriber(&self, new: &NewSubscriber, at: Timestamp, confirmed: Option<Timestamp>) -> Result<i64> {
        let (p256dh, auth, fylker, min_tier, lang) = varde_store::request_columns(new);
        self.conn()
            .prepare_cached(
                "INSERT INTO subscribers (channel, address, p256dh, auth, fylker, min_tier, lang, nonce, created_ms, confirmed_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![
                new.channel.as_str(),
                new.address,
                p256dh,
                auth,
                fylker,
                min_tier,
                lang,
                new.nonce,
                ms(at),
                confirmed.map(ms)
            ])?;
        Ok(self.conn().last_insert_rowid())
    }

    async fn renew_subscriber(
        &self,
        id: i64,
        new: &NewSubscriber,
        at: Timestamp,
        confirmed: Option<Timestamp>,
    ) -> Result<()> {
        let (p256dh, auth, fylker, min_tier, lang) = varde_store::request_columns(new);
        self.conn()
            .prepare_cached(
                "UPDATE subscribers SET p256dh = ?2, auth = ?3, fylker = ?4, min_tier = ?5, lang = ?6, created_ms = ?7,
                 confirmed_ms = coalesce(confirmed_ms, ?8) WHERE id = ?1",
            )?
            .execute(params![id, p256dh, auth, fylker, min_tier, lang, ms(at), confirmed.map(ms)])?;
        Ok(())
    }

    async fn subscriber(&self, id: i64) -> Result<Option<Subscriber>> {
        load(&self.conn(), id)
    }

    async fn set_confirmed(&self, id: i64, at: Timestamp) -> Result<()> {
        self.conn()
            .prepare_cached("UPDATE subscribers SET confirmed_ms = ?2 WHERE id = ?1")?
            .execute(params![id, ms(at)])?;
        Ok(())
    }

    async fn delete_subscriber(&self, id: i64) -> Result<bool> {
        self.conn().prepare_cached("DELETE FROM subscriber_outbox WHERE subscriber_id = ?1")?.execute([id])?;
        Ok(self.conn().prepare_cached("DELETE FROM subscribers WHERE id = ?1")?.execute([id])? > 0)
    }

    async fn unconfirmed_since(&self, before: Timestamp) -> Result<Vec<i64>> {
        Ok(self
            .conn()
            .prepare_cached("SELECT id FROM subscribers WHERE confirmed_ms IS NULL AND created_ms < ?1")?
            .query_map([ms(before)], |r| r.get(0))?
            .collect::<Result<_, _>>()?)
    }

    async fn enqueue(&self, subscriber: i64, kind: MessageKind, event: Option<i64>, at: Timestamp) -> Result<usize> {
        Ok(self
            .conn()
            .prepare_cached(
                "INSERT OR IGNORE INTO subscriber_outbox (subscriber_id, kind, event_seq, due_ms) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![subscriber, kind.as_str(), event, ms(at)])?)
    }

    async fn fan_out_cursor(&self) -> Result<Option<i64>> {
        let cursor: Option<String> = self
            .conn()
            .query_row("SELECT value FROM meta WHERE key = ?1", [FAN_OUT_CURSOR], |r| r.get(0))
            .optional()?;
        cursor.map(|c| c.parse::<i64>().map_err(|_| corrupt("fan-out cursor", &c))).transpose()
    }

    async fn set_fan_out_cursor(&self, seq: i64) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![FAN_OUT_CURSOR, seq.to_string()])?;
        Ok(())
    }

    async fn events_after(&self, seq: i64, limit: usize) -> Result<Vec<varde_store::Event>> {
        super::events::after(&self.conn(), seq, limit)
    }

    async fn confirmed_subscribers(&self) -> Result<Vec<Subscriber>> {
        // One writer: every write before this one has committed.
        self.conn()
            .prepare_cached(&format!("SELECT {COLUMNS} FROM subscribers WHERE confirmed_ms IS NOT NULL"))?
            .query_map([], row)?
            .map(|r| r.map_err(Error::from).and_then(to_subscriber))
            .collect()
    }

    async fn drop_message(&self, id: i64) -> Result<()> {
        self.conn().prepare_cached("DELETE FROM subscriber_outbox WHERE id = ?1")?.execute([id])?;
        Ok(())
    }

    async fn retry_message(&self, id: i64, due: Timestamp, error: &str) -> Result<Option<u32>> {
        Ok(self
            .conn()
            .prepare_cached(
                "UPDATE subscriber_outbox SET attempts = attempts + 1, due_ms = ?2, last_error = ?3 WHERE id = ?1
                 RETURNING attempts",
            )?
            .query_row(params![id, ms(due), error], |r| r.get(0))
            .optional()?)
    }

    async fn message_subscriber(&self, id: i64) -> Result<Option<i64>> {
        Ok(self
            .conn()
            .prepare_cached("SELECT subscriber_id FROM subscriber_outbox WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?)
    }
}
