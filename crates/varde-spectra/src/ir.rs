//! Infrared spectra: preprocessing, library search and mixture analysis.
//!
//! Everything is brought to one wavenumber grid (600–3800 cm⁻¹ every 2 cm⁻¹ by default) in absorbance
//! (transmittance is converted, percent or fraction). Then
//!
//! * **search** compares a query with each reference by Pearson correlation or the hit quality index
//!   (HQI, the squared cosine) of baseline-corrected spectra, or by the correlation of Savitzky–Golay
//!   first derivatives, which ignores baselines altogether (Open Specy's default);
//! * **mixture analysis** explains the query as a non-negative combination of references plus a free
//!   polynomial baseline, by forward selection: at each step the reference that most reduces the
//!   residual is fitted (non-negative least squares) and kept only if a partial F-test rejects "it adds
//!   nothing" at `alpha`, with the degrees of freedom reduced for the residual's autocorrelation (adjacent
//!   grid points are not independent, so the naive test would accept everything). Each accepted
//!   component brings its first and second derivatives as free terms: `s(ν − δ) ≈ s(ν) − δ·s′(ν)`
//!   absorbs band shifts of a few cm⁻¹ and `σ²/2·s″` band broadening. An exchange pass replaces a
//!   component that stood in for others, a backward pass drops components no longer significant, and the
//!   whole analysis is repeated after realigning the query (global shift) and broadening the references
//!   to the width that fits best.

use crate::nnls;

/// A wavenumber grid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grid {
    pub start: f64,
    pub step: f64,
    pub len: usize,
}

impl Grid {
    /// 600–3800 cm⁻¹ every 2 cm⁻¹: the mid-infrared range of ATR-FTIR instruments used in drug checking.
    pub const STANDARD: Grid = Grid { start: 600.0, step: 2.0, len: 1601 };

    pub fn x(&self, i: usize) -> f64 {
        self.start + self.step * i as f64
    }
}

/// What the ordinate of a file measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ordinate {
    Absorbance,
    Transmittance,
}

impl Ordinate {
    /// From a JCAMP-DX `##YUNITS=`: transmittance when it says so, absorbance-like otherwise
    /// (absorbance, absorption coefficients, arbitrary units).
    pub fn from_units(units: Option<&str>) -> Ordinate {
        match units {
            Some(u) if u.to_ascii_uppercase().contains("TRANSMIT") => Ordinate::Transmittance,
            _ => Ordinate::Absorbance,
        }
    }
}

/// Absorbance from either ordinate. Transmittance above 1.5 anywhere is taken as percent.
pub fn to_absorbance(y: &[f64], ordinate: Ordinate) -> Vec<f64> {
    match ordinate {
        Ordinate::Absorbance => y.iter().map(|v| if v.is_finite() { *v } else { 0.0 }).collect(),
        Ordinate::Transmittance => {
            let percent = y.iter().any(|&v| v > 1.5);
            y.iter()
                .map(|&t| {
                    let t = if percent { t / 100.0 } else { t };
                    if t.is_finite() { -(t.clamp(1e-4, 1.0)).log10() } else { 0.0 }
                })
                .collect()
        }
    }
}

/// Linear interpolation onto `grid`, the spectrum moved by `shift` cm⁻¹ (a band at ν appears at
/// ν + shift). Outside the measured range the value is 0. Abscissae may run either way.
pub fn resample(x: &[f64], y: &[f64], grid: &Grid, shift: f64) -> Vec<f64> {
    let mut points: Vec<(f64, f64)> =
        x.iter().zip(y).filter(|(a, b)| a.is_finite() && b.is_finite()).map(|(&a, &b)| (a, b)).collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out = vec![0.0; grid.len];
    if points.len() < 2 {
        return out;
    }
    let mut k = 0;
    for (i, slot) in out.iter_mut().enumerate() {
        let target = grid.x(i) - shift;
        if target < points[0].0 || target > points[points.len() - 1].0 {
            continue;
        }
        while k + 1 < points.len() - 1 && points[k + 1].0 < target {
            k += 1;
        }
        let (x0, y0) = points[k];
        let (x1, y1) = points[k + 1];
        *slot = if x1 > x0 { y0 + (y1 - y0) * (target - x0) / (x1 - x0) } else { y0 };
    }
    out
}

/// Gaussian smoothing with standard deviation `sigma` grid points (kernel cut at 4σ, renormalised at
/// the edges).
pub fn smooth(y: &[f64], sigma: f64) -> Vec<f64> {
    if sigma <= 0.0 {
        return y.to_vec();
    }
    let half = (4.0 * sigma).ceil() as isize;
    let kernel: Vec<f64> = (-half..=half).map(|k| (-0.5 * (k as f64 / sigma).powi(2)).exp()).collect();
    let n = y.len() as isize;
    (0..n)
        .map(|i| {
            let (mut sum, mut weight) = (0.0, 0.0);
            for (k, w) in (-half..=half).zip(&kernel) {
                let j = i + k;
                if (0..n).contains(&j) {
                    sum += w * y[j as usize];
                    weight += w;
                }
            }
            sum / weight
        })
        .collect()
}

/// Baseline removal by iterative polynomial fitting (Lieber & Mahadevan-Jansen 2003, "ModPoly"): fit a
/// polynomial, clip the spectrum to it, repeat, so that the fit sinks under the bands.
pub fn baseline_corrected(y: &[f64], degree: usize, iterations: usize) -> Vec<f64> {
    let n = y.len();
    if n <= degree + 1 {
        return y.to_vec();
    }
    let basis = legendre_basis(n, degree);
    let columns: Vec<&[f64]> = basis.iter().map(Vec::as_slice).collect();
    let mut work = y.to_vec();
    let mut fit = vec![0.0; n];
    for _ in 0..iterations {
        let (gram, atb) = nnls::normal_equations(&columns, &work);
        let coefficients = nnls::nnls_gram(&gram, &atb, &vec![true; columns.len()]);
        for (i, f) in fit.iter_mut().enumerate() {
            *f = columns.iter().zip(&coefficients).map(|(c, k)| c[i] * k).sum();
        }
        for (w, f) in work.iter_mut().zip(&fit) {
            *w = w.min(*f);
        }
    }
    y.iter().zip(&fit).map(|(v, f)| v - f).collect()
}

/// Legendre polynomials 0..=degree over the grid mapped to [−1, 1] (well conditioned, unlike powers).
fn legendre_basis(n: usize, degree: usize) -> Vec<Vec<f64>> {
    let t: Vec<f64> = (0..n).map(|i| if n > 1 { 2.0 * i as f64 / (n - 1) as f64 - 1.0 } else { 0.0 }).collect();
    let mut basis: Vec<Vec<f64>> = vec![vec![1.0; n]];
    if degree >= 1 {
        basis.push(t.clone());
    }
    for k in 2..=degree {
        let kf = k as f64;
        let next: Vec<f64> =
            (0..n).map(|i| ((2.0 * kf - 1.0) * t[i] * basis[k - 1][i] - (kf - 1.0) * basis[k - 2][i]) / kf).collect();
        basis.push(next);
    }
    basis
}

/// Savitzky–Golay first derivative (quadratic fit over 2·half+1 points), in units per grid point.
pub fn derivative(y: &[f64], half: usize) -> Vec<f64> {
    let n = y.len();
    let norm: f64 = (1..=half).map(|k| 2.0 * (k * k) as f64).sum();
    (0..n)
        .map(|i| {
            let mut s = 0.0;
            for k in 1..=half {
                let up = y[(i + k).min(n - 1)];
                let down = y[i.saturating_sub(k)];
                s += k as f64 * (up - down);
            }
            s / norm
        })
        .collect()
}

/// Scaled so that the largest absolute value is 1 (all zeros stay zeros): for display and for
/// comparisons by eye; the searches themselves are scale-free.
pub fn normalised(y: &[f64]) -> Vec<f64> {
    let largest = y.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    if largest > 0.0 { y.iter().map(|v| v / largest).collect() } else { y.to_vec() }
}

/// A baseline-corrected spectrum scaled so that its positive part sums to 1: the scale at which
/// mixture shares are stated (and synthetic mixtures built).
pub fn unit_area(corrected: &[f64]) -> Vec<f64> {
    let area: f64 = corrected.iter().map(|v| v.max(0.0)).sum::<f64>().max(1e-12);
    corrected.iter().map(|v| v / area).collect()
}

/// Pearson correlation.
pub fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len()) as f64;
    if n < 2.0 {
        return 0.0;
    }
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        let (da, db) = (x - ma, y - mb);
        sab += da * db;
        saa += da * da;
        sbb += db * db;
    }
    if saa <= 0.0 || sbb <= 0.0 { 0.0 } else { sab / (saa * sbb).sqrt() }
}

/// Hit quality index: the squared cosine of two spectra (1 for identical shapes).
pub fn hqi(a: &[f64], b: &[f64]) -> f64 {
    let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    if aa <= 0.0 || bb <= 0.0 { 0.0 } else { ab * ab / (aa * bb) }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchMethod {
    /// Pearson correlation of baseline-corrected spectra.
    Correlation,
    /// Hit quality index of baseline-corrected spectra.
    Hqi,
    /// Pearson correlation of first derivatives (Open Specy's default).
    Derivative,
}

/// One library reference.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    pub name: String,
    /// References with the same group are one compound (two spectra of ethanol); a mixture never
    /// contains two of them.
    pub group: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IrHit {
    pub index: usize,
    pub score: f64,
}

/// A component of a mixture as the analysis proposes it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Component {
    pub index: usize,
    /// Share of the fitted absorbance (references are scaled to unit area).
    pub fraction: f64,
    /// The partial F-test's p-value for this component given the others.
    pub p_value: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MixtureOptions {
    pub max_components: usize,
    /// A component is accepted when its p-value is below this.
    pub alpha: f64,
    /// …and its share at least this.
    pub min_fraction: f64,
    pub baseline_degree: usize,
}

impl Default for MixtureOptions {
    fn default() -> Self {
        MixtureOptions { max_components: 6, alpha: 1e-6, min_fraction: 0.015, baseline_degree: 3 }
    }
}

/// References prepared for search and mixture analysis on one grid.
#[derive(Debug, Clone)]
pub struct IrLibrary {
    pub grid: Grid,
    pub references: Vec<Reference>,
    /// Gaussian smoothing applied to references and queries alike, in grid points.
    smoothing: f64,
    corrected: Vec<Vec<f64>>,
    derivatives: Vec<Vec<f64>>,
    /// Smoothed absorbance scaled to unit area, and its derivative.
    columns: Columns,
}

/// The mixture model's columns for every reference: the spectrum (unit area) and its first and second
/// derivatives, optionally broadened beyond the library's own smoothing.
#[derive(Debug, Clone, Default)]
struct Columns {
    values: Vec<Vec<f64>>,
    first: Vec<Vec<f64>>,
    second: Vec<Vec<f64>>,
}

impl Columns {
    fn push(&mut self, column: Vec<f64>) {
        let first = derivative(&column, 1);
        self.second.push(derivative(&first, 1));
        self.first.push(first);
        self.values.push(column);
    }

    fn broadened(&self, sigma: f64) -> Columns {
        let mut out = Columns::default();
        for column in &self.values {
            out.push(smooth(column, sigma));
        }
        out
    }
}

/// Columns per component: its spectrum, first derivative (band shift) and second derivative (band
/// width: Gaussian broadening by σ adds σ²/2 times the second derivative).
const TERMS: usize = 3;

/// Extra broadening of the references tried when realigning, cm⁻¹ (Gaussian standard deviation).
const BROADENING: [f64; 4] = [0.0, 1.0, 2.0, 3.0];

/// How many screened candidates are fitted at each selection step.
const SCREENED: usize = 8;

/// Savitzky–Golay half window for derivatives (11 points).
const DERIVATIVE_HALF: usize = 5;

impl IrLibrary {
    pub fn new(grid: Grid) -> IrLibrary {
        IrLibrary {
            grid,
            references: Vec::new(),
            smoothing: 2.0,
            corrected: Vec::new(),
            derivatives: Vec::new(),
            columns: Columns::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.references.len()
    }

    pub fn is_empty(&self) -> bool {
        self.references.is_empty()
    }

    /// Add a reference given as absorbance on the library's grid.
    pub fn add(&mut self, reference: Reference, absorbance: &[f64]) {
        assert_eq!(absorbance.len(), self.grid.len, "reference on the library grid");
        let smoothed = smooth(absorbance, self.smoothing);
        let corrected = baseline_corrected(&smoothed, 3, 30);
        self.derivatives.push(derivative(&smoothed, DERIVATIVE_HALF));
        let column = unit_area(&corrected);
        self.columns.push(column);
        self.corrected.push(corrected);
        self.references.push(reference);
    }

    /// The best `top` references for a query (absorbance on the grid).
    pub fn search(&self, query: &[f64], method: SearchMethod, top: usize) -> Vec<IrHit> {
        let smoothed = smooth(query, self.smoothing);
        let prepared = match method {
            SearchMethod::Derivative => derivative(&smoothed, DERIVATIVE_HALF),
            _ => baseline_corrected(&smoothed, 3, 30),
        };
        let mut hits: Vec<IrHit> = (0..self.len())
            .map(|i| {
                let score = match method {
                    SearchMethod::Correlation => pearson(&prepared, &self.corrected[i]),
                    SearchMethod::Hqi => hqi(&prepared, &self.corrected[i]),
                    SearchMethod::Derivative => pearson(&prepared, &self.derivatives[i]),
                };
                IrHit { index: i, score }
            })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.index.cmp(&b.index)));
        hits.truncate(top);
        hits
    }

    /// Propose the components of a mixture (absorbance on the grid), largest share first.
    ///
    /// An instrument's wavenumber calibration moves every band alike, so after a first analysis the
    /// query is realigned (the shift in ±4 cm⁻¹, by half the grid step, that best fits the components
    /// found) and analysed again; the derivative terms then only absorb what differs per band.
    pub fn mixture(&self, query: &[f64], options: &MixtureOptions) -> Vec<Component> {
        let baseline = legendre_basis(self.grid.len, options.baseline_degree);
        let target = smooth(query, self.smoothing);
        let first = self.select(&target, &baseline, options, &self.columns);
        if first.is_empty() {
            return first;
        }
        // Realign and rebroaden: the shift (±4 cm⁻¹ by half the grid step) and extra broadening of the
        // references (0–3 cm⁻¹) under which the components found fit best.
        let chosen: Vec<usize> = first.iter().map(|c| c.index).collect();
        let x: Vec<f64> = (0..self.grid.len).map(|i| self.grid.x(i)).collect();
        let steps = (4.0 / (self.grid.step / 2.0)).round() as i32;
        let variants: Vec<(f64, Columns)> = BROADENING
            .iter()
            .map(|&cm| {
                let sigma = cm / self.grid.step;
                (sigma, if sigma > 0.0 { self.columns.broadened(sigma) } else { self.columns.clone() })
            })
            .collect();
        let mut best = (0.0, 0usize, f64::INFINITY);
        for k in -steps..=steps {
            let shift = k as f64 * self.grid.step / 2.0;
            let aligned = resample(&x, &target, &self.grid, -shift);
            for (v, (_, columns)) in variants.iter().enumerate() {
                let rss = self.fit(&aligned, &baseline, &chosen, columns).rss;
                if rss < best.2 {
                    best = (shift, v, rss);
                }
            }
        }
        let (shift, v, _) = best;
        if shift == 0.0 && v == 0 {
            return first;
        }
        let aligned = resample(&x, &target, &self.grid, -shift);
        let second = self.select(&aligned, &baseline, options, &variants[v].1);
        if second.is_empty() { first } else { second }
    }

    /// Forward selection and backward elimination on a smoothed target.
    fn select(
        &self,
        target: &[f64],
        baseline: &[Vec<f64>],
        options: &MixtureOptions,
        columns: &Columns,
    ) -> Vec<Component> {
        // Adjacent grid points are not independent after the Gaussian smoothing: the tests count
        // n / (2·√π·σ) independent residuals, the equivalent noise bandwidth of the smoothing. (The
        // residual's own autocorrelation is no guide: while components are missing, or bands are shifted
        // and broadened, it is their structure, not noise, and the test would drop true components.)
        let independent = self.grid.len as f64 / (2.0 * std::f64::consts::PI.sqrt() * self.smoothing);
        let mut chosen: Vec<usize> = Vec::new();
        let mut current = self.fit(target, baseline, &chosen, columns);
        while chosen.len() < options.max_components {
            let best = self.best_addition(target, baseline, &chosen, &current.residual, columns);
            let Some((candidate, fitted)) = best else { break };
            let p = f_test(&current, &fitted, TERMS, independent);
            let mut with = chosen.clone();
            with.push(candidate);
            let share = fitted.fractions(&with).last().copied().unwrap_or(0.0);
            if p >= options.alpha || share < options.min_fraction {
                break;
            }
            chosen = with;
            current = fitted;
        }
        // Exchange: greedy forward selection can take a component that stands in for two others; try
        // replacing each chosen one with what best explains the data without it.
        for _ in 0..3 {
            let mut improved = false;
            for k in 0..chosen.len() {
                let mut without = chosen.clone();
                without.remove(k);
                let reduced = self.fit(target, baseline, &without, columns);
                if let Some((candidate, fitted)) =
                    self.best_addition(target, baseline, &without, &reduced.residual, columns)
                    && candidate != chosen[k]
                    && fitted.rss < current.rss * (1.0 - 1e-6)
                {
                    without.push(candidate);
                    chosen = without;
                    current = fitted;
                    improved = true;
                    break;
                }
            }
            if !improved {
                break;
            }
        }
        // Backward: drop the least significant component while any is not significant given the others.
        loop {
            let tests: Vec<(usize, f64, f64)> = (0..chosen.len())
                .map(|k| {
                    let mut without = chosen.clone();
                    without.remove(k);
                    let reduced = self.fit(target, baseline, &without, columns);
                    (k, f_test(&reduced, &current, TERMS, independent), current.fractions(&chosen)[k])
                })
                .collect();
            let worst = tests
                .iter()
                .filter(|(_, p, share)| *p >= options.alpha || *share < options.min_fraction)
                .max_by(|a, b| a.1.total_cmp(&b.1));
            match worst {
                Some(&(k, _, _)) => {
                    chosen.remove(k);
                    current = self.fit(target, baseline, &chosen, columns);
                }
                None => {
                    let fractions = current.fractions(&chosen);
                    let mut components: Vec<Component> = tests
                        .iter()
                        .map(|&(k, p, _)| Component { index: chosen[k], fraction: fractions[k], p_value: p })
                        .collect();
                    components.sort_by(|a, b| b.fraction.total_cmp(&a.fraction));
                    return components;
                }
            }
        }
    }

    /// Of the references not yet chosen (nor of a chosen compound), the one whose addition fits best:
    /// screened by how much of the residual each could explain, the best few then fitted.
    fn best_addition(
        &self,
        target: &[f64],
        baseline: &[Vec<f64>],
        chosen: &[usize],
        residual: &[f64],
        columns: &Columns,
    ) -> Option<(usize, Fit)> {
        let mut screened: Vec<(usize, f64)> = (0..self.len())
            .filter(|&i| !chosen.iter().any(|&c| self.references[c].group == self.references[i].group))
            .filter_map(|i| {
                let c = &columns.values[i];
                let cr: f64 = c.iter().zip(residual).map(|(a, r)| a * r).sum();
                let cc: f64 = c.iter().map(|a| a * a).sum();
                (cr > 0.0 && cc > 0.0).then(|| (i, cr * cr / cc))
            })
            .collect();
        screened.sort_by(|a, b| b.1.total_cmp(&a.1));
        screened
            .iter()
            .take(SCREENED)
            .map(|&(i, _)| {
                let mut with = chosen.to_vec();
                with.push(i);
                (i, self.fit(target, baseline, &with, columns))
            })
            .min_by(|a, b| a.1.rss.total_cmp(&b.1.rss))
    }

    /// Non-negative fit of `chosen` references (each with a free derivative term) and a free baseline.
    fn fit(&self, target: &[f64], baseline: &[Vec<f64>], chosen: &[usize], model: &Columns) -> Fit {
        let mut columns: Vec<&[f64]> = baseline.iter().map(Vec::as_slice).collect();
        let mut free = vec![true; baseline.len()];
        for &i in chosen {
            columns.push(&model.values[i]);
            free.push(false);
            columns.push(&model.first[i]);
            free.push(true);
            columns.push(&model.second[i]);
            free.push(true);
        }
        let (gram, atb) = nnls::normal_equations(&columns, target);
        let x = nnls::nnls_gram(&gram, &atb, &free);
        let mut residual = target.to_vec();
        for (column, k) in columns.iter().zip(&x) {
            if *k != 0.0 {
                for (r, c) in residual.iter_mut().zip(column.iter()) {
                    *r -= k * c;
                }
            }
        }
        let rss = residual.iter().map(|r| r * r).sum();
        let coefficients = chosen.iter().enumerate().map(|(k, _)| x[baseline.len() + TERMS * k]).collect();
        Fit { rss, residual, parameters: columns.len(), coefficients }
    }
}

#[derive(Debug, Clone)]
struct Fit {
    rss: f64,
    residual: Vec<f64>,
    parameters: usize,
    /// Non-negative coefficient of each chosen reference, in order.
    coefficients: Vec<f64>,
}

impl Fit {
    fn fractions(&self, chosen: &[usize]) -> Vec<f64> {
        let total: f64 = self.coefficients.iter().sum();
        debug_assert_eq!(chosen.len(), self.coefficients.len());
        self.coefficients.iter().map(|c| if total > 0.0 { c / total } else { 0.0 }).collect()
    }
}

/// p-value of the partial F-test of `larger` against `smaller` (which lacks `added` parameters), with
/// `n` independent residuals.
fn f_test(smaller: &Fit, larger: &Fit, added: usize, n: f64) -> f64 {
    let df2 = n - larger.parameters as f64;
    if df2 < 1.0 || larger.rss <= 0.0 {
        return if smaller.rss > larger.rss { 0.0 } else { 1.0 };
    }
    let f = ((smaller.rss - larger.rss).max(0.0) / added as f64) / (larger.rss / df2);
    let d1 = added as f64;
    // P(F > f) = I_{d2/(d2 + d1 f)}(d2/2, d1/2).
    varde_stats::incomplete_beta(df2 / (df2 + d1 * f), df2 / 2.0, d1 / 2.0)
}

/// Synthetic mixtures from real reference spectra, for evaluating the mixture analysis.
pub mod evaluation {
    use super::*;

    /// A reference as measured: its identity and its spectrum in absorbance at its own abscissae.
    #[derive(Debug, Clone)]
    pub struct Measured {
        pub reference: Reference,
        pub x: Vec<f64>,
        pub absorbance: Vec<f64>,
    }

    /// How mixtures are distorted.
    #[derive(Debug, Clone, Copy, PartialEq)]
    pub struct Distortion {
        /// Largest band shift, cm⁻¹ (uniform in ±this).
        pub shift: f64,
        /// Largest extra Gaussian broadening, standard deviation in cm⁻¹ (uniform in 0..this).
        pub broadening: f64,
        /// Largest baseline slope across the grid, as a share of the mixture's largest absorbance.
        pub slope: f64,
        /// Noise standard deviation as a share of the mixture's largest absorbance.
        pub noise: f64,
    }

    impl Default for Distortion {
        fn default() -> Self {
            Distortion { shift: 3.0, broadening: 2.0, slope: 0.2, noise: 0.002 }
        }
    }

    #[derive(Debug, Clone, Copy, PartialEq)]
    pub struct Outcome {
        pub minor_fraction: f64,
        pub mixtures: usize,
        /// Share of mixtures where the minor component was proposed.
        pub minor_found: f64,
        /// Share where all three were proposed.
        pub all_found: f64,
        /// Proposed components that were not in the mixture, per mixture.
        pub wrong_per_mixture: f64,
    }

    /// Deterministic pseudo-random numbers (SplitMix64), so that evaluations repeat exactly.
    pub struct Rng(pub u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        fn uniform(&mut self) -> f64 {
            (self.next() >> 11) as f64 / (1u64 << 53) as f64
        }
        fn normal(&mut self) -> f64 {
            let (u, v) = (self.uniform().max(1e-300), self.uniform());
            (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
        }
    }

    /// Build `mixtures` three-component mixtures with the minor one at `minor_fraction`, analyse each
    /// against a library of all references, and count.
    pub fn evaluate(
        measured: &[Measured],
        grid: Grid,
        minor_fraction: f64,
        mixtures: usize,
        distortion: Distortion,
        options: &MixtureOptions,
        seed: u64,
    ) -> Outcome {
        let mut library = IrLibrary::new(grid);
        for m in measured {
            library.add(m.reference.clone(), &resample(&m.x, &m.absorbance, &grid, 0.0));
        }
        let mut rng = Rng(seed);
        let (mut minor_found, mut all_found, mut wrong) = (0usize, 0usize, 0usize);
        for _ in 0..mixtures {
            let (picks, mixture) = synthesize(measured, grid, minor_fraction, distortion, &mut rng);
            let proposed = library.mixture(&mixture, options);
            let group = |i: usize| &measured[i].reference.group;
            let found = |pick: usize| proposed.iter().any(|c| group(c.index) == group(pick));
            minor_found += usize::from(found(picks[0]));
            all_found += usize::from(picks.iter().all(|&p| found(p)));
            wrong += proposed.iter().filter(|c| !picks.iter().any(|&p| group(p) == group(c.index))).count();
        }
        let share = |k: usize| k as f64 / mixtures.max(1) as f64;
        Outcome {
            minor_fraction,
            mixtures,
            minor_found: share(minor_found),
            all_found: share(all_found),
            wrong_per_mixture: share(wrong),
        }
    }

    /// One mixture: three references of different compounds (the first the minor one at
    /// `minor_fraction`, the others sharing the rest at random), distorted.
    pub fn synthesize(
        measured: &[Measured],
        grid: Grid,
        minor_fraction: f64,
        distortion: Distortion,
        rng: &mut Rng,
    ) -> ([usize; 3], Vec<f64>) {
        let picks = three_compounds(measured, rng);
        let major = 0.3 + 0.4 * rng.uniform();
        let shares = [minor_fraction, (1.0 - minor_fraction) * major, (1.0 - minor_fraction) * (1.0 - major)];
        let shift = distortion.shift * (2.0 * rng.uniform() - 1.0);
        let mut mixture = vec![0.0; grid.len];
        for (&pick, share) in picks.iter().zip(shares) {
            let m = &measured[pick];
            let spectrum = resample(&m.x, &m.absorbance, &grid, shift);
            for (s, v) in mixture.iter_mut().zip(unit_area(&baseline_corrected(&spectrum, 3, 30))) {
                *s += share * v;
            }
        }
        let broadening = distortion.broadening * rng.uniform() / grid.step;
        let mut mixture = smooth(&mixture, broadening);
        let peak = mixture.iter().copied().fold(0.0, f64::max);
        let slope = distortion.slope * peak * (2.0 * rng.uniform() - 1.0);
        let offset = 0.05 * peak * rng.uniform();
        let n = grid.len as f64;
        for (i, v) in mixture.iter_mut().enumerate() {
            *v += offset + slope * i as f64 / n + distortion.noise * peak * rng.normal();
        }
        (picks, mixture)
    }

    /// Three references of three different compounds, the first to be the minor one.
    fn three_compounds(measured: &[Measured], rng: &mut Rng) -> [usize; 3] {
        let mut picks: Vec<usize> = Vec::with_capacity(3);
        while picks.len() < 3 {
            let i = (rng.next() % measured.len() as u64) as usize;
            if !picks.iter().any(|&p| measured[p].reference.group == measured[i].reference.group) {
                picks.push(i);
            }
        }
        [picks[0], picks[1], picks[2]]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn band(center: f64, width: f64) -> Vec<f64> {
        (0..Grid::STANDARD.len).map(|i| (-0.5 * ((Grid::STANDARD.x(i) - center) / width).powi(2)).exp()).collect()
    }

    #[test]
    fn transmittance_in_percent_or_fraction_becomes_absorbance() {
        let a = to_absorbance(&[100.0, 10.0, 1.0], Ordinate::Transmittance);
        assert!((a[0] - 0.0).abs() < 1e-12 && (a[1] - 1.0).abs() < 1e-12 && (a[2] - 2.0).abs() < 1e-12);
        let b = to_absorbance(&[1.0, 0.1], Ordinate::Transmittance);
        assert!((b[1] - 1.0).abs() < 1e-12);
    }

    #[test]
    fn normalisation_scales_the_largest_band_to_one() {
        assert_eq!(normalised(&[0.5, -2.0, 1.0]), vec![0.25, -1.0, 0.5]);
        assert_eq!(normalised(&[0.0, 0.0]), vec![0.0, 0.0]);
        let query: Vec<f64> = band(1700.0, 8.0).iter().map(|v| 7.0 * v).collect();
        assert!((pearson(&normalised(&query), &band(1700.0, 8.0)) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn resampling_moves_bands_by_the_shift() {
        let x: Vec<f64> = (0..=2000).map(|i| 500.0 + i as f64 * 2.0).collect();
        let y: Vec<f64> = x.iter().map(|&v| (-0.5 * ((v - 1700.0) / 5.0).powi(2)).exp()).collect();
        let moved = resample(&x, &y, &Grid::STANDARD, 4.0);
        let top = (0..moved.len()).max_by(|&a, &b| moved[a].total_cmp(&moved[b])).unwrap();
        assert!((Grid::STANDARD.x(top) - 1704.0).abs() < 1e-9);
    }

    #[test]
    fn baseline_correction_removes_a_slope_under_bands() {
        let y: Vec<f64> = band(1700.0, 8.0).iter().enumerate().map(|(i, v)| v + 0.3 + 0.0002 * i as f64).collect();
        let corrected = baseline_corrected(&y, 2, 50);
        let far = corrected[50].abs().max(corrected[1500].abs());
        assert!(far < 0.02, "{far}");
    }

    #[test]
    fn a_two_band_mixture_is_taken_apart() {
        let mut lib = IrLibrary::new(Grid::STANDARD);
        let refs = [(1700.0, 1100.0), (2900.0, 1450.0), (1600.0, 800.0), (3300.0, 1250.0)];
        for (k, (a, b)) in refs.iter().enumerate() {
            let s: Vec<f64> = band(*a, 10.0).iter().zip(band(*b, 12.0)).map(|(x, y)| x + 0.5 * y).collect();
            lib.add(Reference { name: format!("r{k}"), group: format!("g{k}") }, &s);
        }
        let query: Vec<f64> = (0..Grid::STANDARD.len)
            .map(|i| {
                0.8 * lib.columns.values[0][i] + 0.2 * lib.columns.values[3][i] + 0.001 * (i as f64 * 0.37).sin() * 1e-3
            })
            .collect();
        let found = lib.mixture(&query, &MixtureOptions::default());
        let indices: Vec<usize> = found.iter().map(|c| c.index).collect();
        assert_eq!(indices, vec![0, 3], "{found:?}");
        assert!((found[0].fraction - 0.8).abs() < 0.05, "{found:?}");
        assert_eq!(lib.search(&query, SearchMethod::Correlation, 1)[0].index, 0);
    }
}
