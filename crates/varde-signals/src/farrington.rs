//! Farrington's algorithm (Farrington et al. 1996, R `algo.farrington`) and its improved, flexible form (Noufaily
//! et al. 2013, R `farringtonFlexible`).
//!
//! Both fit a quasi-Poisson regression to the same weeks of earlier years, optionally with a linear trend, down-weight
//! past outbreaks by their Anscombe residuals, and raise an alarm when this week's count exceeds an upper bound.

use crate::glm::{self, Fit};
use crate::stats::{nbinom_at_least, pois_at_least, qnbinom, qnorm, qpois};
use crate::{Evaluation, SignalError};

/// Parameters of Farrington 1996 (`algo.farrington`), with R's defaults except where noted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FarringtonParams {
    /// Years back to take reference weeks from (R default 5).
    pub b: usize,
    /// Half-width of the window of reference weeks around the same week in earlier years.
    pub w: usize,
    /// Two-sided level of the prediction interval.
    pub alpha: f64,
    /// Down-weight past outbreaks (Anscombe residuals above 1).
    pub reweight: bool,
    /// Fit a linear trend when it is significant (p < 0.05), b ≥ 3, and it does not extrapolate beyond the data.
    pub trend: bool,
    /// No alarm unless the last `limit54.1` weeks hold at least `limit54.0` cases.
    pub limit54: (f64, usize),
    /// Weeks per year.
    pub freq: usize,
}

impl Default for FarringtonParams {
    fn default() -> Self {
        FarringtonParams { b: 5, w: 3, alpha: 0.05, reweight: true, trend: true, limit54: (5.0, 4), freq: 52 }
    }
}

/// Thresholds of the flexible algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThresholdMethod {
    /// Farrington's: a 2/3-power transformed normal approximation with the delta method.
    Delta,
    /// Noufaily's: a negative binomial quantile at the fitted mean (plug-in).
    NbPlugin,
}

/// Parameters of `farringtonFlexible`. [`FlexibleParams::original`] and [`FlexibleParams::noufaily`] are the two
/// published settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlexibleParams {
    pub b: usize,
    pub w: usize,
    /// One-sided level.
    pub alpha: f64,
    pub reweight: bool,
    /// Anscombe residuals above this are down-weighted (1 in Farrington's setting, 2.58 in Noufaily's).
    pub weights_threshold: f64,
    pub trend: bool,
    /// A trend is kept when its p-value is below this (1 keeps every trend that does not extrapolate).
    pub p_threshold_trend: f64,
    /// Seasonal periods per year: 1 uses only the windows around the same week; more adds the weeks between as
    /// a factor of that many levels.
    pub periods: usize,
    /// The most recent weeks left out of the fit, so a current outbreak does not raise its own baseline.
    pub past_weeks_not_included: usize,
    pub threshold: ThresholdMethod,
    pub limit54: (f64, usize),
    pub freq: usize,
}

impl FlexibleParams {
    /// Farrington's original settings, as in the surveillance package's comparison.
    pub fn original(b: usize, w: usize, alpha: f64) -> FlexibleParams {
        FlexibleParams {
            b,
            w,
            alpha,
            reweight: true,
            weights_threshold: 1.0,
            trend: true,
            p_threshold_trend: 0.05,
            periods: 1,
            past_weeks_not_included: w,
            threshold: ThresholdMethod::Delta,
            limit54: (5.0, 4),
            freq: 52,
        }
    }

    /// Noufaily et al. (2013): 10 periods, weights threshold 2.58, 26 weeks left out, every non-extrapolating
    /// trend kept, negative binomial plug-in threshold.
    pub fn noufaily(b: usize, w: usize, alpha: f64) -> FlexibleParams {
        FlexibleParams {
            weights_threshold: 2.58,
            p_threshold_trend: 1.0,
            periods: 10,
            past_weeks_not_included: 26,
            threshold: ThresholdMethod::NbPlugin,
            ..FlexibleParams::original(b, w, alpha)
        }
    }
}

/// Anscombe residuals of a Poisson fit, scaled by dispersion and leverage (`anscombe.residuals`).
fn anscombe(fit: &Fit, x: &[Vec<f64>], y: &[f64], phi: f64) -> Vec<f64> {
    let h = fit.hat_values(x);
    (0..y.len())
        .map(|i| {
            let mu = fit.mu[i];
            1.5 * (y[i].powf(2.0 / 3.0) * mu.powf(-1.0 / 6.0) - mu.sqrt()) / (phi * (1.0 - h[i])).sqrt()
        })
        .collect()
}

/// Weights that shrink observations with large residuals (`algo.farrington.assign.weights`).
fn assign_weights(s: &[f64], threshold: f64) -> Vec<f64> {
    let denominator: f64 = s.iter().map(|v| if *v > threshold { v.powi(-2) } else { 1.0 }).sum();
    let gamma = s.len() as f64 / denominator;
    s.iter().map(|v| if *v > threshold { gamma * v.powi(-2) } else { gamma }).collect()
}

/// A reweighted fit: the model, φ = max(dispersion, 1), and the dispersion R's later `summary()` calls see.
struct Reweighted {
    model: Fit,
    phi: f64,
    /// `farringtonFlexible` replaces `model$weights` with the prior weights ω after computing φ, so every later
    /// `summary()` (the trend's p-value, the prediction's standard error) computes the dispersion as Σω·r²/df
    /// instead of with the working weights. R's `algo.farrington` does not do this. Reproduced so the flexible
    /// algorithm's thresholds and alarms agree with R's.
    later_dispersion: f64,
}

fn fit_reweighted(x: &[Vec<f64>], y: &[f64], reweight: bool, threshold: f64) -> Result<Reweighted, SignalError> {
    let ones = vec![1.0; y.len()];
    let model = glm::fit(x, y, &ones).ok_or(SignalError::Singular)?;
    let phi = model.dispersion().max(1.0);
    if !reweight {
        let later_dispersion = model.dispersion();
        return Ok(Reweighted { model, phi, later_dispersion });
    }
    let omega = assign_weights(&anscombe(&model, x, y, phi), threshold);
    let model = glm::fit(x, y, &omega).ok_or(SignalError::Singular)?;
    let phi = model.dispersion().max(1.0);
    let later_dispersion = model.dispersion_with(&omega);
    Ok(Reweighted { model, phi, later_dispersion })
}

fn design(wtime: &[f64], trend: bool) -> Vec<Vec<f64>> {
    wtime.iter().map(|t| if trend { vec![1.0, *t] } else { vec![1.0] }).collect()
}

fn enough_cases(y: &[f64], k: usize, limit54: (f64, usize)) -> bool {
    let from = (k + 1).saturating_sub(limit54.1);
    y[from..=k].iter().sum::<f64>() >= limit54.0
}

/// A fit of `algo.farrington.fitGLM.fast`: with a trend when asked, unless that fit does not converge, in which
/// case R refits without it (and does not check convergence again).
struct FastFit {
    model: Fit,
    phi: f64,
    with_trend: bool,
}

fn fit_fast(wtime: &[f64], response: &[f64], trend: bool, reweight: bool) -> Result<FastFit, SignalError> {
    let ones = vec![1.0; response.len()];
    let mut with_trend = trend;
    let mut x = design(wtime, with_trend);
    let mut model = glm::fit(&x, response, &ones).ok_or(SignalError::Singular)?;
    if !model.converged && with_trend {
        with_trend = false;
        x = design(wtime, false);
        model = glm::fit(&x, response, &ones).ok_or(SignalError::Singular)?;
    }
    let mut phi = model.dispersion().max(1.0);
    if reweight {
        let omega = assign_weights(&anscombe(&model, &x, response, phi), 1.0);
        model = glm::fit(&x, response, &omega).ok_or(SignalError::Singular)?;
        phi = model.dispersion().max(1.0);
    }
    Ok(FastFit { model, phi, with_trend })
}

/// Farrington 1996 for the weeks in `range` (0-based indices into `y`), step for step as R's `algo.farrington`
/// with its default fitting function, including on sparse series: where the fit with a trend does not converge
/// (a run of zeros drives the mean towards zero) it is refitted without one, and means stay at least machine
/// epsilon, so a series of zeros gets a tiny bound and no alarm instead of an error.
pub fn farrington(
    y: &[f64],
    range: std::ops::RangeInclusive<usize>,
    p: &FarringtonParams,
) -> Result<Vec<Evaluation>, SignalError> {
    let z = qnorm(1.0 - p.alpha / 2.0);
    let mut out = Vec::new();
    for k in range {
        // Reference weeks: k - freq·i ± w for i = b..1 (1-based times in the fit, as R's `wtime`).
        let mut idx = Vec::new();
        for i in (1..=p.b).rev() {
            let centre = k as i64 - (p.freq * i) as i64;
            for t in centre - p.w as i64..=centre + p.w as i64 {
                if t >= 0 {
                    idx.push(t as usize);
                }
            }
        }
        if idx.is_empty() {
            return Err(SignalError::TooShort { week: k + 1 });
        }
        let response: Vec<f64> = idx.iter().map(|i| y[*i]).collect();
        let wtime: Vec<f64> = idx.iter().map(|i| (*i + 1) as f64).collect();
        let now = (k + 1) as f64;
        let mut fit = fit_fast(&wtime, &response, p.trend, p.reweight)?;
        // R tests the trend only when the fit kept it ("wtime" among the coefficients).
        if fit.with_trend {
            let significant = fit.model.p_value(1, fit.model.dispersion()) < 0.05;
            let (mu0, _) = fit.model.predict_response(&[1.0, now], 1.0);
            let max = response.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            if !(p.b >= 3 && significant && mu0 <= max) {
                fit = fit_fast(&wtime, &response, false, p.reweight)?;
            }
        }
        let FastFit { model, phi, with_trend } = fit;
        let x0: Vec<f64> = if with_trend { vec![1.0, now] } else { vec![1.0] };
        let (mu0, se) = model.predict_response(&x0, phi);
        let upper = upper_2_3(mu0, se, phi, z);
        let enough = enough_cases(y, k, p.limit54);
        let score = if enough { (y[k] - mu0) / (upper - mu0) } else { 0.0 };
        out.push(Evaluation {
            week: k + 1,
            observed: y[k],
            upperbound: if enough { upper } else { 0.0 },
            alarm: score > 1.0,
            expected: Some(mu0),
            trend: Some(with_trend),
            ..Evaluation::default()
        });
    }
    Ok(out)
}

/// The upper limit of the 2/3-power transformed prediction interval (`algo.farrington.threshold`).
fn upper_2_3(mu0: f64, se_fit: f64, phi: f64, z: f64) -> f64 {
    let tau = phi + se_fit * se_fit / mu0;
    let se = (4.0 / 9.0 * mu0.powf(1.0 / 3.0) * tau).sqrt();
    let ends = [(mu0.powf(2.0 / 3.0) - z * se).powf(1.5), (mu0.powf(2.0 / 3.0) + z * se).powf(1.5)];
    // R sorts with NaN first: when the lower end is undefined, the upper end is the finite one.
    if ends[0].is_nan() { ends[1] } else { ends[0].max(ends[1]) }
}

/// The seasonal blocks of `farringtonFlexible` (R `blocks`): the window around this week and around the same
/// week in each reference year is level `periods`; with more than one period, the weeks between are split into
/// `periods - 1` consecutive blocks. Weeks outside get `None`.
fn blocks(n: usize, k: usize, p: &FlexibleParams) -> Result<Vec<Option<usize>>, SignalError> {
    let mut f: Vec<Option<usize>> = vec![None; n];
    let periods = p.periods;
    for slot in f.iter_mut().take(k + 1).skip(k.saturating_sub(p.w)) {
        *slot = Some(periods);
    }
    for i in 1..=p.b {
        let later = k - p.freq * (i - 1);
        let reference = k - p.freq * i;
        for slot in f.iter_mut().take((reference + p.w + 1).min(n)).skip(reference - p.w) {
            *slot = Some(periods);
        }
        if periods != 1 {
            let period = later - 2 * p.w - 1 - reference;
            if period < periods - (2 * p.w + 1) {
                return Err(SignalError::TooManyPeriods);
            }
            let (len, rest) = (period / (periods - 1), period % (periods - 1));
            let mut start = reference + p.w + 1;
            for j in 1..periods {
                let this = len + usize::from(j <= rest);
                for slot in f.iter_mut().take(start + this).skip(start) {
                    *slot = Some(j);
                }
                start += this;
            }
        }
    }
    Ok(f)
}

/// `farringtonFlexible` for the weeks in `range` (0-based indices into `y`).
///
/// Matches R, including its inconsistent dispersion: R hands φ to `predict.glm` inside the new data, where it is
/// ignored, so the prediction's standard error uses the dispersion `summary()` recomputes after the weights were
/// replaced (see [`Reweighted::later_dispersion`]), while the threshold uses φ. We do the same, so thresholds and
/// alarms agree with R's; the difference from a consistent φ is small (a few percent of the bound).
pub fn flexible(
    y: &[f64],
    range: std::ops::RangeInclusive<usize>,
    p: &FlexibleParams,
) -> Result<Vec<Evaluation>, SignalError> {
    let mut out = Vec::new();
    for k in range {
        if k < p.freq * p.b + p.w {
            return Err(SignalError::TooShort { week: k + 1 });
        }
        let mut f = blocks(y.len(), k, p)?;
        for slot in f.iter_mut().take(k + 1).skip(k.saturating_sub(p.past_weeks_not_included)) {
            *slot = None;
        }
        let idx: Vec<usize> = (0..y.len()).filter(|i| f[*i].is_some()).collect();
        let response: Vec<f64> = idx.iter().map(|i| y[*i]).collect();
        let wtime: Vec<f64> = idx.iter().map(|i| (*i + 1) as f64).collect();
        // Treatment contrasts: one column per level except the lowest, as R's factor coding.
        let mut levels: Vec<usize> = idx.iter().filter_map(|i| f[*i]).collect();
        levels.sort_unstable();
        levels.dedup();
        let factors = p.periods != 1;
        let row = |t: f64, level: usize, trend: bool| -> Vec<f64> {
            let mut r = vec![1.0];
            if trend {
                r.push(t);
            }
            if factors {
                r.extend(levels.iter().skip(1).map(|l| if *l == level { 1.0 } else { 0.0 }));
            }
            r
        };
        let make = |trend: bool| -> Vec<Vec<f64>> {
            idx.iter().zip(&wtime).map(|(i, t)| row(*t, f[*i].expect("kept"), trend)).collect()
        };
        let now = (k + 1) as f64;
        let mut fitted = fit_reweighted(&make(p.trend), &response, p.reweight, p.weights_threshold)?;
        let mut do_trend = false;
        if p.trend {
            let (fit, _) = fitted.model.predict_response(&row(now, p.periods, true), fitted.later_dispersion);
            let significant = fitted.model.p_value(1, fitted.later_dispersion) < p.p_threshold_trend;
            let max = response.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            do_trend = p.b >= 3 && significant && fit <= max;
            if !do_trend {
                fitted = fit_reweighted(&make(false), &response, p.reweight, p.weights_threshold)?;
            }
        }
        let Reweighted { model, phi, later_dispersion } = fitted;
        if !model.converged {
            // R gives no result for such a week (NA, with a warning); so do we, and go on with the next.
            out.push(Evaluation { week: k + 1, observed: y[k], upperbound: f64::NAN, ..Evaluation::default() });
            continue;
        }
        let x0 = row(now, p.periods, do_trend);
        let observed = y[k];
        let (upper, score, pvalue, expected) = match p.threshold {
            ThresholdMethod::Delta => {
                let (mu0, se) = model.predict_response(&x0, later_dispersion);
                let tau = phi + se * se / mu0;
                let se_t = (4.0 / 9.0 * mu0.powf(1.0 / 3.0) * tau).sqrt();
                let z = qnorm(1.0 - p.alpha);
                let ends = [(mu0.powf(2.0 / 3.0) - z * se_t).powf(1.5), (mu0.powf(2.0 / 3.0) + z * se_t).powf(1.5)];
                let upper = if ends[0].is_nan() { ends[1] } else { ends[0].max(ends[1]) };
                let pvalue = crate::stats::norm_upper((observed.powf(2.0 / 3.0) - mu0.powf(2.0 / 3.0)) / se_t);
                (upper, (observed - mu0) / (upper - mu0), pvalue, mu0)
            }
            ThresholdMethod::NbPlugin => {
                let (eta0, _) = model.predict_link(&x0, later_dispersion);
                let mu0 = eta0.exp();
                let (upper, pvalue) = if phi > 1.0 {
                    let (size, prob) = (mu0 / (phi - 1.0), 1.0 / phi);
                    (qnbinom(1.0 - p.alpha, size, prob), nbinom_at_least(observed, size, prob))
                } else {
                    (qpois(1.0 - p.alpha, mu0), pois_at_least(observed, mu0))
                };
                // R scores against the prediction on the link scale here; kept for identical alarms.
                (upper, (observed - eta0) / (upper - eta0), pvalue, mu0)
            }
        };
        let enough = enough_cases(y, k, p.limit54);
        out.push(Evaluation {
            week: k + 1,
            observed,
            upperbound: if enough { upper } else { f64::NAN },
            alarm: enough && score > 1.0 && observed != 0.0,
            expected: Some(if enough { expected } else { f64::NAN }),
            score: Some(score),
            pvalue: Some(pvalue),
            phi: Some(phi),
            trend: Some(do_trend),
            cusum: None,
        });
    }
    Ok(out)
}
