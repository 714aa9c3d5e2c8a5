//! Where in a recording a theme is played: subsequence DTW of the theme's binary chroma against
//! the recording's chroma (seed 004, §4.2, after Balke et al. 2016): cosine distance, step sizes
//! (2,1), (1,2), (1,1) with weights 2, 1, 1, so a local tempo between half and twice the theme's.
//! A typed theme has no tempo, so it is also tried at several global tempi ([`TempoRange::Any`]);
//! a theme from a score is tried at its written tempo alone ([`TempoRange::Written`]), one tempo
//! per query as in seed 004, since the steps' half to twice already cover most pianists' tempi and
//! every further tempo tried gives the other recordings another chance to match (measured in
//! BENCHMARKS.md, "Theme search").

use std::fmt;
use std::str::FromStr;

use crate::align::dtw::subsequence_match;
use crate::features::CHROMA_DIM;

use super::chroma::RecordingChroma;
use super::query::Theme;
use super::THEME_RATE_HZ;

/// With [`TempoRange::Any`], the theme is tried this many times as slowly as written. With the
/// steps' 0.5–2 this covers about a quarter to four times the written tempo.
pub const TEMPO_SCALES: [f64; 5] = [0.5, std::f64::consts::FRAC_1_SQRT_2, 1.0, 1.414, 2.0];

/// Which global tempi a theme is tried at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TempoRange {
    /// As written: the DTW steps allow half to twice that tempo. For a theme from a score.
    Written,
    /// Also at half to twice its length ([`TEMPO_SCALES`]), so with the steps a quarter to four
    /// times the written tempo. For a typed theme, which has no tempo of its own.
    Any,
}

impl TempoRange {
    pub const ALL: [Self; 2] = [Self::Written, Self::Any];

    pub fn name(self) -> &'static str {
        match self {
            Self::Written => "written",
            Self::Any => "any",
        }
    }

    /// How many times as slowly as written the theme is tried.
    pub fn scales(self) -> &'static [f64] {
        match self {
            Self::Written => &[1.0],
            Self::Any => &TEMPO_SCALES,
        }
    }
}

impl fmt::Display for TempoRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for TempoRange {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("no tempo range '{s}': choose written or any"))
    }
}

/// The best match of a theme in one recording.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Match {
    /// Accumulated cost over the theme's length in frames: 0 is a perfect match, 1 none.
    pub cost: f32,
    pub start_s: f64,
    pub end_s: f64,
    /// Semitones the theme was transposed up by to match here.
    pub shift: u8,
    /// How many times as slowly as written the theme matched best.
    pub scale: f64,
}

/// Which transpositions to try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transpositions {
    /// The theme as written.
    None,
    /// All twelve (circular chroma shifts).
    All,
}

impl Transpositions {
    /// All of them when `transpose` is asked for, else the theme as written.
    pub fn when(transpose: bool) -> Self {
        if transpose {
            Self::All
        } else {
            Self::None
        }
    }

    fn shifts(self) -> std::ops::Range<u8> {
        match self {
            Self::None => 0..1,
            Self::All => 0..12,
        }
    }
}

/// A theme's binary chroma at every transposition and tempo tried (its [`TempoRange`]): made
/// once per search, matched against every recording.
#[derive(Debug, Clone)]
pub struct Queries {
    /// (shift, scale, pitch class per frame), in the order they are tried.
    variants: Vec<(u8, f64, Vec<u8>)>,
}

impl Queries {
    pub fn new(theme: &Theme, transpositions: Transpositions) -> Self {
        let variants = transpositions
            .shifts()
            .flat_map(|shift| {
                theme
                    .tempo
                    .scales()
                    .iter()
                    .map(move |&scale| (shift, scale, theme.chroma_classes(scale, shift)))
            })
            .collect();
        Self { variants }
    }
}

/// The best match of the theme anywhere in `recording`, over its `queries`; `None` if the
/// recording is shorter than the theme at every tempo.
pub fn best_match(queries: &Queries, recording: &RecordingChroma) -> Option<Match> {
    let mut best: Option<Match> = None;
    for (shift, scale, query) in &queries.variants {
        let Some((cost, start, end)) = subsequence(query, &recording.frames) else {
            continue;
        };
        if best.is_none_or(|b| cost < b.cost) {
            best = Some(Match {
                cost,
                start_s: start as f64 / THEME_RATE_HZ,
                end_s: (end + 1) as f64 / THEME_RATE_HZ,
                shift: *shift,
                scale: *scale,
            });
        }
    }
    best
}

/// Subsequence DTW of `query` (a pitch class per frame: binary chroma, whose cosine distance to
/// a unit chroma frame is one minus that frame's value at the class) in `doc`: the cost per query
/// frame of the best match, and its first and last doc frames.
fn subsequence(query: &[u8], doc: &[[f32; CHROMA_DIM]]) -> Option<(f32, usize, usize)> {
    let m = subsequence_match(query.len(), doc.len(), |i, j| {
        1.0 - doc[j][usize::from(query[i])]
    })?;
    Some((m.total / query.len() as f32, m.start, m.end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_hot(class: usize) -> [f32; CHROMA_DIM] {
        let mut f = [0.0; CHROMA_DIM];
        f[class] = 1.0;
        f
    }

    /// A recording of noise-like chroma with the theme played `scale` times as slowly as written
    /// from `at_s`.
    fn recording_with(theme: &Theme, at_s: f64, scale: f64) -> RecordingChroma {
        let mut rng = crate::rng::Rng::new(3);
        let mut frames: Vec<[f32; CHROMA_DIM]> = (0..(30.0 * THEME_RATE_HZ) as usize)
            .map(|_| one_hot((rng.uniform() * 12.0) as usize % 12))
            .collect();
        let at = (at_s * THEME_RATE_HZ) as usize;
        for (k, &class) in theme.chroma_classes(scale, 0).iter().enumerate() {
            frames[at + k] = one_hot(usize::from(class));
        }
        RecordingChroma { frames }
    }

    #[test]
    fn finds_the_theme_where_it_is_played_at_another_tempo() {
        let theme = Theme::parse_notes("C4 E4 G4 C5:2 B4 G4 D4 F4 E4:0.5 C4").unwrap();
        let rec = recording_with(&theme, 10.0, 0.6);
        let m = best_match(&Queries::new(&theme, Transpositions::None), &rec).unwrap();
        assert!(m.cost < 0.05, "{m:?}");
        // Within the first and the last note: the match may begin late in the first and end
        // early in the last, where every frame costs the same.
        let note_s = 0.5 * 0.6;
        assert!(
            m.start_s >= 10.0 - 0.05 && m.start_s < 10.0 + note_s,
            "{m:?}"
        );
        let end = 10.0 + theme.duration_s() * 0.6;
        assert!(m.end_s <= end + 0.05 && m.end_s > end - note_s, "{m:?}");
        assert_eq!(m.shift, 0);
        let elsewhere = recording_with(&Theme::parse_notes("A4 F4 D5 B3 A4:2").unwrap(), 10.0, 1.0);
        let miss = best_match(&Queries::new(&theme, Transpositions::None), &elsewhere).unwrap();
        assert!(miss.cost > 0.4, "{miss:?}");
    }

    #[test]
    fn a_theme_played_three_times_as_slowly_is_found_only_at_any_tempo() {
        let mut theme = Theme::parse_notes("C4:0.5 E4:0.5 G4 C5 A4:0.5 F4:0.5 D4:2").unwrap();
        let rec = recording_with(&theme, 4.0, 3.0);
        theme.tempo = TempoRange::Written;
        let written = best_match(&Queries::new(&theme, Transpositions::None), &rec).unwrap();
        theme.tempo = TempoRange::Any;
        let any = best_match(&Queries::new(&theme, Transpositions::None), &rec).unwrap();
        // The steps stretch the written theme to twice its length at most: a third of each
        // note's frames is left unmatched.
        assert!(written.cost > 0.2, "{written:?}");
        assert_eq!(written.scale, 1.0);
        assert!(any.cost < 0.05, "{any:?}");
        // Within the first note (0.75 s played), as in the test above.
        assert!(any.start_s >= 4.0 - 0.05 && any.start_s < 4.75, "{any:?}");
    }

    #[test]
    fn a_tempo_range_reads_as_it_is_shown() {
        for t in TempoRange::ALL {
            assert_eq!(t.to_string().parse::<TempoRange>(), Ok(t));
        }
        assert_eq!("ANY".parse::<TempoRange>(), Ok(TempoRange::Any));
        assert!("fast"
            .parse::<TempoRange>()
            .unwrap_err()
            .contains("written or any"));
    }

    #[test]
    fn a_transposed_theme_is_found_only_with_shifts_and_says_by_how_much() {
        let theme = Theme::parse_notes("C4 D4 E4 F4 G4:2 E4:2 C4:4").unwrap();
        let up_a_third = Theme::parse_notes("E4 F#4 G#4 A4 B4:2 G#4:2 E4:4").unwrap();
        let rec = recording_with(&up_a_third, 5.0, 1.0);
        let plain = best_match(&Queries::new(&theme, Transpositions::None), &rec).unwrap();
        let shifted = best_match(&Queries::new(&theme, Transpositions::All), &rec).unwrap();
        assert!(plain.cost > 0.3, "{plain:?}");
        assert!(shifted.cost < 0.05, "{shifted:?}");
        assert_eq!(shifted.shift, 4);
    }

    #[test]
    fn a_recording_shorter_than_the_theme_has_no_match() {
        let theme = Theme::parse_notes("C4:8 D4:8").unwrap();
        let rec = RecordingChroma {
            frames: vec![one_hot(0); 10],
        };
        assert_eq!(
            best_match(&Queries::new(&theme, Transpositions::None), &rec),
            None
        );
    }
}
