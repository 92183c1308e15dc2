//! The advisory unit's module (rådgivende enhet for russaker), wired in only when `--advisory-database` is given:
//! its own SQLite file (never the drug-checking one), its key file, its pages under `/advisory`, its hourly
//! retention, and its commands. Without the option nothing of it runs, and `/advisory` is an unknown page.

use anyhow::Context;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::sync::Arc;
use varde_advisory_store::seal::Key;
use varde_advisory_store::{AdvisoryStore, Role};

#[derive(Args, Debug, Clone, Default)]
pub struct AdvisoryArgs {
    /// The advisory unit's own database, sqlite://PATH (a file apart from the drug-checking database). Enables the
    /// module.
    #[arg(long, global = true, env = "VARDE_ADVISORY_DATABASE")]
    pub advisory_database: Option<String>,
    /// The file holding the key that seals identity data (64 hexadecimal characters; `varde advisory key` makes
    /// one). Keep it apart from the database and its backups.
    #[arg(long, global = true, env = "VARDE_ADVISORY_KEY_FILE")]
    pub advisory_key_file: Option<PathBuf>,
    /// Days after the condition period and the final notice before a case is deleted.
    #[arg(long, global = true, env = "VARDE_ADVISORY_GRACE_DAYS", default_value_t = varde_advisory::case::DEFAULT_GRACE_DAYS)]
    pub advisory_grace_days: i64,
    /// How a person reaches the unit, printed on every invitation letter (e.g. "telefon 21 80 21 80,
    /// Storgata 1, 0155 Oslo").
    #[arg(long, global = true, env = "VARDE_ADVISORY_CONTACT", default_value = "")]
    pub advisory_contact: String,
    /// The kommune's identity providers members may sign in through (e.g. its Entra ID): a TOML file of
    /// `[[issuer]]` tables as for `serve --oidc`; a member gets in only when linked (`varde advisory link`).
    #[arg(long, global = true, env = "VARDE_ADVISORY_OIDC")]
    pub advisory_oidc: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum AdvisoryCommand {
    /// Print a new random key for a key file.
    Key,
    /// Add a member of the unit (password from stdin).
    User {
        username: String,
        #[arg(long, value_parser = ["caseworker", "lead"])]
        role: String,
        /// Four-digit kommunenummer of the unit.
        #[arg(long)]
        kommune: String,
    },
    /// Let a member sign in through an identity provider of `--advisory-oidc`: when its ID token carries CLAIM
    /// with VALUE (for Entra ID the user's object id, `--claim oid`; any provider's `sub`). Audited.
    Link {
        username: String,
        /// The issuer's name in the `--advisory-oidc` file.
        #[arg(long)]
        issuer: String,
        #[arg(long, default_value = "sub")]
        claim: String,
        #[arg(long)]
        value: String,
    },
    /// Re-seal everything with the key in NEW_KEY_FILE (the current key file must still be given); then point
    /// --advisory-key-file at the new one.
    RotateKey { new_key_file: PathBuf },
    /// Check the module's audit chain.
    AuditVerify,
    /// Delete now the cases whose retention has run out (the server does this hourly).
    Purge,
}

fn key(path: &std::path::Path) -> anyhow::Result<Key> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the key file {}", path.display()))?;
    Key::from_hex(&text).with_context(|| format!("the key file {}", path.display()))
}

/// The advisory store when the module is configured; refuses the drug-checking database's file.
pub fn open(args: &AdvisoryArgs, drug_checking_database: &str) -> anyhow::Result<Option<Arc<AdvisoryStore>>> {
    let Some(url) = &args.advisory_database else { return Ok(None) };
    let path = url
        .strip_prefix("sqlite://")
        .map(PathBuf::from)
        .context("--advisory-database takes sqlite://PATH (the module keeps its own SQLite file)")?;
    let main = varde_store_sqlite::path_from_url(drug_checking_database);
    let same = |a: &std::path::Path, b: &std::path::Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    };
    anyhow::ensure!(
        !same(&path, &main),
        "the advisory unit's database must be a file of its own, not the drug-checking database"
    );
    let key_file = args.advisory_key_file.as_ref().context("--advisory-database needs --advisory-key-file")?;
    let store = AdvisoryStore::open(&path, key(key_file)?)
        .with_context(|| format!("cannot open the advisory database at {}", path.display()))?;
    Ok(Some(Arc::new(store)))
}

/// The drug-checking application with the advisory pages beside it. Requests to drug-checking routes that carry an
/// advisory session are answered 404, as the advisory pages answer drug-checking credentials.
pub fn mount(
    app: axum::Router,
    store: Arc<AdvisoryStore>,
    reference: &crate::Reference,
    args: &AdvisoryArgs,
    public_url: &str,
    demo: bool,
) -> anyhow::Result<axum::Router> {
    let issuers = match &args.advisory_oidc {
        Some(file) => varde_http::oidc::Issuers::load(file).map_err(anyhow::Error::msg).context("--advisory-oidc")?,
        None => varde_http::oidc::Issuers::none(),
    };
    let kommuner = reference.geography.kommuner().iter().map(|k| (k.number.clone(), k.name.clone())).collect();
    let settings = varde_advisory_web::Settings {
        secure_cookies: public_url.starts_with("https://"),
        grace_days: args.advisory_grace_days,
        demo,
        kommuner,
        issuers: Arc::new(issuers),
        public_url: public_url.trim_end_matches('/').to_owned(),
        contact: if args.advisory_contact.is_empty() && demo {
            // The synthetic demo's unit: a number no one answers (Nkom's range for drama and examples).
            "telefon 22 00 00 00, Rådhuset, 0037 Oslo".to_owned()
        } else {
            args.advisory_contact.clone()
        },
    };
    let guarded = app.layer(axum::middleware::from_fn(refuse_advisory_sessions));
    Ok(guarded.merge(varde_advisory_web::router(store, settings)))
}

async fn refuse_advisory_sessions(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if !request.uri().path().starts_with("/advisory") && varde_advisory_web::has_advisory_session(request.headers()) {
        return axum::http::StatusCode::NOT_FOUND.into_response();
    }
    next.run(request).await
}

/// Synthetic demo cases (clearly marked on every page) and a lead and a caseworker in Oslo with passwords made now.
pub fn demo(store: &AdvisoryStore) -> anyhow::Result<Vec<(String, String, &'static str)>> {
    use jiff::civil::date;
    use varde_advisory::case::*;
    use varde_advisory::fnr::Fnr;
    let today = varde_advisory_web::today();
    let mut logins = Vec::new();
    for (name, role) in [("leder", Role::Lead), ("saksbehandler", Role::Caseworker)] {
        let password = crate::admin::random_password();
        let hash = varde_advisory_web::hash_password(&password);
        // A user from an earlier start gets the new password (and loses its sessions).
        match store.add_user(name, &hash, role, "0301", "demo") {
            Ok(_) => {}
            Err(varde_advisory_store::Error::UserExists) => store.set_password(name, &hash)?,
            Err(e) => return Err(e.into()),
        }
        logins.push((name.to_owned(), password, role.as_str()));
    }
    if !store.cases("0301")?.is_empty() {
        return Ok(logins);
    }
    let days = |n: i64| today.checked_sub(jiff::Span::new().days(n)).expect("a recent day");
    let people = [
        ("Testperson Ein", date(1998, 3, 14), 40),
        ("Testperson To", date(2003, 11, 2), 20),
        ("Testperson Tre", date(2009, 6, 30), 5),
    ];
    for (i, (name, birth, ago)) in people.into_iter().enumerate() {
        // The individual number's range gives the century (500-999 for those born from 2000).
        let fnr = (100..1000).find_map(|n| Fnr::compose(birth, n, true)).expect("a synthetic number");
        let decided = days(ago);
        let referral = Referral {
            case_reference: format!("DEMO-{}", 1000 + i),
            decision_date: decided,
            conditions: Conditions {
                meetings: Some(1),
                tests: (i == 1).then_some(3),
                period_start: decided,
                period_end: decided.checked_add(jiff::Span::new().days(180)).expect("a date"),
            },
        };
        let guardian = (i == 2).then_some("Foresatt Testperson, 400 00 000");
        let person = Person::new(name, Some(&fnr.digits()), None, "Syntetisk adresse 1, 0150 Oslo", guardian)?;
        let id = store.open_case("0301", &referral, &person, "demo", today)?;
        let invite = Recorded::Invitation { at: days(ago - 3).at(10, 0, 0, 0), place: "Storgata 1, Oslo".into() };
        store.record("0301", id, &invite, "demo")?;
        if i == 0 {
            let met = Meeting {
                at: days(ago - 3).at(10, 0, 0, 0),
                attendance: Attendance::Attended,
                covered: vec![Topic::HarmsInformation, Topic::OfferOfHelp],
            };
            store.record("0301", id, &Recorded::Meeting(met), "demo")?;
        }
        if i == 1 {
            let missed =
                Meeting { at: days(ago - 3).at(10, 0, 0, 0), attendance: Attendance::NotAttended, covered: vec![] };
            store.record("0301", id, &Recorded::Meeting(missed), "demo")?;
            store.record("0301", id, &Recorded::Outreach { on: days(ago - 5), how: Outreach::Phone }, "demo")?;
            let again = Recorded::Invitation { at: today.at(13, 0, 0, 0), place: "Storgata 1, Oslo".into() };
            store.record("0301", id, &again, "demo")?;
        }
    }
    Ok(logins)
}

pub async fn run(
    command: AdvisoryCommand,
    args: &AdvisoryArgs,
    drug_checking_database: &str,
    reference: &crate::Reference,
) -> anyhow::Result<()> {
    if let AdvisoryCommand::Key = command {
        println!("{}", Key::generate());
        return Ok(());
    }
    let store = open(args, drug_checking_database)?.context("give --advisory-database and --advisory-key-file")?;
    match command {
        AdvisoryCommand::Key => unreachable!("handled above"),
        AdvisoryCommand::User { username, role, kommune } => {
            anyhow::ensure!(
                reference.geography.kommune(&kommune).is_some(),
                "'{kommune}' is not a kommunenummer (four digits, 2024 structure, e.g. 0301 for Oslo)"
            );
            let password = crate::admin::read_password()?;
            let role = Role::parse(&role).expect("clap checked it");
            store.add_user(&username, &varde_advisory_web::hash_password(&password), role, &kommune, "cli")?;
            println!("added {username} ({}) in {kommune}", role.as_str());
        }
        AdvisoryCommand::Link { username, issuer, claim, value } => {
            varde_domain::sign_in::check_issuer_name(&issuer).map_err(|e| anyhow::anyhow!(e.message))?;
            anyhow::ensure!(
                !claim.trim().is_empty() && !value.trim().is_empty(),
                "--claim and --value may not be empty"
            );
            store.link_identity(&username, &issuer, &claim, &value, "cli")?;
            println!("{username} signs in through {issuer} when {claim} is {value}");
        }
        AdvisoryCommand::RotateKey { new_key_file } => {
            let n = store.rotate_key(&key(&new_key_file)?, "cli")?;
            println!("re-sealed {n} values; now use --advisory-key-file {}", new_key_file.display());
        }
        AdvisoryCommand::AuditVerify => match store.verify_audit()? {
            Ok(n) => println!("the advisory audit chain holds ({n} entries)"),
            Err(seq) => anyhow::bail!("the advisory audit chain is broken at entry {seq}"),
        },
        AdvisoryCommand::Purge => {
            let n = store.purge(varde_advisory_web::today(), args.advisory_grace_days, "cli")?;
            println!("deleted {n} cases whose retention ran out");
        }
    }
    Ok(())
}
