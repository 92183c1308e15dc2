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

use super::{datetime, esc};
use crate::config::figures::{CAP_FRESH, CAP_KEPT};
use crate::http::i18n::t;
use std::collections::HashMap;
use std::fmt::Write;
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
    let mut x = String::with_capacity(8192);
    let _ = write!(
        x,
        r#"<?xml version="1.0" encoding="utf-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
<identifier>{id}</identifier>
<sender>{sender}</sender>
<sent>{sent}</sent>
<status>Actual</status>
<msgType>{msg_type}</msgType>
<scope>Public</scope>
"#,
        id = identifier(alert.id, version),
        sender = esc(&sender),
        sent = datetime(sent),
    );
    let earlier: Vec<String> = versions
        .iter()
        .filter(|v| v.version < version)
        .map(|v| format!("{},{},{}", sender, identifier(alert.id, v.version), datetime(v.at)))
        .collect();
    if !earlier.is_empty() {
        let _ = writeln!(x, "<references>{}</references>", esc(&earlier.join(" ")));
    }
    let area: Vec<(String, String)> = alert
        .content
        .fylker
        .iter()
        .map(|f| (f.clone(), geography.fylke(f).map_or_else(|| f.clone(), |x| x.name.clone())))
        .collect();
    for lang in Lang::ALL {
        let _ = write!(
            x,
            r#"<info>
<language>{language}</language>
<category>Health</category>
<event>{event}</event>
<responseType>Avoid</responseType>
<urgency>{urgency}</urgency>
<severity>{severity}</severity>
<certainty>{certainty}</certainty>
"#,
            language = language_tag(lang),
            event = esc(t(lang, "cap_event")),
            urgency = urgency(alert.tier),
            severity = severity(alert.tier),
            certainty = certainty(alert.tier, alert.content.lab_confirmed),
        );
        if let Some(until) = alert.valid_until {
            let _ = writeln!(x, "<expires>{}</expires>", datetime(until));
        }
        let _ = write!(
            x,
            r#"<senderName>{sender_name}</senderName>
<headline>{headline}</headline>
<description>{description}</description>
<instruction>{instruction}</instruction>
<web>{base}/alerts/{id}?lang={l}</web>
"#,
            sender_name = esc(t(lang, "cap_sender_name")),
            headline = esc(alert.content.title.get(lang)),
            description = esc(&format!("{}\n\n{}", alert.content.body.get(lang), alert.content.uncertainty.get(lang))),
            instruction = esc(alert.content.advice.get(lang)),
            base = esc(base),
            id = alert.id,
            l = lang.code(),
        );
        // The pill photo a reviewer chose, before the area as the schema orders them.
        if let Some(p) = &alert.photo {
            let _ = write!(
                x,
                "<resource>\n<resourceDesc>{desc}</resourceDesc>\n<mimeType>{mime}</mimeType>\n<size>{size}</size>\n<uri>{base}{href}</uri>\n<digest>{digest}</digest>\n</resource>\n",
                desc = esc(t(lang, "photo_of_product")),
                mime = p.mime_type,
                size = p.size,
                base = esc(base),
                href = esc(&p.href),
                digest = p.sha1,
            );
        }
        if area.is_empty() {
            let _ = writeln!(x, "<area><areaDesc>{}</areaDesc></area>", esc(t(lang, "national")));
        } else {
            let names: Vec<&str> = area.iter().map(|(_, n)| n.as_str()).collect();
            let _ = write!(x, "<area>\n<areaDesc>{}</areaDesc>\n", esc(&names.join(", ")));
            for (number, _) in &area {
                let _ =
                    writeln!(x, "<geocode><valueName>fylkesnummer</valueName><value>{}</value></geocode>", esc(number));
            }
            x.push_str("</area>\n");
        }
        x.push_str("</info>\n");
    }
    x.push_str("</alert>\n");
    x
}
