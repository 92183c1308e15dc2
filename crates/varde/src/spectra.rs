//! `varde spectra …`: library search and its evaluation from the command line, and `varde bench spectra`.

use anyhow::{Context, bail};
use clap::{Subcommand, ValueEnum};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use varde_spectra::ms::{self, Entry, Library, Method, Mode, Scratch, Settings};
use varde_spectra::msp::MspRecord;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum MethodArg {
    /// Weighted cosine (m/z^a × intensity^b).
    Cosine,
    /// Weighted cosine re-ranked by the NIST composite (adds the ratios of neighbouring peaks).
    Composite,
    /// Spectral entropy similarity (Li et al. 2021), weighted for low-entropy spectra.
    Entropy,
}

impl From<MethodArg> for Method {
    fn from(m: MethodArg) -> Method {
        match m {
            MethodArg::Cosine => Method::Cosine,
            MethodArg::Composite => Method::Composite,
            MethodArg::Entropy => Method::Entropy,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ModeArg {
    /// Rank by the whole spectra.
    Identity,
    /// Ignore query peaks the library spectrum lacks (mixtures, bleed).
    Reverse,
}

impl From<ModeArg> for Mode {
    fn from(m: ModeArg) -> Mode {
        match m {
            ModeArg::Identity => Mode::Identity,
            ModeArg::Reverse => Mode::Reverse,
        }
    }
}

/// The weighting and noise options every library command shares.
#[derive(clap::Args, Clone, Copy, Debug)]
pub struct WeightArgs {
    /// Peaks below this fraction of the base peak are ignored.
    #[arg(long, default_value_t = Settings::default().noise)]
    pub noise: f64,
    /// m/z power of the cosine weights.
    #[arg(long, default_value_t = Settings::default().mz_power)]
    pub mz_power: f64,
    /// Intensity power of the cosine weights.
    #[arg(long, default_value_t = Settings::default().intensity_power)]
    pub intensity_power: f64,
}

impl WeightArgs {
    fn settings(&self) -> Settings {
        Settings { noise: self.noise, mz_power: self.mz_power, intensity_power: self.intensity_power }
    }
}

#[derive(Subcommand)]
pub enum SpectraCommand {
    /// Search query spectra (MSP) against a library (MSP); prints CSV query_id,rank,library_id,name,score.
    Search {
        #[arg(long)]
        library: PathBuf,
        #[arg(long)]
        query: PathBuf,
        #[arg(long, value_enum, default_value_t = MethodArg::Composite)]
        method: MethodArg,
        #[arg(long, value_enum, default_value_t = ModeArg::Identity)]
        mode: ModeArg,
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
        top: u32,
        #[command(flatten)]
        weights: WeightArgs,
    },
    /// Leave-one-out identification accuracy of a library against itself, per method.
    Evaluate {
        #[arg(long)]
        library: PathBuf,
        #[command(flatten)]
        weights: WeightArgs,
    },
}

pub fn read_msp(path: &Path) -> anyhow::Result<Vec<MspRecord>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    varde_spectra::msp::parse(&bytes).with_context(|| format!("{} is not a valid MSP file", path.display()))
}

pub fn build_library(records: &[MspRecord], settings: Settings) -> Library {
    Library::build(
        records
            .iter()
            .map(|r| (Entry { id: r.id.clone(), name: r.name.clone(), inchikey: r.inchikey.clone() }, r.peaks.clone())),
        settings,
    )
}

/// A CSV field, quoted when it has to be.
fn csv(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

fn name(value: impl ValueEnum) -> String {
    value.to_possible_value().map(|v| v.get_name().to_string()).unwrap_or_default()
}

pub fn run(cmd: SpectraCommand) -> anyhow::Result<()> {
    match cmd {
        SpectraCommand::Search { library, query, method, mode, top, weights } => {
            let lib = build_library(&read_msp(&library)?, weights.settings());
            let queries = read_msp(&query)?;
            let method = Method::from(method);
            let prepared: Vec<ms::Query> = queries.iter().map(|q| lib.query(&q.peaks, method)).collect();
            let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
            let results = lib.search_batch(&prepared, mode.into(), top as usize, threads);
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            writeln!(out, "query_id,rank,library_id,name,score")?;
            for (q, hits) in queries.iter().zip(results) {
                for (rank, hit) in hits.iter().enumerate() {
                    let entry = &lib.entries[hit.index as usize];
                    writeln!(
                        out,
                        "{},{},{},{},{:.4}",
                        csv(&q.id),
                        rank + 1,
                        csv(&entry.id),
                        csv(&entry.name),
                        hit.score
                    )?;
                }
            }
            out.flush()?;
            Ok(())
        }
        SpectraCommand::Evaluate { library, weights } => {
            let records = read_msp(&library)?;
            let lib = build_library(&records, weights.settings());
            let spectra: Vec<_> = records.iter().map(|r| r.peaks.clone()).collect();
            println!("method,mode,queries,top1,top5");
            for method in [MethodArg::Cosine, MethodArg::Composite, MethodArg::Entropy] {
                for mode in [ModeArg::Identity, ModeArg::Reverse] {
                    let e = ms::leave_one_out(&lib, &spectra, method.into(), mode.into());
                    println!("{},{},{},{:.4},{:.4}", name(method), name(mode), e.queries, e.top1, e.top5);
                }
            }
            Ok(())
        }
    }
}

/// `varde bench spectra`: each method's batch throughput on every core and single-query latency on one,
/// queries prepared (noise filter, weighting) inside the timed part as a caller would.
pub fn bench(library: &Path, queries: Option<&Path>, seconds: u64, top: usize) -> anyhow::Result<()> {
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
