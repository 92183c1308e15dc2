//! The texts this kit's pages share between the two modules, in bokmål, nynorsk and English: one TOML file per
//! subject (`i18n/*.toml`), a table per key with `nb`, `nn` and `en`.

use std::collections::HashMap;

/// One file's texts.
pub struct Texts(HashMap<String, HashMap<String, String>>);

impl Texts {
    /// Parses a file of texts; every key must have all three languages (its module's test calls this).
    pub fn parse(name: &str, toml_text: &str) -> Texts {
        let texts: HashMap<String, HashMap<String, String>> =
            toml::from_str(toml_text).unwrap_or_else(|e| panic!("{name}: {e}"));
        for (key, by_lang) in &texts {
            for lang in ["nb", "nn", "en"] {
                assert!(by_lang.get(lang).is_some_and(|t| !t.is_empty()), "{name}: [{key}] has no {lang}");
            }
        }
        Texts(texts)
    }

    /// The text for `key` in the language with code `lang` (bokmål for any other code).
    pub fn get(&'static self, lang: &str, key: &str) -> &'static str {
        self.find(lang, key).unwrap_or_else(|| panic!("no text [{key}]"))
    }

    /// [`Texts::get`], or none for a key the file does not have.
    pub fn find(&'static self, lang: &str, key: &str) -> Option<&'static str> {
        let texts = self.0.get(key)?;
        texts.get(lang).or_else(|| texts.get("nb")).map(String::as_str)
    }

    /// Every key, for a test that walks them.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
