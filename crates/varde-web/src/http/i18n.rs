//! Texts of the public pages and feeds, from `i18n/ui.toml`.

use std::collections::HashMap;
use std::sync::LazyLock;
use varde_domain::{Lang, Localized};

static UI: LazyLock<HashMap<String, Localized>> = LazyLock::new(|| {
    let text = include_str!("../../i18n/ui.toml");
    let map: HashMap<String, Localized> =
        toml::from_str(text).unwrap_or_else(|e| panic!("i18n/ui.toml: {e} (a key lacks nb, nn or en?)"));
    for (key, value) in &map {
        if let Some(lang) = value.first_empty() {
            panic!("i18n/ui.toml: [{key}] is empty in {}", lang.code());
        }
    }
    map
});

/// The text for `key` in `lang`. Keys are checked by a test that renders every page kind in every language.
pub fn t(lang: Lang, key: &str) -> &'static str {
    UI.get(key).map_or_else(|| panic!("i18n/ui.toml has no [{key}]"), |v| v.get(lang))
}

/// Makes sure the file parses, at start rather than at the first page view.
pub fn check() {
    LazyLock::force(&UI);
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_key_has_all_three_languages() {
        super::check();
        assert!(super::UI.len() >= 20);
    }
}
