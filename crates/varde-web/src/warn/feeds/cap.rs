//! CAP 1.2 (OASIS Common Alerting Protocol) messages, one per alert version: one `info` block per language;
//! updates and withdrawals reference every earlier message of the alert.
//!
//! Tier mapping (documented in docs/architecture.md):
//!
//! | tier    | urgency   | severity | certainty (screened / lab-confirmed) |
//! |---------|-----------|----------|--------------------------------------|
//! | severe  | Immediate | Extreme  | Likely / Observed                    |
//! | warning | Immediate | Severe   | Likely / Observed                    |
//! | caution | Expected  | Moderate | Likely / Observed                    |
//! | info    | Future    | Minor    | Possible / Observed                  |

use super::{Xml, datetime};
use crate::config::figures::{CAP_FRESH, CAP_KEPT};
use crate::http::i18n::t;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use varde_domain::alert::{Alert, AlertStatus, AlertVersion};
use varde_domain::{Geography, Lang, Tier};

/// Rendered messages per public alert, reused while no event has happened and for at most [`CAP_FRESH`] (see there).
/// Only public alerts' messages are kept, and an alert once public stays public (withdrawn and expired alerts are),
/// so a kept message is never one the public may not see.
#[derive(Default)]
pub struct MessageCache {
    entries: Mutex<HashMap<i64, Cached>>,
}

struct Cached {
    /// The newest event when the message was rendered.
    seq: i64,
    made: Instant,
    xml: Arc<String>,
}

impl MessageCache {
    /// The message of alert `id` rendered since event `seq` and recently enough, if kept.
    pub fn get(&self, id: i64, seq: i64) -> Option<Arc<String>> {
        let entries = self.entries.lock().expect("not poisoned");
        entries.get(&id).filter(|c| c.seq == seq && c.made.elapsed() < CAP_FRESH).map(|c| c.xml.clone())
    }

    /// Keeps the message of alert `id` as rendered when `seq` was the newest event.
    pub fn put(&self, id: i64, seq: i64, xml: Arc<String>) {
        let mut entries = self.entries.lock().expect("not poisoned");
        if entries.len() >= CAP_KEPT {
            entries.clear();
        }
        entries.insert(id, Cached { seq, made: Instant::now(), xml });
    }
}

pub fn urgency(tier: Tier) -> &'static str {
    match tier {
        Tier::Severe | Tier::Warning => "Immediate",
        Tier::Caution => "Expected",
        Tier::Info => "Future",
    }
}

pub fn severity(tier: Tier) -> &'static str {
    match tier {
        Tier::Severe => "Extreme",
        Tier::Warning => "Severe",
        Tier::Caution => "Moderate",
        Tier::Info => "Minor",
    }
}

pub fn certainty(tier: Tier, lab_confirmed: bool) -> &'static str {
    match (lab_confirmed, tier) {
        (true, _) => "Observed",
        (false, Tier::Info) => "Possible",
        (false, _) => "Likely",
    }
}

fn language_tag(lang: Lang) -> &'static str {
    match lang {
        Lang::Nb => "nb-NO",
        Lang::Nn => "nn-NO",
        Lang::En => "en",
    }
}

/// The sender: the public host, as CAP wants it (no spaces, commas or angle brackets).
pub fn sender(base: &str) -> String {
    let host = base.split("://").nth(1).unwrap_or(base).split(['/', ':']).next().unwrap_or("varde");
    format!("varde@{host}")
}

fn identifier(alert_id: i64, version: u32) -> String {
    format!("varde.alert.{alert_id}.{version}")
}

/// The message for the alert's latest version. `versions` are the alert's recorded versions, oldest first.
pub fn message(alert: &Alert, versions: &[AlertVersion], base: &str, geography: &Geography) -> String {
    let latest = versions.last();
    let (msg_type, sent) = match (alert.status, latest) {
        (AlertStatus::Withdrawn, Some(v)) => ("Cancel", v.at),
        (_, Some(v)) if v.version > 1 => ("Update", v.at),
        (_, Some(v)) => ("Alert", v.at),
        (_, None) => ("Alert", alert.updated_at),
    };
    let version = latest.map_or(alert.version, |v| v.version);
    let sender = sender(base);
    let mut x = Xml::new(8192);
    x.open("alert", &[("xmlns", "urn:oasis:names:tc:emergency:cap:1.2")])
        .text("identifier", &identifier(alert.id, version))
        .text("sender", &sender)
        .text("sent", &datetime(sent))
        .text("status", "Actual")
        .text("msgType", msg_type)
        .text("scope", "Public");
    let earlier: Vec<String> = versions
        .iter()
        .filter(|v| v.version < version)
        .map(|v| format!("{},{},{}", sender, identifier(alert.id, v.version), datetime(v.at)))
        .collect();
    if !earlier.is_empty() {
        x.text("references", &earlier.join(" "));
    }
    let area: Vec<(String, String)> = alert
        .content
        .fylker
        .iter()
        .map(|f| (f.clone(), geography.fylke(f).map_or_else(|| f.clone(), |x| x.name.clone())))
        .collect();
    for lang in Lang::ALL {
        x.open("info", &[])
            .text("language", language_tag(lang))
            .text("category", "Health")
            .text("event", t(lang, "cap_event"))
            .text("responseType", "Avoid")
            .text("urgency", urgency(alert.tier))
            .text("severity", severity(alert.tier))
            .text("certainty", certainty(alert.tier, alert.content.lab_confirmed));
        if let Some(until) = alert.valid_until {
            x.text("expires", &datetime(until));
        }
        let description = format!("{}\n\n{}", alert.content.body.get(lang), alert.content.uncertainty.get(lang));
        x.text("senderName", t(lang, "cap_sender_name"))
            .text("headline", alert.content.title.get(lang))
            .text("description", &description)
            .text("instruction", alert.content.advice.get(lang))
            .text("web", &format!("{base}/alerts/{}?lang={}", alert.id, lang.code()));
        // The pill photo a reviewer chose, before the area as the schema orders them.
        if let Some(p) = &alert.photo {
            x.open("resource", &[])
                .text("resourceDesc", t(lang, "photo_of_product"))
                .text("mimeType", p.mime_type)
                .text("size", &p.size.to_string())
                .text("uri", &format!("{base}{}", p.href))
                .text("digest", &p.sha1)
                .close("resource");
        }
        x.open("area", &[]);
        if area.is_empty() {
            x.text("areaDesc", t(lang, "national"));
        } else {
            let names: Vec<&str> = area.iter().map(|(_, n)| n.as_str()).collect();
            x.text("areaDesc", &names.join(", "));
            for (number, _) in &area {
                x.open("geocode", &[]).text("valueName", "fylkesnummer").text("value", number).close("geocode");
            }
        }
        x.close("area").close("info");
    }
    x.close("alert");
    x.finish()
}
