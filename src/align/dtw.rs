//! Dynamic time warping with the symmetric step pattern of seed 000, eq. 3:
//! `D(i, j) = d(i, j) + min(D(i, j−1), D(i−1, j), D(i−1, j−1))`,
//! computed inside a band of allowed cells so that memory grows with the band, not with the
//! full matrix; and subsequence DTW in two step patterns: that one, and the tempo-bounded one of
//! seed 004's retrieval ([`subsequence_match`]).

use super::Path;

/// Allowed reference frames `[lo, hi)` for each performance frame. Row 0 must start at 0 and the
/// last row must end at the reference length; consecutive rows must overlap.
pub type Band = Vec<(usize, usize)>;

pub fn full_band(n: usize, m: usize) -> Band {
    vec![(0, m); n]
}

const DIAG: u8 = 0;
const UP: u8 = 1; // from (i-1, j)
const LEFT: u8 = 2; // from (i, j-1)

/// Optimal path from (0, 0) to (n−1, m−1) within `band`, and its total cost.
pub fn dtw_banded(
    band: &[(usize, usize)],
    m: usize,
    cost: impl Fn(usize, usize) -> f32,
) -> (Path, f64) {
    let n = band.len();
    assert!(
        n > 0 && m > 0 && band[0].0 == 0 && band[n - 1].1 == m,
        "band must cover both corners"
    );
    let offsets: Vec<usize> = band
        .iter()
        .scan(0, |acc, &(lo, hi)| {
            let o = *acc;
            *acc += hi - lo;
            Some(o)
        })
        .collect();
    let total_cells = offsets[n - 1] + band[n - 1].1 - band[n - 1].0;
    let mut steps = vec![DIAG; total_cells];
    let mut prev: Vec<f64> = Vec::new();
    let mut cur: Vec<f64> = Vec::new();
    let mut prev_lo = 0;
    for (i, &(lo, hi)) in band.iter().enumerate() {
        cur.clear();
        for j in lo..hi {
            let d = f64::from(cost(i, j));
            let at_prev = |k: usize| {
                if i > 0 && k >= prev_lo && k - prev_lo < prev.len() {
                    prev[k - prev_lo]
                } else {
                    f64::INFINITY
                }
            };
            let (mut best, mut step) = (f64::INFINITY, DIAG);
            if i == 0 && j == 0 {
                best = 0.0;
            }
            if j > 0 {
                let diag = at_prev(j - 1);
                if diag < best {
                    (best, step) = (diag, DIAG);
                }
            }
            let up = at_prev(j);
            if up < best {
                (best, step) = (up, UP);
            }
            if j > lo && cur[j - lo - 1] < best {
                (best, step) = (cur[j - lo - 1], LEFT);
            }
            steps[offsets[i] + j - lo] = step;
            cur.push(best + d);
        }
        std::mem::swap(&mut prev, &mut cur);
        prev_lo = lo;
    }
    let total = prev[m - 1 - prev_lo];
    let path = backtrack(
        (n - 1, m - 1),
        |i, j| i == 0 && j == 0,
        |i, j| steps[offsets[i] + j - band[i].0],
    );
    (path, total)
}

/// Follows the stored steps back from `end` until `at_start`, and returns the path start first.
fn backtrack(
    end: (usize, usize),
    at_start: impl Fn(usize, usize) -> bool,
    step: impl Fn(usize, usize) -> u8,
) -> Path {
    let (mut i, mut j) = end;
    let mut path = vec![(i, j)];
    while !at_start(i, j) {
        match step(i, j) {
            LEFT => j -= 1,
            UP => i -= 1,
            _ => {
                i -= 1;
                j -= 1;
            }
        }
        path.push((i, j));
    }
    path.reverse();
    path
}

/// Subsequence DTW: the best match of the whole query (rows) anywhere inside the database
/// (columns). Returns the path and its cost; the path starts and ends at any database frame.
pub fn subsequence_dtw(n: usize, m: usize, cost: impl Fn(usize, usize) -> f32) -> (Path, f64) {
    assert!(n > 0 && m > 0);
    let mut steps = vec![DIAG; n * m];
    let mut prev = vec![0f64; m];
    let mut cur = vec![0f64; m];
    for i in 0..n {
        for j in 0..m {
            let d = f64::from(cost(i, j));
            let (best, step) = if i == 0 {
                (0.0, UP) // free start anywhere in the database
            } else {
                let mut b = (prev[j], UP);
                if j > 0 && prev[j - 1] < b.0 {
                    b = (prev[j - 1], DIAG);
                }
                if j > 0 && cur[j - 1] < b.0 {
                    b = (cur[j - 1], LEFT);
                }
                b
            };
            steps[i * m + j] = step;
            cur[j] = best + d;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    let (end, total) = prev
        .iter()
        .copied()
        .enumerate()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .expect("m > 0");
    (
        backtrack((n - 1, end), |i, _| i == 0, |i, j| steps[i * m + j]),
        total,
    )
}

/// Where a query best matches inside a database: the accumulated cost over the query's rows,
/// and the first and last database columns of the path.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SubsequenceMatch {
    pub total: f32,
    pub start: usize,
    pub end: usize,
}

/// Subsequence DTW with step sizes (2,1), (1,2), (1,1) (query rows, database columns) and weights
/// 2, 1, 1 (Müller, *Fundamentals of Music Processing*, §7.2; seed 004, §4.2): the path's local
/// tempo stays between half and twice the query's, and a step that skips a query row pays for it.
/// It starts and ends at any column; only the start column of each path is kept, not the path,
/// so memory is three rows. `None` when the database is too short for the query.
pub fn subsequence_match(
    n: usize,
    m: usize,
    cost: impl Fn(usize, usize) -> f32,
) -> Option<SubsequenceMatch> {
    if n == 0 || m < n.div_ceil(2) {
        return None;
    }
    // Rows i-2, i-1 and i of the accumulated cost, with the column each path started at.
    let mut rows = [
        vec![f32::INFINITY; m],
        vec![f32::INFINITY; m],
        vec![0f32; m],
    ];
    let mut starts = [vec![0usize; m], vec![0usize; m], (0..m).collect()];
    for (j, d) in rows[2].iter_mut().enumerate() {
        *d = cost(0, j);
    }
    for i in 1..n {
        rows.rotate_left(1);
        starts.rotate_left(1);
        let [r2, r1, r0] = &mut rows;
        let [s2, s1, s0] = &mut starts;
        r0[0] = f32::INFINITY;
        if m == 1 {
            continue;
        }
        let c = cost(i, 1);
        (r0[1], s0[1]) = cheapest((r1[0] + c, s1[0]), None, (r2[0] + 2.0 * c, s2[0]));
        // Zipped rather than indexed, and chosen without branches: the comparisons depend on the
        // data, so branches would be mispredicted about as often as taken.
        let previous = r1.windows(2).zip(s1.windows(2));
        let before = r2[1..].iter().zip(&s2[1..]);
        let out = r0[2..].iter_mut().zip(&mut s0[2..]);
        for (j, (((r, s), (p, ps)), (&q, &qs))) in (2..).zip(out.zip(previous).zip(before)) {
            let c = cost(i, j);
            (*r, *s) = cheapest(
                (p[1] + c, ps[1]),
                Some((p[0] + c, ps[0])),
                (q + 2.0 * c, qs),
            );
        }
    }
    let (end, &total) = rows[2]
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.total_cmp(b.1))?;
    total.is_finite().then(|| SubsequenceMatch {
        total,
        start: starts[2][end],
        end,
    })
}

/// The cheapest of a diagonal step, a step over a column and a step over a row, with its start;
/// on a tie the earlier in that order.
#[inline(always)]
fn cheapest(
    diagonal: (f32, usize),
    over_column: Option<(f32, usize)>,
    over_row: (f32, usize),
) -> (f32, usize) {
    let mut best = diagonal;
    if let Some(c) = over_column {
        best = if c.0 < best.0 { c } else { best };
    }
    if over_row.0 < best.0 {
        over_row
    } else {
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reference of distinct symbols and a performance that repeats some and skips none: the
    /// known warp is recovered exactly.
    #[test]
    fn recovers_known_warp() {
        let reference: Vec<f32> = (0..40).map(|i| i as f32).collect();
        // perf frame k plays reference frame warp[k]: slow start, fast middle (skip one), slow end
        let warp: Vec<usize> = (0..40)
            .flat_map(|r| {
                if r < 10 {
                    vec![r, r]
                } else if r < 30 {
                    vec![r]
                } else {
                    vec![r, r, r]
                }
            })
            .collect();
        let perf: Vec<f32> = warp.iter().map(|&r| reference[r]).collect();
        let (path, total) = dtw_banded(
            &full_band(perf.len(), reference.len()),
            reference.len(),
            |i, j| (perf[i] - reference[j]).abs(),
        );
        assert_eq!(total, 0.0);
        for (i, j) in path {
            assert_eq!(j, warp[i]);
        }
    }

    #[test]
    fn band_gives_same_path_when_it_contains_the_optimum() {
        let a: Vec<f32> = (0..60).map(|i| ((i as f32) * 0.37).sin()).collect();
        let b: Vec<f32> = (0..50).map(|i| ((i as f32) * 0.37 * 1.2).sin()).collect();
        let d = |i: usize, j: usize| (a[i] - b[j]).abs();
        let (full, c1) = dtw_banded(&full_band(60, 50), 50, d);
        let band: Band = (0..60)
            .map(|i| {
                let js: Vec<usize> = full.iter().filter(|p| p.0 == i).map(|p| p.1).collect();
                (js[0].saturating_sub(3), (js[js.len() - 1] + 4).min(50))
            })
            .collect();
        let (banded, c2) = dtw_banded(&band, 50, d);
        assert_eq!(full, banded);
        assert_eq!(c1, c2);
    }

    #[test]
    fn tempo_bounded_subsequence_finds_an_excerpt_played_at_half_and_twice_the_tempo() {
        let db: Vec<f32> = (0..200).map(|i| ((i * 37) % 101) as f32).collect();
        // The query holds database frames 50..=70 at half their tempo (each for two rows), then
        // frames 30..=108 at twice it (every second frame).
        for (query, from, to) in [
            ((0..41).map(|k| db[50 + k / 2]).collect::<Vec<_>>(), 50, 70),
            ((0..40).map(|k| db[30 + 2 * k]).collect::<Vec<_>>(), 30, 108),
        ] {
            let m =
                subsequence_match(query.len(), db.len(), |i, j| (query[i] - db[j]).abs()).unwrap();
            assert_eq!((m.total, m.start, m.end), (0.0, from, to));
        }
        // Three times the tempo is out of reach: no exact match.
        let fast: Vec<f32> = (0..30).map(|k| db[20 + 3 * k]).collect();
        let m = subsequence_match(fast.len(), db.len(), |i, j| (fast[i] - db[j]).abs()).unwrap();
        assert!(m.total > 0.0);
        assert_eq!(subsequence_match(10, 4, |_, _| 0.0), None);
    }

    #[test]
    fn subsequence_finds_the_excerpt() {
        let db: Vec<f32> = (0..100).map(|i| ((i * 7919) % 101) as f32).collect();
        let query: Vec<f32> = db[40..55].to_vec();
        let (path, cost) = subsequence_dtw(query.len(), db.len(), |i, j| (query[i] - db[j]).abs());
        assert_eq!(cost, 0.0);
        assert_eq!(path.first().unwrap().1, 40);
        assert_eq!(path.last().unwrap().1, 54);
    }

    /// The recurrence written plainly, one branch per step: what [`subsequence_match`] computes.
    fn plain_subsequence(
        n: usize,
        m: usize,
        cost: impl Fn(usize, usize) -> f32,
    ) -> Option<SubsequenceMatch> {
        let mut d = vec![vec![(f32::INFINITY, 0usize); m]; n];
        for (j, first) in d[0].iter_mut().enumerate() {
            *first = (cost(0, j), j);
        }
        for i in 1..n {
            for j in 1..m {
                let c = cost(i, j);
                let mut best = (d[i - 1][j - 1].0 + c, d[i - 1][j - 1].1);
                if j >= 2 && d[i - 1][j - 2].0 + c < best.0 {
                    best = (d[i - 1][j - 2].0 + c, d[i - 1][j - 2].1);
                }
                if i >= 2 && d[i - 2][j - 1].0 + 2.0 * c < best.0 {
                    best = (d[i - 2][j - 1].0 + 2.0 * c, d[i - 2][j - 1].1);
                }
                d[i][j] = best;
            }
        }
        let (end, &(total, start)) = d[n - 1]
            .iter()
            .enumerate()
            .min_by(|a, b| a.1 .0.total_cmp(&b.1 .0))?;
        total
            .is_finite()
            .then_some(SubsequenceMatch { total, start, end })
    }

    #[test]
    fn subsequence_match_computes_the_plain_recurrence() {
        let mut rng = crate::rng::Rng::new(11);
        for (n, m) in [(1, 1), (2, 1), (3, 2), (7, 30), (40, 25), (25, 90)] {
            let q: Vec<f32> = (0..n).map(|_| rng.uniform() as f32).collect();
            let db: Vec<f32> = (0..m).map(|_| rng.uniform() as f32).collect();
            let cost = |i: usize, j: usize| (q[i] - db[j]).abs();
            assert_eq!(
                subsequence_match(n, m, cost),
                if m < n.div_ceil(2) {
                    None
                } else {
                    plain_subsequence(n, m, cost)
                },
                "{n}x{m}"
            );
        }
    }
}
