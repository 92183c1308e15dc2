//! `varde serve`.

use crate::{Reference, demo, open_store};
use anyhow::Context;
use std::net::SocketAddr;
use std::sync::Arc;
use varde_core::Application;
use varde_web::AppState;

pub async fn app(store: Arc<dyn Application>, reference: Reference, public_url: &str) -> anyhow::Result<axum::Router> {
    app_with(store, reference, public_url, AppOptions::default()).await
}

/// How the server reaches people and services (`serve`'s reach options).
#[derive(Debug, Clone)]
pub struct ReachOptions {
    /// `smtp://[user:password@]host[:port][?tls=required]` or `smtps://…`; None: no e-mail.
    pub smtp_url: Option<String>,
    /// The sender of e-mail (default `varde@` and the public address's host).
    pub mail_from: Option<String>,
    pub escalate_after: jiff::SignedDuration,
    pub severe_everywhere: bool,
    pub escalation_check: std::time::Duration,
    /// Accept http:// push endpoints on any port (tests and benchmarks with a local push service only).
    pub insecure_push: bool,
    /// Ranges that webhooks and pushes may reach although they are not public (`--outbound-allow`).
    pub outbound_allow: Vec<ipnet::IpNet>,
    /// Push endpoints only at these hosts (`--push-hosts`); None: any public https host on port 443.
    pub push_hosts: Option<Vec<String>>,
}

impl Default for ReachOptions {
    fn default() -> Self {
        ReachOptions {
            smtp_url: None,
            mail_from: None,
            escalate_after: jiff::SignedDuration::from_hours(varde_domain::alert::ESCALATE_AFTER_HOURS),
            severe_everywhere: true,
            escalation_check: std::time::Duration::from_secs(60),
            insecure_push: false,
            outbound_allow: Vec::new(),
            push_hosts: None,
        }
    }
}

/// Everything about the application a caller may choose.
#[derive(Debug, Clone, Default)]
pub struct AppOptions {
    /// Webhook retry timing (tests retry in milliseconds, not seconds).
    pub backoff: varde_web::warn::delivery::Backoff,
    /// Reverse proxies whose forwarded headers name the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub reach: ReachOptions,
    /// Where the background jobs run.
    pub jobs: Jobs,
    /// Retention and archiving, hourly with the other jobs (not in tests that start many servers).
    pub housekeeping: Option<Housekeeping>,
    /// The roles asked for a second factor at login (`--second-factor-for`; none by default here, so that a caller
    /// chooses: `serve` asks reviewers and admins unless told otherwise).
    pub second_factor_for: Vec<varde_domain::auth::Role>,
    /// Staff sessions unused this long end (`--session-idle-minutes`); the default when None.
    pub session_idle: Option<jiff::SignedDuration>,
    /// The identity providers' file (`--oidc`); none: local passwords only.
    pub oidc: Option<std::path::PathBuf>,
}

/// What the hourly housekeeping keeps: see `serve`'s options.
#[derive(Debug, Clone, Copy)]
pub struct Housekeeping {
    pub retention_days: u32,
    pub archive_after_days: u32,
}

/// How often an instance that does not run the background jobs asks whether it may (another instance holds them,
/// and may die).
const LEAD_RETRY: std::time::Duration = std::time::Duration::from_secs(1);

/// Where the background jobs (webhook delivery, the hourly signal run, the subscribers' outbox and escalations,
/// retention) run: in the web server (the default), or in a `varde worker` of their own (`serve --jobs=false`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Jobs {
    #[default]
    Here,
    Elsewhere,
}

/// The sender address: the one given, or `varde@` the public address's host.
fn mail_from(given: Option<&str>, public_url: &str) -> String {
    if let Some(from) = given {
        return from.to_owned();
    }
    let host = public_url.split("://").nth(1).unwrap_or("").split(['/', ':']).next().unwrap_or("");
    let candidate = format!("Varde <varde@{host}>");
    match varde_reach::mail::normalise_address(&format!("varde@{host}")) {
        Some(_) => candidate,
        None => "Varde <varde@localhost.localdomain>".to_owned(),
    }
}

/// The application: routes, and unless the jobs run elsewhere, webhook delivery, monitoring and the subscribers'
/// outbox.
pub async fn app_with(
    store: Arc<dyn Application>,
    reference: Reference,
    public_url: &str,
    options: AppOptions,
) -> anyhow::Result<axum::Router> {
    let (backoff, jobs, housekeeping) = (options.backoff, options.jobs, options.housekeeping);
    let state = state_with(store, reference, public_url, options).await?;
    if jobs == Jobs::Here {
        spawn_jobs(&state, backoff, housekeeping);
    }
    Ok(varde_web::router(state))
}

/// The background jobs that follow the event log and the clock, run while this instance leads them: where several
/// instances share a PostgreSQL database one runs them at a time (so each warning is delivered once and the hourly
/// jobs run once), and when it dies another takes over within a second or two.
fn spawn_jobs(state: &AppState, backoff: varde_web::warn::delivery::Backoff, housekeeping: Option<Housekeeping>) {
    let state = state.clone();
    tokio::spawn(async move {
        loop {
            match state.app.queries().try_lead().await {
                Ok(Some(mut lead)) => {
                    tracing::info!("this instance runs the background jobs");
                    let mut tasks = vec![
                        varde_web::warn::delivery::spawn(state.clone(), backoff),
                        varde_web::detect::monitoring::spawn(state.clone()),
                    ];
                    tasks.extend(varde_web::warn::outbox::spawn(state.clone()));
                    if let Some(h) = housekeeping {
                        tasks.push(spawn_housekeeping(state.app.clone(), h));
                    }
                    lead.lost().await;
                    tracing::warn!("lost the lead of the background jobs; they stop until it is regained");
                    for task in tasks {
                        task.abort();
                    }
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "cannot ask for the lead of the background jobs"),
            }
            tokio::time::sleep(LEAD_RETRY).await;
        }
    });
}

/// The application's state: the store, the data files, how warnings reach people.
async fn state_with(
    store: Arc<dyn Application>,
    reference: Reference,
    public_url: &str,
    options: AppOptions,
) -> anyhow::Result<AppState> {
    varde_web::http::i18n::check();
    let AppOptions { trusted_proxies, reach, second_factor_for, session_idle, oidc, .. } = options;
    let issuers = match &oidc {
        Some(file) => varde_http::oidc::Issuers::load(file).map_err(anyhow::Error::msg).context("--oidc")?,
        None => varde_http::oidc::Issuers::none(),
    };
    let (link_key, vapid) = varde_web::warn::subscriptions::kept_keys(&*store).await?;
    let from = mail_from(reach.mail_from.as_deref(), public_url);
    let mailer = reach
        .smtp_url
        .as_deref()
        .map(|url| varde_reach::mail::Mailer::new(url, &from, varde_web::config::reach::EMAIL_CONNECTIONS))
        .transpose()
        .context("--smtp-url / --mail-from")?;
    let subject = format!("mailto:{}", from.rsplit_once('<').map_or(from.as_str(), |(_, a)| a.trim_end_matches('>')));
    let mut settings = varde_web::warn::subscriptions::Reach::new(link_key, vapid, mailer, subject);
    settings.escalate_after = reach.escalate_after;
    settings.severe_everywhere = reach.severe_everywhere;
    settings.escalation_check = reach.escalation_check;
    settings.outbound = varde_reach::outbound::OutboundPolicy {
        allowed: reach.outbound_allow,
        push_hosts: reach.push_hosts,
        insecure_push: reach.insecure_push,
    };
    Ok(AppState::new(store, reference, public_url)
        .trusting_proxies(trusted_proxies)
        .reaching(settings)
        .asking_second_factor_of(second_factor_for)
        .signing_in_through(issuers)
        .ending_sessions_idle_for(session_idle.unwrap_or(varde_web::config::sessions::IDLE_DEFAULT)))
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
    pub reach: ReachOptions,
    /// The roles asked for a second factor at login.
    pub second_factor_for: Vec<varde_domain::auth::Role>,
    /// Staff sessions unused this long end.
    pub session_idle: jiff::SignedDuration,
    /// The identity providers' file.
    pub oidc: Option<std::path::PathBuf>,
    /// The advisory unit's module: enabled when its database is given.
    pub advisory: crate::advisory::AdvisoryArgs,
    pub jobs: Jobs,
}

/// Retention (privacy rule 5, docs/privacy.md): photos and free text older than the period go; counts stay.
pub async fn purge(store: &dyn varde_core::Application, retention_days: u32) -> anyhow::Result<varde_store::Purged> {
    let now = jiff::Timestamp::now();
    let before = now - jiff::SignedDuration::from_hours(i64::from(retention_days) * 24);
    Ok(store.purge_before(before, now).await?)
}

/// The review queue keeps to drafts with recent evidence: older ones are archived (revived by new evidence).
pub async fn archive_stale_drafts(store: &dyn varde_core::Application, after_days: u32) -> anyhow::Result<usize> {
    let now = jiff::Timestamp::now();
    let before = now - jiff::SignedDuration::from_hours(i64::from(after_days) * 24);
    Ok(store.archive_stale_drafts(before, now).await?)
}

/// E-mail subscription requests not confirmed in 48 hours are deleted (hourly).
pub async fn purge_unconfirmed(store: &dyn varde_core::Application) -> anyhow::Result<usize> {
    let now = jiff::Timestamp::now();
    let before = now - jiff::SignedDuration::from_hours(varde_domain::subscription::UNCONFIRMED_HOURS);
    Ok(store.purge_unconfirmed(before, now).await?)
}

pub async fn run(database: &str, reference: Reference, options: Options) -> anyhow::Result<()> {
    let Options {
        listen,
        public_url,
        demo_seed,
        retention_days,
        archive_after_days,
        trusted_proxies,
        reach,
        second_factor_for,
        session_idle,
        oidc,
        advisory,
        jobs,
    } = options;
    let store = open_store(database, &reference).await?;
    let advisory_store = crate::advisory::open(&advisory, database)?;
    if let Some(seed) = demo_seed {
        prepare_demo(store.clone(), &reference, seed).await?;
    }
    // The demo's logins are printed for a newcomer to try at once; `--demo` refuses a database with real samples,
    // so this exemption never reaches real accounts.
    let second_factor_for = if demo_seed.is_some() {
        let asked: Vec<&str> = second_factor_for.iter().map(|r| r.as_str()).collect();
        println!(
            "the demo asks nobody for a second factor; without --demo these roles enrol one at their first login: {} \
             (--second-factor-for)",
            if asked.is_empty() { "none".to_owned() } else { asked.join(", ") }
        );
        Vec::new()
    } else {
        second_factor_for
    };
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    tracing::info!(address = %listener.local_addr()?, database, "Varde is listening");
    // Printed on stdout, so scripts and tests can wait for it.
    println!("listening on http://{}", listener.local_addr()?);
    let public_url = public_url.unwrap_or_else(|| format!("http://{}", listener.local_addr().expect("bound")));
    // With the client's address, for the concern form's rate limit.
    let housekeeping = Some(Housekeeping { retention_days, archive_after_days });
    // Trusted proxies carry many clients on one address: they are not held to the per-client connection cap.
    let limits = varde_web::http::listener::ConnectionLimits {
        exempt: trusted_proxies.clone(),
        ..varde_web::http::listener::ConnectionLimits::default()
    };
    let options = AppOptions {
        trusted_proxies,
        reach,
        jobs,
        housekeeping,
        second_factor_for,
        session_idle: Some(session_idle),
        oidc,
        ..AppOptions::default()
    };
    let mut app = app_with(store.clone(), reference.clone(), &public_url, options).await?;
    if let Some(unit) = advisory_store {
        if demo_seed.is_some() {
            println!("demo logins for the advisory unit in Oslo (synthetic cases; new passwords each start):");
            for (username, password, role) in crate::advisory::demo(&unit)? {
                println!("  {username:<15} {password:<18} ({role})");
            }
        }
        if jobs == Jobs::Here {
            varde_advisory_web::spawn_retention(unit.clone(), advisory.advisory_grace_days);
        }
        app = crate::advisory::mount(app, unit, &reference, &advisory, &public_url, demo_seed.is_some())?;
    }
    // Bounded: headers and bodies must arrive in time, and one client holds at most so many connections.
    varde_web::http::listener::serve(listener, app, limits, shutdown()).await?;
    store.queries().close();
    Ok(())
}

/// Retention, archiving stale drafts and forgetting unconfirmed subscription requests: now, then every hour.
fn spawn_housekeeping(
    retention_store: Arc<dyn varde_core::Application>,
    h: Housekeeping,
) -> tokio::task::JoinHandle<()> {
    let Housekeeping { retention_days, archive_after_days } = h;
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
            match purge_unconfirmed(&*retention_store).await {
                Ok(n) if n > 0 => {
                    tracing::info!(requests = n, "deleted subscription requests not confirmed in 48 hours")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "deleting unconfirmed subscription requests failed"),
            }
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        }
    })
}

pub struct WorkerOptions {
    pub public_url: String,
    pub retention_days: u32,
    pub archive_after_days: u32,
    pub reach: ReachOptions,
    pub advisory: crate::advisory::AdvisoryArgs,
}

/// `varde worker`: the background jobs without the web server, for `serve --jobs=false` beside it. It follows the
/// event log by polling (within seconds) since the web server's writes happen in another process.
pub async fn work(database: &str, reference: Reference, options: WorkerOptions) -> anyhow::Result<()> {
    let WorkerOptions { public_url, retention_days, archive_after_days, reach, advisory } = options;
    let store = open_store(database, &reference).await?;
    let options = AppOptions { reach, ..AppOptions::default() };
    let state = state_with(store.clone(), reference, &public_url, options).await?;
    let housekeeping = Housekeeping { retention_days, archive_after_days };
    spawn_jobs(&state, varde_web::warn::delivery::Backoff::default(), Some(housekeeping));
    if let Some(unit) = crate::advisory::open(&advisory, database)? {
        varde_advisory_web::spawn_retention(unit.clone(), advisory.advisory_grace_days);
    }
    tracing::info!(database, "Varde's background jobs are running");
    println!("worker running");
    shutdown().await;
    store.queries().close();
    Ok(())
}

async fn prepare_demo(store: Arc<dyn varde_core::Application>, reference: &Reference, seed: u64) -> anyhow::Result<()> {
    let is_demo = store.queries().meta("demo").await?.is_some();
    if !is_demo {
        if store.queries().sample_count().await? > 0 {
            anyhow::bail!("--demo needs an empty database or one made by --demo; this one holds real samples");
        }
        eprintln!("filling the database with the synthetic demo year (seed {seed})…");
        eprintln!(
            "{}",
            demo::load(store.clone(), reference, seed, demo::DEFAULT_SAMPLES, jiff::Timestamp::now()).await?
        );
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
    // Logins for the pages, with passwords made now (a restart makes new ones and ends the old sessions).
    println!("demo logins for the pages (new passwords each start):");
    for (username, role, service) in [
        ("demo-tekniker", varde_domain::auth::Role::Technician, Some("oslo-brukerrom")),
        ("demo-reviewer", varde_domain::auth::Role::Reviewer, None),
        ("demo-admin", varde_domain::auth::Role::Admin, None),
    ] {
        let password = crate::admin::random_password();
        let hash = varde_web::http::session::hash_password(&password);
        if store.queries().user(username).await?.is_some() {
            store.set_password(username, &hash, "demo", jiff::Timestamp::now()).await?;
        } else {
            let service = service
                .map(varde_domain::service::ServiceSlug::parse)
                .transpose()
                .map_err(|_| anyhow::anyhow!("demo slug"))?;
            store.add_user(username, &hash, role, service, "demo", jiff::Timestamp::now()).await?;
        }
        println!("  {:<15} {password:<18} ({})", username, role.as_str());
    }
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
