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
/// How long a message handed to one instance's sender is not offered to another (it is settled well before).
const LEASE_MS: i64 = 5 * 60_000;

const COLUMNS: &str = "id, channel, address, p256dh, auth, fylker, min_tier, lang, nonce, created_ms, confirmed_ms";

/// The subscriber's columns ([`COLUMNS`]) starting at column `at`.
fn to_subscriber(r: &Row, at: usize) -> Result<Subscriber> {
    let (channel, fylker, min_tier, lang): (&str, &str, &str, &str) =
        (r.try_get(at + 1)?, r.try_get(at + 5)?, r.try_get(at + 6)?, r.try_get(at + 7)?);
    let (p256dh, auth): (Option<String>, Option<String>) = (r.try_get(at + 3)?, r.try_get(at + 4)?);
    Ok(Subscriber {
        id: r.try_get(at)?,
        channel: Channel::parse(channel).ok_or_else(|| corrupt("channel", channel))?,
        address: r.try_get(at + 2)?,
        push_keys: p256dh.zip(auth),
        preferences: Preferences {
            fylker: serde_json::from_str(fylker).map_err(|e| Error::corrupt(e.to_string()))?,
            min_tier: tier_of(min_tier)?,
            lang: Lang::parse(lang).ok_or_else(|| corrupt("language", lang))?,
        },
        nonce: r.try_get(at + 8)?,
        created_at: ts(r.try_get(at + 9)?)?,
        confirmed_at: r.try_get::<_, Option<i64>>(at + 10)?.map(ts).transpose()?,
    })
}

pub(super) async fn load(tx: &Tx<'_>, id: i64) -> Result<Option<Subscriber>> {
    let sql = format!("SELECT {COLUMNS} FROM subscribers WHERE id = $1");
    query_opt(tx, &sql, &[&id]).await?.map(|r| to_subscriber(&r, 0)).transpose()
}

async fn enqueue(tx: &Tx<'_>, subscriber: i64, kind: MessageKind, event: Option<i64>, at: Timestamp) -> Result<u64> {
    execute(
        tx,
        "INSERT INTO subscriber_outbox (subscriber_id, kind, event_seq, due_ms) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        &[&subscriber, &kind.as_str(), &event, &ms(at)],
    )
    .await
}

fn audit_subject(id: i64) -> String {
    format!("subscriber:{id}")
}

pub(super) async fn request(tx: &Tx<'_>, new: &NewSubscriber, at: Timestamp) -> Result<(Subscriber, Requested)> {
    let existing = query_opt(
        tx,
        "SELECT id, confirmed_ms FROM subscribers WHERE channel = $1 AND address = $2",
        &[&new.channel.as_str(), &new.address],
    )
    .await?;
    let prefs = &new.preferences;
    let fylker = serde_json::to_string(&prefs.fylker).expect("strings serialise");
    let (p256dh, auth) = new.push_keys.clone().unzip();
    // The browser's permission prompt is a push subscriber's opt-in.
    let confirmed = (new.channel == Channel::Push).then_some(ms(at));
    let (id, found) = match existing {
        None => {
            let id: i64 = query_one(
                tx,
                "INSERT INTO subscribers (channel, address, p256dh, auth, fylker, min_tier, lang, nonce, created_ms, confirmed_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                &[
                    &new.channel.as_str(),
                    &new.address,
                    &p256dh,
                    &auth,
                    &fylker,
                    &prefs.min_tier.as_str(),
                    &prefs.lang.code(),
                    &new.nonce,
                    &ms(at),
                    &confirmed,
                ],
            )
            .await?
            .try_get(0)?;
            (id, Requested::New)
        }
        Some(r) => {
            let (id, confirmed_ms): (i64, Option<i64>) = (r.try_get(0)?, r.try_get(1)?);
            // An unconfirmed request is replaced by the newer one (and its 48 hours start again); so is a push
            // subscription, whose keys the browser may have renewed. A confirmed e-mail address keeps its
            // preferences: whoever asks may not be its owner, who gets a notice with the link to change them.
            if new.channel == Channel::Push || confirmed_ms.is_none() {
                execute(
                    tx,
                    "UPDATE subscribers SET p256dh = $2, auth = $3, fylker = $4, min_tier = $5, lang = $6, created_ms = $7,
                     confirmed_ms = coalesce(confirmed_ms, $8) WHERE id = $1",
                    &[&id, &p256dh, &auth, &fylker, &prefs.min_tier.as_str(), &prefs.lang.code(), &ms(at), &confirmed],
                )
                .await?;
            }
            (id, if confirmed_ms.is_some() { Requested::AlreadyConfirmed } else { Requested::StillPending })
        }
    };
    if new.channel == Channel::Email {
        let kind = if found == Requested::AlreadyConfirmed { MessageKind::Notice } else { MessageKind::Confirm };
        enqueue(tx, id, kind, None, at).await?;
    }
    append_audit(tx, at, "public", "subscription.request", &audit_subject(id)).await?;
    let stored =
        load(tx, id).await?.ok_or_else(|| StoreError::Internal("a subscriber just stored is missing".into()))?;
    Ok((stored, found))
}

pub(super) async fn confirm(tx: &Tx<'_>, id: i64, at: Timestamp) -> Result<Subscriber> {
    let subscriber = varde_store::decisions::to_confirm(load(tx, id).await?)?;
    execute(tx, "UPDATE subscribers SET confirmed_ms = $2 WHERE id = $1", &[&id, &ms(at)]).await?;
    append_audit(tx, at, "public", "subscription.confirm", &audit_subject(id)).await?;
    Ok(Subscriber { confirmed_at: Some(at), ..subscriber })
}

pub(super) async fn pending(tx: &Tx<'_>, id: i64) -> Result<u64> {
    let n: i64 =
        query_one(tx, "SELECT count(*) FROM subscriber_outbox WHERE subscriber_id = $1", &[&id]).await?.try_get(0)?;
    narrow(n, "pending messages")
}

pub(super) async fn delete(tx: &Tx<'_>, id: i64, why: &str, at: Timestamp) -> Result<bool> {
    execute(tx, "DELETE FROM subscriber_outbox WHERE subscriber_id = $1", &[&id]).await?;
    let gone = execute(tx, "DELETE FROM subscribers WHERE id = $1", &[&id]).await? > 0;
    if gone {
        append_audit(tx, at, "public", &format!("subscription.delete.{why}"), &audit_subject(id)).await?;
    }
    Ok(gone)
}

pub(super) async fn purge_unconfirmed(tx: &Tx<'_>, before: Timestamp, at: Timestamp) -> Result<usize> {
    let ids: Vec<i64> =
        query(tx, "SELECT id FROM subscribers WHERE confirmed_ms IS NULL AND created_ms < $1", &[&ms(before)])
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
    for &id in &ids {
        delete(tx, id, "unconfirmed", at).await?;
    }
    Ok(ids.len())
}

/// Queues a message for each subscriber that wants an event the cursor has not passed yet. Runs under the fan-out's
/// own lock, and takes the writers' lock only when there is something to queue: events commit in sequence order,
/// so those read before it are a prefix of the log, and the subscribers read after it are the committed ones.
pub(super) async fn fan_out(tx: &Tx<'_>, at: Timestamp) -> Result<(usize, bool)> {
    let cursor: Option<String> = query_opt(tx, "SELECT value FROM meta WHERE key = $1", &[&FAN_OUT_CURSOR])
        .await?
        .map(|r| r.try_get(0))
        .transpose()?;
    // The first fan-out starts at the newest event: subscribers hear of what happens from now on, not of history.
    let mut cursor = match cursor {
        Some(c) => c.parse::<i64>().map_err(|_| corrupt("fan-out cursor", &c))?,
        None => events::newest(tx).await?,
    };
    let events = events::after(tx, cursor, FAN_OUT_EVENTS).await?;
    let mut queued = 0;
    let wanted_events = varde_store::decisions::for_subscribers(&events);
    if !wanted_events.is_empty() {
        execute(tx, WRITER_LOCK, &[]).await?;
        let sql = format!("SELECT {COLUMNS} FROM subscribers WHERE confirmed_ms IS NOT NULL");
        let subscribers: Vec<Subscriber> =
            query(tx, &sql, &[]).await?.iter().map(|r| to_subscriber(r, 0)).collect::<Result<_>>()?;
        for (subscriber, seq) in varde_store::decisions::alert_messages(&wanted_events, &subscribers) {
            queued += enqueue(tx, subscriber, MessageKind::Alert, Some(seq), at).await? as usize;
        }
    }
    if let Some(last) = events.last() {
        cursor = last.seq;
    }
    execute(
        tx,
        "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        &[&FAN_OUT_CURSOR, &cursor.to_string()],
    )
    .await?;
    Ok((queued, events.len() == FAN_OUT_EVENTS))
}

/// Messages due now, leased to the caller: with several instances sending, each message is offered to one of
/// them (`SKIP LOCKED`), and offered again only if it is not settled within the lease.
pub(super) async fn due(tx: &Tx<'_>, channel: Channel, now: Timestamp, n: usize) -> Result<Vec<OutboxMessage>> {
    let columns = COLUMNS.split(", ").map(|c| format!("s.{c}")).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "WITH taken AS (
             SELECT o.id FROM subscriber_outbox o JOIN subscribers s ON s.id = o.subscriber_id
             WHERE s.channel = $1 AND o.due_ms <= $2 ORDER BY o.due_ms, o.id LIMIT $3 FOR UPDATE OF o SKIP LOCKED),
         leased AS (
             UPDATE subscriber_outbox o SET due_ms = $2::bigint + $4::bigint FROM taken WHERE o.id = taken.id
             RETURNING o.id, o.kind, o.event_seq, o.attempts, o.subscriber_id)
         SELECT l.id, l.kind, l.event_seq, l.attempts, {columns} FROM leased l JOIN subscribers s ON s.id = l.subscriber_id
         ORDER BY l.id"
    );
    let rows = query(tx, &sql, &[&channel.as_str(), &ms(now), &limit(n), &LEASE_MS]).await?;
    // Many messages share an event (one publication, thousands of subscribers): read each event once.
    let mut events: std::collections::HashMap<i64, Event> = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let kind = match r.try_get::<_, &str>(1)? {
            "confirm" => MessageKind::Confirm,
            "notice" => MessageKind::Notice,
            "alert" => MessageKind::Alert,
            other => return Err(corrupt("message kind", other)),
        };
        let event = match r.try_get::<_, Option<i64>>(2)? {
            Some(seq) => match events.get(&seq) {
                Some(e) => Some(e.clone()),
                None => {
                    let e = events::after(tx, seq - 1, 1)
                        .await?
                        .into_iter()
                        .find(|e| e.seq == seq)
                        .ok_or_else(|| Error::corrupt(format!("outbox message for missing event {seq}")))?;
                    events.insert(seq, e.clone());
                    Some(e)
                }
            },
            None => None,
        };
        out.push(OutboxMessage {
            id: r.try_get(0)?,
            kind,
            subscriber: to_subscriber(&r, 4)?,
            event,
            attempts: narrow(r.try_get(3)?, "attempts")?,
        });
    }
    Ok(out)
}

pub(super) async fn settle(tx: &Tx<'_>, outcomes: &[(i64, Handover)], at: Timestamp) -> Result<()> {
    for (id, outcome) in outcomes {
        match outcome {
            Handover::Sent => {
                execute(tx, "DELETE FROM subscriber_outbox WHERE id = $1", &[id]).await?;
            }
            Handover::Retry { error, due } => {
                let attempts: Option<i64> = query_opt(
                    tx,
                    "UPDATE subscriber_outbox SET attempts = attempts + 1, due_ms = $2, last_error = $3 WHERE id = $1
                     RETURNING attempts",
                    &[id, &ms(*due), error],
                )
                .await?
                .map(|r| r.try_get(0))
                .transpose()?;
                if attempts.is_some_and(|a| a >= i64::from(GIVE_UP_AFTER)) {
                    tracing::warn!(message = id, error, "giving up a message after a day of attempts");
                    execute(tx, "DELETE FROM subscriber_outbox WHERE id = $1", &[id]).await?;
                }
            }
            Handover::Refused { error } => {
                tracing::warn!(message = id, error, "a message was refused for good; dropped");
                execute(tx, "DELETE FROM subscriber_outbox WHERE id = $1", &[id]).await?;
            }
            Handover::Gone => {
                let subscriber: Option<i64> =
                    query_opt(tx, "SELECT subscriber_id FROM subscriber_outbox WHERE id = $1", &[id])
                        .await?
                        .map(|r| r.try_get(0))
                        .transpose()?;
                if let Some(s) = subscriber {
                    delete(tx, s, "gone", at).await?;
                }
            }
        }
    }
    Ok(())
}

pub(super) async fn set_contact(
    tx: &Tx<'_>,
    service: &ServiceSlug,
    email: Option<&str>,
    actor: &str,
    at: Timestamp,
) -> Result<()> {
    let changed =
        execute(tx, "UPDATE services SET contact_email = $2 WHERE slug = $1", &[&service.as_str(), &email]).await?;
    if changed == 0 {
        return Err(StoreError::UnknownService(service.to_string()).into());
    }
    append_audit(tx, at, actor, "service.contact", service.as_str()).await
}

pub(super) async fn contacts(tx: &Tx<'_>) -> Result<Vec<ServiceContact>> {
    query(tx, "SELECT slug, contact_email FROM services WHERE contact_email IS NOT NULL ORDER BY slug", &[])
        .await?
        .iter()
        .map(|r| Ok(ServiceContact { service: slug_of(r.try_get(0)?)?, email: r.try_get(1)? }))
        .collect()
}

pub(super) async fn escalations(tx: &Tx<'_>, alert: i64) -> Result<Vec<ServiceSlug>> {
    query(
        tx,
        "SELECT s.slug FROM alert_escalations e JOIN services s ON s.id = e.service_id WHERE e.alert_id = $1 ORDER BY s.slug",
        &[&alert],
    )
    .await?
    .iter()
    .map(|r| slug_of(r.try_get(0)?))
    .collect()
}

pub(super) async fn record_escalation(tx: &Tx<'_>, alert: i64, service: &ServiceSlug, at: Timestamp) -> Result<bool> {
    let inserted = execute(
        tx,
        "INSERT INTO alert_escalations (alert_id, service_id, escalated_ms)
         SELECT $1, id, $3 FROM services WHERE slug = $2 ON CONFLICT DO NOTHING",
        &[&alert, &service.as_str(), &ms(at)],
    )
    .await?;
    if inserted > 0 {
        append_audit(tx, at, "varde", "alert.escalate", &format!("alert:{alert} service:{service}")).await?;
    }
    Ok(inserted > 0)
}
