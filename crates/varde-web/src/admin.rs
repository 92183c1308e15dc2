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
        .route("/admin/users/{username}/end-sessions", post(end_sessions))
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

/// The service form, as typed.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct ServiceFields {
    csrf: String,
    slug: String,
    name: String,
    kind: String,
    kommune: String,
}

/// The user form, as typed (the password is never sent back).
#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct UserFields {
    csrf: String,
    username: String,
    password: String,
    role: String,
    service: String,
}

/// The token form, as typed.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct TokenFields {
    csrf: String,
    role: String,
    service: String,
    label: String,
    /// "read" for a read-only token; anything else reads and writes.
    access: String,
    /// Days until it expires ("never" for none); 90 when not given.
    expires: String,
}

/// The expiry choices the admin page offers, in days ("never": an integration an admin chose not to renew).
const TOKEN_EXPIRIES: [&str; 4] = ["30", "90", "365", "never"];

/// A form with nothing but its CSRF token (revoking a token).
#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct CsrfOnly {
    csrf: String,
}

/// What a refused form is shown again with: the page never loses what an admin typed.
#[derive(Default)]
struct Kept<'a> {
    service: Option<&'a ServiceFields>,
    user: Option<&'a UserFields>,
    token: Option<&'a TokenFields>,
}

async fn render(
    state: &AppState,
    user: &SessionUser,
    lang: Lang,
    message: Option<maud::Markup>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    render_kept(state, user, lang, message, status, Kept::default()).await
}

async fn render_kept(
    state: &AppState,
    user: &SessionUser,
    lang: Lang,
    message: Option<maud::Markup>,
    status: StatusCode,
    kept: Kept<'_>,
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
    let service_select = |id: &str, chosen: &str| {
        html! {
            select id=(id) name="service" {
                option value="" { "–" }
                @for s in &services { option value=(s.slug) selected[s.slug.as_str() == chosen] { (s.name) } }
            }
        }
    };
    let role_select = |id: &str, chosen: &str| {
        html! { select id=(id) name="role" { @for r in roles { option value=(r) selected[r == chosen] { (r) } } } }
    };
    let (sv, uv, tv) = (kept.service, kept.user, kept.token);
    let typed = |v: Option<&str>| v.unwrap_or("").to_owned();
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
            label for="slug" { "slug" } input id="slug" name="slug" required value=(typed(sv.map(|v| v.slug.as_str())));
            label for="sname" { (t(lang, "name")) } input id="sname" name="name" required value=(typed(sv.map(|v| v.name.as_str())));
            label for="skind" { (t(lang, "kind")) }
            select id="skind" name="kind" { @for k in ServiceKind::ALL { option value=(k.as_str()) selected[sv.is_some_and(|v| v.kind == k.as_str())] { (k.as_str()) } } }
            label for="skommune" { (t(lang, "concern_kommune")) }
            select id="skommune" name="kommune" { @for k in state.assessor.geography.kommuner() { option value=(k.number) selected[sv.is_some_and(|v| v.kommune == k.number)] { (k.name) } } }
            button type="submit" { (t(lang, "save")) }
        }
        h2 { (t(lang, "users")) }
        table {
            thead { tr { th scope="col" { (t(lang, "username")) } th scope="col" { (t(lang, "role")) } th scope="col" { (t(lang, "service")) } th scope="col" { (t(lang, "sessions")) } } }
            tbody {
                @for (name, role, service, disabled) in &users {
                    tr {
                        td { (name) @if *disabled { " (–)" } }
                        td { (role.as_str()) }
                        td { (service.as_ref().map_or("", |s| s.as_str())) }
                        td {
                            form method="post" action={ "/admin/users/" (name) "/end-sessions?lang=" (lang.code()) } {
                                (csrf)
                                button type="submit" aria-label={ (t(lang, "end_sessions")) " " (name) } { (t(lang, "end_sessions")) }
                            }
                        }
                    }
                }
            }
        }
        form.concern method="post" action={ "/admin/users?lang=" (lang.code()) } {
            (csrf)
            label for="uname" { (t(lang, "username")) } input id="uname" name="username" required value=(typed(uv.map(|v| v.username.as_str())));
            label for="urole" { (t(lang, "role")) } (role_select("urole", uv.map_or("", |v| v.role.as_str())))
            label for="uservice" { (t(lang, "service")) } (service_select("uservice", uv.map_or("", |v| v.service.as_str())))
            label for="upassword" { (t(lang, "password")) } input id="upassword" name="password" type="password" autocomplete="new-password" minlength=(varde_domain::auth::MIN_PASSWORD_CHARS) required;
            button type="submit" { (t(lang, "save")) }
        }
        h2 { (t(lang, "tokens")) }
        table {
            thead { tr {
                th scope="col" { "#" } th scope="col" { (t(lang, "role")) } th scope="col" { (t(lang, "service")) } th scope="col" { (t(lang, "label")) }
                th scope="col" { (t(lang, "token_access")) } th scope="col" { (t(lang, "token_expires")) } th scope="col" { (t(lang, "token_last_used")) } th scope="col" { "" }
            } }
            tbody {
                @for tk in &tokens {
                    tr {
                        td { (tk.id) } td { (tk.role.as_str()) } td { (tk.service.as_ref().map_or("", |s| s.as_str())) } td { (tk.label.clone().unwrap_or_default()) }
                        td { (t(lang, if tk.read_only { "token_read" } else { "token_read_write" })) }
                        td { @match tk.expires { Some(e) => (crate::http::pages::day(e, lang)), None => (t(lang, "token_never")) } }
                        td { @match tk.last_used { Some(u) => (crate::http::pages::moment(u, lang)), None => "–" } }
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
            label for="trole" { (t(lang, "role")) } (role_select("trole", tv.map_or("", |v| v.role.as_str())))
            label for="tservice" { (t(lang, "service")) } (service_select("tservice", tv.map_or("", |v| v.service.as_str())))
            label for="tlabel" { (t(lang, "label")) } input id="tlabel" name="label" value=(typed(tv.map(|v| v.label.as_str())));
            label for="taccess" { (t(lang, "token_access")) }
            select id="taccess" name="access" {
                @for (value, key) in [("write", "token_read_write"), ("read", "token_read")] {
                    @if tv.is_some_and(|v| v.access == value) { option value=(value) selected { (t(lang, key)) } }
                    @else { option value=(value) { (t(lang, key)) } }
                }
            }
            label for="texpires" { (t(lang, "token_expires")) }
            select id="texpires" name="expires" {
                @for value in TOKEN_EXPIRIES {
                    @let chosen = tv.map_or("90", |v| if v.expires.is_empty() { "90" } else { v.expires.as_str() }) == value;
                    @let text = if value == "never" { t(lang, "token_never").to_owned() } else { t(lang, "token_days").replace("{n}", value) };
                    @if chosen { option value=(value) selected { (text) } } @else { option value=(value) { (text) } }
                }
            }
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

/// Checks the role and the form's CSRF token: `Ok(Some(page))` is the refusal to answer with.
fn admin_form(lang: Lang, user: &SessionUser, csrf: &str) -> Result<Option<Response>, ApiError> {
    if let Some(refused) = admins_only(lang, user) {
        return Ok(Some(refused));
    }
    user.check_csrf(csrf)?;
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
    Form(f): Form<ServiceFields>,
) -> Result<Response, ApiError> {
    let lang = negotiate(q.lang.as_deref(), &headers);
    if let Some(r) = admin_form(lang, &user, &f.csrf)? {
        return Ok(r);
    }
    let again = |message: &str, status| {
        render_kept(&state, &user, lang, Some(error(message)), status, Kept { service: Some(&f), ..Kept::default() })
    };
    let service =
        match Service::new(f.slug.trim(), f.name.trim(), f.kind.trim(), f.kommune.trim(), &state.assessor.geography) {
            Ok(s) => s,
            Err(e) => return again(&e.message, StatusCode::UNPROCESSABLE_ENTITY).await,
        };
    match state.app.add_service(service, &user.0.principal().actor, jiff::Timestamp::now()).await {
        Ok(()) => Ok(Redirect::to(&format!("/admin?lang={}", lang.code())).into_response()),
        Err(varde_store::StoreError::Conflict(m)) => again(&m, StatusCode::CONFLICT).await,
        Err(e) => Err(e.into()),
    }
}

fn role_and_service(role: &str, service: &str) -> Result<(Role, Option<ServiceSlug>), String> {
    let role = Role::parse(role.trim()).ok_or("unknown role")?;
    let service = Some(service.trim()).filter(|s| !s.is_empty());
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
    Form(f): Form<UserFields>,
) -> Result<Response, ApiError> {
    let lang = negotiate(q.lang.as_deref(), &headers);
    if let Some(r) = admin_form(lang, &user, &f.csrf)? {
        return Ok(r);
    }
    let again = |message: &str, status| {
        render_kept(&state, &user, lang, Some(error(message)), status, Kept { user: Some(&f), ..Kept::default() })
    };
    let (role, service) = match role_and_service(&f.role, &f.service) {
        Ok(x) => x,
        Err(m) => return again(&m, StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    let name = match varde_domain::auth::check_username(f.username.trim()) {
        Ok(name) => name,
        Err(e) => return again(&e.message, StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    if !varde_domain::auth::password_long_enough(&f.password) {
        let message = format!("a password has at least {} characters", varde_domain::auth::MIN_PASSWORD_CHARS);
        return again(&message, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let hash = crate::http::session::hash_password_off_runtime(f.password.clone()).await?;
    match state.app.add_user(&name, &hash, role, service, &user.0.principal().actor, jiff::Timestamp::now()).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin?lang={}", lang.code())).into_response()),
        Err(varde_store::StoreError::Conflict(m)) => again(&m, StatusCode::CONFLICT).await,
        Err(e) => Err(e.into()),
    }
}

async fn issue_token(
    State(state): State<AppState>,
    user: SessionUser,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    Form(f): Form<TokenFields>,
) -> Result<Response, ApiError> {
    let lang = negotiate(q.lang.as_deref(), &headers);
    if let Some(r) = admin_form(lang, &user, &f.csrf)? {
        return Ok(r);
    }
    let (role, service) = match role_and_service(&f.role, &f.service) {
        Ok(x) => x,
        Err(m) => {
            let kept = Kept { token: Some(&f), ..Kept::default() };
            return render_kept(&state, &user, lang, Some(error(&m)), StatusCode::UNPROCESSABLE_ENTITY, kept).await;
        }
    };
    let secret = crate::http::tokens::generate(&mut rand::rng());
    let label = Some(f.label.trim().to_owned()).filter(|l| !l.is_empty());
    let now = jiff::Timestamp::now();
    let expires = match f.expires.as_str() {
        "never" => None,
        "" => Some(varde_domain::auth::TOKEN_DAYS_DEFAULT),
        days => match days.parse::<u32>().ok().filter(|d| (1..=varde_domain::auth::TOKEN_DAYS_MAX).contains(d)) {
            Some(d) => Some(d),
            None => {
                let message = format!("a token expires in 1 to {} days, or never", varde_domain::auth::TOKEN_DAYS_MAX);
                let kept = Kept { token: Some(&f), ..Kept::default() };
                return render_kept(&state, &user, lang, Some(error(&message)), StatusCode::UNPROCESSABLE_ENTITY, kept)
                    .await;
            }
        },
    };
    let token = NewToken {
        hash: crate::http::tokens::hash(&secret),
        role,
        service,
        label,
        read_only: f.access == "read",
        expires: expires.map(|days| now + jiff::SignedDuration::from_hours(24 * i64::from(days))),
    };
    state.app.add_token(token, &user.0.principal().actor, now).await?;
    let shown = html! { p.notice role="status" { (t(lang, "token_once")) " " code.token { (secret) } } };
    render(&state, &user, lang, Some(shown), StatusCode::OK).await
}

/// Ends every session of a user (audited); they log in again.
async fn end_sessions(
    State(state): State<AppState>,
    user: SessionUser,
    Path(username): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, ApiError> {
    let lang = negotiate(q.lang.as_deref(), &headers);
    if let Some(r) = admin_form(lang, &user, &f.csrf)? {
        return Ok(r);
    }
    state.app.end_user_sessions(&username, &user.0.principal(), jiff::Timestamp::now()).await?;
    let done = html! { p.notice role="status" { (t(lang, "sessions_ended")) " " strong { (username) } } };
    render(&state, &user, lang, Some(done), StatusCode::OK).await
}

async fn revoke(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, ApiError> {
    let lang = negotiate(q.lang.as_deref(), &headers);
    if let Some(r) = admin_form(lang, &user, &f.csrf)? {
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
    if let Some(refused) = admin_form(lang, &user, f.get("csrf").map_or("", String::as_str))? {
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
