//! Spectra for drug checking: read what instruments write, find what a spectrum most resembles, and
//! propose the components of an infrared mixture for the technician to confirm.
//!
//! Pure: parsers take bytes or text, searches take spectra; files, databases and threads belong to the
//! callers (the `varde` binary and `varde-web`).
//!
//! * [`jcamp`] — JCAMP-DX 4.24/5.01: AFFN, the ASDF compressed forms (PAC, SQZ, DIF, DUP), peak tables,
//!   compound (link) files and NTUPLES.
//! * [`msp`] — NIST MSP mass-spectral libraries.
//! * [`table`] — plain two-column text (CSV, semicolon, tab or space separated).
//! * [`ms`] — electron-ionisation library search: weighted cosine, NIST composite and spectral entropy over
//!   nominal m/z, one vectorised pass per query bounding every spectrum and exact scores for the best; top-k,
//!   identity and reverse search.
//! * [`ir`] — infrared: common grid, baseline, normalisation, derivative, correlation search and mixture
//!   analysis by non-negative least squares with a test per component.

pub mod ir;
pub mod jcamp;
pub mod ms;
pub mod msp;
pub mod nnls;
pub mod table;

/// Text from instrument files: UTF-8 when it is valid UTF-8, otherwise Latin-1 (which every byte is), so
/// old files written on Windows or a Mac still read instead of failing on one accented character.
pub fn decode_text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => std::borrow::Cow::Owned(bytes.iter().map(|&b| b as char).collect()),
    }
}

/// Lines split on CRLF, LF or a lone CR (classic Mac files use CR only).
pub(crate) fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.split('\n').flat_map(|line| line.strip_suffix('\r').unwrap_or(line).split('\r'))
}
