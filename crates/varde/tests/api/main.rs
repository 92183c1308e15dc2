//! All of Varde's integration tests, in one binary: each test starts the real application on port 0 with a fresh
//! database, or runs the real `varde` executable.

mod advisory;
mod alerts;
mod authz;
mod cli;
mod connections;
mod dashboard;
mod durability;
mod feedback;
mod figures;
mod helpers;
mod indicators;
mod instances;
mod moving;
mod outbound;
mod reach;
mod samples;
mod session;
mod sign_in;
mod signals;
mod spectra;
mod storage;
