//! The public dashboard: what drug checking finds, as accessible SVG charts with their tables. Every count passes
//! through small-cell suppression (and its audit); a share is shown only with a numerator of 0 or at least 5, and a
//! median only over at least 5 values, so no figure reveals a count of 1-4.

use crate::AppState;
use crate::http::error::ApiError;
use crate::http::i18n::t;
use crate::http::lang::LangQuery;
use crate::http::lang::negotiate;
use crate::know::charts::{Bar, bars};
use crate::know::figures::Rendering;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use jiff::Timestamp;
use maud::{Markup, html};
use std::collections::BTreeMap;
use varde_domain::Lang;
use varde_domain::Tier;
use varde_domain::catalogue::SubstanceClass;
use varde_domain::cell_key::{self, Keyed};
use varde_domain::privacy::{self, MIN_SHOWN};

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/dashboard", get(page))
}

/// Suppresses a list of counts that are not of samples (the user rooms' daily figures, which have no record keys)
/// and returns each as shown, with the number drawn.
pub fn suppressed_column(counts: &[u64]) -> Vec<(Option<f64>, String)> {
    if counts.is_empty() {
        return Vec::new();
    }
    let table: Vec<Vec<u64>> = counts.iter().map(|c| vec![*c]).collect();
    let mut p = privacy::suppress(&table);
    if privacy::audit(&table, &p).is_err() {
        p = privacy::all_hidden(&table);
    }
    p.cells
        .iter()
        .zip(counts)
        .map(|(cell, n)| match cell[0] {
            privacy::Cell::Shown(_) => (Some(*n as f64), cell[0].to_string()),
            other => (None, other.to_string()),
        })
        .collect()
}

/// Counts of samples as the public sees them (the cell-key method, [`varde_domain::cell_key`]): each with the number
/// drawn (none for "<5").
pub fn protected_column(counts: &[Keyed]) -> Vec<(Option<f64>, String)> {
    counts
        .iter()
        .map(|c| match cell_key::protect(*c) {
            privacy::Cell::Shown(shown) => (Some(shown as f64), shown.to_string()),
            other => (None, other.to_string()),
        })
        .collect()
}

/// A share of samples as the public sees it: numerator and denominator each protected by the cell-key method, the
/// share computed from what is shown ("<5" where either is 1-4, as [`share`] writes it).
pub fn protected_share(numerator: Keyed, denominator: Keyed, lang: Lang) -> (Option<f64>, String) {
    match (cell_key::protect(numerator), cell_key::protect(denominator)) {
        (_, privacy::Cell::Small) => (None, "<5".into()),
        (privacy::Cell::Small, privacy::Cell::Shown(den)) => (None, format!("<5 / {den}")),
        (privacy::Cell::Shown(num), privacy::Cell::Shown(den)) => share(num, den, lang),
        _ => (None, "–".into()),
    }
}

/// "12 / 140 (8.6 %)", "<5 / 140", or "–": never a share that gives away a count of 1-4.
pub fn share(numerator: u64, denominator: u64, lang: Lang) -> (Option<f64>, String) {
    if denominator < MIN_SHOWN {
        return (None, if denominator == 0 { "–".into() } else { "<5".into() });
    }
    if (1..MIN_SHOWN).contains(&numerator) {
        return (None, format!("<5 / {denominator}"));
    }
    let pct = numerator as f64 / denominator as f64 * 100.0;
    (Some(pct), format!("{numerator} / {denominator} ({} %)", number(pct, 1, lang)))
}

/// A number with `decimals` places, with a decimal comma in Norwegian ("66,1") and a point in English ("66.1").
pub fn number(value: f64, decimals: usize, lang: Lang) -> String {
    let shown = format!("{value:.decimals$}");
    if lang == Lang::En { shown } else { shown.replace('.', ",") }
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.len() < MIN_SHOWN as usize {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 })
}

/// The median of any number of values (national roles only: a median of few can be one sample's value).
fn median_any(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 })
}

/// Whether a week number lies among the `weeks` ISO weeks that end with the current one.
fn in_last(week_no: i64, now: i64, weeks: i64) -> bool {
    week_no > now - weeks && week_no <= now
}

async fn page(
    State(state): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = negotiate(q.lang.as_deref(), &headers);
    let renderer = state.clone();
    let html = state
        .figures
        .get(&format!("dashboard-{}", lang.code()), move || async move {
            let sections = sections(&renderer, lang, true).await?;
            let body = html! {
                h1 { (t(lang, "dashboard")) }
                p { (t(lang, "dash_intro")) }
                @for s in &sections { (s) }
                p.meta { a href={ "/open-data?lang=" (lang.code()) } { (t(lang, "open_data")) } }
            };
            let page = crate::http::pages::layout(lang, t(lang, "dashboard"), "/dashboard", body).into_string();
            Ok::<_, ApiError>(Rendering::make(page).await?)
        })
        .await?;
    Ok(html.respond(&headers, "text/html; charset=utf-8", "public, max-age=30"))
}

/// The dashboard's figures. `public`: with small-cell suppression (the public page); without, for national roles.
/// The dashboard's figures, each a section; `public` for the public page (small counts protected, privacy rule 3),
/// not for the analysts' page.
pub async fn sections(state: &AppState, lang: Lang, public: bool) -> Result<Vec<Markup>, ApiError> {
    let now = Timestamp::now();
    // The public sees the week's release (whole weeks up to its cut, unchanged until the next); national roles
    // see every sample now.
    let (tallies, this_week) = if public {
        let (cut, release) = state.tallies.released(state).await?;
        (release, cut - 1)
    } else {
        (state.tallies.current(state).await?, crate::know::tally::week_no_at(now))
    };
    let oslo = jiff::tz::TimeZone::get("Europe/Oslo").unwrap_or(jiff::tz::TimeZone::UTC);
    let f = Figures { state, lang, public, tallies: &tallies, this_week, now, oslo };
    let mut sections = Vec::new();
    if public {
        sections.push(html! { p.meta.release { (release_line(this_week + 1, lang)) } });
    }
    sections.extend([
        f.weekly(),
        f.classes(),
        f.fylker(),
        f.top_substances(),
        f.positivity(),
        f.mis_sold(),
        f.mdma(),
        f.deaths().await?,
        f.user_rooms().await?,
        f.result_changes(),
    ]);
    sections.extend(f.time_to_warning().await?);
    Ok(sections)
}

/// "Figures released Monday 7 December 2026: samples received up to and including week 49. New figures every
/// Monday." for the release cut at week `cut`.
pub fn release_line(cut: i64, lang: Lang) -> String {
    let day = crate::know::tally::release_day(cut);
    let last_week = day.checked_sub(jiff::Span::new().days(1)).unwrap_or(day).iso_week_date().week();
    let at = day.to_zoned(jiff::tz::TimeZone::get("Europe/Oslo").unwrap_or(jiff::tz::TimeZone::UTC));
    let date = at.map(|z| crate::http::pages::day(z.timestamp(), lang)).unwrap_or_default();
    t(lang, "figures_release").replace("{date}", &date).replace("{week}", &last_week.to_string())
}

/// What every figure reads: the counted samples now, and whether they are shown to the public.
struct Figures<'a> {
    state: &'a AppState,
    lang: Lang,
    public: bool,
    tallies: &'a crate::know::tally::Snapshot,
    this_week: i64,
    now: Timestamp,
    oslo: jiff::tz::TimeZone,
}

impl Figures<'_> {
    /// A column of counts of samples as charted and as printed: protected for the public.
    fn column(&self, counts: &[Keyed]) -> Vec<(Option<f64>, String)> {
        if self.public {
            protected_column(counts)
        } else {
            counts.iter().map(|c| (Some(c.n as f64), c.n.to_string())).collect()
        }
    }

    /// A share as charted and as printed: never giving a small count away to the public.
    fn share(&self, num: Keyed, den: Keyed, lang: Lang) -> (Option<f64>, String) {
        if self.public {
            return protected_share(num, den, lang);
        }
        let (num, den) = (num.n, den.n);
        if den == 0 {
            (None, "–".into())
        } else {
            let pct = num as f64 / den as f64 * 100.0;
            (Some(pct), format!("{num} / {den} ({pct:.1} %)"))
        }
    }

    /// A median: of at least five values for the public.
    fn median(&self, v: Vec<f64>) -> Option<f64> {
        if self.public { median(v) } else { median_any(v) }
    }

    /// The profiles of the last `weeks` weeks.
    fn recent(&self, weeks: i64) -> impl Iterator<Item = (&crate::know::tally::Profile, Keyed)> {
        let this_week = self.this_week;
        self.tallies.keyed().filter(move |(p, _)| in_last(p.week_no, this_week, weeks))
    }

    /// Samples per ISO week, nationally, over the last half-year.
    fn weekly(&self) -> Markup {
        let lang = self.lang;
        let column = |counts: &[Keyed]| self.column(counts);
        let recent = |weeks: i64| self.recent(weeks);
        let mut weekly: BTreeMap<String, Keyed> = BTreeMap::new();
        for (p, n) in recent(26) {
            *weekly.entry(format!("{}-W{:02}", p.iso_year, p.iso_week)).or_default() += n;
        }
        let counts: Vec<Keyed> = weekly.values().copied().collect();
        let data: Vec<Bar> = weekly
            .keys()
            .zip(column(&counts))
            .map(|(k, (v, shown))| Bar { label: k.clone(), value: v, shown })
            .collect();
        bars(
            lang,
            "weekly",
            t(lang, "dash_weekly"),
            t(lang, "dash_weekly"),
            t(lang, "col_week"),
            t(lang, "col_samples"),
            &data,
        )
    }

    /// The half-year's samples by class found (the weekly breakdown by class is in open data, weekly-counts.csv).
    fn classes(&self) -> Markup {
        let lang = self.lang;
        let cat = &self.state.assessor.catalogue;
        let column = |counts: &[Keyed]| self.column(counts);
        let recent = |weeks: i64| self.recent(weeks);
        let mut by_class: BTreeMap<SubstanceClass, Keyed> = BTreeMap::new();
        for (p, n) in recent(26) {
            for k in p.classes.iter() {
                *by_class.entry(k).or_default() += n;
            }
        }
        let counts: Vec<Keyed> = by_class.values().copied().collect();
        let data: Vec<Bar> = by_class
            .keys()
            .zip(column(&counts))
            .map(|(k, (v, shown))| Bar { label: cat.class(*k).names.get(lang).to_owned(), value: v, shown })
            .collect();
        bars(
            lang,
            "classes",
            t(lang, "dash_classes"),
            t(lang, "dash_classes"),
            t(lang, "col_class"),
            t(lang, "col_samples"),
            &data,
        )
    }

    /// The fylker side by side, over the last quarter.
    fn fylker(&self) -> Markup {
        let lang = self.lang;
        let geo = &self.state.assessor.geography;
        let column = |counts: &[Keyed]| self.column(counts);
        let recent = |weeks: i64| self.recent(weeks);
        let mut by_fylke: BTreeMap<String, Keyed> =
            geo.fylker().iter().map(|f| (f.number.clone(), Keyed::default())).collect();
        for (p, n) in recent(13) {
            *by_fylke.entry(p.fylke.to_string()).or_default() += n;
        }
        let counts: Vec<Keyed> = by_fylke.values().copied().collect();
        let data: Vec<Bar> = by_fylke
            .keys()
            .zip(column(&counts))
            .map(|(f, (v, shown))| Bar {
                label: geo.fylke(f).map_or_else(|| f.clone(), |x| x.public_name().to_owned()),
                value: v,
                shown,
            })
            .collect();
        bars(
            lang,
            "fylker",
            t(lang, "dash_fylker"),
            t(lang, "dash_fylker"),
            t(lang, "col_fylke"),
            t(lang, "col_samples"),
            &data,
        )
    }

    /// The ten substances found most often in the last year.
    fn top_substances(&self) -> Markup {
        let lang = self.lang;
        let cat = &self.state.assessor.catalogue;
        let column = |counts: &[Keyed]| self.column(counts);
        let recent = |weeks: i64| self.recent(weeks);
        let mut by_substance: BTreeMap<String, Keyed> = BTreeMap::new();
        for (p, n) in recent(52) {
            for id in p.substances() {
                if let Some(x) = cat.get(id).filter(|x| x.class != SubstanceClass::CuttingAgent) {
                    *by_substance.entry(x.id.clone()).or_default() += n;
                }
            }
        }
        let mut top: Vec<(String, Keyed)> = by_substance.into_iter().collect();
        top.sort_by(|a, b| b.1.n.cmp(&a.1.n).then(a.0.cmp(&b.0)));
        top.truncate(10);
        let counts: Vec<Keyed> = top.iter().map(|(_, n)| *n).collect();
        let data: Vec<Bar> = top
            .iter()
            .zip(column(&counts))
            .map(|((id, _), (v, shown))| Bar {
                label: cat.get(id).map_or_else(|| id.clone(), |x| x.names.get(lang).to_owned()),
                value: v,
                shown,
            })
            .collect();
        bars(
            lang,
            "top",
            t(lang, "dash_top"),
            t(lang, "dash_top"),
            t(lang, "col_substance"),
            t(lang, "col_samples"),
            &data,
        )
    }

    /// Positivity: the share of samples sold as X that contain Y.
    fn positivity(&self) -> Markup {
        let lang = self.lang;
        let share = |num: Keyed, den: Keyed, lang: Lang| self.share(num, den, lang);
        let recent = |weeks: i64| self.recent(weeks);
        let data: Vec<Bar> = crate::detect::positivity::STREAMS
            .iter()
            .enumerate()
            .map(|(i, (key, _, _))| {
                let (mut num, mut den) = (Keyed::default(), Keyed::default());
                for (p, n) in recent(52) {
                    if p.sold_as_streams & (1 << i) != 0 {
                        den += n;
                    }
                    if p.positive_streams & (1 << i) != 0 {
                        num += n;
                    }
                }
                let (v, shown) = share(num, den, lang);
                Bar { label: t(lang, &format!("pos_{key}")).to_owned(), value: v, shown }
            })
            .collect();
        bars(
            lang,
            "positivity",
            t(lang, "dash_positivity"),
            t(lang, "dash_positivity"),
            t(lang, "col_what"),
            t(lang, "col_share"),
            &data,
        )
    }

    /// Mis-sold, per quarter: among samples sold as something known where analysis identified something.
    fn mis_sold(&self) -> Markup {
        let lang = self.lang;
        let tallies = self.tallies;
        let share = |num: Keyed, den: Keyed, lang: Lang| self.share(num, den, lang);
        let mut quarters: BTreeMap<String, (Keyed, Keyed)> = BTreeMap::new();
        for (p, n) in tallies.keyed() {
            if let Some(mis_sold) = p.mis_sold {
                let slot = quarters
                    .entry(format!("{}-Q{}", p.iso_year, ((i16::from(p.iso_week) - 1) / 13).min(3) + 1))
                    .or_default();
                slot.1 += n;
                if mis_sold {
                    slot.0 += n;
                }
            }
        }
        let data: Vec<Bar> = quarters
            .iter()
            .rev()
            .take(4)
            .rev()
            .map(|(q, (num, den))| {
                let (v, shown) = share(*num, *den, lang);
                Bar { label: q.clone(), value: v, shown }
            })
            .collect();
        bars(
            lang,
            "missold",
            t(lang, "dash_missold"),
            t(lang, "dash_missold"),
            t(lang, "col_quarter"),
            t(lang, "col_share"),
            &data,
        )
    }

    /// MDMA per tablet, the median per month.
    fn mdma(&self) -> Markup {
        let lang = self.lang;
        let tallies = self.tallies;
        let this_week = self.this_week;
        let median = |v: Vec<f64>| self.median(v);
        let mut months: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for a in tallies.mdma().filter(|a| in_last(a.week_no, this_week, 52)) {
            months.entry(format!("{:04}-{:02}", a.year, a.month)).or_default().push(a.mg);
        }
        let data: Vec<Bar> = months
            .into_iter()
            .map(|(m, v)| {
                let n = v.len();
                match median(v) {
                    Some(x) => Bar { label: m, value: Some(x), shown: format!("{x:.0} ({n})") },
                    None => Bar { label: m, value: None, shown: "<5".into() },
                }
            })
            .collect();
        bars(lang, "mdma", t(lang, "dash_mdma"), t(lang, "dash_mdma"), t(lang, "col_month"), t(lang, "col_mg"), &data)
    }

    /// Drug-induced deaths per year, with rates per million inhabitants and per million aged 15-64.
    async fn deaths(&self) -> Result<Markup, ApiError> {
        let state = self.state;
        let lang = self.lang;
        let geo = &self.state.assessor.geography;
        // Rates from the population of the same year. The series that ships with Varde is shown until an operator imports one (`varde import deaths`).
        let deaths = crate::api::stats::deaths_or_shipped(state).await?;
        let rates = varde_domain::indicator::death_rates(&deaths, geo.population_by_year());
        let one = |r: Option<f64>| r.map_or_else(|| "–".to_owned(), |r| number(r, 1, lang));
        let data: Vec<Bar> = rates
            .iter()
            .map(|r| Bar {
                label: r.year.to_string(),
                value: Some(f64::from(r.deaths)),
                shown: format!("{} ({} / {})", r.deaths, one(r.per_million), one(r.per_million_15_64)),
            })
            .collect();
        Ok(html! {
            (bars(lang, "deaths", t(lang, "dash_deaths"), t(lang, "dash_deaths"), t(lang, "col_year"), t(lang, "col_deaths"), &data))
            p.meta { (t(lang, "dash_deaths_note")) }
        })
    }

    /// User rooms over the last twelve months.
    async fn user_rooms(&self) -> Result<Markup, ApiError> {
        let state = self.state;
        let lang = self.lang;
        let geo = &self.state.assessor.geography;
        let now = self.now;
        let oslo = self.oslo.clone();
        // Not samples (no record keys): the user rooms' counts are suppressed as before, and the public sees them
        // only as of the release.
        let column = |counts: &[u64]| {
            if self.public {
                suppressed_column(counts)
            } else {
                counts.iter().map(|n| (Some(*n as f64), n.to_string())).collect()
            }
        };
        // Overdoses by month nationally, and by fylke with visits,
        // naloxone and overdoses per 100,000 inhabitants (a rate only where the count under it is shown).
        let today = now.to_zoned(oslo.clone()).date();
        let year_ago = today.checked_sub(jiff::Span::new().days(365)).unwrap_or(today);
        let mut monthly: BTreeMap<String, u64> = BTreeMap::new();
        let mut by_fylke: BTreeMap<String, [u64; 3]> = BTreeMap::new();
        let released = crate::know::tally::release_day(self.this_week + 1);
        for (d, fylke) in state.app.queries().user_room_days(None).await? {
            if d.day <= year_ago || (self.public && d.day >= released) {
                continue;
            }
            *monthly.entry(format!("{:04}-{:02}", d.day.year(), d.day.month())).or_insert(0) += u64::from(d.overdoses);
            let f = by_fylke.entry(fylke).or_insert([0; 3]);
            f[0] += u64::from(d.visits);
            f[1] += u64::from(d.overdoses);
            f[2] += u64::from(d.naloxone);
        }
        let counts: Vec<u64> = monthly.values().copied().collect();
        let data: Vec<Bar> = monthly
            .keys()
            .zip(column(&counts))
            .map(|(k, (v, shown))| Bar { label: k.clone(), value: v, shown })
            .collect();
        let fylker: Vec<&String> = by_fylke.keys().collect();
        let col = |i: usize| column(&by_fylke.values().map(|c| c[i]).collect::<Vec<_>>());
        let (visits, overdoses, naloxone) = (col(0), col(1), col(2));
        let population_year = i32::from(today.year()).min(2026);
        Ok(html! {
            (bars(lang, "user-rooms", t(lang, "dash_user_rooms"), t(lang, "dash_user_rooms"), t(lang, "col_month"), t(lang, "col_overdoses"), &data))
            @if !fylker.is_empty() {
                table {
                    caption { (t(lang, "dash_user_rooms_fylke")) }
                    thead { tr {
                        th scope="col" { (t(lang, "col_fylke")) }
                        th scope="col" { (t(lang, "col_visits")) }
                        th scope="col" { (t(lang, "col_overdoses")) }
                        th scope="col" { (t(lang, "col_naloxone")) }
                        th scope="col" { (t(lang, "col_per_100k")) }
                    } }
                    tbody {
                        @for (i, f) in fylker.iter().enumerate() {
                            @let name = geo.fylke(f).map_or(f.as_str(), |x| x.public_name());
                            @let population = geo.population_by_year().get(population_year, f).map(|p| p.all);
                            @let rate = overdoses[i].0.zip(population).and_then(|(n, p)| varde_domain::geo::rate(n as u64, p, 1e5));
                            tr {
                                th scope="row" { (name) }
                                td { (visits[i].1) } td { (overdoses[i].1) } td { (naloxone[i].1) }
                                td { (rate.map_or_else(|| "–".to_owned(), |r| number(r, 1, lang))) }
                            }
                        }
                    }
                }
            }
            p.meta { (t(lang, "dash_user_rooms_note")) }
        })
    }

    /// What a result changes, by the sample's highest finding.
    fn result_changes(&self) -> Markup {
        let state = self.state;
        let lang = self.lang;
        let tallies = self.tallies;
        let share = |num: Keyed, den: Keyed, lang: Lang| self.share(num, den, lang);
        // The share who said they would not use it or take less (of those who stated an intention) and the share who
        // later said they did not use it (of those who told).
        let mut changes: BTreeMap<Option<Tier>, [Keyed; 5]> = BTreeMap::new();
        for (p, n) in tallies.keyed() {
            use varde_domain::feedback::Intention;
            let row = changes.entry(p.highest_tier).or_default();
            if let Some(i) = p.intention.filter(|i| *i != Intention::NotStated) {
                row[0] += n;
                if i == Intention::NotUse {
                    row[1] += n;
                }
                if i == Intention::TakeLess {
                    row[2] += n;
                }
            }
            if let Some((used, _)) = p.outcome {
                row[3] += n;
                if !used {
                    row[4] += n;
                }
            }
        }
        changes.retain(|_, r| r[0].n > 0 || r[3].n > 0);
        html! {
            section.chart {
                h2 { (t(lang, "dash_feedback")) }
                @if changes.is_empty() {
                    p { "–" }
                } @else {
                    table {
                        thead { tr {
                            th scope="col" { (t(lang, "col_result")) }
                            th scope="col" { (t(lang, "col_will_not_use")) }
                            th scope="col" { (t(lang, "col_will_take_less")) }
                            th scope="col" { (t(lang, "col_did_not_use")) }
                        } }
                        tbody {
                            @for (tier, r) in changes.iter().rev() {
                                tr {
                                    th scope="row" { (tier.map_or_else(|| t(lang, "no_finding"), |t| state.assessor.templates.tier_word(t).get(lang))) }
                                    td { (share(r[1], r[0], lang).1) }
                                    td { (share(r[2], r[0], lang).1) }
                                    td { (share(r[4], r[3], lang).1) }
                                }
                            }
                        }
                    }
                }
                p.meta { (t(lang, "dash_feedback_note")) }
            }
        }
    }

    /// Time to warning and to acknowledgement, by month (two charts).
    async fn time_to_warning(&self) -> Result<Vec<Markup>, ApiError> {
        let state = self.state;
        let lang = self.lang;
        let public = self.public;
        let oslo = self.oslo.clone();
        let mut sections: Vec<Markup> = Vec::new();
        // Handed in → published, and published → each service's acknowledgement.
        let hours =
            |a: jiff::Timestamp, b: jiff::Timestamp| (b.as_millisecond() - a.as_millisecond()) as f64 / 3_600_000.0;
        let mut ttw: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        let mut tta: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        let cut = crate::know::tally::release_instant(self.this_week + 1);
        for w in state.app.queries().warning_times().await? {
            let Some(w) = (if public { crate::api::stats::as_of(w, cut) } else { Some(w) }) else { continue };
            if let Some(p) = w.published {
                let d = w.received.to_zoned(oslo.clone()).date();
                let month = format!("{:04}-{:02}", d.year(), d.month());
                ttw.entry(month.clone()).or_default().push(hours(w.received, p));
                tta.entry(month).or_default().extend(w.acknowledged.iter().map(|a| hours(p, *a)));
            }
        }
        let medians = |by_month: BTreeMap<String, Vec<f64>>| -> Vec<Bar> {
            by_month
                .into_iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(m, mut v)| {
                    let n = v.len();
                    // Public: a median of fewer than five alerts is too close to one alert's own time.
                    if public && (n as u64) < MIN_SHOWN {
                        return Bar { label: m, value: None, shown: "<5".to_owned() };
                    }
                    v.sort_by(f64::total_cmp);
                    let x = v[n / 2];
                    Bar { label: m, value: Some(x), shown: format!("{x:.1} ({n})") }
                })
                .collect()
        };
        sections.push(bars(
            lang,
            "ttw",
            t(lang, "dash_ttw"),
            t(lang, "dash_ttw"),
            t(lang, "col_month"),
            t(lang, "col_hours"),
            &medians(ttw),
        ));
        sections.push(bars(
            lang,
            "tta",
            t(lang, "dash_tta"),
            t(lang, "dash_tta"),
            t(lang, "col_month"),
            t(lang, "col_hours"),
            &medians(tta),
        ));
        Ok(sections)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_never_give_away_a_small_count() {
        assert_eq!(share(3, 40, Lang::En).1, "<5 / 40");
        assert_eq!(share(12, 40, Lang::En).1, "12 / 40 (30.0 %)");
        assert_eq!(share(12, 40, Lang::Nb).1, "12 / 40 (30,0 %)");
        assert_eq!(share(0, 40, Lang::En).1, "0 / 40 (0.0 %)");
        assert_eq!(share(2, 3, Lang::En).1, "<5");
        assert_eq!(median(vec![1.0, 2.0, 3.0, 4.0]), None, "no median of fewer than five");
        assert_eq!(median(vec![5.0, 1.0, 3.0, 2.0, 4.0]), Some(3.0));
    }

    #[test]
    fn a_column_of_counts_is_suppressed_with_a_partner() {
        let shown = suppressed_column(&[40, 3, 25, 60]);
        assert_eq!(shown[1].1, "<5");
        assert!(shown.iter().filter(|(v, _)| v.is_none()).count() >= 2, "{shown:?}");
    }
}
