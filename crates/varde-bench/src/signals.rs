//! `varde-bench signals`: every signal for 300 substances × 16 areas (15 fylker and the nation) over 10 years of
//! weeks, i.e. 4,800 series of 520 weeks, each method evaluating the newest week, on all cores.

use std::time::Instant;
use varde_signals::{CusumParams, EarsParams, FarringtonParams, FlexibleParams, Method, Variant, evaluate};

pub const WEEKS: usize = 520;

/// Deterministic synthetic weekly counts: a seasonal Poisson-like series with a level per series, and an
/// outbreak in some. Written as integers, as counts are.
pub fn series(count: usize) -> Vec<Vec<f64>> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        // xorshift64*: good enough to make varied series, and the same on every machine.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..count)
        .map(|s| {
            let level = 0.5 + 6.0 * next();
            (0..WEEKS)
                .map(|t| {
                    let season = 1.0 + 0.4 * (2.0 * std::f64::consts::PI * t as f64 / 52.0).sin();
                    let outbreak = if s % 7 == 0 && t + 3 >= WEEKS { 3.0 } else { 1.0 };
                    let mean = level * season * outbreak;
                    // Poisson by inversion.
                    let (mut k, mut p, u) = (0.0, (-mean).exp(), next());
                    let mut cdf = p;
                    while u > cdf && k < 1000.0 {
                        k += 1.0;
                        p *= mean / k;
                        cdf += p;
                    }
                    k
                })
                .collect()
        })
        .collect()
}

pub fn methods() -> Vec<(&'static str, Method)> {
    vec![
        ("ears_c1", Method::Ears(EarsParams::new(Variant::C1))),
        ("ears_c2", Method::Ears(EarsParams::new(Variant::C2))),
        ("ears_c3", Method::Ears(EarsParams::new(Variant::C3))),
        ("cusum", Method::Cusum(CusumParams::default())),
        ("farrington", Method::Farrington(FarringtonParams::default())),
        ("flexible_noufaily", Method::Flexible(FlexibleParams::noufaily(5, 3, 0.05))),
    ]
}

pub fn run(substances: usize, areas: usize, write: Option<std::path::PathBuf>) -> anyhow::Result<()> {
    let all = series(substances * areas);
    if let Some(dir) = write {
        std::fs::create_dir_all(&dir)?;
        let mut csv = String::from("series,t,observed\n");
        for (s, y) in all.iter().enumerate() {
            for (t, v) in y.iter().enumerate() {
                csv.push_str(&format!("{s},{},{v}\n", t + 1));
            }
        }
        std::fs::write(dir.join("series.csv"), csv)?;
    }
    let methods = methods();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let started = Instant::now();
    let chunk = all.len().div_ceil(threads);
    let alarms: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = all
            .chunks(chunk)
            .map(|part| {
                let methods = &methods;
                scope.spawn(move || {
                    let mut alarms = 0;
                    for y in part {
                        let last = y.len() - 1;
                        for (_, m) in methods {
                            if let Ok(e) = evaluate(y, last..=last, m) {
                                alarms += e.iter().filter(|e| e.alarm).count();
                            }
                        }
                    }
                    alarms
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("worker")).sum()
    });
    let elapsed = started.elapsed();
    println!(
        "{} series ({substances} substances × {areas} areas) × {WEEKS} weeks, {} methods on the newest week, {threads} threads: {:.3} s ({alarms} alarms)",
        all.len(),
        methods.len(),
        elapsed.as_secs_f64()
    );
    // Each method alone, on one thread, for the comparison with R.
    for (name, m) in &methods {
        let t = Instant::now();
        for y in &all {
            let last = y.len() - 1;
            let _ = evaluate(y, last..=last, m);
        }
        let per = t.elapsed().as_secs_f64() / all.len() as f64;
        println!("  {name}: {:.1} µs per series (one thread)", per * 1e6);
    }
    Ok(())
}
