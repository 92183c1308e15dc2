//! `varde-bench spectra`: EI library search speed per method.

use anyhow::bail;
use std::path::Path;
use std::time::{Duration, Instant};
use varde::spectra::{MethodArg, build_library, name, read_msp};
use varde_spectra::ms::{Method, Mode, Scratch, Settings};

/// `varde-bench spectra`: each method's batch throughput on every core and single-query latency on one,
/// queries prepared (noise filter, weighting) inside the timed part as a caller would.
pub fn run(library: &Path, queries: Option<&Path>, seconds: u64, top: usize) -> anyhow::Result<()> {
    let records = read_msp(library)?;
    let started = Instant::now();
    let lib = build_library(&records, Settings::default());
    let build = started.elapsed();
    let queries = match queries {
        Some(path) => read_msp(path)?,
        None => records.clone(),
    };
    if queries.is_empty() {
        bail!("no queries");
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "library {} spectra, index built in {:.0} ms; {} queries, top {top}, {threads} threads",
        lib.len(),
        build.as_secs_f64() * 1e3,
        queries.len()
    );
    println!("method,batch_queries_per_s,single_p50_us,single_p99_us");
    let budget = Duration::from_secs(seconds.max(1));
    for method in [MethodArg::Cosine, MethodArg::Composite, MethodArg::Entropy] {
        let method_ = Method::from(method);
        // Batch: all queries prepared and searched across every core, repeated until the budget is spent.
        let started = Instant::now();
        let mut done = 0usize;
        while started.elapsed() < budget {
            let chunk = queries.len().div_ceil(threads);
            std::thread::scope(|scope| {
                for part in queries.chunks(chunk) {
                    let lib = &lib;
                    scope.spawn(move || {
                        let mut scratch = Scratch::default();
                        for q in part {
                            let prepared = lib.query(&q.peaks, method_);
                            std::hint::black_box(lib.search(&prepared, Mode::Identity, top, None, &mut scratch));
                        }
                    });
                }
            });
            done += queries.len();
        }
        let rate = done as f64 / started.elapsed().as_secs_f64();
        // Single queries, one at a time on one thread.
        let mut scratch = Scratch::default();
        let mut latencies: Vec<Duration> = Vec::with_capacity(queries.len());
        let started = Instant::now();
        for q in queries.iter().cycle() {
            let t = Instant::now();
            let prepared = lib.query(&q.peaks, method_);
            std::hint::black_box(lib.search(&prepared, Mode::Identity, top, None, &mut scratch));
            latencies.push(t.elapsed());
            if started.elapsed() >= budget && latencies.len() >= queries.len().min(1000) {
                break;
            }
        }
        latencies.sort_unstable();
        let at = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
        println!(
            "{},{:.0},{:.1},{:.1}",
            name(method),
            rate,
            at(0.50).as_secs_f64() * 1e6,
            at(0.99).as_secs_f64() * 1e6
        );
    }
    Ok(())
}
