//! HTTP plumbing shared by every page and endpoint: errors, extractors, sessions and CSRF, language, rate limits,
//! texts, metrics, tokens and the page layout.

pub mod error;
pub mod extract;
pub mod i18n;
pub mod lang;
pub mod limits;
pub mod listener;
pub mod metrics;
pub mod pages;
pub mod passkey_markup;
pub mod passkeys;
pub mod second_factor;
pub mod session;
pub mod sign_in;
pub mod tokens;
