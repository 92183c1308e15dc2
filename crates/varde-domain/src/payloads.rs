//! What the events a write appends carry, made in one place: the payloads are the contract of the event stream,
//! the webhooks and the feeds' staff views, and must not differ with the backend.

use crate::Localized;
use crate::Tier;
use crate::alert::AlertContent;
use crate::finding::Finding;
use crate::sample::Sample;
use serde_json::{Value, json};

/// `sample.finding`: the sample's highest tier and its findings in brief (rule, tier, substances, method), with its
/// service and fylke. None for a sample without findings, which makes no event.
pub fn sample_finding(sample: &Sample, fylke: &str, findings: &[Finding]) -> Option<(Tier, Value)> {
    let top = crate::risk::highest(findings)?;
    let summary: Vec<Value> = findings
        .iter()
        .map(|f| json!({"rule": f.rule, "tier": f.tier, "substances": f.substances, "method": f.method}))
        .collect();
    let payload = json!({
        "code": sample.code.to_string(),
        "service": sample.service.as_str(),
        "fylke": fylke,
        "tier": top,
        "findings": summary,
    });
    Some((top, payload))
}

/// `alert.drafted`: a new draft, from a sample's finding or from a signal (`signal`).
pub fn alert_drafted(id: i64, tier: Tier, content: &AlertContent, signal: Option<i64>) -> Value {
    let mut payload = json!({"id": id, "tier": tier, "title": content.title, "fylker": content.fylker});
    if let Some(signal) = signal {
        payload["signal"] = json!(signal);
    }
    payload
}

/// `alert.merged`: the draft `from` was merged into `into`.
pub fn alert_merged(into: i64, from: i64, tier: Tier, title: &Localized) -> Value {
    json!({"id": into, "merged": from, "tier": tier, "title": title})
}
