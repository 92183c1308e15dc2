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

/// The line a CSV record starts on: the reader's position is where it began looking, before the blank lines it
/// skipped.
pub fn record_line(text: &str, p: &csv::Position) -> usize {
    let start = usize::try_from(p.byte()).unwrap_or(text.len()).min(text.len());
    let blank = text[start..].bytes().take_while(|b| *b == b'\n' || *b == b'\r').count();
    line_of(text, start + blank)
}

/// Rows of a CSV file with a header (RFC 4180, read by the `csv` crate; fields trimmed). Returns each row with its
/// 1-based line number.
pub fn csv_rows(file: &str, text: &str, columns: usize) -> Result<Vec<(usize, Vec<String>)>, DataFileError> {
    let mut reader =
        csv::ReaderBuilder::new().has_headers(true).flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for record in reader.records() {
        let at = |e: &csv::Error| e.position().map_or(0, |p| record_line(text, p));
        let record = record.map_err(|e| DataFileError { file: file.into(), line: at(&e), message: e.to_string() })?;
        let line = record.position().map_or(0, |p| record_line(text, p));
        if record.iter().all(str::is_empty) {
            continue;
        }
        if record.len() != columns {
            return Err(DataFileError {
                file: file.into(),
                line,
                message: format!("expected {columns} columns, found {}", record.len()),
            });
        }
        rows.push((line, record.iter().map(str::to_owned).collect()));
    }
    Ok(rows)
}

#[cfg(test)]
mod csv_tests {
    use super::*;

    #[test]
    fn csv_rows_read_quotes_skip_blank_lines_and_name_the_line_of_a_bad_row() {
        let text = "a,b\n\"x, y\",2\n\n  z , 3 \nonly-one\n";
        let err = csv_rows("t.csv", text, 2).unwrap_err();
        assert_eq!((err.line, err.message.as_str()), (5, "expected 2 columns, found 1"));
        let rows = csv_rows("t.csv", "a,b\n\"x, y\",2\n\n  z , 3 \n", 2).unwrap();
        assert_eq!(rows, vec![(2, vec!["x, y".to_owned(), "2".to_owned()]), (4, vec!["z".to_owned(), "3".to_owned()])]);
    }
}
