//! Varde's HTTP kit: what the drug-checking pages (`varde-web`) and the advisory module (`varde-advisory-web`) both
//! need from HTTP, written once — cookies ([`cookies`]), secrets ([`secrets`]: tokens, constant-time comparison,
//! password hashes) and the security headers every page sends ([`headers`]).

pub mod cookies;
pub mod headers;
pub mod i18n;
pub mod oidc;
pub mod passkeys;
pub mod second_factor;
pub mod secrets;
