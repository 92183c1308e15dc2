//! Library search on the real MassBank EI library: the index returns what scoring every spectrum
//! returns, and leave-one-out identification reaches the accuracy the issue asks for.

use std::path::Path;
use varde_spectra::ms::{Entry, Library, Method, Mode, Scratch, Settings, leave_one_out};
use varde_spectra::msp::MspRecord;

fn records() -> Vec<MspRecord> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ei/massbank_ei.msp");
    varde_spectra::msp::parse(&std::fs::read(path).expect("shared MassBank library")).unwrap()
}

fn library(records: &[MspRecord], settings: Settings) -> Library {
    Library::build(
        records
            .iter()
            .map(|r| (Entry { id: r.id.clone(), name: r.name.clone(), inchikey: r.inchikey.clone() }, r.peaks.clone())),
        settings,
    )
}

#[test]
fn the_library_parses_whole() {
    let records = records();
    assert_eq!(records.len(), 9427);
    assert!(records.iter().all(|r| !r.id.is_empty() && !r.peaks.is_empty()));
    // 547 records carry an empty InChIKey; they are searched but not counted in leave-one-out.
    assert_eq!(records.iter().filter(|r| r.inchikey.is_none()).count(), 547);
}

#[test]
fn the_index_gives_exactly_what_scoring_every_spectrum_gives() {
    let records = records();
    let lib = library(&records, Settings::default());
    let mut scratch = Scratch::default();
    for method in [Method::Cosine, Method::Composite, Method::Entropy] {
        for (i, record) in records.iter().enumerate().step_by(47) {
            let query = lib.query(&record.peaks, method);
            let fast = lib.search(&query, Mode::Identity, 5, Some(i as u32), &mut scratch);
            let slow = lib.search_exhaustive(&query, 5, Some(i as u32));
            assert_eq!(fast.len(), slow.len(), "{method:?} query {i}");
            for (f, s) in fast.iter().zip(&slow) {
                assert!((f.score - s.score).abs() < 1e-4, "{method:?} query {i}: {f:?} vs {s:?}");
            }
            assert_eq!(fast[0].index, slow[0].index, "{method:?} query {i}");
        }
    }
}

#[test]
fn leave_one_out_identification_reaches_the_target() {
    let records = records();
    let lib = library(&records, Settings::default());
    let spectra: Vec<_> = records.iter().map(|r| r.peaks.clone()).collect();
    // The bar (0.758, the best dense weighted cosine seen before) for the composite; the plain
    // cosine and entropy are held at what they reach today so that a regression shows.
    for (method, bar) in [(Method::Composite, 0.758), (Method::Cosine, 0.74), (Method::Entropy, 0.69)] {
        let e = leave_one_out(&lib, &spectra, method, Mode::Identity);
        println!("{method:?}: top-1 {:.4}, top-5 {:.4} over {} spectra", e.top1, e.top5, e.queries);
        assert_eq!(e.queries, 3234);
        assert!(e.top1 >= bar, "{method:?} top-1 {:.4} below {bar}", e.top1);
        assert!(e.top5 >= e.top1);
    }
}
