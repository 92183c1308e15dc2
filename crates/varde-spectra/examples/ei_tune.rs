//! Leave-one-out accuracy on an MSP library for a grid of weightings and noise thresholds (used to pick
//! `Settings::default`): `cargo run --release -p varde-spectra --example ei_tune -- LIB.msp`.
use varde_spectra::ms::{Entry, Library, Method, Mode, Settings, leave_one_out};

fn main() {
    let path = std::env::args().nth(1).expect("an MSP library");
    let records = varde_spectra::msp::parse(&std::fs::read(path).expect("readable")).expect("valid MSP");
    for min_mz in [0.0] {
        let spectra: Vec<Vec<(f64, f64)>> =
            records.iter().map(|r| r.peaks.iter().copied().filter(|p| p.0 >= min_mz - 0.5).collect()).collect();
        for noise in [0.0, 0.01] {
            for (mz_power, intensity_power) in [(1.0, 0.5), (1.0, 0.4), (3.0, 0.6), (2.0, 0.5), (1.3, 0.53)] {
                let settings = Settings { noise, mz_power, intensity_power };
                let lib = Library::build(
                    records.iter().zip(&spectra).map(|(r, p)| {
                        (Entry { id: r.id.clone(), name: r.name.clone(), inchikey: r.inchikey.clone() }, p.clone())
                    }),
                    settings,
                );
                let e = leave_one_out(&lib, &spectra, Method::Cosine, Mode::Identity);
                let c = leave_one_out(&lib, &spectra, Method::Composite, Mode::Identity);
                println!(
                    "min {min_mz} noise {noise} mz^{mz_power} I^{intensity_power}: top-1 {:.4} top-5 {:.4}; composite {:.4} {:.4}",
                    e.top1, e.top5, c.top1, c.top5
                );
            }
            let lib = Library::build(
                records.iter().zip(&spectra).map(|(r, p)| {
                    (Entry { id: r.id.clone(), name: r.name.clone(), inchikey: r.inchikey.clone() }, p.clone())
                }),
                Settings { noise, ..Settings::default() },
            );
            let e = leave_one_out(&lib, &spectra, Method::Entropy, Mode::Identity);
            println!("min {min_mz} noise {noise} entropy: top-1 {:.4} top-5 {:.4}", e.top1, e.top5);
        }
    }
}
