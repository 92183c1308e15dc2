//! Quasi-Poisson regression with a log link, computed the way R's `glm.fit` does it, step for step: the same
//! starting values (y + 0.1), the same iteratively reweighted least squares, the same stopping rule
//! (|dev - dev_old| / (|dev| + 0.1) < 1e-8, at most 25 iterations), and the same bookkeeping afterwards (working
//! weights and the covariance from the last iteration's weighted design, which R keeps; working residuals from the
//! final fit). Matching that bookkeeping is what makes dispersion, hat values and standard errors agree with R's to
//! many digits, not just the coefficients.

// Small dense matrices (a dozen columns at most) read best with explicit indices.
#![allow(clippy::needless_range_loop)]

/// A fitted model.
#[derive(Debug, Clone)]
pub struct Fit {
    pub coef: Vec<f64>,
    /// Fitted means at the observations.
    pub mu: Vec<f64>,
    /// Whether the iterations met R's stopping rule (R still returns the last iterate when they did not).
    pub converged: bool,
    /// (X'WX)^-1 with W the working weights R keeps (`summary.glm`'s `cov.unscaled`).
    pub cov_unscaled: Vec<Vec<f64>>,
    /// Working weights (prior weight × μ of the last iteration's start).
    pub working_weights: Vec<f64>,
    /// Working residuals (y - μ)/μ at the final μ.
    pub working_residuals: Vec<f64>,
    pub df_residual: f64,
}

const EPSILON: f64 = 1e-8;
const MAX_ITERATIONS: usize = 25;

/// R's `poisson(link = "log")` keeps means and their derivative at least `.Machine$double.eps`
/// (`linkinv <- function(eta) pmax(exp(eta), .Machine$double.eps)`), so a series of zeros drives the fit towards
/// a tiny mean instead of to zero, where the working response would be 0/0.
fn linkinv(eta: f64) -> f64 {
    eta.exp().max(f64::EPSILON)
}

fn poisson_deviance(y: &[f64], mu: &[f64], prior: &[f64]) -> f64 {
    y.iter()
        .zip(mu)
        .zip(prior)
        .map(|((y, mu), w)| {
            let ylogy = if *y == 0.0 { 0.0 } else { y * (y / mu).ln() };
            2.0 * w * (ylogy - (y - mu))
        })
        .sum()
}

/// Solves the symmetric positive definite system A x = b and returns (x, A^-1), by Cholesky decomposition.
fn solve_spd(a: &[Vec<f64>], b: &[f64]) -> Option<(Vec<f64>, Vec<Vec<f64>>)> {
    let p = a.len();
    let mut l = vec![vec![0.0; p]; p];
    for i in 0..p {
        for j in 0..=i {
            let sum: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
            if i == j {
                let d = a[i][i] - sum;
                if d <= 0.0 || !d.is_finite() {
                    return None;
                }
                l[i][j] = d.sqrt();
            } else {
                l[i][j] = (a[i][j] - sum) / l[j][j];
            }
        }
    }
    let solve = |rhs: &[f64]| -> Vec<f64> {
        let mut z = vec![0.0; p];
        for i in 0..p {
            z[i] = (rhs[i] - (0..i).map(|k| l[i][k] * z[k]).sum::<f64>()) / l[i][i];
        }
        let mut x = vec![0.0; p];
        for i in (0..p).rev() {
            x[i] = (z[i] - (i + 1..p).map(|k| l[k][i] * x[k]).sum::<f64>()) / l[i][i];
        }
        x
    };
    let x = solve(b);
    let mut inv = vec![vec![0.0; p]; p];
    for j in 0..p {
        let mut e = vec![0.0; p];
        e[j] = 1.0;
        let col = solve(&e);
        for i in 0..p {
            inv[i][j] = col[i];
        }
    }
    Some((x, inv))
}

/// Fits y ~ X (rows of `x`) with prior weights. Returns `None` when the weighted design is singular.
pub fn fit(x: &[Vec<f64>], y: &[f64], prior: &[f64]) -> Option<Fit> {
    let n = y.len();
    let p = x[0].len();
    let mut mu: Vec<f64> = y.iter().map(|y| y + 0.1).collect();
    let mut eta: Vec<f64> = mu.iter().map(|m| m.ln()).collect();
    let mut dev_old = poisson_deviance(y, &mu, prior);
    let mut coef = vec![0.0; p];
    let mut converged = false;
    let mut cov = vec![vec![0.0; p]; p];
    let mut w = vec![0.0; n];
    // Each row of a Farrington design has at most three non-zero entries (intercept, time, one seasonal dummy);
    // accumulating X'WX from those alone makes the flexible algorithm many times faster.
    let sparse: Vec<Vec<(usize, f64)>> = x
        .iter()
        .map(|row| row.iter().enumerate().filter(|(_, v)| **v != 0.0).map(|(j, v)| (j, *v)).collect())
        .collect();
    for _ in 0..MAX_ITERATIONS {
        // Working response and weights from the current μ (log link: dμ/dη = μ; variance μ).
        let z: Vec<f64> = (0..n).map(|i| eta[i] + (y[i] - mu[i]) / mu[i]).collect();
        w = (0..n).map(|i| prior[i] * mu[i]).collect();
        let mut xtwx = vec![vec![0.0; p]; p];
        let mut xtwz = vec![0.0; p];
        for i in 0..n {
            for &(a, xa) in &sparse[i] {
                xtwz[a] += xa * w[i] * z[i];
                for &(b, xb) in &sparse[i] {
                    if b <= a {
                        xtwx[a][b] += xa * w[i] * xb;
                    }
                }
            }
        }
        for a in 0..p {
            for b in a + 1..p {
                xtwx[a][b] = xtwx[b][a];
            }
        }
        let (beta, inv) = solve_spd(&xtwx, &xtwz)?;
        coef = beta;
        cov = inv;
        eta = sparse.iter().map(|row| row.iter().map(|(a, v)| v * coef[*a]).sum()).collect();
        mu = eta.iter().map(|e| linkinv(*e)).collect();
        let dev = poisson_deviance(y, &mu, prior);
        if (dev - dev_old).abs() / (dev.abs() + 0.1) < EPSILON {
            converged = true;
            break;
        }
        dev_old = dev;
    }
    let working_residuals = (0..n).map(|i| (y[i] - mu[i]) / mu[i]).collect();
    let n_ok = prior.iter().filter(|w| **w != 0.0).count();
    Some(Fit {
        coef,
        mu,
        converged,
        cov_unscaled: cov,
        working_weights: w,
        working_residuals,
        df_residual: (n_ok - p) as f64,
    })
}

impl Fit {
    /// The Pearson estimate of the dispersion, as `summary.glm` gives for quasi families.
    pub fn dispersion(&self) -> f64 {
        let sum: f64 = self
            .working_weights
            .iter()
            .zip(&self.working_residuals)
            .filter(|(w, _)| **w > 0.0)
            .map(|(w, r)| w * r * r)
            .sum();
        sum / self.df_residual
    }

    /// Diagonal of the hat matrix, w_i x_i'(X'WX)^-1 x_i.
    pub fn hat_values(&self, x: &[Vec<f64>]) -> Vec<f64> {
        x.iter().zip(&self.working_weights).map(|(row, w)| w * quad(row, &self.cov_unscaled)).collect()
    }

    /// Σ weights·r²/df with other weights than the working ones: what `summary.glm` computes once a caller has
    /// replaced `model$weights` (see the flexible Farrington algorithm).
    pub fn dispersion_with(&self, weights: &[f64]) -> f64 {
        weights.iter().zip(&self.working_residuals).filter(|(w, _)| **w > 0.0).map(|(w, r)| w * r * r).sum::<f64>()
            / self.df_residual
    }

    /// Two-sided p-value of coefficient `j`: a t test with the given dispersion, as `summary.glm`.
    pub fn p_value(&self, j: usize, dispersion: f64) -> f64 {
        let se = (self.cov_unscaled[j][j] * dispersion).sqrt();
        crate::stats::t_two_sided(self.coef[j] / se, self.df_residual)
    }

    /// Prediction at `x0` on the link scale, with its standard error for the given dispersion.
    pub fn predict_link(&self, x0: &[f64], dispersion: f64) -> (f64, f64) {
        let eta: f64 = x0.iter().zip(&self.coef).map(|(a, b)| a * b).sum();
        (eta, (quad(x0, &self.cov_unscaled) * dispersion).sqrt())
    }

    /// Prediction on the response scale, with its standard error (delta method, as `predict.glm`).
    pub fn predict_response(&self, x0: &[f64], dispersion: f64) -> (f64, f64) {
        let (eta, se) = self.predict_link(x0, dispersion);
        // R's `predict.glm`: the inverse link and its derivative, both floored at machine epsilon for the log link.
        let mu = linkinv(eta);
        (mu, se * mu)
    }
}

fn quad(v: &[f64], m: &[Vec<f64>]) -> f64 {
    let p = v.len();
    (0..p).map(|a| (0..p).map(|b| v[a] * m[a][b] * v[b]).sum::<f64>()).sum()
}
