//! Positivity: the share of samples sold as one thing that contain another (nitazenes in "heroin"). One list, used by
//! the dashboard (as shares) and by signal detection (the positive samples as weekly streams); each sample's
//! membership is worked out once, when it is counted (`Profile` in `know/tally.rs`).

use varde_domain::catalogue::SubstanceClass;

/// What a sample was sold as, and what it must contain to count as positive.
#[derive(Debug, Clone, Copy)]
pub enum Pick {
    Class(SubstanceClass),
    Substance(&'static str),
}

/// Each stream: its key (also its text key `pos_<key>`), what the sample was sold as, and what was found.
pub const STREAMS: [(&str, Pick, Pick); 5] = [
    ("nitazene", Pick::Class(SubstanceClass::Opioid), Pick::Class(SubstanceClass::Nitazene)),
    ("fentanyl", Pick::Class(SubstanceClass::Opioid), Pick::Class(SubstanceClass::PotentSyntheticOpioid)),
    ("xylazine", Pick::Class(SubstanceClass::Opioid), Pick::Substance("xylazine")),
    ("bromazolam", Pick::Class(SubstanceClass::Benzodiazepine), Pick::Substance("bromazolam")),
    ("levamisole", Pick::Substance("cocaine"), Pick::Substance("levamisole")),
];
