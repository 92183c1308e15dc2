//! The anonymised sample-level open-data table: one row per sample with ISO week, fylke, form, sold-as class,
//! substances found and highest tier, in which every combination of period, area, form and sold-as class occurs
//! at least k times. Rows in smaller groups are coarsened (week → quarter → year, fylke → national) and those
//! still in too small a group are left out. Privacy rule 2 holds throughout: no place finer than fylke, no time
//! finer than ISO week.

use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// A shared text: the same fylke, form, class or substance list appears in hundreds of thousands of records, so
/// records share one copy instead of each holding its own.
pub type Text = Arc<str>;

/// The smallest group published.
pub const K: usize = 5;

/// One sample, already reduced to what open data may say about it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Record {
    pub iso_year: i16,
    pub iso_week: i8,
    pub fylke: Text,
    pub form: Text,
    /// The class of what it was sold as ("unknown" if nothing known was named).
    pub sold_as_class: Text,
    /// Catalogue ids found, sorted, joined with "+"; unknown substances as "unknown".
    pub substances_found: Text,
    pub highest_tier: Text,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct OpenRow {
    /// 2026-W47, 2026-Q4 or 2026.
    pub period: Text,
    /// A two-digit fylkesnummer, or "national".
    pub area: Text,
    pub form: Text,
    pub sold_as_class: Text,
    pub substances_found: Text,
    pub highest_tier: Text,
}

#[derive(Clone, Copy)]
enum Level {
    WeekFylke,
    QuarterFylke,
    WeekNational,
    QuarterNational,
    YearNational,
}

fn quarter(week: i8) -> i8 {
    // ISO weeks 1-13 fall in Q1, 14-26 in Q2, 27-39 in Q3, 40-53 in Q4.
    ((i16::from(week) - 1) / 13).min(3) as i8 + 1
}

/// Period and area texts, made once each.
#[derive(Default)]
struct Keys {
    periods: HashMap<(i16, i8, bool), Text>,
    national: Option<Text>,
}

impl Keys {
    /// A period: an ISO week (`quarter` false), a quarter (`quarter` true, `part` the quarter) or a year (`part` 0).
    fn period(&mut self, year: i16, part: i8, quarter: bool) -> Text {
        self.periods
            .entry((year, part, quarter))
            .or_insert_with(|| match (part, quarter) {
                (0, _) => year.to_string().into(),
                (q, true) => format!("{year}-Q{q}").into(),
                (w, false) => format!("{year}-W{w:02}").into(),
            })
            .clone()
    }

    fn key(&mut self, r: &Record, level: Level) -> (Text, Text) {
        let national = self.national.get_or_insert_with(|| Text::from("national")).clone();
        match level {
            Level::WeekFylke => (self.period(r.iso_year, r.iso_week, false), r.fylke.clone()),
            Level::QuarterFylke => (self.period(r.iso_year, quarter(r.iso_week), true), r.fylke.clone()),
            Level::WeekNational => (self.period(r.iso_year, r.iso_week, false), national),
            Level::QuarterNational => (self.period(r.iso_year, quarter(r.iso_week), true), national),
            Level::YearNational => (self.period(r.iso_year, 0, true), national),
        }
    }
}

/// A group: period, area, form and sold-as class.
type GroupKey = (Text, Text, Text, Text);
type Group<'a> = (u64, Vec<&'a (Record, u64)>);

/// The open-data table of these records, with groups of at least `k`.
pub fn anonymise(records: &[Record], k: usize) -> Vec<OpenRow> {
    let counted: Vec<(Record, u64)> = records.iter().map(|r| (r.clone(), 1)).collect();
    anonymise_counted(&counted, k).into_iter().flat_map(|(row, n)| std::iter::repeat_n(row, n as usize)).collect()
}

/// The same table for records given with how many samples each stands for: each row with how many times it occurs,
/// sorted. Expanded, it is exactly [`anonymise`] of the records repeated; counted, it costs what the distinct
/// records cost, not what the samples do.
pub fn anonymise_counted(records: &[(Record, u64)], k: usize) -> Vec<(OpenRow, u64)> {
    let mut remaining: Vec<&(Record, u64)> = records.iter().filter(|(_, n)| *n > 0).collect();
    let mut out: BTreeMap<OpenRow, u64> = BTreeMap::new();
    let mut keys = Keys::default();
    for level in
        [Level::WeekFylke, Level::QuarterFylke, Level::WeekNational, Level::QuarterNational, Level::YearNational]
    {
        // Each group's size in samples, and its records.
        let mut groups: BTreeMap<GroupKey, Group> = BTreeMap::new();
        for r in remaining {
            let (period, area) = keys.key(&r.0, level);
            let group = groups.entry((period, area, r.0.form.clone(), r.0.sold_as_class.clone())).or_default();
            group.0 += r.1;
            group.1.push(r);
        }
        remaining = Vec::new();
        for ((period, area, form, class), (size, members)) in groups {
            if size >= k as u64 {
                for (r, n) in members {
                    let row = OpenRow {
                        period: period.clone(),
                        area: area.clone(),
                        form: form.clone(),
                        sold_as_class: class.clone(),
                        substances_found: r.substances_found.clone(),
                        highest_tier: r.highest_tier.clone(),
                    };
                    *out.entry(row).or_insert(0) += n;
                }
            } else {
                remaining.extend(members);
            }
        }
    }
    out.into_iter().collect()
}

/// Every combination of period, area, form and sold-as class, with how often it occurs.
pub fn group_sizes(rows: &[OpenRow]) -> BTreeMap<GroupKey, usize> {
    let mut sizes = BTreeMap::new();
    for r in rows {
        *sizes.entry((r.period.clone(), r.area.clone(), r.form.clone(), r.sold_as_class.clone())).or_insert(0) += 1;
    }
    sizes
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rec(week: i8, fylke: &str, form: &str, class: &str) -> Record {
        Record {
            iso_year: 2026,
            iso_week: week,
            fylke: fylke.into(),
            form: form.into(),
            sold_as_class: class.into(),
            substances_found: "x".into(),
            highest_tier: "none".into(),
        }
    }

    #[test]
    fn small_groups_are_coarsened_then_left_out() {
        let mut rs: Vec<Record> = (0..6).map(|_| rec(47, "03", "powder", "opioid")).collect();
        // Three tablets in Vestland: too few even for the year nationally, so left out.
        rs.extend((0..3).map(|i| rec(40 + i, "46", "tablet", "entactogen")));
        // Five crystals spread over five weeks in Agder: together in the quarter.
        rs.extend((0..5).map(|i| rec(40 + i, "42", "crystal", "stimulant")));
        let out = anonymise(&rs, K);
        assert_eq!(out.len(), 11);
        assert!(out.iter().filter(|r| &*r.form == "crystal").all(|r| &*r.period == "2026-Q4" && &*r.area == "42"));
        assert!(!out.iter().any(|r| &*r.form == "tablet"));
        assert!(group_sizes(&out).values().all(|n| *n >= K));
    }

    proptest! {
        #[test]
        fn every_published_combination_occurs_at_least_k_times(
            raw in prop::collection::vec((1i8..=52, 0usize..4, 0usize..3, 0usize..3), 0..300)
        ) {
            let fylker = ["03", "46", "50", "11"];
            let forms = ["powder", "tablet", "crystal"];
            let classes = ["opioid", "stimulant", "entactogen"];
            let rs: Vec<Record> = raw.iter().map(|(w, f, m, c)| rec(*w, fylker[*f], forms[*m], classes[*c])).collect();
            let out = anonymise(&rs, K);
            prop_assert!(group_sizes(&out).values().all(|n| *n >= K));
            prop_assert!(out.len() <= rs.len());
        }

        /// Counting alike records together publishes exactly what the record-by-record algorithm did.
        #[test]
        fn counted_records_give_the_same_table_as_one_by_one(
            raw in prop::collection::vec((1i8..=53, 0usize..4, 0usize..3, 0usize..3, 0usize..3, 1u64..4), 0..200)
        ) {
            let fylker = ["03", "46", "50", "11"];
            let forms = ["powder", "tablet", "crystal"];
            let classes = ["opioid", "stimulant", "entactogen"];
            let found = ["x", "y", "x+y"];
            let counted: Vec<(Record, u64)> = raw
                .iter()
                .map(|(w, f, m, c, s, n)| {
                    let mut r = rec(*w, fylker[*f], forms[*m], classes[*c]);
                    r.substances_found = found[*s].into();
                    (r, *n)
                })
                .collect();
            let one_by_one: Vec<Record> =
                counted.iter().flat_map(|(r, n)| std::iter::repeat_n(r.clone(), *n as usize)).collect();
            let expanded: Vec<OpenRow> = anonymise_counted(&counted, K)
                .into_iter()
                .flat_map(|(row, n)| std::iter::repeat_n(row, n as usize))
                .collect();
            prop_assert_eq!(expanded, record_by_record(&one_by_one, K));
        }
    }

    /// The period and area as the reference computed them.
    fn key(r: &Record, level: Level) -> (String, String) {
        match level {
            Level::WeekFylke => (format!("{}-W{:02}", r.iso_year, r.iso_week), r.fylke.to_string()),
            Level::QuarterFylke => (format!("{}-Q{}", r.iso_year, quarter(r.iso_week)), r.fylke.to_string()),
            Level::WeekNational => (format!("{}-W{:02}", r.iso_year, r.iso_week), "national".to_owned()),
            Level::QuarterNational => (format!("{}-Q{}", r.iso_year, quarter(r.iso_week)), "national".to_owned()),
            Level::YearNational => (r.iso_year.to_string(), "national".to_owned()),
        }
    }

    /// The algorithm as it was before records were counted (issue 15), kept as the reference.
    fn record_by_record(records: &[Record], k: usize) -> Vec<OpenRow> {
        let mut remaining: Vec<&Record> = records.iter().collect();
        let mut out = Vec::new();
        for level in
            [Level::WeekFylke, Level::QuarterFylke, Level::WeekNational, Level::QuarterNational, Level::YearNational]
        {
            let mut groups: BTreeMap<(String, String, String, String), Vec<&Record>> = BTreeMap::new();
            for r in remaining {
                let (period, area) = key(r, level);
                groups.entry((period, area, r.form.to_string(), r.sold_as_class.to_string())).or_default().push(r);
            }
            remaining = Vec::new();
            for ((period, area, form, class), members) in groups {
                if members.len() >= k {
                    out.extend(members.into_iter().map(|r| OpenRow {
                        period: period.as_str().into(),
                        area: area.as_str().into(),
                        form: form.as_str().into(),
                        sold_as_class: class.as_str().into(),
                        substances_found: r.substances_found.clone(),
                        highest_tier: r.highest_tier.clone(),
                    }));
                } else {
                    remaining.extend(members);
                }
            }
        }
        out.sort();
        out
    }
}
