//! Admins' page: services, users, API tokens, webhook subscribers with their delivery state, and the versions of the
//! risk policy and catalogue in force.

use crate::AppState;
use crate::http::error::ApiError;
use crate::http::i18n::t;
use crate::http::lang::negotiate;
use crate::http::session::SessionUser;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::html;
use std::collections::HashMap;
use varde_domain::Lang;
use varde_domain::auth::Role;
use varde_domain::service::{Service, ServiceKind, ServiceSlug};
use varde_store::NewToken;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/admin", get(page))
        .route("/admin/services", post(add_service))
        .route("/admin/users", post(add_user))
        .route("/admin/tokens", post(issue_token))
        .route("/admin/tokens/{id}/revoke", post(revoke))
        // Reference spectra can be larger than the API's 1 MiB bodies.
        .route("/admin/spectra", post(add_spectrum).layer(axum::extract::DefaultBodyLimit::max(10 << 20)))
}

#[derive(serde::Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

fn admins_only(lang: Lang, user: &SessionUser) -> Option<Response> {
    (user.0.role != Role::Admin).then(|| {
        let body = html! { h1 { (t(lang, "admin")) } p.error role="alert" { (t(lang, "admins_only")) } };
        (
            StatusCode::FORBIDDEN,
            crate::http::pages::page(crate::http::pages::staff_layout(&user.0, lang, t(lang, "admin"), "/admin", body)),
        )
            .into_response()
    })
}

async fn render(
    state: &AppState,
    user: &SessionUser,
    lang: Lang,
    message: Option<maud::Markup>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let services = state.app.queries().services().await?;
    let users = state.app.queries().users().await?;
    let tokens = state.app.queries().tokens().await?;
    let mut hooks = Vec::new();
    for h in state.app.queries().webhooks().await? {
        let (failed, last) = state.app.queries().delivery_status(h.id).await?;
        hooks.push((h, failed, last));
    }
    let references = crate::check::spectra::reference_views(state).await?;
    let csrf = html! { input type="hidden" name="csrf" value=(user.0.csrf); };
    let roles = ["technician", "reviewer", "admin"];
    let service_select = |id: &str| {
        html! {
            select id=(id) name="service" { option value="" { "–" } @for s in &services { option value=(s.slug) { (s.name) } } }
        }
    };
    let oslo = jiff::tz::TimeZone::get("Europe/Oslo").unwrap_or(jiff::tz::TimeZone::UTC);
    let body = html! {
        h1 { (t(lang, "admin")) }
        @if let Some(m) = message { (m) }
        h2 { (t(lang, "policy")) }
        p { "risk-policy.toml " (state.assessor.policy.version) " · substances.toml " (state.assessor.catalogue.version) }
        h2 { (t(lang, "services")) }
        table {
            thead { tr { th scope="col" { "slug" } th scope="col" { (t(lang, "name")) } th scope="col" { (t(lang, "kind")) } th scope="col" { (t(lang, "area")) } } }
            tbody { @for s in &services { tr { td { (s.slug) } td { (s.name) } td { (s.kind.as_str()) } td { (s.kommune) " " (state.assessor.geography.kommune(&s.kommune).map_or("", |k| k.name.as_str())) } } } }
        }
        form.concern method="post" action={ "/admin/services?lang=" (lang.code()) } {
            (csrf)
            label for="slug" { "slug" } input id="slug" name="slug" required;
            label for="sname" { (t(lang, "name")) } input id="sname" name="name" required;
            label for="skind" { (t(lang, "kind")) }
            select id="skind" name="kind" { @for k in ServiceKind::ALL { option value=(k.as_str()) { (k.as_str()) } } }
            label for="skommune" { (t(lang, "concern_kommune")) }
            select id="skommune" name="kommune" { @for k in state.assessor.geography.kommuner() { option value=(k.number) { (k.name) } } }
            button type="submit" { (t(lang, "save")) }
        }
        h2 { (t(lang, "users")) }
        table {
            thead { tr { th scope="col" { (t(lang, "username")) } th scope="col" { (t(lang, "role")) } th scope="col" { (t(lang, "service")) } } }
            tbody { @for (name, role, service, disabled) in &users { tr { td { (name) @if *disabled { " (–)" } } td { (role.as_str()) } td { (service.as_ref().map_or("", |s| s.as_str())) } } } }
        }
        form.concern method="post" action={ "/admin/users?lang=" (lang.code()) } {
            (csrf)
            label for="uname" { (t(lang, "username")) } input id="uname" name="username" required;
            label for="urole" { (t(lang, "role")) } select id="urole" name="role" { @for r in roles { option value=(r) { (r) } } }
            label for="uservice" { (t(lang, "service")) } (service_select("uservice"))
            label for="upassword" { (t(lang, "password")) } input id="upassword" name="password" type="password" autocomplete="new-password" minlength=(varde_domain::auth::MIN_PASSWORD_CHARS) required;
            button type="submit" { (t(lang, "save")) }
        }
        h2 { (t(lang, "tokens")) }
        table {
            thead { tr { th scope="col" { "#" } th scope="col" { (t(lang, "role")) } th scope="col" { (t(lang, "service")) } th scope="col" { (t(lang, "label")) } th scope="col" { "" } } }
            tbody {
                @for tk in &tokens {
                    tr {
                        td { (tk.id) } td { (tk.role.as_str()) } td { (tk.service.as_ref().map_or("", |s| s.as_str())) } td { (tk.label.clone().unwrap_or_default()) }
                        td {
                            @if let Some(r) = tk.revoked { (t(lang, "revoked")) " " (r.to_zoned(oslo.clone()).date()) }
                            @else {
                                form method="post" action={ "/admin/tokens/" (tk.id) "/revoke?lang=" (lang.code()) } { (csrf) button type="submit" aria-label={ (t(lang, "revoke")) " " (tk.id) } { (t(lang, "revoke")) } }
                            }
                        }
                    }
                }
            }
        }
        form.concern method="post" action={ "/admin/tokens?lang=" (lang.code()) } {
            (csrf)
            label for="trole" { (t(lang, "role")) } select id="trole" name="role" { @for r in roles { option value=(r) { (r) } } }
            label for="tservice" { (t(lang, "service")) } (service_select("tservice"))
            label for="tlabel" { (t(lang, "label")) } input id="tlabel" name="label";
            button type="submit" { (t(lang, "issue")) }
        }
        h2 id="spectra" { (t(lang, "reference_spectra")) }
        table {
            thead { tr { th scope="col" { "#" } th scope="col" { (t(lang, "substance")) } th scope="col" { (t(lang, "technique")) } th scope="col" { (t(lang, "name")) } th scope="col" { (t(lang, "source")) } } }
            tbody { @for r in &references { tr { td { (r.id) } td { (r.substance) } td { (r.technique) } td { (r.name) } td { (r.source) } } } }
        }
        form.concern method="post" enctype="multipart/form-data" action={ "/admin/spectra?lang=" (lang.code()) } {
            (csrf)
            label for="rsubstance" { (t(lang, "substance")) }
            select id="rsubstance" name="substance" {
                @for s in state.assessor.catalogue.substances() { option value=(s.id) { (s.names.get(lang)) } }
            }
            label for="rtechnique" { (t(lang, "technique")) }
            select id="rtechnique" name="technique" {
                option value="infrared" { (t(lang, "infrared")) }
                option value="mass" { (t(lang, "mass_spectrum")) }
            }
            label for="rname" { (t(lang, "name")) } input id="rname" name="name";
            label for="rsource" { (t(lang, "source")) } input id="rsource" name="source" required;
            (crate::check::spectra::file_fields(lang, "r"))
            button type="submit" { (t(lang, "upload")) }
        }
        h2 { (t(lang, "webhooks")) }
        table {
            thead { tr { th scope="col" { "#" } th scope="col" { "URL" } th scope="col" { "tier ≥" } th scope="col" { (t(lang, "failed_attempts")) } } }
            tbody { @for (h, failed, last) in &hooks { tr { td { (h.id) } td { (h.url) } td { (h.min_tier.as_str()) } td { (failed) @if let Some(e) = last { " (" (e) ")" } } } } }
        }
    };
    let mut res = (
        status,
        crate::http::pages::page(crate::http::pages::staff_layout(&user.0, lang, t(lang, "admin"), "/admin", body)),
    )
        .into_response();
    res.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    Ok(res)
}

async fn page(
    State(state): State<AppState>,
    user: SessionUser,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = negotiate(q.lang.as_deref(), &headers);
    if let Some(refused) = admins_only(lang, &user) {
        return Ok(refused);
    }
    render(&state, &user, lang, None, StatusCode::OK).await
}

/// Checks the role and the form's CSRF token; gives the language and the form's fields.
fn admin_form(lang: Lang, user: &SessionUser, f: &HashMap<String, String>) -> Result<Option<Response>, ApiError> {
    if let Some(refused) = admins_only(lang, user) {
        return Ok(Some(refused));
    }
    user.check_csrf(f.get("csrf").map_or("", String::as_str))?;
    Ok(None)
}

fn error(message: &str) -> maud::Markup {
    html! { p.error role="alert" { (message) } }
}

fn field<'a>(f: &'a HashMap<String, String>, k: &str) -> &'a str {
    f.get(k).map_or("", |s| s.trim())
}

async fn add_service(
    State(state): State<AppState>,
    user: SessionUser,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let lang = negotiate(q.lang.as_deref(), &headers);
    if let Some(r) = admin_form(lang, &user, &f)? {
        return Ok(r);
    }
    let service = match Service::new(
        field(&f, "slug"),
        field(&f, "name"),
        field(&f, "kind"),
        field(&f, "kommune"),
        &state.assessor.geography,
    ) {
        Ok(s) => s,
        Err(e) => return render(&state, &user, lang, Some(error(&e.message)), StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    match state.app.add_service(service, &user.0.principal().actor, jiff::Timestamp::now()).await {
        Ok(()) => Ok(Redirect::to(&format!("/admin?lang={}", lang.code())).into_response()),
        Err(varde_store::StoreError::Conflict(m)) => {
            render(&state, &user, lang, Some(error(&m)), StatusCode::CONFLICT).await
        }
        Err(e) => Err(e.into()),
    }
}

fn role_and_service(f: &HashMap<String, String>) -> Result<(Role, Option<ServiceSlug>), String> {
    let role = Role::parse(field(f, "role")).ok_or("unknown role")?;
    let service = Some(field(f, "service")).filter(|s| !s.is_empty());
    match (role, service) {
        (Role::Technician, None) => Err("a technician belongs to a service".into()),
        (Role::Technician, Some(s)) => Ok((role, Some(ServiceSlug::parse(s).map_err(|e| e.to_string())?))),
        (_, Some(_)) => Err("only technicians belong to a service".into()),
        (_, None) => Ok((role, None)),
    }
}

async fn add_user(
    State(state): State<AppState>,
    user: SessionUser,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let lang = negotiate(q.lang.as_deref(), &headers);
    if let Some(r) = admin_form(lang, &user, &f)? {
        return Ok(r);
    }
    let (role, service) = match role_and_service(&f) {
        Ok(x) => x,
        Err(m) => return render(&state, &user, lang, Some(error(&m)), StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    let password = f.get("password").map_or("", String::as_str);
    let name = match varde_domain::auth::check_username(field(&f, "username")) {
        Ok(name) => name,
        Err(e) => return render(&state, &user, lang, Some(error(&e.message)), StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    if !varde_domain::auth::password_long_enough(password) {
        return render(
            &state,
            &user,
            lang,
            Some(error(&format!("a password has at least {} characters", varde_domain::auth::MIN_PASSWORD_CHARS))),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let hash = crate::http::session::hash_password_off_runtime(password.to_owned()).await?;
    match state.app.add_user(&name, &hash, role, service, &user.0.principal().actor, jiff::Timestamp::now()).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin?lang={}", lang.code())).into_response()),
        Err(varde_store::StoreError::Conflict(m)) => {
            render(&state, &user, lang, Some(error(&m)), StatusCode::CONFLICT).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn issue_token(
    State(state): State<AppState>,
    user: SessionUser,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let lang = negotiate(q.lang.as_deref(), &headers);
    if let Some(r) = admin_form(lang, &user, &f)? {
        return Ok(r);
    }
    let (role, service) = match role_and_service(&f) {
        Ok(x) => x,
        Err(m) => return render(&state, &user, lang, Some(error(&m)), StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    let secret = crate::http::tokens::generate(&mut rand::rng());
    let label = Some(field(&f, "label").to_owned()).filter(|l| !l.is_empty());
    let token = NewToken { hash: crate::http::tokens::hash(&secret), role, service, label };
    state.app.add_token(token, &user.0.principal().actor, jiff::Timestamp::now()).await?;
    let shown = html! { p.notice role="status" { (t(lang, "token_once")) " " code.token { (secret) } } };
    render(&state, &user, lang, Some(shown), StatusCode::OK).await
}

async fn revoke(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let lang = negotiate(q.lang.as_deref(), &headers);
    if let Some(r) = admin_form(lang, &user, &f)? {
        return Ok(r);
    }
    state.app.revoke_token(id, &user.0.principal().actor, jiff::Timestamp::now()).await?;
    Ok(Redirect::to(&format!("/admin?lang={}", lang.code())).into_response())
}

async fn add_spectrum(
    State(state): State<AppState>,
    user: SessionUser,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    multipart: axum::extract::Multipart,
) -> Result<Response, ApiError> {
    let lang = negotiate(q.lang.as_deref(), &headers);
    let form = crate::http::extract::UploadForm::read(multipart, "file").await?;
    let f = &form.fields;
    if let Some(refused) = admin_form(lang, &user, f)? {
        return Ok(refused);
    }
    let technique = match field(f, "technique") {
        "infrared" => Some(crate::check::spectra::TechniqueParam::Infrared),
        "mass" => Some(crate::check::spectra::TechniqueParam::Mass),
        _ => None,
    };
    let (Some(technique), Some(format)) = (technique, crate::check::spectra::Format::parse(field(f, "format"))) else {
        let message = error(t(lang, "concern_err_other"));
        return render(&state, &user, lang, Some(message), StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let params = crate::check::spectra::ReferenceParams {
        substance: field(f, "substance").to_owned(),
        technique,
        format,
        name: Some(field(f, "name").to_owned()),
        source: field(f, "source").to_owned(),
        transmittance: f.contains_key("transmittance"),
    };
    match crate::check::spectra::store_reference(&state, &user.0.principal(), params, &form.file).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin?lang={}#spectra", lang.code())).into_response()),
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            render(&state, &user, lang, Some(error(&e.body.message)), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e),
    }
}
