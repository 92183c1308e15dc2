//! Analysis methods and what each cannot see. The limits are data (`data/methods.toml`) shown with every result.

use crate::datafile::DataFileError;
use crate::lang::Localized;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Ftir,
    Raman,
    GcMs,
    LcMs,
    Hplc,
    Reagent,
    StripFentanyl,
    StripBenzodiazepine,
    StripNitazene,
    StripXylazine,
    StripMedetomidine,
}

impl Method {
    pub const ALL: [Method; 11] = [
        Method::Ftir,
        Method::Raman,
        Method::GcMs,
        Method::LcMs,
        Method::Hplc,
        Method::Reagent,
        Method::StripFentanyl,
        Method::StripBenzodiazepine,
        Method::StripNitazene,
        Method::StripXylazine,
        Method::StripMedetomidine,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Ftir => "ftir",
            Method::Raman => "raman",
            Method::GcMs => "gc_ms",
            Method::LcMs => "lc_ms",
            Method::Hplc => "hplc",
            Method::Reagent => "reagent",
            Method::StripFentanyl => "strip_fentanyl",
            Method::StripBenzodiazepine => "strip_benzodiazepine",
            Method::StripNitazene => "strip_nitazene",
            Method::StripXylazine => "strip_xylazine",
            Method::StripMedetomidine => "strip_medetomidine",
        }
    }

    pub fn parse(s: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// Immunoassay test strips answer positive, negative or inconclusive; other methods name components.
    pub fn is_strip(self) -> bool {
        matches!(
            self,
            Method::StripFentanyl
                | Method::StripBenzodiazepine
                | Method::StripNitazene
                | Method::StripXylazine
                | Method::StripMedetomidine
        )
    }

    /// Laboratory methods confirm a screening result.
    pub fn is_lab(self) -> bool {
        matches!(self, Method::GcMs | Method::LcMs | Method::Hplc)
    }
}

/// What each method cannot see, in three languages, from `data/methods.toml`.
#[derive(Debug, Clone)]
pub struct MethodLimits {
    limits: HashMap<Method, (Localized, Localized)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    method: Vec<toml::Spanned<RawMethod>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMethod {
    id: Method,
    name: Localized,
    limits: Localized,
}

impl MethodLimits {
    pub const BUILTIN_FILE: &'static str = "data/methods.toml";

    pub fn builtin() -> Result<MethodLimits, DataFileError> {
        MethodLimits::parse(Self::BUILTIN_FILE, include_str!("../data/methods.toml"))
    }

    pub fn parse(file: &str, text: &str) -> Result<MethodLimits, DataFileError> {
        let raw: RawLimits = toml::from_str(text).map_err(|e| DataFileError::from_toml(file, text, &e))?;
        let mut limits = HashMap::new();
        for entry in raw.method {
            let start = entry.span().start;
            let m = entry.into_inner();
            if let Some(lang) = m.limits.first_empty().or(m.name.first_empty()) {
                return Err(DataFileError::at(
                    file,
                    text,
                    start,
                    format!("{}: limits in {} are empty", m.id.as_str(), lang.code()),
                ));
            }
            if limits.insert(m.id, (m.name, m.limits)).is_some() {
                return Err(DataFileError::at(
                    file,
                    text,
                    start,
                    format!("method {} is described twice", m.id.as_str()),
                ));
            }
        }
        if let Some(missing) = Method::ALL.into_iter().find(|m| !limits.contains_key(m)) {
            return Err(DataFileError::at(
                file,
                text,
                text.len(),
                format!("method {} has no limits", missing.as_str()),
            ));
        }
        Ok(MethodLimits { limits })
    }

    /// What the method cannot see.
    pub fn of(&self, method: Method) -> &Localized {
        &self.limits[&method].1
    }

    /// The method's name as people say it.
    pub fn name(&self, method: Method) -> &Localized {
        &self.limits[&method].0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_limits_cover_every_method() {
        let l = MethodLimits::builtin().unwrap();
        assert!(l.of(Method::StripFentanyl).en.contains("nitazene"));
        assert!(l.of(Method::Ftir).nb.contains('%'));
    }

    #[test]
    fn a_missing_method_is_refused_naming_it() {
        let text = "[[method]]\nid = \"ftir\"\nname = { nb = \"a\", nn = \"b\", en = \"c\" }\nlimits = { nb = \"a\", nn = \"b\", en = \"c\" }\n";
        let err = MethodLimits::parse("m.toml", text).unwrap_err();
        assert!(err.to_string().contains("raman has no limits"), "{err}");
    }

    #[test]
    fn an_unknown_method_is_refused_with_its_line() {
        let text = "\n[[method]]\nid = \"ftri\"\nname = { nb = \"a\", nn = \"b\", en = \"c\" }\nlimits = { nb = \"a\", nn = \"b\", en = \"c\" }\n";
        let err = MethodLimits::parse("m.toml", text).unwrap_err();
        assert_eq!(err.line, 3, "{err}");
        assert!(err.message.contains("ftri"), "{err}");
    }
}
