//! Non-negative least squares (Lawson & Hanson 1974, chapter 23) on the normal equations, with some
//! variables left free of the sign constraint (baseline terms, band-shift terms).
//!
//! Mixture models here have at most a few dozen columns but thousands of rows, so the Gram matrix
//! `AᵀA` and `Aᵀb` are formed once and every active-set step solves a small dense system.

/// Solve `min ‖Ax − b‖²` subject to `x_i ≥ 0` for every `i` with `free[i] == false`, given `gram = AᵀA`
/// (row-major, p×p) and `atb = Aᵀb`. Returns `x`.
pub fn nnls_gram(gram: &[f64], atb: &[f64], free: &[bool]) -> Vec<f64> {
    let p = atb.len();
    assert_eq!(gram.len(), p * p, "gram is p×p");
    assert_eq!(free.len(), p, "one flag per variable");
    let mut x = vec![0.0; p];
    let mut passive: Vec<bool> = free.to_vec();
    if passive.iter().any(|&f| f) {
        x = solve_subset(gram, atb, &passive);
    }
    let tolerance = 1e-12 * atb.iter().map(|v| v.abs()).fold(1.0, f64::max);
    for _ in 0..(3 * p + 10) {
        // Gradient of −½‖Ax−b‖²: the most promising constrained variable enters.
        let w: Vec<f64> = (0..p).map(|i| atb[i] - (0..p).map(|j| gram[i * p + j] * x[j]).sum::<f64>()).collect();
        let entering = (0..p).filter(|&i| !passive[i]).max_by(|&a, &b| w[a].total_cmp(&w[b]));
        match entering {
            Some(j) if w[j] > tolerance => passive[j] = true,
            _ => break,
        }
        for _ in 0..(3 * p + 10) {
            let z = solve_subset(gram, atb, &passive);
            let infeasible: Vec<usize> = (0..p).filter(|&i| passive[i] && !free[i] && z[i] <= 0.0).collect();
            if infeasible.is_empty() {
                x = z;
                break;
            }
            // Step from x towards z as far as feasibility allows, and release what reached zero.
            let alpha = infeasible.iter().map(|&i| x[i] / (x[i] - z[i])).fold(f64::INFINITY, f64::min);
            for i in 0..p {
                if passive[i] {
                    x[i] += alpha * (z[i] - x[i]);
                }
            }
            for i in 0..p {
                if passive[i] && !free[i] && x[i] <= 1e-14 {
                    passive[i] = false;
                    x[i] = 0.0;
                }
            }
        }
    }
    x
}

/// Unconstrained least squares over the variables in `subset` (others zero), with a tiny ridge so that
/// nearly collinear columns (two spectra of one compound) stay solvable.
fn solve_subset(gram: &[f64], atb: &[f64], subset: &[bool]) -> Vec<f64> {
    let p = atb.len();
    let index: Vec<usize> = (0..p).filter(|&i| subset[i]).collect();
    let k = index.len();
    let mut m = vec![0.0; k * (k + 1)];
    for (r, &i) in index.iter().enumerate() {
        for (c, &j) in index.iter().enumerate() {
            m[r * (k + 1) + c] = gram[i * p + j];
        }
        m[r * (k + 1) + r] += 1e-10 * gram[i * p + i].max(1e-300);
        m[r * (k + 1) + k] = atb[i];
    }
    let solution = gauss(&mut m, k);
    let mut x = vec![0.0; p];
    for (r, &i) in index.iter().enumerate() {
        x[i] = solution[r];
    }
    x
}

/// Gaussian elimination with partial pivoting on an augmented k×(k+1) matrix.
fn gauss(m: &mut [f64], k: usize) -> Vec<f64> {
    let w = k + 1;
    for col in 0..k {
        let pivot = (col..k).max_by(|&a, &b| m[a * w + col].abs().total_cmp(&m[b * w + col].abs())).unwrap_or(col);
        if pivot != col {
            for c in 0..w {
                m.swap(col * w + c, pivot * w + c);
            }
        }
        let d = m[col * w + col];
        if d.abs() < 1e-300 {
            continue;
        }
        for row in col + 1..k {
            let f = m[row * w + col] / d;
            if f != 0.0 {
                for c in col..w {
                    m[row * w + c] -= f * m[col * w + c];
                }
            }
        }
    }
    let mut x = vec![0.0; k];
    for row in (0..k).rev() {
        let d = m[row * w + row];
        let s: f64 = (row + 1..k).map(|c| m[row * w + c] * x[c]).sum();
        x[row] = if d.abs() < 1e-300 { 0.0 } else { (m[row * w + k] - s) / d };
    }
    x
}

/// `AᵀA` and `Aᵀb` for columns given as slices of equal length.
pub fn normal_equations(columns: &[&[f64]], b: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let p = columns.len();
    let mut gram = vec![0.0; p * p];
    for i in 0..p {
        for j in i..p {
            let v: f64 = columns[i].iter().zip(columns[j]).map(|(a, c)| a * c).sum();
            gram[i * p + j] = v;
            gram[j * p + i] = v;
        }
    }
    let atb = columns.iter().map(|c| c.iter().zip(b).map(|(a, v)| a * v).sum()).collect();
    (gram, atb)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_non_negative_coefficients_exactly() {
        let a1: Vec<f64> = (0..50).map(|i| (i as f64 * 0.3).sin().abs()).collect();
        let a2: Vec<f64> = (0..50).map(|i| (i as f64 * 0.11).cos().powi(2)).collect();
        let a3: Vec<f64> = (0..50).map(|i| i as f64 / 50.0).collect();
        let b: Vec<f64> = (0..50).map(|i| 2.0 * a1[i] + 0.5 * a2[i]).collect();
        let (g, h) = normal_equations(&[&a1, &a2, &a3], &b);
        let x = nnls_gram(&g, &h, &[false; 3]);
        assert!((x[0] - 2.0).abs() < 1e-6 && (x[1] - 0.5).abs() < 1e-6 && x[2].abs() < 1e-9, "{x:?}");
    }

    #[test]
    fn a_negative_unconstrained_optimum_is_clamped_to_zero_but_free_terms_go_negative() {
        let a1: Vec<f64> = (0..40).map(|i| if i < 20 { 1.0 } else { 0.0 }).collect();
        let a2: Vec<f64> = vec![1.0; 40];
        // b = a1 − 0.5·a2: with a2 constrained its coefficient is 0; free, it is −0.5.
        let b: Vec<f64> = (0..40).map(|i| a1[i] - 0.5).collect();
        let (g, h) = normal_equations(&[&a1, &a2], &b);
        let constrained = nnls_gram(&g, &h, &[false, false]);
        assert!(constrained.iter().all(|&v| v >= 0.0), "{constrained:?}");
        let free = nnls_gram(&g, &h, &[false, true]);
        assert!((free[0] - 1.0).abs() < 1e-6 && (free[1] + 0.5).abs() < 1e-6, "{free:?}");
    }
}
