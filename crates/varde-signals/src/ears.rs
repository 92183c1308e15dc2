//! EARS C1, C2 and C3 (Hutwagner et al. 2003; R `earsC`).
//!
//! C1 compares a week with the mean and standard deviation of the 7 weeks before it; C2 does the same with a
//! two-week gap; C3 adds the two previous C2 excesses over 1, so a rise over three weeks counts.
//!
//! R's C3 differs from the method as documented: it computes the bound as *this week's count* plus σ·(z - lags),
//! so the current week's own excess cancels out and a single-week spike can never alarm. We implement the
//! documented statistic, C3(t) = C2(t) + max(0, C2(t-1) - 1) + max(0, C2(t-2) - 1) ≥ threshold, with the bound
//! μ(t) + σ(t)·(z - lags); [`c3_as_r`] keeps R's version for the tests that show the difference.

use crate::stats::{mean, qnorm, sd};
use crate::{Evaluation, SignalError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    C1,
    C2,
    C3,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EarsParams {
    pub variant: Variant,
    /// Weeks in the baseline (R default 7).
    pub baseline: usize,
    /// A floor for the baseline's standard deviation.
    pub min_sigma: f64,
    /// One-sided level; R's defaults are 0.001 for C1 and C2 and 0.025 for C3.
    pub alpha: f64,
}

impl EarsParams {
    pub fn new(variant: Variant) -> EarsParams {
        let alpha = if variant == Variant::C3 { 0.025 } else { 0.001 };
        EarsParams { variant, baseline: 7, min_sigma: 0.0, alpha }
    }
}

/// Mean and standard deviation of the baseline for week `t` (gap 0 for C1, 2 for C2 and C3).
fn baseline(y: &[f64], t: usize, p: &EarsParams, gap: usize) -> Result<(f64, f64), SignalError> {
    let end = t.checked_sub(gap).ok_or(SignalError::TooShort { week: t + 1 })?;
    let start = end.checked_sub(p.baseline).ok_or(SignalError::TooShort { week: t + 1 })?;
    let refs = &y[start..end];
    Ok((mean(refs), sd(refs).max(p.min_sigma)))
}

fn c2_statistic(y: &[f64], t: usize, p: &EarsParams) -> Result<(f64, f64, f64), SignalError> {
    let (m, s) = baseline(y, t, p, 2)?;
    Ok(((y[t] - m) / s, m, s))
}

pub fn ears(y: &[f64], range: std::ops::RangeInclusive<usize>, p: &EarsParams) -> Result<Vec<Evaluation>, SignalError> {
    let z = qnorm(1.0 - p.alpha);
    range
        .map(|t| {
            let upper = match p.variant {
                Variant::C1 => {
                    let (m, s) = baseline(y, t, p, 0)?;
                    m + z * s
                }
                Variant::C2 => {
                    let (m, s) = baseline(y, t, p, 2)?;
                    m + z * s
                }
                Variant::C3 => {
                    let (_, m, s) = c2_statistic(y, t, p)?;
                    let lags = c3_lags(y, t, p)?;
                    (m + s * (z - lags)).max(0.0)
                }
            };
            Ok(Evaluation {
                week: t + 1,
                observed: y[t],
                upperbound: upper,
                alarm: y[t] > upper,
                ..Evaluation::default()
            })
        })
        .collect()
}

fn c3_lags(y: &[f64], t: usize, p: &EarsParams) -> Result<f64, SignalError> {
    let short = SignalError::TooShort { week: t + 1 };
    let lag1 = c2_statistic(y, t.checked_sub(1).ok_or(short.clone())?, p)?.0;
    let lag2 = c2_statistic(y, t.checked_sub(2).ok_or(short)?, p)?.0;
    Ok((lag1 - 1.0).max(0.0) + (lag2 - 1.0).max(0.0))
}

/// EARS C3 as R's `earsC` computes it (the current week cancels out of the bound). For comparison only.
pub fn c3_as_r(
    y: &[f64],
    range: std::ops::RangeInclusive<usize>,
    p: &EarsParams,
) -> Result<Vec<Evaluation>, SignalError> {
    let z = qnorm(1.0 - p.alpha);
    range
        .map(|t| {
            let (_, _, s) = c2_statistic(y, t, p)?;
            let upper = (y[t] + s * (z - c3_lags(y, t, p)?)).max(0.0);
            Ok(Evaluation {
                week: t + 1,
                observed: y[t],
                upperbound: upper,
                alarm: y[t] > upper,
                ..Evaluation::default()
            })
        })
        .collect()
}
