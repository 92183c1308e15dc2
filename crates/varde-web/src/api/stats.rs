//! Time to warning: how long from a sample being handed in to a warning reaching subscribers, and from publication
//! to the services' acknowledgements.

use crate::AppState;
use crate::http::error::ApiError;
use crate::http::extract::MaybeAuth;
use axum::Json;
use axum::extract::State;
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;
use varde_domain::privacy::MIN_SHOWN;

/// Median and 90th percentile in seconds, over `n` alerts.
#[derive(Serialize, ToSchema, Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    pub n: usize,
    pub median_s: f64,
    pub p90_s: f64,
}

/// One month's figures. Public figures show a step, and the month's count of alerts, only where at least five
/// alerts stand behind them (privacy rule 3 in docs/privacy.md): a median of one alert is that alert's own time, and with
/// the dates of a published alert gives away when its only sample was handed in. National roles see every figure.
#[derive(Serialize, ToSchema)]
pub struct MonthTimes {
    /// The month the first sample of each alert was handed in, e.g. 2026-11.
    pub month: String,
    /// Alerts whose first sample was handed in that month; null in public figures when fewer than five.
    pub alerts: Option<usize>,
    /// Handed in → finding made.
    pub to_finding: Option<Spread>,
    /// Handed in → alert draft created.
    pub to_draft: Option<Spread>,
    /// Handed in → published.
    pub to_published: Option<Spread>,
    /// Handed in → first delivered to a webhook subscriber.
    pub to_delivered: Option<Spread>,
    /// Published → acknowledged by a service it reached, over every acknowledgement.
    pub to_acknowledged: Option<Spread>,
}

/// The q-quantile by linear interpolation between order statistics (R's default, type 7).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    sorted[lo] + (h - h.floor()) * (sorted[hi] - sorted[lo])
}

/// The spread of `v`, or none when it is empty — or, for public figures, when fewer than five values stand behind it.
fn spread(mut v: Vec<f64>, public: bool) -> Option<Spread> {
    if v.is_empty() || (public && (v.len() as u64) < MIN_SHOWN) {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(Spread { n: v.len(), median_s: quantile(&v, 0.5), p90_s: quantile(&v, 0.9) })
}

/// Median and 90th percentile of each step, by month.
/// The imported deaths per year, or the series that ships with Varde until an operator imports one.
pub async fn deaths_or_shipped(state: &AppState) -> Result<Vec<(i32, u32)>, ApiError> {
    let imported = state.app.queries().deaths().await?;
    Ok(if imported.is_empty() { varde_domain::indicator::shipped_deaths() } else { imported })
}

/// Drug-induced deaths per year (as imported, e.g. FHI's cause-of-death register figures shipped with Varde) with
/// rates per million inhabitants and per million aged 15-64, each from the population on 1 January of that year.
#[utoipa::path(get, path = "/api/v1/stats/deaths", security(()), tag = "public",
    responses((status = 200, body = [varde_domain::indicator::DeathRate])))]
pub async fn deaths(State(state): State<AppState>) -> Result<Json<Vec<varde_domain::indicator::DeathRate>>, ApiError> {
    let deaths = deaths_or_shipped(&state).await?;
    Ok(Json(varde_domain::indicator::death_rates(&deaths, state.assessor.geography.population_by_year())))
}

/// Time to warning by month. Public figures leave out every figure fewer than five alerts stand behind; a reviewer's
/// or admin's token sees them all.
#[utoipa::path(get, path = "/api/v1/stats/time-to-warning", tag = "public", security((), ("bearer" = [])),
    responses((status = 200, body = [MonthTimes])))]
pub async fn time_to_warning(
    State(state): State<AppState>,
    MaybeAuth(who): MaybeAuth,
    headers: axum::http::HeaderMap,
) -> Result<axum::response::Response, ApiError> {
    let public = !who.is_some_and(|p| p.is_national());
    // Read by month: served from memory and renewed in the background (crate::know::figures), as the dashboard is,
    // so its cost does not grow with the number of alerts. The staff view is kept apart from the public one.
    let renderer = state.clone();
    let key = if public { "time-to-warning" } else { "time-to-warning-staff" };
    let body = state
        .figures
        .get(key, move || async move {
            let json = serde_json::to_string(&months(&renderer, public).await?).expect("plain data serialises");
            Ok::<_, ApiError>(crate::know::figures::Rendering::make(json).await?)
        })
        .await?;
    Ok(body.respond(&headers, "application/json", if public { "public, max-age=60" } else { "no-store" }))
}

/// An alert's times as they stood at `at`, the moment a release was cut: None for an alert whose first sample came
/// later, and nothing that happened after it (so that a draft made today cannot be seen in the public figures until
/// the next release).
pub fn as_of(t: varde_store::WarningTimes, at: jiff::Timestamp) -> Option<varde_store::WarningTimes> {
    if t.received >= at || t.drafted >= at {
        return None;
    }
    let before = |x: Option<jiff::Timestamp>| x.filter(|x| *x < at);
    Some(varde_store::WarningTimes {
        published: before(t.published),
        first_delivered: before(t.first_delivered),
        acknowledged: t.acknowledged.into_iter().filter(|a| *a < at).collect(),
        ..t
    })
}

/// Time to warning by month, computed from every alert; `public` leaves out what fewer than five alerts show, and
/// counts only what had happened when the week's release was cut (see [`crate::know::tally::Tallies::released`]).
async fn months(state: &AppState, public: bool) -> Result<Vec<MonthTimes>, ApiError> {
    let oslo = jiff::tz::TimeZone::get("Europe/Oslo").unwrap_or(jiff::tz::TimeZone::UTC);
    let mut months: BTreeMap<String, Vec<varde_store::WarningTimes>> = BTreeMap::new();
    let cut = crate::know::tally::release_instant(crate::know::tally::week_no_at(jiff::Timestamp::now()));
    for t in state.app.queries().warning_times().await? {
        let Some(t) = (if public { as_of(t, cut) } else { Some(t) }) else { continue };
        let z = t.received.to_zoned(oslo.clone());
        months.entry(format!("{:04}-{:02}", z.year(), z.month())).or_default().push(t);
    }
    let secs = |a: jiff::Timestamp, b: jiff::Timestamp| (b.as_millisecond() - a.as_millisecond()) as f64 / 1000.0;
    Ok(months
        .into_iter()
        .map(|(month, ts)| MonthTimes {
            alerts: Some(ts.len()).filter(|n| !public || *n as u64 >= MIN_SHOWN),
            to_finding: spread(ts.iter().map(|t| secs(t.received, t.assessed)).collect(), public),
            to_draft: spread(ts.iter().map(|t| secs(t.received, t.drafted)).collect(), public),
            to_published: spread(ts.iter().filter_map(|t| t.published.map(|p| secs(t.received, p))).collect(), public),
            to_delivered: spread(
                ts.iter().filter_map(|t| t.first_delivered.map(|d| secs(t.received, d))).collect(),
                public,
            ),
            to_acknowledged: spread(
                ts.iter()
                    .filter_map(|t| t.published.map(|p| t.acknowledged.iter().map(move |a| secs(p, *a))))
                    .flatten()
                    .collect(),
                public,
            ),
            month,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::quantile;

    #[test]
    fn public_spreads_need_five_alerts_behind_them() {
        let four = vec![10.0, 20.0, 30.0, 40.0];
        assert_eq!(super::spread(four.clone(), true), None);
        assert_eq!(super::spread(four, false).map(|s| s.n), Some(4));
        assert_eq!(super::spread(vec![1.0; 5], true).map(|s| s.n), Some(5));
    }

    #[test]
    fn quantiles_match_r_type_7() {
        // R: quantile(c(1, 2, 3, 4, 10), c(0.5, 0.9)) gives 3 and 7.6.
        let v = [1.0, 2.0, 3.0, 4.0, 10.0];
        assert_eq!(quantile(&v, 0.5), 3.0);
        assert!((quantile(&v, 0.9) - 7.6).abs() < 1e-12);
        assert_eq!(quantile(&[5.0], 0.9), 5.0);
    }
}
