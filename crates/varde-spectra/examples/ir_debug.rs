//! Print the first mixtures of the infrared evaluation and what the analysis proposes for each.
#[path = "../tests/infrared.rs"]
#[allow(dead_code, unused_imports)]
mod infrared;
use varde_spectra::ir::evaluation::{Distortion, Rng, synthesize};
use varde_spectra::ir::{Grid, IrLibrary, MixtureOptions, resample};

fn main() {
    let measured = infrared::measured();
    let mut lib = IrLibrary::new(Grid::STANDARD);
    for m in &measured {
        lib.add(m.reference.clone(), &resample(&m.x, &m.absorbance, &Grid::STANDARD, 0.0));
    }
    let mut rng = Rng(7);
    for _ in 0..100 {
        let (picks, mixture) = synthesize(&measured, Grid::STANDARD, 0.05, Distortion::default(), &mut rng);
        let names: Vec<&str> = picks.iter().map(|&p| measured[p].reference.name.as_str()).collect();
        let proposed = lib.mixture(&mixture, &MixtureOptions::default());
        let got: Vec<String> = proposed
            .iter()
            .map(|c| format!("{} {:.3} p={:.1e}", measured[c.index].reference.name, c.fraction, c.p_value))
            .collect();
        let ok = proposed.len() == 3
            && picks
                .iter()
                .all(|&p| proposed.iter().any(|c| measured[c.index].reference.group == measured[p].reference.group));
        if !ok {
            println!("{names:?}\n    -> {got:?}");
        }
    }
}
