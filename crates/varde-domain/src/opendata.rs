//! The anonymised sample-level open-data table: one row per sample with its quarter, form, sold-as class, substances
//! found and highest tier, nationally, in which every combination of period, area, form and sold-as class occurs at
//! least k times. Rows in smaller groups are coarsened (quarter → year) and those still in too small a group are
//! left out.
//!
//! Why no fylke and no week: the count tables publish fylker and weeks with every count protected (the cell-key
//! method, [`crate::cell_key`]), and a row-level table at the same detail would give exact lower bounds for those
//! counts ("at least three of this group held MDMA") that narrow a protected "<5" cell. At quarter and national level
//! a row-level count only bounds sums of many protected cells, which pins none of them.
//!
//! The attributes are protected too, not only the group's size: within a group, a result (substances found and
//! highest tier) that fewer than [`MIN_ALIKE`] samples share is published as `other` (so no row is unique on all
//! its columns), and a group is published only when its rows show at least [`L`] different results (distinct
//! ℓ-diversity, so that knowing someone's period, area, form and sold-as class does not tell what was in their
//! sample). A group that fails either goes on to the coarser level, as a small one does.

use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// A shared text: the same fylke, form, class or substance list appears in hundreds of thousands of records, so
/// records share one copy instead of each holding its own.
pub type Text = Arc<str>;

/// The smallest group published.
pub const K: usize = 5;

/// The fewest samples a published result (substances found and highest tier) stands for within its group; rarer
/// ones are pooled as `other`.
pub const MIN_ALIKE: u64 = 2;

/// The fewest different results a published group shows (distinct ℓ-diversity).
pub const L: usize = 2;

/// What a group's rows may say, or None when the group cannot be published at this level: each member's
/// (substances found, highest tier), with rare results pooled as `other`.
fn protected_results<'a>(
    members: impl Iterator<Item = (&'a Record, u64)> + Clone,
) -> Option<HashMap<(Text, Text), bool>> {
    let mut alike: HashMap<(Text, Text), u64> = HashMap::new();
    for (r, n) in members {
        *alike.entry((r.substances_found.clone(), r.highest_tier.clone())).or_insert(0) += n;
    }
    let pooled: u64 = alike.values().filter(|n| **n < MIN_ALIKE).sum();
    let kept = alike.values().filter(|n| **n >= MIN_ALIKE).count();
    // A pool of one would be a unique row again; too few different results would tell everyone's.
    if (pooled > 0 && pooled < MIN_ALIKE) || kept + usize::from(pooled > 0) < L {
        return None;
    }
    Some(alike.into_iter().map(|(result, n)| (result, n < MIN_ALIKE)).collect())
}

fn other() -> Text {
    static OTHER: std::sync::LazyLock<Text> = std::sync::LazyLock::new(|| Text::from("other"));
    OTHER.clone()
}

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

/// The levels a group is published at, finest first.
#[derive(Clone, Copy)]
enum Level {
    QuarterNational,
    YearNational,
}

const LEVELS: [Level; 2] = [Level::QuarterNational, Level::YearNational];

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
    for level in LEVELS {
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
            let results = (size >= k as u64).then(|| protected_results(members.iter().map(|(r, n)| (r, *n)))).flatten();
            let Some(results) = results else {
                remaining.extend(members);
                continue;
            };
            for (r, n) in members {
                let pooled = results[&(r.substances_found.clone(), r.highest_tier.clone())];
                let row = OpenRow {
                    period: period.clone(),
                    area: area.clone(),
                    form: form.clone(),
                    sold_as_class: class.clone(),
                    substances_found: if pooled { other() } else { r.substances_found.clone() },
                    highest_tier: if pooled { other() } else { r.highest_tier.clone() },
                };
                *out.entry(row).or_insert(0) += n;
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

    /// A record found to contain `found`.
    fn found(mut r: Record, found: &str) -> Record {
        r.substances_found = found.into();
        r
    }

    #[test]
    fn small_groups_are_coarsened_then_left_out() {
        // Results alternate so that the groups are diverse enough to publish (see the next test).
        let xy = |i: usize| if i.is_multiple_of(2) { "x" } else { "y" };
        let mut rs: Vec<Record> = (0..6).map(|i| found(rec(47, "03", "powder", "opioid"), xy(i))).collect();
        // Three tablets in Vestland: too few even for the year nationally, so left out.
        rs.extend((0..3).map(|i| found(rec(40 + i as i8, "46", "tablet", "entactogen"), xy(i))));
        // Five crystals spread over five weeks in Agder: together in the quarter, nationally (no fylke, no week).
        rs.extend((0..5).map(|i| found(rec(40 + i as i8, "42", "crystal", "stimulant"), xy(i))));
        // Three more crystals in another quarter: too few there, and alone in the year once the five are out.
        rs.extend((0..3).map(|i| found(rec(10 + i as i8, "03", "crystal", "stimulant"), xy(i))));
        let out = anonymise(&rs, K);
        assert_eq!(out.len(), 11);
        assert!(out.iter().filter(|r| &*r.form == "crystal").all(|r| &*r.period == "2026-Q4"));
        assert!(out.iter().all(|r| &*r.area == "national" && !r.period.contains('W')));
        assert!(!out.iter().any(|r| &*r.form == "tablet"));
        assert!(group_sizes(&out).values().all(|n| *n >= K));
    }

    /// Knowing someone's period, area, form and sold-as class must not tell what was in their sample, and no row is
    /// unique on all its columns.
    #[test]
    fn results_are_protected_within_their_groups() {
        // Six powders in Oslo in one week, all found to be heroin: the week's group would tell everyone's result, so
        // it is coarsened; nationally in the quarter it meets other results and is published.
        let mut rs: Vec<Record> = (0..6).map(|_| found(rec(47, "03", "powder", "opioid"), "heroin")).collect();
        rs.extend((0..3).map(|_| found(rec(48, "46", "powder", "opioid"), "heroin+fentanyl")));
        rs.extend((0..2).map(|_| found(rec(49, "50", "powder", "opioid"), "heroin+caffeine")));
        // One with something found nowhere else: pooled as "other" with another rare one.
        rs.push(found(rec(49, "11", "powder", "opioid"), "heroin+xylazine"));
        rs.push(found(rec(50, "11", "powder", "opioid"), "heroin+protonitazene"));
        let out = anonymise(&rs, K);
        assert_eq!(out.len(), rs.len(), "everything is published, coarsened");
        assert!(out.iter().all(|r| &*r.period == "2026-Q4" && &*r.area == "national"), "{out:?}");
        let others = out.iter().filter(|r| &*r.substances_found == "other").count();
        assert_eq!(others, 2, "the two rare results are pooled: {out:?}");
        assert!(!out.iter().any(|r| r.substances_found.contains("xylazine")), "no unique row");
        // A group in which everyone shares one result, however large, is never published as such.
        let same: Vec<Record> = (0..20).map(|i| found(rec(1 + i, "03", "tablet", "entactogen"), "mdma")).collect();
        assert!(anonymise(&same, K).is_empty(), "twenty MDMA tablets that all held MDMA say nothing new");
    }

    proptest! {
        #[test]
        fn every_published_combination_occurs_at_least_k_times(
            raw in prop::collection::vec((1i8..=52, 0usize..4, 0usize..3, 0usize..3, 0usize..4), 0..300)
        ) {
            let fylker = ["03", "46", "50", "11"];
            let forms = ["powder", "tablet", "crystal"];
            let classes = ["opioid", "stimulant", "entactogen"];
            let results = ["x", "y", "x+y", "z"];
            let rs: Vec<Record> = raw
                .iter()
                .map(|(w, f, m, c, s)| found(rec(*w, fylker[*f], forms[*m], classes[*c]), results[*s]))
                .collect();
            let out = anonymise(&rs, K);
            prop_assert!(group_sizes(&out).values().all(|n| *n >= K));
            prop_assert!(out.len() <= rs.len());
            // No row is unique on all its columns.
            let mut rows: BTreeMap<&OpenRow, usize> = BTreeMap::new();
            for r in &out {
                *rows.entry(r).or_insert(0) += 1;
            }
            prop_assert!(rows.values().all(|n| *n as u64 >= MIN_ALIKE));
            // Every group shows at least L different results.
            let mut results: BTreeMap<GroupKey, std::collections::BTreeSet<(&str, &str)>> = BTreeMap::new();
            for r in &out {
                let key = (r.period.clone(), r.area.clone(), r.form.clone(), r.sold_as_class.clone());
                results.entry(key).or_default().insert((&r.substances_found, &r.highest_tier));
            }
            prop_assert!(results.values().all(|s| s.len() >= L));
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
            Level::QuarterNational => (format!("{}-Q{}", r.iso_year, quarter(r.iso_week)), "national".to_owned()),
            Level::YearNational => (r.iso_year.to_string(), "national".to_owned()),
        }
    }

    /// The algorithm as it was before records were counted (issue 15), kept as the reference.
    fn record_by_record(records: &[Record], k: usize) -> Vec<OpenRow> {
        let mut remaining: Vec<&Record> = records.iter().collect();
        let mut out = Vec::new();
        for level in LEVELS {
            let mut groups: BTreeMap<(String, String, String, String), Vec<&Record>> = BTreeMap::new();
            for r in remaining {
                let (period, area) = key(r, level);
                groups.entry((period, area, r.form.to_string(), r.sold_as_class.to_string())).or_default().push(r);
            }
            remaining = Vec::new();
            for ((period, area, form, class), members) in groups {
                // The same protection of the results, counted one record at a time.
                let mut alike: BTreeMap<(String, String), usize> = BTreeMap::new();
                for r in &members {
                    *alike.entry((r.substances_found.to_string(), r.highest_tier.to_string())).or_insert(0) += 1;
                }
                let pooled: usize = alike.values().filter(|n| (**n as u64) < MIN_ALIKE).sum();
                let kept = alike.values().filter(|n| (**n as u64) >= MIN_ALIKE).count();
                let diverse = !(pooled > 0 && (pooled as u64) < MIN_ALIKE) && kept + usize::from(pooled > 0) >= L;
                if members.len() >= k && diverse {
                    out.extend(members.into_iter().map(|r| {
                        let rare =
                            (alike[&(r.substances_found.to_string(), r.highest_tier.to_string())] as u64) < MIN_ALIKE;
                        OpenRow {
                            period: period.as_str().into(),
                            area: area.as_str().into(),
                            form: form.as_str().into(),
                            sold_as_class: class.as_str().into(),
                            substances_found: if rare { "other".into() } else { r.substances_found.clone() },
                            highest_tier: if rare { "other".into() } else { r.highest_tier.clone() },
                        }
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
