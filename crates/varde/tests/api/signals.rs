//! Signals from stored samples: detection, the analyst's list with evidence, and a draft in one action.

use crate::helpers::TestApp;
use jiff::{SignedDuration, Timestamp};
use serde_json::json;

fn nitazene_heroin(at: Timestamp) -> serde_json::Value {
    json!({"service": "oslo-brukerrom", "received_at": at.to_string(), "sold_as": ["heroin"], "form": "powder",
        "analyses": [{"method": "gc_ms", "components": [{"substance": "heroin", "role": "main"}, {"substance": "protonitazene", "role": "trace"}]}]})
}

#[tokio::test]
async fn a_rise_in_the_last_week_becomes_a_signal_with_its_samples_and_then_a_draft() {
    let app = TestApp::spawn().await;
    let now = Timestamp::now();
    app.post("/api/v1/samples", Some(&app.oslo), &nitazene_heroin(now - SignedDuration::from_hours(24 * 7 * 12))).await;
    let mut codes = Vec::new();
    for _ in 0..5 {
        let (status, s) = app
            .post("/api/v1/samples", Some(&app.oslo), &nitazene_heroin(now - SignedDuration::from_hours(24 * 7)))
            .await;
        assert_eq!(status, 201, "{s}");
        codes.push(s["code"].as_str().unwrap().to_owned());
    }
    let state = varde_web::AppState::new(app.store.clone(), varde::load_reference(None).unwrap(), "");
    let (new, alarms) = varde_web::detect::monitoring::run(&state, now).await.unwrap();
    assert!(new >= 1 && alarms >= new, "{new} new of {alarms}");
    assert_eq!(varde_web::detect::monitoring::run(&state, now).await.unwrap().0, 0, "a week's signal is recorded once");

    assert_eq!(app.get("/api/v1/signals", Some(&app.oslo)).await.0, 403);
    let (status, signals) = app.get("/api/v1/signals", Some(&app.reviewer)).await;
    assert_eq!(status, 200);
    let signal = signals
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stream"] == "substance:protonitazene" && s["area"] == "03")
        .unwrap_or_else(|| panic!("{signals}"))
        .clone();
    let mut evidence: Vec<String> =
        signal["evidence"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    evidence.sort();
    codes.sort();
    assert_eq!(evidence, codes);
    assert_eq!(signal["observed"], 5.0);

    let id = signal["id"].as_i64().unwrap();
    assert_eq!(app.post(&format!("/api/v1/signals/{id}/draft"), Some(&app.admin), &json!({})).await.0, 403);
    let (status, alert) = app.post(&format!("/api/v1/signals/{id}/draft"), Some(&app.reviewer), &json!({})).await;
    assert_eq!(status, 200, "{alert}");
    assert_eq!((alert["status"].as_str().unwrap(), alert["evidence_count"].as_i64().unwrap()), ("draft", 5));
    assert!(alert["title"]["en"].as_str().unwrap().contains("Protonitazene"), "{alert}");
    let (status, e) = app.post(&format!("/api/v1/signals/{id}/draft"), Some(&app.reviewer), &json!({})).await;
    assert_eq!((status, e["error"].as_str().unwrap()), (422, "signal_not_open"));
    let (_, open) = app.get("/api/v1/signals", Some(&app.reviewer)).await;
    assert!(!open.as_array().unwrap().iter().any(|s| s["id"] == id), "a drafted signal leaves the open list");
}
