//! Electron-ionisation mass-spectral library search.
//!
//! Spectra are reduced to nominal m/z (EI libraries are unit-resolution; peaks that round to the same
//! mass are summed) and peaks below [`Settings::noise`] of the base peak are dropped, as `ms_entropy`
//! does by default. Two similarities:
//!
//! * **Weighted cosine** (Stein & Scott 1994, the NIST composite's first term): each peak weighted
//!   `m/z^mz_power × intensity^intensity_power`, vectors normalised, score their dot product.
//! * **Spectral entropy** (Li et al. 2021, *Nature Methods* 18:1524), with the low-entropy weighting
//!   (`intensity^(0.25 + 0.25 S)` when S < 3) that `ms_entropy` applies by default:
//!   `Σ over shared m/z of ((a+b)·log2(a+b) − a·log2 a − b·log2 b) / 2` for intensities normalised to 1.
//!
//! Both are sums over shared m/z of a term that is never negative, so the library is an inverted index
//! from m/z to (spectrum, value) postings and a query only touches spectra sharing a peak with it. Query
//! peaks are taken heaviest first; once what the remaining peaks could still add (for cosine the norm of
//! the rest of the query, Cauchy–Schwarz; for entropy `Σ f(a, 1)`) is below the k-th best partial score,
//! no untouched spectrum can reach the top k, and the touched ones that still could are scored exactly
//! from a forward index. Results are exact — the same as scoring every spectrum (tested against that).
//!
//! **Identity** search ranks by the whole spectra. **Reverse** search ignores query peaks the library
//! spectrum lacks (the query may be a mixture, or carry column bleed); it scores every spectrum sharing a
//! peak, without early stopping.

use std::cmp::Ordering;

/// m/z above this are left out (EI spectra of drugs end well below 1,000).
pub const MAX_MZ: usize = 4_000;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// Peaks below this fraction of the base peak are dropped (library and query alike).
    pub noise: f64,
    pub mz_power: f64,
    pub intensity_power: f64,
}

impl Default for Settings {
    /// The settings chosen by leave-one-out on MassBank EI (README, "Spectra").
    fn default() -> Self {
        Settings { noise: 0.01, mz_power: 1.0, intensity_power: 0.4 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Cosine,
    /// The weighted cosine's best [`RERANKED`] re-ranked by the NIST composite score.
    Composite,
    Entropy,
}

/// How many cosine hits the composite score re-ranks.
pub const RERANKED: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Identity,
    Reverse,
}

/// One library spectrum's identity.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Entry {
    pub id: String,
    pub name: String,
    pub inchikey: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    /// Position in the library.
    pub index: u32,
    pub score: f32,
}

/// Nominal-mass peaks, merged, noise-filtered, sorted by m/z.
fn nominal(peaks: &[(f64, f64)], noise: f64) -> Vec<(u16, f64)> {
    let mut bins: Vec<(u16, f64)> = peaks
        .iter()
        .filter(|(mz, i)| mz.is_finite() && i.is_finite() && *i > 0.0 && *mz >= 0.5)
        .map(|&(mz, i)| (mz.round() as usize, i))
        .filter(|&(mz, _)| mz <= MAX_MZ)
        .map(|(mz, i)| (mz as u16, i))
        .collect();
    bins.sort_unstable_by_key(|&(mz, _)| mz);
    bins.dedup_by(|next, kept| {
        if next.0 == kept.0 {
            kept.1 += next.1;
            true
        } else {
            false
        }
    });
    let base = bins.iter().map(|p| p.1).fold(0.0, f64::max);
    bins.retain(|&(_, i)| i >= noise * base);
    bins
}

/// Unit-norm weighted-cosine vector.
fn cosine_vector(peaks: &[(u16, f64)], settings: &Settings) -> Vec<(u16, f32)> {
    let weighted: Vec<(u16, f64)> = peaks
        .iter()
        .map(|&(mz, i)| (mz, (mz as f64).powf(settings.mz_power) * i.powf(settings.intensity_power)))
        .collect();
    let norm = weighted.iter().map(|p| p.1 * p.1).sum::<f64>().sqrt();
    if norm <= 0.0 || !norm.is_finite() {
        return Vec::new();
    }
    weighted.into_iter().map(|(mz, w)| (mz, (w / norm) as f32)).collect()
}

/// Intensities normalised to sum 1, with the low-entropy weighting.
fn entropy_vector(peaks: &[(u16, f64)]) -> Vec<(u16, f32)> {
    let total: f64 = peaks.iter().map(|p| p.1).sum();
    if total <= 0.0 || !total.is_finite() {
        return Vec::new();
    }
    let mut p: Vec<(u16, f64)> = peaks.iter().map(|&(mz, i)| (mz, i / total)).collect();
    let entropy: f64 = -p.iter().map(|&(_, x)| x * x.ln()).sum::<f64>();
    if entropy < 3.0 {
        let power = 0.25 + 0.25 * entropy;
        p.iter_mut().for_each(|x| x.1 = x.1.powf(power));
        let total: f64 = p.iter().map(|x| x.1).sum();
        p.iter_mut().for_each(|x| x.1 /= total);
    }
    p.into_iter().map(|(mz, x)| (mz, x as f32)).collect()
}

/// Σ a over the query peaks from j on.
fn norm_a(peaks: &[(u16, f32)], j: usize) -> f32 {
    peaks[j..].iter().map(|p| p.1).sum()
}

#[inline]
fn xlog2x(x: f32) -> f32 {
    if x > 0.0 { x * x.log2() } else { 0.0 }
}

/// The entropy-similarity term of one shared peak, given a·log2 a and b·log2 b.
#[inline]
fn entropy_term(a: f32, a_log_a: f32, b: f32, b_log_b: f32) -> f32 {
    let sum = a + b;
    0.5 * (sum * sum.log2() - a_log_a - b_log_b)
}

/// Postings (inverted) and peaks (forward) of one similarity.
#[derive(Debug, Default)]
struct Index {
    offsets: Vec<u32>,
    /// The largest posting value of each m/z.
    largest: Vec<f32>,
    ids: Vec<u32>,
    values: Vec<f32>,
    /// For entropy, b·log2 b of each posting.
    value_logs: Vec<f32>,
    forward_offsets: Vec<u32>,
    forward_mz: Vec<u16>,
    forward_values: Vec<f32>,
    forward_logs: Vec<f32>,
}

impl Index {
    fn build(vectors: &[Vec<(u16, f32)>], with_logs: bool) -> Index {
        let mut counts = vec![0u32; MAX_MZ + 2];
        for vector in vectors {
            for &(mz, _) in vector {
                counts[mz as usize + 1] += 1;
            }
        }
        for m in 1..counts.len() {
            counts[m] += counts[m - 1];
        }
        let total = counts[MAX_MZ + 1] as usize;
        let mut fill = counts.clone();
        let mut index = Index {
            ids: vec![0; total],
            values: vec![0.0; total],
            value_logs: if with_logs { vec![0.0; total] } else { Vec::new() },
            forward_offsets: Vec::with_capacity(vectors.len() + 1),
            ..Index::default()
        };
        index.forward_offsets.push(0);
        for (id, vector) in vectors.iter().enumerate() {
            for &(mz, value) in vector {
                let at = fill[mz as usize] as usize;
                fill[mz as usize] += 1;
                index.ids[at] = id as u32;
                index.values[at] = value;
                if with_logs {
                    index.value_logs[at] = xlog2x(value);
                }
                index.forward_mz.push(mz);
                index.forward_values.push(value);
                if with_logs {
                    index.forward_logs.push(xlog2x(value));
                }
            }
            index.forward_offsets.push(index.forward_mz.len() as u32);
        }
        index.largest = (0..=MAX_MZ)
            .map(|m| index.values[counts[m] as usize..counts[m + 1] as usize].iter().copied().fold(0.0, f32::max))
            .collect();
        index.offsets = counts;
        index
    }

    fn postings(&self, mz: u16) -> std::ops::Range<usize> {
        self.offsets[mz as usize] as usize..self.offsets[mz as usize + 1] as usize
    }

    fn peaks(&self, id: u32) -> std::ops::Range<usize> {
        self.forward_offsets[id as usize] as usize..self.forward_offsets[id as usize + 1] as usize
    }
}

/// A searchable library: identities and both indexes.
#[derive(Debug)]
pub struct Library {
    pub entries: Vec<Entry>,
    settings: Settings,
    cosine: Index,
    entropy: Index,
}

/// A query reduced for one method: peaks heaviest first.
#[derive(Debug, Clone)]
pub struct Query {
    method: Method,
    peaks: Vec<(u16, f32)>,
}

impl Query {
    /// True when nothing is left after noise filtering: such a query matches nothing.
    pub fn is_empty(&self) -> bool {
        self.peaks.is_empty()
    }
}

/// How many leading candidates are tracked while scanning; their exact scores bound the k-th best.
const LEADERS: usize = 16;

/// The spectra with the highest partial scores, collected in one pass over the accumulators.
#[derive(Debug)]
struct Leaders {
    entries: [(u32, f32); LEADERS],
    len: usize,
    /// The lowest score among the entries once full.
    floor: f32,
}

impl Default for Leaders {
    fn default() -> Self {
        Leaders { entries: [(0, 0.0); LEADERS], len: 0, floor: 0.0 }
    }
}

impl Leaders {
    fn clear(&mut self) {
        self.len = 0;
        self.floor = 0.0;
    }

    #[inline]
    fn offer(&mut self, id: u32, score: f32) {
        if score <= self.floor {
            return;
        }
        if self.len < LEADERS {
            self.entries[self.len] = (id, score);
            self.len += 1;
            if self.len < LEADERS {
                return;
            }
        } else {
            let lowest = (0..LEADERS).min_by(|&x, &y| self.entries[x].1.total_cmp(&self.entries[y].1)).unwrap_or(0);
            self.entries[lowest] = (id, score);
        }
        if self.len == LEADERS {
            self.floor = self.entries.iter().map(|e| e.1).fold(f32::INFINITY, f32::min);
        }
    }
}

/// Per-thread working memory, reused between queries.
#[derive(Debug, Default)]
pub struct Scratch {
    acc: Vec<f32>,
    matched: Vec<f32>,
    touched: Vec<u32>,
    dense: Vec<f32>,
    leaders: Leaders,
    candidates: Vec<Hit>,
}

impl Library {
    pub fn build(spectra: impl IntoIterator<Item = (Entry, Vec<(f64, f64)>)>, settings: Settings) -> Library {
        let mut entries = Vec::new();
        let mut cosine = Vec::new();
        let mut entropy = Vec::new();
        for (entry, peaks) in spectra {
            let peaks = nominal(&peaks, settings.noise);
            cosine.push(cosine_vector(&peaks, &settings));
            entropy.push(entropy_vector(&peaks));
            entries.push(entry);
        }
        Library { entries, settings, cosine: Index::build(&cosine, false), entropy: Index::build(&entropy, true) }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn settings(&self) -> Settings {
        self.settings
    }

    /// Reduce a query spectrum the way the library was reduced.
    pub fn query(&self, peaks: &[(f64, f64)], method: Method) -> Query {
        let reduced = nominal(peaks, self.settings.noise);
        let mut peaks = match method {
            Method::Cosine | Method::Composite => cosine_vector(&reduced, &self.settings),
            Method::Entropy => entropy_vector(&reduced),
        };
        peaks.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        Query { method, peaks }
    }

    fn index(&self, method: Method) -> &Index {
        match method {
            Method::Cosine | Method::Composite => &self.cosine,
            Method::Entropy => &self.entropy,
        }
    }

    /// The `top` best library spectra, best first (ties by library order), leaving out `exclude`
    /// (leave-one-out evaluation). Spectra sharing no peak with the query are never returned.
    pub fn search(
        &self,
        query: &Query,
        mode: Mode,
        top: usize,
        exclude: Option<u32>,
        scratch: &mut Scratch,
    ) -> Vec<Hit> {
        if top == 0 || query.peaks.is_empty() || self.entries.is_empty() {
            return Vec::new();
        }
        let n = self.entries.len();
        if scratch.acc.len() != n {
            scratch.acc = vec![0.0; n];
            scratch.matched = vec![0.0; n];
        }
        if scratch.dense.len() != MAX_MZ + 1 {
            scratch.dense = vec![0.0; MAX_MZ + 1];
        }
        for &(mz, value) in &query.peaks {
            scratch.dense[mz as usize] = value;
        }
        scratch.touched.clear();
        scratch.candidates.clear();
        let hits = match mode {
            Mode::Identity => self.identity(query, top, exclude, scratch),
            Mode::Reverse => self.reverse(query, top, exclude, scratch),
        };
        for &(mz, _) in &query.peaks {
            scratch.dense[mz as usize] = 0.0;
        }
        for &id in &scratch.touched {
            scratch.acc[id as usize] = 0.0;
            scratch.matched[id as usize] = 0.0;
        }
        hits
    }

    fn identity(&self, query: &Query, top: usize, exclude: Option<u32>, s: &mut Scratch) -> Vec<Hit> {
        if query.method == Method::Composite {
            let cosine = Query { method: Method::Cosine, peaks: query.peaks.clone() };
            let mut hits = self.identity(&cosine, top.max(RERANKED), exclude, s);
            for hit in &mut hits {
                hit.score = self.composite(hit.index, hit.score, &s.dense, query.peaks.len());
            }
            return top_k(&mut hits, top);
        }
        let index = self.index(query.method);
        let peaks = &query.peaks;
        let entropy = query.method == Method::Entropy;
        // rest[j]: the most the peaks from j on could add to a spectrum none of peaks 0..j touched; for
        // cosine the smaller of the query's remaining norm (Cauchy–Schwarz) and Σ a·(largest posting);
        // for entropy Σ f(a, largest posting), as each term grows with the library intensity.
        let mut norm_rest = vec![0.0f32; peaks.len() + 1];
        let mut list_rest = vec![0.0f32; peaks.len() + 1];
        for j in (0..peaks.len()).rev() {
            let (mz, a) = peaks[j];
            let largest = index.largest[mz as usize];
            norm_rest[j] = norm_rest[j + 1] + a * a;
            list_rest[j] = list_rest[j + 1]
                + if entropy { entropy_term(a, xlog2x(a), largest, xlog2x(largest)) } else { a * largest };
        }
        let rest: Vec<f32> =
            if entropy { list_rest } else { norm_rest.iter().zip(&list_rest).map(|(n, l)| n.sqrt().min(*l)).collect() };
        // Rounding slack so that early stopping never drops a spectrum exhaustive scoring would keep.
        let slack = 1e-4;
        // A lower bound on the k-th best final score: exact scores of the best partial candidates.
        let mut threshold = 0.0f32;
        let mut stopped_at = None;
        // The bound is checked after the first two lists and then every fourth: each check costs a pass
        // over the accumulators.
        let mut next_check = 2;
        let acc = &mut s.acc[..];
        let matched = &mut s.matched[..];
        for (j, &(mz, a)) in peaks.iter().enumerate() {
            if j == next_check {
                next_check = j + 4;
                threshold =
                    threshold.max(self.seed_threshold(query.method, top, exclude, acc, &s.dense, &mut s.leaders));
                if rest[j] + slack < threshold {
                    stopped_at = Some(j);
                    break;
                }
            }
            let range = index.postings(mz);
            let ids = &index.ids[range.clone()];
            let values = &index.values[range.clone()];
            if entropy {
                let a_log_a = xlog2x(a);
                let logs = &index.value_logs[range];
                for ((&id, &b), &b_log_b) in ids.iter().zip(values).zip(logs) {
                    acc[id as usize] += entropy_term(a, a_log_a, b, b_log_b).max(f32::MIN_POSITIVE);
                    matched[id as usize] += b;
                }
            } else {
                for (&id, &b) in ids.iter().zip(values) {
                    acc[id as usize] += (a * b).max(f32::MIN_POSITIVE);
                    matched[id as usize] += b * b;
                }
            }
        }
        s.touched.extend((0..acc.len() as u32).filter(|&id| acc[id as usize] > 0.0));
        let a_rest = stopped_at.map_or(0.0, |j| norm_a(peaks, j));
        for &id in &s.touched {
            if Some(id) == exclude {
                continue;
            }
            let score = match stopped_at {
                None => s.acc[id as usize],
                Some(j) => {
                    // What this spectrum's unscanned peaks could still add: for cosine its remaining norm
                    // times the query's; for entropy the general bound, capped by (A_rest + B_rest) / 2.
                    let seen = s.matched[id as usize];
                    let gap = threshold - slack - s.acc[id as usize];
                    let hopeless = gap > rest[j]
                        || if entropy {
                            gap > (a_rest + (1.0 - seen).max(0.0)) * 0.5
                        } else {
                            // acc + |q_rest|·|l_rest| < threshold, squared to avoid a square root.
                            gap > 0.0 && gap * gap > norm_rest[j] * (1.0 - seen).max(0.0)
                        };
                    if hopeless {
                        continue;
                    }
                    self.exact(query.method, id, &s.dense)
                }
            };
            s.candidates.push(Hit { index: id, score });
        }
        top_k(&mut s.candidates, top)
    }

    /// The k-th best exact score among the spectra with the highest partial scores: every final top-k
    /// score is at least this.
    fn seed_threshold(
        &self,
        method: Method,
        top: usize,
        exclude: Option<u32>,
        acc: &[f32],
        dense: &[f32],
        leaders: &mut Leaders,
    ) -> f32 {
        leaders.clear();
        // Blocks of 16 whose largest partial cannot displace a leader are skipped whole (vectorised).
        for (block, chunk) in acc.chunks(16).enumerate() {
            let largest = chunk.iter().fold(0.0f32, |m, &x| if x > m { x } else { m });
            if largest <= leaders.floor {
                continue;
            }
            for (k, &partial) in chunk.iter().enumerate() {
                let id = (block * 16 + k) as u32;
                if partial > leaders.floor && Some(id) != exclude {
                    leaders.offer(id, partial);
                }
            }
        }
        let mut exact = [0.0f32; LEADERS];
        for (slot, &(id, _)) in exact.iter_mut().zip(&leaders.entries[..leaders.len]) {
            *slot = self.exact(method, id, dense);
        }
        if leaders.len < top {
            return 0.0;
        }
        exact[..leaders.len].sort_unstable_by(|a, b| b.total_cmp(a));
        exact[top - 1]
    }

    /// The whole score of one library spectrum against the query held in `dense`.
    fn exact(&self, method: Method, id: u32, dense: &[f32]) -> f32 {
        let index = self.index(method);
        let range = index.peaks(id);
        let mzs = &index.forward_mz[range.clone()];
        let values = &index.forward_values[range.clone()];
        match method {
            Method::Cosine | Method::Composite => {
                // Four partial sums: one running sum would wait on each addition's latency.
                let mut sums = [0.0f32; 4];
                let mut chunks = mzs.chunks_exact(4).zip(values.chunks_exact(4));
                for (m, v) in &mut chunks {
                    for k in 0..4 {
                        sums[k] += dense[m[k] as usize] * v[k];
                    }
                }
                let tail = mzs.len() - mzs.len() % 4;
                let mut score = (sums[0] + sums[1]) + (sums[2] + sums[3]);
                for (&m, &v) in mzs[tail..].iter().zip(&values[tail..]) {
                    score += dense[m as usize] * v;
                }
                score
            }
            Method::Entropy => {
                let logs = &index.forward_logs[range];
                let mut score = 0.0;
                for ((&m, &b), &b_log_b) in mzs.iter().zip(values).zip(logs) {
                    let a = dense[m as usize];
                    if a > 0.0 {
                        score += entropy_term(a, xlog2x(a), b, b_log_b);
                    }
                }
                score
            }
        }
    }

    fn reverse(&self, query: &Query, top: usize, exclude: Option<u32>, s: &mut Scratch) -> Vec<Hit> {
        let index = self.index(query.method);
        for &(mz, a) in &query.peaks {
            let range = index.postings(mz);
            for (&id, &b) in index.ids[range.clone()].iter().zip(&index.values[range]) {
                let slot = &mut s.matched[id as usize];
                if *slot == 0.0 {
                    s.touched.push(id);
                }
                match query.method {
                    // Dot product and the squared norm of the query's matched part.
                    Method::Cosine | Method::Composite => {
                        *slot += a * a;
                        s.acc[id as usize] += a * b;
                    }
                    // The query's matched intensity, to renormalise it over the shared peaks.
                    Method::Entropy => *slot += a,
                }
            }
        }
        for &id in &s.touched {
            if Some(id) == exclude {
                continue;
            }
            let matched = s.matched[id as usize];
            let score = match query.method {
                Method::Cosine | Method::Composite => s.acc[id as usize] / matched.sqrt(),
                Method::Entropy => {
                    let range = index.peaks(id);
                    let mut score = 0.0;
                    for k in range {
                        let a = s.dense[index.forward_mz[k] as usize] / matched;
                        if a > 0.0 {
                            score += entropy_term(a, xlog2x(a), index.forward_values[k], index.forward_logs[k]);
                        }
                    }
                    score
                }
            };
            s.candidates.push(Hit { index: id, score: score.min(1.0) });
        }
        top_k(&mut s.candidates, top)
    }

    /// The NIST composite (Stein & Scott 1994): the weighted cosine blended with how well the intensity
    /// ratios of neighbouring shared peaks agree, `(N_q·cos + N_shared·F_R) / (N_q + N_shared)`.
    pub fn composite(&self, id: u32, cosine: f32, dense: &[f32], query_peaks: usize) -> f32 {
        let index = &self.cosine;
        let range = index.peaks(id);
        let (mut shared, mut ratio_sum) = (0usize, 0.0f32);
        let mut previous: Option<(f32, f32)> = None;
        for (&mz, &b) in index.forward_mz[range.clone()].iter().zip(&index.forward_values[range]) {
            let a = dense[mz as usize];
            if a <= 0.0 {
                continue;
            }
            shared += 1;
            if let Some((pa, pb)) = previous {
                let r = (b / pb) / (a / pa);
                ratio_sum += if r <= 1.0 { r } else { 1.0 / r };
            }
            previous = Some((a, b));
        }
        if shared < 2 {
            return cosine;
        }
        // Over the shared-1 neighbouring pairs, so that a spectrum scores 1 against itself.
        let f_r = ratio_sum / (shared - 1) as f32;
        (query_peaks as f32 * cosine + shared as f32 * f_r) / (query_peaks + shared) as f32
    }

    /// Score every library spectrum against the query without the index: the reference the index is
    /// tested against.
    pub fn search_exhaustive(&self, query: &Query, top: usize, exclude: Option<u32>) -> Vec<Hit> {
        let mut dense = vec![0.0f32; MAX_MZ + 1];
        for &(mz, value) in &query.peaks {
            dense[mz as usize] = value;
        }
        let mut all: Vec<Hit> = (0..self.entries.len() as u32)
            .filter(|&id| Some(id) != exclude)
            .map(|id| Hit { index: id, score: self.exact(query.method, id, &dense) })
            .filter(|hit| hit.score > 0.0)
            .collect();
        top_k(&mut all, top)
    }

    /// Search many queries on `threads` threads; results in query order.
    pub fn search_batch(&self, queries: &[Query], mode: Mode, top: usize, threads: usize) -> Vec<Vec<Hit>> {
        let threads = threads.max(1).min(queries.len().max(1));
        let chunk = queries.len().div_ceil(threads).max(1);
        std::thread::scope(|scope| {
            let workers: Vec<_> = queries
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        let mut scratch = Scratch::default();
                        part.iter().map(|q| self.search(q, mode, top, None, &mut scratch)).collect::<Vec<_>>()
                    })
                })
                .collect();
            workers.into_iter().flat_map(|w| w.join().expect("search threads do not panic")).collect()
        })
    }
}

/// Leave-one-out identification: each spectrum whose compound has another spectrum in the library is
/// searched against the rest; how often the best (top-1) or any of the best five (top-5) is the same
/// compound. Compounds are the first InChIKey block (the skeleton, ignoring stereochemistry), as is usual
/// for EI, which cannot tell stereoisomers apart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    pub top1: f64,
    pub top5: f64,
    pub queries: usize,
}

pub fn leave_one_out(library: &Library, spectra: &[Vec<(f64, f64)>], method: Method, mode: Mode) -> Evaluation {
    let compound =
        |i: usize| library.entries[i].inchikey.as_deref().map(|k| k.get(..14).unwrap_or(k)).filter(|k| !k.is_empty());
    let mut counts: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for i in 0..library.len() {
        if let Some(c) = compound(i) {
            *counts.entry(c).or_default() += 1;
        }
    }
    let (mut top1, mut top5, mut queries) = (0, 0, 0);
    let mut scratch = Scratch::default();
    for (i, peaks) in spectra.iter().enumerate().take(library.len()) {
        let Some(own) = compound(i).filter(|c| counts[c] >= 2) else { continue };
        queries += 1;
        let hits = library.search(&library.query(peaks, method), mode, 5, Some(i as u32), &mut scratch);
        if hits.first().is_some_and(|h| compound(h.index as usize) == Some(own)) {
            top1 += 1;
        }
        if hits.iter().any(|h| compound(h.index as usize) == Some(own)) {
            top5 += 1;
        }
    }
    let share = |k: usize| if queries == 0 { 0.0 } else { k as f64 / queries as f64 };
    Evaluation { top1: share(top1), top5: share(top5), queries }
}

fn by_score(a: &Hit, b: &Hit) -> Ordering {
    b.score.total_cmp(&a.score).then(a.index.cmp(&b.index))
}

fn top_k(candidates: &mut Vec<Hit>, k: usize) -> Vec<Hit> {
    if candidates.len() > k {
        candidates.select_nth_unstable_by(k - 1, by_score);
        candidates.truncate(k);
    }
    candidates.sort_unstable_by(by_score);
    candidates.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn library() -> Library {
        let spectra = vec![
            (
                Entry { id: "a".into(), name: "A".into(), inchikey: None },
                vec![(50.0, 100.0), (77.0, 40.0), (105.0, 999.0)],
            ),
            (Entry { id: "b".into(), name: "B".into(), inchikey: None }, vec![(50.0, 100.0), (91.0, 999.0)]),
            (
                Entry { id: "c".into(), name: "C".into(), inchikey: None },
                vec![(182.0, 999.0), (105.0, 300.0), (77.0, 200.0)],
            ),
        ];
        Library::build(spectra, Settings::default())
    }

    #[test]
    fn a_spectrum_finds_itself_first_with_score_one() {
        let lib = library();
        for method in [Method::Cosine, Method::Entropy] {
            let q = lib.query(&[(50.0, 100.0), (77.0, 40.0), (105.0, 999.0)], method);
            let hits = lib.search(&q, Mode::Identity, 3, None, &mut Scratch::default());
            assert_eq!(hits[0].index, 0, "{method:?}");
            assert!((hits[0].score - 1.0).abs() < 1e-5, "{method:?} {}", hits[0].score);
            assert!(hits[1].score < 0.9);
        }
    }

    #[test]
    fn unrelated_spectra_score_nothing() {
        let lib = library();
        let q = lib.query(&[(300.0, 1.0)], Method::Cosine);
        assert!(lib.search(&q, Mode::Identity, 3, None, &mut Scratch::default()).is_empty());
    }

    #[test]
    fn reverse_search_ignores_peaks_the_library_spectrum_lacks() {
        let lib = library();
        // B's spectrum plus a contaminant at m/z 300.
        let q = lib.query(&[(50.0, 100.0), (91.0, 999.0), (300.0, 999.0)], Method::Cosine);
        let mut scratch = Scratch::default();
        let forward = lib.search(&q, Mode::Identity, 1, None, &mut scratch);
        let reverse = lib.search(&q, Mode::Reverse, 1, None, &mut scratch);
        assert_eq!(reverse[0].index, 1);
        assert!((reverse[0].score - 1.0).abs() < 1e-5);
        assert!(forward[0].score < 0.9);
    }

    #[test]
    fn entropy_of_identical_halves_is_half() {
        // Two peaks each 0.5 against one of them at 1.0: the textbook value is 1 - (2 S_AB - S_A - S_B)/ln 4.
        let a = [0.5f32, 0.5];
        let term = entropy_term(a[0], xlog2x(a[0]), 1.0, 0.0);
        let s_a = 2f64.ln();
        let merged = [0.75f64, 0.25];
        let s_ab = -merged.iter().map(|x| x * x.ln()).sum::<f64>();
        let expected = 1.0 - (2.0 * s_ab - s_a - 0.0) / 4f64.ln();
        assert!((term as f64 - expected).abs() < 1e-6, "{term} vs {expected}");
    }
}
