//! Varde's domain: what a drug-checking service registers and what the system knows about substances and places.
//!
//! Everything here is pure: values in, values out. No IO, no async, no clock (time is passed in), no global
//! randomness (a random source is passed in). Data that changes without code (the substance catalogue, method
//! limits) is parsed from text given by the caller and validated with errors naming file and line.

pub mod alert;
pub mod alert_text;
pub mod assess;
pub mod auth;
pub mod catalogue;
pub mod cell_key;
pub mod client;
pub mod code;
pub mod colour;
pub mod datafile;
pub mod edas;
pub mod error;
pub mod feedback;
pub mod finding;
pub mod geo;
pub mod indicator;
pub mod joining;
pub mod lang;
pub mod merging;
pub mod method;
pub mod opendata;
pub mod payloads;
pub mod personal_data;
pub mod privacy;
pub mod recording;
pub mod risk;
pub mod sample;
pub mod service;
pub mod sign_in;
pub mod subscription;
#[cfg(test)]
mod testing;
pub mod text;
pub mod tier;
pub mod wire;

pub use catalogue::{Catalogue, SubstanceClass, SubstanceRef};
pub use code::SampleCode;
pub use error::{ErrorCode, InvalidInput};
pub use geo::Geography;
pub use lang::{Lang, Localized};
pub use method::{Method, MethodLimits};
pub use risk::RiskPolicy;
pub use tier::Tier;
