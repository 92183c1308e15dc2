//! Reviewers' pages: the queue of drafts, each draft with its texts in three languages to edit, and publishing.

use crate::AppState;
use crate::http::error::ApiError;
use crate::http::i18n::t;
use crate::http::lang::LangQuery;
use crate::http::lang::negotiate;
use crate::http::session::SessionUser;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use varde_domain::ErrorCode;
use varde_domain::alert::{AlertAction, AlertEdit, AlertStatus, QueueFilter, review_queue, similar_published};
use varde_domain::auth::Role;
use varde_domain::{Lang, Localized};
use varde_domain::{SubstanceClass, Tier};
use varde_store::AlertFilter;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/review", get(queue))
        .route("/review/{id}", get(draft))
        .route("/review/{id}/edas", get(edas_page))
        .route("/review/{id}/{action}", post(action))
        .route("/review/{id}/samples/{code}/photo.jpg", get(evidence_photo))
}

/// The EDAS notification (Reg. (EU) 2023/1322 Art. 13(2) (a)-(j)) for a logged-in reviewer or admin, ready to copy
/// into the EU Drugs Agency's form. The notification itself is in English, as EDAS takes it; the page around it in
/// the reader's language.
async fn edas_page(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = negotiate(q.lang.as_deref(), &headers);
    if !user.0.principal().is_national() {
        return Ok(reviewers_only(lang, &user).unwrap_or_else(|| StatusCode::FORBIDDEN.into_response()));
    }
    let n = crate::api::alerts::edas_notification(&state, &user.0.principal(), id).await?;
    let fields: [(&str, String); 10] = [
        ("(a) Type and origin of the risk", n.a_type_and_origin.clone()),
        ("(b) Date and place", n.b_date_and_place.clone()),
        ("(c) Means of exposure", n.c_means_of_exposure.clone()),
        ("(d) Analytical and toxicological data", n.d_analytical_and_toxicological_data.join("\n")),
        ("(e) Identification methods", n.e_identification_methods.join(", ")),
        ("(f) Health risks", n.f_health_risks.clone()),
        ("(g) Social, safety and security risks", n.g_social_safety_security_risks.clone()),
        ("(h) Health measures", n.h_health_measures.clone()),
        ("(i) Other measures", n.i_other_measures.clone()),
        ("(j) Other relevant information", n.j_other_information.clone()),
    ];
    let body = html! {
        h1 { (t(lang, "edas_heading")) }
        p { (t(lang, "edas_intro")) }
        dl.edas lang="en" {
            @for (label, value) in &fields {
                dt { (label) }
                dd { @for line in value.lines() { (line) br; } }
            }
        }
        p { a href={ "/review/" (id) "?lang=" (lang.code()) } { (t(lang, "go_back")) } }
    };
    Ok(crate::http::pages::page(crate::http::pages::staff_layout(
        &user.0,
        lang,
        t(lang, "edas_heading"),
        &format!("/review/{id}/edas"),
        body,
    )))
}

fn reviewers_only(lang: Lang, user: &SessionUser) -> Option<Response> {
    (user.0.role != Role::Reviewer).then(|| {
        let body = html! { h1 { (t(lang, "review")) } p.error role="alert" { (t(lang, "reviewers_only")) } };
        (
            StatusCode::FORBIDDEN,
            crate::http::pages::page(crate::http::pages::staff_layout(
                &user.0,
                lang,
                t(lang, "review"),
                "/review",
                body,
            )),
        )
            .into_response()
    })
}

#[derive(serde::Deserialize)]
pub struct QueueQuery {
    lang: Option<String>,
    /// The lowest tier to show.
    tier: Option<String>,
    fylke: Option<String>,
    class: Option<String>,
    /// `archived` shows the drafts archived for want of new evidence instead of the queue.
    show: Option<String>,
}

/// The review queue as a workbench: most urgent first, filters, and for each draft its age, evidence, newest sample
/// and any published alert about the same danger in the same area. Archived drafts are one link away.
async fn queue(
    State(state): State<AppState>,
    user: SessionUser,
    Query(q): Query<QueueQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = negotiate(q.lang.as_deref(), &headers);
    if let Some(refused) = reviewers_only(lang, &user) {
        return Ok(refused);
    }
    let nonempty = |v: &Option<String>| v.clone().filter(|x| !x.is_empty());
    let filter = QueueFilter {
        min_tier: nonempty(&q.tier).and_then(|t| varde_domain::Tier::parse(&t)),
        fylke: nonempty(&q.fylke).filter(|f| state.assessor.geography.fylke(f).is_some()),
        class: nonempty(&q.class).and_then(|c| SubstanceClass::parse(&c)),
    };
    let archived = q.show.as_deref() == Some("archived");
    let status = if archived { AlertStatus::Archived } else { AlertStatus::Draft };
    let all = state.app.queries().alerts(AlertFilter { statuses: vec![status], ..AlertFilter::default() }).await?;
    let drafts = if archived {
        let mut all = all;
        all.sort_by_key(|a| std::cmp::Reverse(a.last_evidence_at));
        all
    } else {
        review_queue(all, &filter, &state.assessor.catalogue)
    };
    let published = state
        .app
        .queries()
        .alerts(AlertFilter { statuses: vec![AlertStatus::Published], ..AlertFilter::default() })
        .await?;
    let now = jiff::Timestamp::now();
    // The warnings in force, each with how many of the services it reached have acknowledged it.
    let services = state.app.queries().services().await?;
    let mut in_force = Vec::new();
    for a in published.iter().filter(|a| a.status_at(now) == AlertStatus::Published) {
        let alert = crate::api::alerts::as_of(a.clone(), now);
        in_force.push((a, crate::api::reach::coverage_among(&state, &alert, &services, now).await?));
    }
    let days = |t: jiff::Timestamp| (now - t).get_hours().max(0) / 24;
    let selected = |v: &Option<String>, x: &str| v.as_deref() == Some(x);
    let body = html! {
        h1 { (t(lang, "review")) }
        form.filters method="get" action="/review" {
            input type="hidden" name="lang" value=(lang.code());
            label for="q-tier" { (t(lang, "min_tier")) }
            select id="q-tier" name="tier" {
                option value="" { (t(lang, "all")) }
                @for tier in [Tier::Caution, Tier::Warning, Tier::Severe] {
                    option value=(tier.as_str()) selected[selected(&q.tier, tier.as_str())] { (state.assessor.templates.tier_word(tier).get(lang)) }
                }
            }
            label for="q-fylke" { (t(lang, "area")) }
            select id="q-fylke" name="fylke" {
                option value="" { (t(lang, "all")) }
                @for f in state.assessor.geography.fylker() {
                    option value=(f.number) selected[selected(&q.fylke, &f.number)] { (f.public_name()) }
                }
            }
            label for="q-class" { (t(lang, "substance_class")) }
            select id="q-class" name="class" {
                option value="" { (t(lang, "all")) }
                @for c in SubstanceClass::ALL {
                    option value=(c.as_str()) selected[selected(&q.class, c.as_str())] { (state.assessor.catalogue.class(c).names.get(lang)) }
                }
            }
            button type="submit" { (t(lang, "filter")) }
        }
        h2 { (if archived { t(lang, "archived_drafts") } else { t(lang, "drafts") }) " (" (drafts.len()) ")" }
        @if archived {
            p { a href={ "/review?lang=" (lang.code()) } { (t(lang, "back_to_queue")) } }
        } @else {
            p { a href={ "/review?show=archived&lang=" (lang.code()) } { (t(lang, "show_archived")) } }
        }
        @if drafts.is_empty() { p { (t(lang, "no_data")) } }
        ol.alerts.queue {
            @for a in &drafts {
                li {
                    span class={ "tier tier-" (a.tier.as_str()) } { (state.assessor.templates.tier_word(a.tier).get(lang)) } " "
                    a href={ "/review/" (a.id) "?lang=" (lang.code()) } { (a.content.title.get(lang)) }
                    p.meta {
                        (state.assessor.templates.samples(a.evidence_count as usize, lang))
                        @if a.content.lab_confirmed { " · " (t(lang, "lab_confirmed")) }
                        " · " (t(lang, "newest_sample")) " " (state.assessor.templates.date(a.last_evidence_at, lang))
                        " · " (t(lang, "age_days").replace("{n}", &days(a.created_at).to_string()))
                    }
                    @if let Some(p) = similar_published(a, &published) {
                        p.meta { (t(lang, "similar_published")) " " a href={ "/alerts/" (p.id) "?lang=" (lang.code()) } { (p.content.title.get(lang)) } }
                    }
                }
            }
        }
        h2 { (t(lang, "published_in_force")) " (" (in_force.len()) ")" }
        @if in_force.is_empty() { p { (t(lang, "no_data")) } }
        ul.alerts {
            @for (a, c) in &in_force {
                li {
                    span class={ "tier tier-" (a.tier.as_str()) } { (state.assessor.templates.tier_word(a.tier).get(lang)) } " "
                    a href={ "/review/" (a.id) "?lang=" (lang.code()) } { (a.content.title.get(lang)) }
                    p.meta {
                        @if let Some(p) = a.published_at { (t(lang, "published")) " " (crate::http::pages::moment(p, lang)) " · " }
                        (t(lang, "coverage")) " " (c.acknowledged) "/" (c.reached)
                        @if c.services.iter().any(|s| s.escalated) { " · " strong.escalated { (t(lang, "pending_escalated")) } }
                    }
                }
            }
        }
    };
    Ok(crate::http::pages::page(crate::http::pages::staff_layout(&user.0, lang, t(lang, "review"), "/review", body)))
}

/// A draft or published alert as a reviewer works on it: its texts to edit, what can be done with it, whom it
/// reached, the samples behind it and how it would look.
async fn draft(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = negotiate(q.lang.as_deref(), &headers);
    if let Some(refused) = reviewers_only(lang, &user) {
        return Ok(refused);
    }
    let view = DraftView::read(&state, &user, id).await?;
    let alert = &view.alert;
    let body = html! {
        h1 { (alert.content.title.get(lang)) }
        p { span class={ "tier tier-" (alert.tier.as_str()) } { (state.assessor.templates.tier_word(alert.tier).get(lang)) }  " · " (t(lang, &format!("status_{}", alert.status.as_str()))) " · " (t(lang, "samples")) ": " (alert.evidence_count) }
        @if view.sole_services { p.notice role="note" { (t(lang, "sole_service_notice")) } }
        // On a wide screen the texts being edited and the preview of what goes out stand side by side; on a phone
        // they follow each other.
        div.review-grid {
            div { (actions(lang, &user, &view)) }
            div {
                h2 { (t(lang, "preview")) }
                section.preview { (crate::http::pages::alert_body(&state, alert, lang)) }
            }
        }
        @if let Some(c) = &view.coverage { (coverage_table(&state, lang, c)) }
        p { a href={ "/review/" (id) "/edas?lang=" (lang.code()) } { (t(lang, "edas_heading")) } }
        (evidence_table(&state, lang, &user, &view))
    };
    Ok(crate::http::pages::page(crate::http::pages::staff_layout(
        &user.0,
        lang,
        alert.content.title.get(lang),
        &format!("/review/{id}"),
        body,
    )))
}

/// What the reviewer's page of one alert reads.
struct DraftView {
    alert: varde_domain::alert::Alert,
    evidence: Vec<varde_store::StoredSample>,
    /// Whether each evidence sample has a photo a reviewer could choose.
    photos: Vec<bool>,
    /// Which services a published warning reached, and which have acknowledged it.
    coverage: Option<crate::api::reach::Coverage>,
    /// Drafts in the same area this one could be merged into, those about the same danger first (with whether they
    /// are).
    others: Vec<(varde_domain::alert::Alert, bool)>,
    /// Whether every sample behind it came from the only service in its fylke: naming the place then points at that
    /// service and the people who use it (privacy rule 2), which the reviewer should weigh before publishing.
    sole_services: bool,
}

impl DraftView {
    async fn read(state: &AppState, user: &SessionUser, id: i64) -> Result<DraftView, ApiError> {
        let queries = state.app.queries();
        let alert =
            queries.alert(id).await?.ok_or_else(|| ApiError::new(ErrorCode::AlertNotFound, "no alert has that id"))?;
        let now = jiff::Timestamp::now();
        let evidence = state.app.alert_evidence(id, &user.0.principal(), now).await?;
        let coverage = if alert.status.is_public() {
            Some(crate::api::reach::coverage(state, &crate::api::alerts::as_of(alert.clone(), now), now).await?)
        } else {
            None
        };
        // One query for the codes with a photo, no image read.
        let with_photos = queries.evidence_with_photos(id).await?;
        let photos = evidence.iter().map(|s| with_photos.contains(&s.sample.code)).collect();
        let same_danger =
            |o: &varde_domain::alert::Alert| o.content.substances.iter().any(|s| alert.content.substances.contains(s));
        let mut others: Vec<_> = queries
            .alerts(AlertFilter { statuses: vec![AlertStatus::Draft], ..AlertFilter::default() })
            .await?
            .into_iter()
            .filter(|o| o.id != id && o.content.fylker == alert.content.fylker)
            .map(|o| {
                let same = same_danger(&o);
                (o, same)
            })
            .collect();
        others.sort_by_key(|(_, same)| !same);
        let services = queries.services().await?;
        let alone = |fylke: &str| services.iter().filter(|s| s.fylke == fylke).count() == 1;
        let sole_services = !evidence.is_empty() && evidence.iter().all(|s| alone(&s.fylke));
        Ok(DraftView { alert, evidence, photos, coverage, others, sole_services })
    }
}

/// The alert's texts in the three languages, to edit.
fn text_fields(lang: Lang, c: &varde_domain::alert::AlertContent) -> Markup {
    let field = |name: &str, label: &str, text: &Localized, rows: u8| {
        html! {
            fieldset {
                legend { (label) }
                @for l in Lang::ALL {
                    label for={ (name) "_" (l.code()) } { (l.code()) }
                    textarea id={ (name) "_" (l.code()) } name={ (name) "_" (l.code()) } rows=(rows) lang=(l.code()) { (text.get(l)) }
                }
            }
        }
    };
    html! {
        (field("title", t(lang, "title"), &c.title, 2))
        (field("body", t(lang, "body"), &c.body, 4))
        (field("advice", t(lang, "advice_label"), &c.advice, 3))
    }
}

/// What the reviewer can do with the alert in its status: edit and publish, merge or discard a draft; update,
/// re-confirm or withdraw a published one.
fn actions(lang: Lang, user: &SessionUser, view: &DraftView) -> Markup {
    let (alert, others) = (&view.alert, &view.others);
    let id = alert.id;
    let texts = text_fields(lang, &alert.content);
    html! {
    @match alert.status {
        AlertStatus::Draft => {
            // One form, two buttons: Publish sends the texts as they stand, so an edit not yet saved is
            // published with the alert instead of being thrown away.
            form.concern method="post" action={ "/review/" (id) "/edit?lang=" (lang.code()) } {
                input type="hidden" name="csrf" value=(user.0.csrf);
                (texts)
                button type="submit" { (t(lang, "save")) }
                " "
                button type="submit" formaction={ "/review/" (id) "/publish?lang=" (lang.code()) } { (t(lang, "publish")) }
            }
            // Another draft about the same product: its samples join this one's.
            @if !others.is_empty() {
                form.concern method="post" action={ "/review/" (id) "/merge?lang=" (lang.code()) } {
                    input type="hidden" name="csrf" value=(user.0.csrf);
                    label for="merge-into" { (t(lang, "merge_into")) }
                    // Nothing chosen beforehand: a merge joins two warnings for good. Drafts about the same danger
                    // come first and say so.
                    select id="merge-into" name="into" required {
                        option value="" selected disabled { (t(lang, "choose_draft")) }
                        @for (o, same) in others {
                            option value=(o.id) {
                                "#" (o.id) ": " (o.content.title.get(lang))
                                @if *same { " (" (t(lang, "same_danger")) ")" }
                            }
                        }
                    }
                    button type="submit" { (t(lang, "merge")) }
                }
            }
            // Setting a draft aside never makes it public (it is discarded, not withdrawn).
            form.concern method="post" action={ "/review/" (id) "/discard?lang=" (lang.code()) } {
                input type="hidden" name="csrf" value=(user.0.csrf);
                label for="discard-note" { (t(lang, "discard_reason")) }
                input id="discard-note" name="note";
                button type="submit" { (t(lang, "discard")) }
            }
        }
        AlertStatus::Published => {
            form.concern method="post" action={ "/review/" (id) "/update?lang=" (lang.code()) } {
                input type="hidden" name="csrf" value=(user.0.csrf);
                (texts)
                button type="submit" { (t(lang, "update")) }
            }
            // The alert still holds: a new version, valid for another period, with today's confirmation date.
            form.concern method="post" action={ "/review/" (id) "/reconfirm?lang=" (lang.code()) } {
                input type="hidden" name="csrf" value=(user.0.csrf);
                @if alert.new_evidence { p.notice { (t(lang, "new_evidence_since")) } }
                button type="submit" { (t(lang, "reconfirm")) }
            }
            form.concern method="post" action={ "/review/" (id) "/withdraw?lang=" (lang.code()) } {
                input type="hidden" name="csrf" value=(user.0.csrf);
                label for="note" { (t(lang, "withdraw_reason")) }
                input id="note" name="note" required;
                button type="submit" { (t(lang, "withdraw")) }
            }
        }
        _ => { p { a href={ "/alerts/" (id) "?lang=" (lang.code()) } { (t(lang, &format!("status_{}", alert.status.as_str()))) } } }
    }
    }
}

/// Which services a published warning reached, and when each acknowledged it.
fn coverage_table(state: &AppState, lang: Lang, c: &crate::api::reach::Coverage) -> Markup {
    html! {
        h2 { (t(lang, "coverage")) " (" (c.acknowledged) "/" (c.reached) ")" }
        table.coverage {
            thead { tr { th scope="col" { (t(lang, "service")) } th scope="col" { (t(lang, "area")) } th scope="col" { (t(lang, "acknowledged")) } } }
            tbody {
                @for s in &c.services {
                    tr class=[s.escalated.then_some("escalated")] {
                        td { (s.name) }
                        td { (state.assessor.geography.fylke(&s.fylke).map_or(s.fylke.as_str(), |f| f.public_name())) }
                        td {
                            @if let Some(at) = s.acknowledged_at { (crate::http::pages::moment(at, lang)) }
                            @else if s.escalated { strong.escalated { (t(lang, "pending_escalated")) } }
                            @else { (t(lang, "pending")) }
                        }
                    }
                }
            }
        }
    }
}

/// The samples behind the alert, with their photos to choose from.
fn evidence_table(state: &AppState, lang: Lang, user: &SessionUser, view: &DraftView) -> Markup {
    let (alert, id) = (&view.alert, view.alert.id);
    html! {
    h2 { (t(lang, "evidence")) }
    @if let Some(p) = &alert.photo {
        figure.photo { img src=(p.href) width=(p.width) height=(p.height) alt=(t(lang, "chosen_photo")); figcaption { (t(lang, "chosen_photo")) } }
    }
    table {
        thead { tr { th scope="col" { (t(lang, "code")) } th scope="col" { (t(lang, "form")) } th scope="col" { (t(lang, "findings")) } th scope="col" { (t(lang, "photo_of_product")) } } }
        tbody {
            @for (s, has_photo) in view.evidence.iter().zip(&view.photos) {
                tr {
                    td { (s.sample.code) }
                    td { (varde_domain::alert_text::form_word(s.sample.form, lang)) }
                    td { (s.findings.iter().map(|f| state.assessor.templates.tier_word(f.tier).get(lang).to_owned()).collect::<Vec<_>>().join(", ")) }
                    td {
                        @if *has_photo {
                            img.thumb src={ "/review/" (id) "/samples/" (s.sample.code.compact()) "/photo.jpg" } width="120" alt={ (t(lang, "photo_of_product")) " " (s.sample.code) };
                            @if alert.status.is_public() || alert.status == AlertStatus::Draft {
                                form method="post" action={ "/review/" (id) "/photo?lang=" (lang.code()) } {
                                    input type="hidden" name="csrf" value=(user.0.csrf);
                                    input type="hidden" name="code" value=(s.sample.code.compact());
                                    button type="submit" { (t(lang, "use_photo")) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    }
}

/// Every field a reviewer's form sends, as typed: the texts in three languages (an edit, a publication, an update),
/// a reason (withdrawing, setting aside), the draft to merge into, the sample whose photo to publish, and the
/// confirmation of an action that asks first.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct ReviewFields {
    csrf: String,
    title_nb: Option<String>,
    title_nn: Option<String>,
    title_en: Option<String>,
    body_nb: Option<String>,
    body_nn: Option<String>,
    body_en: Option<String>,
    advice_nb: Option<String>,
    advice_nn: Option<String>,
    advice_en: Option<String>,
    note: Option<String>,
    into: Option<String>,
    code: Option<String>,
    confirmed: Option<String>,
}

impl ReviewFields {
    fn title(&self) -> Option<Localized> {
        localized(&self.title_nb, &self.title_nn, &self.title_en)
    }
    fn body(&self) -> Option<Localized> {
        localized(&self.body_nb, &self.body_nn, &self.body_en)
    }
    fn advice(&self) -> Option<Localized> {
        localized(&self.advice_nb, &self.advice_nn, &self.advice_en)
    }

    /// What the confirmation page carries on, as typed (not the CSRF token or the confirmation itself).
    fn carried(&self) -> Vec<(&'static str, &str)> {
        [
            ("title_nb", &self.title_nb),
            ("title_nn", &self.title_nn),
            ("title_en", &self.title_en),
            ("body_nb", &self.body_nb),
            ("body_nn", &self.body_nn),
            ("body_en", &self.body_en),
            ("advice_nb", &self.advice_nb),
            ("advice_nn", &self.advice_nn),
            ("advice_en", &self.advice_en),
            ("note", &self.note),
            ("into", &self.into),
            ("code", &self.code),
        ]
        .into_iter()
        .filter_map(|(name, value)| Some((name, value.as_deref()?)))
        .collect()
    }
}

/// A text in three languages, when the form sent all three.
fn localized(nb: &Option<String>, nn: &Option<String>, en: &Option<String>) -> Option<Localized> {
    Some(Localized { nb: nb.clone()?, nn: nn.clone()?, en: en.clone()? })
}

/// Every reviewer action goes the same way: reviewers only, the form's CSRF token, then the store's transition.
/// An edit returns to the review page; the others show the alert as the public now sees it.
async fn act(
    state: &AppState,
    user: &SessionUser,
    id: i64,
    lang: Lang,
    f: &ReviewFields,
    action: AlertAction,
) -> Result<Response, ApiError> {
    if let Some(refused) = reviewers_only(lang, user) {
        return Ok(refused);
    }
    user.check_csrf(&f.csrf)?;
    let change = match action {
        // Publishing from the draft's form carries its texts: saved and published in one transition.
        AlertAction::Edit | AlertAction::Update | AlertAction::Publish => {
            AlertEdit { title: f.title(), body: f.body(), advice: f.advice(), ..AlertEdit::default() }
        }
        AlertAction::Withdraw | AlertAction::Discard => {
            AlertEdit { note: f.note.clone().filter(|n| !n.trim().is_empty()), ..AlertEdit::default() }
        }
        AlertAction::Reconfirm => AlertEdit::default(),
    };
    state.app.change_alert(id, action, change, &user.0.principal(), jiff::Timestamp::now()).await?;
    // An edit returns to the draft, a discarded draft to the queue (it has no public page), the rest to the alert as
    // the public now sees it.
    let to = match action {
        AlertAction::Edit => format!("/review/{id}"),
        AlertAction::Discard => "/review".to_owned(),
        _ => format!("/alerts/{id}"),
    };
    Ok(Redirect::to(&format!("{to}?lang={}", lang.code())).into_response())
}

/// What a reviewer sees before an action that cannot be taken back goes out: for a publication, the headline as an
/// SMS carries it, the e-mail subscribers get and the page, with the texts as typed (not yet saved); for a merge,
/// both drafts; for setting a draft aside, the draft. The form carries everything typed on, so going back loses
/// nothing.
async fn confirmation(
    state: &AppState,
    user: &SessionUser,
    id: i64,
    lang: Lang,
    action: &str,
    f: &ReviewFields,
) -> Result<Response, ApiError> {
    let mut alert = crate::api::alerts::existing(state, id).await?;
    for (typed, text) in [
        (f.title(), &mut alert.content.title),
        (f.body(), &mut alert.content.body),
        (f.advice(), &mut alert.content.advice),
    ] {
        if let Some(typed) = typed {
            *text = typed;
        }
    }
    let kept = f.carried();
    let into = match action {
        "merge" => {
            let into: i64 = f.into.as_deref().and_then(|v| v.parse().ok()).ok_or_else(|| {
                ApiError::new(ErrorCode::InvalidField, "choose the draft to merge into").with_field("into")
            })?;
            Some(crate::api::alerts::existing(state, into).await?)
        }
        _ => None,
    };
    let (heading, button) = match action {
        "publish" => ("confirm_publish", "publish_now"),
        "merge" => ("confirm_merge", "merge_now"),
        _ => ("confirm_discard", "discard_now"),
    };
    let body = html! {
        h1 { (t(lang, heading)) }
        @if action == "publish" {
            h2 { (t(lang, "as_sms")) }
            @for l in Lang::ALL {
                p { strong { (l.code()) } ": " (alert.content.title.get(l)) " "
                    span.meta { "(" (alert.content.title.get(l).chars().count()) "/" (varde_domain::alert_text::HEADLINE_MAX_CHARS) ")" } }
            }
            @let (subject, paragraphs) = crate::warn::messages::alert_mail(state, "alert.published", &alert, lang);
            h2 { (t(lang, "as_email")) }
            section.preview { p { strong { (subject) } } @for p in &paragraphs { p { (p) } } }
            h2 { (t(lang, "as_page")) }
            section.preview { (crate::http::pages::alert_body(state, &alert, lang)) }
        }
        @if let Some(target) = &into {
            p { "#" (alert.id) " " (alert.content.title.get(lang)) " (" (alert.evidence_count) " " (t(lang, "samples")) ")" }
            p { "→ #" (target.id) " " (target.content.title.get(lang)) " (" (target.evidence_count) " " (t(lang, "samples")) ")" }
        }
        @if action == "discard" {
            p { "#" (alert.id) " " (alert.content.title.get(lang)) }
        }
        form.concern method="post" action={ "/review/" (id) "/" (action) "?lang=" (lang.code()) } {
            input type="hidden" name="csrf" value=(user.0.csrf);
            input type="hidden" name="confirmed" value="yes";
            @for (k, v) in &kept { input type="hidden" name=(k) value=(v); }
            button type="submit" { (t(lang, button)) }
            " "
            @if action == "publish" {
                button type="submit" formaction={ "/review/" (id) "/edit?lang=" (lang.code()) } { (t(lang, "save_and_go_back")) }
            } @else {
                a href={ "/review/" (id) "?lang=" (lang.code()) } { (t(lang, "go_back")) }
            }
        }
    };
    Ok(crate::http::pages::page(crate::http::pages::staff_layout(
        &user.0,
        lang,
        t(lang, heading),
        &format!("/review/{id}"),
        body,
    )))
}

/// `/review/{id}/edit|publish|update|reconfirm|withdraw|discard|merge|photo`: the page forms' one way to a reviewer action.
async fn action(
    State(state): State<AppState>,
    user: SessionUser,
    Path((id, action)): Path<(i64, String)>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    Form(f): Form<ReviewFields>,
) -> Result<Response, ApiError> {
    // Publishing, merging and setting aside ask first, showing what will happen.
    if matches!(action.as_str(), "publish" | "merge" | "discard") && f.confirmed.as_deref() != Some("yes") {
        let lang = negotiate(q.lang.as_deref(), &headers);
        if let Some(refused) = reviewers_only(lang, &user) {
            return Ok(refused);
        }
        user.check_csrf(&f.csrf)?;
        return confirmation(&state, &user, id, lang, &action, &f).await;
    }
    let action = match action.as_str() {
        "edit" => AlertAction::Edit,
        "publish" => AlertAction::Publish,
        "update" => AlertAction::Update,
        "withdraw" => AlertAction::Withdraw,
        "discard" => AlertAction::Discard,
        "reconfirm" => AlertAction::Reconfirm,
        "photo" => {
            let lang = negotiate(q.lang.as_deref(), &headers);
            if let Some(refused) = reviewers_only(lang, &user) {
                return Ok(refused);
            }
            user.check_csrf(&f.csrf)?;
            let code = varde_domain::SampleCode::parse(f.code.as_deref().unwrap_or(""))
                .map_err(|_| ApiError::new(ErrorCode::InvalidField, "choose a sample's photo").with_field("code"))?;
            state.app.choose_alert_photo(id, code, &user.0.principal(), jiff::Timestamp::now()).await?;
            return Ok(Redirect::to(&format!("/review/{id}?lang={}", lang.code())).into_response());
        }
        "merge" => {
            if let Some(refused) = reviewers_only(negotiate(q.lang.as_deref(), &headers), &user) {
                return Ok(refused);
            }
            user.check_csrf(&f.csrf)?;
            let into: i64 = f.into.as_deref().and_then(|v| v.parse().ok()).ok_or_else(|| {
                ApiError::new(ErrorCode::InvalidField, "choose the draft to merge into").with_field("into")
            })?;
            state.app.merge_alerts(id, into, &user.0.principal(), jiff::Timestamp::now()).await?;
            let lang = negotiate(q.lang.as_deref(), &headers);
            return Ok(Redirect::to(&format!("/review/{into}?lang={}", lang.code())).into_response());
        }
        _ => return Err(ApiError::new(ErrorCode::NotFound, "no such reviewer action")),
    };
    act(&state, &user, id, negotiate(q.lang.as_deref(), &headers), &f, action).await
}

/// An evidence sample's photo, for the reviewer choosing one to publish (reviewers only; the sample must be evidence
/// for this alert).
async fn evidence_photo(
    State(state): State<AppState>,
    user: SessionUser,
    Path((id, code)): Path<(i64, String)>,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::new(ErrorCode::NotFound, "no such photo");
    if user.0.role != Role::Reviewer {
        return Err(ApiError::new(ErrorCode::ReviewerOnly, "evidence photos are for reviewers"));
    }
    let code = varde_domain::SampleCode::parse(&code).map_err(|_| not_found())?;
    let evidence = state.app.alert_evidence(id, &user.0.principal(), jiff::Timestamp::now()).await?;
    if !evidence.iter().any(|s| s.sample.code == code) {
        return Err(not_found());
    }
    let jpeg = state.app.queries().photo(code).await?.ok_or_else(not_found)?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "image/jpeg"), (axum::http::header::CACHE_CONTROL, "private, no-store")],
        jpeg,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    /// Every status has its word in each language (the pages look them up by the status's name).
    #[test]
    fn every_status_has_a_word() {
        for status in varde_domain::alert::AlertStatus::ALL {
            for lang in varde_domain::Lang::ALL {
                assert!(!crate::http::i18n::t(lang, &format!("status_{}", status.as_str())).is_empty());
            }
        }
    }
}
