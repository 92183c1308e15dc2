//! The Atom feed of alerts (RFC 4287): current alerts and withdrawals, in the reader's language.

use super::{datetime, esc};
use crate::AppState;
use crate::config::figures::ATOM_FRESH as FRESH;
use crate::http::error::ApiError;
use crate::http::extract::ApiQuery;
use crate::http::i18n::t;
use crate::http::lang::negotiate;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use jiff::Timestamp;
use serde::Deserialize;
use std::collections::HashMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use varde_domain::Lang;
use varde_domain::alert::{Alert, AlertStatus};
use varde_store::AlertFilter;

#[derive(Deserialize)]
pub struct FeedQuery {
    lang: Option<String>,
}

/// Rendered feeds per language. A feed changes only when an alert is published, updated or withdrawn (each writes
/// an event) or when an alert expires, so a copy is reused while no event has happened and it is under 10 s old.
#[derive(Default)]
pub struct FeedCache {
    entries: Mutex<HashMap<Lang, CachedFeed>>,
}

#[derive(Clone)]
struct CachedFeed {
    /// The newest event when the feed was rendered.
    seq: i64,
    made: Instant,
    xml: Arc<String>,
}

pub async fn handler(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<FeedQuery>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    let lang = negotiate(q.lang.as_deref(), &headers);
    let seq = *state.app.queries().event_watch().borrow();
    let cached = state.feed_cache.entries.lock().expect("not poisoned").get(&lang).cloned();
    let xml = match cached {
        Some(c) if c.seq == seq && c.made.elapsed() < FRESH => c.xml,
        _ => {
            let now = Timestamp::now();
            let filter = AlertFilter {
                statuses: vec![AlertStatus::Published, AlertStatus::Withdrawn],
                limit: 100,
                ..AlertFilter::default()
            };
            let alerts: Vec<Alert> = state
                .app
                .queries()
                .alerts(filter)
                .await?
                .into_iter()
                .map(|a| crate::api::alerts::as_of(a, now))
                .collect();
            let xml = Arc::new(feed(&alerts, &state.public_url, lang, now));
            state
                .feed_cache
                .entries
                .lock()
                .expect("not poisoned")
                .insert(lang, CachedFeed { seq, made: Instant::now(), xml: xml.clone() });
            xml
        }
    };
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=30")],
        xml.to_string(),
    ))
}

/// The feed document. `now` is used for `updated` only when there are no alerts.
pub fn feed(alerts: &[Alert], base: &str, lang: Lang, now: Timestamp) -> String {
    let updated = alerts.iter().map(|a| a.updated_at).max().unwrap_or(now);
    let l = lang.code();
    let mut x = String::with_capacity(4096 + alerts.len() * 2048);
    let _ = write!(
        x,
        r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{l}">
<id>{base}/alerts.atom</id>
<title>{title}</title>
<subtitle>{subtitle}</subtitle>
<updated>{updated}</updated>
<author><name>Varde</name><uri>{base}/alerts</uri></author>
<link rel="self" type="application/atom+xml" href="{base}/alerts.atom?lang={l}"/>
<link rel="alternate" type="text/html" href="{base}/alerts?lang={l}"/>
<generator>Varde</generator>
"#,
        title = esc(t(lang, "feed_title")),
        subtitle = esc(t(lang, "tagline")),
        updated = datetime(updated),
        base = esc(base),
    );
    for a in alerts {
        let withdrawn = a.status == AlertStatus::Withdrawn;
        let title = if withdrawn {
            format!("{}: {}", t(lang, "withdrawn_alerts"), a.content.title.get(lang))
        } else {
            a.content.title.get(lang).to_owned()
        };
        let mut dates = format!("{}: {}", t(lang, "collected"), crate::http::pages::collected(a, lang));
        if let Some(c) = a.confirmed_at {
            dates.push_str(&format!(". {}: {}", t(lang, "last_confirmed"), crate::http::pages::day(c, lang)));
        }
        let mut content = format!(
            "{}\n\n{}\n\n{}\n\n{dates}.",
            a.content.body.get(lang),
            a.content.advice.get(lang),
            a.content.uncertainty.get(lang)
        );
        if withdrawn {
            content = format!("{}\n\n{content}", t(lang, "withdrawn_notice"));
        }
        let _ = write!(
            x,
            r#"<entry>
<id>{base}/alerts/{id}</id>
<title>{title}</title>
<updated>{updated}</updated>
<published>{published}</published>
<link rel="alternate" type="text/html" href="{base}/alerts/{id}?lang={l}"/>
<link rel="related" type="application/cap+xml" href="{base}/alerts/{id}.cap"/>
<category term="{tier}" scheme="{base}/tiers"/>{enclosure}
<summary type="text">{summary}</summary>
<content type="text">{content}</content>
</entry>
"#,
            base = esc(base),
            id = a.id,
            title = esc(&title),
            updated = datetime(a.updated_at),
            published = datetime(a.published_at.unwrap_or(a.created_at)),
            tier = a.tier.as_str(),
            enclosure = a.photo.as_ref().map_or_else(String::new, |p| format!(
                "\n<link rel=\"enclosure\" type=\"{}\" length=\"{}\" href=\"{}{}\"/>",
                p.mime_type,
                p.size,
                esc(base),
                esc(&p.href)
            )),
            summary = esc(a.content.body.get(lang)),
            content = esc(&content),
        );
    }
    x.push_str("</feed>\n");
    x
}
