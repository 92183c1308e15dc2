//! Norway's administrative geography (2024 structure): 357 kommuner in 15 fylker, with population.
//! Shipped with Varde (`data/geo/`, from SSB via FHI's csdata); nothing is downloaded at run time.

use crate::datafile::DataFileError;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fylke {
    /// Two digits, e.g. "03" for Oslo.
    pub number: String,
    /// The official name, with its Sami or Kven form where it has one ("Trøndelag-Trööndelage").
    pub name: String,
    /// Population on 1 January of 2024, 2025 and 2026.
    pub population: [u32; 3],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kommune {
    /// Four digits, e.g. "0301" for Oslo.
    pub number: String,
    pub name: String,
    pub fylke: String,
    pub population: [u32; 3],
}

#[derive(Debug, Clone)]
pub struct Geography {
    fylker: Vec<Fylke>,
    kommuner: Vec<Kommune>,
    kommune_index: HashMap<String, usize>,
    by_year: PopulationByYear,
}

/// Population on 1 January by year and area ("00" for Norway, else a fylkesnummer of the 2024 structure).
#[derive(Debug, Clone, Default)]
pub struct PopulationByYear {
    rows: HashMap<(i32, String), Population>,
}

/// Inhabitants in all, and aged 15-64 (the age band the EMCDDA uses for drug-induced death rates).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Population {
    pub all: u64,
    pub aged_15_64: u64,
}

/// The area code of the whole country in the population table.
pub const NORWAY: &str = "00";

impl PopulationByYear {
    /// Reads `year,fylkesnummer,population_jan1,population_15_64_jan1` with a header; errors name file and line.
    pub fn parse(file: &str, text: &str) -> Result<PopulationByYear, DataFileError> {
        let mut rows = HashMap::new();
        for (line, fields) in crate::datafile::csv_rows(file, text, 4)? {
            let err = |m: String| DataFileError { file: file.into(), line, message: m };
            let year: i32 = fields[0].parse().map_err(|_| err(format!("'{}' is not a year", fields[0])))?;
            let area = fields[1].clone();
            if area.len() != 2 || !area.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err(format!("'{area}' is not a fylkesnummer")));
            }
            let count = |s: &str| s.parse::<u64>().map_err(|_| err(format!("'{s}' is not a population")));
            let p = Population { all: count(&fields[2])?, aged_15_64: count(&fields[3])? };
            if p.aged_15_64 > p.all {
                return Err(err("more inhabitants aged 15-64 than in all".into()));
            }
            if rows.insert((year, area.clone()), p).is_some() {
                return Err(err(format!("{year} {area} appears twice")));
            }
        }
        Ok(PopulationByYear { rows })
    }

    /// The population of `area` ("00" for Norway) on 1 January of `year`, if known.
    pub fn get(&self, year: i32, area: &str) -> Option<Population> {
        self.rows.get(&(year, area.to_owned())).copied()
    }
}

/// `count` per `per` inhabitants (e.g. per million, per 100,000), None without a population.
pub fn rate(count: u64, population: u64, per: f64) -> Option<f64> {
    (population > 0).then(|| count as f64 / population as f64 * per)
}

/// The first year of the population columns.
pub const FIRST_POPULATION_YEAR: i32 = 2024;

impl Fylke {
    /// The name as the public writes it in running text, in bokmål, nynorsk and English alike: the Norwegian form
    /// of the official name ("Trøndelag" for "Trøndelag-Trööndelage"; "Møre og Romsdal" stays whole).
    pub fn public_name(&self) -> &str {
        self.name.split_once('-').map_or(self.name.as_str(), |(norwegian, _)| norwegian)
    }
}

impl Geography {
    /// The 2024 structure shipped with Varde.
    pub fn norway() -> Geography {
        let mut g = Geography::parse(
            include_str!("../data/geo/fylker_2024.csv"),
            include_str!("../data/geo/kommuner_2024.csv"),
        )
        .expect("the shipped geography is valid (checked by tests)");
        g.by_year = PopulationByYear::parse(
            "population_by_year_2005_2026.csv",
            include_str!("../data/geo/population_by_year_2005_2026.csv"),
        )
        .expect("the shipped population table is valid (checked by tests)");
        g
    }

    pub fn parse(fylker_csv: &str, kommuner_csv: &str) -> Result<Geography, DataFileError> {
        let mut fylker = Vec::new();
        for (line, fields) in crate::datafile::csv_rows("fylker_2024.csv", fylker_csv, 5)? {
            let err = |m: &str| DataFileError { file: "fylker_2024.csv".into(), line, message: m.into() };
            if fields[0].len() != 2 || !fields[0].bytes().all(|b| b.is_ascii_digit()) {
                return Err(err("fylkesnummer must be two digits"));
            }
            fylker.push(Fylke {
                number: fields[0].clone(),
                name: fields[1].clone(),
                population: population(&fields[2..5]).ok_or_else(|| err("population must be whole numbers"))?,
            });
        }
        let mut kommuner = Vec::new();
        let mut kommune_index = HashMap::new();
        for (line, fields) in crate::datafile::csv_rows("kommuner_2024.csv", kommuner_csv, 7)? {
            let err = |m: String| DataFileError { file: "kommuner_2024.csv".into(), line, message: m };
            if fields[0].len() != 4 || !fields[0].bytes().all(|b| b.is_ascii_digit()) {
                return Err(err("kommunenummer must be four digits".into()));
            }
            if !fylker.iter().any(|f| f.number == fields[2]) {
                return Err(err(format!("fylke {} is not in fylker_2024.csv", fields[2])));
            }
            let k = Kommune {
                number: fields[0].clone(),
                name: fields[1].clone(),
                fylke: fields[2].clone(),
                population: population(&fields[4..7]).ok_or_else(|| err("population must be whole numbers".into()))?,
            };
            if kommune_index.insert(k.number.clone(), kommuner.len()).is_some() {
                return Err(err(format!("kommune {} appears twice", k.number)));
            }
            kommuner.push(k);
        }
        Ok(Geography { fylker, kommuner, kommune_index, by_year: PopulationByYear::default() })
    }

    pub fn kommune(&self, number: &str) -> Option<&Kommune> {
        self.kommune_index.get(number).map(|i| &self.kommuner[*i])
    }

    pub fn fylke(&self, number: &str) -> Option<&Fylke> {
        self.fylker.iter().find(|f| f.number == number)
    }

    pub fn fylker(&self) -> &[Fylke] {
        &self.fylker
    }

    pub fn kommuner(&self) -> &[Kommune] {
        &self.kommuner
    }

    /// Population by year 2005-2026, nationally and by fylke (empty for a geography parsed without it).
    pub fn population_by_year(&self) -> &PopulationByYear {
        &self.by_year
    }
}

fn population(fields: &[String]) -> Option<[u32; 3]> {
    Some([fields[0].parse().ok()?, fields[1].parse().ok()?, fields[2].parse().ok()?])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn norway_has_357_kommuner_in_15_fylker() {
        let g = Geography::norway();
        assert_eq!(g.kommuner().len(), 357);
        assert_eq!(g.fylker().len(), 15);
        assert_eq!(g.kommune("0301").unwrap().fylke, "03");
        assert_eq!(g.kommune("4601").unwrap().name, "Bergen");
        assert!(g.kommune("0000").is_none());
        for k in g.kommuner() {
            assert!(g.fylke(&k.fylke).is_some(), "{} has a fylke", k.number);
        }
        let sum: u64 = g.fylker().iter().map(|f| u64::from(f.population[0])).sum();
        let sum_k: u64 = g.kommuner().iter().map(|k| u64::from(k.population[0])).sum();
        assert_eq!(sum, sum_k, "kommuner add up to the fylker");
    }

    #[test]
    fn a_kommune_in_an_unknown_fylke_is_refused_with_its_line() {
        let f = "\"fylkesnummer\",\"n\",\"a\",\"b\",\"c\"\n\"03\",\"Oslo\",1,2,3\n";
        let k = "h,h,h,h,h,h,h\n\"0301\",\"Oslo\",\"03\",\"Oslo\",1,2,3\n\"9999\",\"X\",\"99\",\"X\",1,2,3\n";
        let err = Geography::parse(f, k).unwrap_err();
        assert_eq!(err.line, 3);
    }

    #[test]
    fn population_by_year_covers_2005_to_2026_and_adds_up() {
        let g = Geography::norway();
        let p = g.population_by_year();
        // The figure: 363 deaths in 2023 are 66.1 per million inhabitants.
        let norway_2023 = p.get(2023, NORWAY).unwrap();
        assert_eq!(norway_2023.all, 5_488_984);
        assert_eq!(format!("{:.1}", rate(363, norway_2023.all, 1e6).unwrap()), "66.1");
        for year in 2005..=2026 {
            let national = p.get(year, NORWAY).unwrap_or_else(|| panic!("{year}"));
            let fylker: u64 = g.fylker().iter().map(|f| p.get(year, &f.number).unwrap().all).sum();
            // SSB's figures for older years counted into today's borders differ by a few people (and in 2005 by
            // 11,766 not placed in a fylke); the national row is the one rates use.
            let gap = (fylker as f64 - national.all as f64).abs() / national.all as f64;
            assert!(gap < 0.003, "{year}: the fylker add up to Norway within 0.3 % ({fylker} vs {})", national.all);
        }
        // The 2024-2026 columns of the fylke file agree with the table.
        for f in g.fylker() {
            assert_eq!(p.get(2024, &f.number).unwrap().all, u64::from(f.population[0]), "{}", f.number);
        }
        assert!(p.get(2004, NORWAY).is_none() && p.get(2027, NORWAY).is_none());
        assert_eq!(rate(1, 0, 1e6), None);
        let e = PopulationByYear::parse("p.csv", "year,f,a,b\n2020,00,10,11\n").unwrap_err();
        assert_eq!((e.line, e.message.as_str()), (2, "more inhabitants aged 15-64 than in all"));
    }
}
