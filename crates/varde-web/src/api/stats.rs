//! Time to warning: how long from a sample being handed in to a warning reaching subscribers, and from publication
//! to the services' acknowledgements.

use crate::AppState;
use crate::http::error::ApiError;
use axum::Json;
use axum::extract::State;
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Median and 90th percentile in seconds, over `n` alerts.
#[derive(Serialize, ToSchema, Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    pub n: usize,
    pub median_s: f64,
    pub p90_s: f64,
}

#[derive(Serialize, ToSchema)]
pub struct MonthTimes {
    /// The month the first sample of each alert was handed in, e.g. 2026-11.
    pub month: String,
    pub alerts: usize,
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

fn spread(mut v: Vec<f64>) -> Option<Spread> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(Spread { n: v.len(), median_s: quantile(&v, 0.5), p90_s: quantile(&v, 0.9) })
}

/// Median and 90th percentile of each step, by month.
/// Drug-induced deaths per year (as imported, e.g. FHI's cause-of-death register figures shipped with Varde) with
/// rates per million inhabitants and per million aged 15-64, each from the population on 1 January of that year.
#[utoipa::path(get, path = "/api/v1/stats/deaths", tag = "public",
    responses((status = 200, body = [varde_domain::indicator::DeathRate])))]
pub async fn deaths(State(state): State<AppState>) -> Result<Json<Vec<varde_domain::indicator::DeathRate>>, ApiError> {
    let deaths = state.store.deaths().await?;
    Ok(Json(varde_domain::indicator::death_rates(&deaths, state.assessor.geography.population_by_year())))
}

#[utoipa::path(get, path = "/api/v1/stats/time-to-warning", tag = "public", responses((status = 200, body = [MonthTimes])))]
pub async fn time_to_warning(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Result<axum::response::Response, ApiError> {
    // Public and read by month: served from memory and renewed in the background (crate::know::figures), as the
    // dashboard is, so its cost does not grow with the number of alerts.
    let renderer = state.clone();
    let body = state
        .figures
        .get("time-to-warning", move || async move {
            let json = serde_json::to_string(&months(&renderer).await?).expect("plain data serialises");
            Ok::<_, ApiError>(crate::know::figures::Rendering::make(json).await?)
        })
        .await?;
    Ok(body.respond(&headers, "application/json", "public, max-age=60"))
}

/// Time to warning by month, computed from every alert.
async fn months(state: &AppState) -> Result<Vec<MonthTimes>, ApiError> {
    let oslo = jiff::tz::TimeZone::get("Europe/Oslo").unwrap_or(jiff::tz::TimeZone::UTC);
    let mut months: BTreeMap<String, Vec<varde_store::WarningTimes>> = BTreeMap::new();
    for t in state.store.warning_times().await? {
        let z = t.received.to_zoned(oslo.clone());
        months.entry(format!("{:04}-{:02}", z.year(), z.month())).or_default().push(t);
    }
    let secs = |a: jiff::Timestamp, b: jiff::Timestamp| (b.as_millisecond() - a.as_millisecond()) as f64 / 1000.0;
    Ok(months
        .into_iter()
        .map(|(month, ts)| MonthTimes {
            alerts: ts.len(),
            to_finding: spread(ts.iter().map(|t| secs(t.received, t.assessed)).collect()),
            to_draft: spread(ts.iter().map(|t| secs(t.received, t.drafted)).collect()),
            to_published: spread(ts.iter().filter_map(|t| t.published.map(|p| secs(t.received, p))).collect()),
            to_delivered: spread(ts.iter().filter_map(|t| t.first_delivered.map(|d| secs(t.received, d))).collect()),
            to_acknowledged: spread(
                ts.iter()
                    .filter_map(|t| t.published.map(|p| t.acknowledged.iter().map(move |a| secs(p, *a))))
                    .flatten()
                    .collect(),
            ),
            month,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::quantile;

    #[test]
    fn quantiles_match_r_type_7() {
        // R: quantile(c(1, 2, 3, 4, 10), c(0.5, 0.9)) gives 3 and 7.6.
        let v = [1.0, 2.0, 3.0, 4.0, 10.0];
        assert_eq!(quantile(&v, 0.5), 3.0);
        assert!((quantile(&v, 0.9) - 7.6).abs() < 1e-12);
        assert_eq!(quantile(&[5.0], 0.9), 5.0);
    }
}
