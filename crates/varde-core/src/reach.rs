//! The use cases of reach that every backend runs the same way: a subscription asked for, confirmed and ended,
//! unconfirmed requests removed, alert events fanned out to the subscribers who want them, and how handing a message
//! over went; webhook subscribers added and their deliveries recorded.

use crate::decisions;
use jiff::Timestamp;
use varde_domain::Tier;
use varde_domain::subscription::{Channel, GIVE_UP_AFTER};
use varde_store::port::{Reach, Webhooks};
use varde_store::{Delivery, Handover, MessageKind, NewSubscriber, Requested, StoreError, Subscriber, Webhook};

/// How many events one fan-out reads; the caller runs it again at once while it reports more.
pub const FAN_OUT_EVENTS: usize = 200;

fn audit_subject(id: i64) -> String {
    format!("subscriber:{id}")
}

/// What a subscription request does, given what it found for its channel and address (whether that subscriber is
/// confirmed): whether the stored subscriber takes the request's keys and preferences, and what message it queues.
///
/// An unconfirmed request is replaced by the newer one (and its 48 hours start again); so is a push subscription,
/// whose keys the browser may have renewed. A confirmed e-mail address keeps its preferences: whoever asks may not
/// be its owner, who gets a notice with the link to change them. A new or still unconfirmed e-mail address gets a
/// confirmation; push queues nothing (the browser's permission prompt was its opt-in).
pub fn requested(channel: Channel, found: Option<bool>) -> (Requested, bool, Option<MessageKind>) {
    let (answer, renew) = match found {
        None => (Requested::New, false),
        Some(true) => (Requested::AlreadyConfirmed, channel == Channel::Push),
        Some(false) => (Requested::StillPending, true),
    };
    let message = (channel == Channel::Email).then_some(if answer == Requested::AlreadyConfirmed {
        MessageKind::Notice
    } else {
        MessageKind::Confirm
    });
    (answer, renew, message)
}

/// A subscription request (audited as `subscription.request` with the subscriber's id, never the address).
pub async fn request_subscription<T: Reach>(
    tx: &T,
    new: &NewSubscriber,
    at: Timestamp,
) -> Result<(Subscriber, Requested), T::Error> {
    let found = tx.subscriber_with(new.channel, &new.address).await?;
    let (answer, renew, message) = requested(new.channel, found.map(|(_, confirmed)| confirmed));
    // The browser's permission prompt is a push subscriber's opt-in.
    let confirmed = (new.channel == Channel::Push).then_some(at);
    let id = match found {
        None => tx.insert_subscriber(new, at, confirmed).await?,
        Some((id, _)) => {
            if renew {
                tx.renew_subscriber(id, new, at, confirmed).await?;
            }
            id
        }
    };
    if let Some(kind) = message {
        tx.enqueue(id, kind, None, at).await?;
    }
    tx.audit(at, "public", "subscription.request", &audit_subject(id)).await?;
    let stored =
        tx.subscriber(id).await?.ok_or_else(|| StoreError::Internal("a subscriber just stored is missing".into()))?;
    Ok((stored, answer))
}

/// Confirms an e-mail subscription (see `decisions::to_confirm` for what may be confirmed).
pub async fn confirm_subscription<T: Reach>(tx: &T, id: i64, at: Timestamp) -> Result<Subscriber, T::Error> {
    let subscriber = decisions::to_confirm(tx.subscriber(id).await?)?;
    tx.set_confirmed(id, at).await?;
    tx.audit(at, "public", "subscription.confirm", &audit_subject(id)).await?;
    Ok(Subscriber { confirmed_at: Some(at), ..subscriber })
}

/// Deletes a subscriber and their waiting messages, auditing why (`unsubscribe`, `gone`, `unconfirmed`); false when
/// there was none.
pub async fn delete_subscriber<T: Reach>(tx: &T, id: i64, why: &str, at: Timestamp) -> Result<bool, T::Error> {
    let gone = tx.delete_subscriber(id).await?;
    if gone {
        tx.audit(at, "public", &format!("subscription.delete.{why}"), &audit_subject(id)).await?;
    }
    Ok(gone)
}

/// Deletes e-mail requests not confirmed since `before`; how many.
pub async fn purge_unconfirmed<T: Reach>(tx: &T, before: Timestamp, at: Timestamp) -> Result<usize, T::Error> {
    let ids = tx.unconfirmed_since(before).await?;
    for &id in &ids {
        delete_subscriber(tx, id, "unconfirmed", at).await?;
    }
    Ok(ids.len())
}

/// What a fan-out did: how many messages it queued, whether events remain to be read, and how far it read (to be
/// given to the next fan-out of this instance).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FanOut {
    pub queued: usize,
    pub more: bool,
    pub read: i64,
}

/// Queues the alert events after the fan-out's cursor for every confirmed subscriber who wants them (once per
/// subscriber and event; see `decisions::alert_messages`) and moves past them. The first fan-out starts at the newest
/// event: subscribers hear of what happens from now on, not of history.
///
/// Most events are for nobody (a sample's finding, a draft). The stored cursor moves only when events for subscribers
/// were read, the first time, and at least once a page of events ([`FAN_OUT_EVENTS`]); in between the instance
/// remembers how far it read (`read`, from the last fan-out), so a quiet event costs no write. Past the stored cursor
/// there are then only events for nobody — whether an event is for subscribers depends on the event alone — so reading
/// from the cursor again (after a restart, or on another instance) queues nothing twice.
pub async fn fan_out<T: Reach>(tx: &T, at: Timestamp, read: Option<i64>) -> Result<FanOut, T::Error> {
    let stored = tx.fan_out_cursor().await?;
    let from = match stored {
        Some(cursor) => read.map_or(cursor, |read| read.max(cursor)),
        None => tx.newest_event().await?,
    };
    let events = tx.events_after(from, FAN_OUT_EVENTS).await?;
    let mut queued = 0;
    let wanted = decisions::for_subscribers(&events);
    if !wanted.is_empty() {
        let subscribers = tx.confirmed_subscribers().await?;
        for (subscriber, seq) in decisions::alert_messages(&wanted, &subscribers) {
            queued += tx.enqueue(subscriber, MessageKind::Alert, Some(seq), at).await?;
        }
    }
    let read = events.last().map_or(from, |e| e.seq);
    let page_behind = stored.is_some_and(|cursor| read - cursor >= FAN_OUT_EVENTS as i64);
    if stored.is_none() || !wanted.is_empty() || page_behind {
        tx.set_fan_out_cursor(read).await?;
    }
    Ok(FanOut { queued, more: events.len() == FAN_OUT_EVENTS, read })
}

/// Records how handing over messages went: sent and refused ones leave the outbox, one that failed is tried again
/// at its `due` until [`GIVE_UP_AFTER`] attempts, and a push subscription the push service says is gone is deleted.
pub async fn settle_messages<T: Reach>(tx: &T, outcomes: &[(i64, Handover)], at: Timestamp) -> Result<(), T::Error> {
    for (id, outcome) in outcomes {
        match outcome {
            Handover::Sent => tx.drop_message(*id).await?,
            Handover::Retry { error, due } => {
                if tx.retry_message(*id, *due, error).await?.is_some_and(|a| a >= GIVE_UP_AFTER) {
                    tracing::warn!(message = id, error, "giving up a message after a day of attempts");
                    tx.drop_message(*id).await?;
                }
            }
            Handover::Refused { error } => {
                tracing::warn!(message = id, error, "a message was refused for good; dropped");
                tx.drop_message(*id).await?;
            }
            Handover::Gone => {
                if let Some(subscriber) = tx.message_subscriber(*id).await? {
                    delete_subscriber(tx, subscriber, "gone", at).await?;
                }
            }
        }
    }
    Ok(())
}

/// Adds a webhook subscriber (audited). It starts at the present: it receives what happens from now on, not the
/// whole history.
pub async fn add_webhook<T: Webhooks>(
    tx: &T,
    url: &str,
    secret: &str,
    min_tier: Tier,
    fylker: &[String],
    actor: &str,
    at: Timestamp,
) -> Result<Webhook, T::Error> {
    let cursor = tx.newest_event().await?;
    let id = tx.insert_webhook(url, secret, min_tier, fylker, cursor, at).await?;
    tx.audit(at, actor, "webhook.add", &format!("webhook:{id}")).await?;
    let (url, secret, fylker) = (url.to_owned(), secret.to_owned(), fylker.to_vec());
    Ok(Webhook { id, url, secret, min_tier, fylker, cursor, active: true })
}

/// Records a delivery attempt; a successful one moves the subscriber's cursor to its event.
pub async fn record_delivery<T: Webhooks>(tx: &T, delivery: &Delivery) -> Result<(), T::Error> {
    tx.insert_delivery(delivery).await?;
    if delivery.ok {
        tx.advance_webhook(delivery.webhook_id, delivery.event_seq).await?;
    }
    Ok(())
}
