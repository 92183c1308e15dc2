//! Aberration detection on weekly counts: is this week's count higher than the past says it should be?
//!
//! Pure functions over a series of counts (index 0 is the first week). Each algorithm follows R's `surveillance`
//! package (version 1.20.3) and is tested against its output on the same data; the one deliberate difference is
//! EARS C3 (see [`ears`]).

pub mod cusum;
pub mod ears;
pub mod farrington;
mod glm;
/// The shared distribution functions (crate `varde-stats`), under their old name.
pub use varde_stats as stats;

pub use cusum::CusumParams;
pub use ears::{EarsParams, Variant};
pub use farrington::{FarringtonParams, FlexibleParams, ThresholdMethod};

/// One evaluated week.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evaluation {
    /// 1-based week number in the series.
    pub week: usize,
    pub observed: f64,
    /// The count above which the week alarms (NaN where the method gives none, e.g. too few cases).
    pub upperbound: f64,
    pub alarm: bool,
    pub expected: Option<f64>,
    pub score: Option<f64>,
    pub pvalue: Option<f64>,
    pub phi: Option<f64>,
    pub trend: Option<bool>,
    pub cusum: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignalError {
    #[error("week {week} has too little history for this method and its parameters")]
    TooShort { week: usize },
    #[error("the regression could not be fitted (the reference weeks do not determine it)")]
    Singular,
    #[error("too many seasonal periods for the window")]
    TooManyPeriods,
}

/// The methods, with their parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum Method {
    Ears(EarsParams),
    Farrington(FarringtonParams),
    Flexible(FlexibleParams),
    Cusum(CusumParams),
}

/// Runs a method over the weeks `range` (0-based, inclusive) of `y`.
pub fn evaluate(
    y: &[f64],
    range: std::ops::RangeInclusive<usize>,
    method: &Method,
) -> Result<Vec<Evaluation>, SignalError> {
    if *range.end() >= y.len() || range.is_empty() {
        return Err(SignalError::TooShort { week: *range.end() + 1 });
    }
    match method {
        Method::Ears(p) => ears::ears(y, range, p),
        Method::Farrington(p) => farrington::farrington(y, range, p),
        Method::Flexible(p) => farrington::flexible(y, range, p),
        Method::Cusum(p) => {
            if *range.start() == 0 {
                return Err(SignalError::TooShort { week: 1 });
            }
            Ok(cusum::cusum(y, range, p))
        }
    }
}
