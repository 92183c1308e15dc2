//! Spectra in the product: admins build the reference library, technicians attach instrument files to
//! analyses and get proposals to confirm.

use crate::helpers::TestApp;
use serde_json::{Value, json};
use std::path::PathBuf;

fn shared(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../varde-spectra/tests/data").join(relative)
}

/// The MassBank records (as MSP text) whose NAME is `name`, in file order.
fn massbank(name: &str) -> Vec<String> {
    let text = std::fs::read_to_string(shared("ei/massbank_ei.msp")).unwrap();
    text.split("\n\n")
        .filter(|r| r.lines().next().is_some_and(|l| l.eq_ignore_ascii_case(&format!("NAME: {name}"))))
        .map(|r| format!("{}\n", r.trim()))
        .collect()
}

async fn add_reference(app: &TestApp, query: &str, body: Vec<u8>) -> (u16, Value) {
    app.post_raw(&format!("/api/v1/reference-spectra?{query}"), &app.admin, "application/octet-stream", body).await
}

async fn sample_with(app: &TestApp, method: &str) -> (String, i64) {
    let body = json!({
        "service": "oslo-brukerrom",
        "sold_as": ["cocaine"],
        "form": "powder",
        "analyses": [{"method": method, "components": []}]
    });
    let (status, s) = app.post("/api/v1/samples", Some(&app.oslo), &body).await;
    assert_eq!(status, 201, "{s}");
    (s["code"].as_str().unwrap().to_owned(), s["analyses"][0]["id"].as_i64().unwrap())
}

#[tokio::test]
async fn a_gc_ms_spectrum_gets_library_matches_from_the_reference_library() {
    let app = TestApp::spawn().await;
    for (name, substance) in
        [("COCAINE", "cocaine"), ("CAFFEINE", "caffeine"), ("DIAZEPAM", "diazepam"), ("BENZOCAINE", "benzocaine")]
    {
        let record = massbank(name).into_iter().next().unwrap_or_else(|| panic!("{name} in MassBank"));
        let (status, body) = add_reference(
            &app,
            &format!("substance={substance}&technique=mass&format=msp&source=MassBank%20(CC%20BY-NC-SA)"),
            record.into_bytes(),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["substance"], substance);
    }
    let (status, list) = app.get("/api/v1/reference-spectra", Some(&app.oslo)).await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 4);

    let (code, analysis) = sample_with(&app, "gc_ms").await;
    // Another laboratory's cocaine spectrum (MassBank has several): the library's cocaine comes first.
    let query = massbank("Cocaine")
        .into_iter()
        .chain(massbank("COCAINE").into_iter().skip(1))
        .next()
        .expect("a second cocaine spectrum");
    let path = format!("/api/v1/samples/{code}/analyses/{analysis}/spectra?format=msp&filename=run-17.msp");
    let (status, attached) = app.post_raw(&path, &app.oslo, "application/octet-stream", query.into_bytes()).await;
    assert_eq!(status, 201, "{attached}");
    assert_eq!(attached["technique"], "mass");
    assert_eq!(attached["proposals"]["matches"][0]["substance"], "cocaine", "{attached}");
    assert!(attached["proposals"]["matches"][0]["score"].as_f64().unwrap() > 0.5);

    let (status, listed) = app.get(&format!("/api/v1/samples/{code}/spectra"), Some(&app.oslo)).await;
    assert_eq!(status, 200);
    assert_eq!(listed[0]["filename"], "run-17.msp");
    assert_eq!(listed[0]["proposals"], attached["proposals"]);
    let (status, _) = app.get(&format!("/api/v1/samples/{code}/spectra"), Some(&app.bergen)).await;
    assert_eq!(status, 403);
}

/// Instances that share a database search one library: a spectrum added through one is in the next search on the
/// other, whose engine was built before it came.
#[tokio::test]
async fn a_reference_added_on_one_instance_is_searched_on_another() {
    let app = TestApp::spawn().await;
    let other = app.beside().await;
    let add = |name: &str, substance: &str| {
        let record = massbank(name).into_iter().next().unwrap();
        let query = format!("substance={substance}&technique=mass&format=msp&source=MassBank%20(CC%20BY-NC-SA)");
        let app = &app;
        async move { assert_eq!(add_reference(app, &query, record.into_bytes()).await.0, 201) }
    };
    let search_on_other = |name: &str| {
        let query = massbank(name).into_iter().nth(1).unwrap_or_else(|| massbank(name).remove(0));
        let app = &app;
        let other = other.clone();
        async move {
            let (code, analysis) = sample_with(app, "gc_ms").await;
            let url = format!("{other}/api/v1/samples/{code}/analyses/{analysis}/spectra?format=msp&filename=q.msp");
            let res = app.client.post(url).bearer_auth(&app.oslo).body(query.into_bytes()).send().await.unwrap();
            assert_eq!(res.status(), 201);
            let attached: Value = res.json().await.unwrap();
            attached["proposals"]["matches"][0]["substance"].as_str().unwrap_or_default().to_owned()
        }
    };
    add("COCAINE", "cocaine").await;
    assert_eq!(search_on_other("COCAINE").await, "cocaine");
    add("CAFFEINE", "caffeine").await;
    assert_eq!(search_on_other("CAFFEINE").await, "caffeine", "the other instance's engine knows the new spectrum");
}

#[tokio::test]
async fn an_ftir_spectrum_is_taken_apart_into_library_components() {
    let app = TestApp::spawn().await;
    // The shared corpus has no infrared spectra of drugs; real NIST gas-phase spectra stand in for three
    // catalogue substances so that the whole path runs on real instrument files.
    for (file, substance) in
        [("toluene.jdx", "caffeine"), ("acetone.jdx", "paracetamol"), ("methanol.jdx", "benzocaine")]
    {
        let bytes = std::fs::read(shared(&format!("jcamp/infrared_spectra/{file}"))).unwrap();
        let (status, body) = add_reference(
            &app,
            &format!("substance={substance}&technique=infrared&format=jcamp&source=NIST%20WebBook%20{file}"),
            bytes,
        )
        .await;
        assert_eq!(status, 201, "{body}");
    }
    let (code, analysis) = sample_with(&app, "ftir").await;
    let bytes = std::fs::read(shared("jcamp/infrared_spectra/acetone.jdx")).unwrap();
    let path = format!("/api/v1/samples/{code}/analyses/{analysis}/spectra?format=jcamp");
    let (status, attached) = app.post_raw(&path, &app.oslo, "application/octet-stream", bytes).await;
    assert_eq!(status, 201, "{attached}");
    let proposals = &attached["proposals"];
    assert_eq!(proposals["components"][0]["substance"], "paracetamol", "{proposals}");
    assert!(proposals["components"][0]["fraction"].as_f64().unwrap() > 0.9, "{proposals}");
    assert_eq!(proposals["matches"][0]["substance"], "paracetamol");

    // A two-column export of a mixture: 70 % of one reference, 30 % of another, as absorbance.
    let toluene =
        varde_spectra::jcamp::parse(&std::fs::read(shared("jcamp/infrared_spectra/toluene.jdx")).unwrap()).unwrap();
    let methanol =
        varde_spectra::jcamp::parse(&std::fs::read(shared("jcamp/infrared_spectra/methanol.jdx")).unwrap()).unwrap();
    let grid = varde_spectra::ir::Grid::STANDARD;
    let absorbance = |b: &varde_spectra::jcamp::Block| {
        let t = &b.tables[0];
        let a = varde_spectra::ir::to_absorbance(&t.y, varde_spectra::ir::Ordinate::from_units(b.y_units()));
        let on_grid = varde_spectra::ir::resample(&t.x, &a, &grid, 0.0);
        let area: f64 = on_grid.iter().map(|v| v.max(0.0)).sum();
        on_grid.into_iter().map(move |v| v / area).collect::<Vec<f64>>()
    };
    let (a, b) = (absorbance(&toluene[0]), absorbance(&methanol[0]));
    let csv: String = (0..grid.len).map(|i| format!("{},{}\n", grid.x(i), 0.7 * a[i] + 0.3 * b[i])).collect();
    let (status, attached) = app.post_raw(&path.replace("jcamp", "csv"), &app.oslo, "text/csv", csv.into_bytes()).await;
    assert_eq!(status, 201, "{attached}");
    let mut found: Vec<&str> = attached["proposals"]["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["substance"].as_str().unwrap())
        .collect();
    // Shares are of baseline-corrected absorbance, which this raw mixture does not match exactly: the
    // components, not their order, are what must hold.
    found.sort_unstable();
    assert_eq!(found, vec!["benzocaine", "caffeine"], "{attached}");
}

#[tokio::test]
async fn bad_files_and_wrong_callers_are_refused_with_reasons() {
    let app = TestApp::spawn().await;
    let (code, analysis) = sample_with(&app, "ftir").await;
    let path = format!("/api/v1/samples/{code}/analyses/{analysis}/spectra?format=jcamp");
    let (status, body) = app
        .post_raw(&path, &app.oslo, "application/octet-stream", b"##TITLE=x\n##XYDATA=(X++(Y..Y))\n1 J5\n".to_vec())
        .await;
    assert_eq!((status, body["error"].as_str()), (422, Some("unreadable_spectrum")), "{body}");
    let (status, body) = app.post_raw(&path, &app.oslo, "application/octet-stream", b"not a spectrum".to_vec()).await;
    assert_eq!((status, body["error"].as_str()), (422, Some("unreadable_spectrum")), "{body}");
    let (status, _) = app.post_raw(&path, &app.bergen, "application/octet-stream", b"x".to_vec()).await;
    assert_eq!(status, 403);
    let (status, body) = app
        .post_raw(
            &format!("/api/v1/samples/{code}/analyses/999999/spectra?format=csv"),
            &app.oslo,
            "text/csv",
            b"1,2\n3,4\n".to_vec(),
        )
        .await;
    assert_eq!((status, body["error"].as_str()), (422, Some("unknown_analysis")), "{body}");

    let (strip_code, _) = {
        let body = json!({"service": "oslo-brukerrom", "sold_as": ["heroin"], "form": "powder",
            "analyses": [{"method": "strip_fentanyl", "result": "negative"}]});
        let (_, s) = app.post("/api/v1/samples", Some(&app.oslo), &body).await;
        (s["code"].as_str().unwrap().to_owned(), ())
    };
    let (_, s) = app.get(&format!("/api/v1/samples/{strip_code}"), Some(&app.oslo)).await;
    let strip = s["analyses"][0]["id"].as_i64().unwrap();
    let (status, body) = app
        .post_raw(
            &format!("/api/v1/samples/{strip_code}/analyses/{strip}/spectra?format=csv"),
            &app.oslo,
            "text/csv",
            b"1,2\n3,4\n".to_vec(),
        )
        .await;
    assert_eq!((status, body["error"].as_str()), (422, Some("method_without_spectrum")), "{body}");

    let (status, body) = add_reference(
        &app,
        "substance=no-such-drug&technique=mass&format=msp&source=x",
        b"Name: x\nNum Peaks: 1\n50 1\n".to_vec(),
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (422, Some("unknown_substance")), "{body}");
    let (status, _) = app
        .post_raw(
            "/api/v1/reference-spectra?substance=caffeine&technique=mass&format=msp&source=x",
            &app.reviewer,
            "application/octet-stream",
            b"Name: x\nNum Peaks: 1\n50 1\n".to_vec(),
        )
        .await;
    assert_eq!(status, 403);
    // Nothing refused was stored.
    assert!(app.store.queries().reference_spectra().await.unwrap().is_empty());
    assert!(app.store.queries().spectra_of(varde_domain::SampleCode::parse(&code).unwrap()).await.unwrap().is_empty());
}

#[tokio::test]
async fn on_the_pages_an_admin_adds_a_reference_and_a_technician_confirms_what_the_engine_proposes() {
    use crate::session::{Browser, users};
    let app = TestApp::spawn().await;
    users(&app).await;
    let h = varde_web::http::session::hash_password("admin-passord-1234");
    app.store.add_user("ada", &h, varde_domain::auth::Role::Admin, None, "test", jiff::Timestamp::now()).await.unwrap();
    let admin = Browser::new(&app);
    admin.login("ada", "admin-passord-1234").await;
    let record = massbank("CAFFEINE").into_iter().next().unwrap();
    let upload = |csrf: String, file: Vec<u8>| {
        reqwest::multipart::Form::new()
            .text("csrf", csrf)
            .text("substance", "caffeine")
            .text("technique", "mass")
            .text("format", "msp")
            .text("source", "MassBank (CC BY-NC-SA)")
            .part("file", reqwest::multipart::Part::bytes(file).file_name("caffeine.msp"))
    };
    // A forged form (no session token) is refused and stores nothing.
    let res = admin
        .client
        .post(format!("{}/admin/spectra", app.base))
        .multipart(upload("0".repeat(64), record.clone().into_bytes()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
    let res = admin
        .client
        .post(format!("{}/admin/spectra", app.base))
        .multipart(upload(admin.csrf("/admin").await, record.into_bytes()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    let page = admin.get("/admin?lang=en").await.text().await.unwrap();
    assert!(page.contains("MassBank (CC BY-NC-SA)"), "the library is listed");
    // An unreadable file is refused with the parser's reason.
    let res = admin
        .client
        .post(format!("{}/admin/spectra", app.base))
        .multipart(upload(admin.csrf("/admin").await, b"Name: x\nNum Peaks: 3\n1 1\n".to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 422);
    assert!(res.text().await.unwrap().contains("Num Peaks: 3 but 1 peaks follow"));
    assert_eq!(app.store.queries().reference_spectra().await.unwrap().len(), 1);

    let (code, analysis) = sample_with(&app, "gc_ms").await;
    let tech = Browser::new(&app);
    tech.login("tom", "tekniker-passord-123").await;
    let query = massbank("Caffeine").into_iter().next().expect("another caffeine spectrum");
    let form = reqwest::multipart::Form::new()
        .text("csrf", tech.csrf(&format!("/staff/samples/{code}")).await)
        .text("analysis", analysis.to_string())
        .text("format", "msp")
        .part("file", reqwest::multipart::Part::bytes(query.into_bytes()).file_name("run-3.msp"));
    let res =
        tech.client.post(format!("{}/staff/samples/{code}/spectra", app.base)).multipart(form).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 303);
    let page = tech.get(&format!("/staff/samples/{code}?lang=nb")).await.text().await.unwrap();
    assert!(page.contains("run-3.msp") && page.contains("Mest like referansespektre"), "{page}");
    // Confirming records an analysis amending the GC-MS one, with the proposed substance.
    let at = page.find("name=\"amends\"").unwrap();
    assert!(page[at..at + 80].contains(&format!("value=\"{analysis}\"")));
    let res = tech
        .post(
            &format!("/staff/samples/{code}/analyses"),
            &[
                ("csrf", &tech.csrf(&format!("/staff/samples/{code}")).await),
                ("method", "gc_ms"),
                ("amends", &analysis.to_string()),
                ("main", "caffeine"),
                ("other", ""),
            ],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    let (_, s) = app.get(&format!("/api/v1/samples/{code}"), Some(&app.oslo)).await;
    let confirmed =
        s["analyses"].as_array().unwrap().iter().find(|a| a["amends"] == analysis).expect("the confirmed analysis");
    assert_eq!(confirmed["components"][0]["substance"], "caffeine");
}
