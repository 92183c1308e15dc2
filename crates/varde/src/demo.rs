//! Loading the synthetic demo year into a store.

use crate::Reference;
use crate::admin::new_service;
use anyhow::{Context, bail};
use jiff::Timestamp;
use std::sync::Arc;
use varde_core::Application;
use varde_domain::auth::{Principal, Role};

pub const DEFAULT_SAMPLES: usize = 4000;

/// Loads `count` samples received in the year(s) before `now`, and what the hourly jobs would have done by `now`.
/// `now` is an input so that the same seed and the same `now` give the same database on any day.
pub async fn load(
    store: Arc<dyn Application>,
    reference: &Reference,
    seed: u64,
    count: usize,
    now: Timestamp,
) -> anyhow::Result<String> {
    if store.queries().sample_count().await? > 0 {
        bail!("the database already holds samples; the demo fills only a fresh database");
    }
    for s in varde_demo::SERVICES {
        let service = new_service(reference, s.slug, s.name, s.kind.as_str(), s.kommune)?;
        store.add_service(service, "demo", now).await?;
    }
    let who = Principal { actor: "demo".into(), role: Role::Admin, service: None };
    // Send them all at once: the store's group commit turns them into a few large transactions.
    let mut tasks = tokio::task::JoinSet::new();
    for s in varde_demo::samples(seed, now, count) {
        let sample =
            s.input.validate(&reference.catalogue, now).context("the demo generator made an invalid sample")?;
        let (store, who) = (store.clone(), who.clone());
        tasks.spawn(async move { store.create_sample(s.code, sample, &who, now).await });
    }
    let mut handed_back = Vec::new();
    while let Some(result) = tasks.join_next().await {
        let stored = result??;
        handed_back.push((stored.sample.code, stored.findings.iter().map(|f| f.tier).max()));
    }
    // What people said when their results were handed back, and some told later what happened.
    handed_back.sort_by_key(|(code, _)| code.compact().to_owned());
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(seed ^ 0xFEED);
    let technician = Principal { actor: "demo".into(), role: Role::Technician, service: None };
    let mut tasks = tokio::task::JoinSet::new();
    for (code, tier) in handed_back {
        let (intention, outcome) = varde_demo::feedback(&mut rng, tier);
        let (store, who) = (store.clone(), technician.clone());
        tasks.spawn(async move {
            if let Some(i) = intention {
                store.set_intention(code, i, &who, now).await?;
            }
            if let Some(o) = outcome {
                store.record_outcome(code, o, now).await?;
            }
            Ok::<_, varde_store::StoreError>(())
        });
    }
    while let Some(result) = tasks.join_next().await {
        result??;
    }
    // A year of the user rooms' daily counts, as their staff would have entered them.
    let today = now.to_zoned(jiff::tz::TimeZone::get("Europe/Oslo").unwrap_or(jiff::tz::TimeZone::UTC)).date();
    let mut tasks = tokio::task::JoinSet::new();
    for day in varde_demo::user_room_days(seed, today) {
        day.check(today).context("the demo generator made an invalid user-room day")?;
        let (store, who) = (store.clone(), who.clone());
        tasks.spawn(async move { store.upsert_user_room_day(day, &who, now).await });
    }
    while let Some(result) = tasks.join_next().await {
        result??;
    }
    // As the hourly job would have done over the year: drafts without evidence in the last three weeks are archived.
    let stale = now - jiff::SignedDuration::from_hours(varde_domain::alert::ARCHIVE_AFTER_DAYS * 24);
    store.archive_stale_drafts(stale, now).await?;
    store.queries().refresh_statistics().await?;
    store.queries().set_meta("demo", &format!("seed {seed}, {count} samples, generated {now}")).await?;
    Ok(format!("demo data: {} services and {count} synthetic samples (seed {seed})", varde_demo::SERVICES.len()))
}
