//! Result files: `positions.csv` (one row per [`Report`], written as it goes by
//! [`PositionWriter`], read back by [`read_positions`]), `onsets.csv` and `notes.csv`.

use std::io::Write;
use std::path::Path;

use super::{FollowState, Report};
use crate::offline::AlignedNote;
use crate::output::{OutputError, OutputFile, Unfinished};
use crate::score::Score;

pub const POSITIONS_HEADER: &str = "perf_time_s,score_time_s,score_beat,measure,beat_in_measure,tempo_ratio,confidence,state,played_measure,relocated";

/// Rows between flushes: about a second of following, so an interrupted run keeps what it had.
const FLUSH_EVERY: usize = 43;

/// `positions.csv`, written row by row into a partial file beside it and flushed about once a
/// second of following (an interrupted run keeps what it had there); [`PositionWriter::finish`]
/// puts it in place.
pub struct PositionWriter {
    out: OutputFile,
    rows: usize,
}

impl PositionWriter {
    /// Opens the partial file and writes the header; `inputs` (role, path) may not be `path`.
    /// The partial file is kept if the run ends without [`finish`](Self::finish) once it has
    /// rows.
    pub fn create(path: &Path, inputs: &[(&'static str, &Path)]) -> Result<Self, OutputError> {
        let mut out = OutputFile::create(path, inputs, Unfinished::Remove)?;
        writeln!(out.writer(), "{POSITIONS_HEADER}").map_err(|e| out.error(e))?;
        Ok(Self { out, rows: 0 })
    }

    pub fn write(&mut self, score: &Score, r: &Report) -> Result<(), OutputError> {
        write_row(self.out.writer(), score, r).map_err(|e| self.out.error(e))?;
        if self.rows == 0 {
            self.out.set_unfinished(Unfinished::Keep);
        }
        self.rows += 1;
        if self.rows.is_multiple_of(FLUSH_EVERY) {
            self.out.writer().flush().map_err(|e| self.out.error(e))?;
        }
        Ok(())
    }

    pub fn write_all<'a>(
        &mut self,
        score: &Score,
        reports: impl IntoIterator<Item = &'a Report>,
    ) -> Result<(), OutputError> {
        reports.into_iter().try_for_each(|r| self.write(score, r))
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn path(&self) -> &Path {
        self.out.target()
    }

    pub fn finish(self) -> Result<(), OutputError> {
        self.out.commit()
    }
}

fn write_row(w: &mut impl Write, score: &Score, r: &Report) -> std::io::Result<()> {
    writeln!(
        w,
        "{:.6},{:.6},{:.4},{},{:.3},{:.4},{:.3},{},{},{}",
        r.perf_time_s,
        r.score_time_s,
        r.score_beat,
        csv_field(score.measure_number(r.measure_index).unwrap_or("")),
        r.beat_in_measure,
        r.tempo_ratio,
        r.confidence,
        r.state.as_str(),
        r.measure_index + 1,
        u8::from(r.relocated)
    )
}

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
        // Files written before the `relocated` column have 9.
        if !(9..=10).contains(&f.len()) {
            return Err(bad("expected the 10 columns of positions.csv"));
        }
        let num = |k: usize| f[k].parse::<f64>().map_err(|_| bad("not a number"));
        reports.push(Report {
            perf_time_s: num(0)?,
            score_time_s: num(1)?,
            score_beat: num(2)?,
            beat_in_measure: num(4)?,
            tempo_ratio: num(5)?,
            confidence: num(6)? as f32,
            state: FollowState::from_name(f[7]).ok_or_else(|| bad("unknown state"))?,
            measure_index: f[8]
                .parse::<usize>()
                .ok()
                .and_then(|m| m.checked_sub(1))
                .ok_or_else(|| bad("bad played measure"))?,
            relocated: match f.get(9) {
                None | Some(&"0") => false,
                Some(&"1") => true,
                Some(_) => return Err(bad("relocated is 0 or 1")),
            },
        });
    }
    Ok(reports)
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

pub const NOTES_HEADER: &str = "measure,beat_in_measure,played_measure,staff,pitch,score_time_s,perf_onset_s,perf_offset_s,state";

/// `notes.csv`: one row per note of `score` in its played order (a repeated passage's notes once
/// per pass), with where `align` put its onset and end in the recording. `pitch` is the MIDI key
/// number (60 is middle C); `staff` is empty where the score does not say.
pub fn write_notes(
    w: &mut impl Write,
    score: &Score,
    aligned: &[AlignedNote],
) -> std::io::Result<()> {
    writeln!(w, "{NOTES_HEADER}")?;
    for (n, a) in score.notes.iter().zip(aligned) {
        let beat_in_measure = score
            .measures
            .get(n.measure)
            .map_or(0.0, |m| m.beat_in_measure(n.onset_beats));
        writeln!(
            w,
            "{},{:.3},{},{},{},{:.6},{:.6},{:.6},{}",
            csv_field(score.measure_number(n.measure).unwrap_or("")),
            beat_in_measure,
            n.measure + 1,
            n.staff.map_or(String::new(), |s| s.to_string()),
            n.pitch,
            n.onset_s,
            a.perf_onset_s,
            a.perf_offset_s,
            a.state.as_str()
        )?;
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
