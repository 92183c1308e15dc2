//! Technicians' pages: register a sample in under a minute, see its findings at once, print the person's result card.

use crate::AppState;
use crate::check::technician;
use crate::http::error::ApiError;
use crate::http::i18n::t;
use crate::http::lang::negotiate;
use crate::http::session::SessionUser;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{Markup, PreEscaped, html};
use std::collections::HashMap;
use varde_domain::ErrorCode;
use varde_domain::auth::Role;
use varde_domain::sample::{
    Amount, AmountUnit, AnalysisInput, AnalysisResult, ComponentInput, ComponentRole, Form as SampleForm, SampleInput,
    Tablet,
};
use varde_domain::{Lang, Method, SampleCode};

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/staff", get(new_sample))
        .route("/staff/samples", post(register).get(list))
        .route("/staff/samples/{code}", get(sample))
        .route("/staff/samples/{code}/analyses", post(add_analysis))
        // Photos may be larger than the API's 1 MiB bodies.
        .route(
            "/staff/samples/{code}/photo",
            post(upload_photo).get(photo).layer(axum::extract::DefaultBodyLimit::max(10 << 20)),
        )
        .route("/staff/samples/{code}/card", get(card))
        .route("/staff/alerts/{id}/acknowledge", post(acknowledge))
        .route("/staff/alerts/{id}/acknowledge/undo", post(undo_acknowledgement))
        // Instrument files are often larger than the API's 1 MiB bodies.
        .route(
            "/staff/samples/{code}/spectra",
            post(upload_spectrum).layer(axum::extract::DefaultBodyLimit::max(10 << 20)),
        )
}

#[derive(serde::Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

const STRIPS: [(&str, Method); 5] = [
    ("strip_fentanyl", Method::StripFentanyl),
    ("strip_nitazene", Method::StripNitazene),
    ("strip_benzodiazepine", Method::StripBenzodiazepine),
    ("strip_xylazine", Method::StripXylazine),
    ("strip_medetomidine", Method::StripMedetomidine),
];

fn form_page(
    state: &AppState,
    lang: Lang,
    user: &SessionUser,
    values: &HashMap<String, String>,
    error: Option<&str>,
) -> Markup {
    form_page_with(state, lang, user, values, error, &[], None)
}

/// The start page: warnings for the service's area still to acknowledge, then the sample form.
fn form_page_with(
    state: &AppState,
    lang: Lang,
    user: &SessionUser,
    values: &HashMap<String, String>,
    error: Option<&str>,
    pending: &[varde_domain::alert::Alert],
    acknowledged: Option<Acknowledged>,
) -> Markup {
    let v = |k: &str| values.get(k).cloned().unwrap_or_default();
    let body = html! {
        @if !pending.is_empty() {
            section.warnings aria-labelledby="warnings-h" {
                h2 id="warnings-h" { (t(lang, "warnings_to_acknowledge")) }
                ul.alerts {
                    @for a in pending {
                        // When it was published, when it escalates if nobody acknowledges it, and what to pass on;
                        // acknowledging asks once (the box to tick) and then says so.
                        li {
                            span class={ "tier tier-" (a.tier.as_str()) } { (state.assessor.templates.tier_word(a.tier).get(lang)) } " "
                            a href={ "/alerts/" (a.id) "?lang=" (lang.code()) } { (a.content.title.get(lang)) }
                            @if let Some(published) = a.published_at {
                                p.meta {
                                    (t(lang, "published")) " " (crate::http::pages::moment(published, lang))
                                    @if a.tier == varde_domain::Tier::Severe {
                                        " · " (t(lang, "escalates_at")) " " (crate::http::pages::moment(published + state.reach.escalate_after, lang))
                                    }
                                }
                            }
                            p { strong { (t(lang, "pass_on")) } " " (a.content.advice.get(lang)) }
                            form method="post" action={ "/staff/alerts/" (a.id) "/acknowledge?lang=" (lang.code()) } {
                                input type="hidden" name="csrf" value=(user.0.csrf);
                                label.check {
                                    input type="checkbox" name="passed_on" value="yes" required;
                                    " " (t(lang, "ack_confirm"))
                                }
                                button type="submit" { (t(lang, "seen_and_passed_on")) }
                            }
                        }
                    }
                }
            }
        }
        @match acknowledged {
            Some(Acknowledged::Given { id, title }) => {
                form.notice role="status" method="post" action={ "/staff/alerts/" (id) "/acknowledge/undo?lang=" (lang.code()) } {
                    (t(lang, "ack_done")) " " (title) " "
                    input type="hidden" name="csrf" value=(user.0.csrf);
                    button.secondary type="submit" { (t(lang, "ack_undo")) }
                    " " span.hint { (t(lang, "ack_undo_within")) }
                }
            }
            Some(Acknowledged::Undone { title }) => { p.notice role="status" { (t(lang, "ack_undone")) " " (title) } }
            None => {}
        }
        p { a href={ "/staff/user-room?lang=" (lang.code()) } { (t(lang, "user_room_link")) } }
        h1 { (t(lang, "new_sample")) }
        @if let Some(e) = error { p.error role="alert" { (e) } }
        (substance_list(state, lang))
        form.concern.sample method="post" action={ "/staff/samples?lang=" (lang.code()) } {
            input type="hidden" name="csrf" value=(user.0.csrf);
            label for="sold_as" { (t(lang, "sold_as")) }
            input id="sold_as" name="sold_as" list="substances" value=(v("sold_as")) autofocus aria-describedby="sold_as_hint";
            small id="sold_as_hint" { (t(lang, "sold_as_hint")) }
            label for="form" { (t(lang, "form")) }
            select id="form" name="form" {
                @for f in SampleForm::ALL {
                    @if v("form") == f.as_str() { option value=(f.as_str()) selected { (varde_domain::alert_text::form_word(f, lang)) } }
                    @else { option value=(f.as_str()) { (varde_domain::alert_text::form_word(f, lang)) } }
                }
            }
            // The colours warnings can name, offered as the technician types; other words are kept as the person's
            // own and stay out of public texts.
            label for="colour" { (t(lang, "colour")) }
            input id="colour" name="colour" list="colours" value=(v("colour"));
            datalist id="colours" {
                @for c in varde_domain::colour::builtin().all() { option value=(c.name.get(lang)) {} }
            }
            fieldset.tablet {
                legend { (t(lang, "tablet_details")) }
                label for="logo" { (t(lang, "logo")) }
                input id="logo" name="logo" value=(v("logo"));
                label for="mass_mg" { (t(lang, "mass_mg")) }
                input id="mass_mg" name="mass_mg" inputmode="decimal" value=(v("mass_mg"));
            }
            label for="ftir_main" { (t(lang, "ftir_main")) }
            input id="ftir_main" name="ftir_main" list="substances" value=(v("ftir_main"));
            // How much of the main substance, where a method measured it, straight after it: the dose is often the
            // danger (a 350 mg MDMA tablet), and the risk policy can only warn about a dose it is given.
            fieldset.quantity {
                legend { (t(lang, "quantity_legend")) }
                small id="quantity_hint" { (t(lang, "quantity_hint")) }
                label for="amount_value" { (t(lang, "quantity_value")) }
                input id="amount_value" name="amount_value" inputmode="decimal" value=(v("amount_value")) aria-describedby="quantity_hint";
                label for="amount_unit" { (t(lang, "quantity_unit")) }
                select id="amount_unit" name="amount_unit" {
                    @for (value, key) in [("mg", "unit_mg_per_unit"), ("percent", "unit_percent"), ("ug", "unit_ug_per_unit")] {
                        @if v("amount_unit") == value { option value=(value) selected { (t(lang, key)) } }
                        @else { option value=(value) { (t(lang, key)) } }
                    }
                }
                label for="amount_method" { (t(lang, "quantity_method")) }
                select id="amount_method" name="amount_method" {
                    @for method in QUANTITATIVE {
                        @if v("amount_method") == method.as_str() { option value=(method.as_str()) selected { (state.assessor.methods.name(method).get(lang)) } }
                        @else { option value=(method.as_str()) { (state.assessor.methods.name(method).get(lang)) } }
                    }
                }
            }
            label for="ftir_other" { (t(lang, "ftir_other")) }
            input id="ftir_other" name="ftir_other" value=(v("ftir_other"));
            fieldset {
                legend { (t(lang, "strips")) }
                @for (name, method) in STRIPS {
                    label for=(name) { (state.assessor.methods.name(method).get(lang)) }
                    select id=(name) name=(name) {
                        @for (value, key) in [("", "not_tested"), ("positive", "positive"), ("negative", "negative"), ("inconclusive", "inconclusive")] {
                            @if v(name) == value { option value=(value) selected { (t(lang, key)) } }
                            @else { option value=(value) { (t(lang, key)) } }
                        }
                    }
                }
            }
            label for="notes" { (t(lang, "notes")) }
            textarea id="notes" name="notes" rows="3" maxlength="2000" { (v("notes")) }
            button type="submit" { (t(lang, "register")) }
        }
    };
    crate::http::pages::staff_layout(&user.0, lang, t(lang, "new_sample"), "/staff", body)
}

/// The start page's query: the language, and the warning just acknowledged or taken back (to say so).
#[derive(serde::Deserialize)]
pub struct StartQuery {
    lang: Option<String>,
    acknowledged: Option<i64>,
    undone: Option<i64>,
}

/// What the start page says about the warning just acknowledged: given (with the way to take it back for a
/// minute) or taken back.
enum Acknowledged {
    Given { id: i64, title: String },
    Undone { title: String },
}

async fn new_sample(
    State(state): State<AppState>,
    user: SessionUser,
    Query(q): Query<StartQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = negotiate(q.lang.as_deref(), &headers);
    if let Some(refused) = technician::technician_only(lang, &user) {
        return refused;
    }
    let pending = match crate::api::reach::pending_for(&state, &user.0.principal()).await {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let queries = state.app.queries();
    let title =
        |id: i64| async move { queries.alert(id).await.ok().flatten().map(|a| a.content.title.get(lang).to_owned()) };
    let acknowledged = match (q.acknowledged, q.undone) {
        (Some(id), _) => title(id).await.map(|title| Acknowledged::Given { id, title }),
        (None, Some(id)) => title(id).await.map(|title| Acknowledged::Undone { title }),
        (None, None) => None,
    };
    crate::http::pages::page(form_page_with(&state, lang, &user, &HashMap::new(), None, &pending, acknowledged))
}

/// "Seen and passed on": the technician's service acknowledges a warning from the start page.
async fn acknowledge(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    Form(f): Form<technician::CsrfOnly>,
) -> Result<Response, ApiError> {
    let lang = negotiate(q.lang.as_deref(), &headers);
    if let Some(refused) = technician::technician_post(lang, &user, &f.csrf)? {
        return Ok(refused);
    }
    crate::api::reach::acknowledge(&state, &user.0.principal(), id).await?;
    Ok(Redirect::to(&format!("/staff?lang={}&acknowledged={id}", lang.code())).into_response())
}

/// Takes back the acknowledgement just given from the start page (within its minute).
async fn undo_acknowledgement(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    Form(f): Form<technician::CsrfOnly>,
) -> Result<Response, ApiError> {
    let lang = negotiate(q.lang.as_deref(), &headers);
    if let Some(refused) = technician::technician_post(lang, &user, &f.csrf)? {
        return Ok(refused);
    }
    crate::api::reach::undo_acknowledgement(&state, &user.0.principal(), id).await?;
    Ok(Redirect::to(&format!("/staff?lang={}&undone={id}", lang.code())).into_response())
}

/// The methods a technician can give a quantity by on the page: FTIR (semi-quantitative, against the service's
/// calibration) and the laboratory's quantitative methods.
const QUANTITATIVE: [Method; 4] = [Method::Ftir, Method::Hplc, Method::GcMs, Method::LcMs];

fn names(list: &str) -> Vec<String> {
    list.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// The form as the API's input, so one set of rules (validation, privacy) serves both.
fn input(service: &str, f: &HashMap<String, String>) -> Result<SampleInput, String> {
    let get = |k: &str| f.get(k).map(|s| s.trim()).filter(|s| !s.is_empty()).map(str::to_owned);
    let form = SampleForm::parse(&get("form").unwrap_or_default()).ok_or("choose a form")?;
    let mut analyses = Vec::new();
    // The quantity of the main substance: on the FTIR component, or as its own analysis by the method that measured it.
    let amount = match get("amount_value") {
        None => None,
        Some(value) => {
            let value = value.replace(',', ".").parse::<f64>().map_err(|_| "the quantity is a number")?;
            let unit = match get("amount_unit").as_deref() {
                Some("percent") => AmountUnit::Percent,
                Some("ug") => AmountUnit::Ug,
                _ => AmountUnit::Mg,
            };
            let method = get("amount_method").and_then(|m| Method::parse(&m)).filter(|m| QUANTITATIVE.contains(m));
            Some((Amount { value, unit }, method.unwrap_or(Method::Ftir)))
        }
    };
    if amount.is_some() && get("ftir_main").is_none() {
        return Err("a quantity belongs to the main substance: name it under FTIR: main substance".into());
    }
    let mut components: Vec<ComponentInput> = get("ftir_main")
        .into_iter()
        .map(|s| ComponentInput {
            amount: amount.filter(|(_, m)| *m == Method::Ftir).map(|(a, _)| a),
            substance: s,
            role: ComponentRole::Main,
            confidence: None,
        })
        .collect();
    let measured_elsewhere = amount.filter(|(_, m)| *m != Method::Ftir).zip(get("ftir_main"));
    components.extend(names(&get("ftir_other").unwrap_or_default()).into_iter().map(|s| ComponentInput {
        substance: s,
        role: ComponentRole::Adulterant,
        amount: None,
        confidence: None,
    }));
    if !components.is_empty() {
        analyses.push(AnalysisInput {
            method: Method::Ftir,
            result: None,
            components: Some(components),
            performed_at: None,
            amends: None,
        });
    }
    if let Some(((amount, method), substance)) = measured_elsewhere {
        analyses.push(AnalysisInput {
            method,
            result: None,
            components: Some(vec![ComponentInput {
                substance,
                role: ComponentRole::Main,
                amount: Some(amount),
                confidence: None,
            }]),
            performed_at: None,
            amends: None,
        });
    }
    for (name, method) in STRIPS {
        if let Some(r) = get(name) {
            let result = AnalysisResult::parse(&r).ok_or("choose a strip result")?;
            analyses.push(AnalysisInput {
                method,
                result: Some(result),
                components: None,
                performed_at: None,
                amends: None,
            });
        }
    }
    let mass_mg = match get("mass_mg") {
        Some(m) => Some(m.replace(',', ".").parse::<f64>().map_err(|_| "the mass is a number of milligrams")?),
        None => None,
    };
    let tablet = form.has_tablet_fields().then(|| Tablet { mass_mg, logo: get("logo"), ..Tablet::default() });
    Ok(SampleInput {
        service: service.to_owned(),
        received_at: None,
        sold_as: names(&get("sold_as").unwrap_or_default()),
        form,
        colour: get("colour"),
        texture: None,
        notes: get("notes"),
        tablet,
        use_context: None,
        analyses,
    })
}

async fn register(
    State(state): State<AppState>,
    user: SessionUser,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    Form(values): Form<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let lang = negotiate(q.lang.as_deref(), &headers);
    if let Some(refused) = technician::technician_post(lang, &user, values.get("csrf").map_or("", String::as_str))? {
        return Ok(refused);
    }
    let service = user.0.service.clone().expect("technicians have a service");
    let again = |message: String| {
        Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            crate::http::pages::page(form_page(&state, lang, &user, &values, Some(&message))),
        )
            .into_response())
    };
    let sample = match input(service.as_str(), &values) {
        Ok(i) => i,
        Err(m) => return again(m.to_owned()),
    };
    // The API's use case: the same validation, retries and counts; a refusal shows the form again with its reason.
    let stored = match crate::check::samples::register(&state, &user.0.principal(), sample).await {
        Ok(stored) => stored,
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => return again(e.body.message),
        Err(e) => return Err(e),
    };
    Ok(Redirect::to(&format!("/staff/samples/{}?lang={}", stored.sample.code, lang.code())).into_response())
}

async fn own_sample(
    state: &AppState,
    user: &SessionUser,
    code: &str,
) -> Result<Option<varde_store::StoredSample>, ApiError> {
    let Ok(code) = SampleCode::parse(code) else { return Ok(None) };
    let stored = state.app.queries().sample(code).await?;
    // Another service's sample does not exist for this technician.
    Ok(stored.filter(|s| Some(&s.sample.service) == user.0.service.as_ref()))
}

/// What every upload from the sample page checks first: a technician, the form (its file under
/// `file_field`) with a valid CSRF token, and a sample of the technician's own service. `Err` is the
/// page to answer with instead.
async fn sample_upload(
    state: &AppState,
    user: &SessionUser,
    code: &str,
    lang: Lang,
    multipart: axum::extract::Multipart,
    file_field: &str,
) -> Result<Result<(crate::http::extract::UploadForm, varde_store::StoredSample), Response>, ApiError> {
    if let Some(refused) = technician::technician_only(lang, user) {
        return Ok(Err(refused));
    }
    let form = crate::http::extract::UploadForm::read(multipart, file_field).await?;
    user.check_csrf(form.field("csrf"))?;
    let Some(stored) = own_sample(state, user, code).await? else {
        return Ok(Err(ApiError::new(ErrorCode::SampleNotFound, "no sample has that code").into_response()));
    };
    Ok(Ok((form, stored)))
}

/// What was registered, as entered, so that a typing mistake (a wrong substance, 35 mg for 350) is seen at once.
fn registered(state: &AppState, stored: &varde_store::StoredSample, lang: Lang) -> Markup {
    use varde_domain::sample::Outcome;
    let s = &stored.sample;
    let name = |r: &varde_domain::catalogue::SubstanceRef| -> String {
        state.assessor.catalogue.get(&r.substance).map_or_else(|| r.substance.clone(), |x| x.names.get(lang).to_owned())
    };
    let amount = |a: &Amount| -> String {
        let value = if lang == Lang::En { a.value.to_string() } else { a.value.to_string().replace('.', ",") };
        match a.unit {
            AmountUnit::Mg => format!("{value} mg"),
            AmountUnit::Ug => format!("{value} µg"),
            AmountUnit::Percent => format!("{value} %"),
        }
    };
    let role = |r: ComponentRole| -> &'static str {
        match r {
            ComponentRole::Main => t(lang, "role_main"),
            ComponentRole::Adulterant => t(lang, "role_adulterant"),
            ComponentRole::Trace => t(lang, "role_trace"),
        }
    };
    html! {
        h2 { (t(lang, "as_registered")) }
        dl.registered {
            dt { (t(lang, "sold_as")) }
            dd { @if s.sold_as.is_empty() { (t(lang, "none")) } @else { (s.sold_as.iter().map(name).collect::<Vec<_>>().join(", ")) } }
            dt { (t(lang, "form")) } dd { (varde_domain::alert_text::form_word(s.form, lang)) }
            @if let Some(c) = &s.colour { dt { (t(lang, "colour")) } dd { (c) } }
            @if let Some(tablet) = &s.tablet {
                @if let Some(logo) = &tablet.logo { dt { (t(lang, "logo")) } dd { (logo) } }
                @if let Some(mass) = tablet.mass_mg { dt { (t(lang, "mass_mg")) } dd { (amount(&Amount { value: mass, unit: AmountUnit::Mg })) } }
            }
        }
        table.analyses {
            caption { (t(lang, "analyses")) }
            thead { tr { th scope="col" { (t(lang, "method")) } th scope="col" { (t(lang, "result")) } } }
            tbody {
                @for a in s.current_analyses() {
                    tr {
                        td { (state.assessor.methods.name(a.method).get(lang)) }
                        td {
                            @match &a.outcome {
                                Outcome::Strip { result } => { (t(lang, result.as_str())) }
                                Outcome::Components { components, .. } if components.is_empty() => { (t(lang, "nothing_identified")) }
                                Outcome::Components { components, .. } => {
                                    (components.iter().map(|c| {
                                        let mut text = format!("{} ({})", name(&c.substance), role(c.role));
                                        if let Some(a) = &c.amount { text.push_str(&format!(", {}", amount(a))); }
                                        text
                                    }).collect::<Vec<_>>().join("; "))
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn findings(state: &AppState, stored: &varde_store::StoredSample, lang: Lang) -> Markup {
    html! {
        h2 { (t(lang, "findings")) }
        @if stored.findings.is_empty() { p { (t(lang, "no_findings")) } }
        @for f in &stored.findings {
            div class={ "finding finding-" (f.tier.as_str()) } {
                strong { (state.assessor.templates.tier_word(f.tier).get(lang)) } ": " (f.explanation.get(lang))
            }
        }
    }
}

/// The sample page with its photo and spectra as stored, and an error to show when a form was refused.
async fn sample_page(
    state: &AppState,
    user: &SessionUser,
    stored: &varde_store::StoredSample,
    lang: Lang,
    error: Option<&str>,
) -> Result<Response, ApiError> {
    let has_photo = state.app.queries().photo(stored.sample.code).await?.is_some();
    let spectra = crate::check::spectra::attached(state, stored.sample.code).await?;
    let (intention, _) = state.app.queries().feedback(stored.sample.code).await?;
    let page = SamplePage { error, has_photo, spectra: &spectra, intention };
    Ok(sample_markup(state, user, stored, lang, &page))
}

/// What the sample page shows besides the sample itself.
struct SamplePage<'a> {
    error: Option<&'a str>,
    has_photo: bool,
    spectra: &'a [crate::check::spectra::AttachedSpectrum],
    intention: Option<varde_domain::feedback::Intention>,
}

fn sample_markup(
    state: &AppState,
    user: &SessionUser,
    stored: &varde_store::StoredSample,
    lang: Lang,
    page: &SamplePage<'_>,
) -> Response {
    let SamplePage { error, has_photo, spectra, intention } = *page;
    let code = stored.sample.code.to_string();
    let current: Vec<&varde_domain::sample::Analysis> = stored.sample.current_analyses().collect();
    let body = html! {
        h1 { (t(lang, "sample")) }
        p { (t(lang, "code")) ": " span.code data-code=(code) { (code) } }
        // What the technician does next at the counter is hand the person the card: it has the focus, so Enter
        // opens it and the browser's print (Ctrl+P) prints it.
        p { a.button href={ "/staff/samples/" (code) "/card?lang=" (lang.code()) } autofocus { (t(lang, "result_card")) } }
        (registered(state, stored, lang))
        (findings(state, stored, lang))
        @if let Some(notes) = &stored.sample.notes { h2 { (t(lang, "notes")) } p.notes { (notes) } }
        @if has_photo { img.photo src={ "/staff/samples/" (code) "/photo" } alt=(t(lang, "photo_alt")) width="320"; }
        form.concern method="post" enctype="multipart/form-data" action={ "/staff/samples/" (code) "/photo?lang=" (lang.code()) } {
            input type="hidden" name="csrf" value=(user.0.csrf);
            label for="photo" { (t(lang, "photo")) }
            input id="photo" name="photo" type="file" accept="image/jpeg,image/png";
            button type="submit" { (t(lang, "upload")) }
        }
        p { a href={ "/staff?lang=" (lang.code()) } { (t(lang, "new_sample")) } " · "
            a href={ "/staff/samples?lang=" (lang.code()) } { (t(lang, "samples_list")) } }
        (crate::check::feedback::intention_form_markup(lang, stored.sample.code, &user.0.csrf, intention))
        h2 { (t(lang, "add_analysis")) }
        @if let Some(e) = error { p.error role="alert" { (e) } }
        form.concern method="post" action={ "/staff/samples/" (code) "/analyses?lang=" (lang.code()) } {
            input type="hidden" name="csrf" value=(user.0.csrf);
            label for="method" { (t(lang, "method")) }
            select id="method" name="method" {
                @for m in Method::ALL { option value=(m.as_str()) { (state.assessor.methods.name(m).get(lang)) } }
            }
            label for="result" { (t(lang, "strip_result")) }
            select id="result" name="result" {
                @for (value, key) in [("", "not_tested"), ("positive", "positive"), ("negative", "negative"), ("inconclusive", "inconclusive")] {
                    option value=(value) { (t(lang, key)) }
                }
            }
            label for="main" { (t(lang, "main_substance")) }
            input id="main" name="main" list="substances";
            label for="other" { (t(lang, "other_substances")) }
            input id="other" name="other";
            label for="amends" { (t(lang, "replaces")) }
            select id="amends" name="amends" {
                option value="" { (t(lang, "none")) }
                @for a in &current { option value=(a.id) { (a.id) ": " (state.assessor.methods.name(a.method).get(lang)) } }
            }
            button type="submit" { (t(lang, "add")) }
        }
        (spectra_section(state, user, stored, lang, spectra))
        (substance_list(state, lang))
    };
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    (
        status,
        crate::http::pages::page(crate::http::pages::staff_layout(
            &user.0,
            lang,
            t(lang, "sample"),
            &format!("/staff/samples/{code}"),
            body,
        )),
    )
        .into_response()
}

/// Spectra attached to the sample's analyses, with the engine's proposals and a form that records them as
/// an analysis amending the one the spectrum belongs to (prefilled, for the technician to correct and
/// confirm); and a form to attach another file.
fn spectra_section(
    state: &AppState,
    user: &SessionUser,
    stored: &varde_store::StoredSample,
    lang: Lang,
    spectra: &[crate::check::spectra::AttachedSpectrum],
) -> Markup {
    let code = stored.sample.code.to_string();
    let with_spectra: Vec<&varde_domain::sample::Analysis> =
        stored.sample.current_analyses().filter(|a| crate::check::spectra::technique_of(a.method).is_some()).collect();
    let name = |id: &str| state.assessor.catalogue.get(id).map_or(id.to_owned(), |s| s.names.get(lang).to_owned());
    let percent = |v: f64| format!("{:.0} %", v * 100.0);
    html! {
        h2 { (t(lang, "spectra")) }
        @for s in spectra {
            @let analysis = stored.sample.analyses.iter().find(|a| a.id == s.analysis_id);
            h3 { (s.filename) " · " (t(lang, "analysis")) " " (s.analysis_id) }
            @if !s.proposals.components.is_empty() {
                table {
                    caption { (t(lang, "proposed_components")) }
                    thead { tr { th scope="col" { (t(lang, "substance")) } th scope="col" { (t(lang, "share")) } th scope="col" { "p" } } }
                    tbody { @for c in &s.proposals.components { tr { td { (name(&c.substance)) } td { (percent(c.fraction)) } td { (format!("{:.0e}", c.p_value)) } } } }
                }
            }
            table {
                caption { (t(lang, "library_matches")) }
                thead { tr { th scope="col" { (t(lang, "substance")) } th scope="col" { (t(lang, "reference")) } th scope="col" { (t(lang, "score")) } } }
                tbody { @for m in &s.proposals.matches { tr { td { (name(&m.substance)) } td { (m.reference) } td { (format!("{:.3}", m.score)) } } } }
            }
            @if let Some(a) = analysis.filter(|a| a.is_current()) {
                @let proposed: Vec<&str> = if s.proposals.components.is_empty() {
                    s.proposals.matches.iter().take(1).map(|m| m.substance.as_str()).collect()
                } else {
                    s.proposals.components.iter().map(|c| c.substance.as_str()).collect()
                };
                form.concern method="post" action={ "/staff/samples/" (code) "/analyses?lang=" (lang.code()) } {
                    input type="hidden" name="csrf" value=(user.0.csrf);
                    input type="hidden" name="method" value=(a.method.as_str());
                    input type="hidden" name="amends" value=(a.id);
                    label for={ "main-" (s.id) } { (t(lang, "main_substance")) }
                    input id={ "main-" (s.id) } name="main" list="substances" value=(proposed.first().copied().unwrap_or(""));
                    label for={ "other-" (s.id) } { (t(lang, "other_substances")) }
                    input id={ "other-" (s.id) } name="other" value=(proposed.iter().skip(1).copied().collect::<Vec<_>>().join(", "));
                    button type="submit" { (t(lang, "confirm_components")) }
                }
            }
        }
        @if with_spectra.is_empty() {
            p { (t(lang, "no_spectrum_analysis")) }
        } @else {
            form.concern method="post" enctype="multipart/form-data" action={ "/staff/samples/" (code) "/spectra?lang=" (lang.code()) } {
                input type="hidden" name="csrf" value=(user.0.csrf);
                label for="spectrum-analysis" { (t(lang, "analysis")) }
                select id="spectrum-analysis" name="analysis" {
                    @for a in &with_spectra { option value=(a.id) { (a.id) ": " (state.assessor.methods.name(a.method).get(lang)) } }
                }
                (crate::check::spectra::file_fields(lang, "spectrum"))
                button type="submit" { (t(lang, "upload")) }
            }
        }
    }
}

/// Attach a spectrum from the sample page.
async fn upload_spectrum(
    State(state): State<AppState>,
    user: SessionUser,
    Path(code): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    multipart: axum::extract::Multipart,
) -> Result<Response, ApiError> {
    let lang = negotiate(q.lang.as_deref(), &headers);
    let (form, stored) = match sample_upload(&state, &user, &code, lang, multipart, "file").await? {
        Ok(upload) => upload,
        Err(refused) => return Ok(refused),
    };
    let (Some(analysis_id), Some(format)) =
        (form.field("analysis").parse().ok(), crate::check::spectra::Format::parse(form.field("format")))
    else {
        return sample_page(&state, &user, &stored, lang, Some(t(lang, "concern_err_other"))).await;
    };
    let upload = crate::check::spectra::Upload {
        analysis_id,
        format,
        filename: if form.file_name.is_empty() { "spectrum".into() } else { form.file_name },
        transmittance: form.fields.contains_key("transmittance"),
    };
    match crate::check::spectra::attach_file(&state, &user.0.principal(), &stored, upload, form.file).await {
        Ok(_) => {
            Ok(Redirect::to(&format!("/staff/samples/{}?lang={}", stored.sample.code, lang.code())).into_response())
        }
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            sample_page(&state, &user, &stored, lang, Some(&e.body.message)).await
        }
        Err(e) => Err(e),
    }
}

async fn sample(
    State(state): State<AppState>,
    user: SessionUser,
    Path(code): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = negotiate(q.lang.as_deref(), &headers);
    if let Some(refused) = technician::technician_only(lang, &user) {
        return Ok(refused);
    }
    let Some(stored) = own_sample(&state, &user, &code).await? else {
        return Ok(ApiError::new(ErrorCode::SampleNotFound, "no sample has that code").into_response());
    };
    sample_page(&state, &user, &stored, lang, None).await
}

/// The sample page's form for another analysis (or an amendment of one).
#[derive(serde::Deserialize)]
pub struct AnalysisForm {
    #[serde(default)]
    csrf: String,
    method: Option<String>,
    result: Option<String>,
    /// The main substance found.
    main: Option<String>,
    /// Others found, comma-separated.
    other: Option<String>,
    /// The analysis this one amends.
    amends: Option<String>,
}

async fn add_analysis(
    State(state): State<AppState>,
    user: SessionUser,
    Path(code): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    Form(f): Form<AnalysisForm>,
) -> Result<Response, ApiError> {
    let lang = negotiate(q.lang.as_deref(), &headers);
    if let Some(refused) = technician::technician_post(lang, &user, &f.csrf)? {
        return Ok(refused);
    }
    let Some(stored) = own_sample(&state, &user, &code).await? else {
        return Ok(ApiError::new(ErrorCode::SampleNotFound, "no sample has that code").into_response());
    };
    // A field left empty is a field not given.
    let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let Some(method) = given(&f.method).as_deref().and_then(Method::parse) else {
        return sample_page(&state, &user, &stored, lang, Some(t(lang, "concern_err_other"))).await;
    };
    let mut components: Vec<ComponentInput> = given(&f.main)
        .into_iter()
        .map(|s| ComponentInput { substance: s, role: ComponentRole::Main, amount: None, confidence: None })
        .collect();
    components.extend(names(&given(&f.other).unwrap_or_default()).into_iter().map(|s| ComponentInput {
        substance: s,
        role: ComponentRole::Adulterant,
        amount: None,
        confidence: None,
    }));
    let input = AnalysisInput {
        method,
        result: given(&f.result).as_deref().and_then(AnalysisResult::parse),
        components: (!method.is_strip()).then_some(components),
        performed_at: None,
        amends: given(&f.amends).and_then(|a| a.parse().ok()),
    };
    match crate::check::samples::record_analysis(&state, &user.0.principal(), &stored, input).await {
        Ok(_) => {
            Ok(Redirect::to(&format!("/staff/samples/{}?lang={}", stored.sample.code, lang.code())).into_response())
        }
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            sample_page(&state, &user, &stored, lang, Some(&e.body.message)).await
        }
        Err(e) => Err(e),
    }
}

#[derive(serde::Deserialize)]
pub struct ListQuery {
    lang: Option<String>,
    status: Option<String>,
}

/// The service's samples, newest first, with a status filter.
async fn list(
    State(state): State<AppState>,
    user: SessionUser,
    Query(q): Query<ListQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = negotiate(q.lang.as_deref(), &headers);
    if let Some(refused) = technician::technician_only(lang, &user) {
        return Ok(refused);
    }
    use varde_domain::sample::Status;
    let statuses = [Status::Received, Status::Screened, Status::Confirmed, Status::Amended];
    let status = statuses.into_iter().find(|s| q.status.as_deref() == Some(s.as_str()));
    let service = user.0.service.clone().expect("technicians have a service");
    let lines = state.app.queries().samples_of(&service, status, 200).await?;
    let body = html! {
        h1 { (t(lang, "samples_list")) }
        form method="get" action="/staff/samples" {
            input type="hidden" name="lang" value=(lang.code());
            label for="status" { (t(lang, "status")) } " "
            select id="status" name="status" {
                option value="" { (t(lang, "all")) }
                @for s in statuses {
                    option value=(s.as_str()) selected[status == Some(s)] { (status_word(s, lang)) }
                }
            }
            " " button type="submit" { (t(lang, "filter")) }
        }
        table {
            thead { tr { th scope="col" { (t(lang, "code")) } th scope="col" { (t(lang, "received")) } th scope="col" { (t(lang, "sold_as")) } th scope="col" { (t(lang, "form")) } th scope="col" { (t(lang, "status")) } th scope="col" { (t(lang, "findings")) } } }
            tbody {
                @for l in &lines {
                    tr {
                        td { a href={ "/staff/samples/" (l.code) "?lang=" (lang.code()) } { (l.code) } }
                        td { time datetime=(l.received) { (crate::http::pages::moment(l.received, lang)) } }
                        td { (l.sold_as.iter().map(|r| state.assessor.catalogue.substance(r).map_or(r.substance.clone(), |s| s.names.get(lang).to_owned())).collect::<Vec<_>>().join(", ")) }
                        td { (varde_domain::alert_text::form_word(l.form, lang)) }
                        td { (status_word(l.status, lang)) }
                        td { @if let Some(tier) = l.highest_tier { span class={ "tier tier-" (tier.as_str()) } { (state.assessor.templates.tier_word(tier).get(lang)) } } }
                    }
                }
            }
        }
    };
    Ok(crate::http::pages::page(crate::http::pages::staff_layout(
        &user.0,
        lang,
        t(lang, "samples_list"),
        "/staff/samples",
        body,
    )))
}

/// The printable card the person takes away: the code, a QR code of the look-up address, the findings, advice and
/// what the methods cannot see, in the chosen language.
async fn card(
    State(state): State<AppState>,
    user: SessionUser,
    Path(code): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = negotiate(q.lang.as_deref(), &headers);
    if let Some(refused) = technician::technician_only(lang, &user) {
        return Ok(refused);
    }
    let Some(stored) = own_sample(&state, &user, &code).await? else {
        return Ok(ApiError::new(ErrorCode::SampleNotFound, "no sample has that code").into_response());
    };
    let code = stored.sample.code.to_string();
    let url = format!("{}/result?code={}&lang={}", state.public_url, code, lang.code());
    let qr = crate::http::pages::qr_svg(&url, 160);
    let public = crate::check::public::public_result(&state, &stored, lang);
    let service = state
        .app
        .queries()
        .service(&stored.sample.service)
        .await?
        .map_or_else(|| stored.sample.service.to_string(), |s| s.name);
    // In plain words: what was found (substances by name, positive strips by what they detect), when and where it
    // was tested, the advice headed by the substances it is about, and 113.
    let catalogue = &state.assessor.catalogue;
    // What was found, as names for the card and as ids (substances, positive strips' methods) for the emergency line.
    let (mut found, mut found_ids): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
    for a in &public.analyses {
        let mut add = |name: String, id: String| {
            if !found.contains(&name) {
                found.push(name);
                found_ids.push(id);
            }
        };
        for c in &a.components {
            add(c.name.clone(), c.component.substance.substance.clone());
        }
        if a.result == Some(AnalysisResult::Positive) {
            add(state.assessor.templates.strip_target(a.method, lang).to_owned(), a.method.as_str().to_owned());
        }
    }
    let advice_for = |class: varde_domain::catalogue::SubstanceClass| -> String {
        let names: Vec<&str> = public
            .analyses
            .iter()
            .flat_map(|a| &a.components)
            .filter(|c| catalogue.substance(&c.component.substance).is_some_and(|s| s.class == class))
            .map(|c| c.name.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        names.join(", ")
    };
    let opioid = varde_domain::alert_text::opioid_involved(
        found_ids.iter().map(String::as_str),
        stored.sample.sold_as.iter().map(|s| s.substance.as_str()),
        catalogue,
    );
    let body = html! {
        div.card {
            h1 { (t(lang, "result_card")) }
            p.code { (code) }
            p { (t(lang, "card_tested").replace("{date}", &crate::http::pages::day(stored.sample.received_at, lang)).replace("{service}", &service)) }
            h2 { (t(lang, "card_found")) }
            p { @if found.is_empty() { (t(lang, "card_nothing_found")) } @else { (found.join(", ")) } }
            (findings(&state, &stored, lang))
            @for a in &public.advice { p { strong { (advice_for(a.class)) } ": " (a.advice) } }
            p.emergency { (t(lang, if opioid { "emergency_opioid" } else { "emergency" })) }
            div role="img" aria-label=(url) { (PreEscaped(qr)) }
            p { (t(lang, "card_lookup")) " " (url) }
            h2 { (t(lang, "limits")) }
            @for a in &public.analyses { p { (a.limits) } }
        }
        p.no-print { a href={ "/staff/samples/" (code) "?lang=" (lang.code()) } { (t(lang, "sample")) } }
    };
    Ok(crate::http::pages::page(crate::http::pages::staff_layout(
        &user.0,
        lang,
        t(lang, "result_card"),
        &format!("/staff/samples/{code}/card"),
        body,
    )))
}

/// Every name the catalogue knows (names in the reader's language, synonyms, street names) for autocomplete.
fn substance_list(state: &AppState, lang: Lang) -> Markup {
    let mut names: Vec<&str> = Vec::new();
    for s in state.assessor.catalogue.substances() {
        names.push(s.names.get(lang));
        names.extend(s.synonyms.iter().map(String::as_str));
        names.extend(s.street_names.iter().map(String::as_str));
    }
    names.sort_unstable_by_key(|n| n.to_lowercase());
    names.dedup();
    html! { datalist id="substances" { @for n in names { option value=(n) {} } } }
}

async fn upload_photo(
    State(state): State<AppState>,
    user: SessionUser,
    Path(code): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    multipart: axum::extract::Multipart,
) -> Result<Response, ApiError> {
    let lang = negotiate(q.lang.as_deref(), &headers);
    let (form, stored) = match sample_upload(&state, &user, &code, lang, multipart, "photo").await? {
        Ok(upload) => upload,
        Err(refused) => return Ok(refused),
    };
    let bytes = form.file;
    match crate::check::photo::strip(&bytes) {
        Ok((jpeg, size)) => {
            state.app.set_photo(stored.sample.code, jpeg, size, &user.0.principal(), jiff::Timestamp::now()).await?;
            Ok(Redirect::to(&format!("/staff/samples/{}?lang={}", stored.sample.code, lang.code())).into_response())
        }
        Err(message) => sample_page(&state, &user, &stored, lang, Some(&message)).await,
    }
}

async fn photo(
    State(state): State<AppState>,
    user: SessionUser,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    if user.0.role != Role::Technician {
        return Err(ApiError::new(ErrorCode::TechnicianOnly, "photos are for the service's technicians"));
    }
    let Some(stored) = own_sample(&state, &user, &code).await? else {
        return Err(ApiError::new(ErrorCode::SampleNotFound, "no sample has that code"));
    };
    let jpeg = state
        .app
        .queries()
        .photo(stored.sample.code)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "this sample has no photo"))?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "image/jpeg"), (axum::http::header::CACHE_CONTROL, "private, no-store")],
        jpeg,
    )
        .into_response())
}

/// A sample's status as the technician reads it.
fn status_word(status: varde_domain::sample::Status, lang: Lang) -> &'static str {
    use varde_domain::sample::Status;
    t(
        lang,
        match status {
            Status::Received => "sample_status_received",
            Status::Screened => "sample_status_screened",
            Status::Confirmed => "sample_status_confirmed",
            Status::Amended => "sample_status_amended",
        },
    )
}
