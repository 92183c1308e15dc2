//! The distribution functions Varde's algorithms need (signal detection, spectral mixture tests), to the precision
//! R's own give. Pure, with no dependency on the rest of Varde.

/// Standard normal upper tail, P(Z > z), accurate in the far tail (erfc, not 1 - cdf).
pub fn norm_upper(z: f64) -> f64 {
    0.5 * libm::erfc(z / std::f64::consts::SQRT_2)
}

/// Normal distribution function with mean and standard deviation.
pub fn pnorm(x: f64, mean: f64, sd: f64) -> f64 {
    norm_upper(-(x - mean) / sd)
}

/// Standard normal quantile: Wichura's algorithm AS 241 (PPND16), the one R's `qnorm` uses; about 1e-16 relative.
// The coefficients are written as published, digit for digit, so they can be checked against the paper.
#[allow(clippy::excessive_precision)]
pub fn qnorm(p: f64) -> f64 {
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180625 - q * q;
        return q
            * (((((((r * 2509.0809287301226727 + 33430.575583588128105) * r + 67265.770927008700853) * r
                + 45921.953931549871457)
                * r
                + 13731.693765509461125)
                * r
                + 1971.5909503065514427)
                * r
                + 133.14166789178437745)
                * r
                + 3.387132872796366608)
            / (((((((r * 5226.495278852545925 + 28729.085735721942674) * r + 39307.89580009271061) * r
                + 21213.794301586595867)
                * r
                + 5394.1960214247511077)
                * r
                + 687.1870074920579083)
                * r
                + 42.313330701600911252)
                * r
                + 1.0);
    }
    let mut r = if q < 0.0 { p } else { 1.0 - p };
    r = (-r.ln()).sqrt();
    let val = if r <= 5.0 {
        r -= 1.6;
        (((((((r * 7.7454501427834140764e-4 + 0.0227238449892691845833) * r + 0.24178072517745061177) * r
            + 1.27045825245236838258)
            * r
            + 3.64784832476320460504)
            * r
            + 5.7694972214606914055)
            * r
            + 4.6303378461565452959)
            * r
            + 1.42343711074968357734)
            / (((((((r * 1.05075007164441684324e-9 + 5.475938084995344946e-4) * r + 0.0151986665636164571966) * r
                + 0.14810397642748007459)
                * r
                + 0.68976733498510000455)
                * r
                + 1.6763848301838038494)
                * r
                + 2.05319162663775882187)
                * r
                + 1.0)
    } else {
        r -= 5.0;
        (((((((r * 2.01033439929228813265e-7 + 2.71155556874348757815e-5) * r + 0.0012426609473880784386) * r
            + 0.026532189526576123093)
            * r
            + 0.29656057182850489123)
            * r
            + 1.7848265399172913358)
            * r
            + 5.4637849111641143699)
            * r
            + 6.6579046435011037772)
            / (((((((r * 2.04426310338993978564e-15 + 1.4215117583164458887e-7) * r + 1.8463183175100546818e-5) * r
                + 7.868691311456132591e-4)
                * r
                + 0.0148753612908506148525)
                * r
                + 0.13692988092273580531)
                * r
                + 0.59983220655588793769)
                * r
                + 1.0)
    };
    if q < 0.0 { -val } else { val }
}

/// Regularised incomplete beta I_x(a, b), by Lentz's continued fraction (converges fast on the side chosen).
pub fn incomplete_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = libm::lgamma(a + b) - libm::lgamma(a) - libm::lgamma(b) + a * x.ln() + b * (1.0 - x).ln();
    if x > (a + 1.0) / (a + b + 2.0) {
        return 1.0 - incomplete_beta(1.0 - x, b, a);
    }
    let tiny = 1e-300;
    let (mut c, mut d) = (1.0, 1.0 - (a + b) * x / (a + 1.0));
    if d.abs() < tiny {
        d = tiny;
    }
    d = 1.0 / d;
    let mut f = d;
    for m in 1..10_000 {
        let m = f64::from(m);
        for numerator in [
            m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0)),
        ] {
            d = 1.0 + numerator * d;
            if d.abs() < tiny {
                d = tiny;
            }
            c = 1.0 + numerator / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            f *= c * d;
        }
        if (c * d - 1.0).abs() < 1e-16 {
            break;
        }
    }
    ln_front.exp() * f / a
}

/// Two-sided p-value of a t statistic with `df` degrees of freedom, 2·P(T > |t|).
pub fn t_two_sided(t: f64, df: f64) -> f64 {
    incomplete_beta(df / (df + t * t), df / 2.0, 0.5)
}

/// Negative binomial probability of k (R's parametrisation: `size`, `prob`), by the recurrence from k = 0.
fn nbinom_pmfs(size: f64, prob: f64) -> impl Iterator<Item = f64> {
    let mut k = 0.0f64;
    let mut p = prob.powf(size);
    std::iter::from_fn(move || {
        let out = p;
        p *= (k + size) / (k + 1.0) * (1.0 - prob);
        k += 1.0;
        Some(out)
    })
}

fn poisson_pmfs(lambda: f64) -> impl Iterator<Item = f64> {
    let mut k = 0.0f64;
    let mut p = (-lambda).exp();
    std::iter::from_fn(move || {
        let out = p;
        p *= lambda / (k + 1.0);
        k += 1.0;
        Some(out)
    })
}

/// The smallest k with P(X ≤ k) ≥ p, as R's `qnbinom`/`qpois` give for a discrete distribution.
fn discrete_quantile(p: f64, pmfs: impl Iterator<Item = f64>) -> f64 {
    // R compares with a little fuzz so that p = P(X ≤ k) computed with rounding still gives k.
    let target = p * (1.0 - 64.0 * f64::EPSILON);
    let mut cdf = 0.0;
    for (k, pmf) in pmfs.enumerate().take(1_000_000) {
        cdf += pmf;
        if cdf >= target {
            return k as f64;
        }
    }
    f64::INFINITY
}

/// P(X ≥ y) summed from y upwards, so small tails keep their precision.
fn discrete_upper(y: f64, pmfs: impl Iterator<Item = f64>) -> f64 {
    if y <= 0.0 {
        return 1.0;
    }
    let start = y as usize;
    let mut sum = 0.0;
    for (k, pmf) in pmfs.enumerate().take(1_000_000) {
        if k >= start {
            sum += pmf;
            if pmf < sum * 1e-17 && k > start + 10 {
                break;
            }
        }
    }
    sum
}

pub fn qnbinom(p: f64, size: f64, prob: f64) -> f64 {
    discrete_quantile(p, nbinom_pmfs(size, prob))
}

pub fn qpois(p: f64, lambda: f64) -> f64 {
    discrete_quantile(p, poisson_pmfs(lambda))
}

/// P(X ≥ y) = `pnbinom(y - 1, size, prob, lower.tail = FALSE)`.
pub fn nbinom_at_least(y: f64, size: f64, prob: f64) -> f64 {
    discrete_upper(y, nbinom_pmfs(size, prob))
}

/// P(X ≥ y) = `ppois(y - 1, lambda, lower.tail = FALSE)`.
pub fn pois_at_least(y: f64, lambda: f64) -> f64 {
    discrete_upper(y, poisson_pmfs(lambda))
}

pub fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// Sample standard deviation (n - 1), as R's `sd`.
pub fn sd(x: &[f64]) -> f64 {
    let m = mean(x);
    (x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (x.len() as f64 - 1.0)).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(1e-300)
    }

    #[test]
    #[allow(clippy::excessive_precision)] // R's values as printed, 17 digits
    fn values_from_r() {
        // Each expected value is what R 4.2.2 printed with options(digits = 17).
        assert!(close(qnorm(0.975), 1.9599639845400536, 1e-15));
        assert!(close(qnorm(0.999), 3.0902323061678132, 1e-15));
        assert!(close(qnorm(1e-10), -6.3613409024040557, 1e-14));
        assert!(close(norm_upper(3.0), 0.0013498980316300946, 1e-14));
        assert!(close(norm_upper(8.0), 6.2209605742717849e-16, 1e-12));
        // 2 * pt(-2.1, 10)
        assert!(close(t_two_sided(2.1, 10.0), 0.062077244202218468, 1e-9));
        // qnbinom(0.95, 2.5, 0.4); pnbinom(4, 2.5, 0.4, lower.tail = FALSE)
        assert_eq!(qnbinom(0.95, 2.5, 0.4), 10.0);
        assert!(close(nbinom_at_least(5.0, 2.5, 0.4), 0.32585932384998451, 1e-12));
        // qpois(0.95, 1.3); ppois(3, 1.3, lower.tail = FALSE)
        assert_eq!(qpois(0.95, 1.3), 3.0);
        assert!(close(pois_at_least(4.0, 1.3), 0.043095452692076069, 1e-12));
    }
}
