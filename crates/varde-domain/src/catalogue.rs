//! The substance catalogue: canonical substances with names in three languages, synonyms, street names, class,
//! risk properties and identifiers; and per class, harm-reduction advice. Loaded from `data/substances.toml`.

use crate::datafile::DataFileError;
use crate::lang::Localized;
use crate::text::fold;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Pharmacological classes. The set is code because the risk policy reasons about it; names and advice are data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SubstanceClass {
    Opioid,
    /// Fentanyl and its analogues, carfentanil, brorphine and other non-nitazene synthetic opioids of high potency.
    PotentSyntheticOpioid,
    Nitazene,
    Stimulant,
    Cathinone,
    Entactogen,
    Psychedelic,
    Dissociative,
    Benzodiazepine,
    DesignerBenzodiazepine,
    /// Alpha-2 agonists and other sedatives: xylazine, medetomidine, z-drugs.
    Sedative,
    /// GHB, GBL, 1,4-butanediol: steep dose-response, dangerous with alcohol.
    Depressant,
    Gabapentinoid,
    Cannabinoid,
    SyntheticCannabinoid,
    CuttingAgent,
}

impl SubstanceClass {
    /// Whether naloxone reverses an overdose of this class: the classes whose alerts advise it.
    pub fn is_opioid(self) -> bool {
        matches!(self, SubstanceClass::Opioid | SubstanceClass::PotentSyntheticOpioid | SubstanceClass::Nitazene)
    }

    pub const ALL: [SubstanceClass; 16] = [
        SubstanceClass::Opioid,
        SubstanceClass::PotentSyntheticOpioid,
        SubstanceClass::Nitazene,
        SubstanceClass::Stimulant,
        SubstanceClass::Cathinone,
        SubstanceClass::Entactogen,
        SubstanceClass::Psychedelic,
        SubstanceClass::Dissociative,
        SubstanceClass::Benzodiazepine,
        SubstanceClass::DesignerBenzodiazepine,
        SubstanceClass::Sedative,
        SubstanceClass::Depressant,
        SubstanceClass::Gabapentinoid,
        SubstanceClass::Cannabinoid,
        SubstanceClass::SyntheticCannabinoid,
        SubstanceClass::CuttingAgent,
    ];

    /// The id as in data files and the API (`potent_synthetic_opioid`).
    pub fn as_str(self) -> &'static str {
        use SubstanceClass::*;
        match self {
            Opioid => "opioid",
            PotentSyntheticOpioid => "potent_synthetic_opioid",
            Nitazene => "nitazene",
            Stimulant => "stimulant",
            Cathinone => "cathinone",
            Entactogen => "entactogen",
            Psychedelic => "psychedelic",
            Dissociative => "dissociative",
            Benzodiazepine => "benzodiazepine",
            DesignerBenzodiazepine => "designer_benzodiazepine",
            Sedative => "sedative",
            Depressant => "depressant",
            Gabapentinoid => "gabapentinoid",
            Cannabinoid => "cannabinoid",
            SyntheticCannabinoid => "synthetic_cannabinoid",
            CuttingAgent => "cutting_agent",
        }
    }

    pub fn parse(s: &str) -> Option<SubstanceClass> {
        SubstanceClass::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Properties the risk policy and the advice texts use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RiskProperty {
    /// Active in micrograms: a small error in dose can kill.
    HighPotency,
    /// Effects come late, so people redose (PMMA, PMA).
    DelayedOnset,
    /// New psychoactive substance whose effects and doses are little known.
    UnknownEffects,
    /// Sedation that naloxone does not reverse (xylazine, medetomidine).
    NotReversedByNaloxone,
    /// Little distance between an active and a dangerous dose (GHB).
    NarrowDoseRange,
    LongActing,
    /// An adulterant with its own harms (levamisole, phenacetin).
    ToxicAdulterant,
    /// Risk of serotonin toxicity, especially in combination.
    Serotonergic,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Substance {
    /// Canonical id: lower-case ASCII, digits and hyphens, stable forever (stored with samples).
    pub id: String,
    pub class: SubstanceClass,
    pub names: Localized,
    pub synonyms: Vec<String>,
    pub street_names: Vec<String>,
    pub risks: Vec<RiskProperty>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pubchem_cid: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cas: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inchikey: Option<String>,
}

impl Substance {
    pub fn has(&self, risk: RiskProperty) -> bool {
        self.risks.contains(&risk)
    }
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClassInfo {
    pub id: SubstanceClass,
    pub names: Localized,
    /// Harm-reduction advice for this class.
    pub advice: Localized,
}

/// A substance as named on a sample: a catalogue id when the name is known, otherwise the name as given. An unknown
/// name is kept, never dropped: it is itself a finding.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubstanceRef {
    /// The canonical catalogue id, or the name as given when `known` is false.
    pub substance: String,
    pub known: bool,
}

impl SubstanceRef {
    pub fn known(id: &str) -> SubstanceRef {
        SubstanceRef { substance: id.to_owned(), known: true }
    }
}

#[derive(Debug, Clone)]
pub struct Catalogue {
    pub version: String,
    substances: Vec<Substance>,
    classes: Vec<ClassInfo>,
    by_id: HashMap<String, usize>,
    by_name: HashMap<String, usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalogue {
    version: String,
    class: Vec<toml::Spanned<RawClass>>,
    substance: Vec<toml::Spanned<RawSubstance>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClass {
    id: SubstanceClass,
    names: Localized,
    advice: Localized,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSubstance {
    id: String,
    class: SubstanceClass,
    names: Localized,
    #[serde(default)]
    synonyms: Vec<String>,
    #[serde(default)]
    street: Vec<String>,
    #[serde(default)]
    risks: Vec<RiskProperty>,
    pubchem: Option<u64>,
    cas: Option<String>,
    inchikey: Option<String>,
}

impl Catalogue {
    pub const BUILTIN_FILE: &'static str = "data/substances.toml";

    /// The catalogue shipped with Varde.
    pub fn builtin() -> Result<Catalogue, DataFileError> {
        Catalogue::parse(Self::BUILTIN_FILE, include_str!("../data/substances.toml"))
    }

    /// Parses and validates a catalogue file. Every error names the file and line.
    pub fn parse(file: &str, text: &str) -> Result<Catalogue, DataFileError> {
        let raw: RawCatalogue = toml::from_str(text).map_err(|e| DataFileError::from_toml(file, text, &e))?;
        let err = |at: usize, msg: String| DataFileError::at(file, text, at, msg);

        let mut classes: Vec<ClassInfo> = Vec::new();
        for c in raw.class {
            let at = c.span().start;
            let c = c.into_inner();
            if classes.iter().any(|k| k.id == c.id) {
                return Err(err(at, format!("class {:?} is described twice", c.id)));
            }
            for (what, text) in [("names", &c.names), ("advice", &c.advice)] {
                if let Some(lang) = text.first_empty() {
                    return Err(err(at, format!("class {:?}: {what} in {} is empty", c.id, lang.code())));
                }
            }
            classes.push(ClassInfo { id: c.id, names: c.names, advice: c.advice });
        }
        if let Some(missing) = SubstanceClass::ALL.into_iter().find(|k| !classes.iter().any(|c| c.id == *k)) {
            return Err(err(text.len(), format!("class {missing:?} has no [[class]] entry with names and advice")));
        }

        let mut substances = Vec::new();
        let mut by_id = HashMap::new();
        let mut by_name: HashMap<String, usize> = HashMap::new();
        for s in raw.substance {
            let at = s.span().start;
            let s = s.into_inner();
            let index = substances.len();
            if !is_valid_id(&s.id) {
                return Err(err(at, format!("id '{}' must be lower-case ASCII letters, digits and hyphens", s.id)));
            }
            if by_id.insert(s.id.clone(), index).is_some() {
                return Err(err(at, format!("id '{}' is used twice", s.id)));
            }
            if let Some(lang) = s.names.first_empty() {
                return Err(err(at, format!("{}: name in {} is empty", s.id, lang.code())));
            }
            if let Some(cas) = &s.cas
                && !is_valid_cas(cas)
            {
                return Err(err(at, format!("{}: CAS number {cas} is malformed or its check digit is wrong", s.id)));
            }
            if let Some(key) = &s.inchikey
                && !is_valid_inchikey(key)
            {
                return Err(err(
                    at,
                    format!("{}: InChIKey {key} is not of the form XXXXXXXXXXXXXX-XXXXXXXXXX-X", s.id),
                ));
            }
            let names = [s.id.as_str(), &s.names.nb, &s.names.nn, &s.names.en]
                .into_iter()
                .chain(s.synonyms.iter().map(String::as_str))
                .chain(s.street.iter().map(String::as_str));
            for name in names {
                let key = fold(name);
                if key.is_empty() {
                    return Err(err(at, format!("{}: name '{name}' has no letters or digits", s.id)));
                }
                match by_name.get(&key) {
                    Some(other) if *other != index => {
                        let other: &Substance = &substances[*other];
                        return Err(err(
                            at,
                            format!(
                                "{}: name '{name}' already belongs to {} (names must be unique after folding case, accents and punctuation)",
                                s.id, other.id
                            ),
                        ));
                    }
                    _ => {
                        by_name.insert(key, index);
                    }
                }
            }
            substances.push(Substance {
                id: s.id,
                class: s.class,
                names: s.names,
                synonyms: s.synonyms,
                street_names: s.street,
                risks: s.risks,
                pubchem_cid: s.pubchem,
                cas: s.cas,
                inchikey: s.inchikey,
            });
        }
        Ok(Catalogue { version: raw.version, substances, classes, by_id, by_name })
    }

    /// Finds a substance by id, any name in any language, synonym or street name; case-, accent- and
    /// punctuation-insensitive.
    pub fn lookup(&self, name: &str) -> Option<&Substance> {
        self.by_name.get(&fold(name)).map(|i| &self.substances[*i])
    }

    /// A catalogue reference for a name, or the name kept as an unknown substance.
    pub fn resolve(&self, name: &str) -> SubstanceRef {
        match self.lookup(name) {
            Some(s) => SubstanceRef::known(&s.id),
            None => SubstanceRef { substance: name.trim().to_owned(), known: false },
        }
    }

    pub fn get(&self, id: &str) -> Option<&Substance> {
        self.by_id.get(id).map(|i| &self.substances[*i])
    }

    /// The substance a reference names, if it is in the catalogue.
    pub fn substance(&self, r: &SubstanceRef) -> Option<&Substance> {
        if r.known { self.get(&r.substance) } else { None }
    }

    pub fn substances(&self) -> &[Substance] {
        &self.substances
    }

    pub fn class(&self, id: SubstanceClass) -> &ClassInfo {
        self.classes.iter().find(|c| c.id == id).expect("validated: every class has an entry")
    }

    pub fn classes(&self) -> &[ClassInfo] {
        &self.classes
    }

    /// Substances whose names start with or contain the query, best first, for autocomplete.
    pub fn search(&self, query: &str, limit: usize) -> Vec<&Substance> {
        let q = fold(query);
        if q.is_empty() {
            return self.substances.iter().take(limit).collect();
        }
        let mut scored: Vec<(u8, usize)> = Vec::new();
        for (key, index) in &self.by_name {
            let score = if *key == q {
                0
            } else if key.starts_with(&q) {
                1
            } else if key.contains(&q) {
                2
            } else {
                continue;
            };
            scored.push((score, *index));
        }
        scored.sort_unstable_by(|a, b| a.cmp(b).then_with(|| self.substances[a.1].id.cmp(&self.substances[b.1].id)));
        let mut seen = Vec::new();
        for (_, index) in scored {
            if !seen.contains(&index) {
                seen.push(index);
                if seen.len() == limit {
                    break;
                }
            }
        }
        seen.into_iter().map(|i| &self.substances[i]).collect()
    }
}

fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
        && !id.ends_with('-')
}

/// CAS registry numbers carry a check digit: the digits before it, weighted 1, 2, 3, … from the right, mod 10.
fn is_valid_cas(cas: &str) -> bool {
    let parts: Vec<&str> = cas.split('-').collect();
    if parts.len() != 3
        || !(2..=7).contains(&parts[0].len())
        || parts[1].len() != 2
        || parts[2].len() != 1
        || !parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
    {
        return false;
    }
    let body: Vec<u32> = format!("{}{}", parts[0], parts[1]).bytes().map(|b| u32::from(b - b'0')).collect();
    let sum: u32 = body.iter().rev().enumerate().map(|(i, d)| (i as u32 + 1) * d).sum();
    sum % 10 == u32::from(parts[2].as_bytes()[0] - b'0')
}

fn is_valid_inchikey(key: &str) -> bool {
    let b = key.as_bytes();
    b.len() == 27
        && b[14] == b'-'
        && b[25] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 14 || i == 25 || c.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cat() -> Catalogue {
        Catalogue::builtin().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn builtin_catalogue_is_large_and_covers_every_class() {
        let c = cat();
        assert!(c.substances().len() >= 150, "{} substances", c.substances().len());
        let count = |k: SubstanceClass| c.substances().iter().filter(|s| s.class == k).count();
        for k in SubstanceClass::ALL {
            assert!(count(k) >= 1, "{k:?} has substances");
        }
        assert!(count(SubstanceClass::Nitazene) >= 8);
        assert!(count(SubstanceClass::Cathinone) >= 8);
        assert!(count(SubstanceClass::DesignerBenzodiazepine) >= 6);
        assert!(count(SubstanceClass::CuttingAgent) >= 20);
        for id in [
            "heroin",
            "fentanyl",
            "carfentanil",
            "mdma",
            "mda",
            "pmma",
            "pma",
            "xylazine",
            "medetomidine",
            "ghb",
            "caffeine",
            "paracetamol",
            "phenacetin",
            "levamisole",
            "lidocaine",
            "procaine",
            "benzocaine",
            "mannitol",
            "lactose",
            "inositol",
            "creatine",
            "dimethyl-sulfone",
            "bromazolam",
            "cocaine",
            "lsd",
            "ketamine",
        ] {
            assert!(c.get(id).is_some(), "{id} is in the catalogue");
        }
    }

    #[test]
    fn look_up_by_any_name_ignores_case_accents_and_punctuation() {
        let c = cat();
        assert_eq!(c.lookup("Koffein").unwrap().id, "caffeine");
        assert_eq!(c.lookup("KOFFEIN").unwrap().id, "caffeine");
        assert_eq!(c.lookup("ecstasy").unwrap().id, "mdma");
        assert_eq!(c.lookup("Kokaïn").unwrap().id, "cocaine");
        assert_eq!(c.lookup("α-PVP").unwrap().id, "alpha-pvp");
        assert_eq!(c.lookup("alpha pvp").unwrap().id, "alpha-pvp");
        assert_eq!(c.lookup("acetaminophen").unwrap().id, "paracetamol");
        assert_eq!(c.lookup("MSM").unwrap().id, "dimethyl-sulfone");
    }

    #[test]
    fn unknown_names_are_kept_not_dropped() {
        let r = cat().resolve("  Blåbærpulver-X ");
        assert_eq!(r, SubstanceRef { substance: "Blåbærpulver-X".into(), known: false });
    }

    #[test]
    fn identifiers_are_well_formed() {
        // Parsing validates CAS check digits and InChIKey shape; spot-check some identifiers people rely on.
        let c = cat();
        assert_eq!(c.get("caffeine").unwrap().cas.as_deref(), Some("58-08-2"));
        assert_eq!(c.get("caffeine").unwrap().inchikey.as_deref(), Some("RYYVLZVUVIJVGH-UHFFFAOYSA-N"));
        assert!(is_valid_cas("50-00-0"));
        assert!(!is_valid_cas("58-08-3"));
    }

    #[test]
    fn class_ids_are_the_serde_names() {
        for c in SubstanceClass::ALL {
            let toml = format!("c = \"{}\"", c.as_str());
            #[derive(serde::Deserialize)]
            struct T {
                c: SubstanceClass,
            }
            assert_eq!(toml::from_str::<T>(&toml).unwrap().c, c);
            assert_eq!(SubstanceClass::parse(c.as_str()), Some(c));
        }
    }

    #[test]
    fn every_class_has_advice_in_three_languages() {
        let c = cat();
        for k in SubstanceClass::ALL {
            assert!(c.class(k).advice.first_empty().is_none());
        }
    }

    #[test]
    fn search_ranks_exact_then_prefix_then_contains() {
        let c = cat();
        let hits = c.search("meth", 10);
        assert!(!hits.is_empty());
        assert_eq!(c.search("mdma", 1)[0].id, "mdma");
    }

    fn minimal(substances: &str) -> String {
        let mut s = String::from("version = \"t\"\n");
        for k in SubstanceClass::ALL {
            let id = serde_json_like(k);
            s.push_str(&format!("[[class]]\nid = \"{id}\"\nnames = {{ nb = \"a\", nn = \"a\", en = \"a\" }}\nadvice = {{ nb = \"a\", nn = \"a\", en = \"a\" }}\n"));
        }
        s.push_str(substances);
        s
    }

    fn serde_json_like(k: SubstanceClass) -> String {
        toml::Value::try_from(k).unwrap().as_str().unwrap().to_owned()
    }

    #[test]
    fn invalid_files_are_refused_with_file_line_and_reason() {
        let one = "[[substance]]\nid = \"caffeine\"\nclass = \"cutting_agent\"\nnames = { nb = \"Koffein\", nn = \"Koffein\", en = \"Caffeine\" }\n";
        let base = minimal(one);
        assert!(Catalogue::parse("t.toml", &base).is_ok());
        let first_line = base.lines().count() + 1;

        let dup = format!(
            "{base}[[substance]]\nid = \"x\"\nclass = \"stimulant\"\nnames = {{ nb = \"X\", nn = \"X\", en = \"Caffeine\" }}\n"
        );
        let e = Catalogue::parse("t.toml", &dup).unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("t.toml", first_line));
        assert!(e.message.contains("already belongs to caffeine"), "{e}");

        let bad_class = format!(
            "{base}[[substance]]\nid = \"y\"\nclass = \"stimulnt\"\nnames = {{ nb = \"Y\", nn = \"Y\", en = \"Y\" }}\n"
        );
        let e = Catalogue::parse("t.toml", &bad_class).unwrap_err();
        assert_eq!(e.line, first_line + 2, "{e}");
        assert!(e.message.contains("stimulnt"), "{e}");

        let bad_cas = format!(
            "{base}[[substance]]\nid = \"z\"\nclass = \"stimulant\"\nnames = {{ nb = \"Z\", nn = \"Z\", en = \"Z\" }}\ncas = \"58-08-3\"\n"
        );
        let e = Catalogue::parse("t.toml", &bad_cas).unwrap_err();
        assert!(e.message.contains("check digit"), "{e}");

        let missing_nn =
            format!("{base}[[substance]]\nid = \"w\"\nclass = \"stimulant\"\nnames = {{ nb = \"W\", en = \"W\" }}\n");
        let e = Catalogue::parse("t.toml", &missing_nn).unwrap_err();
        assert!(e.message.contains("nn"), "{e}");
        assert_eq!(e.line, first_line + 3, "{e}");
    }
}
