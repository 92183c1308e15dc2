//! `varde serve`.

use crate::{Reference, demo, open_store};
use anyhow::Context;
use std::net::SocketAddr;
use std::sync::Arc;
use varde_store::Store;
use varde_web::AppState;

pub fn app(store: Arc<dyn Store>, reference: Reference, public_url: &str) -> axum::Router {
    app_with(store, reference, public_url, varde_web::delivery::Backoff::default(), Vec::new())
}

/// The application with webhook retry timing chosen by the caller (tests retry in milliseconds, not seconds).
pub fn app_with(
    store: Arc<dyn Store>,
    reference: Reference,
    public_url: &str,
    backoff: varde_web::delivery::Backoff,
    trusted_proxies: Vec<ipnet::IpNet>,
) -> axum::Router {
    varde_web::i18n::check();
    let state = AppState::new(store, reference, public_url).trusting_proxies(trusted_proxies);
    varde_web::delivery::spawn(state.clone(), backoff);
    varde_web::monitoring::spawn(state.clone());
    varde_web::router(state)
}

pub struct Options {
    pub listen: SocketAddr,
    pub public_url: Option<String>,
    pub demo_seed: Option<u64>,
    pub retention_days: u32,
    /// Days without new evidence after which a draft is archived.
    pub archive_after_days: u32,
    /// Reverse proxies whose forwarded headers name the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

/// Retention (DESIGN.md privacy rule 5): photos and free text older than the period go; counts stay.
pub async fn purge(store: &dyn varde_store::Store, retention_days: u32) -> anyhow::Result<varde_store::Purged> {
    let now = jiff::Timestamp::now();
    let before = now - jiff::SignedDuration::from_hours(i64::from(retention_days) * 24);
    Ok(store.purge_before(before, now).await?)
}

/// The review queue keeps to drafts with recent evidence: older ones are archived (revived by new evidence).
pub async fn archive_stale_drafts(store: &dyn varde_store::Store, after_days: u32) -> anyhow::Result<usize> {
    let now = jiff::Timestamp::now();
    let before = now - jiff::SignedDuration::from_hours(i64::from(after_days) * 24);
    Ok(store.archive_stale_drafts(before, now).await?)
}

pub async fn run(database: &str, reference: Reference, options: Options) -> anyhow::Result<()> {
    let Options { listen, public_url, demo_seed, retention_days, archive_after_days, trusted_proxies } = options;
    let store = open_store(database, &reference)?;
    if let Some(seed) = demo_seed {
        prepare_demo(store.clone(), &reference, seed).await?;
    }
    let retention_store = store.clone();
    tokio::spawn(async move {
        loop {
            match purge(&*retention_store, retention_days).await {
                Ok(p) => {
                    tracing::info!(p.photos, p.sample_notes, p.concern_texts, retention_days, "retention purge ran")
                }
                Err(e) => tracing::warn!(error = %e, "retention purge failed"),
            }
            match archive_stale_drafts(&*retention_store, archive_after_days).await {
                Ok(n) if n > 0 => {
                    tracing::info!(drafts = n, archive_after_days, "archived drafts without new evidence")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "archiving stale drafts failed"),
            }
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        }
    });
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    tracing::info!(address = %listener.local_addr()?, database, "Varde is listening");
    // Printed on stdout, so scripts and tests can wait for it.
    println!("listening on http://{}", listener.local_addr()?);
    let public_url = public_url.unwrap_or_else(|| format!("http://{}", listener.local_addr().expect("bound")));
    // With the client's address, for the concern form's rate limit.
    let app = app_with(store.clone(), reference, &public_url, Default::default(), trusted_proxies)
        .into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown()).await?;
    store.close();
    Ok(())
}

async fn prepare_demo(
    store: Arc<varde_store::sqlite::SqliteStore>,
    reference: &Reference,
    seed: u64,
) -> anyhow::Result<()> {
    let is_demo = store.meta("demo").await?.is_some();
    if !is_demo {
        if store.sample_count().await? > 0 {
            anyhow::bail!("--demo needs an empty database or one made by --demo; this one holds real samples");
        }
        eprintln!("filling the database with the synthetic demo year (seed {seed})…");
        eprintln!("{}", demo::load(store.clone(), reference, seed, demo::DEFAULT_SAMPLES).await?);
    }
    // The demo shows the real overdose figures shipped with Varde.
    crate::import_deaths(
        &*store,
        "norway_drug_induced_deaths.csv",
        include_str!("../../varde-domain/data/overdose/norway_drug_induced_deaths.csv"),
    )
    .await?;
    let tech = crate::admin::issue_token(&*store, "technician", Some("oslo-brukerrom"), Some("demo".into())).await?;
    let reviewer = crate::admin::issue_token(&*store, "reviewer", None, Some("demo".into())).await?;
    let admin = crate::admin::issue_token(&*store, "admin", None, Some("demo".into())).await?;
    println!("demo tokens (new each start):");
    println!("  technician at oslo-brukerrom: {tech}");
    println!("  reviewer:                     {reviewer}");
    println!("  admin:                        {admin}");
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
