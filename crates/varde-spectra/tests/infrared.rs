//! Infrared mixture analysis on synthetic mixtures of the real NIST gas-phase spectra in the shared
//! corpus: three components, the minor one at 2, 5 and 10 %, shifted, broadened, on a sloped baseline,
//! with noise.

use std::path::Path;
use varde_spectra::ir::evaluation::{Distortion, Measured, evaluate};
use varde_spectra::ir::{Grid, MixtureOptions, Ordinate, Reference, to_absorbance};

/// Every single-spectrum infrared file with a CAS number (compounds are grouped by CAS: the corpus has
/// m-xylene twice, as "m-xylene" and "1,3-dimethylbenzene"; files without CAS duplicate others).
pub fn measured() -> Vec<Measured> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/jcamp/infrared_spectra");
    let mut paths: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let blocks = varde_spectra::jcamp::parse(&std::fs::read(&path).unwrap()).unwrap();
        let [block] = blocks.as_slice() else { continue };
        let (Some(cas), Some(table)) = (block.label("CAS REGISTRY NO"), block.tables.first()) else { continue };
        if !block.data_type().is_some_and(|t| t.to_ascii_uppercase().contains("INFRARED")) {
            continue;
        }
        let absorbance = to_absorbance(&table.y, Ordinate::from_units(block.y_units()));
        out.push(Measured {
            reference: Reference { name: block.title.clone(), group: cas.to_string() },
            x: table.x.clone(),
            absorbance,
        });
    }
    out
}

#[test]
fn the_minor_component_is_found_in_nine_of_ten_mixtures_with_few_wrong_ones() {
    let measured = measured();
    println!(
        "{} references, {} compounds",
        measured.len(),
        measured.iter().map(|m| &m.reference.group).collect::<std::collections::BTreeSet<_>>().len()
    );
    assert!(measured.len() >= 55, "{} references", measured.len());
    let cases = [(0.02, None), (0.05, Some(0.90)), (0.10, Some(0.90))];
    let outcomes: Vec<_> = std::thread::scope(|scope| {
        let running: Vec<_> = cases
            .iter()
            .map(|&(minor, _)| {
                let measured = &measured;
                scope.spawn(move || {
                    evaluate(measured, Grid::STANDARD, minor, 300, Distortion::default(), &MixtureOptions::default(), 7)
                })
            })
            .collect();
        running.into_iter().map(|r| r.join().unwrap()).collect()
    });
    println!("minor  mixtures  minor found  all found  wrong per mixture");
    for (o, (minor, must_find)) in outcomes.iter().zip(cases) {
        println!(
            "{:>4.0} %  {:>8}  {:>11.2}  {:>9.2}  {:>17.2}",
            minor * 100.0,
            o.mixtures,
            o.minor_found,
            o.all_found,
            o.wrong_per_mixture
        );
        if let Some(bar) = must_find {
            assert!(o.minor_found >= bar, "minor at {minor}: found in {:.2}", o.minor_found);
            assert!(o.wrong_per_mixture <= 0.2, "minor at {minor}: {:.2} wrong per mixture", o.wrong_per_mixture);
        }
    }
}

#[test]
fn a_shifted_spectrum_on_a_sloped_baseline_finds_its_own_compound() {
    use varde_spectra::ir::{IrLibrary, SearchMethod, resample};
    let measured = measured();
    let grid = Grid::STANDARD;
    let mut library = IrLibrary::new(grid);
    for m in &measured {
        library.add(m.reference.clone(), &resample(&m.x, &m.absorbance, &grid, 0.0));
    }
    for method in [SearchMethod::Correlation, SearchMethod::Hqi, SearchMethod::Derivative] {
        let mut right = 0;
        for m in &measured {
            let mut query = resample(&m.x, &m.absorbance, &grid, 2.0);
            let peak = query.iter().copied().fold(0.0, f64::max);
            for (i, v) in query.iter_mut().enumerate() {
                *v += 0.1 * peak * i as f64 / grid.len as f64 + 0.02 * peak;
            }
            let hit = library.search(&query, method, 1)[0];
            right += usize::from(library.references[hit.index].group == m.reference.group);
        }
        let share = right as f64 / measured.len() as f64;
        println!("{method:?}: top-1 {share:.3}");
        assert!(share >= 0.95, "{method:?}: {share:.3}");
    }
}
