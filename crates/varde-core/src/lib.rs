//! Varde's application core: every use case written once, as what it reads, what the pure domain decides from that,
//! and what it writes — all inside one transaction of whichever backend serves it — behind one API that pages, the
//! JSON API, the command line and the background jobs call ([`Application`], served by [`Core`]).
//!
//! The core sits on top: it depends on the port (`varde_store::port`: [`Backend`](varde_store::port::Backend), the
//! row-level [`Transaction`](varde_store::port::Transaction) and one trait per concern beyond the common rows), and
//! the backends implement that port without knowing the core. The use cases say in what order rows are read and
//! written and what they carry; the domain (`varde_domain::{assess, joining, merging, alert, recording}`) and the
//! core's [`decisions`] decide.
//!
//! The use cases, by the chain they serve: [`check`] (a sample registered, an analysis added or amended, a sample
//! assessed and joined to its product's draft, photos and spectra attached, what the person said about the result),
//! [`detect`] (signals recorded and read, an alert drafted from a signal, indicators recorded), [`warn`] (a
//! reviewer's action on an alert, merging two drafts, archiving stale drafts, an alert's evidence read and its photo
//! chosen, services acknowledging alerts and escalations to them), [`reach`] (subscriptions, the fan-out of alert
//! events to subscribers, settling their outbox, webhooks and their deliveries), [`retention`], and [`admin`]
//! (services, tokens, users). Each asks only for the ports it reads and writes.
//!
//! Adding a use case touches this crate (a function in its area, a method of [`Application`]) and, when it needs
//! rows no port has yet, the port and each backend's rows for it — never a backend's use cases, for it has none.
//!
//! SQLite serves registration one sample at a time ([`check::register`]). PostgreSQL commits registrations in
//! groups ([`GroupedRegistration`](varde_store::port::GroupedRegistration)), with the same decisions
//! (`recording::registered`, `recording::assessed`, `joining::plan`) applied to the whole group in a few statements.

pub mod admin;
mod application;
pub mod check;
pub mod decisions;
pub mod detect;
pub mod identity;
pub mod reach;
pub mod retention;
pub mod warn;

pub use application::{Application, Core};

#[cfg(test)]
mod tests;
