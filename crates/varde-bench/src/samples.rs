//! `varde-bench samples`: many concurrent clients register samples over HTTP on loopback, against a server started
//! in this process on a fresh database (or against `--url` with `--token`). Prints throughput and latency.

use anyhow::{Context, bail};
use jiff::Timestamp;
use std::time::{Duration, Instant};
use varde::{Reference, admin, open_store, serve};

/// `samples`' options.
#[derive(clap::Args)]
pub struct Args {
    /// Concurrent clients, each sending one request after another.
    #[arg(long, default_value_t = 64)]
    pub clients: usize,
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// A running Varde to measure instead of one started here (needs --token for a technician of the service
    /// in --service, or a reviewer).
    #[arg(long)]
    pub url: Option<String>,
    #[arg(long)]
    pub token: Option<String>,
    #[arg(long, default_value = "oslo-brukerrom")]
    pub service: String,
    /// The database of the servers started here (default: a new SQLite file in a temporary folder). A
    /// PostgreSQL database must be empty, e.g. a new schema. (Not the global `--database`, whose default would
    /// point the bench at the real database.)
    #[arg(long = "bench-database", id = "bench_database")]
    pub database: Option<String>,
    /// Servers started here on that database, each with its own store (connections, writer queue, event
    /// listener), as separate instances would be; the clients take turns among them.
    #[arg(long, default_value_t = 1)]
    pub instances: usize,
    /// Seconds of registrations before the measured ones, not reported. The servers started here then bring
    /// the planner's statistics up to date, as autovacuum soon would: the figures are for a database in use,
    /// not for plans made while its tables were empty.
    #[arg(long, default_value_t = 2)]
    pub warmup: u64,
    /// How the servers started here accept connections: `bounded` as `varde serve` does (header and body
    /// timeouts, connections per client), or `plain` axum::serve, to measure what the bounds cost.
    #[arg(long, default_value = "bounded", value_parser = ["bounded", "plain"])]
    pub listener: String,
}

/// Registers demo samples from `clients` concurrent clients for `seconds` and prints throughput and latency.
pub async fn run(reference: Reference, args: Args) -> anyhow::Result<()> {
    let Args { clients, seconds, url, token, service, database, instances, warmup, listener: accept } = args;
    let bodies: Vec<Vec<u8>> = varde_demo::samples(42, Timestamp::now(), 1000)
        .into_iter()
        .map(|mut s| {
            s.input.service = service.clone();
            s.input.received_at = None;
            for a in &mut s.input.analyses {
                a.performed_at = None;
            }
            serde_json::to_vec(&s.input).expect("serialisable")
        })
        .collect();
    let (bases, token, store, _guard) = match (url, token) {
        (Some(url), Some(token)) => (vec![url], token, None, None),
        (Some(_), None) => bail!("--url needs --token"),
        (None, _) => {
            let (db, guard) = match database {
                Some(db) => (db, None),
                None => {
                    let dir = tempfile_dir()?;
                    (format!("sqlite://{}/bench.db", dir.display()), Some(TempDir(dir)))
                }
            };
            let store = open_store(&db, &reference).await?;
            let s =
                varde_demo::SERVICES.iter().find(|s| s.slug == service).context("--service must be a demo service")?;
            let new = admin::new_service(&reference, s.slug, s.name, s.kind.as_str(), s.kommune)?;
            store.add_service(new, "bench", Timestamp::now()).await?;
            let token = admin::issue_token(&*store, "technician", Some(&service), None).await?;
            let mut bases = Vec::new();
            for i in 0..instances.max(1) {
                let store = if i == 0 { store.clone() } else { open_store(&db, &reference).await? };
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                let addr = listener.local_addr()?;
                let app = serve::app(store, reference.clone(), &format!("http://{addr}")).await?;
                if accept == "plain" {
                    tokio::spawn(async move { axum::serve(listener, app).await });
                } else {
                    let limits = varde_web::http::listener::ConnectionLimits::default();
                    tokio::spawn(varde_web::http::listener::serve(listener, app, limits, std::future::pending()));
                }
                bases.push(format!("http://{addr}"));
            }
            println!("database {}, {} instance(s)", varde::redact(&db), bases.len());
            (bases, token, Some(store), guard)
        }
    };
    if warmup > 0 {
        let report = drive(&bases, &token, bodies.clone(), clients, Duration::from_secs(warmup)).await?;
        println!("warm-up: {} samples", report.ok);
        if let Some(store) = &store {
            store.queries().refresh_statistics().await?;
        }
    }
    let report = drive(&bases, &token, bodies, clients, Duration::from_secs(seconds)).await?;
    println!("{report}");
    Ok(())
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("varde-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

pub struct Report {
    pub ok: usize,
    pub failed: usize,
    pub elapsed: Duration,
    pub latencies: Vec<Duration>,
    pub clients: usize,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pct = |p: f64| {
            if self.latencies.is_empty() {
                return 0.0;
            }
            let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
            self.latencies[i].as_secs_f64() * 1000.0
        };
        writeln!(f, "clients {}  duration {:.1} s", self.clients, self.elapsed.as_secs_f64())?;
        writeln!(
            f,
            "registered {} samples ({} failed): {:.0} samples/s",
            self.ok,
            self.failed,
            self.ok as f64 / self.elapsed.as_secs_f64()
        )?;
        write!(f, "latency ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}", pct(0.5), pct(0.9), pct(0.99), pct(1.0))
    }
}

/// Clients take turns among `bases` (several instances behind a load balancer).
async fn drive(
    bases: &[String],
    token: &str,
    bodies: Vec<Vec<u8>>,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<Report> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(clients).build()?;
    let bodies = std::sync::Arc::new(bodies);
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..clients {
        let url = format!("{}/api/v1/samples", bases[c % bases.len()]);
        let (client, token, bodies) = (client.clone(), token.to_owned(), bodies.clone());
        tasks.spawn(async move {
            let (mut lat, mut failed, mut i) = (Vec::new(), 0usize, c);
            while Instant::now() < deadline {
                let body = bodies[i % bodies.len()].clone();
                i += clients;
                let t = Instant::now();
                let res = client
                    .post(&url)
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status().as_u16() == 201 => {
                        let _ = r.bytes().await;
                        lat.push(t.elapsed());
                    }
                    Ok(r) => {
                        failed += 1;
                        if failed == 1 {
                            eprintln!("status {}: {}", r.status(), r.text().await.unwrap_or_default());
                        }
                    }
                    Err(e) => {
                        failed += 1;
                        if failed == 1 {
                            eprintln!("request failed: {e}");
                        }
                    }
                }
            }
            (lat, failed)
        });
    }
    let mut latencies = Vec::new();
    let mut failed = 0;
    while let Some(r) = tasks.join_next().await {
        let (l, f) = r?;
        latencies.extend(l);
        failed += f;
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    Ok(Report { ok: latencies.len(), failed, elapsed, latencies, clients })
}
