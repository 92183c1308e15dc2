//! Subscribers and their outbox (personal data, kept in tables of their own: no query here touches samples), and
//! escalations of unacknowledged severe alerts to services.

use super::*;
use varde_domain::Lang;
use varde_domain::subscription::{Channel, GIVE_UP_AFTER, Preferences};
use varde_store::{Handover, MessageKind, NewSubscriber, OutboxMessage, Requested, ServiceContact, Subscriber};

/// Where fan-out has read the event log to (in `meta`).
const FAN_OUT_CURSOR: &str = "subscriber_fan_out_cursor";
/// Events read per fan-out transaction.
const FAN_OUT_EVENTS: usize = 200;

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

fn enqueue(conn: &Connection, subscriber: i64, kind: MessageKind, event: Option<i64>, at: Timestamp) -> Result<usize> {
    Ok(conn
        .prepare_cached(
            "INSERT OR IGNORE INTO subscriber_outbox (subscriber_id, kind, event_seq, due_ms) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![subscriber, kind.as_str(), event, ms(at)])?)
}

fn audit_subject(id: i64) -> String {
    format!("subscriber:{id}")
}

pub(super) fn request(conn: &Connection, new: &NewSubscriber, at: Timestamp) -> Result<(Subscriber, Requested)> {
    let existing: Option<(i64, Option<i64>)> = conn
        .prepare_cached("SELECT id, confirmed_ms FROM subscribers WHERE channel = ?1 AND address = ?2")?
        .query_row(params![new.channel.as_str(), new.address], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let prefs = &new.preferences;
    let fylker = serde_json::to_string(&prefs.fylker).expect("strings serialise");
    let (p256dh, auth) = new.push_keys.clone().unzip();
    // The browser's permission prompt is a push subscriber's opt-in.
    let confirmed = (new.channel == Channel::Push).then_some(ms(at));
    let (id, found) = match existing {
        None => {
            conn.prepare_cached(
                "INSERT INTO subscribers (channel, address, p256dh, auth, fylker, min_tier, lang, nonce, created_ms, confirmed_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![
                new.channel.as_str(),
                new.address,
                p256dh,
                auth,
                fylker,
                prefs.min_tier.as_str(),
                prefs.lang.code(),
                new.nonce,
                ms(at),
                confirmed
            ])?;
            (conn.last_insert_rowid(), Requested::New)
        }
        Some((id, confirmed_ms)) => {
            // An unconfirmed request is replaced by the newer one (and its 48 hours start again); so is a push
            // subscription, whose keys the browser may have renewed. A confirmed e-mail address keeps its
            // preferences: whoever asks may not be its owner, who gets a notice with the link to change them.
            if new.channel == Channel::Push || confirmed_ms.is_none() {
                conn.prepare_cached(
                    "UPDATE subscribers SET p256dh = ?2, auth = ?3, fylker = ?4, min_tier = ?5, lang = ?6, created_ms = ?7,
                     confirmed_ms = coalesce(confirmed_ms, ?8) WHERE id = ?1",
                )?
                .execute(params![id, p256dh, auth, fylker, prefs.min_tier.as_str(), prefs.lang.code(), ms(at), confirmed])?;
            }
            (id, if confirmed_ms.is_some() { Requested::AlreadyConfirmed } else { Requested::StillPending })
        }
    };
    if new.channel == Channel::Email {
        let kind = if found == Requested::AlreadyConfirmed { MessageKind::Notice } else { MessageKind::Confirm };
        enqueue(conn, id, kind, None, at)?;
    }
    append_audit(conn, at, "public", "subscription.request", &audit_subject(id))?;
    Ok((load(conn, id)?.ok_or_else(|| StoreError::Internal("a subscriber just stored is missing".into()))?, found))
}

pub(super) fn confirm(conn: &Connection, id: i64, at: Timestamp) -> Result<Subscriber> {
    let subscriber = varde_store::decisions::to_confirm(load(conn, id)?)?;
    conn.prepare_cached("UPDATE subscribers SET confirmed_ms = ?2 WHERE id = ?1")?.execute(params![id, ms(at)])?;
    append_audit(conn, at, "public", "subscription.confirm", &audit_subject(id))?;
    Ok(Subscriber { confirmed_at: Some(at), ..subscriber })
}

pub(super) fn pending(conn: &Connection, id: i64) -> Result<u64> {
    Ok(conn.query_row("SELECT count(*) FROM subscriber_outbox WHERE subscriber_id = ?1", [id], |r| r.get(0))?)
}

pub(super) fn delete(conn: &Connection, id: i64, why: &str, at: Timestamp) -> Result<bool> {
    conn.prepare_cached("DELETE FROM subscriber_outbox WHERE subscriber_id = ?1")?.execute([id])?;
    let gone = conn.prepare_cached("DELETE FROM subscribers WHERE id = ?1")?.execute([id])? > 0;
    if gone {
        append_audit(conn, at, "public", &format!("subscription.delete.{why}"), &audit_subject(id))?;
    }
    Ok(gone)
}

pub(super) fn purge_unconfirmed(conn: &Connection, before: Timestamp, at: Timestamp) -> Result<usize> {
    let ids: Vec<i64> = conn
        .prepare_cached("SELECT id FROM subscribers WHERE confirmed_ms IS NULL AND created_ms < ?1")?
        .query_map([ms(before)], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for &id in &ids {
        delete(conn, id, "unconfirmed", at)?;
    }
    Ok(ids.len())
}

pub(super) fn fan_out(conn: &Connection, at: Timestamp) -> Result<(usize, bool)> {
    let cursor: Option<String> =
        conn.query_row("SELECT value FROM meta WHERE key = ?1", [FAN_OUT_CURSOR], |r| r.get(0)).optional()?;
    // The first fan-out starts at the newest event: subscribers hear of what happens from now on, not of history.
    let mut cursor = match cursor {
        Some(c) => c.parse::<i64>().map_err(|_| corrupt("fan-out cursor", &c))?,
        None => super::events::newest(conn)?,
    };
    let events = super::events::after(conn, cursor, FAN_OUT_EVENTS)?;
    let mut queued = 0;
    let wanted_events = varde_store::decisions::for_subscribers(&events);
    if !wanted_events.is_empty() {
        let subscribers: Vec<Subscriber> = conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM subscribers WHERE confirmed_ms IS NOT NULL"))?
            .query_map([], row)?
            .map(|r| r.map_err(Error::from).and_then(to_subscriber))
            .collect::<Result<_, _>>()?;
        for (subscriber, seq) in varde_store::decisions::alert_messages(&wanted_events, &subscribers) {
            queued += enqueue(conn, subscriber, MessageKind::Alert, Some(seq), at)?;
        }
    }
    if let Some(last) = events.last() {
        cursor = last.seq;
    }
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![FAN_OUT_CURSOR, cursor.to_string()])?;
    Ok((queued, events.len() == FAN_OUT_EVENTS))
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

pub(super) fn settle(conn: &Connection, outcomes: &[(i64, Handover)], at: Timestamp) -> Result<()> {
    for (id, outcome) in outcomes {
        match outcome {
            Handover::Sent => {
                conn.prepare_cached("DELETE FROM subscriber_outbox WHERE id = ?1")?.execute([id])?;
            }
            Handover::Retry { error, due } => {
                let attempts: Option<u32> = conn
                    .prepare_cached("UPDATE subscriber_outbox SET attempts = attempts + 1, due_ms = ?2, last_error = ?3 WHERE id = ?1 RETURNING attempts")?
                    .query_row(params![id, ms(*due), error], |r| r.get(0))
                    .optional()?;
                if attempts.is_some_and(|a| a >= GIVE_UP_AFTER) {
                    tracing::warn!(message = id, error, "giving up a message after a day of attempts");
                    conn.prepare_cached("DELETE FROM subscriber_outbox WHERE id = ?1")?.execute([id])?;
                }
            }
            Handover::Refused { error } => {
                tracing::warn!(message = id, error, "a message was refused for good; dropped");
                conn.prepare_cached("DELETE FROM subscriber_outbox WHERE id = ?1")?.execute([id])?;
            }
            Handover::Gone => {
                let subscriber: Option<i64> = conn
                    .prepare_cached("SELECT subscriber_id FROM subscriber_outbox WHERE id = ?1")?
                    .query_row([id], |r| r.get(0))
                    .optional()?;
                if let Some(s) = subscriber {
                    delete(conn, s, "gone", at)?;
                }
            }
        }
    }
    Ok(())
}

pub(super) fn set_contact(
    conn: &Connection,
    service: &ServiceSlug,
    email: Option<&str>,
    actor: &str,
    at: Timestamp,
) -> Result<()> {
    let changed = conn
        .prepare_cached("UPDATE services SET contact_email = ?2 WHERE slug = ?1")?
        .execute(params![service.as_str(), email])?;
    if changed == 0 {
        return Err(StoreError::UnknownService(service.to_string()).into());
    }
    append_audit(conn, at, actor, "service.contact", service.as_str())
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

pub(super) fn record_escalation(conn: &Connection, alert: i64, service: &ServiceSlug, at: Timestamp) -> Result<bool> {
    let inserted = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO alert_escalations (alert_id, service_id, escalated_ms)
             SELECT ?1, id, ?3 FROM services WHERE slug = ?2",
        )?
        .execute(params![alert, service.as_str(), ms(at)])?;
    if inserted > 0 {
        append_audit(conn, at, "varde", "alert.escalate", &format!("alert:{alert} service:{service}"))?;
    }
    Ok(inserted > 0)
}
