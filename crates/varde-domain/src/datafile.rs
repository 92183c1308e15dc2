//! Errors in the data files Varde loads at start (catalogue, method limits, geography): each names the file and
//! the line, so whoever edits the file finds the mistake without reading code.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct DataFileError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for DataFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

impl DataFileError {
    pub fn at(file: &str, text: &str, byte: usize, message: impl Into<String>) -> DataFileError {
        DataFileError { file: file.to_owned(), line: line_of(text, byte), message: message.into() }
    }

    pub fn from_toml(file: &str, text: &str, err: &toml::de::Error) -> DataFileError {
        let byte = err.span().map_or(0, |s| s.start);
        // toml's own message repeats the position and quotes the source; its first paragraph is the reason.
        let reason = err.message().lines().next().unwrap_or("invalid TOML").to_owned();
        DataFileError::at(file, text, byte, reason)
    }
}

/// The 1-based line holding byte offset `byte`.
pub fn line_of(text: &str, byte: usize) -> usize {
    let end = byte.min(text.len());
    text.as_bytes()[..end].iter().filter(|b| **b == b'\n').count() + 1
}
