//! Open data: the anonymised sample table and suppressed count tables, as CSV and JSON, and the data dictionary.
//! The same functions serve `GET /open-data/...` and `varde export`.

use crate::AppState;
use crate::http::error::ApiError;
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::i18n::t;
use crate::http::lang::negotiate;
use crate::know::figures::Rendering;
use crate::know::tally::{Profile, Snapshot};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use maud::html;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;
use varde_domain::ErrorCode;
use varde_domain::catalogue::SubstanceClass;
use varde_domain::cell_key::{self, Keyed, Link};
use varde_domain::opendata::{self, OpenRow, Record, Text};
use varde_domain::privacy::Cell;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/open-data", get(dictionary)).route("/open-data/{file}", get(file))
}

/// One published count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CountRow {
    pub period: String,
    pub area: String,
    pub class: String,
    /// A number (within ±2 of the count, see [`varde_domain::cell_key`]), "<5" for 1-4, or 0.
    pub count: String,
}

fn quarter(p: &Profile) -> String {
    format!("{}-Q{}", p.iso_year, ((i16::from(p.iso_week) - 1) / 13).min(3) + 1)
}

/// The sample table's records, each with how many samples it stands for.
pub fn records(tallies: &Snapshot) -> Vec<(Record, u64)> {
    let mut counted: HashMap<Record, u64> = HashMap::new();
    // Records share the profiles' texts; forms and tiers are few, one shared text each.
    let mut few: HashMap<&'static str, Text> = HashMap::new();
    let mut text = |s: &'static str| few.entry(s).or_insert_with(|| Text::from(s)).clone();
    for (p, n) in tallies.profiles() {
        let record = Record {
            iso_year: p.iso_year,
            iso_week: p.iso_week,
            fylke: p.fylke.clone(),
            form: text(p.form.as_str()),
            sold_as_class: p.sold_as_class.clone(),
            substances_found: p.substances_found.clone(),
            highest_tier: text(p.highest_tier.map_or("none", |t| t.as_str())),
        };
        *counted.entry(record).or_insert(0) += n;
    }
    counted.into_iter().collect()
}

fn classes_counted() -> Vec<String> {
    SubstanceClass::ALL.iter().filter(|k| **k != SubstanceClass::CuttingAgent).map(|k| k.as_str().to_owned()).collect()
}

/// The two count tables, made together because they count the same samples: a quarter's fylker and that quarter's
/// weeks add up to the same number for each class. Every count is protected by the cell-key method
/// ([`varde_domain::cell_key`]); totals are not published (exact totals are what let small counts be worked out).
/// Before anything leaves, each quarter and class is checked as an attacker would check it — its fylke cells against
/// its week cells and against the rows of the sample table that fall in it — and where a "<5" could be narrowed,
/// that quarter's cells of the class are published as "x" in both tables.
pub struct CountTables {
    /// Samples per quarter, fylke and class found.
    pub fylke: Vec<CountRow>,
    /// National samples per ISO week and class found (each year's weeks that held samples).
    pub weekly: Vec<CountRow>,
}

/// The current release's count tables, kept until the next release (see [`count_tables`]).
#[derive(Default)]
pub struct CountTablesCache(std::sync::Mutex<Option<(i64, std::sync::Arc<CountTables>)>>);

impl CountTablesCache {
    /// The tables of the release cut at week `cut`, made by `make` the first time.
    pub fn get(&self, cut: i64, make: impl FnOnce() -> CountTables) -> std::sync::Arc<CountTables> {
        let mut kept = self.0.lock().expect("not poisoned");
        match kept.as_ref() {
            Some((at, tables)) if *at == cut => tables.clone(),
            _ => {
                let tables = std::sync::Arc::new(make());
                *kept = Some((cut, tables.clone()));
                tables
            }
        }
    }
}

/// (quarter or week, fylke or "national", class) → the cell published.
type Cells = BTreeMap<(String, String, String), Cell>;

pub fn count_tables(state: &AppState, tallies: &Snapshot) -> CountTables {
    let fylker: Vec<String> = state.assessor.geography.fylker().iter().map(|f| f.number.clone()).collect();
    let classes = classes_counted();
    let mut by_fylke: HashMap<(String, String, String), Keyed> = HashMap::new();
    let mut by_week: HashMap<(String, String), Keyed> = HashMap::new();
    let mut quarters: BTreeSet<String> = BTreeSet::new();
    let mut weeks: BTreeSet<(String, String)> = BTreeSet::new(); // (quarter, week)
    for (p, n) in tallies.keyed() {
        let (q, w) = (quarter(p), format!("{}-W{:02}", p.iso_year, p.iso_week));
        quarters.insert(q.clone());
        weeks.insert((q.clone(), w.clone()));
        for k in p.classes.iter() {
            *by_fylke.entry((q.clone(), p.fylke.to_string(), k.as_str().to_owned())).or_default() += n;
            *by_week.entry((w.clone(), k.as_str().to_owned())).or_default() += n;
        }
    }
    let mut fylke: Cells = BTreeMap::new();
    let mut weekly: Cells = BTreeMap::new();
    for q in &quarters {
        for f in &fylker {
            for k in &classes {
                let count = by_fylke.get(&(q.clone(), f.clone(), k.clone())).copied().unwrap_or_default();
                fylke.insert((q.clone(), f.clone(), k.clone()), cell_key::protect(count));
            }
        }
    }
    for (_, w) in &weeks {
        for k in &classes {
            let count = by_week.get(&(w.clone(), k.clone())).copied().unwrap_or_default();
            weekly.insert((w.clone(), "national".into(), k.clone()), cell_key::protect(count));
        }
    }
    // What the sample table tells of each period's classes: its rows are samples, a lower bound of the counts.
    let floors = sample_table_floors(state, &samples_table(tallies));
    let floor = |period: &str, k: &str| floors.get(&(period.to_owned(), k.to_owned())).copied().unwrap_or(0);
    let mut hide: BTreeSet<(String, String)> = BTreeSet::new(); // (quarter, class)
    for q in &quarters {
        let in_q: Vec<&String> = weeks.iter().filter(|(qq, _)| qq == q).map(|(_, w)| w).collect();
        for k in &classes {
            let left: Vec<Cell> = fylker.iter().map(|f| fylke[&(q.clone(), f.clone(), k.clone())]).collect();
            let right: Vec<Cell> = in_q.iter().map(|w| weekly[&((*w).clone(), "national".into(), k.clone())]).collect();
            if cell_key::narrows(&Link { left: &left, right: &right, floor: floor(q, k) }) {
                hide.insert((q.clone(), k.clone()));
            }
        }
    }
    // A year's rows in the sample table bound the year's weeks together (with its quarters' rows).
    for year in quarters.iter().map(|q| q[..4].to_owned()).collect::<BTreeSet<_>>() {
        for k in &classes {
            let in_year: Vec<Cell> =
                weekly.iter().filter(|((w, _, kk), _)| w.starts_with(&year) && kk == k).map(|(_, c)| *c).collect();
            let quarter_rows: u64 = (1..=4).map(|i| floor(&format!("{year}-Q{i}"), k)).sum();
            if cell_key::narrows(&Link { left: &in_year, right: &[], floor: floor(&year, k) + quarter_rows }) {
                hide.extend(quarters.iter().filter(|q| q.starts_with(&year)).map(|q| (q.clone(), k.clone())));
            }
        }
    }
    for (q, k) in &hide {
        for ((p, _, kk), c) in fylke.iter_mut() {
            if p == q && kk == k {
                *c = Cell::Hidden;
            }
        }
        for ((w, _, kk), c) in weekly.iter_mut() {
            if kk == k && weeks.contains(&(q.clone(), w.clone())) {
                *c = Cell::Hidden;
            }
        }
    }
    if !hide.is_empty() {
        tracing::info!(hidden = hide.len(), "quarters and classes published as x so that no small count narrows");
    }
    let rows = |cells: Cells| -> Vec<CountRow> {
        cells
            .into_iter()
            .map(|((period, area, class), c)| CountRow { period, area, class, count: c.to_string() })
            .collect()
    };
    CountTables { fylke: rows(fylke), weekly: rows(weekly) }
}

/// Rows of the sample table per (period, class found): what an attacker knows each period's counts reach.
fn sample_table_floors(state: &AppState, rows: &[(OpenRow, u64)]) -> HashMap<(String, String), u64> {
    let catalogue = &state.assessor.catalogue;
    let mut floors: HashMap<(String, String), u64> = HashMap::new();
    for (row, n) in rows {
        let found: BTreeSet<&str> = row
            .substances_found
            .split('+')
            .filter_map(|id| catalogue.get(id))
            .filter(|x| x.class != SubstanceClass::CuttingAgent)
            .map(|x| x.class.as_str())
            .collect();
        for k in found {
            *floors.entry((row.period.to_string(), k.to_owned())).or_default() += n;
        }
    }
    floors
}

/// Samples per quarter, fylke and class found (see [`count_tables`]).
pub fn fylke_counts(state: &AppState, tallies: &Snapshot) -> Vec<CountRow> {
    count_tables(state, tallies).fylke
}

/// National samples per ISO week and class found (see [`count_tables`]).
pub fn weekly_counts(state: &AppState, tallies: &Snapshot) -> Vec<CountRow> {
    count_tables(state, tallies).weekly
}

/// Lists every cell of a table keyed by (row, column) as published, each count protected by the cell-key method.
fn publish(
    counts: &BTreeMap<(String, String), Keyed>,
    rows: &[String],
    cols: &[String],
) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for r in rows {
        for c in cols {
            let count = counts.get(&(r.clone(), c.clone())).copied().unwrap_or_default();
            out.push((r.clone(), c.clone(), cell_key::protect(count).to_string()));
        }
    }
    out
}

/// What results changed, per year and highest finding: how many samples had each stated intention and each told
/// outcome, by class found (answers × classes for each year and tier).
#[derive(Debug, Clone, serde::Serialize)]
pub struct ChangeRow {
    pub year: String,
    /// The sample's highest finding (`none` without one).
    pub highest_tier: String,
    /// `intention_<answer>` or `outcome_<answer>`.
    pub answer: String,
    pub class: String,
    /// A number (within ±2 of the count, see [`varde_domain::cell_key`]), "<5" for 1-4, or 0.
    pub count: String,
}

pub fn result_changes(tallies: &Snapshot) -> Vec<ChangeRow> {
    let mut tables: BTreeMap<(i16, String), BTreeMap<(String, String), Keyed>> = BTreeMap::new();
    for (p, n) in tallies.keyed().filter(|(p, _)| p.intention.is_some() || p.outcome.is_some()) {
        let tier = p.highest_tier.map_or("none", |t| t.as_str()).to_owned();
        let answers = p
            .intention
            .map(|i| format!("intention_{}", i.as_str()))
            .into_iter()
            .chain(p.outcome.map(|(_, kind)| format!("outcome_{kind}")));
        let table = tables.entry((p.iso_year, tier)).or_default();
        for answer in answers {
            for k in p.classes.iter() {
                *table.entry((answer.clone(), k.as_str().to_owned())).or_default() += n;
            }
        }
    }
    let answers: Vec<String> = varde_domain::feedback::Intention::ALL
        .iter()
        .map(|i| format!("intention_{}", i.as_str()))
        .chain(
            ["did_not_use"]
                .into_iter()
                .chain(varde_domain::feedback::Effect::ALL.iter().map(|e| e.as_str()))
                .map(|o| format!("outcome_{o}")),
        )
        .collect();
    let classes = classes_counted();
    tables
        .iter()
        .flat_map(|((year, tier), counts)| {
            publish(counts, &answers, &classes).into_iter().map(|(answer, class, count)| ChangeRow {
                year: year.to_string(),
                highest_tier: tier.clone(),
                answer,
                class,
                count,
            })
        })
        .collect()
}

fn changes_csv(rows: &[ChangeRow]) -> String {
    let mut out = String::from("year,highest_tier,answer,class,count\n");
    for r in rows {
        let fields = [&r.year, &r.highest_tier, &r.answer, &r.class, &r.count];
        out.push_str(&fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

/// The anonymised sample table, each row with how many times it occurs (sorted; see [`opendata::anonymise_counted`]).
pub fn samples_table(tallies: &Snapshot) -> Vec<(OpenRow, u64)> {
    opendata::anonymise_counted(&records(tallies), opendata::K)
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_owned() }
}

/// Writes the sample table as CSV, one line per sample (a line repeated as often as its row occurs).
pub fn write_samples_csv(rows: &[(OpenRow, u64)], out: &mut dyn Write) -> std::io::Result<()> {
    out.write_all(b"period,area,form,sold_as_class,substances_found,highest_tier\n")?;
    for (r, n) in rows {
        let fields = [&r.period, &r.area, &r.form, &r.sold_as_class, &r.substances_found, &r.highest_tier];
        let mut line = fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(",");
        line.push('\n');
        for _ in 0..*n {
            out.write_all(line.as_bytes())?;
        }
    }
    Ok(())
}

/// Writes the sample table as a JSON array with one object per sample, row by row.
pub fn write_samples_json(rows: &[(OpenRow, u64)], out: &mut dyn Write) -> std::io::Result<()> {
    out.write_all(b"[")?;
    let mut first = true;
    for (r, n) in rows {
        let object = serde_json::to_string(r).expect("plain data serialises");
        for _ in 0..*n {
            if !first {
                out.write_all(b",")?;
            }
            first = false;
            out.write_all(object.as_bytes())?;
        }
    }
    out.write_all(b"]")
}

pub fn counts_csv(rows: &[CountRow]) -> String {
    let mut out = String::from("period,area,class,count\n");
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{}\n",
            csv_field(&r.period),
            csv_field(&r.area),
            csv_field(&r.class),
            csv_field(&r.count)
        ));
    }
    out
}

/// The files, by name: what `/open-data/{name}` serves and `varde export` writes.
pub const FILES: [&str; 8] = [
    "samples.csv",
    "samples.json",
    "fylke-counts.csv",
    "fylke-counts.json",
    "weekly-counts.csv",
    "weekly-counts.json",
    "result-changes.csv",
    "result-changes.json",
];

/// Writes an open-data file: what it takes from the counted samples is gathered now, the writing is returned, so
/// that a caller can run it where it may block (the server off its async workers, `varde export` into a file). The
/// sample tables are written row by row: a million-row file never has to exist whole in memory.
pub type Writing = Box<dyn FnOnce(&mut dyn Write) -> std::io::Result<()> + Send>;

/// The writing of open-data file `name`, or `None` for a name that is not one of [`FILES`].
pub async fn writing(state: &AppState, name: &str) -> Result<Option<Writing>, ApiError> {
    if !FILES.contains(&name) {
        return Ok(None);
    }
    // The week's release, as the dashboard shows it: whole weeks, unchanged until the next release. Its two count
    // tables are made (and audited) together once per release, not once per file.
    let (cut, tallies) = state.tallies.released(state).await?;
    let tables = state.count_tables.get(cut, || count_tables(state, &tallies));
    let text = |body: String| -> Writing { Box::new(move |out: &mut dyn Write| out.write_all(body.as_bytes())) };
    let json = |v: serde_json::Result<String>| v.expect("plain data serialises");
    Ok(Some(match name {
        "samples.csv" => Box::new(move |out: &mut dyn Write| write_samples_csv(&samples_table(&tallies), out)),
        "samples.json" => Box::new(move |out: &mut dyn Write| write_samples_json(&samples_table(&tallies), out)),
        "fylke-counts.csv" => text(counts_csv(&tables.fylke)),
        "fylke-counts.json" => text(json(serde_json::to_string(&tables.fylke))),
        "weekly-counts.csv" => text(counts_csv(&tables.weekly)),
        "weekly-counts.json" => text(json(serde_json::to_string(&tables.weekly))),
        "result-changes.csv" => text(changes_csv(&result_changes(&tallies))),
        _ => text(json(serde_json::to_string(&result_changes(&tallies)))),
    }))
}

async fn file(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(&name) = FILES.iter().find(|f| **f == name) else {
        return Err(ApiError::new(ErrorCode::NotFound, "no such open-data file; see /open-data"));
    };
    let ct = if name.ends_with(".csv") { "text/csv; charset=utf-8" } else { "application/json" };
    let renderer = state.clone();
    // Kept in memory and renewed in the background (crate::know::figures): a download never reads every sample.
    let body = state
        .figures
        .get(&format!("open-data/{name}"), move || async move {
            let writing = writing(&renderer, name).await?.expect("a listed file");
            Ok::<_, ApiError>(Rendering::write(writing).await?)
        })
        .await?;
    Ok(body.respond(&headers, ct, "public, max-age=300"))
}

#[derive(serde::Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

async fn dictionary(ApiQuery(q): ApiQuery<LangQuery>, headers: HeaderMap) -> Response {
    let lang = negotiate(q.lang.as_deref(), &headers);
    let columns = [
        ("period", "od_col_period"),
        ("area", "od_col_area"),
        ("form", "od_col_form"),
        ("sold_as_class", "od_col_sold_as_class"),
        ("substances_found", "od_col_substances_found"),
        ("highest_tier", "od_col_highest_tier"),
        ("class", "od_col_class"),
        ("count", "od_col_count"),
        ("year", "od_col_year"),
        ("answer", "od_col_answer"),
    ];
    let body = html! {
        h1 { (t(lang, "open_data")) }
        p { (t(lang, "od_intro")) }
        // What a reuser must know before anything else: the licence, and how current the files are.
        p { (t(lang, "od_licence")) " " a href="https://data.norge.no/nlod/no/2.0" { "NLOD 2.0" } "." }
        p.meta {
            (crate::know::dashboard::release_line(crate::know::tally::week_no_at(jiff::Timestamp::now()), lang))
            " " (t(lang, "od_updated"))
        }
        h2 { (t(lang, "od_files")) }
        ul { @for f in FILES { li { a href={ "/open-data/" (f) } { (f) } } } }
        h2 { (t(lang, "od_columns")) }
        dl { @for (name, key) in columns { dt { code { (name) } } dd { (t(lang, key)) } } }
    };
    crate::http::pages::page(crate::http::pages::layout(lang, t(lang, "open_data"), "/open-data", body))
}
