//! The user room's daily counts on a staff page: a technician records a day's visits, overdoses, naloxone given and
//! referrals for their own service, corrects a day, and sees the last eight weeks. The API does the same
//! (`POST /api/v1/user-room-days`); both go through [`crate::api::indicators::record_day`].

use crate::AppState;
use crate::config::figures::USER_ROOM_WEEKS_SHOWN as WEEKS_SHOWN;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::i18n::t;
use crate::http::lang::negotiate;
use crate::http::session::SessionUser;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::html;
use varde_domain::indicator::UserRoomDay;
use varde_domain::{InvalidInput, Lang};

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/staff/user-room", get(page).post(record))
}

/// The four counts, in the order of the form and the table.
const COUNTS: [&str; 4] = ["visits", "overdoses", "naloxone", "referrals"];

/// The form as typed, kept as text so that a refused form comes back with exactly what was typed. A count left out
/// (none at all when the page asks to correct a day) is filled with what was recorded.
#[derive(serde::Deserialize, Default, Clone)]
pub struct DayForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    day: Option<String>,
    #[serde(default)]
    visits: Option<String>,
    #[serde(default)]
    overdoses: Option<String>,
    #[serde(default)]
    naloxone: Option<String>,
    #[serde(default)]
    referrals: Option<String>,
}

impl DayForm {
    /// The count named `name` (one of [`COUNTS`]) as typed.
    fn count(&self, name: &str) -> Option<&str> {
        match name {
            "visits" => self.visits.as_deref(),
            "overdoses" => self.overdoses.as_deref(),
            "naloxone" => self.naloxone.as_deref(),
            "referrals" => self.referrals.as_deref(),
            _ => None,
        }
    }

    /// The counts recorded for a day, as the form shows them.
    fn with_recorded(self, d: &UserRoomDay) -> DayForm {
        DayForm {
            visits: Some(d.visits.to_string()),
            overdoses: Some(d.overdoses.to_string()),
            naloxone: Some(d.naloxone.to_string()),
            referrals: Some(d.referrals.to_string()),
            ..self
        }
    }
}

#[derive(serde::Deserialize)]
struct PageQuery {
    lang: Option<String>,
    /// The day to correct (the form is filled with what was recorded).
    day: Option<String>,
    /// The day just saved.
    saved: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    user: SessionUser,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = negotiate(q.lang.as_deref(), &headers);
    if let Some(refused) = crate::check::technician::technician_only(lang, &user) {
        return refused;
    }
    // The day to correct; `render` fills in what was recorded for it.
    let day = q.day.as_deref().and_then(|d| d.parse::<jiff::civil::Date>().ok()).map(|d| d.to_string());
    let values = DayForm { day, ..DayForm::default() };
    let saved = q.saved.as_deref().map(|d| t(lang, "user_room_saved").replace("{day}", d));
    render(&state, lang, &user, &values, saved.as_deref(), None, StatusCode::OK).await
}

async fn own_days(state: &AppState, user: &SessionUser) -> Result<Vec<UserRoomDay>, ApiError> {
    let Some(service) = user.0.service.clone() else { return Ok(Vec::new()) };
    Ok(state.app.queries().user_room_days(Some(service)).await?.into_iter().map(|(d, _)| d).collect())
}

async fn render(
    state: &AppState,
    lang: Lang,
    user: &SessionUser,
    values: &DayForm,
    saved: Option<&str>,
    error: Option<&ErrorBody>,
    status: StatusCode,
) -> Response {
    let today = crate::api::indicators::today();
    let since = today.checked_sub(jiff::Span::new().days(WEEKS_SHOWN * 7)).unwrap_or(today);
    let mut days = match own_days(state, user).await {
        Ok(d) => d,
        Err(e) => return e.into_response(),
    };
    // A day asked for correction (no counts typed yet) comes with the counts recorded for it.
    let mut values = values.clone();
    let asked = values.day.as_deref().and_then(|d| d.parse::<jiff::civil::Date>().ok());
    if let Some(d) = asked.filter(|_| values.visits.is_none()).and_then(|day| days.iter().find(|d| d.day == day)) {
        values = values.with_recorded(d);
    }
    days.retain(|d| d.day > since);
    days.reverse();
    let v = |k: &str| values.count(k).unwrap_or_default().to_owned();
    let day = values.day.clone().unwrap_or_else(|| today.to_string());
    let body = html! {
        h1 { (t(lang, "user_room_heading")) }
        p { (t(lang, "user_room_intro")) }
        @if let Some(s) = saved { p.notice role="status" { (s) } }
        @if let Some(e) = error {
            p.error role="alert" {
                (crate::http::error::text(e.error, lang))
                @if let Some(f) = e.field.as_deref().filter(|f| *f == "day" || COUNTS.contains(f)) { " (" (t(lang, &format!("col_{f}"))) ")" }
                ": " (e.message)
            }
        }
        form.concern method="post" action={ "/staff/user-room?lang=" (lang.code()) } {
            input type="hidden" name="csrf" value=(user.0.csrf);
            label for="day" { (t(lang, "col_day")) }
            input id="day" type="date" name="day" value=(day) max=(today.to_string()) required;
            @for name in COUNTS {
                label for=(name) { (t(lang, &format!("col_{name}"))) }
                input id=(name) type="number" name=(name) min="0" max="10000" inputmode="numeric" value=(v(name)) required;
            }
            button type="submit" { (t(lang, "user_room_save")) }
        }
        h2 { (t(lang, "user_room_recent")) }
        @if days.is_empty() {
            p { (t(lang, "user_room_none")) }
        } @else {
            table {
                thead { tr {
                    th scope="col" { (t(lang, "col_day")) }
                    @for name in COUNTS { th scope="col" { (t(lang, &format!("col_{name}"))) } }
                    th {}
                } }
                tbody {
                    @for d in &days {
                        tr {
                            th scope="row" { (d.day) }
                            td { (d.visits) } td { (d.overdoses) } td { (d.naloxone) } td { (d.referrals) }
                            td { a href={ "/staff/user-room?lang=" (lang.code()) "&day=" (d.day) } { (t(lang, "user_room_correct")) } }
                        }
                    }
                }
            }
        }
    };
    let mut response = crate::http::pages::page(crate::http::pages::staff_layout(
        &user.0,
        lang,
        t(lang, "user_room_heading"),
        "/staff/user-room",
        body,
    ));
    *response.status_mut() = status;
    response
}

/// A count from the form: a whole number from 0, or `invalid_value` naming the field.
fn count(form: &DayForm, name: &str) -> Result<u32, InvalidInput> {
    let text = form.count(name).unwrap_or("").trim();
    text.parse::<u32>().map_err(|_| InvalidInput::invalid(name, format!("'{text}' is not a count (0 or more)")))
}

fn day_from(form: &DayForm, service: &str) -> Result<UserRoomDay, InvalidInput> {
    let day = form.day.as_deref().unwrap_or("").trim();
    Ok(UserRoomDay {
        service: service.to_owned(),
        day: day.parse().map_err(|_| InvalidInput::invalid("day", format!("'{day}' is not a date (YYYY-MM-DD)")))?,
        visits: count(form, "visits")?,
        overdoses: count(form, "overdoses")?,
        naloxone: count(form, "naloxone")?,
        referrals: count(form, "referrals")?,
    })
}

async fn record(
    State(state): State<AppState>,
    user: SessionUser,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
    Form(form): Form<DayForm>,
) -> Result<Response, ApiError> {
    let lang = negotiate(q.lang.as_deref(), &headers);
    if let Some(refused) = crate::check::technician::technician_post(lang, &user, &form.csrf)? {
        return Ok(refused);
    }
    let service = user.0.service.as_ref().map(|s| s.as_str().to_owned()).unwrap_or_default();
    let outcome = match day_from(&form, &service) {
        Ok(day) => crate::api::indicators::record_day(&state, &user.0.principal(), &day).await.map(|_| day),
        Err(e) => Err(e.into()),
    };
    Ok(match outcome {
        Ok(day) => Redirect::to(&format!("/staff/user-room?lang={}&saved={}", lang.code(), day.day)).into_response(),
        // Nothing stored; the form comes back with what was typed and what is wrong.
        Err(e) => render(&state, lang, &user, &form, None, Some(&e.body), e.status).await,
    })
}
