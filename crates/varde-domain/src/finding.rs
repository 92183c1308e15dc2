//! Findings: what the risk policy concluded about a sample. The engine that makes them comes with the risk policy;
//! the shape is fixed here so that the API contract does not change when it arrives.

use crate::lang::Localized;
use crate::tier::Tier;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Finding {
    /// The rule that fired, e.g. `potent-opioid-not-sold-as-opioid`.
    pub rule: String,
    /// The version of the risk policy the rule belongs to.
    pub policy_version: String,
    pub tier: Tier,
    /// The substances the finding is about (catalogue ids, or names as given for unknown substances).
    pub substances: Vec<String>,
    /// The analysis method the finding is about, for strip and inconclusive findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<crate::Method>,
    pub explanation: Localized,
}
