//! JCAMP-DX (IUPAC; McDonald & Wilks 1988, Lampen et al. 1994 for NTUPLES, 5.01 for compound files).
//!
//! A file is a sequence of labelled data records (`##LABEL=value`, continued on the following lines until
//! the next `##`). A block runs from `##TITLE=` to `##END=`; a link block declares `##BLOCKS=` and holds
//! other blocks. Data come as
//!
//! * `##XYDATA=(X++(Y..Y))` — each line an abscissa and ordinates, in AFFN (plain numbers) or ASDF: PAC
//!   (`+`/`-` as separators), SQZ (`@A-Ia-i` carry the first digit and sign), DIF (`%J-Rj-r`: differences
//!   from the previous ordinate) and DUP (`S-Zs`: repeat the previous token). A line ending in DIF form
//!   repeats its last ordinate at the start of the next line as a check, which is verified and dropped;
//! * `##PEAK TABLE=` / `##XYPOINTS=` — `(XY..XY)` or `(XYW..XYW)` pairs or triples;
//! * `##NTUPLES=` — pages, each with `##DATA TABLE=`, variables described by `##VAR_NAME=`, `##SYMBOL=`,
//!   `##FIRST=`, `##LAST=`, `##FACTOR=`, `##VAR_DIM=`.
//!
//! Unsupported content (binary, `##RADATA=`, `(R..R)`-only tables, 2D NMR) is refused with a reason, never
//! guessed at; the parser never panics and bounds what it allocates (fuzzed: `fuzz/`).

use std::collections::BTreeMap;

/// At most this many points in one table: larger than any real spectrum, small enough that a hostile
/// `DUP` count cannot exhaust memory.
pub const MAX_POINTS: usize = 4_000_000;

/// A refusal, with the 1-based line where it happened.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("JCAMP-DX line {line}: {reason}")]
pub struct JcampError {
    pub line: usize,
    pub reason: String,
}

fn err<T>(line: usize, reason: impl Into<String>) -> Result<T, JcampError> {
    Err(JcampError { line, reason: reason.into() })
}

/// How the points of a table were written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableKind {
    /// An evenly spaced ordinate series, `(X++(Y..Y))`.
    Series,
    /// Explicit points or peaks, `(XY..XY)` or `(XYW..XYW)`.
    Points,
}

/// One decoded table: abscissae and ordinates in real units (factors applied).
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub kind: TableKind,
    /// The NTUPLES page this table belongs to (`##PAGE=`), when there is one.
    pub page: Option<String>,
    /// The ordinate's symbol in NTUPLES (`R`, `I`, `Y`…); `Y` otherwise.
    pub y_symbol: String,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
}

/// A block: its labelled records (label names normalised as the standard says: upper case, without
/// spaces, dashes, slashes or underscores), its decoded tables and, for a link block, its children.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Block {
    pub title: String,
    pub labels: BTreeMap<String, String>,
    pub tables: Vec<Table>,
    pub children: Vec<Block>,
}

impl Block {
    /// The value of a label, by any spelling of its name (`DATA TYPE`, `DATA_TYPE`, `datatype`).
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels.get(&normalise_label(name)).map(|v| v.trim())
    }

    /// This block and all blocks inside it, depth first.
    pub fn flatten(&self) -> Vec<&Block> {
        let mut out = vec![self];
        for child in &self.children {
            out.extend(child.flatten());
        }
        out
    }

    pub fn data_type(&self) -> Option<&str> {
        self.label("DATA TYPE")
    }
    pub fn x_units(&self) -> Option<&str> {
        self.label("XUNITS")
    }
    pub fn y_units(&self) -> Option<&str> {
        self.label("YUNITS")
    }
}

/// `DATA TYPE`, `data_type` and `Data-Type` are the same label.
pub fn normalise_label(name: &str) -> String {
    name.chars().filter(|c| !matches!(c, ' ' | '-' | '/' | '_' | '\t')).flat_map(char::to_uppercase).collect()
}

/// One labelled data record before interpretation.
struct Record<'a> {
    line: usize,
    label: String,
    /// The text after `=` on the label's own line.
    head: &'a str,
    /// The following lines up to the next record, with their line numbers.
    body: Vec<(usize, &'a str)>,
}

impl Record<'_> {
    fn value(&self) -> String {
        let mut value = self.head.trim().to_string();
        for (_, line) in &self.body {
            value.push('\n');
            value.push_str(line.trim());
        }
        value.trim().to_string()
    }
}

/// Parse a JCAMP-DX file into its top-level blocks.
pub fn parse(bytes: &[u8]) -> Result<Vec<Block>, JcampError> {
    let text = crate::decode_text(bytes);
    let records = records(&text)?;
    if records.is_empty() {
        return err(1, "no labelled data records (##LABEL=value): not a JCAMP-DX file");
    }
    let mut top = Vec::new();
    // Open blocks, innermost last, each with its NTUPLES state.
    let mut open: Vec<(Block, Ntuples)> = Vec::new();
    for record in &records {
        match record.label.as_str() {
            "TITLE" => {
                if let Some((parent, _)) = open.last()
                    && !parent.labels.contains_key("BLOCKS")
                {
                    return err(record.line, "a new ##TITLE= before ##END= of a block that declares no ##BLOCKS=");
                }
                if open.len() >= 8 {
                    return err(record.line, "blocks nested more than 8 deep");
                }
                let block = Block { title: record.value(), ..Block::default() };
                open.push((block, Ntuples::default()));
            }
            "END" => {
                let Some((block, _)) = open.pop() else {
                    return err(record.line, "##END= without an open block");
                };
                match open.last_mut() {
                    Some((parent, _)) => parent.children.push(block),
                    None => top.push(block),
                }
            }
            _ => {
                let Some((block, ntuples)) = open.last_mut() else {
                    // Records before the first title: the standard requires TITLE first.
                    return err(record.line, format!("##{}= before the first ##TITLE=", record.label));
                };
                interpret(block, ntuples, record)?;
            }
        }
    }
    // A missing final ##END= is common in hand-made files; what was read is complete, so keep it.
    while let Some((block, _)) = open.pop() {
        match open.last_mut() {
            Some((parent, _)) => parent.children.push(block),
            None => top.push(block),
        }
    }
    Ok(top)
}

fn records(text: &str) -> Result<Vec<Record<'_>>, JcampError> {
    let mut records: Vec<Record<'_>> = Vec::new();
    for (index, raw) in crate::lines(text).enumerate() {
        let line = index + 1;
        let content = strip_comment(raw);
        let trimmed = content.trim_start();
        if let Some(rest) = trimmed.strip_prefix("##") {
            let Some((label, head)) = rest.split_once('=') else {
                return err(line, "a ##label without '='");
            };
            records.push(Record { line, label: normalise_label(label), head, body: Vec::new() });
        } else if let Some(record) = records.last_mut() {
            if !trimmed.trim().is_empty() {
                record.body.push((line, content));
            }
        } else if !trimmed.trim().is_empty() && !raw.trim_start().starts_with("$$") {
            return err(line, "text before the first ##TITLE=: not a JCAMP-DX file");
        }
    }
    Ok(records)
}

/// `$$` starts a comment that runs to the end of the line.
fn strip_comment(line: &str) -> &str {
    match line.find("$$") {
        Some(at) => &line[..at],
        None => line,
    }
}

/// What `##NTUPLES=` declared, and the current page.
#[derive(Default)]
struct Ntuples {
    active: bool,
    vars: BTreeMap<String, Vec<String>>,
    page: Option<String>,
}

impl Ntuples {
    /// The attribute `name` (FIRST, FACTOR…) of the variable with `symbol`.
    fn attribute(&self, name: &str, symbol: &str) -> Option<&str> {
        let symbols = self.vars.get("SYMBOL")?;
        let at = symbols.iter().position(|s| s.eq_ignore_ascii_case(symbol))?;
        self.vars.get(name)?.get(at).map(String::as_str).filter(|v| !v.is_empty())
    }
    fn number(&self, name: &str, symbol: &str) -> Option<f64> {
        self.attribute(name, symbol)?.parse().ok()
    }
}

const NTUPLE_ATTRIBUTES: [&str; 10] =
    ["VARNAME", "SYMBOL", "VARTYPE", "VARFORM", "VARDIM", "UNITS", "FIRST", "LAST", "MIN", "MAX"];

fn interpret(block: &mut Block, ntuples: &mut Ntuples, record: &Record<'_>) -> Result<(), JcampError> {
    let label = record.label.as_str();
    match label {
        "XYDATA" => {
            let spec = record.head.trim();
            if points_width(spec).is_some() {
                // Not in the standard, but written by Shimadzu and others: XYDATA holding (XY..XY) pairs.
                return interpret_points(block, record, label);
            }
            let Some((_, y_symbol)) = variables(spec).filter(|_| spec.contains("++")) else {
                return err(record.line, format!("##XYDATA= form {spec:?} not supported (expected (X++(Y..Y)))"));
            };
            let params = SeriesParams::from_block(block, record.line)?;
            let (x, y) = decode_series(&record.body, &params, record.line)?;
            block.tables.push(Table { kind: TableKind::Series, page: None, y_symbol: y_symbol.into(), x, y });
        }
        "PEAKTABLE" | "XYPOINTS" => return interpret_points(block, record, label),
        "NTUPLES" => {
            ntuples.active = true;
            block.labels.insert(label.to_string(), record.value());
        }
        "ENDNTUPLES" => {
            ntuples.active = false;
            ntuples.page = None;
        }
        "PAGE" if ntuples.active => {
            ntuples.page = Some(record.value());
        }
        "DATATABLE" => {
            if !ntuples.active {
                return err(record.line, "##DATA TABLE= outside ##NTUPLES=");
            }
            let table = decode_ntuple_table(ntuples, record)?;
            block.tables.push(table);
        }
        "RADATA" | "XYDATAB" => {
            return err(
                record.line,
                format!("##{label}= is not supported (only XYDATA, PEAK TABLE, XYPOINTS and NTUPLES)"),
            );
        }
        _ if ntuples.active && (NTUPLE_ATTRIBUTES.contains(&label) || label == "FACTOR") => {
            let values = record.value().split(',').map(|v| v.trim().to_string()).collect();
            ntuples.vars.insert(label.to_string(), values);
        }
        _ => {
            // Inside a page, NPOINTS and similar describe the page; keep the first block-level value.
            if !(ntuples.page.is_some() && block.labels.contains_key(label)) {
                block.labels.insert(label.to_string(), record.value());
            }
        }
    }
    Ok(())
}

fn interpret_points(block: &mut Block, record: &Record<'_>, label: &str) -> Result<(), JcampError> {
    let spec = record.head.trim();
    let Some(width) = points_width(spec) else {
        return err(record.line, format!("##{label}= form {spec:?} not supported (expected (XY..XY) or (XYW..XYW))"));
    };
    let x_factor = factor(block.label("XFACTOR"), record.line)?;
    let y_factor = factor(block.label("YFACTOR"), record.line)?;
    let (x, y) = decode_points(&record.body, width, x_factor, y_factor)?;
    block.tables.push(Table { kind: TableKind::Points, page: None, y_symbol: "Y".into(), x, y });
    Ok(())
}

/// The variable symbols of `(X++(Y..Y))` or `(XY..XY)`: ("X", "Y").
fn variables(spec: &str) -> Option<(&str, &str)> {
    let inner = spec.split(',').next()?.trim();
    let inner = inner.strip_prefix('(')?.strip_suffix(')')?;
    if let Some((x, rest)) = inner.split_once("++") {
        let rest = rest.strip_prefix('(')?.strip_suffix(')')?;
        let (y, _) = rest.split_once("..")?;
        Some((x.trim(), y.trim()))
    } else {
        let (first, _) = inner.split_once("..")?;
        let mut chars = first.trim().char_indices();
        let (_, _) = chars.next()?;
        let (split, _) = chars.next()?;
        Some((&first[..split], first[split..].trim_end_matches(['W', 'w'])))
    }
}

fn points_width(spec: &str) -> Option<usize> {
    let form: String = spec.split(',').next()?.chars().filter(|c| !c.is_whitespace()).collect();
    match form.to_ascii_uppercase().as_str() {
        "(XY..XY)" => Some(2),
        "(XYW..XYW)" | "(XYM..XYM)" => Some(3),
        _ => None,
    }
}

fn factor(value: Option<&str>, line: usize) -> Result<f64, JcampError> {
    match value {
        None | Some("") => Ok(1.0),
        Some(v) => number(v, line, "factor"),
    }
}

fn number(value: &str, line: usize, what: &str) -> Result<f64, JcampError> {
    match value.trim().parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => err(line, format!("{what} {value:?} is not a number")),
    }
}

/// What an evenly spaced series needs to place its points.
struct SeriesParams {
    x_factor: f64,
    y_factor: f64,
    first_x: Option<f64>,
    last_x: Option<f64>,
    npoints: Option<usize>,
}

impl SeriesParams {
    fn from_block(block: &Block, line: usize) -> Result<Self, JcampError> {
        let optional = |name: &str| -> Result<Option<f64>, JcampError> {
            block.label(name).filter(|v| !v.is_empty()).map(|v| number(v, line, name)).transpose()
        };
        Ok(SeriesParams {
            x_factor: factor(block.label("XFACTOR"), line)?,
            y_factor: factor(block.label("YFACTOR"), line)?,
            first_x: optional("FIRSTX")?,
            last_x: optional("LASTX")?,
            npoints: npoints(block.label("NPOINTS"), line)?,
        })
    }
}

fn npoints(value: Option<&str>, line: usize) -> Result<Option<usize>, JcampError> {
    match value.filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => match v.trim().parse::<usize>() {
            Ok(n) if n <= MAX_POINTS => Ok(Some(n)),
            Ok(n) => err(line, format!("NPOINTS={n} is more than the {MAX_POINTS} supported")),
            Err(_) => err(line, format!("NPOINTS {v:?} is not a whole number")),
        },
    }
}

/// Decode `(X++(Y..Y))` lines into abscissae and ordinates.
fn decode_series(
    body: &[(usize, &str)],
    params: &SeriesParams,
    label_line: usize,
) -> Result<(Vec<f64>, Vec<f64>), JcampError> {
    let mut ys: Vec<f64> = Vec::new();
    // Abscissa (in file units) of the first ordinate of each line, to place points when FIRSTX/LASTX
    // are missing.
    let mut line_starts: Vec<(usize, f64)> = Vec::new();
    let mut previous_ended_in_dif = false;
    let limit = params.npoints.map_or(MAX_POINTS, |n| (n + 1).min(MAX_POINTS));
    for &(line, text) in body {
        let decoded = decode_asdf_line(text, line, limit.saturating_sub(ys.len()) + 2)?;
        let mut values = decoded.values.into_iter();
        let Some(x) = values.next() else { continue };
        let mut rest: Vec<f64> = values.collect();
        if previous_ended_in_dif && rest.len() == 1 && params.npoints == Some(ys.len()) {
            // A lone closing line after the last point (Spectrafile writes `31999@`): nothing to add.
            continue;
        }
        if previous_ended_in_dif && !rest.is_empty() && !ys.is_empty() {
            // The Y check value: the previous line's last ordinate, written again.
            let check = rest.remove(0);
            let last = *ys.last().unwrap_or(&check);
            if (check - last).abs() > 1e-6 * last.abs().max(1.0) {
                return err(line, format!("DIF check value {check} does not match the previous ordinate {last}"));
            }
        }
        if !rest.is_empty() {
            line_starts.push((ys.len(), x));
        }
        ys.extend(rest);
        if ys.len() > limit {
            return err(line, format!("more ordinates than NPOINTS={} declares", limit - 1));
        }
        previous_ended_in_dif = decoded.ends_in_dif;
    }
    if ys.is_empty() {
        return err(label_line, "##XYDATA= has no ordinates");
    }
    if let Some(n) = params.npoints
        && ys.len() != n
    {
        return err(label_line, format!("NPOINTS={n} but the data hold {} ordinates", ys.len()));
    }
    let n = ys.len();
    let xs: Vec<f64> = match (params.first_x, params.last_x) {
        (Some(first), Some(last)) => {
            let step = if n > 1 { (last - first) / (n - 1) as f64 } else { 0.0 };
            (0..n).map(|i| first + step * i as f64).collect()
        }
        _ => {
            // Place points from the line abscissae: each line's X is exact, spacing from consecutive
            // line starts.
            let step = match line_starts.as_slice() {
                [(i0, x0), (i1, x1), ..] if i1 > i0 => (x1 - x0) * params.x_factor / (i1 - i0) as f64,
                _ => return err(label_line, "FIRSTX and LASTX are missing and the abscissa spacing cannot be derived"),
            };
            let mut xs = Vec::with_capacity(n);
            for (k, &(start, x)) in line_starts.iter().enumerate() {
                let end = line_starts.get(k + 1).map_or(n, |s| s.0);
                xs.extend((0..end - start).map(|j| x * params.x_factor + step * j as f64));
            }
            xs
        }
    };
    let ys = ys.into_iter().map(|y| y * params.y_factor).collect();
    Ok((xs, ys))
}

/// Decode `(XY..XY)`/`(XYW..XYW)` lines: numbers separated by commas, semicolons or white space, taken in
/// twos (or threes). `?` marks a missing value; such points are left out.
fn decode_points(
    body: &[(usize, &str)],
    width: usize,
    x_factor: f64,
    y_factor: f64,
) -> Result<(Vec<f64>, Vec<f64>), JcampError> {
    let mut numbers: Vec<Option<f64>> = Vec::new();
    let mut last_line = 0;
    for &(line, text) in body {
        last_line = line;
        for token in text.split(|c: char| c == ',' || c == ';' || c.is_whitespace()) {
            if token.is_empty() {
                continue;
            }
            if token == "?" {
                numbers.push(None);
            } else {
                numbers.push(Some(number(token, line, "value")?));
            }
            if numbers.len() > MAX_POINTS * width {
                return err(line, format!("more than {MAX_POINTS} points"));
            }
        }
    }
    if !numbers.len().is_multiple_of(width) {
        return err(last_line, format!("{} numbers do not form whole ({width}-value) points", numbers.len()));
    }
    let mut xs = Vec::with_capacity(numbers.len() / width);
    let mut ys = Vec::with_capacity(numbers.len() / width);
    for point in numbers.chunks(width) {
        if let (Some(x), Some(y)) = (point[0], point[1]) {
            xs.push(x * x_factor);
            ys.push(y * y_factor);
        }
    }
    Ok((xs, ys))
}

fn decode_ntuple_table(ntuples: &Ntuples, record: &Record<'_>) -> Result<Table, JcampError> {
    let spec = record.head.trim();
    let Some((x_symbol, y_symbol)) = variables(spec) else {
        return err(record.line, format!("##DATA TABLE= form {spec:?} not understood"));
    };
    let factor_of = |symbol: &str| ntuples.number("FACTOR", symbol).unwrap_or(1.0);
    let (x, y, kind) = if spec.contains("++") {
        // The number of points is the dependent variable's dimension.
        let npoints = ntuples
            .attribute("VARDIM", y_symbol)
            .or(ntuples.attribute("VARDIM", x_symbol))
            .map(|v| npoints(Some(v), record.line))
            .transpose()?
            .flatten();
        let params = SeriesParams {
            x_factor: factor_of(x_symbol),
            y_factor: factor_of(y_symbol),
            first_x: ntuples.number("FIRST", x_symbol),
            last_x: ntuples.number("LAST", x_symbol),
            npoints,
        };
        let (x, y) = decode_series(&record.body, &params, record.line)?;
        (x, y, TableKind::Series)
    } else {
        let width = points_width(spec)
            .ok_or(())
            .or_else(|_| err(record.line, format!("##DATA TABLE= form {spec:?} not supported")))?;
        let (x, y) = decode_points(&record.body, width, factor_of(x_symbol), factor_of(y_symbol))?;
        (x, y, TableKind::Points)
    };
    Ok(Table { kind, page: ntuples.page.clone(), y_symbol: y_symbol.to_string(), x, y })
}

/// One decoded ASDF/AFFN line.
#[derive(Debug, PartialEq)]
struct AsdfLine {
    values: Vec<f64>,
    /// The last value came from a difference: the next line starts with a check value.
    ends_in_dif: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Token {
    Absolute(f64),
    Difference(f64),
    Duplicate(usize),
}

/// Tokenise a data line in any mix of AFFN, PAC, SQZ, DIF and DUP.
fn tokens(text: &str, line: usize) -> Result<Vec<Token>, JcampError> {
    #[derive(Clone, Copy, PartialEq)]
    enum Kind {
        Absolute,
        Difference,
        Duplicate,
    }
    let mut out = Vec::new();
    let mut current: Option<(Kind, String)> = None;
    let finish = |current: &mut Option<(Kind, String)>, out: &mut Vec<Token>| -> Result<(), JcampError> {
        let Some((kind, digits)) = current.take() else { return Ok(()) };
        let value = match digits.parse::<f64>() {
            Ok(v) if v.is_finite() => v,
            _ => return err(line, format!("{digits:?} is not a number")),
        };
        out.push(match kind {
            Kind::Absolute => Token::Absolute(value),
            Kind::Difference => Token::Difference(value),
            Kind::Duplicate => {
                if value < 1.0 || value.fract() != 0.0 || value > MAX_POINTS as f64 {
                    return err(line, format!("repeat count {digits} out of range"));
                }
                Token::Duplicate(value as usize)
            }
        });
        Ok(())
    };
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = |kind: Kind, first: String, current: &mut Option<(Kind, String)>, out: &mut Vec<Token>| {
            finish(current, out)?;
            *current = Some((kind, first));
            Ok::<(), JcampError>(())
        };
        match c {
            '0'..='9' | '.' => match current.as_mut() {
                Some((_, digits)) => digits.push(c),
                None => current = Some((Kind::Absolute, c.to_string())),
            },
            'E' | 'e'
                if current
                    .as_ref()
                    .is_some_and(|(k, d)| *k == Kind::Absolute && d.bytes().any(|b| b.is_ascii_digit()))
                    && matches!(chars.get(i + 1), Some('+' | '-'))
                    && chars.get(i + 2).is_some_and(char::is_ascii_digit) =>
            {
                // An AFFN exponent (1.5E+03), not SQZ 'E' (+5): SQZ is never followed by a sign.
                if let Some((_, digits)) = current.as_mut() {
                    digits.push('e');
                    digits.push(chars[i + 1]);
                }
                i += 1;
            }
            '+' | '-' => {
                start(Kind::Absolute, if c == '-' { "-".into() } else { String::new() }, &mut current, &mut out)?
            }
            ' ' | '\t' | ',' | ';' => finish(&mut current, &mut out)?,
            '?' => {
                finish(&mut current, &mut out)?;
                out.push(Token::Absolute(f64::NAN));
            }
            '@' => start(Kind::Absolute, "0".into(), &mut current, &mut out)?,
            'A'..='I' => start(Kind::Absolute, digit(c, 'A'), &mut current, &mut out)?,
            'a'..='i' => start(Kind::Absolute, format!("-{}", digit(c, 'a')), &mut current, &mut out)?,
            '%' => start(Kind::Difference, "0".into(), &mut current, &mut out)?,
            'J'..='R' => start(Kind::Difference, digit(c, 'J'), &mut current, &mut out)?,
            'j'..='r' => start(Kind::Difference, format!("-{}", digit(c, 'j')), &mut current, &mut out)?,
            'S'..='Z' => start(Kind::Duplicate, digit(c, 'S'), &mut current, &mut out)?,
            's' => start(Kind::Duplicate, "9".into(), &mut current, &mut out)?,
            other => return err(line, format!("unexpected character {other:?} in a data line")),
        }
        i += 1;
    }
    finish(&mut current, &mut out)?;
    Ok(out)
}

/// The digit a SQZ/DIF/DUP letter stands for, counting from `zero_or_one` (A and J are 1, S is 1).
fn digit(c: char, base: char) -> String {
    ((c as u32 - base as u32) + 1).to_string()
}

/// Expand a line's tokens into values. `room` bounds how many values the line may produce.
fn decode_asdf_line(text: &str, line: usize, room: usize) -> Result<AsdfLine, JcampError> {
    let mut values: Vec<f64> = Vec::new();
    // The token a DUP repeats: an absolute value or a difference.
    let mut previous: Option<Token> = None;
    let mut ends_in_dif = false;
    for token in tokens(text, line)? {
        match token {
            Token::Absolute(v) => {
                values.push(v);
                previous = Some(token);
                ends_in_dif = false;
            }
            Token::Difference(d) => {
                let Some(&last) = values.last() else {
                    return err(line, "a difference (DIF) with no value before it");
                };
                values.push(last + d);
                previous = Some(token);
                ends_in_dif = true;
            }
            Token::Duplicate(count) => {
                if count - 1 > room.saturating_sub(values.len()) {
                    return err(line, format!("repeat count {count} runs past the declared number of points"));
                }
                match previous {
                    Some(Token::Absolute(v)) => values.extend(std::iter::repeat_n(v, count - 1)),
                    Some(Token::Difference(d)) => {
                        for _ in 1..count {
                            let last = *values.last().unwrap_or(&0.0);
                            values.push(last + d);
                        }
                    }
                    _ => return err(line, "a repeat (DUP) with nothing before it to repeat"),
                }
            }
        }
        if values.len() > room {
            return err(line, "more values on a line than the declared number of points");
        }
    }
    Ok(AsdfLine { values, ends_in_dif })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str) -> AsdfLine {
        decode_asdf_line(text, 1, 1000).unwrap()
    }

    #[test]
    fn the_standards_own_example_in_every_form() {
        // JCAMP-DX 4.24, section 5.9: the same ordinates 1000 1000 1000 2000 2500 2500 2000.
        let expected = vec![1.0, 1000.0, 1000.0, 1000.0, 2000.0, 2500.0, 2500.0, 2000.0];
        assert_eq!(line("1 1000 1000 1000 2000 2500 2500 2000").values, expected); // AFFN
        assert_eq!(line("1+1000+1000+1000+2000+2500+2500+2000").values, expected); // PAC
        assert_eq!(line("1A000A000A000B000B500B500B000").values, expected); // SQZ
        let dif = line("1A000%%J000N00%n00");
        assert_eq!(dif.values, expected);
        assert!(dif.ends_in_dif);
        assert_eq!(line("1A000%TJ000N00%n00").values, expected); // DIFDUP
        assert_eq!(line("1A000UB000B500TB000").values, expected); // SQZ DUP
    }

    #[test]
    fn negative_and_exponent_forms() {
        assert_eq!(line("10 -5 1.5E+03 2e-1").values, vec![10.0, -5.0, 1500.0, 0.2]);
        assert_eq!(line("10a5b").values, vec![10.0, -15.0, -2.0]);
        // SQZ E (+5) after digits is a new value, not an exponent.
        assert_eq!(line("10A1E2").values, vec![10.0, 11.0, 52.0]);
    }

    #[test]
    fn bad_lines_are_refused_not_panicked_on() {
        assert!(decode_asdf_line("1 J5", 1, 100).is_ok());
        assert!(decode_asdf_line("J5", 1, 100).is_err());
        assert!(decode_asdf_line("S5", 1, 100).is_err());
        assert!(decode_asdf_line("1A0Z999999999", 1, 100).is_err());
        assert!(decode_asdf_line("1 !", 1, 100).is_err());
    }

    const DIF_FILE: &str = "##TITLE=t\n##JCAMP-DX=4.24\n##XFACTOR=1\n##YFACTOR=2\n##FIRSTX=10\n##LASTX=14\n##NPOINTS=5\n##XYDATA=(X++(Y..Y))\n10@JJJ\n14CJ\n##END=\n";

    #[test]
    fn a_dif_series_with_check_values_and_factors() {
        let blocks = parse(DIF_FILE.as_bytes()).unwrap();
        let table = &blocks[0].tables[0];
        assert_eq!(table.y, vec![0.0, 2.0, 4.0, 6.0, 8.0]);
        assert_eq!(table.x, vec![10.0, 11.0, 12.0, 13.0, 14.0]);
    }

    #[test]
    fn a_wrong_check_value_is_refused() {
        let bad = DIF_FILE.replace("14CJ", "14DJ");
        assert!(parse(bad.as_bytes()).unwrap_err().reason.contains("check value"));
    }

    #[test]
    fn compound_files_nest_blocks() {
        let text = "##TITLE=link\n##BLOCKS=2\n##TITLE=a\n##PEAK TABLE=(XY..XY)\n1,2 3,4\n##END=\n##TITLE=b\n##PEAK TABLE=(XY..XY)\n5,6\n##END=\n##END=\n";
        let blocks = parse(text.as_bytes()).unwrap();
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].children.len(), 2);
        assert_eq!(blocks[0].children[0].tables[0].y, vec![2.0, 4.0]);
        assert_eq!(blocks[0].flatten().len(), 3);
    }

    #[test]
    fn labels_are_found_by_any_spelling() {
        let blocks = parse(b"##TITLE=t\n##DATA_TYPE=INFRARED SPECTRUM\n##END=").unwrap();
        assert_eq!(blocks[0].data_type(), Some("INFRARED SPECTRUM"));
        assert_eq!(blocks[0].label("data type"), Some("INFRARED SPECTRUM"));
    }

    #[test]
    fn not_jcamp_is_refused() {
        assert!(parse(b"hello").is_err());
        assert!(parse(b"").is_err());
        assert!(parse(b"##XYDATA=(X++(Y..Y))\n1 2").is_err());
    }
}
