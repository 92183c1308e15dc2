//! The sample code: the only key the person who brought a sample gets.

use rand::Rng;
use std::fmt;

/// Crockford's base32 alphabet: no I, L, O or U, so a code read aloud or copied by hand is not misread.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters in a code. 12 × 5 bits = 60 bits of randomness: guessing one of a million stored codes takes about
/// 10^12 tries, far beyond what the rate-limited look-up allows.
pub const CODE_LEN: usize = 12;

/// An anonymous, unguessable sample code such as `7KQ2-MX9P-4RTB`. A value that exists is well-formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SampleCode([u8; CODE_LEN]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("a sample code has {CODE_LEN} characters (letters and digits, hyphens optional); this one has {0}")]
    Length(usize),
    #[error("'{0}' cannot appear in a sample code")]
    Character(char),
}

impl SampleCode {
    /// Draws a new code from the given random source (the caller decides: the OS in production, a seed in demos).
    pub fn generate<R: Rng + ?Sized>(rng: &mut R) -> SampleCode {
        let mut code = [0u8; CODE_LEN];
        for slot in &mut code {
            *slot = ALPHABET[rng.random_range(0..32)];
        }
        SampleCode(code)
    }

    /// Reads a code as a person may type it: any case, with or without hyphens or spaces, and with the letters
    /// Crockford maps to digits (O→0, I and L→1).
    pub fn parse(input: &str) -> Result<SampleCode, CodeError> {
        let mut code = [0u8; CODE_LEN];
        let mut n = 0;
        for c in input.chars() {
            if c == '-' || c.is_whitespace() {
                continue;
            }
            let c = match c.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                c => c,
            };
            if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) {
                return Err(CodeError::Character(c));
            }
            if n < CODE_LEN {
                code[n] = c as u8;
            }
            n += 1;
        }
        if n != CODE_LEN {
            return Err(CodeError::Length(n));
        }
        Ok(SampleCode(code))
    }

    /// The code without separators, as stored.
    pub fn compact(&self) -> &str {
        // The bytes are always from ALPHABET, which is ASCII.
        std::str::from_utf8(&self.0).expect("alphabet is ASCII")
    }
}

impl fmt::Display for SampleCode {
    /// Groups of four, easy to read aloud: `7KQ2-MX9P-4RTB`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.compact();
        write!(f, "{}-{}-{}", &s[0..4], &s[4..8], &s[8..12])
    }
}

impl std::str::FromStr for SampleCode {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SampleCode::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use std::collections::HashSet;

    proptest! {
        #[test]
        fn generated_codes_round_trip_in_every_form_a_person_types(seed in any::<u64>()) {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let code = SampleCode::generate(&mut rng);
            let shown = code.to_string();
            prop_assert_eq!(shown.len(), 14);
            prop_assert_eq!(SampleCode::parse(&shown).unwrap(), code);
            prop_assert_eq!(SampleCode::parse(&shown.to_lowercase()).unwrap(), code);
            prop_assert_eq!(SampleCode::parse(code.compact()).unwrap(), code);
            prop_assert_eq!(SampleCode::parse(&shown.replace('-', " ")).unwrap(), code);
            for c in shown.chars() {
                prop_assert!(!"ILOU".contains(c), "ambiguous character {c} in {shown}");
            }
        }

        #[test]
        fn parse_never_panics_and_accepts_only_twelve_symbols(s in "\\PC{0,30}") {
            if let Ok(code) = SampleCode::parse(&s) {
                prop_assert_eq!(code.compact().len(), CODE_LEN);
            }
        }
    }

    #[test]
    fn ambiguous_letters_read_as_the_digits_they_look_like() {
        assert_eq!(SampleCode::parse("oooo-iiii-llll").unwrap().to_string(), "0000-1111-1111");
        assert_eq!(SampleCode::parse("UUUU-0000-0000"), Err(CodeError::Character('U')));
        assert_eq!(SampleCode::parse("0000-0000-000"), Err(CodeError::Length(11)));
    }

    #[test]
    fn every_symbol_is_used_and_codes_do_not_repeat() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let codes: Vec<SampleCode> = (0..20_000).map(|_| SampleCode::generate(&mut rng)).collect();
        let distinct: HashSet<_> = codes.iter().collect();
        assert_eq!(distinct.len(), codes.len());
        let used: HashSet<u8> = codes.iter().flat_map(|c| c.0).collect();
        assert_eq!(used.len(), 32, "all 32 symbols carry randomness");
    }
}
