use crate::helpers::{TestApp, heroin_sample};
use serde_json::{Value, json};

#[tokio::test]
async fn registering_the_contract_example_answers_201_with_a_code_and_canonical_names() {
    let app = TestApp::spawn().await;
    let mut body = heroin_sample();
    body["sold_as"] = json!(["Heroin", "dop", "Blåmix-7"]);
    body["analyses"][0]["components"][1]["substance"] = json!("KOFFEIN");
    let (status, s) = app.post("/api/v1/samples", Some(&app.oslo), &body).await;
    assert_eq!(status, 201, "{s}");
    let code = s["code"].as_str().unwrap();
    assert_eq!(code.len(), 14);
    assert!(code.chars().all(|c| c == '-' || c.is_ascii_digit() || c.is_ascii_uppercase()));
    assert_eq!(s["status"], "screened");
    // The risk policy ran in the same request: the positive nitazene strip in "heroin" is severe, caffeine is info.
    assert_eq!(s["findings"][0]["rule"], "nitazene-strip-positive");
    assert_eq!(s["findings"][0]["tier"], "severe");
    assert_eq!(s["findings"][0]["policy_version"], "2026.1");
    assert!(s["findings"][0]["explanation"]["nn"].as_str().unwrap().contains("Nitazen"));
    assert_eq!(s["findings"][1]["rule"], "unexpected-ingredient");
    assert_eq!(s["alert_drafts"][0]["status"], "draft");
    assert_eq!(s["alert_drafts"][0]["tier"], "severe");
    assert_eq!(s["received_at"], "2026-11-20T13:05:00Z");
    // "Heroin" and the street name "dop" are the same substance; the unknown name is kept, not dropped.
    assert_eq!(
        s["sold_as"],
        json!([{"substance": "heroin", "known": true}, {"substance": "Blåmix-7", "known": false}])
    );
    assert_eq!(s["analyses"][0]["components"][1]["substance"], "caffeine");
    assert_eq!(s["analyses"][0]["components"][1]["amount"], json!({"value": 20.0, "unit": "percent"}));
    assert_eq!(s["analyses"][1]["result"], "positive");

    let (status, again) = app.get(&format!("/api/v1/samples/{code}"), Some(&app.oslo)).await;
    assert_eq!(status, 200);
    assert_eq!(again["sold_as"], s["sold_as"]);
    // Codes are read as people type them: lower case, no hyphens.
    let typed = code.replace('-', "").to_lowercase();
    assert_eq!(app.get(&format!("/api/v1/samples/{typed}"), Some(&app.oslo)).await.0, 200);
}

#[tokio::test]
async fn received_at_defaults_to_now() {
    let app = TestApp::spawn().await;
    let before = jiff::Timestamp::now();
    let (status, s) = app
        .post(
            "/api/v1/samples",
            Some(&app.oslo),
            &json!({"service": "oslo-brukerrom", "sold_as": [], "form": "crystal"}),
        )
        .await;
    assert_eq!(status, 201, "{s}");
    let at: jiff::Timestamp = s["received_at"].as_str().unwrap().parse().unwrap();
    assert!(at >= before - jiff::SignedDuration::from_millis(1) && at <= jiff::Timestamp::now());
    assert_eq!(s["status"], "received");
}

async fn refused(app: &TestApp, token: &str, body: Value, status: u16, code: &str, field: Option<&str>) {
    let before = app.count().await;
    let (got, e) = app.post("/api/v1/samples", Some(token), &body).await;
    assert_eq!((got, e["error"].as_str().unwrap_or("")), (status, code), "{e}");
    assert!(!e["message"].as_str().unwrap().is_empty());
    if let Some(f) = field {
        assert_eq!(e["field"], f, "{e}");
    }
    assert_eq!(app.count().await, before, "a refused request stores nothing");
}

#[tokio::test]
async fn bad_input_gets_a_stable_code_the_field_and_the_right_status() {
    let app = TestApp::spawn().await;
    let t = app.oslo.clone();
    let mut wrong_type = heroin_sample();
    wrong_type["analyses"][0]["components"][1]["amount"]["value"] = json!("twenty");
    refused(&app, &t, wrong_type, 400, "invalid_field", Some("analyses[0].components[1].amount.value")).await;
    let mut missing = heroin_sample();
    missing.as_object_mut().unwrap().remove("sold_as");
    refused(&app, &t, missing, 400, "invalid_field", Some("sold_as")).await;
    let mut typo = heroin_sample();
    typo["sold-as"] = json!(["x"]);
    refused(&app, &t, typo, 400, "unknown_field", Some("sold-as")).await;
    let mut bad_form = heroin_sample();
    bad_form["form"] = json!("pill");
    refused(&app, &t, bad_form, 400, "invalid_field", Some("form")).await;
    let mut unknown_service = heroin_sample();
    unknown_service["service"] = json!("nowhere");
    // A technician registers for its own service only; any other name, known or not, is refused the same way.
    refused(&app, &t, unknown_service, 403, "wrong_service", None).await;
    let mut mg_on_powder = heroin_sample();
    mg_on_powder["analyses"][0]["components"][1]["amount"] = json!({"value": 20, "unit": "mg"});
    refused(&app, &t, mg_on_powder, 422, "amount_unit_not_applicable", Some("analyses[0].components[1].amount.unit"))
        .await;
    let mut over = heroin_sample();
    over["analyses"][0]["components"][1]["amount"]["value"] = json!(120);
    refused(&app, &t, over, 422, "invalid_value", Some("analyses[0].components[1].amount.value")).await;
    let mut strip_without_result = heroin_sample();
    strip_without_result["analyses"][1] = json!({"method": "strip_fentanyl"});
    refused(&app, &t, strip_without_result, 422, "invalid_value", Some("analyses[1].result")).await;

    let before = app.count().await;
    let (status, e) =
        app.post_raw("/api/v1/samples", &t, "application/json", b"{\"service\": \"oslo-brukerrom\",".to_vec()).await;
    assert_eq!((status, e["error"].as_str().unwrap()), (400, "malformed_json"));
    let (status, e) = app.post_raw("/api/v1/samples", &t, "text/plain", b"{}".to_vec()).await;
    assert_eq!((status, e["error"].as_str().unwrap()), (415, "unsupported_media_type"));
    let mut huge = heroin_sample();
    huge["notes"] = json!("x".repeat(1 << 20));
    let (status, e) = app.post_raw("/api/v1/samples", &t, "application/json", serde_json::to_vec(&huge).unwrap()).await;
    assert_eq!((status, e["error"].as_str().unwrap()), (413, "payload_too_large"));
    assert_eq!(app.count().await, before);
}

#[tokio::test]
async fn personal_data_in_free_text_is_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let t = app.oslo.clone();
    for (field, value, path) in [
        ("notes", json!("eier 15076500565"), "notes"),
        ("notes", json!("ring 912 34 567 etterpå"), "notes"),
        ("colour", json!("ola@example.no"), "colour"),
        ("sold_as", json!(["heroin", "+47 41234567"]), "sold_as[1]"),
    ] {
        let mut body = heroin_sample();
        body[field] = value;
        refused(&app, &t, body, 422, "personal_data_refused", Some(path)).await;
    }
    let mut tablet = heroin_sample();
    tablet["form"] = json!("tablet");
    tablet["tablet"] = json!({"logo": "150765 00565"});
    refused(&app, &t, tablet, 422, "personal_data_refused", Some("tablet.logo")).await;
}

#[tokio::test]
async fn tokens_decide_who_may_write_and_read_what() {
    let app = TestApp::spawn().await;
    let (status, e) = app.post("/api/v1/samples", None, &heroin_sample()).await;
    assert_eq!((status, e["error"].as_str().unwrap()), (401, "missing_token"));
    let (status, e) = app.post("/api/v1/samples", Some("vrd_notarealtoken"), &heroin_sample()).await;
    assert_eq!((status, e["error"].as_str().unwrap()), (401, "invalid_token"));
    let before = app.count().await;
    let (status, e) = app.post("/api/v1/samples", Some(&app.bergen), &heroin_sample()).await;
    assert_eq!((status, e["error"].as_str().unwrap()), (403, "wrong_service"));
    assert_eq!(app.count().await, before);

    let (_, s) = app.post("/api/v1/samples", Some(&app.oslo), &heroin_sample()).await;
    let path = format!("/api/v1/samples/{}", s["code"].as_str().unwrap());
    assert_eq!(app.get(&path, None).await.0, 401);
    assert_eq!(app.get(&path, Some(&app.bergen)).await.0, 403);
    let entries = app.audit_entries().await;
    assert_eq!(app.get(&path, Some(&app.oslo)).await.0, 200);
    assert_eq!(
        app.audit_entries().await,
        entries,
        "a technician reading its own service's sample is not a national read"
    );
    assert_eq!(app.get(&path, Some(&app.reviewer)).await.0, 200);
    assert_eq!(app.get(&path, Some(&app.admin)).await.0, 200);
    assert_eq!(app.audit_entries().await, entries + 2, "national roles' sample reads are audited");
    // Least privilege: national roles read (audited) but register nothing, for no service.
    let mut bergen = heroin_sample();
    bergen["service"] = json!("bergen-brukerrom");
    for token in [&app.reviewer, &app.admin] {
        let (status, e) = app.post("/api/v1/samples", Some(token), &bergen).await;
        assert_eq!((status, e["error"].as_str().unwrap()), (403, "technician_only"));
    }
    assert_eq!(app.post("/api/v1/samples", Some(&app.bergen), &bergen).await.0, 201);
}

#[tokio::test]
async fn the_public_result_shows_what_the_person_may_see_and_nothing_else() {
    let app = TestApp::spawn().await;
    let mut body = heroin_sample();
    body["notes"] = json!("seemed nervous, came with a friend");
    let (_, s) = app.post("/api/v1/samples", Some(&app.oslo), &body).await;
    let code = s["code"].as_str().unwrap();
    let (status, r) = app.get(&format!("/api/v1/results/{code}?lang=en"), None).await;
    assert_eq!(status, 200, "{r}");
    let text = r.to_string();
    assert!(!text.contains("nervous"), "the technician's notes are never public");
    assert!(!text.contains("oslo-brukerrom"));
    assert_eq!(r["received_on"], "2026-11-20");
    assert_eq!(r["analyses"][0]["components"][1]["name"], "Caffeine");
    assert!(r["analyses"][1]["limits"].as_str().unwrap().contains("do not react to fentanyl"));
    assert!(
        r["advice"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["class"] == "opioid" && a["advice"].as_str().unwrap().contains("naloxone"))
    );
    let (_, nb) = app.get(&format!("/api/v1/results/{code}"), None).await;
    assert_eq!(nb["analyses"][0]["components"][1]["name"], "Koffein");

    // PMMA in an "MDMA" tablet: the finding says not to take more, and the entactogens' usual "wait two hours
    // before more" is not printed beside it.
    let mut pmma = heroin_sample();
    pmma["sold_as"] = json!(["mdma"]);
    pmma["form"] = json!("tablet");
    pmma["analyses"] = json!([{"method": "ftir", "components": [{"substance": "pmma", "role": "main"}]}]);
    let (status, p) = app.post("/api/v1/samples", Some(&app.oslo), &pmma).await;
    assert_eq!(status, 201, "{p}");
    let (_, r) = app.get(&format!("/api/v1/results/{}?lang=en", p["code"].as_str().unwrap()), None).await;
    let text = r.to_string();
    assert!(text.contains("Do not take more"), "{r}");
    assert!(
        !text.contains("before more") && !r["advice"].as_array().unwrap().iter().any(|a| a["class"] == "entactogen"),
        "{r}"
    );

    let (s1, unknown) = app.get("/api/v1/results/0000-0000-0000", None).await;
    let (s2, malformed) = app.get("/api/v1/results/not-a-code", None).await;
    assert_eq!((s1, s2), (404, 404));
    assert_eq!(unknown, malformed, "an unknown and a malformed code get the same answer");
}

#[tokio::test]
async fn analyses_can_be_added_and_amended_with_history_kept() {
    let app = TestApp::spawn().await;
    let (_, s) = app.post("/api/v1/samples", Some(&app.oslo), &heroin_sample()).await;
    let code = s["code"].as_str().unwrap();
    let path = format!("/api/v1/samples/{code}/analyses");
    let ftir_id = s["analyses"][0]["id"].as_i64().unwrap();
    let (status, s) = app
        .post(
            &path,
            Some(&app.oslo),
            &json!({"method": "gc_ms", "amends": ftir_id, "components": [
                {"substance": "heroin", "role": "main", "amount": {"value": 31.5, "unit": "percent"}},
                {"substance": "protonitazene", "role": "trace"}
            ]}),
        )
        .await;
    assert_eq!(status, 201, "{s}");
    assert_eq!(s["status"], "amended");
    assert_eq!(s["analyses"].as_array().unwrap().len(), 3);
    assert_eq!(s["analyses"][0]["superseded_by"], s["analyses"][2]["id"]);
    let (_, public) = app.get(&format!("/api/v1/results/{code}"), None).await;
    assert_eq!(public["amended"], true);
    assert_eq!(public["analyses"].as_array().unwrap().len(), 2, "the person sees the current analyses");

    let (status, e) = app.post(&path, Some(&app.oslo), &json!({"method": "ftir", "components": [{"substance": "heroin", "role": "main", "amount": {"value": 5, "unit": "ug"}}]})).await;
    assert_eq!(
        (status, e["error"].as_str().unwrap(), e["field"].as_str().unwrap()),
        (422, "amount_unit_not_applicable", "components[0].amount.unit")
    );
    let (status, e) =
        app.post(&path, Some(&app.oslo), &json!({"method": "ftir", "amends": 999_999, "components": []})).await;
    assert_eq!((status, e["error"].as_str().unwrap()), (422, "unknown_analysis"));
    assert_eq!(
        app.post(&path, Some(&app.bergen), &json!({"method": "strip_xylazine", "result": "negative"})).await.0,
        403
    );
    assert_eq!(
        app.post(
            "/api/v1/samples/0000-0000-0000/analyses",
            Some(&app.oslo),
            &json!({"method": "strip_xylazine", "result": "negative"})
        )
        .await
        .0,
        404
    );
    let (_, s) = app.get(&format!("/api/v1/samples/{code}"), Some(&app.oslo)).await;
    assert_eq!(s["analyses"].as_array().unwrap().len(), 3, "refused analyses store nothing");
}

#[tokio::test]
async fn reference_data_health_metrics_and_the_openapi_document() {
    let app = TestApp::spawn().await;
    let (status, r) = app.get("/api/v1/substances?q=koff", None).await;
    assert_eq!(status, 200);
    assert_eq!(r["substances"][0]["id"], "caffeine");
    assert_eq!(r["substances"][0]["names"]["nn"], "Koffein");
    let (_, r) = app.get("/api/v1/substances?q=%CE%B1-pvp&limit=1", None).await;
    assert_eq!(r["substances"][0]["id"], "alpha-pvp");
    let (_, services) = app.get("/api/v1/services", None).await;
    assert_eq!(services.as_array().unwrap().len(), 2);
    assert_eq!(services[1]["fylke"], "03");
    assert_eq!(
        app.get("/healthz", None).await,
        (200, json!({"status": "ok", "catalogue_version": r["catalogue_version"]}))
    );

    app.post("/api/v1/samples", Some(&app.oslo), &heroin_sample()).await;
    let (status, metrics) = app.get("/metrics", None).await;
    assert_eq!(status, 200);
    let metrics = metrics.as_str().unwrap().to_owned();
    assert!(metrics.contains("varde_samples_registered_total 1"), "{metrics}");
    assert!(metrics.contains("route=\"/api/v1/samples\""));
    assert!(
        !metrics.contains(r#"route="/api/v1/samples/"#) || metrics.contains("{code}"),
        "paths are recorded by template"
    );

    let (status, doc) = app.get("/openapi.json", None).await;
    assert_eq!(status, 200);
    for path in [
        "/api/v1/samples",
        "/api/v1/samples/{code}",
        "/api/v1/samples/{code}/analyses",
        "/api/v1/results/{code}",
        "/api/v1/substances",
        "/api/v1/services",
        "/healthz",
        "/metrics",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
    assert!(doc["components"]["schemas"]["SampleInput"].is_object());
    let (status, e) = app.get("/no/such/thing", None).await;
    assert_eq!((status, e["error"].as_str().unwrap()), (404, "not_found"));
}

/// The API look-up is guarded like the page: they share one limit per address and both take at least 150 ms.
#[tokio::test]
async fn the_result_api_shares_the_pages_limit_and_padding() {
    let app = TestApp::spawn().await;
    let (_, s) = app.post("/api/v1/samples", Some(&app.oslo), &heroin_sample()).await;
    let code = s["code"].as_str().unwrap().to_owned();
    for path in
        [format!("/api/v1/results/{code}"), "/api/v1/results/0000-0000-0000".into(), "/api/v1/results/%FF".into()]
    {
        let started = std::time::Instant::now();
        let (status, _) = app.get(&path, None).await;
        assert!(status == 200 || status == 404, "{path}: {status}");
        assert!(started.elapsed() >= std::time::Duration::from_millis(150), "{path} answered early");
    }
    // Two page look-ups use the rest of the address's five.
    for _ in 0..2 {
        assert_eq!(app.get_text(&format!("/result?code={code}")).await.0, 200);
    }
    let (status, e) = app.get(&format!("/api/v1/results/{code}"), None).await;
    assert_eq!((status, e["error"].as_str().unwrap()), (429, "too_many_requests"), "{e}");
    assert_eq!(app.get_text(&format!("/result?code={code}")).await.0, 429);
}

/// Behind a trusted reverse proxy each client has its own limit; forwarded headers from anyone else change nothing.
#[tokio::test]
async fn limits_key_on_the_forwarded_client_only_behind_a_trusted_proxy() {
    let look = |app: &TestApp, client: &str| {
        let req = app
            .client
            .get(format!("{}/api/v1/results/0000-0000-0000", app.base))
            .header("X-Forwarded-For", format!("{client}, 127.0.0.1"));
        async move { req.send().await.unwrap().status().as_u16() }
    };
    let untrusted = TestApp::spawn().await;
    let got: Vec<u16> = futures_join((0..6).map(|i| look(&untrusted, &format!("203.0.113.{i}")))).await;
    assert_eq!(got.iter().filter(|s| **s == 429).count(), 1, "{got:?}: one address, one limit");

    let behind_proxy = TestApp::spawn_with_proxies(vec!["127.0.0.0/8".parse().unwrap()]).await;
    let got: Vec<u16> = futures_join((0..6).map(|i| look(&behind_proxy, &format!("203.0.113.{i}")))).await;
    assert!(got.iter().all(|s| *s == 404), "{got:?}: six clients, each within its limit");
    let got: Vec<u16> = futures_join((0..6).map(|_| look(&behind_proxy, "198.51.100.7"))).await;
    assert_eq!(got.iter().filter(|s| **s == 429).count(), 1, "{got:?}: one client behind the proxy, one limit");
}

async fn futures_join<F: std::future::Future<Output = u16>>(futures: impl Iterator<Item = F>) -> Vec<u16> {
    let mut out = Vec::new();
    for f in futures {
        out.push(f.await);
    }
    out
}

/// Path and query errors answer in the one JSON error shape, with a stable code and no parser or overflow text.
#[tokio::test]
async fn path_and_query_errors_use_the_error_contract() {
    let app = TestApp::spawn().await;
    let (_, s) = app.post("/api/v1/samples", Some(&app.oslo), &heroin_sample()).await;
    let draft = s["alert_drafts"][0]["id"].as_i64().unwrap();
    let r = Some(app.reviewer.as_str());
    let cases: Vec<(&str, String, Option<&str>, u16, &str)> = vec![
        ("get", "/api/v1/alerts/k/edas".into(), r, 404, "not_found"),
        ("get", "/api/v1/alerts/99999999999999999999".into(), None, 404, "not_found"),
        ("get", "/api/v1/alerts/424242".into(), None, 404, "alert_not_found"),
        ("get", "/api/v1/alerts?limit=-1".into(), None, 400, "invalid_field"),
        ("get", "/api/v1/alerts?tier=loud".into(), None, 400, "invalid_field"),
        ("get", "/api/v1/events?after=x".into(), None, 400, "invalid_field"),
        ("get", "/api/v1/samples/%FF%FE".into(), Some(app.oslo.as_str()), 404, "not_found"),
        ("get", "/api/v1/samples/zzzz".into(), Some(app.oslo.as_str()), 404, "sample_not_found"),
        ("get", "/api/v1/signals/x".into(), r, 404, "not_found"),
        ("post", format!("/api/v1/alerts/{draft}x/publish"), r, 404, "not_found"),
        ("delete", "/api/v1/samples".into(), None, 405, "method_not_allowed"),
    ];
    for (method, path, token, status, code) in cases {
        let mut req = app.client.request(method.to_uppercase().parse().unwrap(), format!("{}{path}", app.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.unwrap();
        let got = res.status().as_u16();
        let ct = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        let text = res.text().await.unwrap();
        assert!(ct.starts_with("application/json"), "{method} {path}: {ct} {text}");
        let e: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!((got, e["error"].as_str().unwrap()), (status, code), "{method} {path}: {text}");
        let message = e["message"].as_str().unwrap();
        for leak in ["invalid digit", "Failed to deserialize", "overflow", "ParseIntError", "Utf8"] {
            assert!(!message.contains(leak), "{method} {path}: {message}");
        }
    }
    // A far-future date is a clear error, not an overflow.
    let mut far = heroin_sample();
    far["received_at"] = json!("9999-12-31T23:59:59Z");
    let (status, e) = app.post("/api/v1/samples", Some(&app.oslo), &far).await;
    assert_eq!(
        (status, e["error"].as_str().unwrap(), e["field"].as_str().unwrap()),
        (400, "invalid_field", "received_at"),
        "{e}"
    );
    assert!(!e["message"].as_str().unwrap().contains("overflow"), "{e}");
    let (status, e) = app
        .client
        .patch(format!("{}/api/v1/alerts/{draft}", app.base))
        .bearer_auth(&app.reviewer)
        .json(&json!({"valid_until": "9999-12-31T23:59:59Z"}))
        .send()
        .await
        .map(|r| (r.status().as_u16(), r))
        .unwrap();
    let e: serde_json::Value = e.json().await.unwrap();
    assert_eq!(
        (status, e["error"].as_str().unwrap(), e["field"].as_str().unwrap()),
        (400, "invalid_field", "valid_until")
    );
    assert!(!e.to_string().contains("overflow"), "{e}");
}
