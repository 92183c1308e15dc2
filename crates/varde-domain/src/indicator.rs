//! Indicators beside samples: anonymous concern reports (bekymringsmeldinger) and user rooms' daily counts.

use crate::error::ErrorCode;
use crate::geo::Geography;
use crate::sample::{InvalidInput, MAX_NOTES, MAX_SHORT_TEXT, check_text};
use serde::{Deserialize, Serialize};

/// A concern report as the public form sends it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ConcernInput {
    /// What happened.
    #[serde(default)]
    pub happened: String,
    /// Four-digit kommunenummer.
    #[serde(default)]
    pub kommune: String,
    /// What the product was believed to be.
    #[serde(default)]
    pub believed: Option<String>,
    /// What it looked like.
    #[serde(default)]
    pub looked_like: Option<String>,
    /// A field people do not see; only form-filling robots fill it in.
    #[serde(default)]
    pub website: Option<String>,
    /// The form's anti-forgery token (checked by the web edge, not part of the report).
    #[serde(default)]
    pub csrf: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConcern {
    pub kommune: String,
    pub fylke: String,
    pub happened: String,
    pub believed: Option<String>,
    pub looked_like: Option<String>,
}

impl ConcernInput {
    /// True when the hidden field was filled in: a robot, to be thanked and ignored.
    pub fn is_robot(&self) -> bool {
        self.website.as_deref().is_some_and(|w| !w.trim().is_empty())
    }

    pub fn validate(&self, geography: &Geography) -> Result<NewConcern, InvalidInput> {
        let happened = check_text("happened", Some(&self.happened), MAX_NOTES)?.ok_or_else(|| InvalidInput {
            code: ErrorCode::InvalidValue,
            field: "happened".into(),
            message: "say briefly what happened".into(),
        })?;
        let k = geography.kommune(self.kommune.trim()).ok_or_else(|| InvalidInput {
            code: ErrorCode::InvalidValue,
            field: "kommune".into(),
            message: "choose the kommune it happened in".into(),
        })?;
        Ok(NewConcern {
            kommune: k.number.clone(),
            fylke: k.fylke.clone(),
            happened,
            believed: check_text("believed", self.believed.as_deref(), MAX_SHORT_TEXT)?,
            looked_like: check_text("looked_like", self.looked_like.as_deref(), MAX_SHORT_TEXT)?,
        })
    }
}

/// A user room's counts for one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserRoomDay {
    /// The slug of the service the counts are for.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", min_length = 2, max_length = 48))]
    pub service: String,
    /// YYYY-MM-DD.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub day: jiff::civil::Date,
    #[serde(deserialize_with = "crate::wire::count")]
    pub visits: u32,
    #[serde(deserialize_with = "crate::wire::count")]
    pub overdoses: u32,
    #[serde(deserialize_with = "crate::wire::count")]
    pub naloxone: u32,
    #[serde(deserialize_with = "crate::wire::count")]
    pub referrals: u32,
}

impl UserRoomDay {
    /// Counts that cannot be right are refused: overdoses and naloxone doses are among visits, and the day has been.
    pub fn check(&self, today: jiff::civil::Date) -> Result<(), InvalidInput> {
        let bad = |field: &str, message: &str| InvalidInput {
            code: ErrorCode::InvalidValue,
            field: field.into(),
            message: message.into(),
        };
        if self.day > today {
            return Err(bad("day", "the day has not come yet"));
        }
        if self.overdoses > self.visits {
            return Err(bad("overdoses", "overdoses cannot outnumber visits"));
        }
        if self.visits > 10_000 {
            return Err(bad("visits", "more than 10,000 visits in a day is not plausible"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concern_reports_need_what_happened_and_a_real_kommune_and_refuse_personal_data() {
        let g = Geography::norway();
        let ok = ConcernInput {
            happened: "Venn ble bevisstløs etter en halv tablett".into(),
            kommune: "4601".into(),
            ..Default::default()
        };
        assert_eq!(ok.validate(&g).unwrap().fylke, "46");
        let no_kommune = ConcernInput { kommune: "9999".into(), ..ok.clone() };
        assert_eq!(no_kommune.validate(&g).unwrap_err().field, "kommune");
        let phone = ConcernInput { happened: "ring meg 91234567".into(), ..ok.clone() };
        assert_eq!(phone.validate(&g).unwrap_err().code.as_str(), "personal_data_refused");
        assert!(ConcernInput { website: Some("http://spam".into()), ..ok.clone() }.is_robot());
        assert!(!ok.is_robot());
    }

    #[test]
    fn user_room_counts_must_add_up() {
        let today: jiff::civil::Date = "2026-11-23".parse().unwrap();
        let d = UserRoomDay {
            service: "x".into(),
            day: "2026-11-22".parse().unwrap(),
            visits: 40,
            overdoses: 2,
            naloxone: 1,
            referrals: 3,
        };
        assert!(d.check(today).is_ok());
        assert_eq!(UserRoomDay { overdoses: 41, ..d.clone() }.check(today).unwrap_err().field, "overdoses");
        assert_eq!(UserRoomDay { day: "2026-11-24".parse().unwrap(), ..d }.check(today).unwrap_err().field, "day");
    }
}

/// Drug-induced deaths in a year, as imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeathsYear {
    pub year: i32,
    pub deaths: u32,
    pub note: Option<String>,
    pub source: String,
}

/// Drug-induced deaths in a year with their rates: per million inhabitants and per million aged 15-64 (the
/// EMCDDA's measure), each with the population of the same year; None where that population is not known.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeathRate {
    pub year: i32,
    pub deaths: u32,
    pub population: Option<u64>,
    pub per_million: Option<f64>,
    pub population_15_64: Option<u64>,
    pub per_million_15_64: Option<f64>,
}

/// Rates for every year with deaths data, oldest first, from the national rows of the population table.
pub fn death_rates(deaths: &[(i32, u32)], population: &crate::geo::PopulationByYear) -> Vec<DeathRate> {
    let mut out: Vec<DeathRate> = deaths
        .iter()
        .map(|&(year, deaths)| {
            let p = population.get(year, crate::geo::NORWAY);
            let rate = |n: Option<u64>| n.and_then(|n| crate::geo::rate(u64::from(deaths), n, 1e6));
            DeathRate {
                year,
                deaths,
                population: p.map(|p| p.all),
                per_million: rate(p.map(|p| p.all)),
                population_15_64: p.map(|p| p.aged_15_64),
                per_million_15_64: rate(p.map(|p| p.aged_15_64)),
            }
        })
        .collect();
    out.sort_by_key(|r| r.year);
    out
}

/// Reads `year,deaths,note,source` with a header; each error names file and line.
/// The drug-induced deaths per year that ship with Varde (`data/overdose/norway_drug_induced_deaths.csv`, FHI's
/// cause-of-death register figures): what the dashboard shows until an operator imports newer ones.
pub fn shipped_deaths() -> Vec<(i32, u32)> {
    parse_deaths("norway_drug_induced_deaths.csv", include_str!("../data/overdose/norway_drug_induced_deaths.csv"))
        .expect("the shipped deaths file is valid (checked by tests)")
        .into_iter()
        .map(|d| (d.year, d.deaths))
        .collect()
}

pub fn parse_deaths(file: &str, text: &str) -> Result<Vec<DeathsYear>, crate::datafile::DataFileError> {
    let mut out: Vec<DeathsYear> = Vec::new();
    for (line, f) in crate::datafile::csv_rows(file, text, 4).map_err(|e| crate::datafile::DataFileError {
        message: format!("{} (the columns are year, deaths, note, source)", e.message),
        ..e
    })? {
        let err = |m: String| crate::datafile::DataFileError { file: file.into(), line, message: m };
        let year: i32 = f[0]
            .trim()
            .parse()
            .ok()
            .filter(|y| (1950..=2100).contains(y))
            .ok_or_else(|| err(format!("'{}' is not a year", f[0])))?;
        let deaths: u32 = f[1].trim().parse().map_err(|_| err(format!("'{}' is not a count", f[1])))?;
        if out.iter().any(|d| d.year == year) {
            return Err(err(format!("{year} appears twice")));
        }
        let note = Some(f[2].trim().to_owned()).filter(|n| !n.is_empty());
        out.push(DeathsYear { year, deaths, note, source: f[3].trim().to_owned() });
    }
    Ok(out)
}

#[cfg(test)]
mod deaths_tests {
    use super::*;

    #[test]
    fn the_shipped_file_reads_and_quoted_commas_stay_in_their_field() {
        let rows = parse_deaths("deaths.csv", include_str!("../data/overdose/norway_drug_induced_deaths.csv")).unwrap();
        assert_eq!(rows.len(), 9);
        assert_eq!(rows.last().unwrap().year, 2023);
        assert_eq!(rows.last().unwrap().deaths, 363);
        // Every year with deaths data has a rate from the population of the same year.
        let pairs: Vec<(i32, u32)> = rows.iter().map(|r| (r.year, r.deaths)).collect();
        let rates = death_rates(&pairs, crate::Geography::norway().population_by_year());
        assert!(rates.iter().all(|r| r.per_million.is_some() && r.per_million_15_64.is_some()));
        let r2023 = rates.iter().find(|r| r.year == 2023).unwrap();
        assert_eq!(format!("{:.1}", r2023.per_million.unwrap()), "66.1");
        assert_eq!(format!("{:.1}", r2023.per_million_15_64.unwrap()), "101.9");
        assert_eq!(death_rates(&[(1990, 100)], crate::Geography::norway().population_by_year())[0].per_million, None);
        assert!(rows.last().unwrap().note.as_deref().unwrap().contains("Vestland 58 deaths (9.1 per 100k), Rogaland"));
        let e = parse_deaths("d.csv", "year,deaths,note,source\n2020,many,,x\n").unwrap_err();
        assert_eq!((e.line, e.message.contains("many")), (2, true));
    }
}
