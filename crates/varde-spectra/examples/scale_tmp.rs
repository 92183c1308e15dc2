use varde_spectra::ms::*;
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let records = varde_spectra::msp::parse(&std::fs::read(path).unwrap()).unwrap();
    let lib = Library::build(records.iter().map(|r| (Entry::default(), r.peaks.clone())), Settings::default());
    for method in [Method::Cosine, Method::Composite] {
        let qs: Vec<_> = records.iter().map(|r| lib.query(&r.peaks, method)).collect();
        for threads in [1, 2, 1, 2] {
            let t = std::time::Instant::now();
            std::hint::black_box(lib.search_batch(&qs, Mode::Identity, 5, threads));
            println!("{method:?} threads {threads}: {:.0} q/s", qs.len() as f64 / t.elapsed().as_secs_f64());
        }
    }
}
