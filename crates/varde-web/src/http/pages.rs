//! Server-rendered public pages. They work without JavaScript, in three languages (`?lang=` or Accept-Language),
//! and escape every text (maud).

use crate::AppState;
use crate::http::error::ApiError;
use crate::http::i18n::t;
use crate::http::lang::negotiate;
use crate::know::figures::Rendering;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use jiff::Timestamp;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde::Deserialize;
use std::sync::Arc;
use varde_domain::ErrorCode;
use varde_domain::Lang;
use varde_domain::alert::{Alert, AlertStatus};
use varde_store::AlertFilter;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/", get(|| async { Redirect::to("/alerts") }))
        .route("/alerts", get(list))
        .route("/alerts/{file}", get(detail_or_cap))
        .route("/alerts/{id}/photo.jpg", get(photo))
        .route("/alerts/{id}/poster", get(poster))
        .route("/static/varde.css", get(css))
        .route("/favicon.svg", get(favicon))
        .route("/favicon.ico", get(favicon))
}

#[derive(Deserialize)]
pub struct PageQuery {
    lang: Option<String>,
}

/// The public list's filters; a value that names no tier or fylke shows everything (a page answers, it does not
/// refuse).
#[derive(Deserialize)]
pub struct ListQuery {
    lang: Option<String>,
    tier: Option<String>,
    fylke: Option<String>,
}

/// The style sheet, gzip-compressed for the browsers that take it (all of them): a cheap phone on a slow network
/// loads a fifth of it.
async fn css(headers: HeaderMap) -> Response {
    static CSS: std::sync::LazyLock<Rendering> =
        std::sync::LazyLock::new(|| Rendering::of_static(include_bytes!("../../static/varde.css")));
    CSS.clone().respond(&headers, "text/css; charset=utf-8", "public, max-age=86400")
}

/// The icon: a cairn (varde), as SVG, at both the address browsers try and the one the pages name.
async fn favicon(headers: HeaderMap) -> Response {
    static ICON: std::sync::LazyLock<Rendering> =
        std::sync::LazyLock::new(|| Rendering::of_static(include_bytes!("../../static/favicon.svg")));
    ICON.clone().respond(&headers, "image/svg+xml", "public, max-age=604800")
}

pub fn day(t: Timestamp, lang: Lang) -> String {
    let z = t.to_zoned(jiff::tz::TimeZone::get("Europe/Oslo").unwrap_or(jiff::tz::TimeZone::UTC));
    match lang {
        // Norwegian dates: 20.11.2026; English: 20 November 2026.
        Lang::Nb | Lang::Nn => z.strftime("%d.%m.%Y").to_string(),
        Lang::En => z.strftime("%-d %B %Y").to_string(),
    }
}

/// A moment in Oslo time as people write it: 20.11.2026 kl. 14.05 in Norwegian, 20 Nov 2026 14:05 in English.
pub(crate) fn moment(t: Timestamp, lang: Lang) -> String {
    let z = t.to_zoned(jiff::tz::TimeZone::get("Europe/Oslo").unwrap_or(jiff::tz::TimeZone::UTC));
    match lang {
        Lang::Nb | Lang::Nn => z.strftime("%d.%m.%Y kl. %H.%M").to_string(),
        Lang::En => z.strftime("%-d %b %Y %H:%M").to_string(),
    }
}

pub fn layout(lang: Lang, title: &str, path: &str, body: Markup) -> Markup {
    layout_going_on(lang, title, path, None, body)
}

/// [`layout`] for a page that sends the browser on to `to` at once (`<meta http-equiv="refresh">`, no script): the
/// end of a sign-in at an identity provider, where the session cookie (`SameSite=Strict`) is sent only on a
/// navigation this site starts, not on the redirect that came from the provider.
pub fn layout_going_on(lang: Lang, title: &str, path: &str, to: Option<&str>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " – " (t(lang, "site_name")) }
                link rel="stylesheet" href="/static/varde.css";
                link rel="icon" type="image/svg+xml" href="/favicon.svg";
                link rel="alternate" type="application/atom+xml" title=(t(lang, "feed_title")) href={ "/alerts.atom?lang=" (lang.code()) };
                @if let Some(to) = to { meta http-equiv="refresh" content={ "0; url=" (to) }; }
            }
            body {
                a.skip href="#content" { (t(lang, "skip_to_content")) }
                header {
                    a.brand href={ "/alerts?lang=" (lang.code()) } { (t(lang, "site_name")) }
                    nav.main aria-label=(t(lang, "main_menu")) {
                        @for (href, key) in [("/alerts", "alerts"), ("/dashboard", "dashboard"), ("/substances", "substances"), ("/result", "result_lookup"), ("/concern", "nav_concern")] {
                            a href={ (href) "?lang=" (lang.code()) } { (t(lang, key)) }
                        }
                    }
                    nav.lang aria-label=(t(lang, "language")) {
                        @for (l, name) in [(Lang::Nb, "Bokmål"), (Lang::Nn, "Nynorsk"), (Lang::En, "English")] {
                            @if l == lang {
                                a href={ (path) "?lang=" (l.code()) } aria-current="true" lang=(l.code()) { (name) }
                            } @else {
                                a href={ (path) "?lang=" (l.code()) } lang=(l.code()) { (name) }
                            }
                        }
                    }
                }
                main id="content" { (body) }
                footer {
                    p { (t(lang, "tagline")) ". " a href={ "/alerts.atom?lang=" (lang.code()) } { "Atom" } " · " a href="/api/v1/alerts" { "JSON" } }
                }
            }
        }
    }
}

/// A staff page: the public layout with the staff bar on top — who is logged in, the pages of their role, and log out
/// (a tablet in a user room is shared, and the next person must see whose session it is and be able to end it).
pub fn staff_layout(user: &varde_store::SessionRecord, lang: Lang, title: &str, path: &str, body: Markup) -> Markup {
    use varde_domain::auth::Role;
    let links: &[(&str, &str)] = match user.role {
        Role::Technician => {
            &[("/staff", "staff"), ("/staff/samples", "samples_list"), ("/staff/user-room", "user_room_link")]
        }
        Role::Reviewer => &[("/review", "review"), ("/analyst", "analyst")],
        Role::Admin => &[("/admin", "admin"), ("/review", "review"), ("/analyst", "analyst")],
    };
    let bar = html! {
        nav.staff aria-label=(t(lang, "staff_menu")) {
            @for (href, key) in links {
                @if *href == path { a href={ (href) "?lang=" (lang.code()) } aria-current="page" { (t(lang, key)) } }
                @else { a href={ (href) "?lang=" (lang.code()) } { (t(lang, key)) } }
            }
            @if path == "/sessions" { a href={ "/sessions?lang=" (lang.code()) } aria-current="page" { (t(lang, "sessions")) } }
            @else { a href={ "/sessions?lang=" (lang.code()) } { (t(lang, "sessions")) } }
            form.logout method="post" action={ "/logout?lang=" (lang.code()) } {
                input type="hidden" name="csrf" value=(user.csrf);
                span.who { (t(lang, "logged_in_as")) " " strong { (user.username) } }
                " "
                button type="submit" { (t(lang, "logout")) }
            }
        }
        (body)
    };
    layout(lang, title, path, bar)
}

fn tier_badge(a: &Alert, lang: Lang, state: &AppState) -> Markup {
    html! { span class={ "tier tier-" (a.tier.as_str()) } { (state.assessor.templates.tier_word(a.tier).get(lang)) } }
}

fn area(a: &Alert, lang: Lang, state: &AppState) -> String {
    if a.content.fylker.is_empty() {
        return t(lang, "national").to_owned();
    }
    a.content
        .fylker
        .iter()
        .map(|f| state.assessor.geography.fylke(f).map_or_else(|| f.clone(), |x| x.public_name().to_owned()))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn list(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = negotiate(q.lang.as_deref(), &headers);
    let min_tier = q.tier.as_deref().and_then(varde_domain::Tier::parse).unwrap_or(varde_domain::Tier::Info);
    let fylke = q.fylke.clone().filter(|f| state.assessor.geography.fylke(f).is_some());
    // The rule subscribers get warnings by: at least the tier, in the fylke or national.
    let wanted = |a: &Alert| {
        varde_domain::subscription::wanted(
            min_tier,
            &fylke.iter().cloned().collect::<Vec<_>>(),
            Some(a.tier),
            &a.content.fylker,
        )
    };
    let now = Timestamp::now();
    let filter = AlertFilter {
        statuses: vec![AlertStatus::Published, AlertStatus::Withdrawn],
        limit: 200,
        ..AlertFilter::default()
    };
    let alerts: Vec<Alert> =
        state.app.queries().alerts(filter).await?.into_iter().map(|a| crate::api::alerts::as_of(a, now)).collect();
    let current: Vec<&Alert> = alerts.iter().filter(|a| a.status == AlertStatus::Published && wanted(a)).collect();
    let withdrawn: Vec<&Alert> = alerts.iter().filter(|a| a.status == AlertStatus::Withdrawn).take(10).collect();
    // Honest about what is gone: alerts whose validity ended in the last 30 days.
    let month_ago = now - jiff::SignedDuration::from_hours(24 * 30);
    let expired = alerts
        .iter()
        .filter(|a| a.status == AlertStatus::Expired && a.valid_until.is_some_and(|u| u >= month_ago))
        .count();
    let body = html! {
        h1 { (t(lang, "alerts")) }
        p.emergency { (t(lang, "emergency")) }
        form.filters method="get" action="/alerts" {
            input type="hidden" name="lang" value=(lang.code());
            label for="f-tier" { (t(lang, "filter_tier")) }
            select id="f-tier" name="tier" {
                @for tier in [varde_domain::Tier::Info, varde_domain::Tier::Caution, varde_domain::Tier::Warning, varde_domain::Tier::Severe] {
                    @let word = if tier == varde_domain::Tier::Info { t(lang, "all_tiers").to_owned() } else { state.assessor.templates.tier_word(tier).get(lang).to_owned() };
                    @if tier == min_tier { option value=(tier.as_str()) selected { (word) } }
                    @else { option value=(tier.as_str()) { (word) } }
                }
            }
            label for="f-fylke" { (t(lang, "area")) }
            select id="f-fylke" name="fylke" {
                option value="" { (t(lang, "whole_country")) }
                @for f in state.assessor.geography.fylker() {
                    @if fylke.as_deref() == Some(f.number.as_str()) { option value=(f.number) selected { (f.public_name()) } }
                    @else { option value=(f.number) { (f.public_name()) } }
                }
            }
            button type="submit" { (t(lang, "show")) }
        }
        @if current.is_empty() {
            p { (t(lang, "no_alerts")) }
        } @else {
            ul.alerts {
                @for a in &current {
                    li {
                        @if let Some(p) = &a.photo {
                            img.thumb src=(p.href) width="96" height=(p.height * 96 / p.width.max(1)) loading="lazy" alt=(photo_alt(a, lang));
                        }
                        (tier_badge(a, lang, &state)) " "
                        a href={ "/alerts/" (a.id) "?lang=" (lang.code()) } { (a.content.title.get(lang)) }
                        p.meta {
                            (area(a, lang, &state)) " · " (t(lang, "collected")) " " (collected(a, lang))
                            @if let Some(c) = a.confirmed_at { " · " (t(lang, "last_confirmed")) " " (day(c, lang)) }
                        }
                    }
                }
            }
        }
        p.meta { (t(lang, "expired_last_30_days").replace("{n}", &expired.to_string())) }
        @if !withdrawn.is_empty() {
            h2 { (t(lang, "withdrawn_alerts")) }
            ul.alerts {
                @for a in &withdrawn {
                    li { a href={ "/alerts/" (a.id) "?lang=" (lang.code()) } { (a.content.title.get(lang)) } }
                }
            }
        }
        (crate::warn::subscribe_form::form(&state, lang))
    };
    Ok(page(layout(lang, t(lang, "alerts"), "/alerts", body)))
}

pub fn page(markup: Markup) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=30")],
        markup.into_string(),
    )
        .into_response()
}

fn not_found(lang: Lang, path: &str) -> Response {
    let body =
        html! { h1 { (t(lang, "not_found")) } p { a href={ "/alerts?lang=" (lang.code()) } { (t(lang, "alerts")) } } };
    (StatusCode::NOT_FOUND, page(layout(lang, t(lang, "not_found"), path, body))).into_response()
}

/// `/alerts/{id}` is the page, `/alerts/{id}.cap` the CAP message.
async fn detail_or_cap(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = negotiate(q.lang.as_deref(), &headers);
    let (id, cap) = match file.strip_suffix(".cap") {
        Some(id) => (id, true),
        None => (file.as_str(), false),
    };
    let path = format!("/alerts/{file}");
    let Ok(id) = id.parse::<i64>() else { return Ok(not_found(lang, &path)) };
    let cap_message = |xml: Arc<String>| {
        let headers = [
            (header::CONTENT_TYPE, "application/cap+xml; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=30"),
        ];
        (headers, xml.to_string()).into_response()
    };
    // Read before the alert: the message then reflects every event up to this one at least.
    let seq = *state.app.queries().event_watch().borrow();
    if let Some(xml) = cap.then(|| state.cap_cache.get(id, seq)).flatten() {
        return Ok(cap_message(xml));
    }
    let alert = match state.app.queries().alert(id).await? {
        Some(a) if a.status.is_public() => crate::api::alerts::as_of(a, Timestamp::now()),
        // Drafts and discarded drafts are not public: to the public they do not exist.
        _ => {
            return Ok(if cap {
                ApiError::new(ErrorCode::AlertNotFound, "no alert has that id").into_response()
            } else {
                not_found(lang, &path)
            });
        }
    };
    let versions = state.app.queries().alert_versions(id).await?;
    if cap {
        let xml = crate::warn::feeds::cap::message(&alert, &versions, &state.public_url, &state.assessor.geography);
        let xml = Arc::new(xml);
        state.cap_cache.put(id, seq, xml.clone());
        return Ok(cap_message(xml));
    }
    let body = alert_body(&state, &alert, lang);
    Ok(page(layout(lang, alert.content.title.get(lang), &path, body)))
}

/// The public alert page's content: shared with the reviewer's preview, so the preview is what the public sees.
/// The pill photo a reviewer chose for a public alert. Drafts' and discarded drafts' photos do not exist here.
async fn photo(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let not_found = || ApiError::new(ErrorCode::NotFound, "no such photo");
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let public = state.app.queries().alert(id).await?.is_some_and(|a| a.status.is_public());
    let jpeg = if public { state.app.queries().alert_photo(id).await? } else { None };
    let jpeg = jpeg.ok_or_else(not_found)?;
    Ok(([(header::CONTENT_TYPE, "image/jpeg"), (header::CACHE_CONTROL, "public, max-age=300")], jpeg).into_response())
}

/// A QR code for `url` as inline SVG (no XML declaration), at least `size` pixels wide.
pub fn qr_svg(url: &str, size: u32) -> String {
    let svg = qrcode::QrCode::new(url.as_bytes())
        .map(|q| q.render::<qrcode::render::svg::Color>().min_dimensions(size, size).build())
        .unwrap_or_default();
    svg.split_once("?>").map_or(svg.as_str(), |(_, svg)| svg).to_owned()
}

/// A dated A4 poster of a public alert for outreach workers to print and put up: headline, photo when chosen,
/// advice, when it was issued and until when it holds, and a QR code to the alert page. Once the alert has expired or
/// been withdrawn, the poster says so and asks to be taken down.
async fn poster(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = negotiate(q.lang.as_deref(), &headers);
    let path = format!("/alerts/{id}/poster");
    let Ok(id) = id.parse::<i64>() else { return Ok(not_found(lang, &path)) };
    let alert = match state.app.queries().alert(id).await? {
        Some(a) if a.status.is_public() => crate::api::alerts::as_of(a, Timestamp::now()),
        _ => return Ok(not_found(lang, &path)),
    };
    let url = format!("{}/alerts/{id}?lang={}", state.public_url, lang.code());
    let gone = matches!(alert.status, AlertStatus::Expired | AlertStatus::Withdrawn);
    let body = html! {
        article.poster {
            @if gone { p.take-down role="alert" { (t(lang, "poster_take_down")) } }
            p { (tier_badge(&alert, lang, &state)) }
            h1 { (alert.content.title.get(lang)) }
            @if let Some(p) = &alert.photo {
                figure.photo { img src=(p.href) width=(p.width) height=(p.height) alt=(photo_alt(&alert, lang)); }
            }
            // Why it is dangerous: the first sentence of the text, which the draft writes from the rule that fired.
            p.why { (first_sentence(alert.content.body.get(lang))) }
            h2 { (t(lang, "what_to_do")) }
            p.advice { (alert.content.advice.get(lang)) }
            @if let Some(line) = emergency_line(&state, &alert, lang) { p.emergency { (line) } }
            div.poster-foot {
                div role="img" aria-label=(url) { (PreEscaped(qr_svg(&url, 180))) }
                dl {
                    dt { (t(lang, "issued")) } dd { (day(alert.published_at.unwrap_or(alert.created_at), lang)) }
                    @if let Some(c) = alert.confirmed_at { dt { (t(lang, "last_confirmed")) } dd { (day(c, lang)) } }
                    @if let Some(until) = alert.valid_until { dt { (t(lang, "valid_until")) } dd { (day(until, lang)) } }
                    dt { (t(lang, "read_more")) } dd { (url) }
                }
            }
        }
        p.no-print { a href={ "/alerts/" (id) "?lang=" (lang.code()) } { (t(lang, "alerts")) } }
    };
    let mut res = page(layout(lang, alert.content.title.get(lang), &path, body));
    res.headers_mut().insert(header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-cache"));
    Ok(res)
}

/// The emergency line under an alert's advice, where the advice does not already carry one (drafts end their advice
/// with it; a reviewer may have edited it out): 113 once, and naloxone only where an opioid was found or the product
/// was sold as one. Pages, posters and e-mail ask here, so the rule is the same in every channel.
pub fn emergency_line(state: &AppState, alert: &Alert, lang: Lang) -> Option<&'static str> {
    if alert.content.advice.get(lang).contains("113") {
        return None;
    }
    let opioid = alert.content.opioid_involved(&state.assessor.catalogue);
    Some(t(lang, if opioid { "emergency_opioid" } else { "emergency" }))
}

/// A text's first sentence (up to the first full stop followed by a space), or all of it.
fn first_sentence(text: &str) -> &str {
    text.find(". ").map_or(text, |i| &text[..=i])
}

/// When the evidence was collected: one day, or the first and the last.
pub fn collected(alert: &Alert, lang: Lang) -> String {
    let (first, last) = (day(alert.first_evidence_at, lang), day(alert.last_evidence_at, lang));
    if first == last { first } else { format!("{first} – {last}") }
}

/// What the photo shows, for people who cannot see it: the product as the alert describes it.
fn photo_alt(alert: &Alert, lang: Lang) -> String {
    let p = &alert.content.product;
    let mut parts = vec![varde_domain::alert_text::form_word(p.form, lang).to_owned()];
    parts.extend(p.colour.as_deref().and_then(|ids| varde_domain::colour::builtin().describe(ids, lang)));
    parts.extend(p.logo.as_ref().map(|l| format!("«{l}»")));
    format!("{}: {}", t(lang, "photo_of_product"), parts.join(", "))
}

pub fn alert_body(state: &AppState, alert: &Alert, lang: Lang) -> Markup {
    let product = &alert.content.product;
    let public = alert.status.is_public();
    html! {
        p { (tier_badge(alert, lang, state)) }
        h1 { (alert.content.title.get(lang)) }
        @if alert.status == AlertStatus::Withdrawn { p.notice role="status" { (t(lang, "withdrawn_notice")) } }
        @if alert.status == AlertStatus::Expired { p.notice role="status" { (t(lang, "expired_notice")) } }
        @if let Some(p) = &alert.photo {
            figure.photo {
                img src=(p.href) width=(p.width) height=(p.height) loading="lazy" alt=(photo_alt(alert, lang));
                figcaption { (t(lang, "photo_of_product")) }
            }
        }
        // What to do first: on a phone the advice must not wait below a long description.
        h2 { (t(lang, "what_to_do")) }
        p { (alert.content.advice.get(lang)) }
        @if let Some(line) = emergency_line(state, alert, lang) { p.emergency { (line) } }
        h2 { (t(lang, "about_the_product")) }
        p { (alert.content.body.get(lang)) }
        h2 { (t(lang, "certainty")) }
        p { (alert.content.uncertainty.get(lang)) }
        dl {
            dt { (t(lang, "product")) }
            dd {
                (varde_domain::alert_text::form_word(product.form, lang))
                @if let Some(c) = product.colour.as_deref().and_then(|ids| varde_domain::colour::builtin().describe(ids, lang)) { ", " (c) }
                @if let Some(l) = &product.logo { ", «" (l) "»" }
                // The active content per unit, said as such: not to be read as the tablet's mass.
                @if let Some(mg) = product.mg_per_unit { ", " (t(lang, "active_per_unit").replace("{mg}", &format!("{mg:.0}"))) }
            }
            dt { (t(lang, "area")) } dd { (area(alert, lang, state)) }
            dt { (t(lang, "samples")) } dd { (alert.evidence_count) }
            dt { (t(lang, "collected")) } dd { (collected(alert, lang)) }
            // A draft's preview says nothing it has not yet done: no publication date, no version, no links to a CAP
            // message, JSON or poster that do not exist until it is published.
            @if public {
                @if let Some(confirmed) = alert.confirmed_at { dt { (t(lang, "last_confirmed")) } dd { (day(confirmed, lang)) } }
                dt { (t(lang, "published")) } dd { (day(alert.published_at.unwrap_or(alert.created_at), lang)) }
                dt { (t(lang, "updated")) } dd { (day(alert.updated_at, lang)) }
                @if let Some(until) = alert.valid_until { dt { (t(lang, "valid_until")) } dd { (day(until, lang)) } }
                dt { (t(lang, "version")) } dd { (alert.version) }
            } @else {
                dt { (t(lang, "status")) } dd { (t(lang, "not_yet_published")) }
            }
        }
        @if public {
            p.meta { (t(lang, "feeds")) ": "
                a href={ "/alerts.atom?lang=" (lang.code()) } { "Atom" } " · "
                a href={ "/alerts/" (alert.id) ".cap" } { "CAP" } " · "
                a href={ "/api/v1/alerts/" (alert.id) } { "JSON" } " · "
                a href={ "/alerts/" (alert.id) "/poster?lang=" (lang.code()) } { (t(lang, "poster")) } }
        }
    }
}
