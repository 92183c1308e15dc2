//! `varde-bench know`: what the public and analysts' figures cost, for a small and a large history side by side.
//! The ratio is the figure to watch: a page whose cost grows with history can be taken down by a handful of
//! visitors exactly when a severe alert sends people to it.

use anyhow::Context;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use varde::{Reference, demo, open_store};
use varde_core::Application;

/// One size's figures.
struct Figures {
    samples: u64,
    dashboard_p50: Duration,
    dashboard_per_s: f64,
    open_data_p50: Vec<(&'static str, Duration)>,
    pages_p50: Vec<(&'static str, Duration)>,
    time_to_warning_p50: Duration,
    /// Counting every sample once, as a server does after it starts (timed in this process).
    first_count: Duration,
    /// Renewing the counts after one sample changed: one week read again.
    renewal: Duration,
    signal_run: Duration,
    peak_rss_mb: f64,
}

fn p50(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

/// Peak resident memory of process `pid` (Linux's `VmHWM`), in MB.
fn peak_rss_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// The `varde` binary beside this one (`cargo build --release -p varde -p varde-bench` builds both into one folder).
fn varde_binary() -> anyhow::Result<PathBuf> {
    let here = std::env::current_exe()?;
    let varde = here.with_file_name(format!("varde{}", std::env::consts::EXE_SUFFIX));
    anyhow::ensure!(varde.exists(), "{} is missing: build it first (cargo build --release -p varde)", varde.display());
    Ok(varde)
}

/// A `varde serve` of its own (the `varde` binary) on the database, so that its memory is the server's alone; stopped
/// when dropped.
struct Server {
    child: std::process::Child,
    base: String,
}

impl Server {
    async fn start(path: &Path) -> anyhow::Result<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = std::process::Command::new(varde_binary()?)
            .args(["--database", &format!("sqlite://{}", path.display()), "serve", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .spawn()
            .context("starting varde serve")?;
        let server = Server { child, base: format!("http://127.0.0.1:{port}") };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(600);
        // The first dashboard waits for the server's first count of every sample.
        while client.get(format!("{}/dashboard", server.base)).send().await.is_err() {
            anyhow::ensure!(Instant::now() < deadline, "varde serve did not answer");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(server)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The demo database of `samples` samples in `dir`, made (seed 1) when missing.
async fn database(reference: &Reference, dir: &Path, samples: usize) -> anyhow::Result<PathBuf> {
    let path = dir.join(format!("demo-{samples}.db"));
    let url = format!("sqlite://{}", path.display());
    let store = open_store(&url, reference).await?;
    if store.queries().sample_count().await? == 0 {
        let started = Instant::now();
        eprintln!("making a demo database of {samples} samples in {} …", path.display());
        demo::load(store.clone() as Arc<dyn Application>, reference, 1, samples, jiff::Timestamp::now()).await?;
        eprintln!("  made in {:.0} s", started.elapsed().as_secs_f64());
    }
    store.queries().close();
    Ok(path)
}

async fn get_timed(client: &reqwest::Client, url: &str) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let res = client.get(url).send().await?;
    anyhow::ensure!(res.status().is_success(), "{url}: HTTP {}", res.status());
    res.bytes().await?;
    Ok(started.elapsed())
}

/// As a browser or `curl --compressed` fetches it: gzip accepted (the bytes are timed, not unpacked).
async fn get_timed_gzip(client: &reqwest::Client, url: &str) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let res = client.get(url).header(reqwest::header::ACCEPT_ENCODING, "gzip").send().await?;
    anyhow::ensure!(res.status().is_success(), "{url}: HTTP {}", res.status());
    anyhow::ensure!(res.headers().get(reqwest::header::CONTENT_ENCODING).is_some(), "{url}: not compressed");
    res.bytes().await?;
    Ok(started.elapsed())
}

async fn measure(reference: Reference, path: &Path, connections: usize, seconds: Duration) -> anyhow::Result<Figures> {
    let store = open_store(&format!("sqlite://{}", path.display()), &reference).await?;
    let samples = store.queries().sample_count().await?;
    let server = Server::start(path).await?;
    let base = server.base.clone();
    let client = reqwest::Client::builder().pool_max_idle_per_host(connections + 4).build()?;
    // Let the start-up signal run finish before anything is timed.
    tokio::time::sleep(Duration::from_secs(1)).await;

    let mut one = Vec::new();
    for _ in 0..15 {
        one.push(get_timed(&client, &format!("{base}/dashboard?lang=nb")).await?);
    }
    let dashboard_p50 = p50(one);

    let deadline = Instant::now() + seconds;
    let mut workers = Vec::new();
    for _ in 0..connections {
        let (client, url) = (client.clone(), format!("{base}/dashboard?lang=nb"));
        workers.push(tokio::spawn(async move {
            let mut n = 0u64;
            while Instant::now() < deadline {
                if get_timed(&client, &url).await.is_ok() {
                    n += 1;
                }
            }
            n
        }));
    }
    let started = Instant::now();
    let mut views = 0;
    for w in workers {
        views += w.await?;
    }
    let dashboard_per_s = views as f64 / started.elapsed().as_secs_f64();

    let mut open_data_p50 = Vec::new();
    for name in ["samples.csv", "fylke-counts.csv", "weekly-counts.csv", "result-changes.csv"] {
        let mut v = Vec::new();
        for _ in 0..5 {
            v.push(get_timed(&client, &format!("{base}/open-data/{name}")).await?);
        }
        open_data_p50.push((name, p50(v)));
    }
    let mut v = Vec::new();
    for _ in 0..5 {
        v.push(get_timed_gzip(&client, &format!("{base}/open-data/samples.csv")).await?);
    }
    open_data_p50.push(("samples.csv, gzip", p50(v)));
    // The alert pages a severe alert sends a crowd to (they list published alerts, not history).
    let mut pages_p50 = Vec::new();
    for path in ["/alerts?lang=nb", "/alerts.atom", "/api/v1/alerts"] {
        let mut v = Vec::new();
        for _ in 0..5 {
            v.push(get_timed(&client, &format!("{base}{path}")).await?);
        }
        pages_p50.push((path, p50(v)));
    }
    let mut v = Vec::new();
    for _ in 0..5 {
        v.push(get_timed(&client, &format!("{base}/api/v1/stats/time-to-warning")).await?);
    }
    let time_to_warning_p50 = p50(v);
    // The server's peak: its start (the first count and signal run), the crowd on the dashboard, every file.
    let peak_rss_mb = peak_rss_mb(server.child.id());
    drop(server);

    // A server's first count of every sample (it does it at start, before the first signal run).
    let state = varde_web::AppState::new(store.clone(), reference, &base);
    let started = Instant::now();
    state.tallies.current(&state).await?;
    let first_count = started.elapsed();
    // The hourly signal run, as the server does it (the counts kept).
    let started = Instant::now();
    varde_web::detect::monitoring::run(&state, jiff::Timestamp::now()).await.context("the signal run")?;
    let signal_run = started.elapsed();
    // One sample changes (a stated intention): the renewal reads its week again, nothing else.
    let service = varde_domain::service::ServiceSlug::parse(varde_demo::SERVICES[0].slug)?;
    let code = store.queries().samples_of(&service, None, 1).await?.first().map(|s| s.code).context("a demo sample")?;
    let technician = varde_domain::auth::Principal {
        actor: "bench".into(),
        role: varde_domain::auth::Role::Technician,
        service: None,
    };
    store.set_intention(code, varde_domain::feedback::Intention::TakeLess, &technician, jiff::Timestamp::now()).await?;
    let started = Instant::now();
    let renewed = state.tallies.current(&state).await?;
    let renewal = started.elapsed();
    anyhow::ensure!(renewed.weeks_read == 1, "a renewal after one change read {} weeks", renewed.weeks_read);
    Ok(Figures {
        samples,
        dashboard_p50,
        dashboard_per_s,
        open_data_p50,
        pages_p50,
        time_to_warning_p50,
        first_count,
        renewal,
        signal_run,
        peak_rss_mb,
    })
}

pub async fn run(
    reference: Reference,
    small: usize,
    large: usize,
    dir: Option<PathBuf>,
    connections: usize,
    seconds: u64,
) -> anyhow::Result<()> {
    let dir = dir.unwrap_or_else(|| std::env::temp_dir().join("varde-bench-know"));
    std::fs::create_dir_all(&dir)?;
    let mut figures = Vec::new();
    for n in [small, large] {
        let path = database(&reference, &dir, n).await?;
        figures.push(measure(reference.clone(), &path, connections, Duration::from_secs(seconds)).await?);
    }
    let (a, b) = (&figures[0], &figures[1]);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "know at scale: {} vs {} samples ({connections} connections, {seconds} s per throughput run)",
        a.samples, b.samples
    );
    println!("{:<42} {:>14} {:>14} {:>8}", "", a.samples, b.samples, "ratio");
    let row = |name: &str, x: f64, y: f64, unit: &str| {
        println!("{name:<42} {:>11.1} {unit:<2} {:>11.1} {unit:<2} {:>8.1}", x, y, y / x);
    };
    row("/dashboard p50 (one client)", ms(a.dashboard_p50), ms(b.dashboard_p50), "ms");
    row("/dashboard views/s", a.dashboard_per_s, b.dashboard_per_s, "/s");
    for ((name, x), (_, y)) in a.open_data_p50.iter().zip(&b.open_data_p50) {
        row(&format!("/open-data/{name} p50"), ms(*x), ms(*y), "ms");
    }
    for ((path, x), (_, y)) in a.pages_p50.iter().zip(&b.pages_p50) {
        row(&format!("{path} p50"), ms(*x), ms(*y), "ms");
    }
    row("/api/v1/stats/time-to-warning p50", ms(a.time_to_warning_p50), ms(b.time_to_warning_p50), "ms");
    row("hourly signal run", ms(a.signal_run), ms(b.signal_run), "ms");
    row("renewing the counts after one change", ms(a.renewal), ms(b.renewal), "ms");
    row("first count of every sample (at start)", ms(a.first_count), ms(b.first_count), "ms");
    println!(
        "{:<42} {:>11.0} MB {:>11.0} MB  (the varde serve process alone: start, dashboard crowd, every file)",
        "server's peak resident memory", a.peak_rss_mb, b.peak_rss_mb
    );
    Ok(())
}
