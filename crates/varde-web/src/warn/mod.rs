//! Warn: drafts reviewed and published, and everything that carries a warning out: Atom and CAP feeds, webhooks,
//! e-mail and push subscriptions with their outbox, the messages they carry.

pub mod delivery;
pub mod feeds;
pub mod messages;
pub mod outbox;
pub mod review;
pub mod subscribe_form;
pub mod subscriptions;
