//! The advisory unit's module (issue 16): apart from drug checking by construction, a case from referral to notice,
//! refusals that store nothing, and who may see what.

use std::sync::Arc;
use varde::{admin, advisory, load_reference, open_store, serve};
use varde_advisory_store::seal::Key;
use varde_advisory_store::{AdvisoryStore, Role};

struct Setup {
    base: String,
    store: Arc<AdvisoryStore>,
    /// A drug-checking technician's token.
    token: String,
    _dir: tempfile::TempDir,
}

async fn setup(with_advisory: bool) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let reference = load_reference(None).unwrap();
    let main = open_store(&format!("sqlite://{}", dir.path().join("v.db").display()), &reference).await.unwrap();
    let s = admin::new_service(&reference, "oslo-brukerrom", "Oslo", "user_room", "0301").unwrap();
    main.add_service(s, "test", jiff::Timestamp::now()).await.unwrap();
    let token = admin::issue_token(&*main, "technician", Some("oslo-brukerrom"), None).await.unwrap();
    let key_file = dir.path().join("advisory.key");
    std::fs::write(&key_file, Key::generate()).unwrap();
    let args = advisory::AdvisoryArgs {
        advisory_database: with_advisory.then(|| format!("sqlite://{}", dir.path().join("advisory.db").display())),
        advisory_key_file: Some(key_file),
        advisory_grace_days: 90,
        advisory_contact: "telefon 21 80 21 80".into(),
        advisory_oidc: None,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut app = serve::app(main, reference.clone(), &base).await.unwrap();
    let store = match advisory::open(&args, &format!("sqlite://{}", dir.path().join("v.db").display())).unwrap() {
        Some(store) => {
            for (name, role, kommune) in
                [("cw", Role::Caseworker, "0301"), ("lead", Role::Lead, "0301"), ("bergen", Role::Caseworker, "4601")]
            {
                store
                    .add_user(name, &varde_advisory_web::hash_password("advisory-password-1"), role, kommune, "test")
                    .unwrap();
            }
            app = advisory::mount(app, store.clone(), &reference, &args, &base, false).unwrap();
            store
        }
        None => Arc::new(
            AdvisoryStore::open(&dir.path().join("unused.db"), Key::from_hex(&Key::generate()).unwrap()).unwrap(),
        ),
    };
    tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap()
    });
    Setup { base, store, token, _dir: dir }
}

fn csrf(html: &str) -> String {
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a form with a CSRF token")
        .to_owned()
}

/// A browser-like client logged in as `username`; returns it with the session cookie's value.
async fn login(base: &str, username: &str) -> (reqwest::Client, String) {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let client = reqwest::Client::builder().cookie_provider(jar.clone()).build().unwrap();
    let form = client.get(format!("{base}/advisory/login")).send().await.unwrap().text().await.unwrap();
    let res = client
        .post(format!("{base}/advisory/login"))
        .form(&[("username", username), ("password", "advisory-password-1"), ("csrf", &csrf(&form))])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the password was right");
    let html = res.text().await.unwrap();
    let today = second_factor(&client, base, username, &html).await;
    assert!(today.contains("Dagens møter") || today.contains("Today"), "logged in and sent to today's page: {today}");
    let url: reqwest::Url = format!("{base}/advisory").parse().unwrap();
    let cookies = reqwest::cookie::CookieStore::cookies(&*jar, &url).expect("a session cookie");
    let session = cookies
        .to_str()
        .unwrap()
        .split("; ")
        .find_map(|c| c.strip_prefix("varde_advisory_session="))
        .expect("the advisory session")
        .to_owned();
    (client, session)
}

/// Recovery codes of the members who enrolled in this test run, by server and member: a member who logs in again
/// within the same 30 seconds uses one (the app's code is accepted once per time step).
static RECOVERY: std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<String, Vec<String>>>> =
    std::sync::LazyLock::new(Default::default);

/// Gives the second factor on `html`, the page the login led to: enrols (the app's code made from the key the page
/// shows) or answers with a recovery code kept from the enrolment. Returns the page it ends on.
async fn second_factor(client: &reqwest::Client, base: &str, username: &str, html: &str) -> String {
    // Where the page's form posts (with the language chosen at the login).
    let action = html.split("action=\"/advisory/login/second-factor").nth(1).and_then(|s| s.split('"').next());
    let url = format!("{base}/advisory/login/second-factor{}", action.unwrap_or_default());
    let code = match html.split("data-secret=\"").nth(1).and_then(|s| s.split('"').next()) {
        Some(secret) => {
            let codes =
                varde_http::second_factor::OneTimeCodes::new(secret, "Varde rådgivende enhet", username).unwrap();
            let code = codes.code_at(jiff::Timestamp::now().as_second() as u64);
            let form = [("csrf", csrf(html)), ("secret", secret.to_owned()), ("code", code)];
            let page = client.post(&url).form(&form).send().await.unwrap().text().await.unwrap();
            let recovery: Vec<String> = page
                .match_indices("<li><code>")
                .map(|(at, _)| page[at + 10..at + 10 + page[at + 10..].find('<').unwrap()].to_owned())
                .collect();
            assert_eq!(recovery.len(), 10, "ten recovery codes after enrolling: {page}");
            RECOVERY.lock().unwrap().insert(format!("{base} {username}"), recovery);
            // On, by the page's own link (in the language chosen at the login).
            let next = page.split("<p><a href=\"").nth(1).and_then(|s| s.split('"').next()).expect("a link on");
            return client.get(format!("{base}{next}")).send().await.unwrap().text().await.unwrap();
        }
        None if html.contains("one-time-code") => {
            RECOVERY.lock().unwrap().get_mut(&format!("{base} {username}")).and_then(Vec::pop).expect("enrolled before")
        }
        None => return html.to_owned(),
    };
    let res = client.post(&url).form(&[("csrf", csrf(html)), ("code", code)]).send().await.unwrap();
    res.text().await.unwrap()
}

async fn page(client: &reqwest::Client, url: String) -> (u16, String) {
    let res = client.get(url).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// Posts a form from the page at `from` (its CSRF token) and returns the answer after redirects.
async fn submit(client: &reqwest::Client, base: &str, from: &str, to: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let (_, html) = page(client, format!("{base}{from}")).await;
    let token = csrf(&html);
    let mut all: Vec<(&str, &str)> = fields.to_vec();
    all.push(("csrf", &token));
    let res = client.post(format!("{base}{to}")).form(&all).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// Every advisory route, with a method.
const ROUTES: [(&str, &str); 18] = [
    ("GET", "/advisory"),
    ("GET", "/advisory/login"),
    ("POST", "/advisory/login"),
    ("GET", "/advisory/login/second-factor"),
    ("POST", "/advisory/login/second-factor"),
    ("POST", "/advisory/logout"),
    ("GET", "/advisory/cases"),
    ("POST", "/advisory/cases"),
    ("GET", "/advisory/cases/new"),
    ("GET", "/advisory/cases/1"),
    ("POST", "/advisory/cases/1/record"),
    ("POST", "/advisory/cases/1/notice"),
    ("GET", "/advisory/cases/1/access"),
    ("GET", "/advisory/cases/1/letter/0"),
    ("GET", "/advisory/cases/1/notice/0"),
    ("GET", "/advisory/style.css"),
    ("GET", "/advisory/counts"),
    ("GET", "/advisory/counts.csv"),
];

#[tokio::test]
async fn drug_checking_credentials_find_nothing_here_and_advisory_sessions_nothing_there() {
    let s = setup(true).await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let (cw, session) = login(&s.base, "cw").await;
    for (method, path) in ROUTES {
        let url = format!("{}{path}", s.base);
        let with_token = client.request(method.parse().unwrap(), &url).bearer_auth(&s.token).send().await.unwrap();
        assert_eq!(with_token.status(), 404, "{method} {path} with a drug-checking token");
        let with_session = client
            .request(method.parse().unwrap(), &url)
            .header("cookie", format!("varde_session=abc; varde_advisory_session={session}"))
            .send()
            .await
            .unwrap();
        assert_eq!(with_session.status(), 404, "{method} {path} with a drug-checking session cookie");
        // Without either, the page exists (a login, a redirect to it, or a refused form).
        let plain = client.request(method.parse().unwrap(), &url).send().await.unwrap();
        assert_ne!(plain.status(), 404, "{method} {path}");
    }
    // The advisory session opens nothing on the drug-checking side, public pages included.
    for (method, path) in [
        ("GET", "/dashboard"),
        ("GET", "/alerts"),
        ("GET", "/staff"),
        ("GET", "/login"),
        ("GET", "/api/v1/samples"),
        ("POST", "/api/v1/samples"),
        ("GET", "/open-data/samples.csv"),
        ("GET", "/openapi.json"),
    ] {
        let res = client
            .request(method.parse().unwrap(), format!("{}{path}", s.base))
            .header("cookie", format!("varde_advisory_session={session}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{method} {path} with an advisory session");
    }
    // And the session cookie is never sent outside /advisory by a browser.
    let (_, today) = page(&cw, format!("{}/advisory", s.base)).await;
    assert!(today.contains("Dagens møter"), "{today}");

    // A deployment without the module has no trace of it.
    let plain = setup(false).await;
    for (method, path) in ROUTES {
        let res = client.request(method.parse().unwrap(), format!("{}{path}", plain.base)).send().await.unwrap();
        assert_eq!(res.status(), 404, "{method} {path} without the module");
    }
    let openapi = reqwest::get(format!("{}/openapi.json", plain.base)).await.unwrap();
    assert_eq!(openapi.status(), 200);
    let openapi = openapi.text().await.unwrap();
    assert!(openapi.contains("/api/v1/samples") && !openapi.contains("advisory"));
}

#[tokio::test]
async fn a_case_goes_from_referral_through_a_meeting_to_the_notice_and_the_person_can_see_it_all() {
    let s = setup(true).await;
    let base = &s.base;
    let (cw, _) = login(base, "cw").await;
    let today = varde_advisory_web::today();
    let ago = |d: i64| today.checked_sub(jiff::Span::new().days(d)).unwrap().to_string();
    let later = |d: i64| today.checked_add(jiff::Span::new().days(d)).unwrap().to_string();
    let referral = |fnr: &'static str| {
        vec![
            ("case_reference", "POL-2026-778"),
            ("decision_date", Box::leak(ago(10).into_boxed_str()) as &str),
            ("meetings", "1"),
            ("tests", ""),
            ("period_start", Box::leak(ago(10).into_boxed_str())),
            ("period_end", Box::leak(later(170).into_boxed_str())),
            ("name", "Kari Testperson"),
            ("fnr", fnr),
            ("birth_date", ""),
            ("contact", "kari@example.org"),
            ("guardian", ""),
        ]
    };
    // An invalid fødselsnummer: a clear error, nothing stored.
    let (status, html) =
        submit(&cw, base, "/advisory/cases/new?lang=en", "/advisory/cases?lang=en", &referral("15058912318")).await;
    assert_eq!(status, 422);
    assert!(html.contains("data-code=\"fnr_checksum\"") && html.contains("The check digits do not match"), "{html}");
    // The form comes back with everything typed, to correct the one digit.
    for typed in
        ["value=\"POL-2026-778\"", "value=\"Kari Testperson\"", "value=\"15058912318\"", "value=\"kari@example.org\""]
    {
        assert!(html.contains(typed), "{typed} kept: {html}");
    }
    assert!(html.contains("action=\"/advisory/cases?lang=en\""), "the form, not a dead end");
    assert!(s.store.cases("0301").unwrap().is_empty());
    // A referral without conditions: refused too.
    let mut none = referral("15058912317");
    none.retain(|(k, _)| *k != "meetings");
    let (status, html) = submit(&cw, base, "/advisory/cases/new", "/advisory/cases", &none).await;
    assert_eq!((status, html.contains("data-code=\"no_conditions\"")), (422, true), "{html}");
    assert!(s.store.cases("0301").unwrap().is_empty());

    let (status, html) =
        submit(&cw, base, "/advisory/cases/new", "/advisory/cases?lang=nn", &referral("150589 12317")).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Kari Testperson") && html.contains("Tidsline"), "the case page in nynorsk: {html}");
    let id = s.store.cases("0301").unwrap()[0].id;
    let case = format!("/advisory/cases/{id}");
    // A meeting before the referral is refused.
    let (status, html) = submit(
        &cw,
        base,
        &case,
        &format!("{case}/record"),
        &[("what", "meeting"), ("at", &format!("{}T10:00", ago(11))), ("attendance", "attended")],
    )
    .await;
    assert_eq!((status, html.contains("meeting_before_referral")), (422, true), "{html}");
    // An invitation, with its letter in three languages.
    let (status, _) = submit(
        &cw,
        base,
        &case,
        &format!("{case}/record"),
        &[("what", "invitation"), ("at", &format!("{}T10:30", later(2))), ("place", "Storgata 1")],
    )
    .await;
    assert_eq!(status, 200);
    for (lang, words) in [("nb", "Du er invitert"), ("nn", "Du er invitert"), ("en", "You are invited")] {
        let (status, letter) = page(&cw, format!("{base}{case}/letter/0?lang={lang}")).await;
        assert_eq!(status, 200);
        assert!(
            letter.contains(words)
                && letter.contains("Storgata 1")
                && letter.contains("10:30")
                && letter.contains("Oslo"),
            "{letter}"
        );
        // The person can answer: the unit's contact and the case it is about are on the letter.
        assert!(letter.contains("telefon 21 80 21 80") && letter.contains("POL-2026-778"), "{letter}");
    }
    // An offer referred on without consent is impossible.
    let (status, html) = submit(
        &cw,
        base,
        &case,
        &format!("{case}/record"),
        &[("what", "offer"), ("on", &ago(1)), ("kind", "nav"), ("consent_on", ""), ("referred", "yes")],
    )
    .await;
    assert_eq!((status, html.contains("consent_required")), (422, true));
    // No test form: testing is not a condition of this case; a test posted anyway is refused.
    let (_, html) = page(&cw, format!("{base}{case}")).await;
    assert!(!html.contains("value=\"test\""));
    let (status, _) = submit(
        &cw,
        base,
        &case,
        &format!("{case}/record"),
        &[("what", "test"), ("on", &ago(1)), ("sample_id", "LAB-1")],
    )
    .await;
    assert_eq!(status, 422);
    // The person came: the condition is fulfilled and the notice is due.
    let (status, html) = submit(
        &cw,
        base,
        &case,
        &format!("{case}/record?lang=en"),
        &[
            ("what", "meeting"),
            ("at", &format!("{}T10:00", ago(1))),
            ("attendance", "attended"),
            ("covered", "harms_information"),
            ("covered", "offer_of_help"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(html.contains("A notice to the prosecutor is due"), "{html}");
    let (status, notice) = submit(&cw, base, &case, &format!("{case}/notice?lang=en"), &[]).await;
    assert_eq!(status, 200);
    assert!(
        notice.contains("POL-2026-778") && notice.contains("Kari Testperson") && notice.contains("fulfilled"),
        "{notice}"
    );
    for private in ["Storgata", "harms", "Information on harms", "kari@example.org", "15058912317"] {
        assert!(!notice.contains(private), "the notice says nothing but the fact: {private}");
    }
    let (status, again) = submit(&cw, base, &case, &format!("{case}/notice"), &[]).await;
    assert_eq!((status, again.contains("notice_not_due")), (422, true), "one notice");
    // The right of access: everything stored, readable.
    let (status, access) = page(&cw, format!("{base}{case}/access?lang=en")).await;
    assert_eq!(status, 200);
    for stored in [
        "Kari Testperson",
        "15058912317",
        "kari@example.org",
        "POL-2026-778",
        "Storgata 1",
        "Information on harms",
        "The attendance condition is fulfilled",
    ] {
        assert!(access.contains(stored), "{stored} in the access document");
    }
    // With the log of what was done in the case and by whom.
    // In words, not codes, and dates as they are written.
    assert!(
        access.contains("The case was opened from the referral")
            && access.contains("A notice to the prosecutor was recorded")
            && access.contains(">cw<"),
        "{access}"
    );
    assert!(!access.contains("case.open") && !access.contains("case.notice"), "{access}");
    assert!(access.contains("15 May 1989"), "the birth date in words: {access}");
    // Another kommune's caseworker cannot see or touch it.
    let (bergen, _) = login(base, "bergen").await;
    assert_eq!(page(&bergen, format!("{base}{case}")).await.0, 404);
    assert_eq!(page(&bergen, format!("{base}{case}/access")).await.0, 404);
    assert!(!page(&bergen, format!("{base}/advisory/cases")).await.1.contains("Kari"));
    // Counts: for the lead only, suppressed (one referral is "<5").
    let (status, refused) = page(&cw, format!("{base}/advisory/counts?lang=en")).await;
    assert_eq!(status, 403);
    assert!(refused.contains("The unit's counts are for its lead only") && !refused.contains("lead_only"), "{refused}");
    let (lead, _) = login(base, "lead").await;
    let (status, counts) = page(&lead, format!("{base}/advisory/counts?lang=en")).await;
    assert_eq!(status, 200);
    assert!(counts.contains("&lt;5") && !counts.contains("Kari"), "{counts}");
    let (status, csv) = page(&lead, format!("{base}/advisory/counts.csv")).await;
    assert_eq!(status, 200);
    assert!(csv.starts_with("kommune,quarter,referrals") && csv.contains(",<5,"), "{csv}");
    assert_eq!(s.store.verify_audit().unwrap().map(|n| n > 5), Ok(true));
}

#[tokio::test]
async fn every_route_answers_each_role_as_it_should() {
    let s = setup(true).await;
    let base = &s.base;
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    // Anonymous: the login page and form; everything else sends to the login (or refuses a form without CSRF).
    for (method, path) in ROUTES {
        let res = no_redirects.request(method.parse().unwrap(), format!("{base}{path}")).send().await.unwrap();
        let expected: &[u16] = match (method, path) {
            ("GET", "/advisory/login" | "/advisory/style.css") => &[200],
            ("POST", "/advisory/login" | "/advisory/login/second-factor") => &[422, 403, 415],
            _ => &[303],
        };
        assert!(expected.contains(&res.status().as_u16()), "anonymous {method} {path}: {}", res.status());
    }
    let (cw, _) = login(base, "cw").await;
    let (lead, _) = login(base, "lead").await;
    for (who, client) in [("caseworker", &cw), ("lead", &lead)] {
        for path in ["/advisory", "/advisory/cases", "/advisory/cases/new"] {
            assert_eq!(page(client, format!("{base}{path}")).await.0, 200, "{who} {path}");
        }
        for path in ["", "/access", "/letter/0", "/notice/0"] {
            assert_eq!(page(client, format!("{base}/advisory/cases/999{path}")).await.0, 404, "{who}: an unknown case");
        }
        let counts = if who == "lead" { 200 } else { 403 };
        assert_eq!(page(client, format!("{base}/advisory/counts")).await.0, counts, "{who} counts");
        assert_eq!(page(client, format!("{base}/advisory/counts.csv")).await.0, counts, "{who} counts.csv");
        // A form without the session's CSRF token is refused.
        let res = client.post(format!("{base}/advisory/cases")).form(&[("csrf", "wrong")]).send().await.unwrap();
        assert!([403, 422].contains(&res.status().as_u16()), "{who}: {}", res.status());
    }
    // Logging out ends the session.
    let (_, html) = page(&cw, format!("{base}/advisory")).await;
    let res = cw.post(format!("{base}/advisory/logout")).form(&[("csrf", csrf(&html))]).send().await.unwrap();
    assert!(res.url().path().ends_with("/advisory/login"));
    let res = no_redirects.get(format!("{base}/advisory")).send().await.unwrap();
    assert_eq!(res.status(), 303);
}

#[tokio::test]
async fn the_demo_has_synthetic_people_and_fresh_logins_each_start() {
    let s = setup(true).await;
    let first = advisory::demo(&s.store).unwrap();
    let cases = s.store.cases("0301").unwrap();
    assert_eq!(cases.len(), 3);
    for c in &cases {
        let fnr = c.person.fnr.as_ref().expect("a synthetic number");
        assert_eq!(fnr.kind(), varde_advisory::fnr::Kind::Synthetic, "{fnr:?}");
        assert!(c.person.name.starts_with("Testperson"));
    }
    assert!(cases.iter().any(|c| c.person.guardian.is_some()), "a minor with a guardian");
    // A second start keeps the cases and makes new passwords; the new ones log in.
    let second = advisory::demo(&s.store).unwrap();
    assert_eq!(s.store.cases("0301").unwrap().len(), 3);
    assert_ne!(first[0].1, second[0].1);
    let jar = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let form = jar.get(format!("{}/advisory/login", s.base)).send().await.unwrap().text().await.unwrap();
    let (user, password, _) = &second[0];
    let res = jar
        .post(format!("{}/advisory/login?lang=en", s.base))
        .form(&[("username", user.as_str()), ("password", password.as_str()), ("csrf", &csrf(&form))])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let today = second_factor(&jar, &s.base, user, &res.text().await.unwrap()).await;
    assert!(today.contains("Cases needing action") && today.contains("Testperson"), "{today}");
}

#[tokio::test]
async fn ten_wrong_passwords_lock_the_account_for_the_window() {
    let s = setup(true).await;
    let jar = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let attempt = |password: &'static str| {
        let (jar, base) = (jar.clone(), s.base.clone());
        async move {
            let form = jar.get(format!("{base}/advisory/login")).send().await.unwrap().text().await.unwrap();
            let res = jar
                .post(format!("{base}/advisory/login"))
                .form(&[("username", "cw"), ("password", password), ("csrf", &csrf(&form))])
                .send()
                .await
                .unwrap();
            res.status().as_u16()
        }
    };
    for _ in 0..10 {
        assert_eq!(attempt("wrong-password-guess").await, 401);
    }
    assert_eq!(attempt("advisory-password-1").await, 429, "locked even with the right password");
    // Another account is not affected.
    let (_, session) = login(&s.base, "lead").await;
    assert!(!session.is_empty());
    // The lock is kept in the module's database, so a restart does not lift it: the file opened anew still has it.
    let key = Key::from_hex(std::fs::read_to_string(s._dir.path().join("advisory.key")).unwrap().trim()).unwrap();
    let reopened = AdvisoryStore::open(&s._dir.path().join("advisory.db"), key).unwrap();
    let window = jiff::Timestamp::now() - jiff::SignedDuration::from_mins(10);
    assert_eq!(reopened.login_failures("account", "cw", window).unwrap(), 10);
}

/// Guessing names from one address is throttled too: after 30 failures from an address, even a right login from it
/// waits for the window, so the list of members cannot be tried through.
#[tokio::test]
async fn many_names_from_one_address_are_throttled() {
    let s = setup(true).await;
    let jar = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let attempt = |username: String, password: &'static str| {
        let (jar, base) = (jar.clone(), s.base.clone());
        async move {
            let form = jar.get(format!("{base}/advisory/login")).send().await.unwrap().text().await.unwrap();
            let fields = [("username", username.as_str()), ("password", password), ("csrf", &csrf(&form))];
            jar.post(format!("{base}/advisory/login")).form(&fields).send().await.unwrap().status().as_u16()
        }
    };
    for i in 0..30 {
        assert_eq!(attempt(format!("guess{i}"), "password-guess-1").await, 401, "guess {i}");
    }
    assert_eq!(attempt("lead".to_owned(), "advisory-password-1").await, 429, "the address is throttled");
}

/// A new browser that has given `username`'s password (in English) and the page it was sent to.
async fn password_only(base: &str, username: &str) -> (reqwest::Client, String) {
    let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let form = client.get(format!("{base}/advisory/login?lang=en")).send().await.unwrap().text().await.unwrap();
    let res = client
        .post(format!("{base}/advisory/login?lang=en"))
        .form(&[("username", username), ("password", "advisory-password-1"), ("csrf", &csrf(&form))])
        .send()
        .await
        .unwrap();
    let page = res.text().await.unwrap();
    (client, page)
}

/// Every member gives a second factor: the password alone opens no page; a wrong code is refused (401) and audited;
/// enrolling gives ten recovery codes; the app's code is accepted once per time step; a recovery code once.
#[tokio::test]
async fn a_member_gives_a_second_factor_and_each_code_counts_once() {
    use varde_http::second_factor::OneTimeCodes;
    let s = setup(true).await;
    let base = &s.base;
    let audited = || s.store.verify_audit().unwrap().unwrap();
    let (client, enrol) = password_only(base, "cw").await;
    let secret = enrol.split("data-secret=\"").nth(1).and_then(|s| s.split('"').next()).expect("an enrolment page");
    // The password alone opens nothing: every page sends the member back here.
    let (status, html) = page(&client, format!("{base}/advisory/cases")).await;
    assert!(status == 200 && html.contains("data-secret"), "{html}");
    let url = format!("{base}/advisory/login/second-factor?lang=en");
    let now = jiff::Timestamp::now().as_second() as u64;
    let wrong = OneTimeCodes::new(&varde_http::second_factor::new_secret(), "x", "cw").unwrap().code_at(now);
    let before = audited();
    let res = client
        .post(&url)
        .form(&[("csrf", csrf(&enrol)), ("secret", secret.into()), ("code", wrong)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(audited(), before, "a wrong code at enrolment enrols nothing");
    let codes = OneTimeCodes::new(secret, "Varde rådgivende enhet", "cw").unwrap();
    let res = client
        .post(&url)
        .form(&[("csrf", csrf(&enrol)), ("secret", secret.into()), ("code", codes.code_at(now))])
        .send()
        .await
        .unwrap();
    let page_text = res.text().await.unwrap();
    assert_eq!(page_text.matches("<li><code>").count(), 10, "{page_text}");
    assert_eq!(audited(), before + 1, "second_factor.enrol");
    assert_eq!(page(&client, format!("{base}/advisory/cases")).await.0, 200);
    let recovery = page_text.split("<li><code>").nth(1).and_then(|s| s.split('<').next()).unwrap().to_owned();

    // A second browser: the code just used is refused (audited), a recovery code passes once.
    let (other, asked) = password_only(base, "cw").await;
    assert!(!asked.contains("data-secret") && asked.contains("one-time-code"), "{asked}");
    let res = other.post(&url).form(&[("csrf", csrf(&asked)), ("code", codes.code_at(now))]).send().await.unwrap();
    assert_eq!(res.status(), 401, "a code counts once");
    assert_eq!(audited(), before + 2, "login.second_factor_failed");
    let res = other.post(&url).form(&[("csrf", csrf(&asked)), ("code", recovery.clone())]).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(page(&other, format!("{base}/advisory/cases")).await.0, 200);
    let (third, asked) = password_only(base, "cw").await;
    let res = third.post(&url).form(&[("csrf", csrf(&asked)), ("code", recovery)]).send().await.unwrap();
    assert_eq!(res.status(), 401, "a recovery code counts once");
}
