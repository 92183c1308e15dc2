//! `varde-bench`: Varde's benchmarks, outside the production binary. Each command starts what it measures (a server
//! on a fresh database in this process, or `varde serve` as a process of its own for `know`) and prints its figures;
//! docs/benchmarks.md holds them with the command, the machine and the date.

mod alerts;
mod know;
mod reach;
mod samples;
mod signals;
mod spectra;

use clap::{Parser, Subcommand};
use std::time::Duration;

#[derive(Parser)]
#[command(name = "varde-bench", about = "Measure Varde's speed")]
struct Cli {
    /// An edited substance catalogue, as `varde --catalogue` takes it.
    #[arg(long, env = "VARDE_CATALOGUE")]
    catalogue: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Every signal (EARS C1-C3, CUSUM, Farrington, Farrington flexible) on the newest week of 300 substances ×
    /// 16 areas × 10 years of synthetic weekly counts.
    Signals {
        #[arg(long, default_value_t = 300)]
        substances: usize,
        #[arg(long, default_value_t = 16)]
        areas: usize,
        /// Also write the series to DIR/series.csv (for the comparison with R).
        #[arg(long)]
        write: Option<std::path::PathBuf>,
    },
    /// From a severe sample to its event and draft (under background load), from publication to webhook delivery,
    /// and Atom and CAP feeds under 100 concurrent connections. Always against a server started here.
    Alerts {
        /// Seconds for each of the three measurements.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Background sample registrations per second during the first measurement.
        #[arg(long, default_value_t = 200)]
        background: u64,
        /// Concurrent connections for the feed measurement.
        #[arg(long, default_value_t = 100)]
        connections: usize,
        /// The database of the server started here (default: a new SQLite file); a PostgreSQL one must be empty.
        #[arg(long = "bench-database", id = "bench_database")]
        database: Option<String>,
    },
    /// From a publication to every matching subscriber: e-mails accepted by an SMTP server and pushes accepted by
    /// a push service on loopback, and the time to the first e-mail. Always against a server started here.
    Reach {
        /// E-mail subscribers, and as many push subscribers.
        #[arg(long, default_value_t = 10_000)]
        subscribers: usize,
        /// Publications (the first a publication, then updates), each to every subscriber.
        #[arg(long, default_value_t = 10)]
        rounds: usize,
    },
    /// What the dashboard, open-data files, time to warning and the hourly signal run cost with a small and a large
    /// history side by side (demo databases made once in --dir and kept).
    Know {
        #[arg(long, default_value_t = 10_000)]
        small: usize,
        #[arg(long, default_value_t = 1_000_000)]
        large: usize,
        /// Where the demo databases are kept between runs (default: a folder in the temporary directory).
        #[arg(long)]
        dir: Option<std::path::PathBuf>,
        #[arg(long, default_value_t = 50)]
        connections: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// EI library search: batch queries per second on every core and single-query latency, per method.
    Spectra {
        #[arg(long, default_value = "crates/varde-spectra/tests/data/ei/massbank_ei.msp")]
        library: std::path::PathBuf,
        /// Query spectra (MSP); the library's own spectra when left out.
        #[arg(long)]
        queries: Option<std::path::PathBuf>,
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        #[arg(long, default_value_t = 5)]
        top: usize,
    },
    /// Sample registrations per second and their latency.
    Samples(samples::Args),
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("VARDE_LOG").unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let reference = varde::load_reference(cli.catalogue.as_ref())?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Signals { substances, areas, write } => signals::run(substances, areas, write),
            Command::Spectra { library, queries, seconds, top } => {
                spectra::run(&library, queries.as_deref(), seconds, top)
            }
            Command::Know { small, large, dir, connections, seconds } => {
                know::run(reference, small, large, dir, connections, seconds).await
            }
            Command::Reach { subscribers, rounds } => reach::run(reference, subscribers, rounds).await,
            Command::Alerts { seconds, background, connections, database } => {
                alerts::run(reference, Duration::from_secs(seconds), background, connections, database).await
            }
            Command::Samples(args) => samples::run(reference, args).await,
        }
    })
}
