//! Time leave-one-out searches of a whole MSP library against itself, per method (single thread, best
//! of three rounds): `cargo run --release -p varde-spectra --example ei_stats -- LIB.msp [METHOD]`; `TOPK=k`
//! in the environment sets how many hits each search returns (default 5).
use varde_spectra::ms::*;
fn main() {
    let top = std::env::var("TOPK").ok().and_then(|v| v.parse().ok()).unwrap_or(5);
    let path = std::env::args().nth(1).expect("an MSP library");
    let records = varde_spectra::msp::parse(&std::fs::read(path).expect("readable")).expect("valid MSP");
    let lib = Library::build(records.iter().map(|r| (Entry::default(), r.peaks.clone())), Settings::default());
    let only = std::env::args().nth(2);
    for method in [Method::Cosine, Method::Composite, Method::Entropy] {
        if only.as_ref().is_some_and(|m| !format!("{method:?}").eq_ignore_ascii_case(m)) {
            continue;
        }
        let mut scratch = Scratch::default();
        let mut fastest = f64::INFINITY;
        let mut total = 0.0;
        for _ in 0..3 {
            let t = std::time::Instant::now();
            total = 0.0;
            for (i, r) in records.iter().enumerate() {
                let q = lib.query(&r.peaks, method);
                total +=
                    lib.search(&q, Mode::Identity, top, Some(i as u32), &mut scratch).first().map_or(0.0, |h| h.score);
            }
            fastest = fastest.min(t.elapsed().as_secs_f64() * 1e6 / records.len() as f64);
        }
        println!("{method:?}: {fastest:.1} us per query (mean best score {:.4})", total / records.len() as f32);
    }
}
