//! Norwegian personal identity numbers (fødselsnummer), D-numbers and H-numbers, validated where they are used:
//! only the advisory unit ever holds one. Eleven digits: the birth date (DDMMYY), a three-digit individual number
//! whose range gives the century, and two check digits (modulus 11 with the weights Skatteetaten publishes).
//!
//! A D-number (for people without a fødselsnummer) adds 4 to the first digit; an H-number (assigned in health
//! services) adds 4 to the third. Synthetic numbers, which Skatteetaten's test environment (Tenor) hands out, add 8
//! to the third digit: they are accepted and marked as such, so demo data can never be mistaken for a person.

use jiff::civil::Date;
use std::fmt;

const K1: [u32; 9] = [3, 7, 6, 1, 8, 9, 4, 5, 2];
const K2: [u32; 10] = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FnrError {
    #[error("a fødselsnummer has 11 digits")]
    Length,
    #[error("the check digits do not match: a digit is mistyped")]
    Checksum,
    #[error("the first six digits are not a birth date")]
    Date,
}

/// What kind of number it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Fodselsnummer,
    DNumber,
    HNumber,
    /// From Skatteetaten's synthetic test population: not a person.
    Synthetic,
}

/// A valid identity number. Its digits are shown only where the person is (see [`Fnr::masked`] elsewhere).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Fnr {
    digits: [u8; 11],
    kind: Kind,
    birth: Date,
}

/// The check digit for `digits` with `weights`, or `None` where the rule gives 10 (no such number is issued).
fn check_digit(digits: &[u8], weights: &[u32]) -> Option<u8> {
    let sum: u32 = digits.iter().zip(weights).map(|(d, w)| u32::from(*d) * w).sum();
    match 11 - sum % 11 {
        11 => Some(0),
        10 => None,
        k => Some(k as u8),
    }
}

/// The year of birth from the two-digit year and the individual number (Skatteetaten's ranges).
fn century_year(yy: i16, individual: u16) -> Option<i16> {
    match individual {
        0..=499 => Some(1900 + yy),
        500..=749 if yy >= 54 => Some(1800 + yy),
        500..=999 if yy <= 39 => Some(2000 + yy),
        900..=999 if yy >= 40 => Some(1900 + yy),
        _ => None,
    }
}

impl Fnr {
    /// Parses eleven digits (spaces allowed between groups, as people write them: "010190 12345").
    pub fn parse(text: &str) -> Result<Fnr, FnrError> {
        let digits: Vec<u8> = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_digit(10).map(|d| d as u8))
            .collect::<Option<_>>()
            .ok_or(FnrError::Length)?;
        let digits: [u8; 11] = digits.try_into().map_err(|_| FnrError::Length)?;
        if check_digit(&digits[..9], &K1) != Some(digits[9]) || check_digit(&digits[..10], &K2) != Some(digits[10]) {
            return Err(FnrError::Checksum);
        }
        let two = |i: usize| i16::from(digits[i]) * 10 + i16::from(digits[i + 1]);
        let (mut day, mut month, yy) = (two(0), two(2), two(4));
        let mut kind = Kind::Fodselsnummer;
        if day > 40 {
            day -= 40;
            kind = Kind::DNumber;
        }
        if month > 80 {
            month -= 80;
            kind = Kind::Synthetic;
        } else if month > 40 {
            month -= 40;
            kind = Kind::HNumber;
        }
        let individual = u16::from(digits[6]) * 100 + u16::from(digits[7]) * 10 + u16::from(digits[8]);
        let year = century_year(yy, individual).ok_or(FnrError::Date)?;
        let birth = Date::new(year, month as i8, day as i8).map_err(|_| FnrError::Date)?;
        Ok(Fnr { digits, kind, birth })
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn birth_date(&self) -> Date {
        self.birth
    }

    /// The eleven digits.
    pub fn digits(&self) -> String {
        self.digits.iter().map(|d| char::from(b'0' + d)).collect()
    }

    /// The birth date part and five stars: enough to tell two people apart on a list, not to identify one.
    pub fn masked(&self) -> String {
        format!("{}*****", &self.digits()[..6])
    }

    /// Makes a valid number from a birth date and an individual number (the check digits computed), or `None` when
    /// the rule gives no check digit for it. For demo data: `synthetic` marks it as Skatteetaten's test numbers do.
    pub fn compose(birth: Date, individual: u16, synthetic: bool) -> Option<Fnr> {
        let month = birth.month() as u16 + if synthetic { 80 } else { 0 };
        let yy = (birth.year().rem_euclid(100)) as u16;
        let head = format!("{:02}{:02}{:02}{:03}", birth.day(), month, yy, individual);
        let mut digits: Vec<u8> = head.bytes().map(|b| b - b'0').collect();
        digits.push(check_digit(&digits, &K1)?);
        digits.push(check_digit(&digits, &K2)?);
        let text: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
        Fnr::parse(&text).ok().filter(|f| f.birth == birth)
    }
}

/// Stored as its eleven digits (inside sealed data only) and checked again when read.
impl serde::Serialize for Fnr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.digits())
    }
}

impl<'de> serde::Deserialize<'de> for Fnr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Fnr, D::Error> {
        let text = String::deserialize(d)?;
        Fnr::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl fmt::Debug for Fnr {
    /// Never the whole number in logs or panics.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fnr({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_composed_number_parses_back_to_its_birth_date() {
        // About one individual number in eleven has no check digit; the next one has.
        let f = (123..140).find_map(|i| Fnr::compose(jiff::civil::date(1990, 1, 1), i, false)).unwrap();
        assert_eq!(f.digits().len(), 11);
        assert_eq!(f.birth_date(), jiff::civil::date(1990, 1, 1));
        assert_eq!(f.kind(), Kind::Fodselsnummer);
        assert_eq!(Fnr::parse(&f.digits()).unwrap(), f);
        assert_eq!(f.masked(), "010190*****");
        assert_eq!(format!("{f:?}"), "Fnr(010190*****)");
    }

    #[test]
    fn the_check_digits_are_those_of_known_numbers() {
        // Numbers worked through by hand with the weights (3 7 6 1 8 9 4 5 2 / 5 4 3 2 7 6 5 4 3 2):
        // 150589 123 → k1 = 11 - (1·3+5·7+0·6+5·1+8·8+9·9+1·4+2·5+3·2 = 208; 208 mod 11 = 10) = 1;
        // k2 = 11 - (1·5+5·4+0·3+5·2+8·7+9·6+1·5+2·4+3·3+1·2 = 169; 169 mod 11 = 4) = 7.
        let f = Fnr::parse("15058912317").unwrap();
        assert_eq!(f.birth_date(), jiff::civil::date(1989, 5, 15));
        assert_eq!(Fnr::parse("150589 12317").unwrap(), f, "spaces between groups are fine");
        assert_eq!(Fnr::parse("15058912318"), Err(FnrError::Checksum));
        assert_eq!(Fnr::parse("15058912327"), Err(FnrError::Checksum), "a mistyped individual number");
        assert_eq!(Fnr::parse("1505891231"), Err(FnrError::Length));
        assert_eq!(Fnr::parse("150589123170"), Err(FnrError::Length));
        assert_eq!(Fnr::parse("15O58912317"), Err(FnrError::Length), "a letter O for a zero");
    }

    #[test]
    fn d_h_and_synthetic_numbers_are_told_apart() {
        let d = jiff::civil::date(2001, 12, 24);
        let synthetic = Fnr::compose(d, 512, true).or_else(|| Fnr::compose(d, 513, true)).unwrap();
        assert_eq!((synthetic.kind(), synthetic.birth_date()), (Kind::Synthetic, d));
        assert_eq!(&synthetic.digits()[2..4], "92");
        // A D-number: the day plus 40.
        let mut digits: Vec<u8> = "640590123".bytes().map(|b| b - b'0').collect();
        digits.push(check_digit(&digits, &K1).unwrap());
        digits.push(check_digit(&digits, &K2).unwrap());
        let text: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
        let dn = Fnr::parse(&text).unwrap();
        assert_eq!((dn.kind(), dn.birth_date()), (Kind::DNumber, jiff::civil::date(1990, 5, 24)));
    }

    #[test]
    fn impossible_dates_are_refused() {
        // 31 February: the check digits are right, the date is not.
        let mut digits: Vec<u8> = "310290123".bytes().map(|b| b - b'0').collect();
        digits.push(check_digit(&digits, &K1).expect("this head has a first check digit"));
        digits.push(check_digit(&digits, &K2).expect("and a second"));
        let text: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
        assert_eq!(Fnr::parse(&text), Err(FnrError::Date));
    }

    proptest! {
        /// Every composed number parses back to its birth date, and changing any one digit is caught.
        #[test]
        fn one_wrong_digit_is_always_caught(
            days in 0i64..(365 * 120), individual in 0u16..500, position in 0usize..11, delta in 1u8..10
        ) {
            let birth = jiff::civil::date(1905, 1, 1) + jiff::Span::new().days(days);
            if let Some(f) = Fnr::compose(birth, individual, false) {
                prop_assert_eq!(f.birth_date(), birth);
                let mut digits: Vec<u8> = f.digits().bytes().map(|b| b - b'0').collect();
                digits[position] = (digits[position] + delta) % 10;
                let text: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
                prop_assert!(Fnr::parse(&text).is_err(), "{} accepted", text);
            }
        }
    }
}
