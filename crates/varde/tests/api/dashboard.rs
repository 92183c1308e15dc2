//! The public dashboard on a demo year.

use varde::{demo, import_deaths, load_reference, open_store, serve};

#[tokio::test]
async fn the_dashboard_shows_every_figure_as_svg_and_table_without_small_counts() {
    let dir = tempfile::tempdir().unwrap();
    let reference = load_reference(None).unwrap();
    let store = open_store(&crate::helpers::test_database(dir.path()).await, &reference).await.unwrap();
    demo::load(store.clone(), &reference, 4, 2000, jiff::Timestamp::now()).await.unwrap();
    import_deaths(
        &*store,
        "deaths.csv",
        include_str!("../../../varde-domain/data/overdose/norway_drug_induced_deaths.csv"),
    )
    .await
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = serve::app(store, reference, &base).await.unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    for (lang, title) in [("en", "Figures and trends"), ("nb", "Tall og trender"), ("nn", "Tal og trendar")] {
        let res = reqwest::get(format!("{base}/dashboard?lang={lang}")).await.unwrap();
        assert_eq!(res.status().as_u16(), 200);
        let html = res.text().await.unwrap();
        assert!(html.contains(title));
        assert!(html.len() < 100_000, "{lang}: {} bytes", html.len());
        assert_eq!(html.matches("<svg role=\"img\"").count(), 11, "eleven charts (user-room overdoses the eleventh)");
        assert_eq!(
            html.matches("<table>").count(),
            13,
            "each with its table, user rooms by fylke, what a result changes"
        );
        // User rooms: the demo year's counts by fylke, with a rate per 100,000 where the count is shown.
        let rooms = html.split("id=\"user-rooms-t\"").nth(1).expect("the user-room section");
        assert!(
            rooms.contains("<th scope=\"row\">Oslo</th>") && rooms.contains("<th scope=\"row\">Vestland</th>"),
            "{rooms}"
        );
        let oslo = rooms.split("<th scope=\"row\">Oslo</th>").nth(1).unwrap().split("</tr>").next().unwrap();
        let rate = oslo.rsplit("<td>").next().unwrap().trim_end_matches("</td>");
        let rate: f64 = rate.replace(',', ".").parse().unwrap_or_else(|_| panic!("{lang}: Oslo has a rate: {oslo}"));
        assert!(rate > 1.0 && rate < 100.0, "{rate} per 100,000");
        // What a result changes: after a severe result, the share who said they would not use the sample.
        if lang == "en" {
            let changes =
                html.split("What a result changes").nth(1).expect("the section").split("</table>").next().unwrap();
            let severe = changes
                .split("<th scope=\"row\">Severe alert</th>")
                .nth(1)
                .expect("a severe row")
                .split("</tr>")
                .next()
                .unwrap();
            // Severe results are few in a demo year of 2,000 (about ten with a stated intention, depending on the
            // day the demo is made): the share is shown, or suppressed as "<5 / n", never a small count.
            let not_use = severe.split("<td>").nth(1).unwrap();
            assert!(not_use.contains(" %)") || not_use.starts_with("&lt;5"), "{severe}");
            // The tiers with many samples show their shares.
            assert!(changes.matches(" %)").count() >= 3, "shares shown in the demo year: {changes}");
        }
        assert!(!html.contains("<script"));
        // Deaths with rates per million and per million aged 15-64, from the population of the same year.
        let rates = if lang == "en" { ">363 (66.1 / 101.9)<" } else { ">363 (66,1 / 101,9)<" };
        assert!(html.contains(rates), "{lang}: {rates}");
        assert!(html.contains(">249 ("), "2017 has its rate too");
        assert!(!html.contains("(– / –)"), "every year with deaths data has a population");
        // Suppression hides only what it must: most weeks of a demo year show their count.
        let weekly = html.split("<figure class=\"chart\">").nth(1).unwrap();
        let tds: Vec<&str> = weekly.split("<td>").skip(1).map(|td| td.split('<').next().unwrap()).collect();
        assert!(tds.iter().filter(|v| v.parse::<u64>().is_ok()).count() * 2 > tds.len(), "{lang}: {tds:?}");
        // The first four figures are counts: each shown value is "<5", "x", 0, or at least 5.
        for figure in html.split("<figure class=\"chart\">").skip(1).take(4) {
            for td in figure.split("<td>").skip(1) {
                let v = td.split('<').next().unwrap();
                assert!(
                    v == "&lt;5" || v == "x" || v.parse::<u64>().is_ok_and(|n| n == 0 || n >= 5),
                    "{lang}: a count of {v}"
                );
            }
        }
    }
    let deaths: serde_json::Value =
        reqwest::get(format!("{base}/api/v1/stats/deaths")).await.unwrap().json().await.unwrap();
    let y2023 = deaths.as_array().unwrap().iter().find(|d| d["year"] == 2023).unwrap();
    assert_eq!((y2023["deaths"].as_u64(), y2023["population"].as_u64()), (Some(363), Some(5_488_984)), "{y2023}");
    assert!((y2023["per_million"].as_f64().unwrap() - 66.13).abs() < 0.01, "{y2023}");
    assert_eq!(deaths.as_array().unwrap().len(), 9, "2015-2023");
    // The same in open data, by year, tier and class, suppressed: no count of 1-4 anywhere.
    let csv = reqwest::get(format!("{base}/open-data/result-changes.csv")).await.unwrap().text().await.unwrap();
    assert!(csv.starts_with("year,highest_tier,answer,class,count\n"), "{csv}");
    assert!(csv.contains(",severe,intention_not_use,"), "{csv}");
    for line in csv.lines().skip(1) {
        let count = line.rsplit(',').next().unwrap();
        assert!(count == "<5" || count == "x" || count.parse::<u64>().is_ok_and(|n| n == 0 || n >= 5), "{line}");
    }
    // Browsers get the dashboard and the open-data files gzip-compressed (made once per rendering); unpacked, they
    // are the very bytes others get.
    let client = reqwest::Client::new();
    for path in ["/dashboard?lang=en", "/open-data/samples.csv", "/open-data/weekly-counts.json"] {
        let plain = client.get(format!("{base}{path}")).send().await.unwrap();
        assert!(plain.headers().get("content-encoding").is_none(), "{path}");
        let plain = plain.bytes().await.unwrap();
        let packed = client.get(format!("{base}{path}")).header("accept-encoding", "gzip, br").send().await.unwrap();
        assert_eq!(packed.headers()["content-encoding"], "gzip", "{path}");
        assert_eq!(packed.headers()["vary"], "accept-encoding", "{path}");
        let packed = packed.bytes().await.unwrap();
        assert!(packed.len() * 3 < plain.len(), "{path}: {} of {} bytes", packed.len(), plain.len());
        let mut unpacked = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&packed[..]), &mut unpacked).unwrap();
        assert_eq!(unpacked, plain, "{path}");
    }
    for page in ["/concern", "/open-data", "/alerts", "/substances"] {
        let html = reqwest::get(format!("{base}{page}")).await.unwrap().text().await.unwrap();
        assert!(html.len() < 100_000, "{page}: {} bytes", html.len());
    }
}

/// The drug-induced deaths that ship with Varde are on the dashboard and in the API from the start, before any
/// import.
#[tokio::test]
async fn the_shipped_deaths_series_is_shown_before_any_import() {
    let app = crate::helpers::TestApp::spawn().await;
    let (_, deaths) = app.get("/api/v1/stats/deaths", None).await;
    let y2023 = deaths.as_array().unwrap().iter().find(|d| d["year"] == 2023).expect("2023 is shipped");
    assert_eq!(y2023["deaths"].as_u64(), Some(363), "{y2023}");
    let (_, _, html) = app.get_text("/dashboard?lang=en").await;
    assert!(html.contains("363"), "the dashboard shows the shipped series");
}

/// The open-data page says under which licence the data may be reused and which release the files are.
#[tokio::test]
async fn open_data_says_its_licence_and_how_current_it_is() {
    let app = crate::helpers::TestApp::spawn().await;
    let (_, _, page) = app.get_text("/open-data?lang=en").await;
    assert!(page.contains("NLOD 2.0") && page.contains("Figures from the release of"), "{page}");
    assert!(page.contains("do not change until next Monday"), "{page}");
    let (_, _, page) = app.get_text("/open-data?lang=nn").await;
    assert!(page.contains("Norsk lisens for offentlege data"), "{page}");
}
