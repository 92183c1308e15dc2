//! The public dashboard on a demo year.

use std::sync::Arc;
use varde::{demo, import_deaths, load_reference, open_store, serve};

#[tokio::test]
async fn the_dashboard_shows_every_figure_as_svg_and_table_without_small_counts() {
    let dir = tempfile::tempdir().unwrap();
    let reference = load_reference(None).unwrap();
    let store = open_store(&format!("sqlite://{}", dir.path().join("d.db").display()), &reference).unwrap();
    demo::load(store.clone() as Arc<dyn varde_store::Store>, &reference, 4, 2000).await.unwrap();
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
        assert_eq!(html.matches("<svg role=\"img\"").count(), 10, "ten charts (time to acknowledgement the tenth)");
        assert_eq!(html.matches("<table>").count(), 10, "each with its table");
        assert!(html.contains(">363 (") && !html.contains("<script"));
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
    for page in ["/concern", "/open-data", "/alerts", "/substances"] {
        let html = reqwest::get(format!("{base}{page}")).await.unwrap().text().await.unwrap();
        assert!(html.len() < 100_000, "{page}: {} bytes", html.len());
    }
}
