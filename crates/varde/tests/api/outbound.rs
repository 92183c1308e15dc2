//! Varde connects outward only where an operator intended: no push endpoint or webhook that points inward, in any
//! spelling, no redirect followed, and a per-inbox limit that sub-addressing does not get around.

use crate::helpers::TestApp;
use crate::reach::{SmtpServer, app_with_smtp, browser_keys};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use varde::serve;

/// Every spelling of an internal address the probe used, a name that resolves to loopback, and ports other than 443.
const INWARD: [&str; 13] = [
    "https://169.254.169.254/latest/meta-data/",
    "https://10.0.0.1/push",
    "https://127.0.0.1/push",
    "https://127.0.0.1:5432/push",
    "https://[::1]/push",
    "https://0x7f.1/push",
    "https://2130706433/push",
    "https://[::ffff:127.0.0.1]/push",
    "https://0.0.0.0/push",
    "https://192.168.0.1/push",
    "https://localhost/push",
    "https://localhost:8443/push",
    "http://127.0.0.1:9/push",
];

#[tokio::test]
async fn an_anonymous_caller_cannot_point_a_push_or_an_admin_a_webhook_inward() {
    // A server as deployed: no range allowed, https push only.
    let app = TestApp::spawn_with(serve::AppOptions::default()).await;
    let (keys, _) = browser_keys();
    for endpoint in INWARD {
        let body = json!({"channel": "push", "endpoint": endpoint, "keys": keys});
        let (status, e) = app.post("/api/v1/subscriptions", None, &body).await;
        assert_eq!((status, e["error"].as_str(), e["field"].as_str()), (422, Some("invalid_value"), Some("endpoint")));
        assert!(e["message"].as_str().unwrap().contains("public"), "{endpoint}: {e}");
    }
    assert!(app.rows("SELECT address FROM subscribers").await.is_empty(), "nothing stored");
    for url in INWARD.iter().map(|u| u.replace("https://", "http://")) {
        let (status, e) = app.post("/api/v1/webhooks", Some(&app.admin), &json!({"url": url})).await;
        assert_eq!((status, e["field"].as_str()), (422, Some("url")), "{url}: {e}");
    }
    assert!(app.rows("SELECT url FROM webhooks").await.is_empty(), "nothing stored");
}

#[tokio::test]
async fn a_webhook_receiver_that_redirects_does_not_send_the_signed_event_elsewhere() {
    // Two receivers on loopback (a range the test server allows): the first redirects to the second.
    let reached: Arc<Mutex<u32>> = Arc::default();
    let elsewhere = {
        let reached = reached.clone();
        let app = axum::Router::new().fallback(move || {
            let reached = reached.clone();
            async move {
                *reached.lock().unwrap() += 1;
                axum::http::StatusCode::NO_CONTENT
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/stolen", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    };
    let redirecting = {
        let target = elsewhere.clone();
        let app = axum::Router::new().fallback(move || {
            let target = target.clone();
            async move { axum::response::Redirect::temporary(&target) }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    };
    let app = TestApp::spawn().await;
    let (status, _) = app.post("/api/v1/webhooks", Some(&app.admin), &json!({"url": redirecting})).await;
    assert_eq!(status, 201);
    let (_, sample) = app.post("/api/v1/samples", Some(&app.oslo), &crate::helpers::heroin_sample()).await;
    let alert = sample["alert_drafts"][0]["id"].as_i64().unwrap();
    app.post(&format!("/api/v1/alerts/{alert}/publish"), Some(&app.reviewer), &json!({})).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (_, hooks) = app.get("/api/v1/webhooks", Some(&app.admin)).await;
        if hooks[0]["failed_attempts"].as_u64().unwrap() >= 2 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the redirect counts as a failed delivery: {hooks}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(*reached.lock().unwrap(), 0, "the redirect's target was never contacted");
}

#[tokio::test]
async fn sub_addresses_count_as_their_inbox_for_the_limit_and_are_kept_as_written() {
    let mut smtp = SmtpServer::start(&[]).await;
    let app = app_with_smtp(&smtp.url()).await;
    for tag in ["a", "b", "c"] {
        let address = format!("kari+{tag}@example.no");
        let (status, _) =
            app.post("/api/v1/subscriptions", None, &json!({"channel": "email", "address": address})).await;
        assert_eq!(status, 202);
    }
    let body = json!({"channel": "email", "address": "kari+d@example.no"});
    let (status, e) = app.post("/api/v1/subscriptions", None, &body).await;
    assert_eq!((status, e["error"].as_str()), (429, Some("too_many_requests")), "{e}");
    let mut kept = app.rows("SELECT address FROM subscribers ORDER BY address").await;
    kept.sort();
    assert_eq!(kept, ["kari+a@example.no", "kari+b@example.no", "kari+c@example.no"]);
    for _ in 0..3 {
        smtp.next().await;
    }
}
