//! Every JCAMP-DX file in the shared reference corpus parses, or is refused with a reason; nothing panics.

use std::path::{Path, PathBuf};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/jcamp")
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref(),
            Some("jdx" | "dx" | "jcm")
        ) {
            out.push(path);
        }
    }
}

#[test]
fn every_file_in_the_corpus_parses_or_is_refused_with_a_reason() {
    let mut paths = Vec::new();
    files(&corpus(), &mut paths);
    paths.sort();
    assert!(paths.len() > 100, "corpus not found at {}", corpus().display());
    let mut parsed = 0;
    for path in &paths {
        let bytes = std::fs::read(path).unwrap();
        match varde_spectra::jcamp::parse(&bytes) {
            Ok(blocks) => {
                parsed += 1;
                let tables: usize = blocks.iter().flat_map(|b| b.flatten()).map(|b| b.tables.len()).sum();
                println!("ok      {} ({} blocks, {tables} tables)", path.display(), blocks.len());
            }
            Err(e) => println!("refused {}: {e}", path.display()),
        }
    }
    println!("{parsed} of {} parsed", paths.len());
}

fn first_table(relative: &str) -> varde_spectra::jcamp::Table {
    let bytes = std::fs::read(corpus().join(relative)).unwrap();
    let blocks = varde_spectra::jcamp::parse(&bytes).unwrap();
    blocks[0].flatten().iter().find_map(|b| b.tables.first().cloned()).unwrap()
}

#[test]
fn the_same_bruker_spectrum_in_affn_pac_and_sqz_decodes_identically() {
    let affn = first_table("jcamp-dx.org_official_test_data/BRUKAFFN.DX");
    assert_eq!(affn.y.len(), 16384);
    for other in ["BRUKPAC.DX", "BRUKSQZ.DX", "TEST32.DX"] {
        let table = first_table(&format!("jcamp-dx.org_official_test_data/{other}"));
        assert_eq!(table.y, affn.y, "{other}");
        assert_eq!(table.x, affn.x, "{other}");
    }
}

#[test]
fn dif_dup_and_ntuples_agree_with_the_plain_spectrum() {
    // TESTSPEC (16 bit) and the real page of TESTNTUP are the same ethylbenzene spectrum.
    let spec = first_table("jcamp-dx.org_official_test_data/TESTSPEC.DX");
    let ntup = first_table("jcamp-dx.org_official_test_data/TESTNTUP.DX");
    assert_eq!(ntup.page.as_deref(), Some("N=1"));
    assert_eq!(ntup.y.len(), spec.y.len());
    let worst = spec.y.iter().zip(&ntup.y).map(|(a, b)| ((a - b) / a.abs().max(1.0)).abs()).fold(0.0, f64::max);
    assert!(worst < 1e-6, "largest relative difference {worst}");
    // BRUKDIF (DIFDUP) and BRUKNTUP's real page hold the same raw numbers.
    let dif = first_table("jcamp-dx.org_official_test_data/BRUKDIF.DX");
    let bruk_ntup = first_table("jcamp-dx.org_official_test_data/BRUKNTUP.DX");
    assert_eq!(dif.y, bruk_ntup.y);
}

#[test]
fn only_the_deliberately_broken_file_is_refused() {
    let mut paths = Vec::new();
    files(&corpus(), &mut paths);
    let refused: Vec<String> = paths
        .iter()
        .filter(|p| varde_spectra::jcamp::parse(&std::fs::read(p).unwrap()).is_err())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    // xyinc2.jdx splices lines of another spectrum into a series: more ordinates than NPOINTS declares.
    assert_eq!(refused, vec!["xyinc2.jdx".to_string()]);
}

#[test]
fn infrared_and_mass_spectra_carry_units_and_points() {
    let toluene = first_table("infrared_spectra/toluene.jdx");
    assert!(toluene.x.len() > 1000);
    assert!((toluene.x[0] - 456.0).abs() < 1e-9);
    let ms = first_table("jcamp-dx.org_official_test_data/ISAS_MS1.DX");
    assert_eq!(ms.kind, varde_spectra::jcamp::TableKind::Points);
    assert_eq!(ms.x.len(), 26);
}
