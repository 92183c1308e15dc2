//! Several `varde serve` processes on one PostgreSQL database, as a national deployment runs them behind a load
//! balancer: events reach the clients of every instance, each warning is delivered once, and when one instance is
//! killed the other keeps serving, holds every acknowledged sample and takes over the background jobs. Needs the
//! PostgreSQL that `VARDE_TEST_POSTGRES` names (`.ci/run` sets it); without it this test passes without running.

use crate::durability::{oslo_service, run_ok, serve, varde};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

async fn fresh_schema() -> Option<String> {
    let url = std::env::var("VARDE_TEST_POSTGRES").ok()?;
    let schema = format!("varde_test_two_{:016x}", rand::random::<u64>());
    Some(varde_store_postgres::create_schema(&url, &schema).await.expect("a fresh schema"))
}

/// A webhook receiver that keeps each delivery's `webhook-id` and body.
async fn receiver() -> (String, Arc<Mutex<Vec<(String, Value)>>>) {
    let got: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
    let keep = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let keep = keep.clone();
            async move {
                let id = headers["webhook-id"].to_str().unwrap().to_owned();
                keep.lock().unwrap().push((id, serde_json::from_str(&body).unwrap()));
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, got)
}

/// A `varde serve` process that is killed when the test ends, however it ends (a failed assertion must not leave
/// servers running on the test database).
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn severe(sold_as: &str, strip: &str, colour: &str) -> Value {
    json!({"service": "oslo-brukerrom", "sold_as": [sold_as], "form": "powder", "colour": colour,
           "analyses": [{"method": strip, "result": "positive"}]})
}

/// Waits until `got` holds a delivery of `kind` and then a moment longer for any duplicate; returns the deliveries.
async fn delivered(got: &Mutex<Vec<(String, Value)>>, kind: &str) -> Vec<(String, Value)> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !got.lock().unwrap().iter().any(|(_, b)| b["type"] == kind) {
        assert!(Instant::now() < deadline, "{kind} was delivered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    got.lock().unwrap().clone()
}

fn once_each(deliveries: &[(String, Value)]) {
    let mut ids: Vec<&str> = deliveries.iter().map(|(id, _)| id.as_str()).collect();
    let all = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), all, "every event is delivered once: {deliveries:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_share_events_deliver_once_and_outlive_each_other() {
    let Some(db) = fresh_schema().await else { return };
    let technician = oslo_service(&db);
    let token = |args: &[&str]| run_ok(varde(&db).args(["token", "issue"]).args(args)).trim().to_owned();
    let (reviewer, admin) = (token(&["--role", "reviewer"]), token(&["--role", "admin"]));
    let (hook, got) = receiver().await;
    // A starts first, so it leads the background jobs; B serves beside it.
    let (a, base_a) = serve(&db, &[]);
    let mut a = Server(a);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (b, base_b) = serve(&db, &[]);
    let _b = Server(b);
    let client = reqwest::Client::new();
    let res = client.post(format!("{base_b}/api/v1/webhooks")).bearer_auth(&admin).json(&json!({"url": hook}));
    assert_eq!(res.send().await.unwrap().status(), 201);

    // A sample registered through A is on B's server-sent events within a second.
    let mut stream = client.get(format!("{base_b}/api/v1/events")).bearer_auth(&reviewer).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    let post = client.post(format!("{base_a}/api/v1/samples")).bearer_auth(&technician);
    let s: Value = post.json(&severe("heroin", "strip_nitazene", "brown")).send().await.unwrap().json().await.unwrap();
    let acknowledged = Instant::now();
    let code = s["code"].as_str().expect("stored").to_owned();
    let mut seen = String::new();
    while !seen.contains(&code) {
        let chunk = tokio::time::timeout(Duration::from_secs(1), stream.chunk()).await;
        seen.push_str(&String::from_utf8_lossy(
            &chunk.expect("B's stream carries it within a second").unwrap().unwrap(),
        ));
    }
    assert!(acknowledged.elapsed() < Duration::from_secs(1), "{:?}", acknowledged.elapsed());
    drop(stream);

    // Published through B, delivered once though both instances run.
    let heroin = s["alert_drafts"][0]["id"].as_i64().expect("a draft");
    let publish = |base: &str, id: i64| {
        client.post(format!("{base}/api/v1/alerts/{id}/publish")).bearer_auth(&reviewer).json(&json!({})).send()
    };
    assert_eq!(publish(&base_b, heroin).await.unwrap().status(), 200);
    once_each(&delivered(&got, "alert.published").await);

    // Sustained writes through both while A is killed: every acknowledged sample is there, B keeps serving.
    let acked: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let base = if w % 2 == 0 { base_a.clone() } else { base_b.clone() };
            let (client, technician, acked, stop) = (client.clone(), technician.clone(), acked.clone(), stop.clone());
            tokio::spawn(async move {
                let mut i = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let colour = format!("w{w}n{i}");
                    i += 1;
                    let body = json!({"service": "oslo-brukerrom", "sold_as": ["mdma"], "form": "tablet",
                                      "colour": colour});
                    let res = client.post(format!("{base}/api/v1/samples")).bearer_auth(&technician).json(&body);
                    match res.send().await {
                        Ok(r) if r.status() == 201 => {
                            let v: Value = r.json().await.unwrap();
                            acked.lock().unwrap().push((v["code"].as_str().unwrap().to_owned(), colour));
                        }
                        // A is gone: its writer waits for B's.
                        _ => tokio::time::sleep(Duration::from_millis(20)).await,
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(800)).await;
    a.0.kill().unwrap();
    a.0.wait().unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() > 20, "writes went through both: {}", acked.len());
    for (code, colour) in &acked {
        let res = client.get(format!("{base_b}/api/v1/samples/{code}")).bearer_auth(&technician).send().await.unwrap();
        assert_eq!(res.status(), 200, "{code} acknowledged and kept");
        let s: Value = res.json().await.unwrap();
        assert_eq!(s["colour"], colour.as_str());
    }
    run_ok(varde(&db).args(["audit", "verify"]));

    // B took over the jobs A led: a warning published now is delivered, once.
    let s: Value = client
        .post(format!("{base_b}/api/v1/samples"))
        .bearer_auth(&technician)
        .json(&severe("cocaine", "strip_fentanyl", "white"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let cocaine = s["alert_drafts"][0]["id"].as_i64().expect("a draft");
    got.lock().unwrap().clear();
    assert_eq!(publish(&base_b, cocaine).await.unwrap().status(), 200);
    let after = delivered(&got, "alert.published").await;
    once_each(&after);
    assert!(
        after.iter().any(|(_, b)| b["data"]["id"] == cocaine || b.to_string().contains(&format!("\"id\":{cocaine}")))
    );
}
