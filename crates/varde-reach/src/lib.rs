//! The wire protocols that carry warnings to people. What to say and to whom is decided elsewhere.

pub mod mail;
pub mod outbound;
pub mod webpush;
