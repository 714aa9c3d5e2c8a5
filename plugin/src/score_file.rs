//! Reading a score file the musician chose (Open score…, a dropped file, `segno-app --score`),
//! with errors in words for them.

use std::path::Path;
use std::sync::Arc;

use crate::session::SessionField;

/// A score file larger than this is not a score (and would bloat every project save).
pub const MAX_SCORE_BYTES: u64 = 32 << 20;

/// Reads a score file: its name (which tells the format) and bytes; the error is for the musician.
pub fn read_score_file(path: &Path) -> Result<(String, Arc<[u8]>), String> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let bytes = segno::input::read_within(path, MAX_SCORE_BYTES, "scores")
        .map_err(|e| format!("Could not open {}: {e}.", path.display()))?;
    Ok((name, Arc::from(bytes)))
}

/// Reads a score file and loads it.
pub fn load_score_file(session: &SessionField, path: &Path) -> Result<(), String> {
    let (name, bytes) = read_score_file(path)?;
    session.load_score(name, bytes);
    Ok(())
}
