//! Scores: notes, tempo map and measures in played order, read from MIDI or MusicXML.
//!
//! Time in a [`Score`] is the *played* timeline: repeats and jumps are already expanded, and each
//! note keeps the index of its played [`Measure`], which in turn names the written measure, so a
//! position on the second pass of a repeat still reads as "measure 12".

pub mod midi;
pub mod musicxml;
pub mod tempo;
pub mod unfold;

use std::path::{Path, PathBuf};

pub use tempo::TempoMap;

/// Longest played timeline accepted, in quarter notes (about 14 hours at 120 qpm): a damaged
/// file must not make us lay out a billion empty bars.
pub const MAX_BEATS: f64 = 100_000.0;

/// Longest played score, in seconds at its own tempo marks. Everything downstream (the rendered
/// reference, its features, the offline cost matrix) grows with it; 3 hours is longer than any
/// piano work played with all its repeats.
pub const MAX_DURATION_S: f64 = 3.0 * 3600.0;
/// Most notes in a score (the longest piano works have a few tens of thousands).
pub const MAX_NOTES: usize = 60_000;
/// Largest score file read (a long piano score is a few MiB of MusicXML).
pub const MAX_FILE_BYTES: u64 = 64 << 20;
/// Most played measures in a score (repeats expanded).
pub const MAX_MEASURES: usize = 10_000;

/// One sounding note, on the played timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    pub pitch: u8,
    pub velocity: u8,
    /// Onset and duration in quarter notes.
    pub onset_beats: f64,
    pub duration_beats: f64,
    pub onset_s: f64,
    pub offset_s: f64,
    /// Staff (MusicXML) or track (MIDI), counted from 1, where known.
    pub staff: Option<u8>,
    /// Index into [`Score::measures`].
    pub measure: usize,
    pub grace: bool,
}

/// One onset of the score: its time and the pitches that start there.
#[derive(Debug, Clone, PartialEq)]
pub struct Onset {
    pub score_s: f64,
    pub pitches: Vec<u8>,
}

/// One measure of the played timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Measure {
    /// The number printed in the score (MusicXML `number`), or the counted bar for MIDI.
    pub number: String,
    /// Index of the written measure this pass plays.
    pub written_index: usize,
    pub start_beat: f64,
    pub length_beats: f64,
    pub time_signature: (u8, u8),
}

impl Measure {
    /// The 1-based beat (in units of the time signature's denominator) at quarter-note `beat` of
    /// the piece. Past the measure's end (the reference's reverb tail) it stays in the last beat.
    pub fn beat_in_measure(&self, beat: f64) -> f64 {
        let unit = 4.0 / f64::from(self.time_signature.1.max(1));
        let last_beat = (self.length_beats / unit).ceil().max(1.0);
        1.0 + ((beat - self.start_beat) / unit).min(last_beat - 1e-3)
    }
}

/// A position on the score, as shown to a musician.
#[derive(Debug, Clone, PartialEq)]
pub struct ScorePosition {
    pub score_time_s: f64,
    pub beat: f64,
    /// Index into the played measures (`None` for a score without measures).
    pub measure_index: Option<usize>,
    /// 1-based, in units of the time signature's denominator.
    pub beat_in_measure: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    pub notes: Vec<Note>,
    pub tempo: TempoMap,
    pub measures: Vec<Measure>,
}

#[derive(Debug, thiserror::Error)]
pub enum ScoreError {
    #[error("{path}: cannot read the file: {cause}")]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{path}: unknown score format; Segno reads .mid, .midi, .musicxml, .xml and .mxl")]
    UnknownFormat { path: PathBuf },
    #[error("{path}: {place}: {message}")]
    Invalid {
        path: PathBuf,
        place: String,
        message: String,
    },
    #[error(
        "{path}: the score has no notes; check that it is the right file and not an empty template"
    )]
    NoNotes { path: PathBuf },
    #[error("{path}: the score has {found} {what}; Segno takes at most {limit} (a bound that keeps a damaged or hostile file from taking the machine's memory)")]
    TooLarge {
        path: PathBuf,
        what: &'static str,
        found: String,
        limit: String,
    },
}

/// A parse error before the file name is attached.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    /// Byte offset, line/column, track or measure.
    pub place: String,
    pub message: String,
}

impl ParseError {
    pub fn new(place: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            place: place.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScoreFormat {
    Midi,
    MusicXml,
    CompressedMusicXml,
}

impl ScoreFormat {
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "mid" | "midi" | "smf" => Some(Self::Midi),
            "musicxml" | "xml" => Some(Self::MusicXml),
            "mxl" => Some(Self::CompressedMusicXml),
            _ => None,
        }
    }
}

impl Score {
    pub fn load(path: &Path) -> Result<Self, ScoreError> {
        let format = ScoreFormat::from_path(path)
            .ok_or_else(|| ScoreError::UnknownFormat { path: path.into() })?;
        let bytes = crate::input::read_within(path, MAX_FILE_BYTES, "scores").map_err(|cause| {
            ScoreError::Io {
                path: path.into(),
                cause,
            }
        })?;
        Self::from_bytes(&bytes, format, path)
    }

    /// Parses a score held in memory; `name` is used in error messages only.
    pub fn from_bytes(bytes: &[u8], format: ScoreFormat, name: &Path) -> Result<Self, ScoreError> {
        let parsed = match format {
            ScoreFormat::Midi => midi::parse(bytes),
            ScoreFormat::MusicXml => musicxml::parse(bytes),
            ScoreFormat::CompressedMusicXml => musicxml::parse_mxl(bytes),
        };
        let score = parsed.map_err(|e| ScoreError::Invalid {
            path: name.into(),
            place: e.place,
            message: e.message,
        })?;
        if score.notes.is_empty() {
            return Err(ScoreError::NoNotes { path: name.into() });
        }
        score.check_size(name)?;
        Ok(score)
    }

    fn check_size(&self, name: &Path) -> Result<(), ScoreError> {
        let too_large = |what, found: String, limit: String| ScoreError::TooLarge {
            path: name.into(),
            what,
            found,
            limit,
        };
        if self.notes.len() > MAX_NOTES {
            return Err(too_large(
                "notes",
                self.notes.len().to_string(),
                MAX_NOTES.to_string(),
            ));
        }
        if self.measures.len() > MAX_MEASURES {
            return Err(too_large(
                "played measures (repeats expanded)",
                self.measures.len().to_string(),
                MAX_MEASURES.to_string(),
            ));
        }
        let duration = self.duration_s();
        if duration.is_nan() || duration > MAX_DURATION_S {
            return Err(too_large(
                "hours of music at its tempo marks",
                format!("{:.1}", duration / 3600.0),
                format!("{:.0}", MAX_DURATION_S / 3600.0),
            ));
        }
        Ok(())
    }

    /// End of the last note, in seconds.
    pub fn duration_s(&self) -> f64 {
        self.notes.iter().map(|n| n.offset_s).fold(0.0, f64::max)
    }

    /// Distinct onset times in seconds, sorted.
    pub fn onset_times(&self) -> Vec<f64> {
        self.onsets().into_iter().map(|o| o.score_s).collect()
    }

    /// The onsets in time order, each with the pitches that start there (a chord is one onset);
    /// grace notes left out (their written time says little about when they are played).
    pub fn onsets(&self) -> Vec<Onset> {
        let mut sorted: Vec<&Note> = self.notes.iter().filter(|n| !n.grace).collect();
        sorted.sort_by(|a, b| a.onset_s.total_cmp(&b.onset_s));
        let mut out: Vec<Onset> = Vec::new();
        for n in sorted {
            match out.last_mut() {
                Some(o) if n.onset_s - o.score_s < 1e-6 => o.pitches.push(n.pitch),
                _ => out.push(Onset {
                    score_s: n.onset_s,
                    pitches: vec![n.pitch],
                }),
            }
        }
        out
    }

    pub fn position_at(&self, score_time_s: f64) -> ScorePosition {
        let beat = self.tempo.beat_at(score_time_s.max(0.0));
        let measure_index = self.measure_index_at(beat);
        let beat_in_measure = measure_index.map_or(0.0, |i| self.measures[i].beat_in_measure(beat));
        ScorePosition {
            score_time_s,
            beat,
            measure_index,
            beat_in_measure,
        }
    }

    /// The written number of played measure `index` ("12", "12a"), if there is one.
    pub fn measure_number(&self, index: usize) -> Option<&str> {
        self.measures.get(index).map(|m| m.number.as_str())
    }

    /// The played measure containing `beat` (the last one for positions past the end).
    pub fn measure_index_at(&self, beat: f64) -> Option<usize> {
        if self.measures.is_empty() {
            return None;
        }
        Some(
            self.measures
                .partition_point(|m| m.start_beat <= beat + 1e-9)
                .saturating_sub(1),
        )
    }

    /// Score time at the start of the first played measure whose written number is `number`.
    pub fn measure_start_s(&self, number: &str) -> Option<f64> {
        self.measures
            .iter()
            .find(|m| m.number == number)
            .map(|m| self.tempo.seconds_at(m.start_beat))
    }
}

/// A place where a pianist may leave the played timeline: at `from_s` they may go on with what
/// is played at `to_s` instead (both in score seconds). Two kinds:
/// - a repeat not taken: at the end of a repeat's first pass, where the unfolded score goes back,
///   the pianist goes on with the written successor;
/// - a first ending left out: where a bar is followed on its first pass by the first ending and
///   on a later pass by the second, the pianist goes to the second at once (not repeating).
///
/// The measures do not say why the played order jumps, so a D.S. al Coda gives the second kind
/// too (to the coda from the first pass of its "To Coda" bar): a way few pianists take, weighed
/// for a few seconds and taken only on strong evidence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Branch {
    pub from_s: f64,
    pub to_s: f64,
}

impl Score {
    /// Every [`Branch`], in the played order: where the unfolded score leaves the written order
    /// and the written successor is played later on, and where a bar is followed by a later
    /// written bar on a later pass than now. A repeat, D.C. or D.S. that nothing follows in
    /// writing has none.
    pub fn branches(&self) -> Vec<Branch> {
        let starts_s = |m: &Measure| self.tempo.seconds_at(m.start_beat);
        let mut out = Vec::new();
        for (i, pair) in self.measures.windows(2).enumerate() {
            let later = &self.measures[i + 1..];
            let written_next = pair[0].written_index + 1;
            let skipped_to = if pair[1].written_index == written_next {
                // The same bar followed further on by a bar written after this one's successor:
                // a second ending (or what a jump leads to), which the pianist may take now.
                later.windows(2).find_map(|w| {
                    (w[0].written_index == pair[0].written_index
                        && w[1].written_index > pair[1].written_index)
                        .then_some(&w[1])
                })
            } else {
                later.iter().find(|m| m.written_index == written_next)
            };
            if let Some(to) = skipped_to {
                let branch = Branch {
                    from_s: starts_s(&pair[1]),
                    to_s: starts_s(to),
                };
                if !out.contains(&branch) {
                    out.push(branch);
                }
            }
        }
        out
    }

    /// Takes the measures of `written`, the same music with its bars numbered and its repeats
    /// marked (the MusicXML a score MIDI was made from, unfolded as the MIDI plays it), so that
    /// this score knows its written measures and [`Branch`]es. Only when both lay out the same
    /// bars (starts within a hundredth of a beat); false, and nothing changed, otherwise.
    pub fn adopt_measures(&mut self, written: &Score) -> bool {
        let same = self.measures.len() == written.measures.len()
            && (self.measures.iter().zip(&written.measures))
                .all(|(a, b)| (a.start_beat - b.start_beat).abs() < 0.01);
        if same {
            self.measures.clone_from(&written.measures);
        }
        same
    }
}

/// Measures of a piece whose bar lines follow only from its time signatures (MIDI files).
pub(crate) fn measures_from_time_signatures(
    changes: &[(f64, (u8, u8))],
    end_beat: f64,
) -> Vec<Measure> {
    let mut out = Vec::new();
    let mut beat = 0.0;
    let mut sig = changes
        .first()
        .filter(|c| c.0 <= 0.0)
        .map_or((4, 4), |c| c.1);
    let mut next = 0;
    while beat < end_beat - 1e-9 || out.is_empty() {
        while next < changes.len() && changes[next].0 <= beat + 1e-9 {
            sig = changes[next].1;
            next += 1;
        }
        let mut length = f64::from(sig.0.max(1)) * 4.0 / f64::from(sig.1.max(1));
        // A signature change in the middle of a bar starts a new bar there.
        if next < changes.len() && changes[next].0 < beat + length - 1e-9 {
            length = changes[next].0 - beat;
        }
        out.push(Measure {
            number: (out.len() + 1).to_string(),
            written_index: out.len(),
            start_beat: beat,
            length_beats: length,
            time_signature: sig,
        });
        beat += length;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_follow_time_signature_changes() {
        let m = measures_from_time_signatures(&[(0.0, (3, 4)), (6.0, (6, 8))], 12.0);
        let starts: Vec<f64> = m.iter().map(|m| m.start_beat).collect();
        assert_eq!(starts, vec![0.0, 3.0, 6.0, 9.0]);
        assert_eq!(m[2].time_signature, (6, 8));
    }

    #[test]
    fn position_reads_measure_and_beat() {
        let score = Score {
            notes: vec![],
            tempo: TempoMap::constant(60.0),
            measures: measures_from_time_signatures(&[(0.0, (3, 4))], 9.0),
        };
        let p = score.position_at(4.5);
        assert_eq!(
            p.measure_index.and_then(|i| score.measure_number(i)),
            Some("2")
        );
        assert!((p.beat_in_measure - 2.5).abs() < 1e-9);
        assert_eq!(score.measure_start_s("3"), Some(6.0));
    }

    /// A score of one-beat measures (one beat a second) played in this order of written bars.
    fn played(written: &[usize]) -> Score {
        let measures = written
            .iter()
            .enumerate()
            .map(|(i, &w)| Measure {
                number: (w + 1).to_string(),
                written_index: w,
                start_beat: i as f64,
                length_beats: 1.0,
                time_signature: (1, 4),
            })
            .collect();
        Score {
            notes: vec![],
            tempo: TempoMap::constant(60.0),
            measures,
        }
    }

    /// |: 1 2 :| 3 |: 4 :| played 1 2 1 2 3 4 4: the first repeat may be left for measure 3 at
    /// the end of its first pass; the last repeat has nothing after it.
    #[test]
    fn a_repeat_may_be_left_for_the_written_successor() {
        assert_eq!(
            played(&[0, 1, 0, 1, 2, 3, 3]).branches(),
            vec![Branch {
                from_s: 2.0,
                to_s: 4.0
            }]
        );
    }

    /// |: 1 2 [1. 3 :| [2. 4 5 played 1 2 3 1 2 4 5: on the first pass the pianist may leave out
    /// the first ending and the repeat (2 → 4), and at the end of the first ending not go back
    /// (3 → 4).
    #[test]
    fn a_first_ending_may_be_left_out() {
        assert_eq!(
            played(&[0, 1, 2, 0, 1, 3, 4]).branches(),
            vec![
                Branch {
                    from_s: 2.0,
                    to_s: 5.0
                },
                Branch {
                    from_s: 3.0,
                    to_s: 5.0
                }
            ]
        );
    }
}

#[cfg(test)]
mod fuzz_tests;
