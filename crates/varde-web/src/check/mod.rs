//! Check: what technicians do with a sample and what the person gets back (registration pages, the result
//! look-up with what happened afterwards, photos, spectra, the substance catalogue).

pub mod feedback;
pub mod photo;
pub mod public;
pub mod result;
pub mod samples;
pub mod spectra;
pub mod staff;
pub mod substances;
pub mod technician;
