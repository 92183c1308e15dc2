//! `varde spectra …`: library search and its evaluation from the command line.

use anyhow::Context;
use clap::{Subcommand, ValueEnum};
use std::io::Write;
use std::path::{Path, PathBuf};
use varde_spectra::ms::{self, Entry, Library, Method, Mode, Settings};
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

pub fn name(value: impl ValueEnum) -> String {
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
