//! Plain two-column spectra: `x,y` per line, separated by a comma, semicolon, tab or spaces, with
//! optional header line and `#` comments — what spreadsheet exports and instrument software write.
//! With a semicolon or tab separator a decimal comma (`1234,5`) is accepted, as Norwegian Excel writes.

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("CSV line {line}: {reason}")]
pub struct TableError {
    pub line: usize,
    pub reason: String,
}

pub const MAX_ROWS: usize = 4_000_000;

/// Parse into (x, y) columns.
pub fn parse(bytes: &[u8]) -> Result<(Vec<f64>, Vec<f64>), TableError> {
    let text = crate::decode_text(bytes);
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for (index, raw) in crate::lines(&text).enumerate() {
        let line_no = index + 1;
        let line = raw.trim().trim_start_matches('\u{feff}');
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let decimal_comma = line.contains(';') || line.contains('\t');
        let fields: Vec<&str> = line
            .split(|c: char| c == ';' || c == '\t' || c == ' ' || (!decimal_comma && c == ','))
            .filter(|f| !f.is_empty())
            .collect();
        let value = |field: &str| -> Option<f64> {
            let field = field.trim().trim_matches('"');
            let normalised = if decimal_comma { field.replace(',', ".") } else { field.to_string() };
            normalised.parse::<f64>().ok().filter(|v| v.is_finite())
        };
        match fields.as_slice() {
            [x, y, ..] => match (value(x), value(y)) {
                (Some(x), Some(y)) => {
                    xs.push(x);
                    ys.push(y);
                }
                // A header is allowed as the first row with text.
                _ if xs.is_empty() && !fields.iter().any(|f| value(f).is_some()) => {}
                _ => return Err(TableError { line: line_no, reason: format!("{line:?} is not two numbers") }),
            },
            _ => return Err(TableError { line: line_no, reason: "expected two columns".into() }),
        }
        if xs.len() > MAX_ROWS {
            return Err(TableError { line: line_no, reason: format!("more than {MAX_ROWS} rows") });
        }
    }
    if xs.len() < 2 {
        return Err(TableError { line: 1, reason: "fewer than two data rows".into() });
    }
    Ok((xs, ys))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_headers_and_decimal_commas() {
        assert_eq!(parse(b"wavenumber,absorbance\n400,0.1\n402,0.2\n").unwrap(), (vec![400.0, 402.0], vec![0.1, 0.2]));
        assert_eq!(parse(b"400;0,1\r\n402;0,2").unwrap(), (vec![400.0, 402.0], vec![0.1, 0.2]));
        assert_eq!(parse(b"# c\n400\t1\n402\t2").unwrap().1, vec![1.0, 2.0]);
        assert_eq!(parse(b"400 1\n402 2").unwrap().0, vec![400.0, 402.0]);
    }

    #[test]
    fn bad_rows_are_refused() {
        assert!(parse(b"400,1\n402,x").is_err());
        assert!(parse(b"400").is_err());
        assert!(parse(b"400,1\nfoo,bar\n").is_err());
    }
}
