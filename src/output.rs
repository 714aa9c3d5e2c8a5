//! Result files: `positions.csv`, `onsets.csv` and `alignment.csv`.

use std::io::Write;

use crate::follow::Report;
use crate::score::Score;

pub const POSITIONS_HEADER: &str = "perf_time_s,score_time_s,score_beat,measure,beat_in_measure,tempo_ratio,confidence,state,played_measure";

/// Reads a `positions.csv` back (what `follow`, `segno-app --out` and `align` write): the reports,
/// with the played measure of each row. The written measure column is not needed for that.
pub fn read_positions(text: &str) -> Result<Vec<Report>, String> {
    let mut reports = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .skip(1)
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let bad = |what: &str| format!("line {}: {what}: {line}", i + 1);
        let f: Vec<&str> = line.split(',').collect();
        if f.len() != 9 {
            return Err(bad("expected the 9 columns of positions.csv"));
        }
        let num = |k: usize| f[k].parse::<f64>().map_err(|_| bad("not a number"));
        reports.push(Report {
            perf_time_s: num(0)?,
            score_time_s: num(1)?,
            score_beat: num(2)?,
            beat_in_measure: num(4)?,
            tempo_ratio: num(5)?,
            confidence: num(6)? as f32,
            state: crate::follow::FollowState::from_name(f[7])
                .ok_or_else(|| bad("unknown state"))?,
            measure_index: f[8]
                .parse::<usize>()
                .ok()
                .and_then(|m| m.checked_sub(1))
                .ok_or_else(|| bad("bad played measure"))?,
        });
    }
    Ok(reports)
}

/// One `positions.csv` row.
pub fn write_position(w: &mut impl Write, score: &Score, r: &Report) -> std::io::Result<()> {
    let measure = score
        .measures
        .get(r.measure_index)
        .map_or("", |m| m.number.as_str());
    writeln!(
        w,
        "{:.6},{:.6},{:.4},{},{:.3},{:.4},{:.3},{},{}",
        r.perf_time_s,
        r.score_time_s,
        r.score_beat,
        csv_field(measure),
        r.beat_in_measure,
        r.tempo_ratio,
        r.confidence,
        r.state.as_str(),
        r.measure_index + 1
    )
}

/// `onsets.csv`: for each distinct score onset, the performance time assigned to it.
pub fn write_onsets(
    w: &mut impl Write,
    onsets: &[f64],
    perf_times: &[Option<f64>],
) -> std::io::Result<()> {
    writeln!(w, "score_time_s,perf_time_s")?;
    for (s, p) in onsets.iter().zip(perf_times) {
        match p {
            Some(p) => writeln!(w, "{s:.6},{p:.6}")?,
            None => writeln!(w, "{s:.6},")?,
        }
    }
    Ok(())
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}
