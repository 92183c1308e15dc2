//! Everything needed to judge a sample, bundled: the catalogue, the method limits, the risk policy, the geography
//! and the alert templates. Loaded and validated once at start; shared read-only.

use crate::alert::AlertContent;
use crate::alert_text::AlertTemplates;
use crate::datafile::DataFileError;
use crate::finding::Finding;
use crate::sample::Sample;
use crate::{Catalogue, Geography, MethodLimits, RiskPolicy, Tier};

pub struct Assessor {
    pub catalogue: Catalogue,
    pub methods: MethodLimits,
    pub policy: RiskPolicy,
    pub geography: Geography,
    pub templates: AlertTemplates,
}

impl Assessor {
    /// The shipped data files, or the given catalogue in place of the shipped one.
    pub fn new(catalogue: Catalogue) -> Result<Assessor, DataFileError> {
        let policy = RiskPolicy::builtin(&catalogue)?;
        let templates = AlertTemplates::builtin()?;
        // Every rule that can fire must be able to write its draft.
        if let Some(rule) = templates.missing_rules(policy.rule_ids()).first() {
            return Err(DataFileError {
                file: "data/alert-templates.toml".into(),
                line: 1,
                message: format!("the risk policy's rule '{rule}' has no [rule.{rule}] text"),
            });
        }
        Ok(Assessor { policy, catalogue, methods: MethodLimits::builtin()?, geography: Geography::norway(), templates })
    }

    pub fn findings(&self, sample: &Sample) -> Vec<Finding> {
        self.policy.assess(sample, &self.catalogue, &self.methods)
    }

    /// A draft about these samples (newest first) in the fylke with this number.
    pub fn draft(
        &self,
        evidence: &[(Sample, Vec<Finding>)],
        span: Option<crate::alert::EvidenceSpan>,
        fylke: &str,
    ) -> (Tier, AlertContent) {
        // "national" is the whole country; Norge reads the same in the three languages' running text.
        let name = if fylke == "national" { "Norge" } else { fylke };
        let fylke = self.geography.fylke(fylke).cloned().unwrap_or(crate::geo::Fylke {
            number: fylke.to_owned(),
            name: name.to_owned(),
            population: [0; 3],
        });
        self.templates.draft(evidence, span, &fylke, &self.catalogue, &self.methods, &self.policy)
    }
}
