//! Administration from the command line: services, tokens, the audit log.

use crate::{Reference, open_store, parse_role};
use anyhow::{Context, bail};
use clap::Subcommand;
use jiff::Timestamp;
use varde_core::Application;
use varde_domain::service::{Service, ServiceSlug};
use varde_store::NewToken;
use varde_store_copy::{Copied, Database};

/// The audit log names command-line work by this actor.
pub const CLI_ACTOR: &str = "cli";

#[derive(Subcommand)]
pub enum ServiceCommand {
    /// Register a service.
    Add {
        /// Short name for URLs and API bodies, e.g. oslo-brukerrom.
        slug: String,
        #[arg(long)]
        name: String,
        /// user_room, low_threshold, festival, postal, outreach or lab.
        #[arg(long)]
        kind: String,
        /// Four-digit kommunenummer (2024 structure), e.g. 0301 for Oslo.
        #[arg(long)]
        kommune: String,
    },
    /// List the registered services.
    List,
    /// Set (or with no --email, clear) the address a service's pending severe alerts are escalated to. Use a
    /// shared service address, not a person's.
    Contact {
        slug: String,
        #[arg(long)]
        email: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Print a new API token. It is shown once; only its hash is stored.
    Issue {
        /// technician, reviewer or admin.
        #[arg(long)]
        role: String,
        /// The technician's service (technicians only).
        #[arg(long)]
        service: Option<String>,
        /// A note for whoever reads the token list later (not secret).
        #[arg(long)]
        label: Option<String>,
        /// The token only reads (GET); anything else it sends is refused with 403 read_only_token.
        #[arg(long)]
        read_only: bool,
        /// Days until the token stops working (1-366).
        #[arg(long, default_value_t = varde_domain::auth::TOKEN_DAYS_DEFAULT,
              value_parser = clap::value_parser!(u32).range(1..=i64::from(varde_domain::auth::TOKEN_DAYS_MAX)))]
        expires_in_days: u32,
        /// The token never expires (an integration whose owner chose so; prefer an expiry and a reminder).
        #[arg(long, conflicts_with = "expires_in_days")]
        no_expiry: bool,
    },
}

/// What a token may do and for how long.
#[derive(Debug, Clone, Copy)]
pub struct TokenTerms {
    pub read_only: bool,
    /// Days until it expires; None: never.
    pub days: Option<u32>,
}

impl Default for TokenTerms {
    /// Reads and writes, and expires after the default number of days.
    fn default() -> TokenTerms {
        TokenTerms { read_only: false, days: Some(varde_domain::auth::TOKEN_DAYS_DEFAULT) }
    }
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user who logs in to the pages; the password is read from the first line of standard input.
    Add {
        username: String,
        #[arg(long)]
        role: String,
        /// The technician's service.
        #[arg(long)]
        service: Option<String>,
    },
    /// Remove a user's second factor (their authenticator app's key and every recovery code), for someone who lost
    /// both phone and codes; they enrol again at their next login. Audited.
    ResetSecondFactor { username: String },
}

/// Who signs in through an identity provider (`serve --oidc`), and as what.
#[derive(Subcommand)]
pub enum SignInRuleCommand {
    /// Add a rule: a person whose ID token from ISSUER carries CLAIM with VALUE (or holds it, for a list such as
    /// `groups`) signs in with ROLE; a technician at --service. Of several matching rules the widest role wins.
    Add {
        /// The issuer's name in the `--oidc` file, e.g. `helseid`.
        #[arg(long)]
        issuer: String,
        /// The claim, e.g. `groups` or `helseid://claims/client/claims/orgnr_parent`.
        #[arg(long)]
        claim: String,
        #[arg(long)]
        value: String,
        #[arg(long)]
        role: String,
        /// The technicians' service.
        #[arg(long)]
        service: Option<String>,
    },
    /// List the rules, oldest first (id, issuer, claim, value, role, service).
    List,
    /// Remove a rule; who signed in under it needs another rule at their next sign-in.
    Remove { id: i64 },
}

pub async fn sign_in_rule(database: &str, reference: &Reference, cmd: SignInRuleCommand) -> anyhow::Result<()> {
    let store = open_store(database, reference).await?;
    match cmd {
        SignInRuleCommand::Add { issuer, claim, value, role, service } => {
            let service = service.as_deref().map(ServiceSlug::parse).transpose()?;
            let rule = varde_domain::sign_in::NewSignInRule { issuer, claim, value, role: parse_role(&role)?, service };
            let id = store.add_sign_in_rule(rule, CLI_ACTOR, Timestamp::now()).await?;
            println!("added sign-in rule {id}");
        }
        SignInRuleCommand::List => {
            for r in store.sign_in_rules().await? {
                let service = r.rule.service.as_ref().map_or("", |s| s.as_str());
                let (issuer, claim, value, role) = (&r.rule.issuer, &r.rule.claim, &r.rule.value, r.rule.role.as_str());
                println!("{}\t{issuer}\t{claim}\t{value}\t{role}\t{service}", r.id);
            }
        }
        SignInRuleCommand::Remove { id } => {
            store.remove_sign_in_rule(id, CLI_ACTOR, Timestamp::now()).await?;
            println!("removed sign-in rule {id}");
        }
    }
    Ok(())
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check that no entry of the audit log was changed, removed or inserted.
    Verify,
}

pub async fn service(database: &str, reference: &Reference, cmd: ServiceCommand) -> anyhow::Result<()> {
    let store = open_store(database, reference).await?;
    match cmd {
        ServiceCommand::Add { slug, name, kind, kommune } => {
            let service = new_service(reference, &slug, &name, &kind, &kommune)?;
            store.add_service(service, CLI_ACTOR, Timestamp::now()).await?;
            println!("added service {slug}");
        }
        ServiceCommand::List => {
            for s in store.queries().services().await? {
                let kommune = reference.geography.kommune(&s.kommune).map_or("?", |k| k.name.as_str());
                println!("{}\t{}\t{}\t{} {}", s.slug, s.kind.as_str(), s.name, s.kommune, kommune);
            }
        }
        ServiceCommand::Contact { slug, email } => {
            let service = varde_domain::service::ServiceSlug::parse(&slug)
                .map_err(|_| anyhow::anyhow!("'{slug}' is not a service slug"))?;
            let email = email
                .map(|e| {
                    varde_reach::mail::normalise_address(&e)
                        .ok_or_else(|| anyhow::anyhow!("'{e}' is not an e-mail address"))
                })
                .transpose()?;
            let shown = email.clone().unwrap_or_else(|| "none".into());
            store.set_service_contact(&service, email, CLI_ACTOR, Timestamp::now()).await?;
            println!("escalations for {slug} go to {shown}");
        }
    }
    Ok(())
}

/// Validates a service's fields against the geography: the kommune must be one of Norway's 357.
pub fn new_service(
    reference: &Reference,
    slug: &str,
    name: &str,
    kind: &str,
    kommune: &str,
) -> anyhow::Result<Service> {
    Service::new(slug, name, kind, kommune, &reference.geography).map_err(|e| anyhow::anyhow!("{}", e.message))
}

/// A new token that reads and writes and expires after the default number of days (see [`issue_token_with`]).
pub async fn issue_token(
    store: &dyn Application,
    role: &str,
    service: Option<&str>,
    label: Option<String>,
) -> anyhow::Result<String> {
    issue_token_with(store, role, service, label, TokenTerms::default()).await
}

/// A new token on `terms`; the secret, shown once (only its hash is stored).
pub async fn issue_token_with(
    store: &dyn Application,
    role: &str,
    service: Option<&str>,
    label: Option<String>,
    terms: TokenTerms,
) -> anyhow::Result<String> {
    let role = parse_role(role)?;
    let service = match (role, service) {
        (varde_domain::auth::Role::Technician, None) => {
            bail!("a technician's token needs --service SLUG")
        }
        (varde_domain::auth::Role::Technician, Some(s)) => Some(ServiceSlug::parse(s)?),
        (_, Some(_)) => {
            bail!("only technicians belong to a service; reviewers and admins work nationally")
        }
        (_, None) => None,
    };
    let secret = varde_web::http::tokens::generate(&mut rand::rng());
    let now = Timestamp::now();
    let token = NewToken {
        hash: varde_web::http::tokens::hash(&secret),
        role,
        service,
        label,
        read_only: terms.read_only,
        expires: terms.days.map(|d| now + jiff::SignedDuration::from_hours(24 * i64::from(d))),
    };
    store.add_token(token, CLI_ACTOR, now).await?;
    Ok(secret)
}

pub async fn token(database: &str, reference: &Reference, cmd: TokenCommand) -> anyhow::Result<()> {
    let store = open_store(database, reference).await?;
    match cmd {
        TokenCommand::Issue { role, service, label, read_only, expires_in_days, no_expiry } => {
            let terms = TokenTerms { read_only, days: (!no_expiry).then_some(expires_in_days) };
            println!("{}", issue_token_with(&*store, &role, service.as_deref(), label, terms).await?);
        }
    }
    Ok(())
}

pub async fn audit(database: &str, reference: &Reference, cmd: AuditCommand) -> anyhow::Result<()> {
    let store = open_store(database, reference).await?;
    match cmd {
        AuditCommand::Verify => {
            let report = store.queries().verify_audit().await?;
            match report.first_broken {
                None => {
                    println!("audit log intact: {} entries", report.entries);
                    Ok(())
                }
                Some((seq, reason)) => bail!("audit log broken at entry {seq}: {reason}"),
            }
        }
    }
}

/// `varde copy --from URL --to URL`: every table of one database into another, empty one (SQLite into PostgreSQL
/// to move up, or back), then the copy's audit chain checked. Both are migrated to this version's schema first.
pub async fn copy(from: &str, to: &str, reference: &Reference) -> anyhow::Result<Copied> {
    let (source, target) = (Database::parse(from), Database::parse(to));
    if let Database::Sqlite(path) = &source {
        anyhow::ensure!(path.exists(), "there is no database at {}", path.display());
    }
    for url in [from, to] {
        open_store(url, reference).await?.queries().close();
    }
    let copied = varde_store_copy::copy(&source, &target)
        .await
        .with_context(|| format!("copying {} into {}", crate::redact(from), crate::redact(to)))?;
    let copy = open_store(to, reference).await?;
    let report = copy.queries().verify_audit().await?;
    copy.queries().refresh_statistics().await?;
    copy.queries().close();
    if let Some((seq, reason)) = &report.first_broken {
        bail!("the copy's audit log is broken at entry {seq}: {reason}");
    }
    println!(
        "copied {} rows in {} tables into {} ({} audit entries, chain intact)",
        copied.total(),
        copied.rows.len(),
        crate::redact(to),
        report.entries
    );
    Ok(copied)
}

/// `varde backup --out FILE`: a consistent copy while the server runs, then its audit chain checked. The backup is
/// always a SQLite file: of a SQLite database by `VACUUM INTO`, of a PostgreSQL one by a copy of one snapshot.
pub async fn backup(database: &str, reference: &Reference, out: &std::path::Path) -> anyhow::Result<()> {
    if varde_store_postgres::is_url(database) {
        anyhow::ensure!(!out.exists(), "{} exists; a backup never overwrites a file", out.display());
        let result = copy(database, &format!("sqlite://{}", out.display()), reference).await;
        if result.is_err() {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", out.display()));
            }
        }
        result?;
        let report = checked(out, reference).await?;
        println!(
            "backed up {} to {} ({} audit entries, chain intact)",
            crate::redact(database),
            out.display(),
            report.entries
        );
        return Ok(());
    }
    let path = varde_store_sqlite::path_from_url(database);
    anyhow::ensure!(path.exists(), "there is no database at {}", path.display());
    varde_store_sqlite::backup(&path, out).with_context(|| format!("backing up {}", path.display()))?;
    let report = checked(out, reference).await?;
    println!("backed up {} to {} ({} audit entries, chain intact)", path.display(), out.display(), report.entries);
    Ok(())
}

/// Opens a copy and verifies its audit chain; the copy is closed again.
async fn checked(file: &std::path::Path, reference: &Reference) -> anyhow::Result<varde_store::AuditReport> {
    varde_store_sqlite::check_backup(file).with_context(|| format!("checking {}", file.display()))?;
    let copy = open_store(&format!("sqlite://{}", file.display()), reference).await?;
    let report = copy.queries().verify_audit().await?;
    copy.queries().close();
    if let Some((seq, reason)) = &report.first_broken {
        bail!("{}: the audit log is broken at entry {seq}: {reason}", file.display());
    }
    Ok(report)
}

/// `varde restore FILE`: the backup, checked, becomes the database. A database holding data is replaced only with
/// `--replace`, and then kept beside it (its WAL checkpointed first, so nothing committed is left behind).
pub async fn restore(
    database: &str,
    reference: &Reference,
    file: &std::path::Path,
    replace: bool,
) -> anyhow::Result<()> {
    if varde_store_postgres::is_url(database) {
        // Into PostgreSQL a backup is copied, in one transaction, and only into an empty database (or schema): the
        // data that is there is never overwritten; restore into a new one and point Varde at it.
        anyhow::ensure!(
            !replace,
            "--replace is for SQLite files; restore into a new, empty PostgreSQL database or schema instead"
        );
        let staging = std::env::temp_dir().join(format!("varde-restore-{}.db", std::process::id()));
        let _ = std::fs::remove_file(&staging);
        std::fs::copy(file, &staging).with_context(|| format!("cannot copy {}", file.display()))?;
        let result = async {
            checked(&staging, reference).await?;
            copy(&format!("sqlite://{}", staging.display()), database, reference).await
        }
        .await;
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", staging.display()));
        }
        result?;
        println!("restored {} to {}", file.display(), crate::redact(database));
        return Ok(());
    }
    let target = varde_store_sqlite::path_from_url(database);
    // Check a private copy: opening the backup itself would migrate it in place.
    let staging = target
        .with_file_name(format!(".{}.restoring", target.file_name().and_then(|n| n.to_str()).unwrap_or("varde.db")));
    let _ = std::fs::remove_file(&staging);
    std::fs::copy(file, &staging).with_context(|| format!("cannot copy {}", file.display()))?;
    let report = match checked(&staging, reference).await {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_file(&staging);
            return Err(e);
        }
    };
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", staging.display()));
    }
    if target.exists() {
        let existing = open_store(database, reference).await?;
        let holds_data =
            existing.queries().sample_count().await? > 0 || existing.queries().verify_audit().await?.entries > 0;
        existing.queries().close();
        if holds_data && !replace {
            let _ = std::fs::remove_file(&staging);
            bail!("{} holds data; give --replace to replace it (it is kept beside)", target.display());
        }
        let aside = target.with_file_name(format!(
            "{}.before-restore-{}",
            target.file_name().and_then(|n| n.to_str()).unwrap_or("varde.db"),
            jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ")
        ));
        std::fs::rename(&target, &aside)?;
        for suffix in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", target.display()));
        }
        if holds_data {
            println!("the database that was there is kept as {}", aside.display());
        } else {
            let _ = std::fs::remove_file(&aside);
        }
    }
    std::fs::rename(&staging, &target)?;
    println!("restored {} to {} ({} audit entries, chain intact)", file.display(), target.display(), report.entries);
    Ok(())
}

pub async fn user(database: &str, reference: &Reference, cmd: UserCommand) -> anyhow::Result<()> {
    let store = open_store(database, reference).await?;
    match cmd {
        UserCommand::Add { username, role, service } => {
            let role = parse_role(&role)?;
            let service = match (role, service.as_deref()) {
                (varde_domain::auth::Role::Technician, None) => bail!("a technician needs --service SLUG"),
                (varde_domain::auth::Role::Technician, Some(s)) => Some(ServiceSlug::parse(s)?),
                (_, Some(_)) => bail!("only technicians belong to a service"),
                (_, None) => None,
            };
            let username = varde_domain::auth::check_username(&username).map_err(|e| anyhow::anyhow!(e.message))?;
            let password = read_password()?;
            let hash = varde_web::http::session::hash_password(&password);
            store.add_user(&username, &hash, role, service, CLI_ACTOR, Timestamp::now()).await?;
            println!("added user {username}");
        }
        UserCommand::ResetSecondFactor { username } => {
            store.reset_second_factor(&username, CLI_ACTOR, Timestamp::now()).await?;
            println!("{username} enrols a second factor again at the next login");
        }
    }
    Ok(())
}

/// A password from the first line of standard input, long enough.
pub fn read_password() -> anyhow::Result<String> {
    let mut password = String::new();
    std::io::stdin().read_line(&mut password).context("cannot read the password from standard input")?;
    let password = password.trim_end_matches(['\n', '\r']).to_owned();
    if !varde_domain::auth::password_long_enough(&password) {
        bail!("a password has at least {} characters", varde_domain::auth::MIN_PASSWORD_CHARS);
    }
    Ok(password)
}

/// A fresh password for a demo login: 16 letters and digits.
pub fn random_password() -> String {
    use rand::Rng;
    rand::rng().sample_iter(rand::distr::Alphanumeric).take(16).map(char::from).collect()
}
