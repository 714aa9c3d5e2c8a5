//! A theme to look for: a melody as notes with durations, typed on the command line or taken from
//! a score, and its binary chroma (seed 004, §4.2: "for the symbolic query, we simply compute a
//! binary chroma representation").

use std::path::Path;

use crate::score::{Score, ScoreError};

use super::matching::TempoRange;
use super::THEME_RATE_HZ;

/// A typed note without a duration lasts a quarter note at this tempo (0.5 s); the search tries
/// a typed theme at several tempi around it ([`TempoRange::Any`]).
const TYPED_QPM: f64 = 120.0;

/// One note of a theme.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThemeNote {
    pub pitch: u8,
    pub duration_s: f64,
}

/// A melody: one note at a time.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub notes: Vec<ThemeNote>,
    /// The tempi it is searched at: [`TempoRange::Written`] when it comes from a score,
    /// [`TempoRange::Any`] when typed.
    pub tempo: TempoRange,
}

#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    #[error("the theme is empty: give notes such as \"G4 G4 G4 Eb4\", or a MIDI or MusicXML file")]
    Empty,
    #[error(
        "note {index} of the theme, '{token}': {why} (write a pitch as a letter, an optional # or \
         b, and an octave, e.g. Eb4 or F#5, optionally with a length in quarter notes, e.g. G4:0.5)"
    )]
    BadNote {
        index: usize,
        token: String,
        why: &'static str,
    },
    #[error("{}: no such score file (a theme is a score file or a note list such as \"G4 G4 G4 Eb4\")", path.display())]
    MissingScore { path: std::path::PathBuf },
    #[error(transparent)]
    Score(#[from] ScoreError),
}

impl Theme {
    /// A theme from the command line: a score file if `query` ends as one does (`.mid`,
    /// `.musicxml`, `.mxl`, …), else a note list.
    pub fn from_query(query: &str) -> Result<Self, ThemeError> {
        let path = Path::new(query);
        if crate::score::ScoreFormat::from_path(path).is_none() {
            return Self::parse_notes(query);
        }
        if !path.is_file() {
            return Err(ThemeError::MissingScore { path: path.into() });
        }
        Ok(Self::top_voice(&Score::load(path)?))
    }

    /// Parses a note list such as `"G4 G4 G4 Eb4:2"`: pitch names, each optionally with its
    /// length in quarter notes (a quarter by default).
    pub fn parse_notes(text: &str) -> Result<Self, ThemeError> {
        let notes = text
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|t| !t.is_empty())
            .enumerate()
            .map(|(i, token)| parse_note(token).map_err(|why| bad(i + 1, token, why)))
            .collect::<Result<Vec<_>, _>>()?;
        if notes.is_empty() {
            return Err(ThemeError::Empty);
        }
        Ok(Self {
            notes,
            tempo: TempoRange::Any,
        })
    }

    /// The highest note at each onset of `score` (grace notes left out), each lasting until the
    /// next onset: the melody a listener hears on top.
    pub fn top_voice(score: &Score) -> Self {
        let onsets = score.onsets();
        let notes = onsets
            .iter()
            .enumerate()
            .map(|(i, o)| {
                let pitch = *o.pitches.iter().max().expect("an onset has a pitch");
                let end = onsets
                    .get(i + 1)
                    .map_or_else(|| last_offset(score, o.score_s, pitch), |next| next.score_s);
                ThemeNote {
                    pitch,
                    duration_s: end - o.score_s,
                }
            })
            .collect();
        Self {
            notes,
            tempo: TempoRange::Written,
        }
    }

    pub fn duration_s(&self) -> f64 {
        self.notes.iter().map(|n| n.duration_s).sum()
    }

    /// Played evenly faster or slower so that it lasts `duration_s`.
    pub fn stretch_to(&mut self, duration_s: f64) {
        let ratio = duration_s / self.duration_s();
        for n in &mut self.notes {
            n.duration_s *= ratio;
        }
    }

    /// Binary chroma at [`THEME_RATE_HZ`], the theme played `scale` times as slowly as written,
    /// each note at least one frame long, and transposed up by `shift` semitones: per frame, the
    /// pitch class sounding.
    pub fn chroma_classes(&self, scale: f64, shift: u8) -> Vec<u8> {
        let mut out = Vec::new();
        let mut t = 0.0;
        for n in &self.notes {
            let start = out.len();
            t += n.duration_s * scale * THEME_RATE_HZ;
            let end = (t.round() as usize).max(start + 1);
            out.resize(end, (n.pitch + shift) % 12);
        }
        out
    }
}

/// The end of the note at `onset_s` with `pitch`: the last onset's length.
fn last_offset(score: &Score, onset_s: f64, pitch: u8) -> f64 {
    score
        .notes
        .iter()
        .filter(|n| n.pitch == pitch && (n.onset_s - onset_s).abs() < 1e-6)
        .map(|n| n.offset_s)
        .fold(onset_s, f64::max)
}

fn bad(index: usize, token: &str, why: &'static str) -> ThemeError {
    ThemeError::BadNote {
        index,
        token: token.to_owned(),
        why,
    }
}

fn parse_note(token: &str) -> Result<ThemeNote, &'static str> {
    let (name, quarters) = match token.split_once(':') {
        Some((name, q)) => {
            let q: f64 = q.parse().map_err(|_| "its length is not a number")?;
            if !(q.is_finite() && q > 0.0 && q <= 64.0) {
                return Err("its length must be more than 0 and at most 64 quarter notes");
            }
            (name, q)
        }
        None => (token, 1.0),
    };
    Ok(ThemeNote {
        pitch: parse_pitch(name)?,
        duration_s: quarters * 60.0 / TYPED_QPM,
    })
}

/// `C4` is MIDI 60.
fn parse_pitch(name: &str) -> Result<u8, &'static str> {
    let mut chars = name.chars();
    let step = match chars.next().map(|c| c.to_ascii_uppercase()) {
        Some('C') => 0,
        Some('D') => 2,
        Some('E') => 4,
        Some('F') => 5,
        Some('G') => 7,
        Some('A') => 9,
        Some('B') => 11,
        _ => return Err("it does not start with a note letter A to G"),
    };
    let rest = chars.as_str();
    let digits_at = rest
        .find(|c: char| c.is_ascii_digit() || c == '-')
        .ok_or("it has no octave number")?;
    let (accidentals, octave) = rest.split_at(digits_at);
    let alter: i32 = accidentals
        .chars()
        .map(|c| match c {
            '#' | '♯' => Ok(1),
            'b' | '♭' => Ok(-1),
            _ => Err("only # and b may stand between the letter and the octave"),
        })
        .sum::<Result<i32, _>>()?;
    let octave: i32 = octave.parse().map_err(|_| "its octave is not a number")?;
    let midi = (octave + 1) * 12 + step + alter;
    u8::try_from(midi)
        .ok()
        .filter(|&m| m <= 127)
        .ok_or("it lies outside MIDI's range (C-1 to G9)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn note_lists_parse_with_accidentals_and_lengths() {
        let t = Theme::parse_notes("G4 g4, Eb4:2 F#5:0.5 Bb-1").unwrap();
        let pitches: Vec<u8> = t.notes.iter().map(|n| n.pitch).collect();
        assert_eq!(pitches, vec![67, 67, 63, 78, 10]);
        assert_eq!(t.notes[2].duration_s, 1.0);
        assert_eq!(t.notes[3].duration_s, 0.25);
        assert_eq!(t.tempo, TempoRange::Any, "a typed theme has no tempo");
    }

    #[test]
    fn a_bad_note_is_named_with_its_place() {
        for (text, index, why) in [
            ("G4 H4", 2, "note letter"),
            ("G4 G", 2, "no octave"),
            ("G4 G4 Gx4", 3, "only # and b"),
            ("G4:0", 1, "more than 0"),
            ("G9#", 1, "octave"),
            ("G#9", 1, "MIDI's range"),
        ] {
            let e = Theme::parse_notes(text).unwrap_err();
            match &e {
                ThemeError::BadNote { index: i, .. } => assert_eq!(*i, index, "{text}: {e}"),
                _ => panic!("{text}: {e}"),
            }
            assert!(e.to_string().contains(why), "{text}: {e}");
        }
        assert!(matches!(Theme::parse_notes(" , "), Err(ThemeError::Empty)));
    }

    #[test]
    fn a_query_naming_a_score_that_is_not_there_says_so() {
        let e = Theme::from_query("no/such/theme.mid").unwrap_err();
        assert!(matches!(e, ThemeError::MissingScore { .. }), "{e}");
        assert!(e.to_string().contains("no/such/theme.mid"), "{e}");
    }

    #[test]
    fn binary_chroma_holds_each_note_for_its_length() {
        let t = Theme::parse_notes("C4:0.5 E4 G4:0.04").unwrap();
        // 0.25 s, 0.5 s and 0.02 s at 25 Hz: 6 (6.25), 13 (18.75 -> 19), and one frame at least.
        let c = t.chroma_classes(1.0, 0);
        assert_eq!(c.len(), 20);
        assert!(c[..6].iter().all(|&p| p == 0));
        assert!(c[6..19].iter().all(|&p| p == 4));
        assert_eq!(c[19], 7);
        assert!(t.chroma_classes(2.0, 2)[..12].iter().all(|&p| p == 2));
    }

    #[test]
    fn a_stretched_theme_keeps_its_proportions() {
        let mut t = Theme::parse_notes("C4:0.5 E4 G4:2.5").unwrap();
        t.stretch_to(4.0);
        let lengths: Vec<f64> = t.notes.iter().map(|n| n.duration_s).collect();
        assert_eq!(lengths, vec![0.5, 1.0, 2.5]);
    }
}
