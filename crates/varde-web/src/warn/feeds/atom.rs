//! The Atom feed of alerts (RFC 4287): current alerts and withdrawals, in the reader's language.

use super::{Xml, datetime};
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
    let mut x = Xml::new(4096 + alerts.len() * 2048);
    x.open("feed", &[("xmlns", "http://www.w3.org/2005/Atom"), ("xml:lang", l)])
        .text("id", &format!("{base}/alerts.atom"))
        .text("title", t(lang, "feed_title"))
        .text("subtitle", t(lang, "tagline"))
        .text("updated", &datetime(updated))
        .open("author", &[])
        .text("name", "Varde")
        .text("uri", &format!("{base}/alerts"))
        .close("author")
        .empty(
            "link",
            &[("rel", "self"), ("type", "application/atom+xml"), ("href", &format!("{base}/alerts.atom?lang={l}"))],
        )
        .empty("link", &[("rel", "alternate"), ("type", "text/html"), ("href", &format!("{base}/alerts?lang={l}"))])
        .text("generator", "Varde");
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
        let page = format!("{base}/alerts/{}", a.id);
        x.open("entry", &[])
            .text("id", &page)
            .text("title", &title)
            .text("updated", &datetime(a.updated_at))
            .text("published", &datetime(a.published_at.unwrap_or(a.created_at)))
            .empty("link", &[("rel", "alternate"), ("type", "text/html"), ("href", &format!("{page}?lang={l}"))])
            .empty("link", &[("rel", "related"), ("type", "application/cap+xml"), ("href", &format!("{page}.cap"))])
            .empty("category", &[("term", a.tier.as_str()), ("scheme", &format!("{base}/tiers"))]);
        if let Some(p) = &a.photo {
            let (size, href) = (p.size.to_string(), format!("{base}{}", p.href));
            x.empty("link", &[("rel", "enclosure"), ("type", p.mime_type), ("length", &size), ("href", &href)]);
        }
        x.text_with("summary", &[("type", "text")], a.content.body.get(lang))
            .text_with("content", &[("type", "text")], &content)
            .close("entry");
    }
    x.close("feed");
    x.finish()
}
