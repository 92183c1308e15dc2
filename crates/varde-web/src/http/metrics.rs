//! Prometheus metrics, rendered as text at `/metrics`.

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::time::Instant;

use crate::AppState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabel {
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CodeLabel {
    pub code: String,
}

/// Messages to subscribers by channel and how handing them over went.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReachLabels {
    pub channel: &'static str,
    pub outcome: &'static str,
}

pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub latency: Family<RouteLabel, Histogram>,
    pub samples_registered: Counter,
    pub analyses_recorded: Counter,
    /// Refusals by error code: how often technicians meet the privacy rules, and which fields trip them.
    pub refusals: Family<CodeLabel, Counter>,
    pub catalogue_substances: Gauge,
    pub reach_messages: Family<ReachLabels, Counter>,
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("varde");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabel, Histogram>::new_with_constructor(|| {
            Histogram::new([0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5])
        });
        let samples_registered = Counter::default();
        let analyses_recorded = Counter::default();
        let refusals = Family::<CodeLabel, Counter>::default();
        let catalogue_substances = Gauge::default();
        registry.register("http_requests", "HTTP requests by method, route and status", requests.clone());
        registry.register("http_request_duration_seconds", "HTTP request latency by route", latency.clone());
        registry.register("samples_registered", "Samples registered", samples_registered.clone());
        registry.register("analyses_recorded", "Analyses added or amended", analyses_recorded.clone());
        registry.register("input_refusals", "Requests refused for invalid input, by error code", refusals.clone());
        registry.register("catalogue_substances", "Substances in the loaded catalogue", catalogue_substances.clone());
        let reach_messages = Family::<ReachLabels, Counter>::default();
        registry.register(
            "subscriber_messages",
            "Messages to subscribers by channel and outcome (sent, retry, refused, gone)",
            reach_messages.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            samples_registered,
            analyses_recorded,
            refusals,
            catalogue_substances,
            reach_messages,
        }
    }

    /// The metrics in the OpenMetrics 1.0 text format, as prometheus-client writes them.
    pub fn render_openmetrics(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }

    /// The metrics in Prometheus's text format 0.0.4, what a scraper gets unless it asks for OpenMetrics.
    pub fn render(&self) -> String {
        to_prometheus_text(&self.render_openmetrics())
    }
}

/// OpenMetrics text as Prometheus text 0.0.4. The two differ in what matters here: OpenMetrics names a counter's
/// family without `_total` (its samples carry it) and ends with `# EOF`; in 0.0.4 a family's HELP and TYPE name
/// what its samples are called, and there is no end marker (promtool reads the samples of `x_total` under a
/// family `x` as undocumented).
pub fn to_prometheus_text(openmetrics: &str) -> String {
    let counters: std::collections::HashSet<&str> = openmetrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len() + 64);
    for line in openmetrics.lines() {
        if line == "# EOF" {
            continue;
        }
        let renamed = ["# HELP ", "# TYPE "].iter().find_map(|prefix| {
            let rest = line.strip_prefix(prefix)?;
            let (name, tail) = rest.split_once(' ')?;
            counters.contains(name).then(|| format!("{prefix}{name}_total {tail}"))
        });
        out.push_str(renamed.as_deref().unwrap_or(line));
        out.push('\n');
    }
    out
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// Counts and times every request under its route template (never the raw path, which holds sample codes).
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().to_string();
    let started = Instant::now();
    let res = next.run(req).await;
    let m = &state.metrics;
    m.latency.get_or_create(&RouteLabel { route: route.clone() }).observe(started.elapsed().as_secs_f64());
    m.requests.get_or_create(&RequestLabels { method, route, status: res.status().as_u16() }).inc();
    res
}

#[cfg(test)]
mod tests {
    #[test]
    fn counters_are_named_as_their_samples_in_the_prometheus_text_format() {
        let om = "# HELP varde_samples_registered Samples registered.\n# TYPE varde_samples_registered counter\n\
                  varde_samples_registered_total 3\n# HELP varde_catalogue_substances Substances.\n\
                  # TYPE varde_catalogue_substances gauge\nvarde_catalogue_substances 183\n# EOF\n";
        let text = super::to_prometheus_text(om);
        assert_eq!(
            text,
            "# HELP varde_samples_registered_total Samples registered.\n# TYPE varde_samples_registered_total counter\n\
             varde_samples_registered_total 3\n# HELP varde_catalogue_substances Substances.\n\
             # TYPE varde_catalogue_substances gauge\nvarde_catalogue_substances 183\n"
        );
    }
}
