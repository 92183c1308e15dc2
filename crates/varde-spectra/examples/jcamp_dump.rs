//! Print what the JCAMP-DX parser reads from a file: blocks, labels of interest and table sizes.
fn main() {
    for path in std::env::args().skip(1) {
        let bytes = std::fs::read(&path).expect("readable file");
        match varde_spectra::jcamp::parse(&bytes) {
            Ok(blocks) => {
                for block in blocks.iter().flat_map(|b| b.flatten()) {
                    println!(
                        "{path}: {:?} type={:?} x={:?} y={:?}",
                        block.title,
                        block.data_type(),
                        block.x_units(),
                        block.y_units()
                    );
                    for t in &block.tables {
                        let (x0, x1) =
                            (t.x.first().copied().unwrap_or(f64::NAN), t.x.last().copied().unwrap_or(f64::NAN));
                        println!(
                            "  {:?} page={:?} {} points x {x0}..{x1} y[0]={:?}",
                            t.kind,
                            t.page,
                            t.y.len(),
                            t.y.first()
                        );
                    }
                }
            }
            Err(e) => println!("{path}: {e}"),
        }
    }
}
