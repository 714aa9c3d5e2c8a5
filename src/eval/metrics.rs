//! Accuracy against ground truth, with the conventions of the benchmark README: per truth row
//! the error `e = t_est − perf_time`; shares within thresholds; mean and median of `|e|` over the
//! rows that were reached; unreached rows fail every threshold.

pub const THRESHOLDS_MS: [f64; 7] = [25.0, 50.0, 100.0, 200.0, 300.0, 500.0, 1000.0];

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub rows: usize,
    /// Share of rows (0–1) within each of [`THRESHOLDS_MS`].
    pub within: [f64; 7],
    pub mean_abs_ms: f64,
    pub median_abs_ms: f64,
    /// Median of the signed error: positive means late.
    pub median_signed_ms: f64,
    pub unreached: f64,
}

/// Errors in seconds for each row (`None`: never reached).
pub fn summarize(errors: &[Option<f64>]) -> Summary {
    let rows = errors.len();
    let mut abs_ms: Vec<f64> = errors.iter().flatten().map(|e| e.abs() * 1000.0).collect();
    abs_ms.sort_by(f64::total_cmp);
    let mut signed_ms: Vec<f64> = errors.iter().flatten().map(|e| e * 1000.0).collect();
    signed_ms.sort_by(f64::total_cmp);
    let mut within = [0.0; 7];
    for (w, t) in within.iter_mut().zip(THRESHOLDS_MS) {
        *w = abs_ms.iter().filter(|&&e| e <= t).count() as f64 / rows.max(1) as f64;
    }
    let median = |v: &[f64]| match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => 0.5 * (v[n / 2 - 1] + v[n / 2]),
    };
    Summary {
        rows,
        within,
        mean_abs_ms: if abs_ms.is_empty() {
            f64::NAN
        } else {
            abs_ms.iter().sum::<f64>() / abs_ms.len() as f64
        },
        median_abs_ms: median(&abs_ms),
        median_signed_ms: median(&signed_ms),
        unreached: (rows - abs_ms.len()) as f64 / rows.max(1) as f64,
    }
}

/// Performance time at `score_time` on a piecewise-linear truth map (`(score, perf)` rows),
/// extended with the end slopes beyond it.
pub fn truth_perf_at(truth: &[(f64, f64)], score_time: f64) -> f64 {
    interpolate(truth, score_time, |r| r.0, |r| r.1)
}

/// Score time at `perf_time` on the truth map.
pub fn truth_score_at(truth: &[(f64, f64)], perf_time: f64) -> f64 {
    interpolate(truth, perf_time, |r| r.1, |r| r.0)
}

fn interpolate(
    rows: &[(f64, f64)],
    x: f64,
    key: impl Fn(&(f64, f64)) -> f64,
    val: impl Fn(&(f64, f64)) -> f64,
) -> f64 {
    if rows.len() < 2 {
        return rows.first().map_or(x, &val);
    }
    let k = rows
        .partition_point(|r| key(r) <= x)
        .clamp(1, rows.len() - 1);
    let (a, b) = (&rows[k - 1], &rows[k]);
    val(a) + (val(b) - val(a)) * (x - key(a)) / (key(b) - key(a))
}

/// Longest stretch (seconds of performance) in which the follower's position was more than
/// `tolerance_s` of performance time away from the truth.
pub fn longest_lost_s(truth: &[(f64, f64)], reports: &[(f64, f64)], tolerance_s: f64) -> f64 {
    let (first, last) = (
        truth.first().map_or(0.0, |r| r.1),
        truth.last().map_or(0.0, |r| r.1),
    );
    let mut longest = 0.0f64;
    let mut since: Option<f64> = None;
    for &(perf_t, score_t) in reports.iter().filter(|r| r.0 >= first && r.0 <= last) {
        let off = (truth_perf_at(truth, score_t) - perf_t).abs() > tolerance_s;
        match (off, since) {
            (true, None) => since = Some(perf_t),
            (false, Some(s)) => {
                longest = longest.max(perf_t - s);
                since = None;
            }
            _ => {}
        }
        if let Some(s) = since {
            longest = longest.max(perf_t - s);
        }
    }
    longest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_counts_thresholds_and_unreached() {
        let s = summarize(&[Some(0.01), Some(-0.04), Some(0.15), None]);
        assert_eq!(s.rows, 4);
        assert_eq!(s.within[0], 0.25);
        assert_eq!(s.within[1], 0.5);
        assert_eq!(s.within[3], 0.75);
        assert_eq!(s.within[6], 0.75);
        assert!((s.median_abs_ms - 40.0).abs() < 1e-9);
        assert!((s.mean_abs_ms - 200.0 / 3.0).abs() < 1e-9);
        assert_eq!(s.unreached, 0.25);
    }

    #[test]
    fn lost_stretch() {
        let truth = vec![(0.0, 0.0), (10.0, 10.0)];
        let reports: Vec<(f64, f64)> = (0..100)
            .map(|k| {
                let t = k as f64 * 0.1;
                (t, if (2.0..8.5).contains(&t) { 0.0 } else { t })
            })
            .collect();
        let l = longest_lost_s(&truth, &reports, 1.0);
        assert!((l - 6.5).abs() < 0.11, "{l}");
    }
}
