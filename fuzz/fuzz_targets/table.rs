//! Any input: a clean refusal or a result, never a panic, a hang or unbounded memory.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = varde_spectra::table::parse(data);
});
