//! The benchmarks still run: each command once with tiny parameters, its figures printed. Speed is not asserted
//! here (docs/benchmarks.md holds the measured figures); this keeps the commands from rotting between measurements.

use std::process::Command;

fn bench(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_varde-bench"))
        .args(args)
        .env("VARDE_LOG", "error")
        .output()
        .expect("varde-bench runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{args:?}: {stdout}{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

#[test]
fn signals_samples_alerts_and_reach_run_and_print_their_figures() {
    let out = bench(&["signals", "--substances", "3", "--areas", "2"]);
    assert!(out.contains("series"), "{out}");
    let out = bench(&["samples", "--clients", "2", "--seconds", "1", "--warmup", "0"]);
    assert!(out.contains("samples/s") && out.contains("(0 failed)"), "{out}");
    let out = bench(&["alerts", "--seconds", "1", "--background", "10", "--connections", "4"]);
    assert!(out.to_lowercase().contains("p99"), "{out}");
    let out = bench(&["reach", "--subscribers", "20", "--rounds", "1"]);
    assert!(out.to_lowercase().contains("e-mail") || out.to_lowercase().contains("email"), "{out}");
}
