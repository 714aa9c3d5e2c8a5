//! Theme search: the recordings, and the moments in them, where a melody is played (seed 004's
//! retrieval task). A theme ([`query::Theme`]) becomes binary chroma, every recording becomes
//! chroma at [`THEME_RATE_HZ`] ([`chroma`], kept between runs by [`cache`]), and subsequence DTW
//! ([`matching`]) finds the best match in each; recordings are ranked by its cost.
//!
//! The chroma is either a classical one that favours the loudest notes, or seed 004's deep
//! chroma, which learned to keep the melody and drop the accompaniment ([`chroma`]).

pub mod cache;
pub mod chroma;
pub mod matching;
pub mod query;

use std::path::{Path, PathBuf};

use crate::audio::{decode_file, AudioError};
use crate::nn::RuntimeError;

pub use cache::ChromaCache;
pub use chroma::{ChromaExtractor, ChromaKind, RecordingChroma};
pub use matching::{best_match, Match, Queries, TempoRange, Transpositions};
pub use query::{Theme, ThemeError, ThemeNote};

/// Frames per second of the search's chroma (seed 004 works at 25 Hz: its Table 3 shows 25 Hz
/// beating 10 Hz for every representation). The deep chroma has one frame per HCQT frame.
pub const THEME_RATE_HZ: f64 = crate::features::hcqt::HCQT_RATE_HZ;

/// The folder of Segno's cache ([`crate::resources::cache_dir`]) that recordings' chroma is kept
/// in, for the theme search and piece identification alike.
pub const CHROMA_CACHE: &str = "chroma";

/// Files the search reads as recordings, by extension (what [`crate::audio`] decodes).
pub const RECORDING_EXTENSIONS: [&str; 5] = ["wav", "flac", "mp3", "ogg", "oga"];

/// One recording's best match.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub recording: PathBuf,
    pub found: Match,
}

/// The recordings under `dir` (and its subfolders), sorted.
pub fn find_recordings(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut folders = vec![dir.to_owned()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder)? {
            let path = entry?.path();
            if path.is_dir() {
                folders.push(path);
            } else if is_recording(&path) {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

fn is_recording(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| RECORDING_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Why a recording has no chroma.
#[derive(Debug, thiserror::Error)]
pub enum ChromaError {
    #[error(transparent)]
    Audio(#[from] AudioError),
    #[error("{}: the deep chroma model failed: {cause}", path.display())]
    Model { path: PathBuf, cause: RuntimeError },
}

/// The chroma of the recording at `path`: from `cache` where it is kept, else decoded, computed
/// by `extractor` and kept there (a cache that cannot be written is reported in the second
/// value, not fatal). The cache must be for the extractor's kind ([`ChromaCache::for_kind`]).
pub fn recording_chroma(
    path: &Path,
    extractor: &mut ChromaExtractor,
    cache: Option<&ChromaCache>,
) -> Result<(RecordingChroma, Option<std::io::Error>), ChromaError> {
    if let Some(c) = cache.and_then(|c| c.get(path)) {
        return Ok((c, None));
    }
    let audio = decode_file(path)?;
    audio.check(path)?;
    let chroma = extractor
        .chroma(&audio.samples, audio.sample_rate)
        .map_err(|cause| ChromaError::Model {
            path: path.to_owned(),
            cause,
        })?;
    let kept = cache.and_then(|c| c.put(path, &chroma).err());
    Ok((chroma, kept))
}

/// Ranks `recordings` by how well `theme` matches somewhere in each, best first; recordings
/// shorter than the theme at every tempo are left out.
pub fn rank<'a>(
    theme: &Theme,
    recordings: impl IntoIterator<Item = (&'a Path, &'a RecordingChroma)>,
    transpositions: Transpositions,
) -> Vec<Hit> {
    let queries = Queries::new(theme, transpositions);
    let mut hits: Vec<Hit> = recordings
        .into_iter()
        .filter_map(|(path, chroma)| {
            best_match(&queries, chroma).map(|found| Hit {
                recording: path.to_owned(),
                found,
            })
        })
        .collect();
    hits.sort_by(|a, b| a.found.cost.total_cmp(&b.found.cost));
    hits
}
