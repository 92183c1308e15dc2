//! Risk tiers, after Saferparty's published levels and DIMS's red alerts.

use serde::{Deserialize, Serialize};

/// How dangerous a finding is. Ordered: `Info < Caution < Warning < Severe`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// Worth knowing: an unexpected low-risk ingredient, or an uncertain result.
    Info,
    /// Forsiktig.
    Caution,
    /// Advarsel.
    Warning,
    /// Alvorlig: a red alert.
    Severe,
}

impl Tier {
    pub const ALL: [Tier; 4] = [Tier::Info, Tier::Caution, Tier::Warning, Tier::Severe];

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Info => "info",
            Tier::Caution => "caution",
            Tier::Warning => "warning",
            Tier::Severe => "severe",
        }
    }

    pub fn parse(s: &str) -> Option<Tier> {
        Tier::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// One step up, capped at severe (used when several samples of one product escalate a warning).
    pub fn raised(self) -> Tier {
        match self {
            Tier::Info => Tier::Caution,
            Tier::Caution => Tier::Warning,
            Tier::Warning | Tier::Severe => Tier::Severe,
        }
    }
}
