//! NIST MSP text libraries: records of `Key: value` lines, then `Num Peaks: n` and n peaks, separated by
//! blank lines. Peaks are `m/z intensity` pairs, one or several to a line (separated by `;`, `,`, tabs
//! or spaces), optionally followed by a quoted annotation, as NIST and MassBank write them.

/// A refusal, with the 1-based line where it happened.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("MSP line {line}: {reason}")]
pub struct MspError {
    pub line: usize,
    pub reason: String,
}

/// One library or query spectrum.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MspRecord {
    pub name: String,
    /// `DB#`, the record's identifier; empty when the file has none.
    pub id: String,
    pub inchikey: Option<String>,
    /// Every `Key: value` line in file order, keys as written.
    pub fields: Vec<(String, String)>,
    /// (m/z, intensity) in file order.
    pub peaks: Vec<(f64, f64)>,
}

impl MspRecord {
    /// A field by key, ignoring case.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.as_str())
    }
}

/// At most this many peaks in one record (real EI spectra have at most a few thousand).
pub const MAX_PEAKS: usize = 100_000;

pub fn parse(bytes: &[u8]) -> Result<Vec<MspRecord>, MspError> {
    let text = crate::decode_text(bytes);
    let mut records = Vec::new();
    let mut current: Option<MspRecord> = None;
    // Peaks still expected for the current record.
    let mut expected: Option<(usize, usize)> = None;
    let mut line_no = 0;
    for (index, raw) in crate::lines(&text).enumerate() {
        line_no = index + 1;
        let line = raw.trim();
        if let Some((wanted, header_line)) = expected {
            let record = current.as_mut().expect("peaks are expected only inside a record");
            if line.is_empty() {
                if record.peaks.len() < wanted {
                    return Err(MspError {
                        line: header_line,
                        reason: format!("Num Peaks: {wanted} but {} peaks follow", record.peaks.len()),
                    });
                }
            } else {
                peaks_of_line(line, line_no, &mut record.peaks)?;
                if record.peaks.len() > wanted {
                    return Err(MspError {
                        line: line_no,
                        reason: format!("more peaks than Num Peaks: {wanted} declares"),
                    });
                }
                if record.peaks.len() < wanted {
                    continue;
                }
            }
            expected = None;
            if line.is_empty() {
                records.extend(current.take());
            }
            continue;
        }
        if line.is_empty() {
            records.extend(current.take());
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(MspError { line: line_no, reason: format!("expected 'Key: value', found {line:?}") });
        };
        let (key, value) = (key.trim(), value.trim());
        let record = current.get_or_insert_with(MspRecord::default);
        match key.to_ascii_lowercase().as_str() {
            "name" => record.name = value.to_string(),
            "db#" => record.id = value.to_string(),
            "inchikey" => record.inchikey = Some(value.to_string()).filter(|v| !v.is_empty()),
            "num peaks" => {
                let wanted = value.parse::<usize>().ok().filter(|&n| n <= MAX_PEAKS).ok_or_else(|| MspError {
                    line: line_no,
                    reason: format!("Num Peaks {value:?} is not a whole number up to {MAX_PEAKS}"),
                })?;
                record.peaks.reserve(wanted);
                if wanted > 0 {
                    expected = Some((wanted, line_no));
                }
            }
            _ => {}
        }
        record.fields.push((key.to_string(), value.to_string()));
    }
    if let Some((wanted, header_line)) = expected {
        let found = current.as_ref().map_or(0, |r| r.peaks.len());
        return Err(MspError { line: header_line, reason: format!("Num Peaks: {wanted} but {found} peaks follow") });
    }
    records.extend(current.take());
    if records.is_empty() {
        return Err(MspError { line: line_no.max(1), reason: "no records".into() });
    }
    if let Some(record) = records.iter().find(|r| r.peaks.is_empty() && r.field("Num Peaks").is_none()) {
        return Err(MspError { line: line_no, reason: format!("record {:?} has no Num Peaks line", record.name) });
    }
    Ok(records)
}

fn peaks_of_line(line: &str, line_no: usize, peaks: &mut Vec<(f64, f64)>) -> Result<(), MspError> {
    // Annotations are quoted and may contain separators; cut them out first.
    let mut numbers = Vec::new();
    let mut in_quotes = false;
    let mut token = String::new();
    for c in line.chars().chain(std::iter::once(' ')) {
        match c {
            '"' => in_quotes = !in_quotes,
            _ if in_quotes => {}
            ' ' | '\t' | ';' | ',' | ':' => {
                if !token.is_empty() {
                    match token.parse::<f64>() {
                        Ok(v) if v.is_finite() => numbers.push(v),
                        _ => {
                            return Err(MspError {
                                line: line_no,
                                reason: format!("peak value {token:?} is not a number"),
                            });
                        }
                    }
                    token.clear();
                }
            }
            _ => token.push(c),
        }
    }
    if !numbers.len().is_multiple_of(2) {
        return Err(MspError { line: line_no, reason: "a peak needs both m/z and intensity".into() });
    }
    for pair in numbers.chunks(2) {
        if pair[0] < 0.0 || pair[1] < 0.0 {
            return Err(MspError { line: line_no, reason: "negative m/z or intensity".into() });
        }
        peaks.push((pair[0], pair[1]));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = "NAME: Caffeine\nDB#: X1\nINCHIKEY: RYYVLZVUVIJVGH-UHFFFAOYSA-N\nNum Peaks: 3\n194 999\n109 400; 55 100 \"a\"\n\nName: B\nDB#: X2\nNum Peaks: 1\n50 1\n";

    #[test]
    fn records_fields_and_peaks() {
        let records = parse(TWO.as_bytes()).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].name, "Caffeine");
        assert_eq!(records[0].id, "X1");
        assert_eq!(records[0].inchikey.as_deref(), Some("RYYVLZVUVIJVGH-UHFFFAOYSA-N"));
        assert_eq!(records[0].peaks, vec![(194.0, 999.0), (109.0, 400.0), (55.0, 100.0)]);
        assert_eq!(records[1].peaks, vec![(50.0, 1.0)]);
    }

    #[test]
    fn wrong_peak_counts_are_refused() {
        assert!(parse(TWO.replace("Num Peaks: 3", "Num Peaks: 4").as_bytes()).is_err());
        assert!(parse(TWO.replace("Num Peaks: 3", "Num Peaks: 2").as_bytes()).is_err());
        assert!(parse(b"Name: x\nNum Peaks: 1\n50 x\n").is_err());
        assert!(parse(b"just text").is_err());
        assert!(parse(b"Name: x\nNum Peaks: 99999999999\n").is_err());
    }
}
