//! CUSUM on standardised counts (R `algo.cusum` with `trans = "standard"`): the mean m of all weeks before the
//! range is the in-control level; each week adds (y - m)/√m - k, floored at zero; an alarm when the sum reaches h.

use crate::Evaluation;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CusumParams {
    /// Reference value (allowance), in standard deviations (R default 1.04).
    pub k: f64,
    /// Decision interval (R default 2.26).
    pub h: f64,
}

impl Default for CusumParams {
    fn default() -> Self {
        CusumParams { k: 1.04, h: 2.26 }
    }
}

pub fn cusum(y: &[f64], range: std::ops::RangeInclusive<usize>, p: &CusumParams) -> Vec<Evaluation> {
    let first = *range.start();
    let m = y[..first].iter().sum::<f64>() / first as f64;
    let mut sum = 0.0;
    range
        .map(|t| {
            let before = sum;
            sum = (sum + (y[t] - m) / m.sqrt() - p.k).max(0.0);
            // The smallest count that would reach h this week, given the sum so far.
            let upper = ((m.sqrt() * (p.h + p.k - before) + m).ceil()).max(0.0);
            Evaluation {
                week: t + 1,
                observed: y[t],
                upperbound: upper,
                alarm: sum >= p.h,
                cusum: Some(sum),
                ..Evaluation::default()
            }
        })
        .collect()
}
