//! The pages: login, today, the case list, a new referral, a case's timeline with its forms, letters, notices, the
//! right of access, and the unit lead's counts.

use crate::i18n::{Lang, fill, t};
use crate::{
    LOGIN_COOKIE, Member, Unit, check_login, cookie, end_session, random_token, same, set_cookie, start_session, today,
};
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use jiff::civil::{Date, DateTime};
use maud::{DOCTYPE, Markup, html};
use varde_advisory::case::{
    Action, Attendance, Case, Conditions, HelpKind, Meeting, NoticeKind, Offer, Outreach, Person, Recorded, Referral,
    TestEvent, Topic, actions, notice_due,
};
use varde_advisory_store::{Error, QuarterCounts, Role};
use varde_domain::privacy::suppress;

pub(crate) fn routes() -> Router<Unit> {
    Router::new()
        .route("/advisory", get(today_page))
        .route("/advisory/login", get(login_form).post(login))
        .route("/advisory/logout", post(logout))
        .route("/advisory/cases", get(case_list).post(open_case))
        .route("/advisory/cases/new", get(new_case))
        .route("/advisory/cases/{id}", get(case_page))
        .route("/advisory/cases/{id}/record", post(record))
        .route("/advisory/cases/{id}/notice", post(make_notice))
        .route("/advisory/cases/{id}/letter/{n}", get(letter))
        .route("/advisory/cases/{id}/notice/{n}", get(notice_page))
        .route("/advisory/cases/{id}/access", get(access))
        .route("/advisory/counts", get(counts_page))
        .route("/advisory/counts.csv", get(counts_csv))
        .route("/advisory/style.css", get(style))
}

async fn style() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")], STYLE)
        .into_response()
}

#[derive(serde::Deserialize, Default)]
pub(crate) struct LangQuery {
    lang: Option<String>,
}

pub(crate) fn lang(q: &LangQuery, headers: &HeaderMap) -> Lang {
    crate::i18n::negotiate(q.lang.as_deref(), headers)
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:52rem;margin:0 auto;padding:1rem;line-height:1.5;color:#1a1a1a}\
a{color:#0b4f8a}nav a{margin-right:1rem}label{display:block;margin-top:.6rem}input,select{font-size:1rem;padding:.3rem}\
button{font-size:1rem;padding:.4rem .9rem;margin-top:.6rem}table{border-collapse:collapse}td,th{border:1px solid #999;padding:.25rem .5rem;text-align:left}\
.error{background:#fde8e8;border-left:4px solid #a61b1b;padding:.5rem}.demo{background:#fff4d6;padding:.4rem}\
fieldset{margin-top:1rem}@media print{nav,form,.noprint{display:none}}";

pub(crate) fn layout(lang: Lang, title: &str, member: Option<&Member>, unit: &Unit, body: Markup) -> Response {
    layout_going_on(lang, title, member, unit, None, body)
}

/// [`layout`] for a page that sends the browser on to `to` at once (`<meta http-equiv="refresh">`; the module runs
/// no script): the end of a sign-in at an identity provider, where the session cookie (`SameSite=Strict`) is sent only
/// on a navigation this site starts.
pub(crate) fn layout_going_on(
    lang: Lang,
    title: &str,
    member: Option<&Member>,
    unit: &Unit,
    to: Option<&str>,
    body: Markup,
) -> Response {
    let page = html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex";
                title { (title) " – " (t(lang, "unit")) }
                link rel="stylesheet" href="/advisory/style.css";
                @if let Some(to) = to { meta http-equiv="refresh" content={ "0; url=" (to) }; }
            }
            body {
                header {
                    p { strong { (t(lang, "unit")) } }
                    @if let Some(m) = member {
                        nav aria-label=(t(lang, "unit")) {
                            a href={ "/advisory?lang=" (lang.code()) } { (t(lang, "today")) }
                            a href={ "/advisory/cases?lang=" (lang.code()) } { (t(lang, "cases")) }
                            a href={ "/advisory/cases/new?lang=" (lang.code()) } { (t(lang, "new_referral")) }
                            @if m.user.role == Role::Lead {
                                a href={ "/advisory/counts?lang=" (lang.code()) } { (t(lang, "counts")) }
                            }
                            a href={ "/advisory/passkeys?lang=" (lang.code()) } { (varde_http::passkeys::text(lang.code(), "title")) }
                        }
                        form method="post" action="/advisory/logout" {
                            input type="hidden" name="csrf" value=(m.csrf);
                            button type="submit" { (t(lang, "logout")) " (" (m.user.username) ")" }
                        }
                    }
                    p.noprint {
                        @for l in Lang::ALL {
                            a href={ "?lang=" (l.code()) } lang=(l.code()) { (l.code()) } " "
                        }
                    }
                    @if unit.settings.demo { p.demo { (t(lang, "synthetic")) } }
                }
                main { (body) }
            }
        }
    };
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], page.into_string())
        .into_response()
}

/// A refused form: the stable code and its text, 422, nothing stored.
fn refused(lang: Lang, unit: &Unit, member: &Member, code: &str) -> Response {
    let body = html! {
        h1 { (t(lang, "error")) }
        p.error role="alert" data-code=(code) { (t(lang, &format!("err_{code}"))) " (" code { (code) } ")" }
        p { a href={ "/advisory?lang=" (lang.code()) } { (t(lang, "today")) } }
    };
    (StatusCode::UNPROCESSABLE_ENTITY, layout(lang, &t(lang, "error"), Some(member), unit, body)).into_response()
}

fn store_failed(e: Error, lang: Lang, unit: &Unit, member: &Member) -> Response {
    match e {
        Error::Invalid(e) => refused(lang, unit, member, e.code()),
        Error::UnknownCase => StatusCode::NOT_FOUND.into_response(),
        e => {
            tracing::error!(error = %e, "advisory store failed");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

pub(crate) async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.expect("a store call does not panic")
}

// --- Login -----------------------------------------------------------------------------------------------------

#[derive(serde::Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    csrf: String,
}

async fn login_form(State(unit): State<Unit>, Query(q): Query<LangQuery>, headers: HeaderMap) -> Response {
    login_page(&unit, lang(&q, &headers), false)
}

fn login_page(unit: &Unit, lang: Lang, failed: bool) -> Response {
    let token = random_token();
    let body = html! {
        h1 { (t(lang, "login")) }
        @if failed { p.error role="alert" { (t(lang, "login_failed")) } }
        form method="post" action={ "/advisory/login?lang=" (lang.code()) } {
            input type="hidden" name="csrf" value=(token);
            label { (t(lang, "username")) input name="username" autocomplete="username" required autofocus; }
            label { (t(lang, "password")) input name="password" type="password" autocomplete="current-password" required; }
            button type="submit" { (t(lang, "login")) }
        }
        // Members whose kommune signs them in (`--advisory-oidc`): one plain link per identity provider.
        @if !unit.settings.issuers.is_empty() {
            ul.sign-in {
                @for (name, label) in unit.settings.issuers.buttons() {
                    li { a href={ "/advisory/login/oidc/" (name) "?lang=" (lang.code()) } { (varde_http::oidc::text(lang.code(), "with")) " " (label) } }
                }
            }
        }
    };
    let mut res = layout(lang, &t(lang, "login"), None, unit, body);
    if failed {
        *res.status_mut() = StatusCode::UNAUTHORIZED;
    }
    res.headers_mut().append(header::SET_COOKIE, set_cookie(unit, LOGIN_COOKIE, &token, 3600));
    res
}

async fn login(
    State(unit): State<Unit>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    crate::Peer(peer): crate::Peer,
    Form(form): Form<LoginForm>,
) -> Response {
    let lang = lang(&q, &headers);
    if !cookie(&headers, LOGIN_COOKIE).is_some_and(|c| same(&c, &form.csrf)) {
        return (StatusCode::FORBIDDEN, "csrf_failed").into_response();
    }
    let attempt = crate::Try::new(&form.username, peer);
    match attempt.locked(&unit).await {
        Ok(false) => {}
        Ok(true) => {
            let mut res = login_page(&unit, lang, true);
            *res.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            return res;
        }
        Err(_) => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
    let Some(user) = check_login(&unit, form.username, form.password).await else {
        if attempt.failed(&unit).await.is_err() {
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
        return login_page(&unit, lang, true);
    };
    // Every member gives a second factor (the module holds fødselsnumre), except in the synthetic demo, so that its
    // printed logins work at once; a member who has enrolled is asked in the demo too.
    let (store, id) = (unit.store.clone(), user.id);
    let enrolled = match blocking(move || store.totp_secret(id)).await {
        Ok(secret) => secret.is_some(),
        Err(_) => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
    };
    let second = enrolled || !unit.settings.demo;
    match start_session(&unit, &user, !second).await {
        Ok(cookie) => {
            let to = if second { crate::SECOND_FACTOR_PAGE } else { "/advisory" };
            let to = format!("{to}?lang={}", lang.code());
            let mut res = Redirect::to(&to).into_response();
            res.headers_mut().append(header::SET_COOKIE, cookie);
            res
        }
        Err(res) => res,
    }
}

#[derive(serde::Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout(State(unit): State<Unit>, member: Member, headers: HeaderMap, Form(form): Form<CsrfForm>) -> Response {
    if let Err(e) = member.check_csrf(&form.csrf) {
        return e.into_response();
    }
    end_session(&unit, &headers).await;
    let mut res = Redirect::to("/advisory/login").into_response();
    res.headers_mut().append(header::SET_COOKIE, set_cookie(&unit, crate::COOKIE, "", 0));
    res
}

// --- Today and the case list -------------------------------------------------------------------------------------

async fn cases_of(unit: &Unit, member: &Member) -> Result<Vec<Case>, Error> {
    let (store, kommune) = (unit.store.clone(), member.user.kommune.clone());
    blocking(move || store.cases(&kommune)).await
}

fn action_text(lang: Lang, a: Action) -> String {
    t(
        lang,
        match a {
            Action::NoResponse => "action_no_response",
            Action::DeadlineNear => "action_deadline_near",
            Action::NoticeDue => "action_notice_due",
        },
    )
}

fn case_link(lang: Lang, c: &Case) -> Markup {
    html! { a href={ "/advisory/cases/" (c.id) "?lang=" (lang.code()) } { (c.person.name) } " (" (c.referral.case_reference) ")" }
}

async fn today_page(
    State(unit): State<Unit>,
    member: Member,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang(&q, &headers);
    let cases = match cases_of(&unit, &member).await {
        Ok(c) => c,
        Err(e) => return store_failed(e, lang, &unit, &member),
    };
    let day = today();
    let mut meetings: Vec<(DateTime, &Case, String)> = cases
        .iter()
        .flat_map(|c| {
            c.recorded.iter().filter_map(move |r| match r {
                Recorded::Invitation { at, place } if at.date() == day => Some((*at, c, place.clone())),
                _ => None,
            })
        })
        .collect();
    meetings.sort_by_key(|(at, _, _)| *at);
    let needing: Vec<(&Case, Vec<Action>)> = cases
        .iter()
        .map(|c| (c, actions(&c.referral.conditions, &c.recorded, day)))
        .filter(|(_, a)| !a.is_empty())
        .collect();
    let body = html! {
        h1 { (t(lang, "today")) " " (day) }
        h2 { (t(lang, "todays_meetings")) }
        @if meetings.is_empty() { p { (t(lang, "no_meetings_today")) } }
        ul { @for (at, c, place) in &meetings { li { (format!("{:02}:{:02}", at.hour(), at.minute())) " " (case_link(lang, c)) ", " (place) } } }
        h2 { (t(lang, "needs_action")) }
        @if needing.is_empty() { p { (t(lang, "nothing_needs_action")) } }
        ul { @for (c, a) in &needing { li { (case_link(lang, c)) ": " (a.iter().map(|x| action_text(lang, *x)).collect::<Vec<_>>().join("; ")) } } }
    };
    layout(lang, &t(lang, "today"), Some(&member), &unit, body)
}

async fn case_list(
    State(unit): State<Unit>,
    member: Member,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang(&q, &headers);
    let cases = match cases_of(&unit, &member).await {
        Ok(c) => c,
        Err(e) => return store_failed(e, lang, &unit, &member),
    };
    let body = html! {
        h1 { (t(lang, "cases")) }
        table {
            thead { tr { th scope="col" { (t(lang, "name")) } th scope="col" { (t(lang, "decision_date")) } th scope="col" { (t(lang, "period_end")) } } }
            tbody { @for c in &cases { tr { td { (case_link(lang, c)) } td { (long_date(lang, c.referral.decision_date)) } td { (long_date(lang, c.referral.conditions.period_end)) } } } }
        }
    };
    layout(lang, &t(lang, "cases"), Some(&member), &unit, body)
}

// --- A new referral ----------------------------------------------------------------------------------------------

async fn new_case(
    State(unit): State<Unit>,
    member: Member,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang(&q, &headers);
    let empty = CaseForm { meetings: "1".into(), ..CaseForm::default() };
    case_form(lang, &unit, &member, &empty, None)
}

/// The referral form, filled with `f`; after a refusal it says what to fix above the form and keeps everything
/// typed, so a caseworker corrects one digit instead of typing a case again.
fn case_form(lang: Lang, unit: &Unit, member: &Member, f: &CaseForm, error: Option<&str>) -> Response {
    let body = html! {
        h1 { (t(lang, "new_referral")) }
        @if let Some(code) = error {
            p.error role="alert" data-code=(code) { (t(lang, &format!("err_{code}"))) }
        }
        form method="post" action={ "/advisory/cases?lang=" (lang.code()) } {
            input type="hidden" name="csrf" value=(member.csrf);
            fieldset {
                legend { (t(lang, "stored_referral")) }
                label { (t(lang, "case_reference")) input name="case_reference" required maxlength="40" value=(f.case_reference); }
                label { (t(lang, "decision_date")) input name="decision_date" type="date" required value=(f.decision_date); }
                label { (t(lang, "meetings_required")) input name="meetings" type="number" min="1" max="20" value=(f.meetings); }
                label { (t(lang, "tests_required")) input name="tests" type="number" min="1" max="100" value=(f.tests); }
                label { (t(lang, "period_start")) input name="period_start" type="date" required value=(f.period_start); }
                label { (t(lang, "period_end")) input name="period_end" type="date" required value=(f.period_end); }
            }
            fieldset {
                legend { (t(lang, "stored_person")) }
                label { (t(lang, "name")) input name="name" required autocomplete="off" value=(f.name); }
                label { (t(lang, "fnr")) input name="fnr" inputmode="numeric" autocomplete="off" value=(f.fnr); }
                label { (t(lang, "birth_date")) input name="birth_date" type="date" value=(f.birth_date); }
                label { (t(lang, "contact")) input name="contact" autocomplete="off" value=(f.contact); }
                label { (t(lang, "guardian")) input name="guardian" autocomplete="off" value=(f.guardian); }
            }
            button type="submit" { (t(lang, "save")) }
        }
    };
    layout(lang, &t(lang, "new_referral"), Some(member), unit, body)
}

#[derive(serde::Deserialize, Default)]
struct CaseForm {
    csrf: String,
    case_reference: String,
    decision_date: String,
    #[serde(default)]
    meetings: String,
    #[serde(default)]
    tests: String,
    period_start: String,
    period_end: String,
    name: String,
    #[serde(default)]
    fnr: String,
    #[serde(default)]
    birth_date: String,
    #[serde(default)]
    contact: String,
    #[serde(default)]
    guardian: String,
}

fn date(s: &str) -> Result<Date, &'static str> {
    s.trim().parse().map_err(|_| "invalid_date")
}

fn optional_date(s: &str) -> Result<Option<Date>, &'static str> {
    if s.trim().is_empty() { Ok(None) } else { date(s).map(Some) }
}

fn optional_count(s: &str) -> Result<Option<u8>, &'static str> {
    if s.trim().is_empty() { Ok(None) } else { s.trim().parse().map(Some).map_err(|_| "invalid_number") }
}

fn parse_case(f: &CaseForm) -> Result<(Referral, Person), String> {
    let bad = |c: &str| c.to_owned();
    let referral = Referral {
        case_reference: f.case_reference.trim().to_owned(),
        decision_date: date(&f.decision_date).map_err(bad)?,
        conditions: Conditions {
            meetings: optional_count(&f.meetings).map_err(bad)?,
            tests: optional_count(&f.tests).map_err(bad)?,
            period_start: date(&f.period_start).map_err(bad)?,
            period_end: date(&f.period_end).map_err(bad)?,
        },
    };
    let birth = optional_date(&f.birth_date).map_err(bad)?;
    let fnr = Some(f.fnr.as_str()).filter(|s| !s.trim().is_empty());
    let guardian = Some(f.guardian.as_str()).filter(|s| !s.trim().is_empty());
    let person = Person::new(&f.name, fnr, birth, &f.contact, guardian).map_err(|e| e.code().to_owned())?;
    Ok((referral, person))
}

async fn open_case(
    State(unit): State<Unit>,
    member: Member,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    Form(form): Form<CaseForm>,
) -> Response {
    let lang = lang(&q, &headers);
    if let Err(e) = member.check_csrf(&form.csrf) {
        return e.into_response();
    }
    let (referral, person) = match parse_case(&form) {
        Ok(x) => x,
        Err(code) => {
            let mut page = case_form(lang, &unit, &member, &form, Some(&code));
            *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            return page;
        }
    };
    let (store, kommune, actor) = (unit.store.clone(), member.user.kommune.clone(), member.user.username.clone());
    match blocking(move || store.open_case(&kommune, &referral, &person, &actor, today())).await {
        Ok(id) => Redirect::to(&format!("/advisory/cases/{id}?lang={}", lang.code())).into_response(),
        Err(e) => store_failed(e, lang, &unit, &member),
    }
}

// --- A case ------------------------------------------------------------------------------------------------------

/// A case of the member's kommune, or the response that says why not (404 for another kommune's).
async fn load(unit: &Unit, member: &Member, id: i64, lang: Lang) -> Result<Case, Response> {
    let (store, kommune) = (unit.store.clone(), member.user.kommune.clone());
    blocking(move || store.case(&kommune, id)).await.map_err(|e| store_failed(e, lang, unit, member))
}

fn describe(lang: Lang, r: &Recorded) -> Markup {
    let topic = |k: &Topic| t(lang, &format!("topic_{}", serde_plain(k)));
    match r {
        Recorded::Invitation { at, place } => {
            html! { (t(lang, "invite")) ": " (long_date(lang, at.date())) " " (format!("{:02}:{:02}", at.hour(), at.minute())) ", " (place) }
        }
        Recorded::Outreach { on, how } => {
            html! { (t(lang, "outreach")) ": " (long_date(lang, *on)) ", " (t(lang, &format!("outreach_{}", serde_plain(how)))) }
        }
        Recorded::Meeting(m) => html! {
            (t(lang, "meeting")) ": " (long_date(lang, m.at.date())) ", " (t(lang, serde_plain(&m.attendance).as_str()))
            @if !m.covered.is_empty() { " (" (m.covered.iter().map(topic).collect::<Vec<_>>().join(", ")) ")" }
        },
        Recorded::Offer(o) => html! {
            (t(lang, "offer")) ": " (long_date(lang, o.offered_on)) ", " (t(lang, &format!("help_{}", serde_plain(&o.kind))))
            @if let Some(c) = o.consent_on { "; " (t(lang, "consent_on")) " " (c) }
            @if o.referred { "; " (t(lang, "referred")) }
        },
        Recorded::Test(TestEvent::Taken { on, sample_id }) => {
            html! { (t(lang, "test")) ": " (long_date(lang, *on)) ", " (t(lang, "taken")) " (" (sample_id) ")" }
        }
        Recorded::Test(TestEvent::NotAppeared { on }) => {
            html! { (t(lang, "test")) ": " (long_date(lang, *on)) ", " (t(lang, "not_appeared")) }
        }
        Recorded::Notice { on, kind } => {
            html! { (t(lang, "notice")) ": " (long_date(lang, *on)) ", " (t(lang, notice_key(*kind))) }
        }
    }
}

fn notice_key(kind: NoticeKind) -> &'static str {
    match kind {
        NoticeKind::ConditionFulfilled => "notice_fulfilled",
        NoticeKind::NonAttendance => "notice_non_attendance",
    }
}

/// A unit enum's serde name (snake_case), for text keys and form values. The enums here serialise as plain
/// strings; toml's value serialiser gives one without another dependency.
fn serde_plain<T: serde::Serialize>(v: &T) -> String {
    toml::Value::try_from(v).ok().and_then(|x| x.as_str().map(str::to_owned)).unwrap_or_default()
}

async fn case_page(
    State(unit): State<Unit>,
    member: Member,
    Path(id): Path<i64>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang(&q, &headers);
    let case = match load(&unit, &member, id, lang).await {
        Ok(c) => c,
        Err(res) => return res,
    };
    let due = notice_due(&case.referral.conditions, case.meetings(), &case.notices(), today());
    let c = &case.referral.conditions;
    let action = format!("/advisory/cases/{id}/record?lang={}", lang.code());
    let body = html! {
        h1 { (t(lang, "case")) " " (case.id) ": " (case.person.name) }
        dl {
            dt { (t(lang, "case_reference")) } dd { (case.referral.case_reference) }
            dt { (t(lang, "decision_date")) } dd { (long_date(lang, case.referral.decision_date)) }
            dt { (t(lang, "period_end")) } dd { (long_date(lang, c.period_start)) " – " (long_date(lang, c.period_end)) }
            @if let Some(n) = c.meetings { dt { (t(lang, "meetings_required")) } dd { (n) } }
            @if let Some(n) = c.tests { dt { (t(lang, "tests_required")) } dd { (n) } }
        }
        p { a href={ "/advisory/cases/" (id) "/access?lang=" (lang.code()) } { (t(lang, "access")) } }
        h2 { (t(lang, "timeline")) }
        @if case.recorded.is_empty() { p { (t(lang, "nothing_recorded")) } }
        ol {
            @for (n, r) in case.recorded.iter().enumerate() {
                li {
                    (describe(lang, r))
                    @if matches!(r, Recorded::Invitation { .. }) { " · " a href={ "/advisory/cases/" (id) "/letter/" (n) "?lang=" (lang.code()) } { (t(lang, "letter")) } }
                    @if matches!(r, Recorded::Notice { .. }) { " · " a href={ "/advisory/cases/" (id) "/notice/" (n) "?lang=" (lang.code()) } { (t(lang, "notice")) } }
                }
            }
        }
        @if let Some(kind) = due {
            form method="post" action={ "/advisory/cases/" (id) "/notice?lang=" (lang.code()) } {
                input type="hidden" name="csrf" value=(member.csrf);
                p.error { (t(lang, "action_notice_due")) ": " (t(lang, notice_key(kind))) }
                p { (t(lang, "notice_minimum")) }
                button type="submit" { (t(lang, "make_notice")) }
            }
        }
        form method="post" action=(action) {
            input type="hidden" name="csrf" value=(member.csrf);
            input type="hidden" name="what" value="invitation";
            fieldset { legend { (t(lang, "invite")) }
                label { (t(lang, "when")) input name="at" type="datetime-local" required; }
                label { (t(lang, "place")) input name="place" required; }
                button type="submit" { (t(lang, "save")) }
            }
        }
        form method="post" action=(action) {
            input type="hidden" name="csrf" value=(member.csrf);
            input type="hidden" name="what" value="meeting";
            fieldset { legend { (t(lang, "meeting")) }
                label { (t(lang, "when")) input name="at" type="datetime-local" required; }
                label { (t(lang, "attendance"))
                    select name="attendance" {
                        @for a in ["attended", "not_attended", "moved"] { option value=(a) { (t(lang, a)) } }
                    }
                }
                fieldset { legend { (t(lang, "covered")) }
                    @for k in Topic::ALL { label { input type="checkbox" name="covered" value=(serde_plain(&k)); " " (t(lang, &format!("topic_{}", serde_plain(&k)))) } }
                }
                button type="submit" { (t(lang, "save")) }
            }
        }
        form method="post" action=(action) {
            input type="hidden" name="csrf" value=(member.csrf);
            input type="hidden" name="what" value="outreach";
            fieldset { legend { (t(lang, "outreach")) }
                label { (t(lang, "day")) input name="on" type="date" required; }
                label { (t(lang, "outreach"))
                    select name="how" { @for o in Outreach::ALL { option value=(serde_plain(&o)) { (t(lang, &format!("outreach_{}", serde_plain(&o)))) } } }
                }
                button type="submit" { (t(lang, "save")) }
            }
        }
        form method="post" action=(action) {
            input type="hidden" name="csrf" value=(member.csrf);
            input type="hidden" name="what" value="offer";
            fieldset { legend { (t(lang, "offer")) }
                label { (t(lang, "day")) input name="on" type="date" required; }
                label { (t(lang, "offer"))
                    select name="kind" { @for k in ["health_services", "nav", "treatment", "user_organisation"] { option value=(k) { (t(lang, &format!("help_{k}"))) } } }
                }
                label { (t(lang, "consent_on")) input name="consent_on" type="date"; }
                label { input type="checkbox" name="referred" value="yes"; " " (t(lang, "referred")) }
                button type="submit" { (t(lang, "save")) }
            }
        }
        @if c.tests.is_some() {
            form method="post" action=(action) {
                input type="hidden" name="csrf" value=(member.csrf);
                input type="hidden" name="what" value="test";
                fieldset { legend { (t(lang, "test")) }
                    p { (t(lang, "test_note")) }
                    label { (t(lang, "day")) input name="on" type="date" required; }
                    label { (t(lang, "sample_id")) input name="sample_id"; }
                    label { input type="checkbox" name="not_appeared" value="yes"; " " (t(lang, "not_appeared")) }
                    button type="submit" { (t(lang, "save")) }
                }
            }
        }
    };
    layout(lang, &format!("{} {}", t(lang, "case"), case.id), Some(&member), &unit, body)
}

/// One form for everything recorded in a case; `what` says which. Read field by field: a meeting's topics are
/// repeated `covered` fields, which a plain form struct cannot take.
struct RecordForm(Vec<(String, String)>);

impl RecordForm {
    fn parse(body: &[u8]) -> RecordForm {
        RecordForm(form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
    }
    fn get(&self, key: &str) -> &str {
        self.0.iter().find(|(k, _)| k == key).map_or("", |(_, v)| v.as_str())
    }
    fn all(&self, key: &str) -> impl Iterator<Item = &str> {
        self.0.iter().filter(move |(k, _)| k == key).map(|(_, v)| v.as_str())
    }
    fn checked(&self, key: &str) -> bool {
        !self.get(key).is_empty()
    }
}

fn from_name<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, String> {
    toml::Value::String(s.to_owned()).try_into().map_err(|_| "invalid_value".to_owned())
}

fn parse_record(f: &RecordForm) -> Result<Recorded, String> {
    let at = || -> Result<DateTime, String> { f.get("at").trim().parse().map_err(|_| "invalid_date".to_owned()) };
    let on = || date(f.get("on")).map_err(str::to_owned);
    Ok(match f.get("what") {
        "invitation" => Recorded::Invitation { at: at()?, place: f.get("place").trim().to_owned() },
        "meeting" => Recorded::Meeting(Meeting {
            at: at()?,
            attendance: from_name::<Attendance>(f.get("attendance"))?,
            covered: f.all("covered").map(from_name::<Topic>).collect::<Result<_, _>>()?,
        }),
        "outreach" => Recorded::Outreach { on: on()?, how: from_name::<Outreach>(f.get("how"))? },
        "offer" => Recorded::Offer(Offer {
            kind: from_name::<HelpKind>(f.get("kind"))?,
            offered_on: on()?,
            consent_on: optional_date(f.get("consent_on")).map_err(str::to_owned)?,
            referred: f.checked("referred"),
        }),
        "test" if f.checked("not_appeared") => Recorded::Test(TestEvent::NotAppeared { on: on()? }),
        "test" => Recorded::Test(TestEvent::Taken { on: on()?, sample_id: f.get("sample_id").trim().to_owned() }),
        _ => return Err("invalid_value".to_owned()),
    })
}

async fn record(
    State(unit): State<Unit>,
    member: Member,
    Path(id): Path<i64>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let lang = lang(&q, &headers);
    let form = RecordForm::parse(&body);
    if let Err(e) = member.check_csrf(form.get("csrf")) {
        return e.into_response();
    }
    let recorded = match parse_record(&form) {
        Ok(r) => r,
        Err(code) => return refused(lang, &unit, &member, &code),
    };
    let (store, kommune, actor) = (unit.store.clone(), member.user.kommune.clone(), member.user.username.clone());
    match blocking(move || store.record(&kommune, id, &recorded, &actor)).await {
        Ok(()) => Redirect::to(&format!("/advisory/cases/{id}?lang={}", lang.code())).into_response(),
        Err(e) => store_failed(e, lang, &unit, &member),
    }
}

async fn make_notice(
    State(unit): State<Unit>,
    member: Member,
    Path(id): Path<i64>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let lang = lang(&q, &headers);
    if let Err(e) = member.check_csrf(&form.csrf) {
        return e.into_response();
    }
    let case = match load(&unit, &member, id, lang).await {
        Ok(c) => c,
        Err(res) => return res,
    };
    let day = today();
    let Some(kind) = notice_due(&case.referral.conditions, case.meetings(), &case.notices(), day) else {
        return refused(lang, &unit, &member, "notice_not_due");
    };
    let (store, kommune, actor) = (unit.store.clone(), member.user.kommune.clone(), member.user.username.clone());
    let notice = Recorded::Notice { on: day, kind };
    match blocking(move || store.record(&kommune, id, &notice, &actor)).await {
        Ok(()) => {
            let n = case.recorded.iter().filter(|r| r.day() <= day).count();
            Redirect::to(&format!("/advisory/cases/{id}/notice/{n}?lang={}", lang.code())).into_response()
        }
        Err(e) => store_failed(e, lang, &unit, &member),
    }
}

/// What an audit entry of a case records, in words: the person reading their access document should not need to
/// know the codes (`case.open`, `case.meeting`).
fn action_words(lang: Lang, action: &str) -> String {
    let key = format!("audit_{}", action.split(' ').next().unwrap_or(action).replace('.', "_"));
    let words = t(lang, &key);
    // An action without words yet is shown as recorded rather than hidden.
    if words == key { action.to_owned() } else { words }
}

/// A date as a letter writes it: "3. desember 2026", "3. desember 2026", "3 December 2026".
fn long_date(lang: Lang, d: Date) -> String {
    const NB: [&str; 12] = [
        "januar",
        "februar",
        "mars",
        "april",
        "mai",
        "juni",
        "juli",
        "august",
        "september",
        "oktober",
        "november",
        "desember",
    ];
    const EN: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let month = usize::try_from(d.month() - 1).unwrap_or(0);
    match lang {
        Lang::En => format!("{} {} {}", d.day(), EN[month], d.year()),
        // Bokmål and nynorsk name the months alike.
        Lang::Nb | Lang::Nn => format!("{}. {} {}", d.day(), NB[month], d.year()),
    }
}

fn oslo() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get("Europe/Oslo").unwrap_or(jiff::tz::TimeZone::UTC)
}

fn kommune_name(unit: &Unit, kommune: &str) -> String {
    unit.settings.kommuner.get(kommune).cloned().unwrap_or_else(|| kommune.to_owned())
}

async fn letter(
    State(unit): State<Unit>,
    member: Member,
    Path((id, n)): Path<(i64, usize)>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang(&q, &headers);
    let case = match load(&unit, &member, id, lang).await {
        Ok(c) => c,
        Err(res) => return res,
    };
    let Some(Recorded::Invitation { at, place }) = case.recorded.get(n) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let kommune = kommune_name(&unit, &case.kommune);
    let unit_name = t(lang, "unit").to_lowercase();
    let text = fill(
        lang,
        "letter_body",
        &[
            ("unit", &unit_name),
            ("kommune", &kommune),
            ("date", &long_date(lang, at.date())),
            ("time", &format!("{:02}:{:02}", at.hour(), at.minute())),
            ("place", place),
        ],
    );
    let body = html! {
        p.noprint { (t(lang, "print")) }
        p { (case.person.name) br; (case.person.contact) }
        p { (long_date(lang, today())) }
        h1 { (t(lang, "invitation")) }
        p { (fill(lang, "letter_greeting", &[("name", &case.person.name)])) }
        p { (text) }
        p { (t(lang, "unit")) ", " (kommune) }
        @if let Some(g) = &case.person.guardian { p { (fill(lang, "letter_guardian", &[("guardian", g)])) } }
        p { (t(lang, "case_reference")) ": " (case.referral.case_reference) }
        @if !unit.settings.contact.is_empty() { p { (t(lang, "letter_contact")) " " (unit.settings.contact) } }
    };
    layout(lang, &t(lang, "letter"), Some(&member), &unit, body)
}

async fn notice_page(
    State(unit): State<Unit>,
    member: Member,
    Path((id, n)): Path<(i64, usize)>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang(&q, &headers);
    let case = match load(&unit, &member, id, lang).await {
        Ok(c) => c,
        Err(res) => return res,
    };
    let Some(Recorded::Notice { on, kind }) = case.recorded.get(n) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let kommune = kommune_name(&unit, &case.kommune);
    let unit_name = t(lang, "unit").to_lowercase();
    let key = format!("notice_text_{}", serde_plain(kind));
    let text = fill(
        lang,
        &key,
        &[
            ("name", &case.person.name),
            ("birth", &long_date(lang, case.person.birth_date)),
            ("unit", &unit_name),
            ("kommune", &kommune),
            ("reference", &case.referral.case_reference),
            ("deadline", &long_date(lang, case.referral.conditions.period_end)),
        ],
    );
    // Only the case reference, the person and the fact: nothing from the meetings, offers or tests.
    let body = html! {
        p.noprint { (t(lang, "print")) }
        h1 { (t(lang, "notice")) ": " (t(lang, notice_key(*kind))) }
        p { (t(lang, "case_reference")) ": " (case.referral.case_reference) }
        p { (text) }
        p { (long_date(lang, *on)) ", " (t(lang, "unit")) ", " (kommune) }
    };
    layout(lang, &t(lang, "notice"), Some(&member), &unit, body)
}

async fn access(
    State(unit): State<Unit>,
    member: Member,
    Path(id): Path<i64>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang(&q, &headers);
    let case = match load(&unit, &member, id, lang).await {
        Ok(c) => c,
        Err(res) => return res,
    };
    let (store, kommune) = (unit.store.clone(), member.user.kommune.clone());
    let trail = match blocking(move || store.case_audit(&kommune, id)).await {
        Ok(t) => t,
        Err(e) => return store_failed(e, lang, &unit, &member),
    };
    let p = &case.person;
    let c = &case.referral.conditions;
    let body = html! {
        p.noprint { (t(lang, "print")) }
        h1 { (t(lang, "access")) }
        h2 { (t(lang, "stored_person")) }
        dl {
            dt { (t(lang, "name")) } dd { (p.name) }
            @if let Some(f) = &p.fnr { dt { (t(lang, "fnr")) } dd { (f.digits()) } }
            dt { (t(lang, "birth_date")) } dd { (long_date(lang, p.birth_date)) }
            dt { (t(lang, "contact")) } dd { (p.contact) }
            @if let Some(g) = &p.guardian { dt { (t(lang, "guardian")) } dd { (g) } }
        }
        h2 { (t(lang, "stored_referral")) }
        dl {
            dt { (t(lang, "case_reference")) } dd { (case.referral.case_reference) }
            dt { (t(lang, "decision_date")) } dd { (long_date(lang, case.referral.decision_date)) }
            dt { (t(lang, "period_start")) } dd { (long_date(lang, c.period_start)) }
            dt { (t(lang, "period_end")) } dd { (long_date(lang, c.period_end)) }
            @if let Some(n) = c.meetings { dt { (t(lang, "meetings_required")) } dd { (n) } }
            @if let Some(n) = c.tests { dt { (t(lang, "tests_required")) } dd { (n) } }
        }
        h2 { (t(lang, "stored_events")) }
        @if case.recorded.is_empty() { p { (t(lang, "nothing_recorded")) } }
        ol { @for r in &case.recorded { li { (describe(lang, r)) } } }
        h2 { (t(lang, "stored_audit")) }
        table {
            thead { tr { th scope="col" { (t(lang, "when")) } th scope="col" { (t(lang, "username")) } th scope="col" { (t(lang, "what_done")) } } }
            tbody {
                @for (at, actor, action) in &trail {
                    @let at = at.to_zoned(oslo());
                    tr { td { (long_date(lang, at.date())) " " (at.strftime("%H:%M")) } td { (actor) } td { (action_words(lang, action)) } }
                }
            }
        }
        p { (fill(lang, "retention_note", &[("days", &unit.settings.grace_days.to_string())])) }
    };
    layout(lang, &t(lang, "access"), Some(&member), &unit, body)
}

// --- Counts for the unit lead ------------------------------------------------------------------------------------

const MEASURES: [&str; 5] =
    ["c_referrals", "c_attended_first", "c_invited_again", "c_offers_accepted", "c_testing_conditions"];

fn measure(c: &QuarterCounts, i: usize) -> u64 {
    [c.referrals, c.attended_first, c.invited_again, c.offers_accepted, c.testing_conditions][i]
}

/// Each measure suppressed as a column of quarters with its total, as every public figure in Varde; the mean time
/// to a first meeting only where at least five came.
fn published(counts: &[QuarterCounts]) -> (Vec<Vec<String>>, Vec<String>) {
    if counts.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let columns: Vec<_> = (0..MEASURES.len())
        .map(|i| suppress(&counts.iter().map(|c| vec![measure(c, i)]).collect::<Vec<_>>()))
        .collect();
    let rows = counts
        .iter()
        .enumerate()
        .map(|(r, c)| {
            let mut row: Vec<String> = columns.iter().map(|p| p.cells[r][0].to_string()).collect();
            let mean = (c.attended_first >= varde_domain::privacy::MIN_SHOWN)
                .then(|| format!("{:.0}", c.days_to_first_sum as f64 / c.attended_first as f64));
            row.push(mean.unwrap_or_else(|| "x".into()));
            row
        })
        .collect();
    let totals = columns.iter().map(|p| p.total.to_string()).collect();
    (rows, totals)
}

async fn lead_counts(unit: &Unit, member: &Member, lang: Lang) -> Result<Vec<QuarterCounts>, Response> {
    if member.user.role != Role::Lead {
        let body = html! { h1 { (t(lang, "lead_only_title")) } p { (t(lang, "lead_only")) } };
        let mut page = layout(lang, &t(lang, "lead_only_title"), Some(member), unit, body);
        *page.status_mut() = StatusCode::FORBIDDEN;
        return Err(page);
    }
    let (store, kommune) = (unit.store.clone(), member.user.kommune.clone());
    blocking(move || store.counts(&kommune)).await.map_err(|_| StatusCode::SERVICE_UNAVAILABLE.into_response())
}

async fn counts_page(
    State(unit): State<Unit>,
    member: Member,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang(&q, &headers);
    let counts = match lead_counts(&unit, &member, lang).await {
        Ok(c) => c,
        Err(res) => return res,
    };
    let (rows, totals) = published(&counts);
    let body = html! {
        h1 { (t(lang, "counts")) " – " (kommune_name(&unit, &member.user.kommune)) }
        p { (t(lang, "counts_note")) }
        table {
            thead { tr { th scope="col" { (t(lang, "quarter")) } @for m in MEASURES { th scope="col" { (t(lang, m)) } } th scope="col" { (t(lang, "c_mean_days")) } } }
            tbody {
                @for (c, row) in counts.iter().zip(&rows) { tr { th scope="row" { (c.quarter) } @for v in row { td { (v) } } } }
                @if !totals.is_empty() { tr { th scope="row" { "∑" } @for v in &totals { td { (v) } } td { "" } } }
            }
        }
        p { a href="/advisory/counts.csv" { (t(lang, "download_csv")) } }
    };
    layout(lang, &t(lang, "counts"), Some(&member), &unit, body)
}

async fn counts_csv(
    State(unit): State<Unit>,
    member: Member,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang(&q, &headers);
    let counts = match lead_counts(&unit, &member, lang).await {
        Ok(c) => c,
        Err(res) => return res,
    };
    let (rows, _) = published(&counts);
    let mut out = String::from(
        "kommune,quarter,referrals,attended_first,invited_again,offers_accepted,testing_conditions,mean_days_to_first\n",
    );
    for (c, row) in counts.iter().zip(&rows) {
        out.push_str(&format!("{},{},{}\n", c.kommune, c.quarter, row.join(",")));
    }
    ([(header::CONTENT_TYPE, "text/csv; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], out).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_write_dates_in_words() {
        let d = jiff::civil::date(2026, 12, 3);
        assert_eq!(long_date(Lang::Nb, d), "3. desember 2026");
        assert_eq!(long_date(Lang::Nn, d), "3. desember 2026");
        assert_eq!(long_date(Lang::En, d), "3 December 2026");
        assert_eq!(long_date(Lang::En, jiff::civil::date(2027, 1, 31)), "31 January 2027");
    }

    #[test]
    fn every_action_in_a_case_is_said_in_words_in_each_language() {
        let kinds = ["invitation", "outreach", "meeting", "offer", "test", "notice"];
        let actions =
            kinds.iter().map(|k| format!("case.{k}")).chain(["case.open".into(), "case.delete retention".into()]);
        for action in actions {
            for lang in Lang::ALL {
                let words = action_words(lang, &action);
                assert!(!words.contains("case.") && !words.is_empty(), "{action} in {}: {words}", lang.code());
            }
        }
        assert_eq!(action_words(Lang::En, "case.unheard_of"), "case.unheard_of", "an action without words is shown");
    }
}
