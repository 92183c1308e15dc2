//! `varde-bench alerts`: the time from a dangerous sample to a warning, and how fast the feeds are served.

use anyhow::Context;
use jiff::Timestamp;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use varde::{Reference, admin, open_store, serve};

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1000.0
}

fn summary(name: &str, mut v: Vec<Duration>) -> String {
    v.sort_unstable();
    format!(
        "{name}: n {}  p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
        v.len(),
        pct(&v, 0.5),
        pct(&v, 0.99),
        pct(&v, 1.0)
    )
}

pub async fn run(
    reference: Reference,
    seconds: Duration,
    background: u64,
    connections: usize,
    database: Option<String>,
) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("varde-bench-alerts-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let database = database.unwrap_or_else(|| format!("sqlite://{}/bench.db", dir.display()));
    println!("database {}", varde::redact(&database));
    let result = measure(reference, &database, seconds, background, connections).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn measure(
    reference: Reference,
    database: &str,
    seconds: Duration,
    background: u64,
    connections: usize,
) -> anyhow::Result<()> {
    let store = open_store(database, &reference).await?;
    let s = admin::new_service(&reference, "oslo-brukerrom", "Oslo brukerrom", "user_room", "0301")?;
    store.add_service(s, "bench", Timestamp::now()).await?;
    let tech = admin::issue_token(&*store, "technician", Some("oslo-brukerrom"), None).await?;
    let reviewer = admin::issue_token(&*store, "reviewer", None, None).await?;
    let admin_token = admin::issue_token(&*store, "admin", None, None).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    // The bench's webhook receiver listens on loopback, a range an operator would allow with --outbound-allow.
    let mut options = serve::AppOptions::default();
    options.reach.outbound_allow = vec!["127.0.0.0/8".parse()?];
    let app = serve::app_with(store.clone(), reference, &base, options).await?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client = reqwest::Client::builder().pool_max_idle_per_host(connections + 16).build()?;

    // 1. A severe sample to its sample.finding event (over SSE) and to its draft (made in the same transaction, so
    //    known when the 201 arrives), while `background` ordinary samples a second arrive.
    let seen: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let mut sse = client.get(format!("{base}/api/v1/events")).bearer_auth(&reviewer).send().await?;
    let seen_by_reader = seen.clone();
    let reader = tokio::spawn(async move {
        let mut buf = String::new();
        while let Ok(Some(chunk)) = sse.chunk().await {
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(i) = buf.find("\n\n") {
                let block: String = buf.drain(..i + 2).collect();
                if block.contains("event: sample.finding")
                    && let Some(data) = block.lines().find_map(|l| l.strip_prefix("data: "))
                    && let Ok(v) = serde_json::from_str::<Value>(data)
                    && let Some(code) = v["code"].as_str()
                {
                    seen_by_reader.lock().expect("not poisoned").insert(code.to_owned(), Instant::now());
                }
            }
        }
    });
    let bodies: Vec<Vec<u8>> = varde_demo::samples(7, Timestamp::now(), 500)
        .into_iter()
        .map(|mut s| {
            s.input.service = "oslo-brukerrom".into();
            s.input.received_at = None;
            s.input.analyses.iter_mut().for_each(|a| a.performed_at = None);
            serde_json::to_vec(&s.input).expect("serialisable")
        })
        .collect();
    let deadline = Instant::now() + seconds;
    let load = {
        let (client, base, tech) = (client.clone(), base.clone(), tech.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / background.max(1)));
            let mut i = 0usize;
            let mut sent = 0usize;
            while Instant::now() < deadline {
                tick.tick().await;
                let body = bodies[i % bodies.len()].clone();
                i += 1;
                let (client, url, tech) = (client.clone(), format!("{base}/api/v1/samples"), tech.clone());
                tokio::spawn(async move {
                    let _ = client
                        .post(url)
                        .bearer_auth(tech)
                        .header("content-type", "application/json")
                        .body(body)
                        .send()
                        .await;
                });
                sent += 1;
            }
            sent
        })
    };
    let mut sent_at: HashMap<String, Instant> = HashMap::new();
    let mut to_draft = Vec::new();
    let mut n = 0;
    while Instant::now() < deadline {
        n += 1;
        let body = json!({"service": "oslo-brukerrom", "sold_as": ["heroin"], "form": "powder", "colour": format!("bench {n}"),
            "analyses": [{"method": "strip_nitazene", "result": "positive"}]});
        let t0 = Instant::now();
        let res: Value =
            client.post(format!("{base}/api/v1/samples")).bearer_auth(&tech).json(&body).send().await?.json().await?;
        to_draft.push(t0.elapsed());
        anyhow::ensure!(
            res["findings"][0]["tier"] == "severe" && res["alert_drafts"][0]["id"].is_i64(),
            "unexpected answer: {res}"
        );
        sent_at.insert(res["code"].as_str().context("code")?.to_owned(), t0);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let background_sent = load.await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    reader.abort();
    let seen = seen.lock().expect("not poisoned").clone();
    let to_event: Vec<Duration> =
        sent_at.iter().filter_map(|(code, t0)| seen.get(code).map(|t| t.duration_since(*t0))).collect();
    println!(
        "1. severe sample → finding and draft, with {background_sent} background samples in {:.0} s",
        seconds.as_secs_f64()
    );
    println!("   {}", summary("POST → sample.finding event (SSE)", to_event));
    println!("   {}", summary("POST → 201 with finding and draft", to_draft));

    // 2. Publication to delivery at a loopback webhook receiver.
    let received: Arc<Mutex<HashMap<i64, Instant>>> = Arc::default();
    let got = received.clone();
    let hook_app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: String| {
            let got = got.clone();
            async move {
                if let Ok(v) = serde_json::from_str::<Value>(&body)
                    && v["type"] == "alert.published"
                    && let Some(id) = v["data"]["id"].as_i64()
                {
                    got.lock().expect("not poisoned").insert(id, Instant::now());
                }
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let hook_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let hook_url = format!("http://{}/hook", hook_listener.local_addr()?);
    tokio::spawn(async move { axum::serve(hook_listener, hook_app).await });
    let r = client
        .post(format!("{base}/api/v1/webhooks"))
        .bearer_auth(&admin_token)
        .json(&json!({"url": hook_url}))
        .send()
        .await?;
    anyhow::ensure!(r.status().as_u16() == 201, "webhook registration failed");
    tokio::time::sleep(Duration::from_millis(2500)).await; // the dispatcher looks for new subscribers every 2 s
    let mut published_at: HashMap<i64, Instant> = HashMap::new();
    let deadline = Instant::now() + seconds;
    let mut i = 0;
    while Instant::now() < deadline {
        i += 1;
        // An unknown substance per round makes a new product, so a new draft to publish.
        let body = json!({"service": "oslo-brukerrom", "sold_as": ["heroin"], "form": "powder",
            "analyses": [{"method": "ftir", "components": [{"substance": "heroin", "role": "main"}, {"substance": format!("Benchazene-{i}"), "role": "trace"}]}]});
        let res: Value =
            client.post(format!("{base}/api/v1/samples")).bearer_auth(&tech).json(&body).send().await?.json().await?;
        let id = res["alert_drafts"][0]["id"].as_i64().context("a draft")?;
        let t0 = Instant::now();
        let r = client.post(format!("{base}/api/v1/alerts/{id}/publish")).bearer_auth(&reviewer).send().await?;
        anyhow::ensure!(r.status().is_success(), "publish failed: {}", r.text().await?);
        published_at.insert(id, t0);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let received = received.lock().expect("not poisoned").clone();
    let delivered: Vec<Duration> =
        published_at.iter().filter_map(|(id, t0)| received.get(id).map(|t| t.duration_since(*t0))).collect();
    println!("2. publication → webhook delivered at a loopback receiver ({} published)", published_at.len());
    println!("   {}", summary("publish POST → receiver has alert.published", delivered));

    // 3. Feeds under concurrent load.
    let some_id = *published_at.keys().next().context("published alerts")?;
    for (name, path) in
        [("Atom /alerts.atom", "/alerts.atom".to_owned()), ("CAP /alerts/{id}.cap", format!("/alerts/{some_id}.cap"))]
    {
        let url = format!("{base}{path}");
        let deadline = Instant::now() + seconds;
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..connections {
            let (client, url) = (client.clone(), url.clone());
            tasks.spawn(async move {
                let (mut ok, mut lat) = (0usize, Vec::new());
                while Instant::now() < deadline {
                    let t = Instant::now();
                    if let Ok(r) = client.get(&url).send().await
                        && r.status().is_success()
                        && r.bytes().await.is_ok()
                    {
                        ok += 1;
                        lat.push(t.elapsed());
                    }
                }
                (ok, lat)
            });
        }
        let (mut ok, mut lat) = (0, Vec::new());
        while let Some(r) = tasks.join_next().await {
            let (o, l) = r?;
            ok += o;
            lat.extend(l);
        }
        let elapsed = started.elapsed().as_secs_f64();
        println!(
            "3. {name}: {:.0} requests/s with {connections} connections; {}",
            ok as f64 / elapsed,
            summary("latency", lat)
        );
    }
    store.queries().close();
    Ok(())
}
