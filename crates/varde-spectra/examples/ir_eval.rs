//! The infrared mixture evaluation with chosen distortions:
//! `cargo run --release -p varde-spectra --example ir_eval -- SHIFT BROADENING SLOPE NOISE [MIXTURES [ALPHA MIN_FRACTION]]`.
#[path = "../tests/infrared.rs"]
#[allow(dead_code, unused_imports)]
mod infrared;
use varde_spectra::ir::evaluation::{Distortion, evaluate};
use varde_spectra::ir::{Grid, MixtureOptions};

fn main() {
    let a: Vec<f64> = std::env::args().skip(1).map(|v| v.parse().expect("numbers")).collect();
    let distortion = Distortion { shift: a[0], broadening: a[1], slope: a[2], noise: a[3] };
    let n = a.get(4).map_or(100, |&v| v as usize);
    let mut options = MixtureOptions::default();
    if let (Some(&alpha), Some(&min_fraction)) = (a.get(5), a.get(6)) {
        options.alpha = alpha;
        options.min_fraction = min_fraction;
    }
    let measured = infrared::measured();
    for minor in [0.02, 0.05, 0.10] {
        let o = evaluate(&measured, Grid::STANDARD, minor, n, distortion, &options, 7);
        println!(
            "{:>4.0} % minor found {:.2} all {:.2} wrong {:.2}",
            minor * 100.0,
            o.minor_found,
            o.all_found,
            o.wrong_per_mixture
        );
    }
}
