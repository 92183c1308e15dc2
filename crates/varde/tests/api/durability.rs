//! A sample acknowledged with 201 survives `kill -9` of the server at any moment.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use varde_core::Application;
use varde_core::Core;
use varde_domain::SampleCode;
use varde_store_sqlite::SqliteStore;

pub fn varde(db: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_varde"));
    // The tests' webhook receivers listen on loopback, a range an operator allows explicitly.
    c.arg("--database").arg(db).env("VARDE_LOG", "warn").env("VARDE_OUTBOUND_ALLOW", "127.0.0.0/8,::1/128");
    c
}

pub fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Adds the Oslo user room and returns a technician's token for it.
pub fn oslo_service(db: &str) -> String {
    run_ok(varde(db).args([
        "service",
        "add",
        "oslo-brukerrom",
        "--name",
        "Oslo",
        "--kind",
        "user_room",
        "--kommune",
        "0301",
    ]));
    run_ok(varde(db).args(["token", "issue", "--role", "technician", "--service", "oslo-brukerrom"])).trim().to_owned()
}

/// `varde serve` on a free port, with its base URL once it listens.
pub fn serve(db: &str, args: &[&str]) -> (std::process::Child, String) {
    let mut child =
        varde(db).args(["serve", "--listen", "127.0.0.1:0"]).args(args).stdout(Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.trim().strip_prefix("listening on ").expect("the server says where it listens").to_owned();
    (child, base)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_sample_survives_kill_9_during_sustained_writes() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("v.db").display());
    let token = oslo_service(&db);
    // Each acknowledged code with the colour its request carried, to check content as well as presence.
    let acked: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let client = reqwest::Client::new();
    // Kill at different moments in each round: early, mid-stream, later.
    for (round, kill_after_ms) in [(0u32, 250u64), (1, 700), (2, 1300)] {
        let (mut child, base) = serve(&db, &[]);
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut clients = Vec::new();
        for c in 0..16 {
            let (client, base, token, acked, stop) =
                (client.clone(), base.clone(), token.clone(), acked.clone(), stop.clone());
            clients.push(tokio::spawn(async move {
                let mut i = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let colour = format!("r{round}c{c}n{i}");
                    i += 1;
                    let body = serde_json::json!({"service": "oslo-brukerrom", "sold_as": ["heroin"], "form": "powder", "colour": colour,
                        "analyses": [{"method": "strip_fentanyl", "result": "negative"}]});
                    let Ok(res) = client.post(format!("{base}/api/v1/samples")).bearer_auth(&token).json(&body).send().await else { break };
                    if res.status().as_u16() != 201 {
                        break;
                    }
                    let Ok(v) = res.json::<serde_json::Value>().await else { break };
                    acked.lock().unwrap().push((v["code"].as_str().unwrap().to_owned(), colour));
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(kill_after_ms)).await;
        child.kill().unwrap(); // SIGKILL: no shutdown, no flush.
        child.wait().unwrap();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for c in clients {
            c.await.unwrap();
        }
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() > 100, "the clients wrote under load before each kill ({} acknowledged)", acked.len());
    let store = Core::new(SqliteStore::open(dir.path().join("v.db")).unwrap(), varde::load_reference(None).unwrap());
    for (code, colour) in &acked {
        let s = store
            .queries()
            .sample(SampleCode::parse(code).unwrap())
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{code} was acknowledged but lost"));
        assert_eq!(s.sample.colour.as_deref(), Some(colour.as_str()));
        assert_eq!(s.sample.analyses.len(), 1, "{code} is stored whole");
    }
    assert!(store.queries().sample_count().await.unwrap() >= acked.len() as u64);
    assert_eq!(
        store.queries().verify_audit().await.unwrap().first_broken,
        None,
        "the audit chain survives the kills too"
    );
}

/// `varde backup` while a server takes writes, then `varde restore` of it: the copy is one consistent instant
/// (every sample in it whole, the audit chain intact), and a restore never overwrites data without `--replace`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_writes_restores_whole() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("v.db").display());
    let token = oslo_service(&db);
    let (mut child, base) = serve(&db, &[]);
    let acked: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let client = reqwest::Client::new();
    let mut writers = Vec::new();
    for c in 0..8 {
        let (client, base, token, acked, stop) =
            (client.clone(), base.clone(), token.clone(), acked.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let colour = format!("c{c}n{i}");
                i += 1;
                let body = serde_json::json!({"service": "oslo-brukerrom", "sold_as": ["heroin"], "form": "powder",
                    "colour": colour, "analyses": [{"method": "strip_fentanyl", "result": "negative"}]});
                let res =
                    client.post(format!("{base}/api/v1/samples")).bearer_auth(&token).json(&body).send().await.unwrap();
                assert_eq!(res.status().as_u16(), 201);
                let v: serde_json::Value = res.json().await.unwrap();
                acked.lock().unwrap().push((v["code"].as_str().unwrap().to_owned(), colour));
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    let before = acked.lock().unwrap().len();
    let backup = dir.path().join("backup.db");
    let out = run_ok(varde(&db).arg("backup").arg("--out").arg(&backup));
    let after = acked.lock().unwrap().len();
    assert!(out.contains("chain intact"), "{out}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // A backup never overwrites a file.
    let e = fails(varde(&db).arg("backup").arg("--out").arg(&backup));
    assert!(e.contains("exists"), "{e}");

    let restored = format!("sqlite://{}", dir.path().join("restored.db").display());
    let out = run_ok(varde(&restored).arg("restore").arg(&backup));
    assert!(out.contains("chain intact"), "{out}");
    let store =
        Core::new(SqliteStore::open(dir.path().join("restored.db")).unwrap(), varde::load_reference(None).unwrap());
    let count = store.queries().sample_count().await.unwrap() as usize;
    assert!(
        count >= before && count <= after + 8,
        "the copy is one instant during the writes: {before} ≤ {count} ≤ {after}+8"
    );
    let acked = acked.lock().unwrap().clone();
    let mut present = 0;
    for (code, colour) in &acked {
        if let Some(s) = store.queries().sample(SampleCode::parse(code).unwrap()).await.unwrap() {
            present += 1;
            assert_eq!(s.sample.colour.as_deref(), Some(colour.as_str()));
            assert_eq!(s.sample.analyses.len(), 1, "{code} is whole in the copy");
        }
    }
    assert_eq!(present, count, "every sample in the copy was acknowledged");
    for (code, _) in &acked[..before] {
        assert!(
            store.queries().sample(SampleCode::parse(code).unwrap()).await.unwrap().is_some(),
            "{code} was acknowledged before the backup began"
        );
    }
    store.queries().close();
    // Restoring over data needs --replace, and keeps what was there.
    let e = fails(varde(&restored).arg("restore").arg(&backup));
    assert!(e.contains("--replace"), "{e}");
    let out = run_ok(varde(&restored).arg("restore").arg(&backup).arg("--replace"));
    assert!(out.contains("kept as"), "{out}");
    assert!(
        std::fs::read_dir(dir.path()).unwrap().any(|f| f
            .unwrap()
            .file_name()
            .to_string_lossy()
            .contains("restored.db.before-restore-"))
    );
    // A damaged file is refused and nothing changes.
    let broken = dir.path().join("broken.db");
    std::fs::write(&broken, b"not a database at all").unwrap();
    let e = fails(varde(&restored).arg("restore").arg(&broken).arg("--replace"));
    assert!(e.contains("checking"), "{e}");
    let out = run_ok(varde(&restored).args(["audit", "verify"]));
    assert!(out.contains("intact"), "{out}");
}

/// Runs a command that must fail; its standard error.
pub fn fails(cmd: &mut std::process::Command) -> String {
    let out = cmd.output().unwrap();
    assert!(!out.status.success(), "expected failure, got: {}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8(out.stderr).unwrap()
}

/// `serve --jobs=false` beside `varde worker` on one database: the web server delivers nothing itself; the worker
/// delivers what the web server published.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_beside_a_server_without_jobs_delivers_the_warnings() {
    use axum::http::StatusCode;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("v.db").display());
    let technician = oslo_service(&db);
    let token = |args: &[&str]| run_ok(varde(&db).args(["token", "issue"]).args(args)).trim().to_owned();
    let (reviewer, admin) = (token(&["--role", "reviewer"]), token(&["--role", "admin"]));
    let got: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
    let hook = {
        let got = got.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |body: String| {
                let got = got.clone();
                async move {
                    got.lock().unwrap().push(serde_json::from_str(&body).unwrap());
                    StatusCode::NO_CONTENT
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    };
    let (mut web, base) = serve(&db, &["--jobs=false"]);
    let client = reqwest::Client::new();
    let res = client
        .post(format!("{base}/api/v1/webhooks"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"url": hook}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let sample = serde_json::json!({"service": "oslo-brukerrom", "sold_as": ["heroin"], "form": "powder",
        "analyses": [{"method": "strip_nitazene", "result": "positive"}]});
    let s: serde_json::Value = client
        .post(format!("{base}/api/v1/samples"))
        .bearer_auth(&technician)
        .json(&sample)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = s["alert_drafts"][0]["id"].as_i64().expect("a draft");
    let res = client
        .post(format!("{base}/api/v1/alerts/{id}/publish"))
        .bearer_auth(&reviewer)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(got.lock().unwrap().is_empty(), "the web server without jobs delivers nothing");

    let mut worker = varde(&db).arg("worker").stdout(Stdio::piped()).spawn().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while got.lock().unwrap().is_empty() {
        assert!(std::time::Instant::now() < deadline, "the worker delivered the warning");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let first = got.lock().unwrap()[0].clone();
    assert_eq!(first["type"], "alert.published", "{first}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(got.lock().unwrap().len(), 1, "delivered once");
    worker.kill().unwrap();
    worker.wait().unwrap();
    web.kill().unwrap();
    web.wait().unwrap();
}
