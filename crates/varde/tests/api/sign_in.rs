//! Staff sign in through a real OpenID Provider: the OpenID-certified `oidc-provider` from npm, started by each test
//! (tests/oidc/provider.mjs) with two clients — one authenticating with `private_key_jwt` as HelseID requires, one
//! with a client secret as ID-porten and Entra ID allow. The tests follow the browser's redirects themselves, with a
//! cookie jar, and check what a refusal leaves: the page's code and reason, the audit entry, and no user or session.

use crate::helpers::TestApp;
use serde_json::{Value, json};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use varde::serve;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// The provider, its issuer URL, and the process (killed with the test).
struct Provider {
    issuer: String,
    _child: tokio::process::Child,
}

impl Provider {
    /// Starts the provider with these accounts, for clients that return to `redirects`; its client key goes to
    /// `key_file`.
    async fn start(redirects: &[String], accounts: &Value, key_file: &std::path::Path) -> Provider {
        let modules = format!("{ROOT}/tests/oidc/node_modules");
        assert!(std::path::Path::new(&modules).exists(), "scripts/install-test-tools installs tests/oidc");
        let redirects = redirects.join(",");
        let mut child = tokio::process::Command::new("node")
            .arg(format!("{ROOT}/tests/oidc/provider.mjs"))
            .env("VARDE_OIDC_ACCOUNTS", accounts.to_string())
            .env("VARDE_OIDC_REDIRECTS", redirects)
            .env("VARDE_OIDC_CLIENT_KEY", key_file)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs the OpenID Provider");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await.unwrap().unwrap().unwrap();
        let issuer = serde_json::from_str::<Value>(&first).unwrap()["issuer"].as_str().unwrap().to_owned();
        // Whatever else it prints is read, so that it never writes to a closed pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Provider { issuer, _child: child }
    }

    /// The next token response carries an ID token forged in this way (see provider.mjs).
    async fn tamper(&self, mode: &str) {
        let res = reqwest::Client::new().post(format!("{}/__tamper/{mode}", self.issuer)).send().await.unwrap();
        assert_eq!(res.status(), 204);
    }
}

/// A Varde that lets staff sign in through the provider as two issuers: `idp-key` (private_key_jwt) and
/// `idp-secret` (client_secret_basic).
async fn setup(accounts: Value) -> (TestApp, Provider, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let key = dir.path().join("client-key.pem");
    let redirects = ["idp-key", "idp-secret"].map(|n| format!("{base}/login/oidc/{n}/callback"));
    let provider = Provider::start(&redirects, &accounts, &key).await;
    let secret = dir.path().join("client-secret");
    std::fs::write(&secret, "a-secret-only-the-test-knows\n").unwrap();
    let file = dir.path().join("oidc.toml");
    std::fs::write(
        &file,
        format!(
            r#"
[[issuer]]
name = "idp-key"
label = "HelseID (test)"
issuer = "{issuer}"
client_id = "varde-key"
client_auth = "private_key_jwt"
private_key_file = "{key}.jwk"
scopes = ["profile", "groups", "org"]

[[issuer]]
name = "idp-secret"
label = "Entra ID (test)"
issuer = "{issuer}"
client_id = "varde-secret"
client_auth = "client_secret_basic"
client_secret_file = "{secret}"
scopes = ["org"]
"#,
            issuer = provider.issuer,
            key = key.display(),
            secret = secret.display()
        ),
    )
    .unwrap();
    let options = serve::AppOptions { oidc: Some(file), ..TestApp::options() };
    let app = TestApp::spawn_listening(listener, options).await;
    (app, provider, dir)
}

/// A browser: a cookie jar, redirects followed by hand.
fn browser() -> (reqwest::Client, Arc<reqwest::cookie::Jar>) {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_provider(jar.clone())
        .build()
        .unwrap();
    (client, jar)
}

/// Starts a sign-in at `issuer` and follows the redirects through the provider, logging in as `account`, up to the
/// provider's redirect back to Varde: that address, not yet visited.
async fn to_callback(app: &TestApp, browser: &reqwest::Client, issuer: &str, account: &str) -> String {
    let start = format!("{}/login/oidc/{issuer}?lang=en&next=/review", app.base);
    follow(&app.base, browser, start, account).await
}

/// Follows redirects from `url` through the provider, logging in as `account`, up to the first address at `base`.
async fn follow(base: &str, browser: &reqwest::Client, mut url: String, account: &str) -> String {
    for _ in 0..10 {
        let res = browser.get(&url).send().await.unwrap();
        assert!(res.status().is_redirection(), "{url}: {} {}", res.status(), res.text().await.unwrap());
        let location = res.headers()["location"].to_str().unwrap().to_owned();
        let mut next = reqwest::Url::parse(&url).unwrap().join(&location).unwrap();
        if next.path().starts_with("/interaction/") {
            next.query_pairs_mut().append_pair("login", account);
        }
        url = next.to_string();
        if url.starts_with(base) {
            return url;
        }
    }
    panic!("no redirect back to Varde");
}

/// The answer to the callback: status and page.
async fn visit(browser: &reqwest::Client, url: &str) -> (u16, String) {
    let res = browser.get(url).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// The reason a refusal page gives.
fn reason(page: &str) -> &str {
    let at = page.find("data-reason=\"").expect("a refusal names its reason") + "data-reason=\"".len();
    &page[at..at + page[at..].find('"').unwrap()]
}

async fn count(app: &TestApp, table: &str) -> usize {
    app.rows(&format!("SELECT CAST(count(*) AS TEXT) FROM {table}")).await[0].parse().unwrap()
}

async fn refusals(app: &TestApp) -> Vec<String> {
    app.rows("SELECT actor || ' ' || subject FROM audit_log WHERE action = 'login.refused' ORDER BY seq").await
}

fn accounts() -> Value {
    json!({
        "kari": {"sub": "kari-sub", "groups": ["varde-reviewers", "staff"], "orgnr": "974589095"},
        "tekniker": {"sub": "tekniker-sub", "groups": ["brukerrom-oslo"]},
        "ola": {"sub": "ola-sub", "groups": ["staff"]},
    })
}

#[tokio::test]
async fn staff_sign_in_through_the_provider_as_the_rules_an_admin_keeps_say() {
    let (app, _provider, _dir) = setup(accounts()).await;
    let rules = [
        json!({"issuer": "idp-key", "claim": "groups", "value": "varde-reviewers", "role": "reviewer"}),
        json!({"issuer": "idp-key", "claim": "groups", "value": "brukerrom-oslo", "role": "technician", "service": "oslo-brukerrom"}),
        json!({"issuer": "idp-secret", "claim": "orgnr", "value": "974589095", "role": "reviewer"}),
    ];
    let mut ids = Vec::new();
    for rule in &rules {
        let (status, body) = app.post("/api/v1/sign-in-rules", Some(&app.admin), rule).await;
        assert_eq!(status, 201, "{body}");
        ids.push(body["id"].as_i64().unwrap());
    }
    // Bad rules are refused with a stable code, and stored nowhere.
    for (bad, code) in [
        (json!({"issuer": "idp-key", "claim": "groups", "value": "x", "role": "technician"}), "invalid_value"),
        (
            json!({"issuer": "idp-key", "claim": "groups", "value": "x", "role": "reviewer", "service": "oslo-brukerrom"}),
            "invalid_value",
        ),
        (
            json!({"issuer": "idp-key", "claim": "groups", "value": "x", "role": "technician", "service": "nowhere"}),
            "unknown_service",
        ),
        (json!({"issuer": "IdP Key", "claim": "groups", "value": "x", "role": "admin"}), "invalid_value"),
        (json!({"issuer": "idp-key", "claim": "groups", "value": "x", "role": "admin", "extra": 1}), "unknown_field"),
    ] {
        let (status, body) = app.post("/api/v1/sign-in-rules", Some(&app.admin), &bad).await;
        assert!(status == 400 || status == 422, "{bad}: {status} {body}");
        assert_eq!(body["error"], code, "{bad}");
    }
    let (status, listed) = app.get("/api/v1/sign-in-rules", Some(&app.admin)).await;
    assert_eq!(status, 200);
    assert_eq!(listed.as_array().unwrap().len(), 3, "{listed}");
    assert_eq!(listed[1]["service"], "oslo-brukerrom");

    // The login page offers both providers, as plain links.
    let (_, _, login) = app.get_text("/login?lang=en").await;
    assert!(login.contains("/login/oidc/idp-key?lang=en") && login.contains("Sign in with HelseID (test)"), "{login}");

    // Kari signs in through the HelseID-like client (private_key_jwt): a reviewer, sent on to the review queue.
    let users_before = count(&app, "users").await;
    let (kari, _) = browser();
    let callback = to_callback(&app, &kari, "idp-key", "kari").await;
    let (status, page) = visit(&kari, &callback).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(r#"http-equiv="refresh" content="0; url=/review?lang=en""#), "{page}");
    let res = kari.get(format!("{}/review", app.base)).send().await.unwrap();
    assert_eq!(res.status(), 200, "the session opens the review queue");
    assert_eq!(count(&app, "users").await, users_before + 1, "a first sign-in makes the user the rule allows");
    let name = app.rows("SELECT username FROM users ORDER BY id DESC LIMIT 1").await.remove(0);
    assert!(name.starts_with("idp-key-") && !name.contains("kari"), "{name}: no name from the claims");
    let audit = app.rows("SELECT action || ' ' || subject FROM audit_log WHERE actor LIKE 'oidc:%' OR action = 'login.oidc' ORDER BY seq").await;
    assert!(audit.iter().any(|a| a.starts_with("user.add ") && a.contains("role:reviewer")), "{audit:?}");
    assert!(audit.iter().any(|a| a == &format!("login.oidc issuer:idp-key rule:{}", ids[0])), "{audit:?}");

    // Again: the same user, no new one.
    let (again, _) = browser();
    let callback = to_callback(&app, &again, "idp-key", "kari").await;
    assert_eq!(visit(&again, &callback).await.0, 200);
    assert_eq!(count(&app, "users").await, users_before + 1);

    // Through the other client (client_secret_basic) Kari is another issuer's subject: a user of her own there.
    let (entra, _) = browser();
    let callback = to_callback(&app, &entra, "idp-secret", "kari").await;
    assert_eq!(visit(&entra, &callback).await.0, 200);
    assert_eq!(count(&app, "users").await, users_before + 2);

    // A technician's group makes a technician of that service, who works at the staff pages.
    let (tech, _) = browser();
    let callback = to_callback(&app, &tech, "idp-key", "tekniker").await;
    let (status, page) = visit(&tech, &callback).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(tech.get(format!("{}/staff", app.base)).send().await.unwrap().status(), 200);
    assert_eq!(tech.get(format!("{}/review", app.base)).send().await.unwrap().status(), 403, "not a reviewer");

    // Ola is known to the provider but no rule names him: refused, audited, nothing made.
    let sessions_before = count(&app, "sessions").await;
    let users_before = count(&app, "users").await;
    let (ola, _) = browser();
    let callback = to_callback(&app, &ola, "idp-key", "ola").await;
    let (status, page) = visit(&ola, &callback).await;
    assert_eq!((status, reason(&page)), (403, "no_rule"), "{page}");
    assert!(page.contains("sign_in_refused") && page.contains("has not given you access"), "{page}");
    assert_eq!(count(&app, "users").await, users_before);
    assert_eq!(count(&app, "sessions").await, sessions_before);
    assert_eq!(refusals(&app).await, ["oidc:idp-key no_rule"]);

    // The reviewers' rule goes: Kari's next sign-in through that issuer is refused.
    assert_eq!(app.delete(&format!("/api/v1/sign-in-rules/{}", ids[0]), &app.admin).await.0, 204);
    assert_eq!(app.delete(&format!("/api/v1/sign-in-rules/{}", ids[0]), &app.admin).await.0, 404);
    let (kari2, _) = browser();
    let callback = to_callback(&app, &kari2, "idp-key", "kari").await;
    assert_eq!(reason(&visit(&kari2, &callback).await.1), "no_rule");

    // Only admins keep the rules.
    assert_eq!(app.get("/api/v1/sign-in-rules", Some(&app.reviewer)).await.0, 403);
    // Rule changes are audited.
    let kept = app.rows("SELECT action FROM audit_log WHERE action LIKE 'sign_in_rule.%' ORDER BY seq").await;
    assert_eq!(kept, ["sign_in_rule.add", "sign_in_rule.add", "sign_in_rule.add", "sign_in_rule.remove"]);
}

#[tokio::test]
async fn a_forged_replayed_or_misdirected_answer_is_refused_audited_and_leaves_nothing() {
    let (app, provider, _dir) = setup(accounts()).await;
    let rule = json!({"issuer": "idp-key", "claim": "groups", "value": "varde-reviewers", "role": "reviewer"});
    assert_eq!(app.post("/api/v1/sign-in-rules", Some(&app.admin), &rule).await.0, 201);
    let (users, sessions) = (count(&app, "users").await, count(&app, "sessions").await);
    let mut expected = Vec::new();

    // Wrong state: the answer is not this browser's sign-in.
    let (b, _) = browser();
    let callback = to_callback(&app, &b, "idp-key", "kari").await;
    let forged = callback.replace("state=", "state=x");
    let (status, page) = visit(&b, &forged).await;
    assert_eq!((status, reason(&page)), (401, "state"), "{page}");
    expected.push("oidc:idp-key state");

    // An answer in a browser that started no sign-in (the flow cookie is another browser's).
    let (stranger, _) = browser();
    let (status, page) = visit(&stranger, &callback).await;
    assert_eq!((status, reason(&page)), (401, "state"), "{page}");
    expected.push("oidc:idp-key state");

    // The provider's error (the person cancelled) is shown as the provider's refusal.
    let (b, jar) = browser();
    let callback = to_callback(&app, &b, "idp-key", "kari").await;
    let state =
        reqwest::Url::parse(&callback).unwrap().query_pairs().find(|(k, _)| k == "state").unwrap().1.to_string();
    let cancelled = format!("{}/login/oidc/idp-key/callback?error=access_denied&state={state}", app.base);
    let (status, page) = visit(&b, &cancelled).await;
    assert_eq!((status, reason(&page)), (401, "provider"), "{page}");
    expected.push("oidc:idp-key provider");
    drop(jar);

    // A code used twice: the first sign-in works; the same answer again, even with the flow cookie put back, is
    // refused by the provider.
    let (b, jar) = browser();
    let callback = to_callback(&app, &b, "idp-key", "kari").await;
    let base = reqwest::Url::parse(&app.base).unwrap();
    let flow = reqwest::cookie::CookieStore::cookies(&*jar, &base).unwrap().to_str().unwrap().to_owned();
    assert_eq!(visit(&b, &callback).await.0, 200);
    let users_after_first = count(&app, "users").await;
    let sessions_after_first = count(&app, "sessions").await;
    let replay = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = replay.get(&callback).header("cookie", flow).send().await.unwrap();
    let status = res.status().as_u16();
    let page = res.text().await.unwrap();
    assert_eq!((status, reason(&page)), (401, "code"), "{page}");
    expected.push("oidc:idp-key code");
    assert_eq!(count(&app, "sessions").await, sessions_after_first, "the replay opened no session");

    // ID tokens a hostile or broken provider would send, each with one fault.
    for (mode, why) in
        [("aud", "audience"), ("iss", "issuer"), ("exp", "expired"), ("none", "signature"), ("key", "signature")]
    {
        provider.tamper(mode).await;
        let (b, _) = browser();
        let callback = to_callback(&app, &b, "idp-key", "kari").await;
        let (status, page) = visit(&b, &callback).await;
        assert_eq!((status, reason(&page)), (401, why), "{mode}: {page}");
        assert!(page.contains("sign_in_refused"), "{page}");
        expected.push(match why {
            "audience" => "oidc:idp-key audience",
            "issuer" => "oidc:idp-key issuer",
            "expired" => "oidc:idp-key expired",
            _ => "oidc:idp-key signature",
        });
    }
    // An issuer nobody configured.
    let (status, page) = visit(&browser().0, &format!("{}/login/oidc/elsewhere?lang=nn", app.base)).await;
    assert_eq!((status, reason(&page)), (404, "unknown_issuer"), "{page}");
    assert!(page.contains("ikkje sett opp"), "in the reader's language: {page}");

    assert_eq!(refusals(&app).await, expected);
    assert_eq!(count(&app, "users").await, users_after_first);
    assert_eq!(users_after_first, users + 1, "only the one good sign-in made a user");
    assert_eq!(count(&app, "sessions").await, sessions + 1, "only the one good sign-in opened a session");
    assert!(app.store.queries().verify_audit().await.is_ok());
}

/// The advisory unit's members sign in through the kommune's provider too, but only one an admin linked to an
/// identity gets in: a sign-in makes no member. Refusals are audited in the module's own log.
#[tokio::test]
async fn an_advisory_member_signs_in_through_the_kommunes_provider_only_when_linked() {
    use varde_advisory_store::seal::Key;
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let accounts = json!({
        "kari": {"sub": "kari-sub", "oid": "0b7c6a52-1f7e-4f55-9c1b-2a4f9e0d7a11"},
        "ola": {"sub": "ola-sub", "oid": "5d2e8f00-0000-4000-8000-000000000001"},
    });
    let key = dir.path().join("client-key.pem");
    let provider = Provider::start(&[format!("{base}/advisory/login/oidc/kommune/callback")], &accounts, &key).await;
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "a-secret-only-the-test-knows").unwrap();
    let oidc = dir.path().join("oidc.toml");
    let config = format!(
        "[[issuer]]\nname = \"kommune\"\nlabel = \"Oslo kommune\"\nissuer = \"{}\"\nclient_id = \"varde-secret\"\n\
         client_auth = \"client_secret_basic\"\nclient_secret_file = \"{}\"\nscopes = [\"profile\"]\n",
        provider.issuer,
        secret.display()
    );
    std::fs::write(&oidc, config).unwrap();
    let reference = varde::load_reference(None).unwrap();
    let main_db = format!("sqlite://{}", dir.path().join("v.db").display());
    let main = varde::open_store(&main_db, &reference).await.unwrap();
    let key_file = dir.path().join("advisory.key");
    std::fs::write(&key_file, Key::generate()).unwrap();
    let args = varde::advisory::AdvisoryArgs {
        advisory_database: Some(format!("sqlite://{}", dir.path().join("advisory.db").display())),
        advisory_key_file: Some(key_file),
        advisory_grace_days: 90,
        advisory_contact: "telefon 21 80 21 80".into(),
        advisory_oidc: Some(oidc),
    };
    let store = varde::advisory::open(&args, &main_db).unwrap().unwrap();
    let hash = varde_advisory_web::hash_password("advisory-password-1");
    store.add_user("cw", &hash, varde_advisory_store::Role::Caseworker, "0301", "test").unwrap();
    let app = serve::app(main, reference.clone(), &base).await.unwrap();
    let app = varde::advisory::mount(app, store.clone(), &reference, &args, &base, false).unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap()
    });
    let audit = || {
        let conn = rusqlite::Connection::open(dir.path().join("advisory.db")).unwrap();
        let mut stmt = conn.prepare("SELECT actor || ' ' || action FROM audit ORDER BY seq").unwrap();
        stmt.query_map([], |r| r.get::<_, String>(0)).unwrap().collect::<Result<Vec<_>, _>>().unwrap()
    };
    let start = format!("{base}/advisory/login/oidc/kommune?lang=nn");

    let (_, _, login) = {
        let res = reqwest::get(format!("{base}/advisory/login?lang=en")).await.unwrap();
        (res.status(), (), res.text().await.unwrap())
    };
    assert!(login.contains("/advisory/login/oidc/kommune?lang=en") && login.contains("Sign in with Oslo kommune"));

    // Not linked: refused, in nynorsk, audited, no session.
    let (kari, _) = browser();
    let callback = follow(&base, &kari, start.clone(), "kari").await;
    let (status, page) = visit(&kari, &callback).await;
    assert_eq!((status, reason(&page)), (403, "no_member"), "{page}");
    assert!(page.contains("ingen i eininga"), "{page}");
    assert_eq!(kari.get(format!("{base}/advisory")).send().await.unwrap().status(), 303, "no session");
    assert!(audit().contains(&"oidc:kommune login.refused no_member".to_owned()), "{:?}", audit());

    // Linked by the admin (by Entra ID's object id): in, with no second factor asked (the kommune's own policy).
    store.link_identity("cw", "kommune", "oid", "0b7c6a52-1f7e-4f55-9c1b-2a4f9e0d7a11", "cli").unwrap();
    assert!(matches!(
        store.link_identity("cw", "kommune", "oid", "0b7c6a52-1f7e-4f55-9c1b-2a4f9e0d7a11", "cli"),
        Err(varde_advisory_store::Error::IdentityTaken)
    ));
    let (kari, _) = browser();
    let callback = follow(&base, &kari, start.clone(), "kari").await;
    let (status, page) = visit(&kari, &callback).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(r#"http-equiv="refresh" content="0; url=/advisory?lang=nn""#), "{page}");
    let res = kari.get(format!("{base}/advisory?lang=nn")).send().await.unwrap();
    assert_eq!(res.status(), 200, "the member's pages open");
    assert!(res.text().await.unwrap().contains("cw"), "as the linked member");
    // Ola is not linked, whatever else the provider says about him.
    let (ola, _) = browser();
    let callback = follow(&base, &ola, start.clone(), "ola").await;
    assert_eq!(reason(&visit(&ola, &callback).await.1), "no_member");

    // A forged token is refused here as on the drug-checking side.
    provider.tamper("aud").await;
    let (b, _) = browser();
    let callback = follow(&base, &b, start.clone(), "kari").await;
    assert_eq!(reason(&visit(&b, &callback).await.1), "audience");

    let entries = audit();
    for expected in ["cli identity.link cw kommune oid", "cw login.oidc kommune", "oidc:kommune login.refused audience"]
    {
        assert!(entries.contains(&expected.to_owned()), "{expected} in {entries:?}");
    }
    assert_eq!(store.verify_audit().unwrap(), Ok(entries.len()));
}
