//! Detect: turning results and reports into signals (the hourly signal run, positivity streams, concern reports).

pub mod concern;
pub mod monitoring;
pub mod positivity;
