//! Colours as a reader reads them: a fixed, translated list (`data/colours.toml`). A sample keeps the colour as the
//! technician typed it (the person's own words); public texts name it from this list in the reader's language, or
//! not at all, so that a Norwegian headline never says "yellow" and free text is never published verbatim.

use crate::datafile::DataFileError;
use crate::lang::{Lang, Localized};
use serde::Deserialize;
use std::sync::LazyLock;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Colour {
    pub id: String,
    pub name: Localized,
    /// The words that mean this colour, in any of the three languages, lower case.
    pub words: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Colours {
    colour: Vec<Colour>,
}

impl Colours {
    pub fn parse(file: &str, text: &str) -> Result<Colours, DataFileError> {
        let c: Colours = toml::from_str(text).map_err(|e| DataFileError::from_toml(file, text, &e))?;
        let mut seen: Vec<&str> = Vec::new();
        for colour in &c.colour {
            if let Some(lang) = colour.name.first_empty() {
                return Err(DataFileError {
                    file: file.into(),
                    line: 1,
                    message: format!("{} has no {} name", colour.id, lang.code()),
                });
            }
            for w in &colour.words {
                if seen.contains(&w.as_str()) || *w != w.to_lowercase() {
                    return Err(DataFileError {
                        file: file.into(),
                        line: 1,
                        message: format!("'{w}' is repeated or not lower case"),
                    });
                }
                seen.push(w);
            }
        }
        Ok(c)
    }

    /// The colour `text` names, if it is one of the list's words (case, spaces and a trailing full stop aside).
    pub fn recognise(&self, text: &str) -> Option<&Colour> {
        let wanted = text.trim().trim_end_matches('.').split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
        self.colour.iter().find(|c| c.words.contains(&wanted))
    }

    pub fn by_id(&self, id: &str) -> Option<&Colour> {
        self.colour.iter().find(|c| c.id == id)
    }

    /// Colour ids joined with "/" (as a draft's product stores them) in `lang`: "pink/blue" → "rosa/blå". An id
    /// the list does not know is left out.
    pub fn describe(&self, ids: &str, lang: Lang) -> Option<String> {
        let names: Vec<&str> = ids.split('/').filter_map(|id| self.by_id(id)).map(|c| c.name.get(lang)).collect();
        (!names.is_empty()).then(|| names.join("/"))
    }

    pub fn all(&self) -> &[Colour] {
        &self.colour
    }
}

/// The shipped list.
pub fn builtin() -> &'static Colours {
    static BUILTIN: LazyLock<Colours> = LazyLock::new(|| {
        Colours::parse("data/colours.toml", include_str!("../data/colours.toml")).unwrap_or_else(|e| panic!("{e}"))
    });
    &BUILTIN
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_colours_are_recognised_in_any_language_and_named_in_the_readers() {
        let c = builtin();
        assert_eq!(c.recognise("Rosa").map(|c| c.id.as_str()), Some("pink"));
        assert_eq!(c.recognise(" light  brown ").map(|c| c.id.as_str()), Some("light_brown"));
        assert_eq!(c.recognise("gult").map(|c| c.id.as_str()), Some("yellow"));
        assert!(c.recognise("rosa med blå og grønne prikker").is_none(), "a description is the person's own words");
        assert_eq!(c.describe("yellow", Lang::Nb).as_deref(), Some("gul"));
        assert_eq!(c.describe("light_brown", Lang::Nn).as_deref(), Some("lysebrun"));
        assert_eq!(c.describe("blue/pink", Lang::En).as_deref(), Some("blue/pink"));
        assert_eq!(c.describe("blue/pink", Lang::Nb).as_deref(), Some("blå/rosa"));
        assert_eq!(c.describe("ola@example.no", Lang::Nb), None);
    }
}
