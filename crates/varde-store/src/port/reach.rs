//! The rows reach writes: subscribers and their outbox, webhook subscribers and their deliveries.

use super::Transaction;
use crate::{Delivery, Event, MessageKind, NewSubscriber, Subscriber};
use jiff::Timestamp;
use varde_domain::Tier;
use varde_domain::subscription::Channel;

/// What the reach use cases read and write besides [`Transaction`]'s rows: subscribers and their outbox.
pub trait Reach: Transaction {
    /// The subscriber with this channel and address, if any: its id and whether it is confirmed.
    fn subscriber_with(
        &self,
        channel: Channel,
        address: &str,
    ) -> impl Future<Output = Result<Option<(i64, bool)>, Self::Error>> + Send;
    /// Stores a new subscriber (confirmed at `confirmed`, if given); returns its id.
    fn insert_subscriber(
        &self,
        new: &NewSubscriber,
        at: Timestamp,
        confirmed: Option<Timestamp>,
    ) -> impl Future<Output = Result<i64, Self::Error>> + Send;
    /// Gives subscriber `id` a newer request's keys and preferences (its 48 hours start again at `at`), and confirms
    /// it at `confirmed` if given and it is not confirmed yet.
    fn renew_subscriber(
        &self,
        id: i64,
        new: &NewSubscriber,
        at: Timestamp,
        confirmed: Option<Timestamp>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
    fn subscriber(&self, id: i64) -> impl Future<Output = Result<Option<Subscriber>, Self::Error>> + Send;
    fn set_confirmed(&self, id: i64, at: Timestamp) -> impl Future<Output = Result<(), Self::Error>> + Send;
    /// Deletes a subscriber and the messages waiting for it; false when there was none.
    fn delete_subscriber(&self, id: i64) -> impl Future<Output = Result<bool, Self::Error>> + Send;
    /// E-mail requests not confirmed since `before`.
    fn unconfirmed_since(&self, before: Timestamp) -> impl Future<Output = Result<Vec<i64>, Self::Error>> + Send;
    /// Queues a message for a subscriber, due at `at`, unless the same one is queued; how many were queued.
    fn enqueue(
        &self,
        subscriber: i64,
        kind: MessageKind,
        event: Option<i64>,
        at: Timestamp,
    ) -> impl Future<Output = Result<usize, Self::Error>> + Send;
    /// The last event the fan-out has handled; none before the first fan-out.
    fn fan_out_cursor(&self) -> impl Future<Output = Result<Option<i64>, Self::Error>> + Send;
    fn set_fan_out_cursor(&self, seq: i64) -> impl Future<Output = Result<(), Self::Error>> + Send;
    /// Events after `seq`, oldest first, at most `limit`.
    fn events_after(&self, seq: i64, limit: usize) -> impl Future<Output = Result<Vec<Event>, Self::Error>> + Send;
    /// The confirmed subscribers, as committed by every write before this one: a backend whose writers are not
    /// already serialised with this transaction serialises them here (PostgreSQL takes the writers' lock, so the
    /// fan-out, which runs under a lock of its own, waits for the writers only when it has messages to queue).
    fn confirmed_subscribers(&self) -> impl Future<Output = Result<Vec<Subscriber>, Self::Error>> + Send;
    /// Takes a message out of the outbox.
    fn drop_message(&self, id: i64) -> impl Future<Output = Result<(), Self::Error>> + Send;
    /// Counts a failed attempt at a message and sets when to try again; the attempts so far (none when the message
    /// is no longer there).
    fn retry_message(
        &self,
        id: i64,
        due: Timestamp,
        error: &str,
    ) -> impl Future<Output = Result<Option<u32>, Self::Error>> + Send;
    /// The subscriber a waiting message is for.
    fn message_subscriber(&self, id: i64) -> impl Future<Output = Result<Option<i64>, Self::Error>> + Send;
}

/// What webhook subscribers need written besides [`Transaction`]'s rows.
pub trait Webhooks: Transaction {
    /// Stores a webhook subscriber whose cursor starts at `cursor`; its id.
    fn insert_webhook(
        &self,
        url: &str,
        secret: &str,
        min_tier: Tier,
        fylker: &[String],
        cursor: i64,
        at: Timestamp,
    ) -> impl Future<Output = Result<i64, Self::Error>> + Send;
    /// Records one delivery attempt.
    fn insert_delivery(&self, delivery: &Delivery) -> impl Future<Output = Result<(), Self::Error>> + Send;
    /// Moves a webhook's cursor to `seq`, never back: a late or repeated call cannot make a subscriber receive an
    /// event twice.
    fn advance_webhook(&self, id: i64, seq: i64) -> impl Future<Output = Result<(), Self::Error>> + Send;
}
