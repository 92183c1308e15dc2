//! Counted samples: what every figure (the dashboard, the analysts' page, open data and the hourly signal run) reads.
//!
//! A figure never needs to know which sample said what, only how many samples were alike in what it shows. So each
//! sample is reduced to a [`Profile`] (its ISO week, fylke, form, what it was sold as and found to contain, its
//! highest finding and what the person said afterwards) and samples with the same profile are counted together.
//! The counts are kept per figure week ([`varde_store::FigureWeek`]); the store bumps a week's version in the same
//! transaction as any change to its samples, so a renewal reads only the weeks that changed. The cost of a renewal
//! is that of the changed weeks, not of the whole history; memory holds one count per distinct profile per week.

use crate::AppState;
use crate::detect::positivity::{self, Pick};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use varde_domain::Tier;
use varde_domain::catalogue::{Catalogue, SubstanceClass};
use varde_domain::cell_key::Keyed;
use varde_domain::feedback::Intention;
use varde_domain::sample::Form;
use varde_store::{FigureWeek, SampleSummary, StoreError};

/// A set of substance classes, as bits in the order of [`SubstanceClass::ALL`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Classes(u32);

impl Classes {
    fn bit(k: SubstanceClass) -> u32 {
        1 << SubstanceClass::ALL.iter().position(|c| *c == k).expect("every class is in ALL")
    }
    pub fn insert(&mut self, k: SubstanceClass) {
        self.0 |= Self::bit(k);
    }
    pub fn contains(self, k: SubstanceClass) -> bool {
        self.0 & Self::bit(k) != 0
    }
    /// The classes, in the order of [`SubstanceClass::ALL`] (the order of `SubstanceClass`'s `Ord`).
    pub fn iter(self) -> impl Iterator<Item = SubstanceClass> {
        SubstanceClass::ALL.into_iter().filter(move |k| self.contains(*k))
    }
}

/// What the figures know about a sample. Samples alike in all of it are counted together.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Profile {
    /// ISO week of receipt in Norwegian time.
    pub iso_year: i16,
    pub iso_week: i8,
    /// Consecutive week number (across year ends), for windows such as "the last 26 weeks".
    pub week_no: i64,
    pub fylke: Arc<str>,
    pub form: Form,
    /// The class of the first thing it was sold as that the catalogue knows, or "unknown" (open data's column).
    pub sold_as_class: Arc<str>,
    /// Catalogue ids found, sorted, with unknown substances as "unknown", joined with "+" (open data's column).
    pub substances_found: Arc<str>,
    /// Whether anything at all was found.
    pub found_any: bool,
    /// Classes found, cutting agents left out.
    pub classes: Classes,
    pub highest_tier: Option<Tier>,
    /// Among samples sold as something known with something found: whether a finding called it mis-sold.
    pub mis_sold: Option<bool>,
    /// Per positivity stream (bit i for `positivity::STREAMS[i]`): sold as its X, and sold as X containing Y.
    pub sold_as_streams: u8,
    pub positive_streams: u8,
    pub intention: Option<Intention>,
    /// What the person later told: whether they used it, and the outcome's kind (`did_not_use`, an effect, `used`).
    pub outcome: Option<(bool, &'static str)>,
}

impl Profile {
    /// Catalogue ids found (known substances only).
    pub fn substances(&self) -> impl Iterator<Item = &str> {
        self.substances_found.split('+').filter(|s| !s.is_empty() && *s != "unknown")
    }
}

/// An MDMA tablet's amount, by the month it was received (the dashboard's medians are per month).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Amount {
    pub week_no: i64,
    pub year: i16,
    pub month: i8,
    pub mg: f64,
}

/// One figure week's counts, each with its cell key (the public figures' disclosure control,
/// [`varde_domain::cell_key`]).
#[derive(Debug, Default)]
struct WeekCounts {
    version: i64,
    profiles: Vec<(Profile, Keyed)>,
    mdma: Vec<Amount>,
}

/// The counted samples at one data version.
#[derive(Debug, Default)]
pub struct Snapshot {
    weeks: BTreeMap<i64, Arc<WeekCounts>>,
    /// Changes whenever any week's data changes: renderings made from the same version are the same.
    pub version: u64,
    /// How many figure weeks' samples were read to make this snapshot from the one before.
    pub weeks_read: usize,
}

impl Snapshot {
    /// Every profile with how many samples have it.
    pub fn profiles(&self) -> impl Iterator<Item = (&Profile, u64)> {
        self.keyed().map(|(p, k)| (p, k.n))
    }

    /// Every profile with how many samples have it and their cell key, for figures the public sees.
    pub fn keyed(&self) -> impl Iterator<Item = (&Profile, Keyed)> {
        self.weeks.values().flat_map(|w| w.profiles.iter().map(|(p, k)| (p, *k)))
    }

    /// Every profile from figure week `week` on (see [`FigureWeek`]), with how many samples have it.
    pub fn profiles_from(&self, week: i64) -> impl Iterator<Item = (&Profile, u64)> {
        self.weeks.range(week..).flat_map(|(_, w)| w.profiles.iter().map(|(p, k)| (p, k.n)))
    }

    /// The samples received before ISO week `week_no` (see [`week_no`]) only: a release's figures.
    pub fn before(&self, week_no: i64) -> Snapshot {
        let weeks = self
            .weeks
            .iter()
            .map(|(w, c)| {
                let kept = WeekCounts {
                    version: c.version,
                    profiles: c.profiles.iter().filter(|(p, _)| p.week_no < week_no).cloned().collect(),
                    mdma: c.mdma.iter().filter(|a| a.week_no < week_no).copied().collect(),
                };
                (*w, Arc::new(kept))
            })
            .collect();
        Snapshot { weeks, version: self.version, weeks_read: 0 }
    }

    /// The amounts of MDMA tablets.
    pub fn mdma(&self) -> impl Iterator<Item = &Amount> {
        self.weeks.values().flat_map(|w| w.mdma.iter())
    }
}

/// Shares the strings many profiles hold (fylker, classes, substance lists).
#[derive(Default)]
pub(crate) struct Interner(HashSet<Arc<str>>);

impl Interner {
    pub(crate) fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(x) = self.0.get(s) {
            return x.clone();
        }
        let x: Arc<str> = Arc::from(s);
        self.0.insert(x.clone());
        x
    }
}

fn oslo() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get("Europe/Oslo").unwrap_or(jiff::tz::TimeZone::UTC)
}

/// Weeks since an arbitrary Monday, so consecutive ISO weeks are consecutive numbers across year ends.
pub fn week_no(date: jiff::civil::Date) -> i64 {
    let monday = date.iso_week_date().first_of_week().map_or(date, |w| w.date());
    (monday - jiff::civil::Date::constant(2000, 1, 3)).get_days() as i64 / 7
}

/// The week number of `at` in Norwegian time.
pub fn week_no_at(at: jiff::Timestamp) -> i64 {
    week_no(at.to_zoned(oslo()).date())
}

/// What the figures know of one sample (the signal run reads the evaluated week's samples through it too).
pub(crate) fn profile(
    catalogue: &Catalogue,
    s: &SampleSummary,
    tz: &jiff::tz::TimeZone,
    interner: &mut Interner,
) -> Profile {
    let date = s.received.to_zoned(tz.clone()).date();
    let w = date.iso_week_date();
    let sold_as_class = s.sold_as.iter().find_map(|r| catalogue.substance(r)).map_or("unknown", |x| x.class.as_str());
    let mut found: Vec<&str> = s.found.iter().map(|r| if r.known { r.substance.as_str() } else { "unknown" }).collect();
    found.sort_unstable();
    found.dedup();
    let mut classes = Classes::default();
    for x in s.found.iter().filter_map(|r| catalogue.substance(r)) {
        if x.class != SubstanceClass::CuttingAgent {
            classes.insert(x.class);
        }
    }
    let sold_as = |pick: Pick| match pick {
        Pick::Class(k) => s.sold_as.iter().filter_map(|r| catalogue.substance(r)).any(|x| x.class == k),
        Pick::Substance(id) => s.sold_as.iter().any(|r| r.known && r.substance == id),
    };
    let contains = |pick: Pick| match pick {
        Pick::Class(k) => classes.contains(k),
        Pick::Substance(id) => s.found.iter().any(|r| r.known && r.substance == id),
    };
    let (mut sold_as_streams, mut positive_streams) = (0u8, 0u8);
    for (i, (_, sold, found)) in positivity::STREAMS.iter().enumerate() {
        if sold_as(*sold) {
            sold_as_streams |= 1 << i;
            if contains(*found) {
                positive_streams |= 1 << i;
            }
        }
    }
    let counted_for_mis_sold = s.sold_as.iter().any(|r| r.known) && !s.found.is_empty();
    Profile {
        iso_year: w.year(),
        iso_week: w.week(),
        week_no: week_no(date),
        fylke: interner.get(&s.fylke),
        form: s.form,
        sold_as_class: interner.get(sold_as_class),
        substances_found: interner.get(&found.join("+")),
        found_any: !s.found.is_empty(),
        classes,
        highest_tier: s.highest_tier,
        mis_sold: counted_for_mis_sold.then(|| s.rules.iter().any(|r| r == "mis-sold")),
        sold_as_streams,
        positive_streams,
        intention: s.intention,
        outcome: s.outcome.as_ref().map(|o| (o.used, o.kind())),
    }
}

/// A sample's record key for the cell-key method: the first four bytes of HMAC-SHA256 under the installation's
/// figure key, of the sample's id. Secret (so nobody can work out a cell's perturbation), fixed (so a sample counts
/// the same way in every table and release) and uniform.
fn record_key(figure_key: &[u8; 32], sample_id: i64) -> u32 {
    use hmac::{Mac, digest::KeyInit};
    let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(figure_key).expect("any key length");
    mac.update(&sample_id.to_be_bytes());
    let tag = mac.finalize().into_bytes();
    u32::from_be_bytes([tag[0], tag[1], tag[2], tag[3]])
}

fn count(
    catalogue: &Catalogue,
    summaries: &[SampleSummary],
    interner: &mut Interner,
    version: i64,
    figure_key: &[u8; 32],
) -> WeekCounts {
    let tz = oslo();
    let mut counts: HashMap<Profile, Keyed> = HashMap::new();
    let mut mdma = Vec::new();
    for s in summaries {
        let p = profile(catalogue, s, &tz, interner);
        for (id, mg) in &s.mg_per_unit {
            if id == "mdma" {
                let d = s.received.to_zoned(tz.clone()).date();
                mdma.push(Amount { week_no: p.week_no, year: d.year(), month: d.month(), mg: *mg });
            }
        }
        *counts.entry(p).or_default() += Keyed::new(1, record_key(figure_key, s.id));
    }
    WeekCounts { version, profiles: counts.into_iter().collect(), mdma }
}

/// The counted samples, kept and renewed week by week as the data changes.
#[derive(Default)]
pub struct Tallies {
    latest: Mutex<Arc<Snapshot>>,
    /// One renewal at a time; callers meanwhile wait for it and share its result.
    renewing: tokio::sync::Mutex<()>,
    interner: Mutex<Interner>,
    /// The installation's secret for record keys, read (or made) once from the store's meta.
    figure_key: tokio::sync::OnceCell<[u8; 32]>,
    /// The current release: the week it was cut at and its figures, kept unchanged until the next.
    release: Mutex<Option<(i64, Arc<Snapshot>)>>,
}

/// The meta key under which the record keys' secret is kept.
const FIGURE_KEY: &str = "figure_key";

impl Tallies {
    /// The counts as the store holds them now. Reads the weeks' versions (one small query) and the samples of only
    /// those weeks whose version changed since the last call.
    pub async fn current(&self, state: &AppState) -> Result<Arc<Snapshot>, StoreError> {
        let figure_key = *self
            .figure_key
            .get_or_try_init(|| async {
                let queries = state.app.queries();
                let kept = queries.meta(FIGURE_KEY).await?.and_then(|h| hex::decode(h).ok());
                if let Some(key) = kept.and_then(|k| <[u8; 32]>::try_from(k).ok()) {
                    return Ok(key);
                }
                let mut key = [0u8; 32];
                rand::RngCore::fill_bytes(&mut rand::rng(), &mut key);
                queries.set_meta(FIGURE_KEY, &hex::encode(key)).await?;
                // Another instance may have made one at the same moment: the stored one counts.
                let stored = queries.meta(FIGURE_KEY).await?.and_then(|h| hex::decode(h).ok());
                Ok::<_, StoreError>(stored.and_then(|k| <[u8; 32]>::try_from(k).ok()).unwrap_or(key))
            })
            .await?;
        let _one = self.renewing.lock().await;
        let weeks = state.app.queries().figure_weeks().await?;
        let previous = self.latest.lock().expect("not poisoned").clone();
        let unchanged = weeks.len() == previous.weeks.len()
            && weeks.iter().all(|w| previous.weeks.get(&w.week).is_some_and(|c| c.version == w.version));
        if unchanged {
            return Ok(previous);
        }
        let mut next: BTreeMap<i64, Arc<WeekCounts>> = BTreeMap::new();
        let mut weeks_read = 0;
        for FigureWeek { week, version } in weeks {
            match previous.weeks.get(&week) {
                Some(c) if c.version == version => {
                    next.insert(week, c.clone());
                }
                _ => {
                    let (from, to) = FigureWeek::bounds(week);
                    let summaries = state.app.queries().sample_summaries(from, to).await?;
                    let counted = {
                        let mut interner = self.interner.lock().expect("not poisoned");
                        count(&state.assessor.catalogue, &summaries, &mut interner, version, &figure_key)
                    };
                    next.insert(week, Arc::new(counted));
                    weeks_read += 1;
                }
            }
        }
        let snapshot = Arc::new(Snapshot { weeks: next, version: previous.version + 1, weeks_read });
        *self.latest.lock().expect("not poisoned") = snapshot.clone();
        Ok(snapshot)
    }

    /// The figures the public sees: a release, cut at the start of the current ISO week (Monday 00:00 in Norway)
    /// and holding the samples received before it, made once and then kept unchanged for the week, so that one new
    /// sample cannot be seen by downloading twice. Returns the release's cut (the first week it leaves out).
    pub async fn released(&self, state: &AppState) -> Result<(i64, Arc<Snapshot>), StoreError> {
        let cut = week_no_at(jiff::Timestamp::now());
        if let Some((_, release)) = self.release.lock().expect("not poisoned").as_ref().filter(|(at, _)| *at == cut) {
            return Ok((cut, release.clone()));
        }
        let release = Arc::new(self.current(state).await?.before(cut));
        *self.release.lock().expect("not poisoned") = Some((cut, release.clone()));
        Ok((cut, release))
    }
}

/// The Monday a release cut at week `cut` was made (the first day it leaves out).
pub fn release_day(cut: i64) -> jiff::civil::Date {
    jiff::civil::Date::constant(2000, 1, 3) + jiff::Span::new().days(cut * 7)
}

/// The moment a release cut at week `cut` was made: that Monday at 00:00 in Norway.
pub fn release_instant(cut: i64) -> jiff::Timestamp {
    release_day(cut).to_zoned(oslo()).map_or(jiff::Timestamp::UNIX_EPOCH, |z| z.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_sets_keep_the_order_of_the_classes() {
        let mut c = Classes::default();
        c.insert(SubstanceClass::Stimulant);
        c.insert(SubstanceClass::Opioid);
        assert_eq!(c.iter().collect::<Vec<_>>(), vec![SubstanceClass::Opioid, SubstanceClass::Stimulant]);
        assert!(!c.contains(SubstanceClass::Nitazene));
    }

    #[test]
    fn week_numbers_run_on_across_year_ends() {
        let a = week_no(jiff::civil::date(2025, 12, 28)); // Sunday of 2025-W52
        let b = week_no(jiff::civil::date(2025, 12, 29)); // Monday of 2026-W01
        assert_eq!(b - a, 1);
        assert_eq!(week_no(jiff::civil::date(2026, 1, 4)), b);
    }
}
