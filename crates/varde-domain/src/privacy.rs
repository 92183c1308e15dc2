//! Privacy rule 3: small-cell suppression in every public figure.
//!
//! Counts of 1-4 are primary-suppressed and shown as "<5". Secondary suppression then hides further cells until no
//! suppressed value can be worked out from the totals: no hidden value exactly, by solving the row and column
//! equations together, and no small count from one equation and what a reader knows about the hidden cells (a
//! "<5" cell is 1-4; a secondary cell, shown as "x", is 0 or at least 5). [`audit`] checks both, and suppression
//! repeats until the audit passes.

// The grid code indexes rows and columns of small tables together; indices read best.
#![allow(clippy::needless_range_loop)]

use std::fmt;

/// A cell of a published table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    Shown(u64),
    /// A count of 1-4, shown as "<5".
    Small,
    /// Hidden so that a small cell cannot be worked out from the totals; shown as "x".
    Hidden,
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cell::Shown(n) => write!(f, "{n}"),
            Cell::Small => f.write_str("<5"),
            Cell::Hidden => f.write_str("x"),
        }
    }
}

/// Below this, a count is suppressed.
pub const MIN_SHOWN: u64 = 5;

/// What a reader knows of a hidden secondary cell's upper end: nothing. Large, but far from overflowing a sum.
const UNBOUNDED: i128 = 1 << 60;

/// A table with its row totals, column totals and grand total, all as published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub cells: Vec<Vec<Cell>>,
    pub row_totals: Vec<Cell>,
    pub column_totals: Vec<Cell>,
    pub total: Cell,
}

/// The table as a grid with its margins: cell (r, c) for r < rows, c < cols; row totals in column `cols`,
/// column totals in row `rows`, the grand total at (rows, cols).
struct Grid {
    values: Vec<Vec<u64>>,
    state: Vec<Vec<Cell>>,
}

impl Grid {
    fn rows(&self) -> usize {
        self.values.len() - 1
    }
    fn cols(&self) -> usize {
        self.values[0].len() - 1
    }

    /// Every equation "the terms add up to the last term", as positions.
    fn equations(&self) -> Vec<Vec<(usize, usize)>> {
        let (rows, cols) = (self.rows(), self.cols());
        let mut eqs = Vec::new();
        for r in 0..=rows {
            eqs.push((0..=cols).map(|c| (r, c)).collect());
        }
        for c in 0..=cols {
            eqs.push((0..=rows).map(|r| (r, c)).collect());
        }
        eqs
    }

    /// Hides a value and, where the table has a single column (or row), its copy: a one-column table's row total
    /// is its cell, so hiding one and showing the other would hide nothing.
    fn hide(&mut self, p: (usize, usize)) {
        self.state[p.0][p.1] = Cell::Hidden;
        if self.cols() == 1 {
            self.state[p.0][1 - p.1.min(1)] = Cell::Hidden;
        }
        if self.rows() == 1 {
            self.state[1 - p.0.min(1)][p.1] = Cell::Hidden;
        }
    }

    fn hidden(&self, p: (usize, usize)) -> bool {
        !matches!(self.state[p.0][p.1], Cell::Shown(_))
    }
}

/// Suppresses a table of counts (rows × columns, at least one of each) for publication with its totals.
pub fn suppress(table: &[Vec<u64>]) -> Published {
    let rows = table.len();
    let cols = table[0].len();
    let mut values = vec![vec![0u64; cols + 1]; rows + 1];
    for r in 0..rows {
        for c in 0..cols {
            values[r][c] = table[r][c];
            values[r][cols] += table[r][c];
            values[rows][c] += table[r][c];
            values[rows][cols] += table[r][c];
        }
    }
    let state = values
        .iter()
        .map(|row| row.iter().map(|v| if (1..MIN_SHOWN).contains(v) { Cell::Small } else { Cell::Shown(*v) }).collect())
        .collect();
    let mut grid = Grid { values, state };
    // Each round hides one more cell next to an exposed one; the table is finite, so this ends.
    // Each round takes the cheapest remedy for the first exposed cell. Showing everything as "x" is always safe,
    // so this ends.
    while let Some((exposed, pinned_by)) = first_exposed(&grid) {
        // A small total bounds its line: four 1s under a total of "<5" are all 1. Showing such a total as "x"
        // (hidden, range unknown) instead of "<5" removes the bound; hiding more cells never would.
        if let Some(total) = pinned_by.filter(|t| grid.state[t.0][t.1] == Cell::Small) {
            grid.hide(total);
            continue;
        }
        let next = complement_for(&grid, exposed).or_else(|| smallest_visible(&grid)).or_else(|| any_small(&grid));
        let Some(next) = next else { break };
        grid.hide(next);
    }
    let (r, c) = (grid.rows(), grid.cols());
    Published {
        cells: (0..r).map(|i| grid.state[i][..c].to_vec()).collect(),
        row_totals: (0..r).map(|i| grid.state[i][c]).collect(),
        column_totals: grid.state[r][..c].to_vec(),
        total: grid.state[r][c],
    }
}

/// The best cell to hide so that `exposed` is protected: an unhidden cell in the same row or column, preferring
/// inner cells over totals and small values over large (less information lost), and never a zero if avoidable.
fn complement_for(grid: &Grid, exposed: (usize, usize)) -> Option<(usize, usize)> {
    let (rows, cols) = (grid.rows(), grid.cols());
    let candidates = (0..=cols).map(|c| (exposed.0, c)).chain((0..=rows).map(|r| (r, exposed.1)));
    candidates.filter(|p| *p != exposed && !grid.hidden(*p)).min_by_key(|p| {
        let is_total = p.0 == rows || p.1 == cols;
        let v = grid.values[p.0][p.1];
        (is_total, v == 0, v)
    })
}

fn any_small(grid: &Grid) -> Option<(usize, usize)> {
    (0..=grid.rows()).flat_map(|r| (0..=grid.cols()).map(move |c| (r, c))).find(|p| grid.state[p.0][p.1] == Cell::Small)
}

fn smallest_visible(grid: &Grid) -> Option<(usize, usize)> {
    (0..=grid.rows())
        .flat_map(|r| (0..=grid.cols()).map(move |c| (r, c)))
        .filter(|p| !grid.hidden(*p))
        .min_by_key(|p| (p.0 == grid.rows() || p.1 == grid.cols(), grid.values[p.0][p.1]))
}

/// A position in the grid: (row, column).
type Pos = (usize, usize);

/// The first hidden cell a reader could work out, if any, with the total of the one equation that pins it (when a
/// single equation does).
fn first_exposed(grid: &Grid) -> Option<(Pos, Option<Pos>)> {
    let eqs = grid.equations();
    // One equation at a time, with what a reader knows of each hidden cell.
    for eq in &eqs {
        let hidden: Vec<(usize, usize)> = eq.iter().copied().filter(|p| grid.hidden(*p)).collect();
        if hidden.is_empty() {
            continue;
        }
        if hidden.len() == 1 {
            return Some((hidden[0], None));
        }
        // The equation says: (terms before the last) = last term. Move everything known to one side.
        let total_pos = *eq.last().expect("non-empty");
        let mut known = 0i128;
        for p in eq {
            if !grid.hidden(*p) {
                let v = i128::from(grid.values[p.0][p.1]);
                known += if *p == total_pos { -v } else { v };
            }
        }
        // Σ sign·hidden = -known, with sign +1 for inner terms and -1 for the total.
        let range = |p: &(usize, usize)| -> (i128, i128) {
            match grid.state[p.0][p.1] {
                Cell::Small => (1, 4),
                _ => (0, UNBOUNDED),
            }
        };
        for p in &hidden {
            let sign = if *p == total_pos { -1 } else { 1 };
            let (mut lo, mut hi) = (-known, -known);
            for q in hidden.iter().filter(|q| *q != p) {
                let s = if *q == total_pos { -1 } else { 1 };
                let (a, b) = range(q);
                // this term = rhs - Σ others: subtract the others' range.
                if s == 1 {
                    lo -= b;
                    hi -= a;
                } else {
                    lo += a;
                    hi += b;
                }
            }
            let (lo, hi) = if sign == 1 { (lo, hi) } else { (-hi, -lo) };
            let (a, b) = range(p);
            let (lo, hi) = (lo.max(a), hi.min(b));
            // The counts 1-4 are what the rule protects: none may be pinned to one value. (A hidden secondary cell
            // can be pinned to 0 when its row total is under 5; that reveals nobody and cannot be avoided without
            // showing secondary cells as "<5", which would be untrue.)
            if grid.state[p.0][p.1] == Cell::Small && hi - lo < 1 {
                return Some((*p, Some(total_pos)));
            }
        }
    }
    // All equations together: a hidden value is determined when its unit vector lies in their row space.
    let hidden: Vec<(usize, usize)> =
        (0..=grid.rows()).flat_map(|r| (0..=grid.cols()).map(move |c| (r, c))).filter(|p| grid.hidden(*p)).collect();
    if hidden.is_empty() {
        return None;
    }
    let index = |p: &(usize, usize)| hidden.iter().position(|q| q == p);
    let matrix: Vec<Vec<f64>> = eqs
        .iter()
        .map(|eq| {
            let total_pos = *eq.last().expect("non-empty");
            let mut row = vec![0.0; hidden.len()];
            for p in eq {
                if let Some(i) = index(p) {
                    row[i] = if *p == total_pos { -1.0 } else { 1.0 };
                }
            }
            row
        })
        .filter(|row| row.iter().any(|v| *v != 0.0))
        .collect();
    let base = rank(matrix.clone());
    for (i, p) in hidden.iter().enumerate() {
        let mut with = matrix.clone();
        let mut unit = vec![0.0; hidden.len()];
        unit[i] = 1.0;
        with.push(unit);
        if rank(with) == base {
            return Some((*p, None));
        }
    }
    None
}

fn rank(mut m: Vec<Vec<f64>>) -> usize {
    let cols = m.first().map_or(0, Vec::len);
    let mut rank = 0;
    for c in 0..cols {
        let Some(pivot) = (rank..m.len()).find(|r| m[*r][c].abs() > 1e-9) else { continue };
        m.swap(rank, pivot);
        for r in 0..m.len() {
            if r != rank && m[r][c].abs() > 1e-9 {
                let f = m[r][c] / m[rank][c];
                for k in c..cols {
                    m[r][k] -= f * m[rank][k];
                }
            }
        }
        rank += 1;
    }
    rank
}

/// Everything hidden: what to publish if a table ever failed its audit (never seen; kept as the safe answer).
pub fn all_hidden(table: &[Vec<u64>]) -> Published {
    let (rows, cols) = (table.len(), table[0].len());
    Published {
        cells: vec![vec![Cell::Hidden; cols]; rows],
        row_totals: vec![Cell::Hidden; rows],
        column_totals: vec![Cell::Hidden; cols],
        total: Cell::Hidden,
    }
}

/// Checks a published table against the counts it came from: every 1-4 is hidden, every shown value is right, and
/// no hidden value can be worked out (see the module documentation).
pub fn audit(table: &[Vec<u64>], published: &Published) -> Result<(), String> {
    let rows = table.len();
    let cols = table[0].len();
    let mut values = vec![vec![0u64; cols + 1]; rows + 1];
    let mut state = vec![vec![Cell::Hidden; cols + 1]; rows + 1];
    for r in 0..rows {
        for c in 0..cols {
            values[r][c] = table[r][c];
            values[r][cols] += table[r][c];
            values[rows][c] += table[r][c];
            values[rows][cols] += table[r][c];
            state[r][c] = published.cells[r][c];
        }
        state[r][cols] = published.row_totals[r];
    }
    for c in 0..cols {
        state[rows][c] = published.column_totals[c];
    }
    state[rows][cols] = published.total;
    for r in 0..=rows {
        for c in 0..=cols {
            match state[r][c] {
                Cell::Shown(v) if v != values[r][c] => {
                    return Err(format!("({r}, {c}) shows {v}, not {}", values[r][c]));
                }
                Cell::Shown(v) if (1..MIN_SHOWN).contains(&v) => return Err(format!("({r}, {c}) shows a small count")),
                Cell::Small if !(1..MIN_SHOWN).contains(&values[r][c]) => {
                    return Err(format!("({r}, {c}) is not small"));
                }
                _ => {}
            }
        }
    }
    match first_exposed(&Grid { values, state }) {
        Some((p, _)) => Err(format!("the hidden value at {p:?} can be worked out from the totals")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_lone_small_cell_gets_a_partner_in_its_row_and_column() {
        let t = vec![vec![3, 20, 30], vec![40, 50, 60]];
        let p = suppress(&t);
        assert_eq!(p.cells[0][0], Cell::Small);
        let hidden = |cells: &Vec<Cell>| cells.iter().filter(|c| !matches!(c, Cell::Shown(_))).count();
        assert!(hidden(&p.cells[0]) >= 2, "{p:?}");
        assert!(p.cells.iter().filter(|r| !matches!(r[0], Cell::Shown(_))).count() >= 2, "{p:?}");
        audit(&t, &p).unwrap();
        assert_eq!(p.cells[0][0].to_string(), "<5");
    }

    #[test]
    fn two_small_cells_that_sum_to_the_minimum_are_not_enough() {
        // Row [1, 1, 10] (total 12): hiding the two 1s leaves 2 = a + b with a, b ≥ 1, so both are 1.
        let t = vec![vec![1, 1, 10], vec![10, 10, 10], vec![10, 10, 10]];
        let p = suppress(&t);
        audit(&t, &p).unwrap();
        assert!(p.cells[0][2] == Cell::Hidden || p.row_totals[0] == Cell::Hidden, "{p:?}");
    }

    #[test]
    fn a_small_total_over_four_ones_is_shown_as_x() {
        // Four 1s in a column whose total, 4, would show as "<5": each cell ≥ 1 and the total ≤ 4 pins them all.
        let t = vec![vec![1, 30], vec![1, 30], vec![1, 30], vec![1, 30], vec![0, 30]];
        let p = suppress(&t);
        audit(&t, &p).unwrap();
        assert_eq!(p.column_totals[0], Cell::Hidden);
        assert_eq!(p.column_totals[0].to_string(), "x");
    }

    #[test]
    fn a_single_column_hides_only_what_it_must() {
        // A list of counts (one column): the row totals are the cells themselves.
        let t: Vec<Vec<u64>> = [70, 80, 65, 90, 3, 75].iter().map(|n| vec![*n]).collect();
        let p = suppress(&t);
        audit(&t, &p).unwrap();
        let hidden = p.cells.iter().filter(|c| !matches!(c[0], Cell::Shown(_))).count();
        assert_eq!(hidden, 2, "the small count and one partner: {p:?}");
        assert_eq!(p.cells[4][0], Cell::Small);
        let row: Vec<Vec<u64>> = vec![vec![70, 80, 3, 90]];
        let p = suppress(&row);
        audit(&row, &p).unwrap();
        assert_eq!(p.cells[0].iter().filter(|c| !matches!(c, Cell::Shown(_))).count(), 2, "{p:?}");
    }

    #[test]
    fn a_table_without_small_counts_is_shown_whole() {
        let t = vec![vec![0, 20], vec![40, 50]];
        let p = suppress(&t);
        assert!(p.cells.iter().flatten().all(|c| matches!(c, Cell::Shown(_))));
        assert_eq!(p.total, Cell::Shown(110));
    }

    #[test]
    fn the_audit_catches_a_table_suppressed_only_primarily() {
        let t = vec![vec![3, 20], vec![40, 50]];
        let naive = Published {
            cells: vec![vec![Cell::Small, Cell::Shown(20)], vec![Cell::Shown(40), Cell::Shown(50)]],
            row_totals: vec![Cell::Shown(23), Cell::Shown(90)],
            column_totals: vec![Cell::Shown(43), Cell::Shown(70)],
            total: Cell::Shown(113),
        };
        assert!(audit(&t, &naive).unwrap_err().contains("worked out"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]
        #[test]
        fn no_suppressed_cell_of_any_table_can_be_worked_out(
            // Many 1s and 0s, as in thin weekly tables by fylke and class, where the hard cases live.
            table in prop::collection::vec(prop::collection::vec(prop_oneof![3 => 0u64..3, 2 => 0u64..5, 2 => 5u64..40], 1..7), 1..9)
        ) {
            let cols = table[0].len();
            let table: Vec<Vec<u64>> = table.into_iter().map(|mut r| { r.resize(cols, 7); r }).collect();
            let p = suppress(&table);
            prop_assert!(audit(&table, &p).is_ok(), "{:?}\n{:?}", table, audit(&table, &p));
        }
    }
}
