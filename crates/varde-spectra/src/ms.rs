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
//! Both are sums over shared m/z of a term that is never negative, so a query only has to look at the
//! library m/z it has. Identity search makes one pass over the whole library per query: each m/z that
//! many spectra share is a dense column (one byte per spectrum, its value in 255ths of the column's
//! largest, rounded up), added a block of
//! spectra at a time with vector instructions; the rarer m/z are postings (spectrum, value). What the pass
//! sums bounds every spectrum's score from above — for the cosine within 2⁻⁷, for entropy by the
//! Bhattacharyya coefficient — so the spectra with the best bounds are scored exactly, and then every
//! spectrum whose bound reaches the k-th best exact score. Results are exact: the same as scoring every
//! spectrum (tested against that, on every instruction set the processor offers).
//!
//! **Identity** search ranks by the whole spectra. **Reverse** search ignores query peaks the library
//! spectrum lacks (the query may be a mixture, or carry column bleed); it scores every spectrum sharing a
//! peak, from the postings.

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
    /// The settings chosen by leave-one-out on MassBank EI (docs/benchmarks.md, "Spectra").
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
        .map(|&(mz, i)| {
            // m/z to the first power is the usual setting, and a power costs as much as the rest.
            let mz_weight = if settings.mz_power == 1.0 { mz as f64 } else { (mz as f64).powf(settings.mz_power) };
            (mz, mz_weight * i.powf(settings.intensity_power))
        })
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

/// Library vectors laid out for accumulating `Σ a·b` over every library spectrum at once: each m/z's
/// postings (spectrum, value), and the m/z that many spectra share also as a dense column with one value
/// per spectrum, which vector instructions add eight at a time instead of scattering postings one by one.
#[derive(Debug, Default)]
struct Postings {
    offsets: Vec<u32>,
    ids: Vec<u32>,
    values: Vec<f32>,
    /// For each m/z its column in `dense`, or [`SPARSE`].
    column: Vec<u32>,
    /// Column-major, `stride` values per column, each in steps of its column's `steps` entry, rounded
    /// up (see [`quantise_up`]): a quarter of the bytes of `f32`, and with two cores searching, what is
    /// read from memory limits the pass.
    dense: Vec<u8>,
    /// Each dense column's step: its largest value / 255, rounded up.
    steps: Vec<f32>,
    /// The library's size rounded up to whole [`SEGMENT`]s (the padding holds zeros).
    stride: usize,
}

const SPARSE: u32 = u32::MAX;

/// An m/z becomes a dense column when at least this fraction of the library has it: below, scattering
/// its postings costs less than adding a whole column (on MassBank, 1/8 and 1/32 measured no faster).
const DENSE_SHARE: usize = 16;

impl Postings {
    fn build(vectors: &[Vec<(u16, f32)>]) -> Postings {
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
        let mut ids = vec![0; total];
        let mut values = vec![0.0; total];
        for (id, vector) in vectors.iter().enumerate() {
            for &(mz, value) in vector {
                let at = fill[mz as usize] as usize;
                fill[mz as usize] += 1;
                ids[at] = id as u32;
                values[at] = value;
            }
        }
        let stride = vectors.len().next_multiple_of(SEGMENT);
        let mut column = vec![SPARSE; MAX_MZ + 1];
        let mut dense = Vec::new();
        let mut steps = Vec::new();
        for mz in 0..=MAX_MZ {
            let range = counts[mz] as usize..counts[mz + 1] as usize;
            if range.is_empty() || range.len() * DENSE_SHARE < vectors.len() {
                continue;
            }
            column[mz] = (dense.len() / stride) as u32;
            let start = dense.len();
            dense.resize(start + stride, 0);
            let step = (values[range.clone()].iter().copied().fold(0.0f32, f32::max) / 255.0).next_up();
            steps.push(step);
            for (&id, &value) in ids[range.clone()].iter().zip(&values[range]) {
                dense[start + id as usize] = quantise_up(value, step);
            }
        }
        Postings { offsets: counts, ids, values, column, dense, steps, stride }
    }

    fn postings(&self, mz: u16) -> std::ops::Range<usize> {
        self.offsets[mz as usize] as usize..self.offsets[mz as usize + 1] as usize
    }

    /// `acc[spectrum] = Σ over query peaks of a × (the spectrum's value at that m/z)`.
    #[inline(always)]
    fn accumulate<const FUSED: bool>(&self, peaks: impl Iterator<Item = (u16, f32)> + Clone, acc: &mut [f32]) {
        // The query's peaks at dense m/z, up to MAX_DENSE_PER_QUERY of them; the rest go by postings.
        let mut columns = [(0usize, 0.0f32); MAX_DENSE_PER_QUERY];
        let mut count = 0;
        for (mz, a) in peaks.clone() {
            let column = self.column[mz as usize];
            if column != SPARSE && count < MAX_DENSE_PER_QUERY {
                columns[count] = (column as usize * self.stride, a * self.steps[column as usize]);
                count += 1;
            }
        }
        let columns = &columns[..count];
        // Library blocks small enough for their sums to stay in the first-level cache, and the columns
        // several at a time, so that each sum is loaded and stored once per group of columns.
        for block in (0..self.stride).step_by(BLOCK) {
            let end = (block + BLOCK).min(self.stride);
            let acc = &mut acc[block..end];
            acc.fill(0.0);
            let column = |start: usize| &self.dense[start + block..start + end];
            let mut groups = columns.chunks_exact(GROUP);
            for group in &mut groups {
                let a: [f32; GROUP] = std::array::from_fn(|j| group[j].1);
                let c: [&[u8]; GROUP] = std::array::from_fn(|j| column(group[j].0));
                for i in 0..acc.len() {
                    let mut sum = 0.0;
                    for j in 0..GROUP {
                        sum = multiply_add::<FUSED>(a[j], f32::from(c[j][i]), sum);
                    }
                    acc[i] += sum;
                }
            }
            for &(start, a) in groups.remainder() {
                for (x, &b) in acc.iter_mut().zip(column(start)) {
                    *x = multiply_add::<FUSED>(a, f32::from(b), *x);
                }
            }
        }
        let mut dense = 0;
        for (mz, a) in peaks {
            if self.column[mz as usize] != SPARSE && dense < count {
                dense += 1;
                continue;
            }
            let range = self.postings(mz);
            for (&id, &b) in self.ids[range.clone()].iter().zip(&self.values[range]) {
                acc[id as usize] += a * b;
            }
        }
    }
}

/// How many steps make `value` (0 ≤ value ≤ 255·step), rounded up: sums over the stored values bound
/// the true sums from above, and exceed them by less than one step per column.
fn quantise_up(value: f32, step: f32) -> u8 {
    (f64::from(value) / f64::from(step)).ceil().min(255.0) as u8
}

/// `a·b + c`, in one rounding where the processor has fused multiply–add (`FUSED`), which is then also
/// one instruction; elsewhere `f32::mul_add` would call a slow software routine.
#[inline(always)]
fn multiply_add<const FUSED: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FUSED { a.mul_add(b, c) } else { a * b + c }
}

/// `Σ x·y` in eight independent lanes, so that each addition does not wait for the one before.
#[inline(always)]
fn lanes_dot(x: &[f32], y: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (xs, ys) = (x.chunks_exact(8), y.chunks_exact(8));
    let tail: f32 = xs.remainder().iter().zip(ys.remainder()).map(|(a, b)| a * b).sum();
    for (a, b) in xs.zip(ys) {
        for k in 0..8 {
            lanes[k] += a[k] * b[k];
        }
    }
    ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7])) + tail
}

/// Columns padded to a multiple of this many spectra (a whole number of vector registers).
const SEGMENT: usize = 64;

/// Library spectra per block of [`Postings::accumulate`]: 4,096 sums are 16 KiB.
const BLOCK: usize = 4096;

/// Columns added together in one pass over a block.
const GROUP: usize = 8;

/// Dense columns a query adds block by block; a query with more (it would need more than this many
/// peaks at common m/z) adds the rest as postings.
const MAX_DENSE_PER_QUERY: usize = 128;

/// Each library spectrum's peaks, for scoring one spectrum exactly.
#[derive(Debug, Default)]
struct Forward {
    offsets: Vec<u32>,
    mz: Vec<u16>,
    values: Vec<f32>,
    /// For entropy, b·log2 b of each peak.
    logs: Vec<f32>,
}

impl Forward {
    fn build(vectors: &[Vec<(u16, f32)>], with_logs: bool) -> Forward {
        let mut forward = Forward { offsets: vec![0], ..Forward::default() };
        for vector in vectors {
            for &(mz, value) in vector {
                forward.mz.push(mz);
                forward.values.push(value);
                if with_logs {
                    forward.logs.push(xlog2x(value));
                }
            }
            forward.offsets.push(forward.mz.len() as u32);
        }
        forward
    }

    fn peaks(&self, id: u32) -> std::ops::Range<usize> {
        self.offsets[id as usize] as usize..self.offsets[id as usize + 1] as usize
    }

    /// Reads a value from every cache line of these spectra's peaks, all at once, so that their trips to
    /// memory overlap: scored one after another, each spectrum would wait for its own.
    fn warm(&self, ids: impl Iterator<Item = u32>) {
        let mut sink = 0.0f32;
        for id in ids {
            let range = self.peaks(id);
            for i in range.clone().step_by(16) {
                sink += self.values[i];
            }
            for i in range.step_by(32) {
                sink += f32::from(self.mz[i]);
            }
        }
        std::hint::black_box(sink);
    }
}

/// A searchable library: identities, each spectrum's peaks per similarity, and the postings searched.
#[derive(Debug)]
pub struct Library {
    pub entries: Vec<Entry>,
    settings: Settings,
    cosine: Forward,
    entropy: Forward,
    /// The weighted-cosine vectors: accumulating them gives every spectrum's cosine.
    cosine_postings: Postings,
    /// The square roots of the entropy vectors: accumulating them gives every spectrum's Bhattacharyya
    /// coefficient `Σ √(a·b)`, an upper bound of its entropy similarity (see [`Library::identity`]).
    entropy_postings: Postings,
}

/// A query reduced for one method: peaks by m/z.
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

/// The query by m/z, for scoring library spectra against it: its values, and a·log2 a for entropy.
#[derive(Debug, Default)]
struct QueryTable {
    value: Vec<f32>,
    value_log: Vec<f32>,
}

impl QueryTable {
    fn set(&mut self, peaks: &[(u16, f32)]) {
        if self.value.len() != MAX_MZ + 1 {
            self.value = vec![0.0; MAX_MZ + 1];
            self.value_log = vec![0.0; MAX_MZ + 1];
        }
        for &(mz, a) in peaks {
            self.value[mz as usize] = a;
            self.value_log[mz as usize] = xlog2x(a);
        }
    }

    /// Back to all zeros, touching only the query's own m/z.
    fn clear(&mut self, peaks: &[(u16, f32)]) {
        for &(mz, _) in peaks {
            self.value[mz as usize] = 0.0;
            self.value_log[mz as usize] = 0.0;
        }
    }
}

/// Per-thread working memory, reused between queries.
#[derive(Debug, Default)]
pub struct Scratch {
    acc: Vec<f32>,
    matched: Vec<f32>,
    touched: Vec<u32>,
    dense: QueryTable,
    candidates: Vec<Hit>,
    /// Composite scores by library position, for the candidates ranked by cosine.
    finals: Vec<(u32, f32)>,
    maxima: Vec<u32>,
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
        let roots: Vec<Vec<(u16, f32)>> =
            entropy.iter().map(|v| v.iter().map(|&(mz, x)| (mz, x.sqrt())).collect()).collect();
        Library {
            entries,
            settings,
            cosine_postings: Postings::build(&cosine),
            entropy_postings: Postings::build(&roots),
            cosine: Forward::build(&cosine, false),
            entropy: Forward::build(&entropy, true),
        }
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
        let peaks = match method {
            Method::Cosine | Method::Composite => cosine_vector(&reduced, &self.settings),
            Method::Entropy => entropy_vector(&reduced),
        };
        Query { method, peaks }
    }

    fn forward(&self, method: Method) -> &Forward {
        match method {
            Method::Cosine | Method::Composite => &self.cosine,
            Method::Entropy => &self.entropy,
        }
    }

    fn postings(&self, method: Method) -> &Postings {
        match method {
            Method::Cosine | Method::Composite => &self.cosine_postings,
            Method::Entropy => &self.entropy_postings,
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
        let slots = self.cosine_postings.stride;
        if scratch.acc.len() != slots {
            scratch.acc = vec![0.0; slots];
            scratch.matched = vec![0.0; slots];
        }
        scratch.dense.set(&query.peaks);
        scratch.touched.clear();
        scratch.candidates.clear();
        let hits = match mode {
            Mode::Identity => self.identity(query, top, exclude, scratch),
            Mode::Reverse => self.reverse(query, top, exclude, scratch),
        };
        scratch.dense.clear(&query.peaks);
        hits
    }

    /// Identity search bounds every library spectrum's score at once by accumulating postings, then
    /// scores exactly those whose bound reaches the k-th best exact score: the result is the same as
    /// scoring every spectrum exactly (tested), at the cost of one pass and a few dozen exact scores.
    ///
    /// For the cosine the bound is the cosine itself over values rounded up to 255ths of their column's
    /// largest. For entropy it is the Bhattacharyya coefficient `Σ √(a·b)`: the Jensen–Shannon
    /// divergence in bits is at least the squared Hellinger distance (Topsøe 2000), which peak by peak
    /// is `f(a, b) ≤ √(a·b)`, equal when `a = b`, so the bound is tight for the spectra that rank high.
    fn identity(&self, query: &Query, top: usize, exclude: Option<u32>, s: &mut Scratch) -> Vec<Hit> {
        #[cfg(target_arch = "x86_64")]
        {
            use std::is_x86_feature_detected as has;
            if has!("avx512f") && has!("avx512bw") && has!("fma") {
                // SAFETY: the processor has just been seen to support every feature the function enables.
                return unsafe { self.identity_avx512(query, top, exclude, s) };
            }
            if has!("avx2") && has!("fma") {
                // SAFETY: as above.
                return unsafe { self.identity_avx2(query, top, exclude, s) };
            }
        }
        self.identity_body::<false>(query, top, exclude, s)
    }

    /// The same code compiled for AVX-512: the pass over the library adds sixteen spectra per
    /// instruction, and the multiply–adds are fused.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bw,avx2,fma")]
    fn identity_avx512(&self, query: &Query, top: usize, exclude: Option<u32>, s: &mut Scratch) -> Vec<Hit> {
        self.identity_body::<true>(query, top, exclude, s)
    }

    /// For AVX2 with FMA: eight spectra per instruction.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn identity_avx2(&self, query: &Query, top: usize, exclude: Option<u32>, s: &mut Scratch) -> Vec<Hit> {
        self.identity_body::<true>(query, top, exclude, s)
    }

    #[inline(always)]
    fn identity_body<const FUSED: bool>(
        &self,
        query: &Query,
        top: usize,
        exclude: Option<u32>,
        s: &mut Scratch,
    ) -> Vec<Hit> {
        let postings = self.postings(query.method);
        let exact = match query.method {
            Method::Cosine | Method::Composite => {
                postings.accumulate::<FUSED>(query.peaks.iter().copied(), &mut s.acc);
                Method::Cosine
            }
            Method::Entropy => {
                postings.accumulate::<FUSED>(query.peaks.iter().map(|&(mz, a)| (mz, a.sqrt())), &mut s.acc);
                Method::Entropy
            }
        };
        let composite = query.method == Method::Composite;
        let k = if composite { top.max(RERANKED) } else { top };
        // The exact score, and for the composite the score it re-ranks by (kept aside in `finals`).
        let finals = &mut s.finals;
        finals.clear();
        let mut score = |id: u32| {
            if composite {
                let (cosine, final_) = self.cosine_and_composite(id, &s.dense, query.peaks.len());
                finals.push((id, final_));
                cosine
            } else {
                self.exact(exact, id, &s.dense)
            }
        };
        // The spectra with the best bounds, scored exactly, set the bar; they leave the scan that follows.
        best(&s.acc, k, exclude, &mut s.candidates, &mut s.maxima);
        self.forward(exact).warm(s.candidates.iter().map(|hit| hit.index));
        for hit in &mut s.candidates {
            hit.score = score(hit.index);
            s.acc[hit.index as usize] = 0.0;
        }
        let bar = if s.candidates.len() < k {
            0.0
        } else {
            s.candidates.select_nth_unstable_by(k - 1, by_score);
            // Rounding slack, so that no spectrum exhaustive scoring keeps is dropped.
            (s.candidates[k - 1].score - 1e-4).max(0.0)
        };
        scan(&s.acc, bar, |id| {
            if Some(id) != exclude {
                s.candidates.push(Hit { index: id, score: score(id) });
            }
        });
        s.candidates.retain(|hit| hit.score > 0.0);
        let mut hits = top_k(&mut s.candidates, k);
        if composite {
            s.finals.sort_unstable_by_key(|f| f.0);
            for hit in &mut hits {
                if let Ok(at) = s.finals.binary_search_by_key(&hit.index, |f| f.0) {
                    hit.score = s.finals[at].1;
                }
            }
            return top_k(&mut hits, top);
        }
        hits
    }

    /// The whole score of one library spectrum against the query held in `dense`.
    fn exact(&self, method: Method, id: u32, dense: &QueryTable) -> f32 {
        let forward = self.forward(method);
        let range = forward.peaks(id);
        let mzs = &forward.mz[range.clone()];
        let values = &forward.values[range.clone()];
        match method {
            Method::Cosine | Method::Composite => {
                mzs.iter().zip(values).map(|(&m, &v)| dense.value[m as usize] * v).sum()
            }
            Method::Entropy => {
                // Branch-free (a peak the query lacks adds (b·log2 b − b·log2 b) / 2 = 0 exactly), with the
                // query's a·log2 a looked up rather than computed per library spectrum.
                let logs = &forward.logs[range];
                let mut score = 0.0;
                for ((&m, &b), &b_log_b) in mzs.iter().zip(values).zip(logs) {
                    let (a, a_log_a) = (dense.value[m as usize], dense.value_log[m as usize]);
                    score += entropy_term(a, a_log_a, b, b_log_b);
                }
                score
            }
        }
    }

    fn reverse(&self, query: &Query, top: usize, exclude: Option<u32>, s: &mut Scratch) -> Vec<Hit> {
        let postings = self.postings(query.method);
        s.acc.fill(0.0);
        s.matched.fill(0.0);
        for &(mz, a) in &query.peaks {
            let range = postings.postings(mz);
            for (&id, &b) in postings.ids[range.clone()].iter().zip(&postings.values[range]) {
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
        let forward = &self.entropy;
        for &id in &s.touched {
            if Some(id) == exclude {
                continue;
            }
            let matched = s.matched[id as usize];
            let score = match query.method {
                Method::Cosine | Method::Composite => s.acc[id as usize] / matched.sqrt(),
                Method::Entropy => {
                    let mut score = 0.0;
                    for k in forward.peaks(id) {
                        let a = s.dense.value[forward.mz[k] as usize] / matched;
                        if a > 0.0 {
                            score += entropy_term(a, xlog2x(a), forward.values[k], forward.logs[k]);
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
    /// ratios of neighbouring shared peaks agree, `(N_q·cos + N_shared·F_R) / (N_q + N_shared)`; the
    /// cosine and the composite of one library spectrum in one pass over its peaks.
    fn cosine_and_composite(&self, id: u32, dense: &QueryTable, query_peaks: usize) -> (f32, f32) {
        let forward = &self.cosine;
        let range = forward.peaks(id);
        // The shared peaks are gathered without branches (whether a library peak is shared is a coin
        // toss the branch predictor loses), a chunk at a time, query intensities in `qa` and library ones
        // in `lb`; slot 0 carries the previous chunk's last shared peak. The sums then run in eight lanes.
        const CHUNK: usize = 64;
        const ONES: [f32; CHUNK] = [1.0; CHUNK];
        let (mut qa, mut lb) = ([0.0f32; CHUNK + 1], [0.0f32; CHUNK + 1]);
        let mut ratios = [0.0f32; CHUNK];
        let (mut shared, mut ratio_sum, mut cosine) = (0usize, 0.0f32, 0.0f32);
        for (mzs, values) in forward.mz[range.clone()].chunks(CHUNK).zip(forward.values[range].chunks(CHUNK)) {
            let first = usize::from(shared == 0);
            let mut n = 1;
            for (&mz, &b) in mzs.iter().zip(values) {
                let a = dense.value[mz as usize];
                qa[n] = a;
                lb[n] = b;
                n += usize::from(a > 0.0);
            }
            cosine += lanes_dot(&qa[1..n], &lb[1..n]);
            // Each neighbouring pair's intensity ratio against the query's, folded into (0, 1].
            let pairs = n.saturating_sub(first + 1);
            for (i, r) in ratios[..pairs].iter_mut().enumerate() {
                let (j, k) = (first + i, first + i + 1);
                let (x, y) = (lb[k] * qa[j], lb[j] * qa[k]);
                *r = x.min(y) / x.max(y).max(f32::MIN_POSITIVE);
            }
            ratio_sum += lanes_dot(&ratios[..pairs], &ONES[..pairs]);
            shared += n - 1;
            qa[0] = qa[n - 1];
            lb[0] = lb[n - 1];
        }
        if shared < 2 {
            return (cosine, cosine);
        }
        // Over the shared-1 neighbouring pairs, so that a spectrum scores 1 against itself.
        let f_r = ratio_sum / (shared - 1) as f32;
        (cosine, (query_peaks as f32 * cosine + shared as f32 * f_r) / (query_peaks + shared) as f32)
    }

    /// Score every library spectrum against the query without the index: the reference the index is
    /// tested against.
    pub fn search_exhaustive(&self, query: &Query, top: usize, exclude: Option<u32>) -> Vec<Hit> {
        let mut dense = QueryTable::default();
        dense.set(&query.peaks);
        let mut all: Vec<Hit> = (0..self.entries.len() as u32)
            .filter(|&id| Some(id) != exclude)
            .map(|id| Hit { index: id, score: self.exact(query.method, id, &dense) })
            .filter(|hit| hit.score > 0.0)
            .collect();
        if query.method == Method::Composite {
            let mut hits = top_k(&mut all, top.max(RERANKED));
            for hit in &mut hits {
                hit.score = self.cosine_and_composite(hit.index, &dense, query.peaks.len()).1;
            }
            return top_k(&mut hits, top);
        }
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

/// Which of up to 16 scores exceed `floor`, one bit each: a vector comparison and a mask move, so that
/// the blocks where nothing does (nearly all) cost a few instructions.
#[inline(always)]
fn above(scores: &[f32], floor: f32) -> u32 {
    scores.iter().enumerate().fold(0, |mask, (k, &x)| mask | (u32::from(x > floor) << k))
}

/// The positions of the set bits, lowest first.
#[inline(always)]
fn bits(mut mask: u32) -> impl Iterator<Item = u32> {
    std::iter::from_fn(move || {
        (mask != 0).then(|| {
            let k = mask.trailing_zeros();
            mask &= mask - 1;
            k
        })
    })
}

/// Calls `each` with every spectrum whose accumulated score exceeds `floor`, in library order.
#[inline(always)]
fn scan(acc: &[f32], floor: f32, mut each: impl FnMut(u32)) {
    for (block, chunk) in acc.chunks(16).enumerate() {
        for k in bits(above(chunk, floor)) {
            each(block as u32 * 16 + k);
        }
    }
}

/// The `k` spectra with the highest accumulated scores above zero (ties by library order), into `out`,
/// unordered. Candidates collect until there are 2k, then the best k are kept and the floor rises to
/// the k-th best, so that most blocks are skipped.
#[inline(always)]
fn best(acc: &[f32], k: usize, exclude: Option<u32>, out: &mut Vec<Hit>, maxima: &mut Vec<u32>) {
    out.clear();
    // A first floor: the (k+1)-th largest of the blocks' maxima (one spectrum may be excluded); at least
    // k other spectra score that much, so nothing below it is among the best k. Scores are not
    // negative, so their bit patterns order as they do.
    maxima.clear();
    maxima.extend(acc.chunks(16).map(|chunk| chunk.iter().fold(0, |m, x| m.max(x.to_bits()))));
    let mut floor = 0.0;
    if maxima.len() > k {
        let (_, &mut kth, _) = maxima.select_nth_unstable_by(k, |a, b| b.cmp(a));
        floor = f32::from_bits(kth.saturating_sub(1));
    }
    for (block, chunk) in acc.chunks(16).enumerate() {
        for bit in bits(above(chunk, floor)) {
            let (id, score) = (block as u32 * 16 + bit, chunk[bit as usize]);
            if score > floor && Some(id) != exclude {
                out.push(Hit { index: id, score });
                if out.len() == 2 * k {
                    out.select_nth_unstable_by(k - 1, by_score);
                    out.truncate(k);
                    floor = out[k - 1].score;
                }
            }
        }
    }
    if out.len() > k {
        out.select_nth_unstable_by(k - 1, by_score);
        out.truncate(k);
    }
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
    fn the_entropy_term_never_exceeds_the_bhattacharyya_term() {
        // f(a, b) ≤ √(a·b), equal at a = b: the bound identity search prunes entropy with.
        let grid: Vec<f32> = (0..=120).map(|k| 10f32.powf(-6.0 + k as f32 / 20.0)).collect();
        for &a in &grid {
            for &b in &grid {
                let f = entropy_term(a, xlog2x(a), b, xlog2x(b));
                assert!(f <= (a * b).sqrt() * (1.0 + 1e-5) + 1e-9, "f({a}, {b}) = {f}");
            }
            let f = entropy_term(a, xlog2x(a), a, xlog2x(a));
            assert!((f - a).abs() <= a * 1e-5, "f({a}, {a}) = {f}");
        }
    }

    #[test]
    fn quantised_values_are_rounded_up_by_less_than_a_step() {
        for largest in [1.0f32, 0.37, 1e-3] {
            let step = (largest / 255.0).next_up();
            for k in 0..=10_000 {
                let x = largest * k as f32 / 10_000.0;
                let up = f32::from(quantise_up(x, step)) * step;
                assert!(up >= x && up < x + step, "{x} -> {up} (step {step})");
            }
            assert_eq!(quantise_up(0.0, step), 0);
        }
    }

    /// A library of `n` made-up spectra over m/z 40–240, common low masses in most of them, so that
    /// the library has dense columns and, above 4,096 spectra, several blocks.
    fn made_up_library(n: usize) -> (Library, Vec<Vec<(f64, f64)>>) {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let spectra: Vec<Vec<(f64, f64)>> = (0..n)
            .map(|_| {
                let peaks = 5 + (next() * 30.0) as usize;
                (0..peaks)
                    .map(|_| {
                        let mz =
                            if next() < 0.5 { 40.0 + (next() * 20.0).floor() } else { 40.0 + (next() * 200.0).floor() };
                        (mz, 1.0 + next() * 999.0)
                    })
                    .collect()
            })
            .collect();
        let lib = Library::build(spectra.iter().map(|p| (Entry::default(), p.clone())), Settings::default());
        (lib, spectra)
    }

    #[test]
    fn a_query_with_more_common_peaks_than_dense_slots_adds_the_rest_as_postings() {
        // 40 spectra with a peak at every m/z from 40 to 339: every m/z is a dense column, and a query
        // with all 300 has more than MAX_DENSE_PER_QUERY of them. Low and high m/z vary independently,
        // so that a ranking from the first dense slots alone would differ.
        let spectra: Vec<Vec<(f64, f64)>> = (0..40)
            .map(|s| {
                let shift = |mz: usize| if mz < 168 { s * 13 } else { s * s * 29 };
                (40..340).map(|mz| (mz as f64, 1.0 + ((mz * 7 + shift(mz)) % 97) as f64)).collect()
            })
            .collect();
        let lib = Library::build(spectra.iter().map(|p| (Entry::default(), p.clone())), Settings::default());
        let mut scratch = Scratch::default();
        for method in [Method::Cosine, Method::Entropy] {
            let query = lib.query(&spectra[3], method);
            assert!(query.peaks.len() > MAX_DENSE_PER_QUERY);
            let fast = lib.search(&query, Mode::Identity, 5, None, &mut scratch);
            let slow = lib.search_exhaustive(&query, 5, None);
            assert_eq!(fast[0].index, 3, "{method:?}");
            assert_eq!(fast.len(), 5);
            for (f, s) in fast.iter().zip(&slow) {
                assert!(f.index == s.index && (f.score - s.score).abs() < 1e-4, "{method:?}: {f:?} vs {s:?}");
            }
        }
    }

    #[test]
    fn identity_search_is_exact_with_and_without_vector_instructions() {
        let (lib, spectra) = made_up_library(5_000);
        assert!(lib.cosine_postings.dense.len() >= 20 * lib.len(), "the test needs dense columns");
        let mut scratch = Scratch::default();
        for method in [Method::Cosine, Method::Composite, Method::Entropy] {
            for (i, peaks) in spectra.iter().enumerate().step_by(97) {
                let query = lib.query(peaks, method);
                let slow = lib.search_exhaustive(&query, 5, Some(i as u32));
                let dispatched = lib.search(&query, Mode::Identity, 5, Some(i as u32), &mut scratch);
                scratch.dense.set(&query.peaks);
                let mut variants = vec![("dispatched", dispatched)];
                variants.push(("portable", lib.identity_body::<false>(&query, 5, Some(i as u32), &mut scratch)));
                #[cfg(target_arch = "x86_64")]
                if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                    // SAFETY: the processor supports AVX2 and FMA.
                    let avx2 = unsafe { lib.identity_avx2(&query, 5, Some(i as u32), &mut scratch) };
                    variants.push(("avx2", avx2));
                }
                scratch.dense.clear(&query.peaks);
                for (which, fast) in &variants {
                    assert_eq!(fast.len(), slow.len(), "{method:?} query {i}");
                    for (f, s) in fast.iter().zip(&slow) {
                        assert!((f.score - s.score).abs() < 1e-4, "{which} {method:?} query {i}: {f:?} vs {s:?}");
                    }
                }
            }
        }
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
