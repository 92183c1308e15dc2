//! The authorization matrix: every route, for anonymous visitors and every role. A route missing from the matrix
//! fails the test (the API's routes are read from the OpenAPI document).

use crate::helpers::{TestApp, heroin_sample};
use jiff::Timestamp;
use serde_json::{Value, json};
use varde_domain::auth::Role;
use varde_domain::service::ServiceSlug;

/// What a caller gets: allowed (anything but 401, 403 and a redirect to the login), or refused one of those ways.
#[derive(Clone, Copy, Debug, PartialEq)]
enum E {
    Ok,
    Unauthenticated,
    Forbidden,
    ToLogin,
}
use E::*;

/// One API row: method, path as in OpenAPI, concrete path, body, and what each caller gets.
type Row = (&'static str, &'static str, String, Option<Value>, [E; 5]);

/// The callers, in this order: anonymous, technician of the sample's service, technician of another, reviewer, admin.
const CALLERS: [&str; 5] = ["anonymous", "technician (own)", "technician (other)", "reviewer", "admin"];

fn outcome(status: u16, location: Option<&str>) -> E {
    match status {
        401 => Unauthenticated,
        403 => Forbidden,
        303 if location.is_some_and(|l| l.starts_with("/login")) => ToLogin,
        _ => Ok,
    }
}

#[tokio::test]
async fn every_route_for_every_role() {
    let app = TestApp::spawn().await;
    let (_, s) = app.post("/api/v1/samples", Some(&app.oslo), &heroin_sample()).await;
    let code = s["code"].as_str().unwrap().to_owned();
    let draft = s["alert_drafts"][0]["id"].as_i64().unwrap();
    let tokens =
        [None, Some(app.oslo.clone()), Some(app.bergen.clone()), Some(app.reviewer.clone()), Some(app.admin.clone())];
    let day = json!({"service": "oslo-brukerrom", "day": "2026-11-20", "visits": 10, "overdoses": 0, "naloxone": 0, "referrals": 0});
    let analysis = json!({"method": "strip_xylazine", "result": "negative"});

    // (method, path as in OpenAPI, concrete path, body, expected per caller). State-changing alert routes come last,
    // and their allowed caller (the reviewer) last within the row, so the refusals are tested against a live draft.
    let api: Vec<Row> = vec![
        (
            "post",
            "/api/v1/samples",
            "/api/v1/samples".into(),
            Some(heroin_sample()),
            [Unauthenticated, Ok, Forbidden, Forbidden, Forbidden],
        ),
        (
            "get",
            "/api/v1/samples/{code}",
            format!("/api/v1/samples/{code}"),
            None,
            [Unauthenticated, Ok, Forbidden, Ok, Ok],
        ),
        (
            "post",
            "/api/v1/samples/{code}/analyses",
            format!("/api/v1/samples/{code}/analyses"),
            Some(analysis),
            [Unauthenticated, Ok, Forbidden, Forbidden, Forbidden],
        ),
        (
            "post",
            "/api/v1/samples/{code}/analyses/{analysis}/spectra",
            format!("/api/v1/samples/{code}/analyses/1/spectra?format=csv"),
            Some(json!({})),
            [Unauthenticated, Ok, Forbidden, Forbidden, Forbidden],
        ),
        (
            "get",
            "/api/v1/samples/{code}/spectra",
            format!("/api/v1/samples/{code}/spectra"),
            None,
            [Unauthenticated, Ok, Forbidden, Ok, Ok],
        ),
        (
            "post",
            "/api/v1/reference-spectra",
            "/api/v1/reference-spectra?substance=caffeine&technique=mass&format=msp&source=test".into(),
            Some(json!({})),
            [Unauthenticated, Forbidden, Forbidden, Forbidden, Ok],
        ),
        (
            "get",
            "/api/v1/reference-spectra",
            "/api/v1/reference-spectra".into(),
            None,
            [Unauthenticated, Ok, Ok, Ok, Ok],
        ),
        ("get", "/api/v1/results/{code}", format!("/api/v1/results/{code}"), None, [Ok, Ok, Ok, Ok, Ok]),
        ("get", "/api/v1/substances", "/api/v1/substances".into(), None, [Ok, Ok, Ok, Ok, Ok]),
        ("get", "/api/v1/services", "/api/v1/services".into(), None, [Ok, Ok, Ok, Ok, Ok]),
        ("get", "/healthz", "/healthz".into(), None, [Ok, Ok, Ok, Ok, Ok]),
        ("get", "/metrics", "/metrics".into(), None, [Ok, Ok, Ok, Ok, Ok]),
        (
            "get",
            "/api/v1/alerts",
            "/api/v1/alerts?status=draft".into(),
            None,
            [Unauthenticated, Forbidden, Forbidden, Ok, Ok],
        ),
        ("get", "/api/v1/alerts/{id}", format!("/api/v1/alerts/{draft}"), None, [Ok, Ok, Ok, Ok, Ok]),
        ("get", "/api/v1/alerts/{id}/versions", format!("/api/v1/alerts/{draft}/versions"), None, [Ok, Ok, Ok, Ok, Ok]),
        (
            "get",
            "/api/v1/alerts/{id}/evidence",
            format!("/api/v1/alerts/{draft}/evidence"),
            None,
            [Unauthenticated, Forbidden, Forbidden, Ok, Ok],
        ),
        (
            "get",
            "/api/v1/alerts/{id}/edas",
            format!("/api/v1/alerts/{draft}/edas"),
            None,
            [Unauthenticated, Forbidden, Forbidden, Ok, Ok],
        ),
        ("get", "/api/v1/signals", "/api/v1/signals".into(), None, [Unauthenticated, Forbidden, Forbidden, Ok, Ok]),
        (
            "post",
            "/api/v1/signals/{id}/draft",
            "/api/v1/signals/999/draft".into(),
            None,
            [Unauthenticated, Forbidden, Forbidden, Ok, Forbidden],
        ),
        (
            "post",
            "/api/v1/webhooks",
            "/api/v1/webhooks".into(),
            Some(json!({"url": "http://127.0.0.1:9/hook"})),
            [Unauthenticated, Forbidden, Forbidden, Forbidden, Ok],
        ),
        (
            "get",
            "/api/v1/webhooks",
            "/api/v1/webhooks".into(),
            None,
            [Unauthenticated, Forbidden, Forbidden, Forbidden, Ok],
        ),
        (
            "post",
            "/api/v1/sign-in-rules",
            "/api/v1/sign-in-rules".into(),
            Some(json!({"issuer": "helseid", "claim": "groups", "value": "varde", "role": "reviewer"})),
            [Unauthenticated, Forbidden, Forbidden, Forbidden, Ok],
        ),
        (
            "get",
            "/api/v1/sign-in-rules",
            "/api/v1/sign-in-rules".into(),
            None,
            [Unauthenticated, Forbidden, Forbidden, Forbidden, Ok],
        ),
        (
            "delete",
            "/api/v1/sign-in-rules/{id}",
            "/api/v1/sign-in-rules/999".into(),
            None,
            [Unauthenticated, Forbidden, Forbidden, Forbidden, Ok],
        ),
        (
            "post",
            "/api/v1/user-room-days",
            "/api/v1/user-room-days".into(),
            Some(day.clone()),
            [Unauthenticated, Ok, Forbidden, Forbidden, Forbidden],
        ),
        ("get", "/api/v1/user-room-days", "/api/v1/user-room-days".into(), None, [Unauthenticated, Ok, Ok, Ok, Ok]),
        ("get", "/api/v1/stats/time-to-warning", "/api/v1/stats/time-to-warning".into(), None, [Ok, Ok, Ok, Ok, Ok]),
        ("get", "/api/v1/stats/deaths", "/api/v1/stats/deaths".into(), None, [Ok, Ok, Ok, Ok, Ok]),
        (
            "put",
            "/api/v1/samples/{code}/intention",
            format!("/api/v1/samples/{code}/intention"),
            Some(json!({"intention": "not_use"})),
            [Unauthenticated, Ok, Forbidden, Forbidden, Forbidden],
        ),
        (
            "post",
            "/api/v1/results/{code}/outcome",
            format!("/api/v1/results/{code}/outcome"),
            Some(json!({"used": false})),
            [Ok, Ok, Ok, Ok, Ok],
        ),
        // Subscriptions need no account: a link's token, not a role, opens a subscriber's data (404 without it).
        (
            "post",
            "/api/v1/subscriptions",
            "/api/v1/subscriptions".into(),
            Some(json!({"channel": "email", "address": "kari@example.no"})),
            [Ok, Ok, Ok, Ok, Ok],
        ),
        (
            "post",
            "/api/v1/subscriptions/{id}/confirm",
            "/api/v1/subscriptions/1/confirm".into(),
            Some(json!({"token": "x"})),
            [Ok, Ok, Ok, Ok, Ok],
        ),
        ("get", "/api/v1/subscriptions/{id}", "/api/v1/subscriptions/1?token=x".into(), None, [Ok, Ok, Ok, Ok, Ok]),
        ("delete", "/api/v1/subscriptions/{id}", "/api/v1/subscriptions/1?token=x".into(), None, [Ok, Ok, Ok, Ok, Ok]),
        (
            "patch",
            "/api/v1/alerts/{id}",
            format!("/api/v1/alerts/{draft}"),
            Some(json!({})),
            [Unauthenticated, Forbidden, Forbidden, Ok, Forbidden],
        ),
        (
            "post",
            "/api/v1/alerts/{id}/publish",
            format!("/api/v1/alerts/{draft}/publish"),
            Some(json!({})),
            [Unauthenticated, Forbidden, Forbidden, Ok, Forbidden],
        ),
        (
            "post",
            "/api/v1/alerts/{id}/update",
            format!("/api/v1/alerts/{draft}/update"),
            Some(json!({})),
            [Unauthenticated, Forbidden, Forbidden, Ok, Forbidden],
        ),
        (
            "post",
            "/api/v1/alerts/{id}/withdraw",
            format!("/api/v1/alerts/{draft}/withdraw"),
            Some(json!({})),
            [Unauthenticated, Forbidden, Forbidden, Ok, Forbidden],
        ),
        (
            "get",
            "/api/v1/alerts/{id}/coverage",
            format!("/api/v1/alerts/{draft}/coverage"),
            None,
            [Unauthenticated, Forbidden, Forbidden, Ok, Ok],
        ),
        (
            "post",
            "/api/v1/alerts/{id}/acknowledgements",
            format!("/api/v1/alerts/{draft}/acknowledgements"),
            Some(json!({})),
            [Unauthenticated, Ok, Ok, Forbidden, Forbidden],
        ),
        (
            "delete",
            "/api/v1/alerts/{id}/acknowledgements",
            format!("/api/v1/alerts/{draft}/acknowledgements"),
            None,
            [Unauthenticated, Ok, Ok, Forbidden, Forbidden],
        ),
        (
            "post",
            "/api/v1/alerts/{id}/photo",
            format!("/api/v1/alerts/{draft}/photo"),
            Some(json!({"sample": code})),
            [Unauthenticated, Forbidden, Forbidden, Ok, Forbidden],
        ),
        (
            "post",
            "/api/v1/alerts/{id}/reconfirm",
            format!("/api/v1/alerts/{draft}/reconfirm"),
            Some(json!({})),
            [Unauthenticated, Forbidden, Forbidden, Ok, Forbidden],
        ),
        (
            "post",
            "/api/v1/alerts/{id}/merge",
            format!("/api/v1/alerts/{draft}/merge"),
            Some(json!({"into": draft})),
            [Unauthenticated, Forbidden, Forbidden, Ok, Forbidden],
        ),
        (
            "post",
            "/api/v1/alerts/{id}/discard",
            format!("/api/v1/alerts/{draft}/discard"),
            Some(json!({})),
            [Unauthenticated, Forbidden, Forbidden, Ok, Forbidden],
        ),
    ];

    // Every operation in the OpenAPI document has a row (the event stream is checked below: it never ends).
    let (_, doc) = app.get("/openapi.json", None).await;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            let covered = api.iter().any(|(m, p, ..)| m == method && p == path) || path == "/api/v1/events";
            assert!(covered, "{method} {path} has no row in the authorization matrix");
        }
    }

    let order = [0usize, 1, 2, 4, 3]; // the reviewer last, so allowed state changes come after the refusals
    for (method, _, path, body, expected) in &api {
        for &who in &order {
            let url = format!("{}{path}", app.base);
            let mut req = match *method {
                "get" => app.client.get(&url),
                "post" => app.client.post(&url),
                "delete" => app.client.delete(&url),
                "put" => app.client.put(&url),
                _ => app.client.patch(&url),
            };
            if let Some(b) = body {
                req = req.json(b);
            }
            if let Some(t) = &tokens[who] {
                req = req.bearer_auth(t);
            }
            let res = req.send().await.unwrap();
            let got = outcome(res.status().as_u16(), None);
            assert_eq!(got, expected[who], "{method} {path} as {}: HTTP {}", CALLERS[who], res.status());
        }
    }
    // Least privilege: national roles read samples but register nothing, and are told why.
    for token in [&app.reviewer, &app.admin] {
        for (path, body) in [
            ("/api/v1/samples".to_owned(), heroin_sample()),
            (format!("/api/v1/samples/{code}/analyses"), json!({"method": "strip_xylazine", "result": "negative"})),
            ("/api/v1/user-room-days".to_owned(), day.clone()),
        ] {
            let (status, e) = app.post(&path, Some(token), &body).await;
            assert_eq!((status, e["error"].as_str().unwrap()), (403, "technician_only"), "{path}");
        }
    }
    // The event stream opens for anyone (staff get more events: see the alert tests).
    let res = app.client.get(format!("{}/api/v1/events", app.base)).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);

    // Pages, by session.
    let h = varde_web::http::session::hash_password("passord-for-test-1");
    let users = [
        None,
        Some(("tech-oslo", Role::Technician, Some("oslo-brukerrom"))),
        Some(("tech-bergen", Role::Technician, Some("bergen-brukerrom"))),
        Some(("rev", Role::Reviewer, None)),
        Some(("adm", Role::Admin, None)),
    ];
    let mut clients = Vec::new();
    for u in &users {
        let client =
            reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_store(true).build().unwrap();
        if let Some((name, role, service)) = u {
            app.store
                .add_user(name, &h, *role, service.map(|s| ServiceSlug::parse(s).unwrap()), "test", Timestamp::now())
                .await
                .unwrap();
            let page = client.get(format!("{}/login", app.base)).send().await.unwrap().text().await.unwrap();
            let at = page.find("name=\"csrf\" value=\"").unwrap() + 19;
            let csrf = page[at..at + 64].to_owned();
            let res = client
                .post(format!("{}/login", app.base))
                .form(&[("username", *name), ("password", "passord-for-test-1"), ("csrf", csrf.as_str())])
                .send()
                .await
                .unwrap();
            assert_eq!(res.status().as_u16(), 303, "{name} logs in");
            // A plain login goes to the role's own start page.
            let start = match role {
                Role::Technician => "/staff",
                Role::Reviewer => "/review",
                Role::Admin => "/admin",
            };
            assert_eq!(res.headers()["location"].to_str().unwrap(), start, "{name}");
        }
        clients.push(client);
    }
    let pages: Vec<(String, [E; 5])> = vec![
        ("/".into(), [Ok, Ok, Ok, Ok, Ok]),
        ("/alerts".into(), [Ok, Ok, Ok, Ok, Ok]),
        ("/alerts.atom".into(), [Ok, Ok, Ok, Ok, Ok]),
        ("/dashboard".into(), [Ok, Ok, Ok, Ok, Ok]),
        ("/open-data".into(), [Ok, Ok, Ok, Ok, Ok]),
        ("/open-data/samples.csv".into(), [Ok, Ok, Ok, Ok, Ok]),
        ("/concern".into(), [Ok, Ok, Ok, Ok, Ok]),
        ("/result".into(), [Ok, Ok, Ok, Ok, Ok]),
        ("/substances".into(), [Ok, Ok, Ok, Ok, Ok]),
        ("/substances/protonitazene".into(), [Ok, Ok, Ok, Ok, Ok]),
        ("/login".into(), [Ok, Ok, Ok, Ok, Ok]),
        ("/staff".into(), [ToLogin, Ok, Ok, Forbidden, Forbidden]),
        (format!("/staff/samples/{code}"), [ToLogin, Ok, Ok, Forbidden, Forbidden]),
        ("/review".into(), [ToLogin, Forbidden, Forbidden, Ok, Forbidden]),
        (format!("/review/{draft}"), [ToLogin, Forbidden, Forbidden, Ok, Forbidden]),
        ("/analyst".into(), [ToLogin, Forbidden, Forbidden, Ok, Ok]),
        ("/admin".into(), [ToLogin, Forbidden, Forbidden, Forbidden, Ok]),
    ];
    for (path, expected) in &pages {
        for (who, client) in clients.iter().enumerate() {
            let res = client.get(format!("{}{path}", app.base)).send().await.unwrap();
            let location = res.headers().get("location").map(|l| l.to_str().unwrap().to_owned());
            let got = outcome(res.status().as_u16(), location.as_deref());
            assert_eq!(got, expected[who], "GET {path} as {}: HTTP {}", CALLERS[who], res.status());
        }
    }
    // Another service's sample page does not exist for a technician (not even as "forbidden").
    let res = clients[2].get(format!("{}/staff/samples/{code}", app.base)).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 404);
}
