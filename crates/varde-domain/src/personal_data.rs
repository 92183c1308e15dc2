//! Privacy rule 1: Varde stores no personal data. Free text that looks like a national identity number, a phone
//! number or an e-mail address is refused (not silently scrubbed), so the technician sees why and rewrites it.

use regex::Regex;
use std::sync::LazyLock;

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

static EMAIL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}").unwrap());

/// Finds the first kind of personal data in `text`, if any.
pub fn find(text: &str) -> Option<PersonalData> {
    if EMAIL.is_match(text) {
        return Some(PersonalData::EmailAddress);
    }
    for run in number_runs(text) {
        let digits: Vec<u8> = run.groups.concat();
        let shape: Vec<usize> = run.groups.iter().map(Vec::len).collect();
        if matches!(shape[..], [11] | [6, 5]) && is_valid_national_id(&digits) {
            return Some(PersonalData::NationalIdNumber);
        }
        if looks_like_phone(&run) {
            return Some(PersonalData::PhoneNumber);
        }
    }
    None
}

/// A number as a person writes it: groups of digits joined by single spaces or hyphens ("912 34 567",
/// "010190-12345"), perhaps after a '+'. The group shape tells a phone number from a date such as 2026-11-22.
struct NumberRun {
    groups: Vec<Vec<u8>>,
    plus: bool,
}

fn number_runs(text: &str) -> Vec<NumberRun> {
    let bytes = text.as_bytes();
    let mut runs = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        // A '+' right before, possibly with one space between ("+ 47 ..."), marks an international number.
        let plus = (i >= 1 && bytes[i - 1] == b'+') || (i >= 2 && bytes[i - 1] == b' ' && bytes[i - 2] == b'+');
        // Digits glued to letters or decimal points ("3MMC", "A123", "0.35") are names or amounts, not numbers.
        let glued = i >= 1 && (bytes[i - 1].is_ascii_alphabetic() || matches!(bytes[i - 1], b'.' | b','));
        let mut groups = vec![Vec::new()];
        while i < bytes.len() {
            if bytes[i].is_ascii_digit() {
                groups.last_mut().expect("never empty").push(bytes[i] - b'0');
                i += 1;
            } else if matches!(bytes[i], b' ' | b'-') && i + 1 < bytes.len() && bytes[i + 1].is_ascii_digit() {
                groups.push(Vec::new());
                i += 1;
            } else {
                break;
            }
        }
        if !glued {
            runs.push(NumberRun { groups, plus });
        }
    }
    runs
}

fn looks_like_phone(run: &NumberRun) -> bool {
    let digits: Vec<u8> = run.groups.concat();
    if run.plus {
        return (8..=15).contains(&digits.len());
    }
    let shape: Vec<usize> = run.groups.iter().map(Vec::len).collect();
    // Norwegian numbers have eight digits, the first 2-9, written whole or in the usual groups.
    let norwegian = |digits: &[u8], shape: &[usize]| {
        digits.len() == 8
            && (2..=9).contains(&digits[0])
            && matches!(shape, [8] | [3, 2, 3] | [2, 2, 2, 2] | [4, 4] | [3, 5] | [2, 3, 3])
    };
    // With the country code in front: 0047 or 47, as its own group or glued to the number.
    for prefix in [&[0u8, 0, 4, 7][..], &[4, 7][..]] {
        if digits.starts_with(prefix) {
            let rest = &digits[prefix.len()..];
            if shape[0] == prefix.len() && norwegian(rest, &shape[1..]) {
                return true;
            }
            if shape.len() == 1 && norwegian(rest, &[8]) {
                return true;
            }
        }
    }
    norwegian(&digits, &shape)
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Builds a number with valid control digits from a date and an individual number, as the register does;
    /// None when the individual number gives a control digit of 10 (the register skips those).
    fn make_id(day: u8, month: u8, year: u8, individual: u16) -> Option<Vec<u8>> {
        let mut d = vec![day / 10, day % 10, month / 10, month % 10, year / 10, year % 10];
        d.extend([(individual / 100) as u8, (individual / 10 % 10) as u8, (individual % 10) as u8]);
        for weights in [&[3u32, 7, 6, 1, 8, 9, 4, 5, 2][..], &[5, 4, 3, 2, 7, 6, 5, 4, 3, 2][..]] {
            let sum: u32 = weights.iter().zip(&d).map(|(w, x)| w * u32::from(*x)).sum();
            match 11 - sum % 11 {
                10 => return None,
                11 => d.push(0),
                k => d.push(k as u8),
            }
        }
        Some(d)
    }

    fn digits_str(d: &[u8]) -> String {
        d.iter().map(|x| char::from(b'0' + x)).collect()
    }

    proptest! {
        #[test]
        fn every_issued_number_is_recognised_in_free_text(
            day in 1u8..=31, month in 1u8..=12, year in 0u8..=99, individual in 0u16..=999,
            dnumber in any::<bool>(), before in "[a-zæøå ]{0,20}", spaced in any::<bool>(),
        ) {
            let day = if dnumber { day + 40 } else { day };
            if let Some(id) = make_id(day, month, year, individual) {
                prop_assert!(is_valid_national_id(&id));
                let s = digits_str(&id);
                let written = if spaced { format!("{} {}", &s[..6], &s[6..]) } else { s };
                let text = format!("{before} {written} takk");
                prop_assert_eq!(find(&text), Some(PersonalData::NationalIdNumber));
            }
        }

        #[test]
        fn changing_any_one_digit_breaks_the_control_digits(
            day in 1u8..=28, month in 1u8..=12, year in 0u8..=99, individual in 0u16..=999,
            pos in 0usize..11, delta in 1u8..=9,
        ) {
            if let Some(mut id) = make_id(day, month, year, individual) {
                id[pos] = (id[pos] + delta) % 10;
                prop_assert!(!is_valid_national_id(&id));
            }
        }

        #[test]
        fn detector_never_panics(s in "\\PC{0,80}") {
            let _ = find(&s);
        }
    }

    #[test]
    fn known_valid_and_invalid_numbers() {
        // 15076500565 is the well-known synthetic test number with valid control digits.
        assert_eq!(find("eier 15076500565"), Some(PersonalData::NationalIdNumber));
        assert_eq!(find("15076500566"), None, "wrong second control digit is not an identity number");
    }

    #[test]
    fn phone_numbers_in_the_ways_people_write_them() {
        for t in
            ["ring 91234567", "tlf 912 34 567", "41 23 45 67", "+47 91234567", "0047 912 34 567", "+46 70 123 45 67"]
        {
            assert_eq!(find(t), Some(PersonalData::PhoneNumber), "{t}");
        }
    }

    #[test]
    fn e_mail_addresses() {
        assert_eq!(find("skriv til ola.nordmann@example.no"), Some(PersonalData::EmailAddress));
    }

    #[test]
    fn ordinary_drug_checking_notes_pass() {
        for t in [
            "Rosa tablett med Tesla-logo, 0.35 g, delestrek",
            "brunt pulver, lukter eddik, 3-MMC solgt som 4-MMC",
            "120 mg MDMA, 2 tabletter",
            "uke 47, pris 200 kr per gram",
            "kjøpt 12.11.2026",
            "kjøpt 2026-11-22, 22-11-2026 eller 22 11 2026",
            "1.5 mg/kg",
            "betalte 2500 kr for 10 g",
            "",
        ] {
            assert_eq!(find(t), None, "{t}");
        }
    }
}
