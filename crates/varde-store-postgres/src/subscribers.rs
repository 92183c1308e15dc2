//! Subscribers and their outbox (personal data, kept in tables of their own: no query here touches samples), and
//! escalations of unacknowledged severe alerts to services.

use super::*;
use varde_domain::Lang;
use varde_domain::subscription::{Channel, Preferences};
use varde_store::{MessageKind, NewSubscriber, OutboxMessage, ServiceContact, Subscriber};

/// Where fan-out has read the event log to (in `meta`).
const FAN_OUT_CURSOR: &str = "subscriber_fan_out_cursor";
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

pub(super) async fn pending(tx: &Tx<'_>, id: i64) -> Result<u64> {
    let n: i64 =
        query_one(tx, "SELECT count(*) FROM subscriber_outbox WHERE subscriber_id = $1", &[&id]).await?.try_get(0)?;
    narrow(n, "pending messages")
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

impl varde_store::port::Reach for super::Port<'_> {
    async fn subscriber_with(&self, channel: Channel, address: &str) -> Result<Option<(i64, bool)>> {
        let sql = "SELECT id, confirmed_ms FROM subscribers WHERE channel = $1 AND address = $2";
        query_opt(self.0, sql, &[&channel.as_str(), &address])
            .await?
            .map(|r| Ok((r.try_get(0)?, r.try_get::<_, Option<i64>>(1)?.is_some())))
            .transpose()
    }

    async fn insert_subscriber(&self, new: &NewSubscriber, at: Timestamp, confirmed: Option<Timestamp>) -> Result<i64> {
        let (p256dh, auth, fylker, min_tier, lang) = varde_store::request_columns(new);
        Ok(query_one(
            self.0,
            "INSERT INTO subscribers (channel, address, p256dh, auth, fylker, min_tier, lang, nonce, created_ms, confirmed_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            &[
                &new.channel.as_str(),
                &new.address,
                &p256dh,
                &auth,
                &fylker,
                &min_tier,
                &lang,
                &new.nonce,
                &ms(at),
                &confirmed.map(ms),
            ],
        )
        .await?
        .try_get(0)?)
    }

    async fn renew_subscriber(
        &self,
        id: i64,
        new: &NewSubscriber,
        at: Timestamp,
        confirmed: Option<Timestamp>,
    ) -> Result<()> {
        let (p256dh, auth, fylker, min_tier, lang) = varde_store::request_columns(new);
        execute(
            self.0,
            "UPDATE subscribers SET p256dh = $2, auth = $3, fylker = $4, min_tier = $5, lang = $6, created_ms = $7,
             confirmed_ms = coalesce(confirmed_ms, $8) WHERE id = $1",
            &[&id, &p256dh, &auth, &fylker, &min_tier, &lang, &ms(at), &confirmed.map(ms)],
        )
        .await?;
        Ok(())
    }

    async fn subscriber(&self, id: i64) -> Result<Option<Subscriber>> {
        load(self.0, id).await
    }

    async fn set_confirmed(&self, id: i64, at: Timestamp) -> Result<()> {
        execute(self.0, "UPDATE subscribers SET confirmed_ms = $2 WHERE id = $1", &[&id, &ms(at)]).await?;
        Ok(())
    }

    async fn delete_subscriber(&self, id: i64) -> Result<bool> {
        execute(self.0, "DELETE FROM subscriber_outbox WHERE subscriber_id = $1", &[&id]).await?;
        Ok(execute(self.0, "DELETE FROM subscribers WHERE id = $1", &[&id]).await? > 0)
    }

    async fn unconfirmed_since(&self, before: Timestamp) -> Result<Vec<i64>> {
        let sql = "SELECT id FROM subscribers WHERE confirmed_ms IS NULL AND created_ms < $1";
        query(self.0, sql, &[&ms(before)]).await?.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    async fn enqueue(&self, subscriber: i64, kind: MessageKind, event: Option<i64>, at: Timestamp) -> Result<usize> {
        let queued = execute(
            self.0,
            "INSERT INTO subscriber_outbox (subscriber_id, kind, event_seq, due_ms) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING",
            &[&subscriber, &kind.as_str(), &event, &ms(at)],
        )
        .await?;
        Ok(usize::try_from(queued).expect("one row at most"))
    }

    async fn fan_out_cursor(&self) -> Result<Option<i64>> {
        let cursor: Option<String> = query_opt(self.0, "SELECT value FROM meta WHERE key = $1", &[&FAN_OUT_CURSOR])
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
        cursor.map(|c| c.parse::<i64>().map_err(|_| corrupt("fan-out cursor", &c))).transpose()
    }

    async fn set_fan_out_cursor(&self, seq: i64) -> Result<()> {
        execute(
            self.0,
            "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&FAN_OUT_CURSOR, &seq.to_string()],
        )
        .await?;
        Ok(())
    }

    async fn events_after(&self, seq: i64, limit: usize) -> Result<Vec<varde_store::Event>> {
        events::after(self.0, seq, limit).await
    }

    async fn confirmed_subscribers(&self) -> Result<Vec<Subscriber>> {
        // The fan-out runs under a lock of its own; it takes the writers' only now, when it has messages to queue:
        // events commit in sequence order, so those it read are a prefix of the log, and the subscribers read after
        // the lock are the committed ones.
        execute(self.0, WRITER_LOCK, &[]).await?;
        let sql = format!("SELECT {COLUMNS} FROM subscribers WHERE confirmed_ms IS NOT NULL");
        query(self.0, &sql, &[]).await?.iter().map(|r| to_subscriber(r, 0)).collect()
    }

    async fn drop_message(&self, id: i64) -> Result<()> {
        execute(self.0, "DELETE FROM subscriber_outbox WHERE id = $1", &[&id]).await?;
        Ok(())
    }

    async fn retry_message(&self, id: i64, due: Timestamp, error: &str) -> Result<Option<u32>> {
        query_opt(
            self.0,
            "UPDATE subscriber_outbox SET attempts = attempts + 1, due_ms = $2, last_error = $3 WHERE id = $1
             RETURNING attempts",
            &[&id, &ms(due), &error],
        )
        .await?
        .map(|r| narrow(r.try_get::<_, i64>(0)?, "attempts"))
        .transpose()
    }

    async fn message_subscriber(&self, id: i64) -> Result<Option<i64>> {
        query_opt(self.0, "SELECT subscriber_id FROM subscriber_outbox WHERE id = $1", &[&id])
            .await?
            .map(|r| Ok(r.try_get(0)?))
            .transpose()
    }
}
