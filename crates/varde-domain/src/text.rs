//! Folding names so that look-up is case-, accent- and punctuation-insensitive.

use unicode_normalization::UnicodeNormalization;

/// Folds a substance name to its look-up key: lower case, accents removed, Greek letters spelled out, and every
/// character that is not a letter or digit dropped. "α-PVP", "alpha PVP" and "Alpha-pvp" all fold to "alphapvp";
/// "Kokaïn" and "kokain" to "kokain". Norwegian letters fold as people type them without a Norwegian keyboard.
pub fn fold(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.nfkd() {
        match c {
            'α' | 'Α' => out.push_str("alpha"),
            'β' | 'Β' => out.push_str("beta"),
            'γ' | 'Γ' => out.push_str("gamma"),
            'δ' | 'Δ' => out.push_str("delta"),
            'µ' | 'μ' => out.push('u'),
            'ø' | 'Ø' => out.push('o'),
            'æ' | 'Æ' => out.push_str("ae"),
            'ß' => out.push_str("ss"),
            c if c.is_alphanumeric() => out.extend(c.to_lowercase()),
            _ => {} // combining marks (accents), spaces, hyphens, commas, brackets
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::fold;

    #[test]
    fn folds_case_accents_punctuation_and_greek() {
        assert_eq!(fold("α-PVP"), fold("alpha pvp"));
        assert_eq!(fold("Kokaïn"), "kokain");
        assert_eq!(fold("3-MMC"), "3mmc");
        assert_eq!(fold("Bromazolám"), "bromazolam");
        assert_eq!(fold("Ørsta"), "orsta");
        assert_eq!(fold("µg"), "ug");
        assert_ne!(fold("2-FDCK"), fold("3-FDCK"));
    }
}
