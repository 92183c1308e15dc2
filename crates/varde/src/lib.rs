//! `varde`: the one binary. It wires the store, the data files and the web edge together; all the rules live in
//! the library crates. This library holds the commands so that the integration tests can drive them.

pub mod admin;
pub mod advisory;
pub mod demo;
pub mod serve;
pub mod signals;
pub mod spectra;

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use varde_core::{Application, Core};
use varde_domain::Catalogue;
use varde_domain::assess::Assessor;
use varde_domain::auth::Role;
use varde_store_postgres::PostgresStore;
use varde_store_sqlite::SqliteStore;

#[derive(Parser)]
#[command(name = "varde", version, about = "National drug-checking, monitoring and early-warning system")]
pub struct Cli {
    /// Where the data lives: sqlite://PATH (embedded, the default) or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE
    /// (add `?options=-c%20search_path%3DSCHEMA` for a schema of its own).
    #[arg(long, global = true, env = "VARDE_DATABASE", default_value = "sqlite://varde.db")]
    database: String,
    /// A substance catalogue to use instead of the one shipped with Varde (validated at start).
    #[arg(long, global = true, env = "VARDE_CATALOGUE")]
    catalogue: Option<PathBuf>,
    /// The advisory unit's module (off unless its database is given).
    #[command(flatten)]
    advisory: advisory::AdvisoryArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the web server.
    Serve {
        #[arg(long, env = "VARDE_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// The address the public reaches this server at, for links in feeds, CAP messages and result cards.
        /// (default: http:// and the listening address).
        #[arg(long, env = "VARDE_PUBLIC_URL")]
        public_url: Option<String>,
        /// Fill an empty database with the synthetic demo year first, and print tokens to try the API with.
        #[arg(long)]
        demo: bool,
        /// Seed for --demo.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Days after which samples' photos and notes and concern reports' texts are purged (checked hourly).
        #[arg(long, env = "VARDE_RETENTION_DAYS", default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..))]
        retention_days: u32,
        /// Days without new evidence after which a draft leaves the review queue (archived; checked hourly).
        #[arg(long, env = "VARDE_ARCHIVE_AFTER_DAYS", default_value_t = varde_domain::alert::ARCHIVE_AFTER_DAYS as u32, value_parser = clap::value_parser!(u32).range(1..))]
        archive_after_days: u32,
        /// A reverse proxy (address or CIDR range, repeatable) whose `Forwarded` / `X-Forwarded-For` headers name
        /// the client for rate limits. Without it forwarded headers are ignored.
        #[arg(long = "trusted-proxy", env = "VARDE_TRUSTED_PROXIES", value_delimiter = ',')]
        trusted_proxies: Vec<String>,
        /// Run the background jobs (webhook delivery, signals, the subscribers' outbox, escalations, retention)
        /// in this process; `--jobs=false` leaves them to a `varde worker`.
        #[arg(long, env = "VARDE_JOBS", default_value_t = true, action = clap::ArgAction::Set)]
        jobs: bool,
        /// The roles asked for a second factor (a one-time code from an authenticator app, or a recovery code) at
        /// every login, comma-separated; they enrol at their first login. Anyone who has enrolled is always asked.
        /// `--second-factor-for none` asks nobody who has not enrolled.
        #[arg(long, env = "VARDE_SECOND_FACTOR_FOR", value_delimiter = ',', default_value = "reviewer,admin")]
        second_factor_for: Vec<String>,
        /// Minutes a staff session may go unused before it ends (the person logs in again); sessions end after
        /// eight hours in any case.
        #[arg(long, env = "VARDE_SESSION_IDLE_MINUTES", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=480))]
        session_idle_minutes: u32,
        /// The identity providers staff may sign in through (HelseID, ID-porten, Entra ID): a TOML file of
        /// `[[issuer]]` tables (docs/operations.md, "Signing in through an identity provider"). Who gets which role
        /// is the sign-in rules' (`varde sign-in-rule`). Local passwords keep working beside them.
        #[arg(long, env = "VARDE_OIDC")]
        oidc: Option<PathBuf>,
        #[command(flatten)]
        reach: ReachArgs,
    },
    /// Run the background jobs without the web server (beside `serve --jobs=false`).
    Worker {
        /// The address the public reaches the web server at, for links in e-mail and push messages.
        #[arg(long, env = "VARDE_PUBLIC_URL", default_value = "http://127.0.0.1:8080")]
        public_url: String,
        #[arg(long, env = "VARDE_RETENTION_DAYS", default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..))]
        retention_days: u32,
        #[arg(long, env = "VARDE_ARCHIVE_AFTER_DAYS", default_value_t = varde_domain::alert::ARCHIVE_AFTER_DAYS as u32, value_parser = clap::value_parser!(u32).range(1..))]
        archive_after_days: u32,
        #[command(flatten)]
        reach: ReachArgs,
    },
    /// Purge photos and free text older than the retention period now (serve does this every hour).
    Purge {
        #[arg(long, env = "VARDE_RETENTION_DAYS", default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..))]
        retention_days: u32,
    },
    /// Create the database or bring its schema up to date (serve does this too).
    Migrate,
    /// Write a consistent copy of the database to a new file, while the server runs.
    Backup {
        #[arg(long)]
        out: PathBuf,
    },
    /// Copy every table of one database into another, empty one, e.g. from sqlite://varde.db to
    /// postgres://… to move an embedded installation up; the copy's audit chain is checked.
    Copy {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
    },
    /// Restore a backup as the database: checked first (integrity, schema, audit chain). Stop the server first.
    Restore {
        file: PathBuf,
        /// Replace a database that holds data (it is kept beside, renamed with the time).
        #[arg(long)]
        replace: bool,
    },
    /// Manage services (the places where samples are checked).
    #[command(subcommand)]
    Service(admin::ServiceCommand),
    /// Issue API tokens.
    #[command(subcommand)]
    Token(admin::TokenCommand),
    /// Manage the people who log in to the pages.
    #[command(subcommand)]
    User(admin::UserCommand),
    /// Who signs in through an identity provider (`serve --oidc`), and as what.
    #[command(subcommand)]
    SignInRule(admin::SignInRuleCommand),
    /// Fill a fresh database with a clearly labelled synthetic year of samples, deterministic by seed.
    Demo {
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value_t = demo::DEFAULT_SAMPLES)]
        samples: usize,
        /// The moment the demo year ends (RFC 3339, e.g. 2026-12-01T12:00:00Z); the current time by default. Tests
        /// fix it so that the same seed gives the same database on any day.
        #[arg(long)]
        now: Option<jiff::Timestamp>,
    },
    /// Check the audit log.
    #[command(subcommand)]
    Audit(admin::AuditCommand),
    /// Import reference figures.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Write the open-data files (anonymised samples, suppressed counts) to a folder.
    Export {
        #[arg(long)]
        out: PathBuf,
    },
    /// Signal detection on weekly counts (EARS, Farrington, CUSUM).
    #[command(subcommand)]
    Signals(signals::SignalsCommand),
    /// Spectral library search (EI mass spectra in MSP) and its evaluation.
    #[command(subcommand)]
    Spectra(spectra::SpectraCommand),
    /// The advisory unit for drug cases: keys, members, key rotation, audit, retention.
    #[command(subcommand)]
    Advisory(advisory::AdvisoryCommand),
}

#[derive(Subcommand)]
pub enum ImportCommand {
    /// Drug-induced deaths per year from CSV (year,deaths,note,source), e.g. the shipped
    /// crates/varde-domain/data/overdose/norway_drug_induced_deaths.csv. Years already there are replaced.
    Deaths { file: PathBuf },
}

/// Loads a deaths file into the store; returns the number of years.
pub async fn import_deaths(store: &dyn varde_core::Application, name: &str, text: &str) -> anyhow::Result<usize> {
    let rows = varde_domain::indicator::parse_deaths(name, text)?;
    let rows = rows.into_iter().map(|d| (d.year, d.deaths, d.note, d.source)).collect();
    Ok(store.import_deaths(rows, jiff::Timestamp::now()).await?)
}

/// The data files (catalogue, method limits, risk policy, geography, alert templates), loaded and validated once at
/// start.
pub type Reference = Arc<Assessor>;

/// Loads the data files, with an operator's catalogue in place of the shipped one if given.
pub fn load_reference(catalogue: Option<&PathBuf>) -> anyhow::Result<Reference> {
    let catalogue = match catalogue {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            Catalogue::parse(&path.display().to_string(), &text)?
        }
        None => Catalogue::builtin()?,
    };
    Ok(Arc::new(Assessor::new(catalogue)?))
}

/// Opens the store the URL names: `postgres://…` (or `postgresql://…`) for PostgreSQL, anything else (`sqlite://PATH`,
/// `sqlite:PATH` or a path) for the embedded SQLite file. Either is migrated to this version's schema first.
pub async fn open_store(database: &str, reference: &Reference) -> anyhow::Result<Arc<dyn Application>> {
    if varde_store_postgres::is_url(database) {
        let store = PostgresStore::open(database, reference.clone())
            .await
            .with_context(|| format!("cannot open the PostgreSQL database at {}", redact(database)))?;
        return Ok(Arc::new(Core::new(store, reference.clone())));
    }
    let path = varde_store_sqlite::path_from_url(database);
    let store = SqliteStore::open(&path).with_context(|| format!("cannot open the database at {}", path.display()))?;
    Ok(Arc::new(Core::new(store, reference.clone())))
}

/// A database URL as it may be logged: without a password.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let user_info = &url[scheme + 3..at];
            match user_info.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

pub fn parse_role(s: &str) -> anyhow::Result<Role> {
    Role::parse(s).with_context(|| format!("unknown role '{s}': use technician, reviewer or admin"))
}

/// How warnings reach people and services.
#[derive(clap::Args)]
pub struct ReachArgs {
    /// The SMTP server for e-mail to subscribers and escalations: `smtp://[user:password@]host[:port]` (add
    /// `?tls=required` for STARTTLS) or `smtps://…`. Without it Varde sends no e-mail and offers no e-mail
    /// subscription.
    #[arg(long, env = "VARDE_SMTP_URL")]
    smtp_url: Option<String>,
    /// The sender of Varde's e-mail, e.g. `Varde <varsel@example.no>` (default: varde@ and the public host).
    #[arg(long, env = "VARDE_MAIL_FROM")]
    mail_from: Option<String>,
    /// Hours after publication at which a severe alert still not acknowledged by a service is escalated (an
    /// e-mail to the service's contact address and a red mark for reviewers).
    #[arg(long, env = "VARDE_ESCALATE_AFTER_HOURS", default_value_t = varde_domain::alert::ESCALATE_AFTER_HOURS as u32, value_parser = clap::value_parser!(u32).range(1..))]
    escalate_after_hours: u32,
    /// Which services a severe alert asks to acknowledge it: every service in the country, or those in its area.
    #[arg(long, env = "VARDE_SEVERE_ALERTS_REACH", default_value = "country", value_parser = ["country", "area"])]
    severe_alerts_reach: String,
    /// An address range webhooks and pushes may reach although it is not public (a receiver inside your network),
    /// e.g. `10.20.0.0/16`; repeat for more. Without it Varde connects only to public addresses.
    #[arg(long = "outbound-allow", env = "VARDE_OUTBOUND_ALLOW", value_delimiter = ',')]
    outbound_allow: Vec<ipnet::IpNet>,
    /// Accept push endpoints only at these push services' hosts (and their subdomains); `default` for the big
    /// browsers' push services. Without it any public https host on port 443 is accepted.
    #[arg(long = "push-hosts", env = "VARDE_PUSH_HOSTS", value_delimiter = ',')]
    push_hosts: Vec<String>,
}

impl ReachArgs {
    fn into_options(self) -> serve::ReachOptions {
        serve::ReachOptions {
            smtp_url: self.smtp_url,
            mail_from: self.mail_from,
            escalate_after: jiff::SignedDuration::from_hours(i64::from(self.escalate_after_hours)),
            severe_everywhere: self.severe_alerts_reach == "country",
            outbound_allow: self.outbound_allow,
            push_hosts: (!self.push_hosts.is_empty()).then(|| {
                self.push_hosts
                    .iter()
                    .flat_map(|h| match h.as_str() {
                        "default" => varde_reach::outbound::KNOWN_PUSH_HOSTS.iter().map(|h| h.to_string()).collect(),
                        other => vec![other.trim().to_ascii_lowercase()],
                    })
                    .collect()
            }),
            ..serve::ReachOptions::default()
        }
    }
}

/// Runs the command line.
/// glibc gives every thread that allocates an arena of its own (up to eight per core) and keeps what is freed in
/// each for that arena: an open-data file rendered on a blocking thread left its peak resident for good, and the
/// server with a million samples sat at about 400 MB where its live data is about 170 MB. Two arenas (one per core
/// of the machines we run on) keep that memory reusable; measured with `varde-bench know` (docs/benchmarks.md).
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; called first thing in main, before other threads exist.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

pub fn main() -> anyhow::Result<()> {
    limit_malloc_arenas();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("VARDE_LOG").unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let reference = load_reference(cli.catalogue.as_ref())?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Serve {
                listen,
                public_url,
                demo,
                seed,
                retention_days,
                archive_after_days,
                trusted_proxies,
                jobs,
                second_factor_for,
                session_idle_minutes,
                oidc,
                reach,
            } => {
                let trusted_proxies =
                    varde_web::http::limits::parse_proxies(&trusted_proxies).map_err(anyhow::Error::msg)?;
                let second_factor_for = second_factor_for
                    .iter()
                    .filter(|r| r.as_str() != "none")
                    .map(|r| {
                        varde_domain::auth::Role::parse(r).ok_or_else(|| {
                            anyhow::anyhow!("--second-factor-for: no role {r:?} (technician, reviewer, admin or none)")
                        })
                    })
                    .collect::<anyhow::Result<Vec<_>>>()?;
                let options = serve::Options {
                    listen,
                    public_url,
                    demo_seed: demo.then_some(seed),
                    retention_days,
                    archive_after_days,
                    trusted_proxies,
                    reach: reach.into_options(),
                    second_factor_for,
                    session_idle: jiff::SignedDuration::from_mins(i64::from(session_idle_minutes)),
                    oidc,
                    advisory: cli.advisory.clone(),
                    jobs: if jobs { serve::Jobs::Here } else { serve::Jobs::Elsewhere },
                };
                serve::run(&cli.database, reference, options).await
            }
            Command::Worker { public_url, retention_days, archive_after_days, reach } => {
                let options = serve::WorkerOptions {
                    public_url,
                    retention_days,
                    archive_after_days,
                    reach: reach.into_options(),
                    advisory: cli.advisory.clone(),
                };
                serve::work(&cli.database, reference, options).await
            }
            Command::Purge { retention_days } => {
                let store = open_store(&cli.database, &reference).await?;
                let purged = serve::purge(&*store, retention_days).await?;
                println!(
                    "purged {} photos, {} sample notes and {} concern report texts older than {retention_days} days",
                    purged.photos, purged.sample_notes, purged.concern_texts
                );
                Ok(())
            }
            Command::Backup { out } => admin::backup(&cli.database, &reference, &out).await,
            Command::Restore { file, replace } => admin::restore(&cli.database, &reference, &file, replace).await,
            Command::Copy { from, to } => admin::copy(&from, &to, &reference).await.map(|_| ()),
            Command::Migrate => {
                let store = open_store(&cli.database, &reference).await?;
                println!("schema version {}", store.queries().schema_version().await?);
                Ok(())
            }
            Command::Service(cmd) => admin::service(&cli.database, &reference, cmd).await,
            Command::Token(cmd) => admin::token(&cli.database, &reference, cmd).await,
            Command::User(cmd) => admin::user(&cli.database, &reference, cmd).await,
            Command::SignInRule(cmd) => admin::sign_in_rule(&cli.database, &reference, cmd).await,
            Command::Demo { seed, samples, now } => {
                let store = open_store(&cli.database, &reference).await?;
                let now = now.unwrap_or_else(jiff::Timestamp::now);
                let report = demo::load(store, &reference, seed, samples, now).await?;
                println!("{report}");
                Ok(())
            }
            Command::Audit(cmd) => admin::audit(&cli.database, &reference, cmd).await,
            Command::Signals(signals::SignalsCommand::Run) => signals::run_stored(&cli.database, &reference).await,
            Command::Signals(cmd) => signals::run(cmd),
            Command::Spectra(cmd) => spectra::run(cmd),
            Command::Import(ImportCommand::Deaths { file }) => {
                let store = open_store(&cli.database, &reference).await?;
                let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
                let n = import_deaths(&*store, &file.display().to_string(), &text).await?;
                println!("imported drug-induced deaths for {n} years");
                Ok(())
            }
            Command::Advisory(command) => advisory::run(command, &cli.advisory, &cli.database, &reference).await,
            Command::Export { out } => {
                let store = open_store(&cli.database, &reference).await?;
                let state = varde_web::AppState::new(store, reference, "");
                std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
                for name in varde_web::know::opendata::FILES {
                    let writing = varde_web::know::opendata::writing(&state, name)
                        .await
                        .map_err(|e| anyhow::anyhow!("{}", e.body.message))?
                        .expect("a listed file");
                    let path = out.join(name);
                    let mut file = std::io::BufWriter::new(
                        std::fs::File::create(&path).with_context(|| format!("cannot create {}", path.display()))?,
                    );
                    writing(&mut file)?;
                    std::io::Write::flush(&mut file)?;
                }
                println!("wrote {} files to {}", varde_web::know::opendata::FILES.len(), out.display());
                Ok(())
            }
        }
    })
}
