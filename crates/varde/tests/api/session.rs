//! Logging in to the pages, the analysts' page, CSRF, throttling and security headers.

use crate::helpers::TestApp;
use jiff::Timestamp;
use varde_domain::auth::Role;
use varde_domain::service::ServiceSlug;

pub(crate) struct Browser {
    pub(crate) client: reqwest::Client,
    base: String,
}

impl Browser {
    pub(crate) fn new(app: &TestApp) -> Browser {
        Browser::at(&app.base)
    }

    /// A browser on the server at `base`.
    pub(crate) fn at(base: &str) -> Browser {
        let client =
            reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_store(true).build().unwrap();
        Browser { client, base: base.to_owned() }
    }

    pub(crate) async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.base)).send().await.unwrap()
    }

    pub(crate) async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client.post(format!("{}{path}", self.base)).form(form).send().await.unwrap()
    }

    /// The CSRF token in a page's form.
    pub(crate) async fn csrf(&self, path: &str) -> String {
        let html = self.get(path).await.text().await.unwrap();
        let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
        html[at..at + 64].to_owned()
    }

    /// Logs in as a client behind the test's trusted proxy at `address` (the proxy's `X-Forwarded-For`).
    pub(crate) async fn login_from(&self, user: &str, password: &str, address: &str) -> reqwest::Response {
        let csrf = self.csrf("/login").await;
        self.client
            .post(format!("{}/login", self.base))
            .header("X-Forwarded-For", address)
            .form(&[("username", user), ("password", password), ("csrf", &csrf)])
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn login(&self, user: &str, password: &str) -> reqwest::Response {
        let csrf = self.csrf("/login").await;
        self.post("/login?next=/analyst", &[("username", user), ("password", password), ("csrf", &csrf)]).await
    }
}

pub(crate) async fn users(app: &TestApp) {
    let h = varde_web::http::session::hash_password("reviewer-passord-123");
    app.store.add_user("rita", &h, Role::Reviewer, None, "test", Timestamp::now()).await.unwrap();
    let h = varde_web::http::session::hash_password("tekniker-passord-123");
    app.store
        .add_user(
            "tom",
            &h,
            Role::Technician,
            Some(ServiceSlug::parse("oslo-brukerrom").unwrap()),
            "test",
            Timestamp::now(),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn a_reviewer_logs_in_sees_the_analysts_page_and_logs_out() {
    let app = TestApp::spawn().await;
    users(&app).await;
    let b = Browser::new(&app);
    let res = b.get("/analyst").await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(res.headers()["location"], "/login?next=/analyst");

    let res = b.login("rita", "reviewer-passord-123").await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(res.headers()["location"], "/analyst");
    let set: Vec<&str> = res.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap()).collect();
    let session = set.iter().find(|c| c.starts_with("varde_session=")).expect("a session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Strict") && session.contains("Path=/"),
        "{session}"
    );

    let res = b.get("/analyst?lang=en").await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let html = res.text().await.unwrap();
    assert!(html.contains("Open signals") && html.contains("rita") && html.contains("<svg"));

    // Logging out needs the session's CSRF token; a wrong one is refused and the session lives on.
    assert_eq!(b.post("/logout", &[("csrf", &"0".repeat(64))]).await.status().as_u16(), 403);
    assert_eq!(b.get("/analyst").await.status().as_u16(), 200);
    let csrf = b.csrf("/analyst").await;
    assert_eq!(b.post("/logout", &[("csrf", &csrf)]).await.status().as_u16(), 303);
    assert_eq!(b.get("/analyst").await.status().as_u16(), 303, "the session has ended");
}

#[tokio::test]
async fn technicians_wrong_passwords_forged_forms_and_floods_are_turned_away() {
    let app = TestApp::spawn().await;
    users(&app).await;
    let b = Browser::new(&app);
    assert_eq!(b.login("tom", "tekniker-passord-123").await.status().as_u16(), 303);
    assert_eq!(b.get("/analyst").await.status().as_u16(), 403, "the analysts' page is for national roles");

    let other = Browser::new(&app);
    // A form posted without the login page's cookie (another site's forged form) is refused.
    let forged = other
        .post("/login", &[("username", "rita"), ("password", "reviewer-passord-123"), ("csrf", &"a".repeat(64))])
        .await;
    assert_eq!(forged.status().as_u16(), 403);
    // Wrong passwords and unknown users get the same answer.
    assert_eq!(other.login("rita", "wrong-password-xx").await.status().as_u16(), 401);
    let unknown = other.login("nobody", "wrong-password-xx").await;
    assert_eq!(unknown.status().as_u16(), 401);
    assert!(unknown.text().await.unwrap().contains("Feil brukernavn eller passord"));
    for _ in 0..3 {
        other.login("rita", "wrong-password-xx").await;
    }
    // Five failures from this address: even the right password waits.
    assert_eq!(other.login("rita", "reviewer-passord-123").await.status().as_u16(), 429);
}

/// Ten failed logins for one account, from ten addresses, lock the account (even the right password from an
/// eleventh waits); five from one address lock that address for every account.
#[tokio::test]
async fn ten_failures_lock_an_account_and_five_an_address() {
    let app = TestApp::spawn_with_proxies(vec!["127.0.0.0/8".parse().unwrap()]).await;
    users(&app).await;
    let b = Browser::new(&app);
    for i in 0..9 {
        let status = b.login_from("rita", "wrong-password-xx", &format!("203.0.113.{i}")).await.status();
        assert_eq!(status.as_u16(), 401, "failure {i}");
    }
    assert_eq!(b.login_from("rita", "reviewer-passord-123", "203.0.113.50").await.status().as_u16(), 303);
    for i in 10..20 {
        b.login_from("rita", "wrong-password-xx", &format!("198.51.100.{i}")).await;
    }
    let locked = b.login_from("rita", "reviewer-passord-123", "192.0.2.1").await;
    assert_eq!(locked.status().as_u16(), 429, "the account is locked from anywhere");
    assert_eq!(b.login_from("tom", "tekniker-passord-123", "192.0.2.1").await.status().as_u16(), 303, "not others");
    for _ in 0..5 {
        b.login_from("nobody", "wrong-password-xx", "192.0.2.77").await;
    }
    let blocked = b.login_from("tom", "tekniker-passord-123", "192.0.2.77").await;
    assert_eq!(blocked.status().as_u16(), 429, "the address is locked for every account");
}

/// Limits are counted in the database: failed logins and result look-ups through two instances sharing it add up,
/// and the address that tried is not what is stored.
#[tokio::test]
async fn limits_hold_across_instances_sharing_a_database() {
    let app = TestApp::spawn().await;
    users(&app).await;
    let beside = app.beside().await;
    let (a, b) = (Browser::new(&app), Browser::at(&beside));
    for browser in [&a, &b, &a, &b] {
        assert_eq!(browser.login("rita", "wrong-password-xx").await.status().as_u16(), 401);
    }
    assert_eq!(b.login("rita", "wrong-password-xx").await.status().as_u16(), 401, "the fifth failure");
    assert_eq!(a.login("rita", "reviewer-passord-123").await.status().as_u16(), 429, "counted on both");

    let look = |base: &str| {
        let url = format!("{base}/api/v1/results/0000-0000-0000");
        async move { reqwest::get(url).await.unwrap().status().as_u16() }
    };
    for base in [&app.base, &beside, &app.base, &beside, &app.base] {
        assert_eq!(look(base).await, 404);
    }
    assert_eq!(look(&beside).await, 429, "the sixth look-up, wherever it is asked");
    assert_eq!(look(&app.base).await, 429);

    let stored = app.rows("SELECT limit_name FROM limit_attempts ORDER BY limit_name").await;
    assert_eq!(stored.iter().filter(|n| *n == "lookup").count(), 5, "{stored:?}");
    assert!(stored.iter().any(|n| n == "login-account"), "{stored:?}");
    let keys = app.rows("SELECT CAST(count(*) AS TEXT) FROM limit_attempts WHERE length(key) = 32").await;
    assert_eq!(keys, [stored.len().to_string()], "who tried is a 32-byte keyed hash");
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    for path in ["/alerts", "/dashboard", "/login", "/api/v1/alerts", "/no/such/page"] {
        let res = reqwest::get(format!("{}{path}", app.base)).await.unwrap();
        let h = res.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            !csp.contains("unsafe-inline")
                && csp.contains("frame-ancestors 'none'")
                && csp.contains("default-src 'self'"),
            "{path}: {csp}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
    }
}

/// What a person's credential fetched no cache keeps (a shared cache must never hand one reviewer's page to someone
/// else), logging out tells the browser to forget, and HSTS comes with an https public address.
#[tokio::test]
async fn answers_to_credentials_are_never_cached_and_logging_out_clears_the_browser() {
    let app = TestApp::spawn().await;
    users(&app).await;
    let b = Browser::new(&app);
    assert_eq!(b.login("rita", "reviewer-passord-123").await.status().as_u16(), 303);
    for path in ["/review", "/alerts", "/dashboard", "/analyst"] {
        let res = b.get(path).await;
        assert_eq!(res.headers()["cache-control"], "no-store", "{path} with a session");
        assert_eq!(res.headers()["cross-origin-resource-policy"], "same-origin", "{path}");
    }
    let res = app.client.get(format!("{}/api/v1/alerts?status=draft", app.base)).bearer_auth(&app.reviewer);
    assert_eq!(res.send().await.unwrap().headers()["cache-control"], "no-store", "a bearer token's answer");
    let anonymous = reqwest::get(format!("{}/alerts", app.base)).await.unwrap();
    let h = anonymous.headers();
    assert!(h["cache-control"].to_str().unwrap().starts_with("public"), "public pages stay cacheable");
    assert_eq!(h["cross-origin-resource-policy"], "cross-origin");
    assert_eq!(h["cross-origin-opener-policy"], "same-origin");
    assert!(h["permissions-policy"].to_str().unwrap().contains("geolocation=()"));
    assert!(!h.contains_key("strict-transport-security"), "no HSTS over plain http");
    let csrf = b.csrf("/analyst").await;
    let out = b.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.headers()["clear-site-data"], "\"cache\", \"cookies\"");

    // Behind https, HSTS.
    let reference = varde::load_reference(None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = varde::open_store(&crate::helpers::test_database(dir.path()).await, &reference).await.unwrap();
    let router = varde::serve::app(store, reference, "https://varde.example.no").await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await.unwrap() });
    let res = reqwest::get(format!("{base}/alerts")).await.unwrap();
    assert_eq!(res.headers()["strict-transport-security"], "max-age=63072000");
    // Behind https the cookies carry the __Host- prefix: only this host, Secure, Path=/.
    let res = reqwest::get(format!("{base}/login")).await.unwrap();
    let set = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set.starts_with("__Host-varde_login=") && set.contains("; Secure") && set.contains("Path=/;"), "{set}");
}

/// Negotiated pages say so to caches, static files are compressed, and there is an icon.
#[tokio::test]
async fn pages_vary_by_language_static_files_are_compressed_and_there_is_an_icon() {
    let app = TestApp::spawn().await;
    for path in ["/alerts", "/dashboard", "/alerts.atom"] {
        let res = reqwest::get(format!("{}{path}", app.base)).await.unwrap();
        let vary: Vec<String> =
            res.headers().get_all("vary").iter().map(|v| v.to_str().unwrap().to_lowercase()).collect();
        assert!(vary.iter().any(|v| v.contains("accept-language")), "{path}: {vary:?}");
    }
    for path in ["/static/varde.css", "/static/notify.js"] {
        let res = app.client.get(format!("{}{path}", app.base)).header("accept-encoding", "gzip").send().await.unwrap();
        assert_eq!(res.headers()["content-encoding"], "gzip", "{path}");
        let plain = app.client.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert!(!plain.headers().contains_key("content-encoding"), "{path} plain for a client without gzip");
    }
    for path in ["/favicon.ico", "/favicon.svg"] {
        let res = reqwest::get(format!("{}{path}", app.base)).await.unwrap();
        assert_eq!((res.status().as_u16(), res.headers()["content-type"].to_str().unwrap()), (200, "image/svg+xml"));
        assert!(res.text().await.unwrap().starts_with("<svg"));
    }
    let (_, _, page) = app.get_text("/alerts").await;
    assert!(page.contains("rel=\"icon\""), "the pages name the icon");
}

/// `/metrics` passes promtool (the Prometheus project's own checker), and answers OpenMetrics only when asked.
#[tokio::test]
async fn metrics_pass_promtool_and_openmetrics_is_negotiated() {
    let app = TestApp::spawn().await;
    // Some traffic, so that every kind of family has samples.
    app.post("/api/v1/samples", Some(&app.oslo), &crate::helpers::heroin_sample()).await;
    app.get("/api/v1/alerts", None).await;
    let res = reqwest::get(format!("{}/metrics", app.base)).await.unwrap();
    assert_eq!(res.headers()["content-type"], "text/plain; version=0.0.4; charset=utf-8");
    let text = res.text().await.unwrap();
    assert!(!text.contains("# EOF") && text.contains("# TYPE varde_samples_registered_total counter"), "{text}");
    let mut promtool = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("promtool is needed for this test (scripts/install-test-tools installs it): {e}"));
    std::io::Write::write_all(&mut promtool.stdin.take().unwrap(), text.as_bytes()).unwrap();
    let out = promtool.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool: {}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let om = app
        .client
        .get(format!("{}/metrics", app.base))
        .header("accept", "application/openmetrics-text; version=1.0.0, text/plain; q=0.5")
        .send()
        .await
        .unwrap();
    assert_eq!(om.headers()["content-type"], "application/openmetrics-text; version=1.0.0; charset=utf-8");
    assert!(om.text().await.unwrap().ends_with("# EOF\n"));
}

/// A server with the test users and a severe heroin sample registered in Oslo, and the reviewer logged in: the
/// sample as answered, its draft's id, and the reviewer's browser.
async fn reviewer_with_a_draft() -> (TestApp, serde_json::Value, i64, Browser) {
    let app = TestApp::spawn().await;
    users(&app).await;
    let (_, s) = app.post("/api/v1/samples", Some(&app.oslo), &crate::helpers::heroin_sample()).await;
    let id = s["alert_drafts"][0]["id"].as_i64().unwrap();
    let b = Browser::new(&app);
    b.login("rita", "reviewer-passord-123").await;
    (app, s, id, b)
}

#[tokio::test]
async fn a_reviewer_sees_the_evidence_and_publishes_updates_and_withdraws_through_the_pages() {
    let (app, s, id, b) = reviewer_with_a_draft().await;
    let code = s["code"].as_str().unwrap().to_owned();
    let page = b.get(&format!("/review/{id}?lang=en")).await.text().await.unwrap();
    assert!(page.contains(&code), "the evidence lists the sample");
    assert!(page.contains("Preview as the public will see it") && page.contains("What you can do"));
    // The only service in Oslo handed the sample in: naming the place points at it, and the reviewer is told.
    let sole = "Every sample behind this warning came from the only service in its fylke";
    assert!(page.contains(sole), "{page}");
    let outreach = varde_domain::service::Service {
        slug: varde_domain::service::ServiceSlug::parse("oslo-uteteam").unwrap(),
        name: "Oslo uteteam".into(),
        kind: varde_domain::service::ServiceKind::Outreach,
        kommune: "0301".into(),
        fylke: "03".into(),
    };
    app.store.add_service(outreach, "test", jiff::Timestamp::now()).await.unwrap();
    let page = b.get(&format!("/review/{id}?lang=en")).await.text().await.unwrap();
    assert!(!page.contains(sole), "two services in Oslo: the place no longer points at one");
    let csrf = b.csrf(&format!("/review/{id}")).await;
    // Publishing asks first, showing what will go out; confirmed, it goes.
    let ask = b.post(&format!("/review/{id}/publish?lang=en"), &[("csrf", &csrf)]).await;
    assert_eq!(ask.status().as_u16(), 200);
    let ask = ask.text().await.unwrap();
    assert!(ask.contains("Publish this warning?") && ask.contains("The e-mail to subscribers"), "{ask}");
    assert_eq!(app.get(&format!("/api/v1/alerts/{id}"), None).await.0, 404, "not yet public");
    let res = b.post(&format!("/review/{id}/publish"), &[("csrf", &csrf), ("confirmed", "yes")]).await;
    assert_eq!(res.status().as_u16(), 303);
    let page = b.get(&format!("/review/{id}?lang=en")).await.text().await.unwrap();
    assert!(page.contains("Update (new version)") && page.contains("Withdraw"));
    let form: Vec<(String, String)> =
        [("title", "Nitazene in heroin"), ("body", "Found in Oslo."), ("advice", "Do not use alone.")]
            .iter()
            .flat_map(|(f, v)| ["nb", "nn", "en"].map(|l| (format!("{f}_{l}"), v.to_string())))
            .chain([("csrf".to_owned(), csrf.clone())])
            .collect();
    let form: Vec<(&str, &str)> = form.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    assert_eq!(b.post(&format!("/review/{id}/update"), &form).await.status().as_u16(), 303);
    assert_eq!(
        b.post(&format!("/review/{id}/withdraw"), &[("csrf", &csrf), ("note", "lab found no nitazene")])
            .await
            .status()
            .as_u16(),
        303
    );
    let (_, alert) = app.get(&format!("/api/v1/alerts/{id}"), None).await;
    assert_eq!(
        (alert["status"].as_str().unwrap(), alert["title"]["en"].as_str().unwrap()),
        ("withdrawn", "Nitazene in heroin")
    );
    let (_, versions) = app.get(&format!("/api/v1/alerts/{id}/versions"), None).await;
    assert_eq!(versions.as_array().unwrap().len(), 3);
}

/// A reviewer who edits a draft and presses Publish without Save publishes what they typed: the draft page has one
/// form whose Publish button sends the texts.
#[tokio::test]
async fn publishing_from_the_draft_page_keeps_the_edit_not_yet_saved() {
    let (app, _, id, b) = reviewer_with_a_draft().await;
    let page = b.get(&format!("/review/{id}?lang=en")).await.text().await.unwrap();
    // The draft's preview says nothing it has not done: no publication date or version, no links that do not exist yet.
    let preview = page.split("class=\"preview\"").nth(1).expect("the preview");
    assert!(preview.contains("Draft, not published"), "{preview}");
    for absent in [format!("/alerts/{id}.cap"), format!("/alerts/{id}/poster"), "Version".to_owned()] {
        assert!(!preview.contains(&absent), "a draft's preview has no {absent}: {preview}");
    }
    let form = page.split("<form").find(|f| f.contains("name=\"title_en\"")).expect("the edit form");
    assert!(form.contains(&format!("formaction=\"/review/{id}/publish?lang=en\"")), "Publish is in the edit form");
    let (_, draft) = app.get(&format!("/api/v1/alerts/{id}"), Some(&app.reviewer)).await;
    let csrf = b.csrf(&format!("/review/{id}")).await;
    let mut fields: Vec<(String, String)> = ["title", "body", "advice"]
        .iter()
        .flat_map(|f| ["nb", "nn", "en"].map(|l| (format!("{f}_{l}"), draft[*f][l].as_str().unwrap().to_owned())))
        .collect();
    fields.iter_mut().find(|(k, _)| k == "title_nb").unwrap().1 = "Nitazen i heroin i Oslo".into();
    fields.push(("csrf".into(), csrf));
    let form: Vec<(&str, &str)> = fields.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    // The confirmation shows the edited headline and carries it on.
    let ask = b.post(&format!("/review/{id}/publish?lang=en"), &form).await.text().await.unwrap();
    assert!(ask.contains("Nitazen i heroin i Oslo") && ask.contains("name=\"confirmed\" value=\"yes\""), "{ask}");
    fields.push(("confirmed".into(), "yes".into()));
    let form: Vec<(&str, &str)> = fields.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    assert_eq!(b.post(&format!("/review/{id}/publish?lang=en"), &form).await.status().as_u16(), 303);
    let (_, alert) = app.get(&format!("/api/v1/alerts/{id}"), None).await;
    assert_eq!(
        (alert["status"].as_str(), alert["title"]["nb"].as_str()),
        (Some("published"), Some("Nitazen i heroin i Oslo"))
    );
}

/// Every staff page says who is logged in and can log out (a shared tablet in a user room), and a keyboard user can
/// skip to the content.
#[tokio::test]
async fn staff_pages_say_who_is_logged_in_and_log_out() {
    let app = TestApp::spawn().await;
    users(&app).await;
    for (user, password, pages) in [
        ("tom", "tekniker-passord-123", vec!["/staff", "/staff/samples", "/staff/user-room"]),
        ("rita", "reviewer-passord-123", vec!["/review", "/analyst"]),
    ] {
        let b = Browser::new(&app);
        // Logging in from the nynorsk login page lands on the role's start page in nynorsk.
        let csrf = b.csrf("/login?lang=nn").await;
        let res = b.post("/login?lang=nn", &[("username", user), ("password", password), ("csrf", &csrf)]).await;
        assert_eq!(res.status().as_u16(), 303);
        assert_eq!(res.headers()["location"], format!("{}?lang=nn", pages[0]), "the language chosen is kept");
        for path in &pages {
            let html = b.get(&format!("{path}?lang=nn")).await.text().await.unwrap();
            assert!(
                html.contains("Logga inn som") && html.contains(&format!("<strong>{user}</strong>")),
                "{path}: {html}"
            );
            assert!(html.contains("action=\"/logout?lang=nn\""), "{path} has a log-out button");
            assert!(
                html.contains("href=\"#content\"") && html.contains("<main id=\"content\">"),
                "{path}: a skip link"
            );
        }
        let csrf = b.csrf(pages[0]).await;
        assert_eq!(b.post("/logout?lang=nn", &[("csrf", &csrf)]).await.status().as_u16(), 303);
        assert_eq!(b.get(pages[0]).await.status().as_u16(), 303, "{user}'s session has ended");
    }
}

/// The code of the newest sample on the technician's list.
async fn last_code(b: &Browser) -> String {
    let list = b.get("/staff/samples?lang=en").await.text().await.unwrap();
    let at = list.find("/staff/samples/").expect("a sample on the list") + "/staff/samples/".len();
    list[at..].split(['?', '"']).next().unwrap().to_owned()
}

/// The technician's page takes a dose: a 350 mg MDMA tablet registered on the page gets the high-dose warning, the
/// sample page shows what was entered, and a quantity measured by HPLC becomes its own analysis.
#[tokio::test]
async fn a_dose_registered_on_the_page_is_assessed_and_shown_as_entered() {
    let app = TestApp::spawn().await;
    users(&app).await;
    let b = Browser::new(&app);
    assert_eq!(b.login("tom", "tekniker-passord-123").await.status().as_u16(), 303);
    let csrf = b.csrf("/staff").await;
    let tablet = |value: &'static str, unit: &'static str, method: &'static str| {
        vec![
            ("form", "tablet"),
            ("sold_as", "MDMA"),
            ("colour", "rosa"),
            ("logo", "Tesla"),
            ("mass_mg", "480"),
            ("ftir_main", "MDMA"),
            ("amount_value", value),
            ("amount_unit", unit),
            ("amount_method", method),
        ]
    };
    for (value, unit, method, expect_dose) in
        [("350", "mg", "ftir", true), ("350", "mg", "hplc", true), ("90", "mg", "ftir", false)]
    {
        let mut form = tablet(value, unit, method);
        form.push(("csrf", &csrf));
        let res = b.post("/staff/samples?lang=en", &form).await;
        assert_eq!(res.status().as_u16(), 303, "{value} {unit} by {method}");
        let page_path = res.headers()["location"].to_str().unwrap().to_owned();
        let code = page_path.trim_start_matches("/staff/samples/").split('?').next().unwrap().to_owned();
        let (_, sample) = app.get(&format!("/api/v1/samples/{code}"), Some(&app.oslo)).await;
        let rules: Vec<&str> =
            sample["findings"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap()).collect();
        assert_eq!(rules.contains(&"mdma-dose"), expect_dose, "{value} mg by {method}: {rules:?}");
        let analyses = sample["analyses"].as_array().unwrap();
        assert_eq!(analyses.len(), if method == "ftir" { 1 } else { 2 }, "{sample}");
        let page = b.get(&page_path).await.text().await.unwrap();
        assert!(page.contains("As registered") && page.contains("Tesla") && page.contains("480 mg"), "{page}");
        assert!(page.contains(&format!("MDMA (main), {value} mg")), "the amount as entered: {page}");
    }
    // The result card the person takes home says in plain words what was found, when and where, and 113; the
    // advice is headed by the substance, not its pharmacological class.
    let card =
        b.get(&format!("/staff/samples/{code}/card?lang=en", code = last_code(&b).await)).await.text().await.unwrap();
    assert!(card.contains("What we found") && card.contains("Tested on") && card.contains("oslo-brukerrom"), "{card}");
    assert!(card.contains("<strong>MDMA</strong>") && !card.contains("Entactogen"), "{card}");
    assert!(card.contains("call 113") && !card.to_lowercase().contains("naloxone"), "{card}");
    // A quantity without a main substance is refused, and the form keeps what was typed.
    let form = [("csrf", csrf.as_str()), ("form", "tablet"), ("colour", "rosa"), ("amount_value", "350")];
    let res = b.post("/staff/samples?lang=en", &form).await;
    assert_eq!(res.status().as_u16(), 422);
    let page = res.text().await.unwrap();
    assert!(page.contains("a quantity belongs to the main substance") && page.contains("value=\"350\""), "{page}");
}

/// The reviewer's pages speak the reader's language (no status words or rule ids in English on a Norwegian page),
/// list the warnings in force with their coverage, and give the EDAS notification as a page.
#[tokio::test]
async fn the_reviewer_sees_warnings_in_force_and_the_edas_notification_in_the_pages() {
    let (app, _, id, b) = reviewer_with_a_draft().await;
    let draft = b.get(&format!("/review/{id}?lang=nb")).await.text().await.unwrap();
    assert!(draft.contains("utkast") && !draft.contains(" · draft · "), "the status in Norwegian: {draft}");
    assert!(!draft.contains("nitazene-strip-positive"), "no rule ids on the page");
    let edas = b.get(&format!("/review/{id}/edas?lang=nb")).await;
    assert_eq!(edas.status().as_u16(), 200);
    let edas = edas.text().await.unwrap();
    assert!(
        edas.contains("(a) Type and origin of the risk") && edas.contains("(j) Other relevant information"),
        "{edas}"
    );
    app.post(&format!("/api/v1/alerts/{id}/publish"), Some(&app.reviewer), &serde_json::json!({})).await;
    let queue = b.get("/review?lang=en").await.text().await.unwrap();
    assert!(
        queue.contains("Published warnings in force (1)") && queue.contains("Services that acknowledged 0/2"),
        "{queue}"
    );
    // A technician does not get the notification.
    let tech = Browser::new(&app);
    tech.login("tom", "tekniker-passord-123").await;
    assert_eq!(tech.get(&format!("/review/{id}/edas")).await.status().as_u16(), 403);
}

#[tokio::test]
async fn an_admin_manages_services_users_and_tokens_through_the_page() {
    let app = TestApp::spawn().await;
    let h = varde_web::http::session::hash_password("admin-passord-1234");
    app.store.add_user("ada", &h, Role::Admin, None, "test", Timestamp::now()).await.unwrap();
    let b = Browser::new(&app);
    assert_eq!(b.login("ada", "admin-passord-1234").await.status().as_u16(), 303);
    let page = b.get("/admin?lang=en").await.text().await.unwrap();
    assert!(page.contains("Risk policy and substance catalogue") && page.contains("2026.1"));
    let csrf = b.csrf("/admin").await;
    let bad = b
        .post(
            "/admin/services",
            &[("csrf", &csrf), ("slug", "x-rom"), ("name", "X"), ("kind", "user_room"), ("kommune", "0999")],
        )
        .await;
    assert_eq!(bad.status().as_u16(), 422);
    // The refused form comes back as typed: nothing to type again.
    let page = bad.text().await.unwrap();
    assert!(page.contains("value=\"x-rom\"") && page.contains("<option value=\"user_room\" selected>"), "{page}");
    let short = b
        .post(
            "/admin/users",
            &[("csrf", &csrf), ("username", "kari"), ("role", "reviewer"), ("service", ""), ("password", "qzx1")],
        )
        .await;
    assert_eq!(short.status().as_u16(), 422);
    let page = short.text().await.unwrap();
    assert!(page.contains("value=\"kari\"") && page.contains("<option value=\"reviewer\" selected>"), "{page}");
    assert!(!page.contains("qzx1"), "a password is never sent back");
    let ok = b
        .post(
            "/admin/services",
            &[("csrf", &csrf), ("slug", "tromso-rom"), ("name", "Tromsø"), ("kind", "user_room"), ("kommune", "5501")],
        )
        .await;
    assert_eq!(ok.status().as_u16(), 303);
    assert!(app.store.queries().service(&ServiceSlug::parse("tromso-rom").unwrap()).await.unwrap().is_some());

    // A token is shown once, works, and is revoked.
    let page = b
        .post("/admin/tokens", &[("csrf", &csrf), ("role", "technician"), ("service", "tromso-rom"), ("label", "test")])
        .await
        .text()
        .await
        .unwrap();
    let at = page.find("vrd_").expect("the new token is shown");
    let token = page[at..at + 36].to_owned();
    let mut sample = crate::helpers::heroin_sample();
    sample["service"] = serde_json::json!("tromso-rom");
    assert_eq!(app.post("/api/v1/samples", Some(&token), &sample).await.0, 201);
    let id =
        app.store.queries().tokens().await.unwrap().iter().find(|t| t.label.as_deref() == Some("test")).unwrap().id;
    assert_eq!(b.post(&format!("/admin/tokens/{id}/revoke"), &[("csrf", &csrf)]).await.status().as_u16(), 303);
    assert!(
        app.store.queries().token(varde_web::http::tokens::hash(&token)).await.unwrap().is_none(),
        "a revoked token grants nothing"
    );

    // A user added here can log in.
    let added = b
        .post(
            "/admin/users",
            &[
                ("csrf", &csrf),
                ("username", "rune"),
                ("role", "reviewer"),
                ("service", ""),
                ("password", "reviewer-from-admin"),
            ],
        )
        .await;
    assert_eq!(added.status().as_u16(), 303);
    assert_eq!(Browser::new(&app).login("rune", "reviewer-from-admin").await.status().as_u16(), 303);
    // Without the form's token, nothing happens.
    let forged = b
        .post(
            "/admin/users",
            &[("csrf", &"0".repeat(64)), ("username", "eve"), ("role", "admin"), ("password", "forged-password-x")],
        )
        .await;
    assert_eq!(forged.status().as_u16(), 403);
}

#[tokio::test]
async fn a_photo_loses_its_gps_position_on_upload() {
    let app = TestApp::spawn().await;
    users(&app).await;
    let (_, s) = app.post("/api/v1/samples", Some(&app.oslo), &crate::helpers::heroin_sample()).await;
    let code = s["code"].as_str().unwrap().to_owned();
    let b = Browser::new(&app);
    b.login("tom", "tekniker-passord-123").await;
    let csrf = b.csrf(&format!("/staff/samples/{code}")).await;
    let with_gps = varde_web::check::photo::example_jpeg_with_gps();
    assert!(with_gps.windows(4).any(|w| w == b"Exif"));
    let form = reqwest::multipart::Form::new().text("csrf", csrf).part(
        "photo",
        reqwest::multipart::Part::bytes(with_gps).file_name("IMG_0001.jpg").mime_str("image/jpeg").unwrap(),
    );
    let res = b.client.post(format!("{}/staff/samples/{code}/photo", app.base)).multipart(form).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 303);
    let stored = b.get(&format!("/staff/samples/{code}/photo")).await;
    assert_eq!(stored.headers()["content-type"], "image/jpeg");
    let bytes = stored.bytes().await.unwrap();
    assert!(bytes.starts_with(&[0xFF, 0xD8]), "a JPEG");
    assert!(
        !bytes.windows(4).any(|w| w == b"Exif") && !bytes.windows(2).any(|w| w == [0xFF, 0xE1]),
        "no EXIF, so no GPS position"
    );
    // Not an image: refused, nothing stored in its place.
    let form = reqwest::multipart::Form::new()
        .text("csrf", b.csrf(&format!("/staff/samples/{code}")).await)
        .part("photo", reqwest::multipart::Part::bytes(b"not a photo".to_vec()));
    let res = b.client.post(format!("{}/staff/samples/{code}/photo", app.base)).multipart(form).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 422);
}

/// The review page is the same workbench as the API: most urgent first, filters, merging and discarding a draft,
/// and archived drafts one link away.
#[tokio::test]
async fn a_reviewer_works_the_queue_through_the_pages() {
    let app = TestApp::spawn().await;
    users(&app).await;
    let mdma = |colour: &str| {
        serde_json::json!({"service": "oslo-brukerrom", "sold_as": ["mdma"], "form": "tablet", "colour": colour,
            "tablet": {"logo": "Tesla"},
            "analyses": [{"method": "ftir", "components": [{"substance": "mdma", "role": "main", "amount": {"value": 250, "unit": "mg"}}]}]})
    };
    let (_, pink) = app.post("/api/v1/samples", Some(&app.oslo), &mdma("rosa")).await;
    let (_, blue) = app.post("/api/v1/samples", Some(&app.oslo), &mdma("blå")).await;
    let (_, heroin) = app.post("/api/v1/samples", Some(&app.oslo), &crate::helpers::heroin_sample()).await;
    let id = |s: &serde_json::Value| s["alert_drafts"][0]["id"].as_i64().unwrap();
    let (pink, blue, heroin) = (id(&pink), id(&blue), id(&heroin));
    let b = Browser::new(&app);
    b.login("rita", "reviewer-passord-123").await;
    let page = b.get("/review?lang=en").await.text().await.unwrap();
    let at = |id: i64| page.find(&format!("href=\"/review/{id}?")).unwrap_or_else(|| panic!("draft {id} listed"));
    assert!(at(heroin) < at(pink) && at(heroin) < at(blue), "the severe draft comes first");
    assert!(page.contains("1 sample · newest sample") && page.contains("draft for 0 days"), "{page}");
    let page = b.get("/review?lang=en&class=entactogen").await.text().await.unwrap();
    assert!(page.contains(&format!("/review/{pink}?")) && !page.contains(&format!("/review/{heroin}?")));
    // Merge the blue tablets' draft into the pink ones'; discard the heroin draft.
    let csrf = b.csrf(&format!("/review/{blue}")).await;
    let asked = b.post(&format!("/review/{blue}/merge"), &[("csrf", &csrf), ("into", &pink.to_string())]).await;
    assert_eq!(asked.status().as_u16(), 200, "a merge asks first");
    let res = b
        .post(&format!("/review/{blue}/merge"), &[("csrf", &csrf), ("into", &pink.to_string()), ("confirmed", "yes")])
        .await;
    assert_eq!(res.status().as_u16(), 303);
    let (_, merged) = app.get(&format!("/api/v1/alerts/{pink}"), Some(&app.reviewer)).await;
    assert_eq!(merged["evidence_count"], 2);
    assert_eq!(
        b.post(&format!("/review/{heroin}/discard"), &[("csrf", &csrf), ("note", "")]).await.status().as_u16(),
        200
    );
    let res =
        b.post(&format!("/review/{heroin}/discard"), &[("csrf", &csrf), ("note", ""), ("confirmed", "yes")]).await;
    assert_eq!(res.status().as_u16(), 303);
    let page = b.get("/review?lang=en").await.text().await.unwrap();
    assert!(page.contains("Drafts (1)"), "{page}");
    let archived = b.get("/review?lang=en&show=archived").await.text().await.unwrap();
    assert!(archived.contains("Archived drafts") && archived.contains("Back to the queue"));
}

/// Pill photos: a reviewer chooses one of the evidence samples' photos; it is published only with the alert and only
/// once chosen, on the page, in JSON, Atom (an enclosure) and CAP (a resource with size and SHA-1, valid against the
/// XSD).
#[tokio::test]
async fn a_reviewer_publishes_a_chosen_pill_photo_with_the_alert() {
    use sha1::Digest;
    let app = TestApp::spawn().await;
    users(&app).await;
    let tablet = serde_json::json!({"service": "oslo-brukerrom", "sold_as": ["mdma"], "form": "tablet", "colour": "rosa",
        "tablet": {"logo": "Tesla"},
        "analyses": [{"method": "ftir", "components": [{"substance": "mdma", "role": "main", "amount": {"value": 280, "unit": "mg"}}]}]});
    let (_, s) = app.post("/api/v1/samples", Some(&app.oslo), &tablet).await;
    let code = s["code"].as_str().unwrap().to_owned();
    let id = s["alert_drafts"][0]["id"].as_i64().unwrap();
    let tech = Browser::new(&app);
    tech.login("tom", "tekniker-passord-123").await;
    let form = reqwest::multipart::Form::new().text("csrf", tech.csrf(&format!("/staff/samples/{code}")).await).part(
        "photo",
        reqwest::multipart::Part::bytes(varde_web::check::photo::example_jpeg_with_gps())
            .file_name("p.jpg")
            .mime_str("image/jpeg")
            .unwrap(),
    );
    let res =
        tech.client.post(format!("{}/staff/samples/{code}/photo", app.base)).multipart(form).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 303);
    let photo_path = format!("/alerts/{id}/photo.jpg");
    assert_eq!(app.get_text(&photo_path).await.0, 404, "no photo is public before a reviewer chooses one");

    let rev = Browser::new(&app);
    rev.login("rita", "reviewer-passord-123").await;
    let page = rev.get(&format!("/review/{id}?lang=en")).await.text().await.unwrap();
    assert!(page.contains("Use this photo in the alert"), "{page}");
    let thumb = rev.get(&format!("/review/{id}/samples/{}/photo.jpg", code.replace('-', ""))).await;
    assert_eq!(thumb.headers()["content-type"], "image/jpeg");
    let csrf = rev.csrf(&format!("/review/{id}")).await;
    let res = rev.post(&format!("/review/{id}/photo"), &[("csrf", &csrf), ("code", &code)]).await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(app.get_text(&photo_path).await.0, 404, "a draft's photo is not public");
    let (status, _) =
        app.post(&format!("/api/v1/alerts/{id}/publish"), Some(&app.reviewer), &serde_json::json!({})).await;
    assert_eq!(status, 200);

    let res = app.client.get(format!("{}{photo_path}", app.base)).send().await.unwrap();
    assert_eq!((res.status().as_u16(), res.headers()["content-type"].to_str().unwrap()), (200, "image/jpeg"));
    let bytes = res.bytes().await.unwrap();
    assert!(!bytes.windows(4).any(|w| w == b"Exif"), "the published photo has no metadata");
    let (_, alert) = app.get(&format!("/api/v1/alerts/{id}"), None).await;
    let sha1 = format!("{:x}", sha1::Sha1::digest(&bytes));
    assert_eq!(alert["photo"]["href"], photo_path.as_str());
    assert_eq!(alert["photo"]["size"].as_u64(), Some(bytes.len() as u64));
    assert_eq!(alert["photo"]["sha1"].as_str(), Some(sha1.as_str()));
    let (_, _, page) = app.get_text(&format!("/alerts/{id}?lang=en")).await;
    assert!(
        page.contains(&format!("src=\"{photo_path}\""))
            && page.contains("alt=\"Photo of the product: tablet, pink, «Tesla»\""),
        "{page}"
    );
    let (_, _, atom) = app.get_text("/alerts.atom?lang=en").await;
    assert!(atom.contains(&format!("rel=\"enclosure\" type=\"image/jpeg\" length=\"{}\"", bytes.len())), "{atom}");
    crate::alerts::validate_atom(&atom);
    let (_, _, cap) = app.get_text(&format!("/alerts/{id}.cap")).await;
    assert!(
        cap.contains(&format!("<digest>{sha1}</digest>")) && cap.contains("<mimeType>image/jpeg</mimeType>"),
        "{cap}"
    );
    crate::alerts::validate_cap(&cap);
    // Only evidence samples' photos can be chosen, and only by reviewers.
    let (_, other) = app
        .post("/api/v1/samples", Some(&app.bergen), &{
            let mut h = crate::helpers::heroin_sample();
            h["service"] = serde_json::json!("bergen-brukerrom");
            h
        })
        .await;
    let (status, e) = app
        .post(&format!("/api/v1/alerts/{id}/photo"), Some(&app.reviewer), &serde_json::json!({"sample": other["code"]}))
        .await;
    assert_eq!((status, e["error"].as_str().unwrap()), (422, "invalid_value"), "{e}");
    let (status, _) =
        app.post(&format!("/api/v1/alerts/{id}/photo"), Some(&app.admin), &serde_json::json!({"sample": code})).await;
    assert_eq!(status, 403);
}

/// A technician sees the warnings for their area on the start page until they acknowledge them; the reviewer sees
/// who has.
#[tokio::test]
async fn a_technician_acknowledges_a_warning_from_the_start_page_and_the_reviewer_sees_it() {
    let app = TestApp::spawn().await;
    users(&app).await;
    let (_, s) = app.post("/api/v1/samples", Some(&app.oslo), &crate::helpers::heroin_sample()).await;
    let id = s["alert_drafts"][0]["id"].as_i64().unwrap();
    app.post(&format!("/api/v1/alerts/{id}/publish"), Some(&app.reviewer), &serde_json::json!({})).await;
    let tech = Browser::new(&app);
    tech.login("tom", "tekniker-passord-123").await;
    let page = tech.get("/staff?lang=en").await.text().await.unwrap();
    assert!(page.contains("Warnings for your area waiting for acknowledgement") && page.contains("Seen and passed on"));
    // The box says when it was published, when it escalates (a severe warning) and what to pass on, and asks once.
    assert!(page.contains("Published") && page.contains("Escalated to the service's contact at"), "{page}");
    assert!(page.contains("Pass on:") && page.contains("name=\"passed_on\" value=\"yes\" required"), "{page}");
    let csrf = tech.csrf("/staff").await;
    let res =
        tech.post(&format!("/staff/alerts/{id}/acknowledge?lang=en"), &[("csrf", &csrf), ("passed_on", "yes")]).await;
    assert_eq!(res.status().as_u16(), 303);
    let confirmed = res.headers()["location"].to_str().unwrap().to_owned();
    let page = tech.get(&confirmed).await.text().await.unwrap();
    assert!(page.contains("Acknowledged for your service:"), "it says so: {page}");
    assert!(!page.contains("Seen and passed on"), "acknowledged warnings leave the start page");
    // The wrong warning tapped: it can be taken back from the notice, for a minute, and it is back on the page.
    let undo = format!("/staff/alerts/{id}/acknowledge/undo?lang=en");
    assert!(page.contains(&undo.replace('&', "&amp;")) && page.contains("possible for one minute"), "{page}");
    let res = tech.post(&undo, &[("csrf", &csrf)]).await;
    assert_eq!(res.status().as_u16(), 303);
    let page = tech.get(res.headers()["location"].to_str().unwrap()).await.text().await.unwrap();
    assert!(page.contains("Acknowledgement taken back for:") && page.contains("Seen and passed on"), "{page}");
    let res = tech.post(&undo, &[("csrf", "wrong")]).await;
    assert_eq!(res.status().as_u16(), 403, "the undo is a form like any other: its CSRF token is checked");
    let res =
        tech.post(&format!("/staff/alerts/{id}/acknowledge?lang=en"), &[("csrf", &csrf), ("passed_on", "yes")]).await;
    assert_eq!(res.status().as_u16(), 303);
    let rev = Browser::new(&app);
    rev.login("rita", "reviewer-passord-123").await;
    let page = rev.get(&format!("/review/{id}?lang=en")).await.text().await.unwrap();
    assert!(page.contains("Services that acknowledged (1/2)") && page.contains("pending"), "{page}");
}

/// The technicians' page and the JSON API register samples through one use case: the same validation, the same
/// counts in `/metrics` (registrations, and refusals by code), the same retry on a taken code.
#[tokio::test]
async fn the_page_and_the_api_register_samples_alike_and_count_them_alike() {
    let app = TestApp::spawn().await;
    users(&app).await;
    let metric = |text: &str, name: &str| -> u64 {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    let metrics = || async { app.get("/metrics", None).await.1.as_str().unwrap().to_owned() };
    let refused = "varde_input_refusals_total{code=\"personal_data_refused\"}";
    let before = metrics().await;

    let b = Browser::new(&app);
    assert_eq!(b.login("tom", "tekniker-passord-123").await.status().as_u16(), 303);
    let csrf = b.csrf("/staff").await;
    let res = b
        .post(
            "/staff/samples?lang=en",
            &[("csrf", &csrf), ("form", "powder"), ("sold_as", "heroin"), ("ftir_main", "heroin")],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303, "registered, then shown");
    // Personal data in the notes: the page shows the form again with the reason, and the refusal is counted.
    let res = b
        .post(
            "/staff/samples?lang=en",
            &[("csrf", &csrf), ("form", "powder"), ("notes", "Ola Nordmann, fnr 01017012345, tlf 91234567")],
        )
        .await;
    assert_eq!(res.status().as_u16(), 422);
    // The API: one registration and one refusal of the same kind.
    let sample = serde_json::json!({"service": "oslo-brukerrom", "sold_as": ["heroin"], "form": "powder"});
    assert_eq!(app.post("/api/v1/samples", Some(&app.oslo), &sample).await.0, 201);
    let mut personal = sample.clone();
    personal["notes"] = "Ola Nordmann, fnr 01017012345, tlf 91234567".into();
    assert_eq!(app.post("/api/v1/samples", Some(&app.oslo), &personal).await.0, 422);

    let after = metrics().await;
    let registered = "varde_samples_registered_total";
    assert_eq!(metric(&after, registered) - metric(&before, registered), 2, "{after}");
    assert_eq!(metric(&after, refused) - metric(&before, refused), 2, "{after}");
    assert_eq!(app.store.queries().sample_count().await.unwrap(), 2, "nothing refused was stored");
}

/// A person sees where they are logged in and ends a session they left elsewhere; the other browser is logged out
/// at once, and every end is in the audit log.
#[tokio::test]
async fn a_person_sees_their_sessions_and_ends_one_left_elsewhere() {
    let app = TestApp::spawn().await;
    users(&app).await;
    let here = Browser::new(&app);
    let there = Browser::new(&app);
    here.login("rita", "reviewer-passord-123").await;
    there.login("rita", "reviewer-passord-123").await;
    let page = here.get("/sessions?lang=en").await.text().await.unwrap();
    assert!(page.contains("(this browser)"), "{page}");
    let keys: Vec<String> = page
        .match_indices("/sessions/")
        .map(|(at, _)| page[at + 10..at + 26].to_owned())
        .filter(|k| k.chars().all(|c| c.is_ascii_hexdigit()))
        .collect();
    assert_eq!(keys.len(), 2, "two sessions, each with its end button: {page}");
    // The table is newest first: the other browser logged in last.
    let (other, mine) = (&keys[0], &keys[1]);
    let csrf = here.csrf("/sessions").await;
    assert_eq!(here.post(&format!("/sessions/{other}/end"), &[("csrf", "wrong")]).await.status().as_u16(), 403);
    let before = app.audit_entries().await;
    let res = here.post(&format!("/sessions/{other}/end?lang=en"), &[("csrf", &csrf)]).await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(app.audit_entries().await, before + 1, "the end is audited");
    let res = there.get("/review?lang=en").await;
    assert_eq!(res.status().as_u16(), 303, "the other browser is logged out");
    assert!(res.headers()["location"].to_str().unwrap().starts_with("/login"));
    assert_eq!(here.post(&format!("/sessions/{other}/end"), &[("csrf", &csrf)]).await.status().as_u16(), 404);
    // Ending this browser's own session is logging out.
    let res = here.post(&format!("/sessions/{mine}/end?lang=en"), &[("csrf", &csrf)]).await;
    assert_eq!(res.status().as_u16(), 303);
    assert!(res.headers()["location"].to_str().unwrap().starts_with("/login"));
    assert_eq!(here.get("/review").await.status().as_u16(), 303);
}

/// An admin ends every session of a user (a lost tablet): the user's browser is logged out at once, audited.
#[tokio::test]
async fn an_admin_ends_every_session_of_a_user() {
    let app = TestApp::spawn().await;
    users(&app).await;
    let h = varde_web::http::session::hash_password("admin-passord-1234");
    app.store.add_user("ada", &h, Role::Admin, None, "test", Timestamp::now()).await.unwrap();
    let tom = Browser::new(&app);
    tom.login("tom", "tekniker-passord-123").await;
    assert_eq!(tom.get("/staff?lang=en").await.status().as_u16(), 200);
    let admin = Browser::new(&app);
    admin.login("ada", "admin-passord-1234").await;
    let csrf = admin.csrf("/admin").await;
    assert_eq!(admin.post("/admin/users/tom/end-sessions", &[("csrf", "wrong")]).await.status().as_u16(), 403);
    let before = app.audit_entries().await;
    let res = admin.post("/admin/users/tom/end-sessions?lang=en", &[("csrf", &csrf)]).await;
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.text().await.unwrap().contains("Every session ended for"));
    assert_eq!(app.audit_entries().await, before + 1, "audited");
    assert_eq!(tom.get("/staff").await.status().as_u16(), 303, "tom's browser is logged out");
    // Only admins: a reviewer's form is refused.
    let rita = Browser::new(&app);
    rita.login("rita", "reviewer-passord-123").await;
    let csrf = rita.csrf("/review").await;
    assert_eq!(rita.post("/admin/users/tom/end-sessions", &[("csrf", &csrf)]).await.status().as_u16(), 403);
    let res = admin.post("/admin/users/nobody/end-sessions?lang=en", &[("csrf", &admin.csrf("/admin").await)]).await;
    assert_eq!(res.status().as_u16(), 404, "an unknown user");
}

/// The secret on the second factor's enrolment page (`data-secret`), if the page enrols.
fn enrolment_secret(page: &str) -> Option<String> {
    let at = page.find("data-secret=\"")? + 13;
    Some(page[at..at + page[at..].find('"')?].to_owned())
}

/// A reviewer (a role that needs a second factor) enrols at the first login: until then no page opens; a wrong code
/// and a replayed one are refused and audited; the app's code passes once per time step; a recovery code passes
/// once; a technician (not asked) logs in as before. On both backends.
#[tokio::test]
async fn a_reviewer_enrols_a_second_factor_and_is_asked_for_it_at_every_login() {
    use varde_http::second_factor::OneTimeCodes;
    let app =
        TestApp::spawn_with(varde::serve::AppOptions { second_factor_for: vec![Role::Reviewer], ..TestApp::options() })
            .await;
    users(&app).await;
    let b = Browser::new(&app);
    let before = app.audit_entries().await;
    let res = b.login("rita", "reviewer-passord-123").await;
    assert_eq!(res.status().as_u16(), 303);
    let second = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(second.starts_with("/login/second-factor?next=%2Fanalyst"), "{second}");
    // The password alone opens nothing.
    let res = b.get("/analyst").await;
    assert_eq!(res.status().as_u16(), 303);
    assert!(res.headers()["location"].to_str().unwrap().starts_with("/login/second-factor"));

    let page = b.get(&second).await.text().await.unwrap();
    let secret = enrolment_secret(&page).expect("an enrolment page with the key");
    assert!(page.contains("otpauth") || page.contains("<svg"), "a QR code of the otpauth address");
    let csrf = b.csrf(&second).await;
    let codes = OneTimeCodes::new(&secret, "Varde", "rita").unwrap();
    let now = Timestamp::now().as_second() as u64;
    // A code from another key is refused, the page keeps the same key, nothing is enrolled.
    let wrong = OneTimeCodes::new(&varde_http::second_factor::new_secret(), "Varde", "rita").unwrap().code_at(now);
    let res = b.post(&second, &[("csrf", &csrf), ("secret", &secret), ("code", &wrong)]).await;
    assert_eq!(res.status().as_u16(), 401);
    assert_eq!(enrolment_secret(&res.text().await.unwrap()).as_deref(), Some(secret.as_str()));
    assert_eq!(b.get("/analyst").await.status().as_u16(), 303, "still not in");
    // A forged form (no session's CSRF token) is refused.
    let res = b.post(&second, &[("csrf", &"0".repeat(64)), ("secret", &secret), ("code", &codes.code_at(now))]).await;
    assert_eq!(res.status().as_u16(), 403);

    let res = b.post(&second, &[("csrf", &csrf), ("secret", &secret), ("code", &codes.code_at(now))]).await;
    assert_eq!(res.status().as_u16(), 200);
    let page = res.text().await.unwrap();
    let recovery: Vec<String> = page
        .match_indices("<li><code>")
        .map(|(at, _)| page[at + 10..at + 10 + page[at + 10..].find('<').unwrap()].to_owned())
        .collect();
    assert_eq!(recovery.len(), 10, "{page}");
    // Audited: session.start, the wrong code (login.second_factor_failed), the enrolment, login.second_factor.
    assert_eq!(app.audit_entries().await, before + 4);
    assert_eq!(b.get("/analyst").await.status().as_u16(), 200, "in, after the second factor");

    // The next login asks for a code, not for enrolment; the code just used is not accepted again.
    let again = Browser::new(&app);
    let res = again.login("rita", "reviewer-passord-123").await;
    let second = res.headers()["location"].to_str().unwrap().to_owned();
    let page = again.get(&second).await.text().await.unwrap();
    assert!(enrolment_secret(&page).is_none() && page.contains("one-time-code"), "{page}");
    let csrf = again.csrf(&second).await;
    let res = again.post(&second, &[("csrf", &csrf), ("code", &codes.code_at(now))]).await;
    assert_eq!(res.status().as_u16(), 401, "a code is used once");
    // A recovery code, typed in capitals with a space, passes once.
    let typed = recovery[0].replace('-', " ").to_uppercase();
    let res = again.post(&second, &[("csrf", &csrf), ("code", &typed)]).await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(again.get("/analyst").await.status().as_u16(), 200);
    let third = Browser::new(&app);
    let res = third.login("rita", "reviewer-passord-123").await;
    let second = res.headers()["location"].to_str().unwrap().to_owned();
    let csrf = third.csrf(&second).await;
    assert_eq!(third.post(&second, &[("csrf", &csrf), ("code", &recovery[0])]).await.status().as_u16(), 401);
    // The app's code for the next time step (a phone a little ahead) passes.
    assert_eq!(
        third.post(&second, &[("csrf", &csrf), ("code", &codes.code_at(now + 30))]).await.status().as_u16(),
        303
    );

    // A wrong password for a known account is audited; a technician is not asked for a second factor.
    let before = app.audit_entries().await;
    assert_eq!(Browser::new(&app).login("rita", "not-the-password-1").await.status().as_u16(), 401);
    assert_eq!(app.audit_entries().await, before + 1, "login.failed");
    let tech = Browser::new(&app);
    let res = tech.login("tom", "tekniker-passord-123").await;
    assert_eq!(res.headers()["location"], "/analyst");

    // Phone and codes lost: an admin resets the second factor (`varde user reset-second-factor`), audited; the next
    // login enrols again, with a new key.
    let unknown = app.store.reset_second_factor("nobody", "cli", Timestamp::now()).await;
    assert!(matches!(unknown, Err(varde_store::StoreError::Invalid { code: varde_domain::ErrorCode::NotFound, .. })));
    let before = app.audit_entries().await;
    app.store.reset_second_factor("rita", "cli", Timestamp::now()).await.unwrap();
    assert_eq!(app.audit_entries().await, before + 1);
    let fresh = Browser::new(&app);
    let res = fresh.login("rita", "reviewer-passord-123").await;
    let page = fresh.get(res.headers()["location"].to_str().unwrap()).await.text().await.unwrap();
    let key = enrolment_secret(&page).expect("enrols again");
    assert_ne!(key, secret, "a new key");
}

/// API tokens: a read-only token reads and is refused anything else (403 read_only_token, nothing written); a token
/// past its expiry is 401 token_expired; the admin sees each token's access, expiry and last use; issuing is audited
/// with its scope and expiry. On both backends.
#[tokio::test]
async fn tokens_have_a_scope_an_expiry_and_a_last_use() {
    use varde_store::NewToken;
    let app = TestApp::spawn().await;
    let issue = |read_only: bool, expires: Option<Timestamp>| {
        let store = app.store.clone();
        async move {
            let secret = varde_web::http::tokens::generate(&mut rand::rng());
            let token = NewToken {
                hash: varde_web::http::tokens::hash(&secret),
                role: Role::Reviewer,
                service: None,
                label: None,
                read_only,
                expires,
            };
            store.add_token(token, "test", Timestamp::now()).await.unwrap();
            secret
        }
    };
    let in_a_month = Some(Timestamp::now() + jiff::SignedDuration::from_hours(24 * 30));
    let reader = issue(true, in_a_month).await;
    let (status, _) = app.get("/api/v1/signals", Some(&reader)).await;
    assert_eq!(status, 200, "a read-only token reads");
    let before = app.audit_entries().await;
    let (status, body) = app.post("/api/v1/alerts/1/publish", Some(&reader), &serde_json::json!({})).await;
    assert_eq!((status, body["error"].as_str()), (403, Some("read_only_token")), "{body}");
    let (status, body) = app.post("/api/v1/samples", Some(&reader), &crate::helpers::heroin_sample()).await;
    assert_eq!((status, body["error"].as_str()), (403, Some("read_only_token")), "{body}");
    assert_eq!(app.audit_entries().await, before, "nothing written");

    let expired = issue(false, Some(Timestamp::now() - jiff::SignedDuration::from_secs(1))).await;
    let (status, body) = app.get("/api/v1/signals", Some(&expired)).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("token_expired")), "{body}");

    let lines = app.store.queries().tokens().await.unwrap();
    let reader_line = lines.iter().find(|l| l.read_only).expect("the read-only token is listed");
    assert!(reader_line.last_used.is_some(), "its use is recorded");
    assert_eq!(reader_line.expires.map(|e| e.as_second() / 60), in_a_month.map(|e| e.as_second() / 60));
    assert!(lines.iter().filter(|l| !l.read_only && l.expires.is_some_and(|e| e < Timestamp::now())).count() == 1);

    // The admin page lists access, expiry and last use, and issues a read-only token that expires in 30 days.
    let h = varde_web::http::session::hash_password("admin-passord-1234");
    app.store.add_user("ada", &h, Role::Admin, None, "test", Timestamp::now()).await.unwrap();
    let b = Browser::new(&app);
    b.login("ada", "admin-passord-1234").await;
    let page = b.get("/admin?lang=en").await.text().await.unwrap();
    assert!(page.contains("Read only") && page.contains("Last used"), "{page}");
    let csrf = b.csrf("/admin").await;
    let form = [
        ("csrf", csrf.as_str()),
        ("role", "reviewer"),
        ("service", ""),
        ("label", "dashboard"),
        ("access", "read"),
        ("expires", "30"),
    ];
    let res = b.post("/admin/tokens?lang=en", &form).await;
    assert_eq!(res.status().as_u16(), 200);
    let issued = app
        .store
        .queries()
        .tokens()
        .await
        .unwrap()
        .into_iter()
        .find(|l| l.label.as_deref() == Some("dashboard"))
        .unwrap();
    assert!(issued.read_only);
    let days = issued.expires.unwrap().duration_since(issued.created).as_hours() / 24;
    assert_eq!(days, 30);
    let bad = [
        ("csrf", csrf.as_str()),
        ("role", "reviewer"),
        ("service", ""),
        ("label", "x"),
        ("access", "read"),
        ("expires", "9999"),
    ];
    assert_eq!(b.post("/admin/tokens?lang=en", &bad).await.status().as_u16(), 422);
}

/// A staff session not used for the idle time ends (audited as session.end "idle") and the page asks for the login.
#[tokio::test]
async fn an_idle_session_ends() {
    let app = TestApp::spawn_with(varde::serve::AppOptions {
        session_idle: Some(jiff::SignedDuration::from_millis(1500)),
        ..TestApp::options()
    })
    .await;
    users(&app).await;
    let b = Browser::new(&app);
    b.login("rita", "reviewer-passord-123").await;
    assert_eq!(b.get("/review").await.status().as_u16(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(1800)).await;
    let before = app.audit_entries().await;
    let res = b.get("/review").await;
    assert_eq!(res.status().as_u16(), 303);
    assert!(res.headers()["location"].to_str().unwrap().starts_with("/login"));
    assert_eq!(app.audit_entries().await, before + 1, "session.end (idle)");
    assert_eq!(b.get("/review").await.status().as_u16(), 303, "and it stays ended");
}

/// The passkey endpoints refuse what is not a ceremony this session started: no session, a forged form, an answer
/// with no challenge before it, a garbage answer (counted as a wrong code and audited), and, at an IP address,
/// passkeys at all. The ceremonies themselves run in Chromium with a virtual authenticator
/// (tests/browser/passkey.test.mjs).
#[tokio::test]
async fn passkey_answers_without_a_ceremony_or_with_a_forged_form_are_refused() {
    let app = TestApp::spawn().await;
    users(&app).await;
    let anonymous = Browser::new(&app);
    let res = anonymous
        .client
        .post(format!("{}/login/passkey", app.base))
        .json(&serde_json::json!({"csrf": "x", "credential": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.json::<serde_json::Value>().await.unwrap()["error"], "passkey_refused");

    // Tom (a technician, not asked for a second factor) is logged in; his session's CSRF token is on his pages.
    let tom = Browser::new(&app);
    tom.login("tom", "tekniker-passord-123").await;
    let csrf = tom.csrf("/sessions").await;
    let post = |path: &str, body: serde_json::Value| tom.client.post(format!("{}{path}", app.base)).json(&body).send();
    let res = post("/passkeys/start", serde_json::json!({"csrf": "forged"})).await.unwrap();
    assert_eq!(res.status(), 403, "a forged form");
    let res =
        post("/passkeys", serde_json::json!({"csrf": csrf, "name": "x", "credential": {"id": "AA"}})).await.unwrap();
    assert_eq!(res.status(), 401, "no ceremony was started");
    // The server is at 127.0.0.1: a passkey cannot be made for an IP address, and the page says so.
    let page = tom.get("/sessions?lang=en").await.text().await.unwrap();
    assert!(page.contains("only when Varde is reached at a host name") && !page.contains("passkey-add"), "{page}");
    let res = post("/passkeys/start", serde_json::json!({"csrf": csrf})).await.unwrap();
    assert_eq!(res.status(), 401);

    // A garbage answer at the login's step: refused, counted and audited as a failed second factor.
    let before = app.rows("SELECT action FROM audit_log WHERE action = 'login.second_factor_failed'").await.len();
    let res = post("/login/passkey", serde_json::json!({"csrf": csrf, "credential": {"id": "AA"}})).await.unwrap();
    assert_eq!(res.status(), 401);
    let after = app.rows("SELECT action FROM audit_log WHERE action = 'login.second_factor_failed'").await.len();
    assert_eq!(after, before + 1);
    assert_eq!(app.rows("SELECT CAST(count(*) AS TEXT) FROM passkeys").await, ["0"]);
}
