//! Privacy rule 1: Varde stores no personal data. Free text that looks like a national identity number, a phone
//! number or an e-mail address is refused (not silently scrubbed), so the technician sees why and rewrites it.
//!
//! Text is read as a person reads it, not as bytes: it is first [`normalise`]d (Unicode NFKC, so full-width
//! `＠` and `１２３` become `@` and `123`; invisible characters dropped, so a zero-width space cannot split a number;
//! typographic dashes as `-`). Numbers are then read with the separators people put in them (spaces, dots, dashes,
//! slashes, brackets) and judged by the shape of their digit groups, so that `412.34.567` is a phone number while
//! `12.11.2026`, `420 mg` and `116 117` are not.

use crate::error::{ErrorCode, InvalidInput};
use regex::Regex;
use std::sync::LazyLock;
use unicode_normalization::UnicodeNormalization;

/// What a piece of free text looked like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonalData {
    NationalIdNumber,
    PhoneNumber,
    EmailAddress,
}

impl PersonalData {
    pub fn describe(self) -> &'static str {
        match self {
            PersonalData::NationalIdNumber => "a Norwegian national identity number (fødselsnummer or D-number)",
            PersonalData::PhoneNumber => "a phone number",
            PersonalData::EmailAddress => "an e-mail address",
        }
    }
}

/// Characters that show nothing but change what a text is: zero-width spaces and joiners, the soft hyphen, the
/// word joiner and invisible operators, the byte-order mark, and the bidirectional controls that can make a text
/// display in another order than it is stored. Varde refuses to store them and ignores them when checking.
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}' | '\u{180E}'
        | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}'
        | '\u{3164}' | '\u{FEFF}' | '\u{FFA0}' | '\u{FE00}'..='\u{FE0F}')
}

/// The text as it reads: NFKC, invisible characters dropped, every kind of dash as `-`.
pub fn normalise(text: &str) -> String {
    text.chars()
        .filter(|c| !is_invisible(*c))
        .nfkc()
        .map(|c| match c {
            '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' => '-',
            c if c.is_whitespace() => ' ',
            c => c,
        })
        .collect()
}

/// E-mail addresses, also as people hide them from robots: `kari(at)example.no`, `kari [at] example [dot] no`,
/// `kari @ example.no`, `kari at example dot no`. Case-insensitive; applied to normalised text.
/// With a real `@`, spaces around the dots count too ("kari @ example . no"); with a spelled-out "at" only
/// spelled-out or plain dots do, so that English such as "bought at home. No effect" passes.
static EMAIL: LazyLock<[Regex; 2]> = LazyLock::new(|| {
    let spelled_dot = r"\s*[(\[{<]\s*(?:dot|punktum|prikk)\s*[)\]}>]\s*|\s+(?:dot|punktum|prikk)\s+";
    let address = |at: &str, dot: &str| {
        Regex::new(&format!(r"(?i)[\w.%+\-]+(?:{at})[\w\-]+(?:(?:{dot})[\w\-]+)*(?:{dot})[a-z]{{2,}}\b"))
            .expect("valid pattern")
    };
    let word_at = r"\s*[(\[{<]\s*(?:at|alfakrøll|krøllalfa)\s*[)\]}>]\s*|\s+(?:at|alfakrøll|krøllalfa)\s+";
    [address(r"\s*@\s*", &format!(r"\s*\.\s*|{spelled_dot}")), address(word_at, &format!(r"\.|{spelled_dot}"))]
});

/// Finds the first kind of personal data in `text`, if any.
pub fn find(text: &str) -> Option<PersonalData> {
    let text = normalise(text);
    if EMAIL.iter().any(|re| re.is_match(&text)) {
        return Some(PersonalData::EmailAddress);
    }
    for run in number_runs(&text) {
        if contains_national_id(&run) {
            return Some(PersonalData::NationalIdNumber);
        }
        if !run.glued && looks_like_phone(&run) {
            return Some(PersonalData::PhoneNumber);
        }
    }
    None
}

/// A number as a person writes it: groups of digits with separators between them ("912 34 567", "15.03.85 10190",
/// "070-123 45 67", "(0)70"), perhaps after a '+'.
#[derive(Debug)]
struct NumberRun {
    groups: Vec<Vec<u8>>,
    /// The separator between group i and i + 1, with spaces dropped: "" for a space, ".", "-", "/", "(", ")".
    separators: Vec<String>,
    /// A '+' stood before the first digit ("+47", "(+47)", "+ 47").
    plus: bool,
    /// The first digit follows a letter or a decimal mark ("3MMC", "A123", "0,35"): a name or an amount.
    glued: bool,
}

impl NumberRun {
    fn digits(&self) -> Vec<u8> {
        self.groups.concat()
    }

    fn shape(&self) -> Vec<usize> {
        self.groups.iter().map(Vec::len).collect()
    }
}

fn is_separator(c: char) -> bool {
    matches!(c, ' ' | '-' | '.' | '/' | '(' | ')')
}

fn number_runs(text: &str) -> Vec<NumberRun> {
    let chars: Vec<char> = text.chars().collect();
    let mut runs = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let before: Vec<char> = chars[..i].iter().rev().copied().take_while(|c| matches!(c, ' ' | '(')).collect();
        let plus = chars[..i].iter().rev().nth(before.len()) == Some(&'+');
        let glued = i >= 1 && (chars[i - 1].is_alphabetic() || matches!(chars[i - 1], '.' | ','));
        let mut run = NumberRun { groups: vec![Vec::new()], separators: Vec::new(), plus, glued };
        while i < chars.len() {
            if chars[i].is_ascii_digit() {
                run.groups.last_mut().expect("never empty").push(chars[i] as u8 - b'0');
                i += 1;
                continue;
            }
            // Up to three separator characters ("-", " - ", ") ", " (") join two groups of one number.
            let mut j = i;
            while j < chars.len() && j - i < 3 && is_separator(chars[j]) {
                j += 1;
            }
            if j == i || j >= chars.len() || !chars[j].is_ascii_digit() {
                break;
            }
            run.separators.push(chars[i..j].iter().filter(|c| **c != ' ').collect());
            run.groups.push(Vec::new());
            i = j;
        }
        runs.push(run);
    }
    runs
}

/// Eleven consecutive digits, in groups that split it where people split a fødselsnummer (after the day, the month,
/// the year, the individual number: "150765 00565", "15.07.65 00565", "15 07 65 005 65"), with valid control
/// digits.
fn contains_national_id(run: &NumberRun) -> bool {
    let shape = run.shape();
    for start in 0..shape.len() {
        let mut len = 0;
        let mut cuts = Vec::new();
        for (k, g) in shape.iter().enumerate().skip(start) {
            if len > 0 {
                cuts.push(len);
            }
            len += g;
            if len > 11 {
                break;
            }
            if len == 11 && cuts.iter().all(|c| matches!(c, 2 | 4 | 6 | 9)) {
                let digits: Vec<u8> = run.groups[start..=k].concat();
                if is_valid_national_id(&digits) {
                    return true;
                }
            }
        }
    }
    false
}

/// How people write phone numbers in the Nordic countries and abroad.
fn looks_like_phone(run: &NumberRun) -> bool {
    let digits = run.digits();
    let shape = run.shape();
    // International: "+47 …", "(+46) …", "0047 …", "00 358 …": after the country code the whole number, eight to
    // fifteen digits (ITU E.164) counting the country code. A "(0)" trunk digit some people keep is not counted.
    let international_digits = if run.plus {
        Some(digits.len())
    } else if digits.starts_with(&[0, 0]) && digits.get(2).is_some_and(|d| *d != 0) && shape[0] >= 2 {
        Some(digits.len() - 2)
    } else {
        None
    };
    if let Some(n) = international_digits {
        let trunk = run.groups.iter().skip(1).filter(|g| g.as_slice() == [0]).count();
        return (8..=15).contains(&n.saturating_sub(trunk));
    }
    // Norway's country code without '+' or 00, glued on or as its own group: "4791234567", "47 912 34 567".
    if digits.len() == 10
        && digits.starts_with(&[4, 7])
        && (2..=9).contains(&digits[2])
        && (shape[0] == 2 || shape == [10])
    {
        return true;
    }
    // Norway and Denmark: eight digits, written whole or in the usual groups with one kind of separator. Norwegian
    // numbers start 2-9; one kind of separator keeps times such as "22.00-23.30" out.
    let uniform = run.separators.windows(2).all(|w| w[0] == w[1]);
    if digits.len() == 8
        && (2..=9).contains(&digits[0])
        && uniform
        && run.separators.iter().all(|s| matches!(s.as_str(), "" | "." | "-"))
        && matches!(shape[..], [8] | [3, 2, 3] | [2, 2, 2, 2] | [4, 4] | [3, 5] | [2, 3, 3] | [3, 3, 2])
    {
        return true;
    }
    // Sweden and Finland inside the country: a trunk 0, an area or mobile prefix of two to four digits, then the
    // subscriber number; nine to eleven digits in all ("070-123 45 67", "08-123 456 78", "040 123 4567",
    // "(08) 123 456 78"). Dates use dots and slashes, which this shape does not take.
    if digits[0] == 0 && digits.get(1).is_some_and(|d| *d != 0) && (9..=11).contains(&digits.len()) {
        let spoken = run.separators.iter().all(|s| matches!(s.as_str(), "" | "-" | ")" | "("));
        let grouped = shape.len() >= 2 && (2..=4).contains(&shape[0]);
        // Written whole: Swedish (07x) and Finnish (04x, 050) mobile numbers.
        let mobile_whole = shape == [10] && matches!(digits[1], 4 | 5 | 7);
        return spoken && (grouped || mobile_whole);
    }
    false
}

/// True when eleven digits carry valid fødselsnummer control digits (mod 11, as issued by Skatteetaten). D- and
/// H-numbers use the same control digits, so they are caught too. The date part is not checked: a number with valid
/// control digits is refused even if its date is odd, because refusing a false positive costs a rewrite while
/// storing a real identity number breaks the privacy promise.
/// Note: Skatteetaten's new control-digit scheme applies only to numbers issued from 2032.
pub fn is_valid_national_id(digits: &[u8]) -> bool {
    if digits.len() != 11 || digits.iter().any(|d| *d > 9) {
        return false;
    }
    const W1: [u32; 9] = [3, 7, 6, 1, 8, 9, 4, 5, 2];
    const W2: [u32; 10] = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
    let control = |weights: &[u32], ds: &[u8]| -> Option<u8> {
        let sum: u32 = weights.iter().zip(ds).map(|(w, d)| w * u32::from(*d)).sum();
        match 11 - sum % 11 {
            11 => Some(0),
            10 => None,
            k => Some(k as u8),
        }
    };
    control(&W1, &digits[..9]) == Some(digits[9]) && control(&W2, &digits[..10]) == Some(digits[10])
}

/// Validates free text: trimmed, length-limited, and free of personal data. Empty text becomes `None`.
pub fn check_text(field: &str, text: Option<&str>, max: usize) -> Result<Option<String>, InvalidInput> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > max {
        return Err(InvalidInput::new(
            ErrorCode::TextTooLong,
            field,
            format!("{field} may have at most {max} characters"),
        ));
    }
    // Personal data first: a phone number split by a zero-width space is refused as what it is.
    if let Some(kind) = find(text) {
        return Err(InvalidInput::new(
            ErrorCode::PersonalDataRefused,
            field,
            format!(
                "{field} looks like it contains {}. Varde stores no personal data: remove it and send again.",
                kind.describe()
            ),
        ));
    }
    if text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(InvalidInput::new(ErrorCode::InvalidValue, field, format!("{field} contains control characters")));
    }
    // Zero-width and bidirectional characters hide what a text says from the people who read it.
    if text.chars().any(is_invisible) {
        return Err(InvalidInput::new(
            ErrorCode::InvalidValue,
            field,
            format!("{field} contains invisible characters (zero-width or text-direction marks); type it again"),
        ));
    }
    Ok(Some(text.to_owned()))
}

#[cfg(test)]
mod tests;
