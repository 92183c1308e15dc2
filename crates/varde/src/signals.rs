//! `varde signals`: aberration detection for analysts.

use anyhow::{Context, bail};
use clap::{Subcommand, ValueEnum};
use std::path::PathBuf;
use varde_signals::{CusumParams, EarsParams, FarringtonParams, FlexibleParams, Method, Variant, evaluate};

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum MethodName {
    Earsc1,
    Earsc2,
    Earsc3,
    Farrington,
    Flexible,
    Cusum,
}

#[derive(Subcommand)]
pub enum SignalsCommand {
    /// Evaluate the newest complete week of every stream in the database and record new signals (the server does
    /// this every hour).
    Run,
    /// Run a method on a weekly series read from CSV (`t,observed`); prints `t,observed,upperbound,alarm`.
    Series {
        #[arg(long, value_enum)]
        method: MethodName,
        /// CSV with a header and the columns t, observed.
        #[arg(long)]
        input: PathBuf,
        /// Years of reference weeks (Farrington methods; default 5).
        #[arg(long)]
        b: Option<usize>,
        /// Half-width of the reference window in weeks (Farrington methods; default 3).
        #[arg(long)]
        w: Option<usize>,
        /// Significance level (default: 0.001 for EARS C1 and C2, 0.025 for C3, 0.05 for Farrington).
        #[arg(long)]
        alpha: Option<f64>,
        /// Farrington flexible with Noufaily et al.'s settings instead of the original ones.
        #[arg(long)]
        noufaily: bool,
        /// CUSUM reference value and decision interval.
        #[arg(long, default_value_t = 1.04)]
        k: f64,
        #[arg(long, default_value_t = 2.26)]
        h: f64,
        /// Weeks to evaluate, FROM:TO as t values (default: the last 52).
        #[arg(long)]
        range: Option<String>,
    },
}

/// Reads `t,observed` with a header; each error names the line.
pub fn read_series(path: &PathBuf) -> anyhow::Result<(Vec<String>, Vec<f64>)> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut t = Vec::new();
    let mut y = Vec::new();
    let mut reader =
        csv::ReaderBuilder::new().has_headers(true).flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    for record in reader.records() {
        let record = record.with_context(|| format!("{}: not CSV", path.display()))?;
        let line = record.position().map_or(0, |p| varde_domain::datafile::record_line(&text, p));
        let (Some(week), Some(count)) = (record.get(0), record.get(1)) else {
            bail!("{}:{line}: expected two columns, t and observed", path.display());
        };
        let count: f64 = count.parse().ok().filter(|c: &f64| c.is_finite() && *c >= 0.0).with_context(|| {
            format!("{}:{line}: observed must be a count (a number of at least 0), not '{count}'", path.display())
        })?;
        t.push(week.to_owned());
        y.push(count);
    }
    if y.is_empty() {
        bail!("{}: no weeks", path.display());
    }
    Ok((t, y))
}

/// Signal detection over the stored samples.
pub async fn run_stored(database: &str, reference: &crate::Reference) -> anyhow::Result<()> {
    let store = crate::open_store(database, reference).await?;
    let state = varde_web::AppState::new(store, reference.clone(), "");
    let (new, alarms) = varde_web::detect::monitoring::run(&state, jiff::Timestamp::now()).await?;
    println!("{alarms} streams above their bound in the newest complete week; {new} new signals recorded");
    Ok(())
}

pub fn run(cmd: SignalsCommand) -> anyhow::Result<()> {
    let SignalsCommand::Series { method, input, b, w, alpha, noufaily, k, h, range } = cmd else {
        unreachable!("Run is handled by run_stored")
    };
    let (t, y) = read_series(&input)?;
    let (from, to) = match range {
        None => (y.len().saturating_sub(52), y.len() - 1),
        Some(r) => {
            let (a, b) = r.split_once(':').context("--range is FROM:TO, e.g. 260:312")?;
            let find = |v: &str| t.iter().position(|x| x == v).with_context(|| format!("week {v} is not in the input"));
            (find(a.trim())?, find(b.trim())?)
        }
    };
    if from > to {
        bail!("--range must run forwards");
    }
    let (b, w) = (b.unwrap_or(5), w.unwrap_or(3));
    let m = match method {
        MethodName::Earsc1 | MethodName::Earsc2 | MethodName::Earsc3 => {
            let variant = match method {
                MethodName::Earsc1 => Variant::C1,
                MethodName::Earsc2 => Variant::C2,
                _ => Variant::C3,
            };
            let mut p = EarsParams::new(variant);
            if let Some(a) = alpha {
                p.alpha = a;
            }
            Method::Ears(p)
        }
        MethodName::Farrington => {
            Method::Farrington(FarringtonParams { b, w, alpha: alpha.unwrap_or(0.05), ..FarringtonParams::default() })
        }
        MethodName::Flexible => {
            let a = alpha.unwrap_or(0.05);
            Method::Flexible(if noufaily {
                FlexibleParams::noufaily(b, w, a)
            } else {
                FlexibleParams::original(b, w, a)
            })
        }
        MethodName::Cusum => Method::Cusum(CusumParams { k, h }),
    };
    let evaluations = evaluate(&y, from..=to, &m)?;
    let mut out = String::from("t,observed,upperbound,alarm\n");
    for e in evaluations {
        let ub = if e.upperbound.is_nan() { "NA".to_owned() } else { e.upperbound.to_string() };
        out.push_str(&format!("{},{},{},{}\n", t[e.week - 1], e.observed, ub, u8::from(e.alarm)));
    }
    print!("{out}");
    Ok(())
}
