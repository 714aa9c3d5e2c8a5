//! Recordings' chroma kept on disk between searches: one file per recording and kind of chroma,
//! named by a hash of its path and valid while the recording's size and modification time are
//! unchanged. The deep chroma's entries are also named by the model's size and modification
//! time, so that a retrained model does not read what the last one wrote.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::features::CHROMA_DIM;
use crate::stamp::{fnv1a, Stamp};

use super::chroma::{ChromaKind, RecordingChroma};

const MAGIC: &[u8; 8] = b"SEGNOTC1";

/// A folder of cached chroma.
#[derive(Debug, Clone)]
pub struct ChromaCache {
    dir: PathBuf,
    /// Added to every entry's name: empty for the classical chroma.
    tag: String,
}

impl ChromaCache {
    /// A cache of the classical chroma.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self::for_kind(dir, ChromaKind::Classical, None)
    }

    /// A cache of `kind`'s chroma in `dir`; the deep chroma's is for the model at `model`.
    pub fn for_kind(dir: impl Into<PathBuf>, kind: ChromaKind, model: Option<&Path>) -> Self {
        let tag = match kind {
            ChromaKind::Classical => String::new(),
            ChromaKind::Deep => {
                let stamp = model.and_then(Stamp::of).map(|s| s.to_bytes());
                format!(
                    "-deep-{:08x}",
                    fnv1a(stamp.as_ref().map_or(&[][..], |s| &s[..])) as u32
                )
            }
        };
        Self {
            dir: dir.into(),
            tag,
        }
    }

    /// The cached chroma of `recording`, if it is there and the recording has not changed since.
    pub fn get(&self, recording: &Path) -> Option<RecordingChroma> {
        let stamp = Stamp::of(recording)?;
        let bytes = std::fs::read(self.entry(recording)).ok()?;
        decode(&bytes, stamp)
    }

    /// Keeps `chroma` for `recording`. A cache that cannot be written only costs time next run,
    /// so the error is returned for the caller to mention, not to stop on.
    pub fn put(&self, recording: &Path, chroma: &RecordingChroma) -> std::io::Result<()> {
        let stamp =
            Stamp::of(recording).ok_or_else(|| std::io::Error::other("no file metadata"))?;
        std::fs::create_dir_all(&self.dir)?;
        let path = self.entry(recording);
        let tmp = path.with_extension("tmp");
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&encode(chroma, stamp))?;
        f.sync_all()?;
        std::fs::rename(tmp, path)
    }

    fn entry(&self, recording: &Path) -> PathBuf {
        let key = std::fs::canonicalize(recording).unwrap_or_else(|_| recording.to_owned());
        self.dir.join(format!(
            "{:016x}{}.chroma",
            fnv1a(key.as_os_str().as_encoded_bytes()),
            self.tag
        ))
    }
}

fn encode(chroma: &RecordingChroma, stamp: Stamp) -> Vec<u8> {
    let mut out = Vec::with_capacity(40 + chroma.frames.len() * CHROMA_DIM * 4);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&stamp.to_bytes());
    out.extend_from_slice(&(chroma.frames.len() as u64).to_le_bytes());
    for x in chroma.frames.iter().flatten() {
        out.extend_from_slice(&x.to_le_bytes());
    }
    out
}

fn decode(bytes: &[u8], expected: Stamp) -> Option<RecordingChroma> {
    let rest = bytes.strip_prefix(MAGIC)?;
    let (stamp, rest) = rest.split_first_chunk::<24>()?;
    let (count, rest) = rest.split_first_chunk::<8>()?;
    let stamp = Stamp::from_bytes(stamp);
    let count = usize::try_from(u64::from_le_bytes(*count)).ok()?;
    if stamp != expected || rest.len() != count.checked_mul(CHROMA_DIM * 4)? {
        return None;
    }
    let values: Vec<f32> = rest
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let frames = values
        .chunks_exact(CHROMA_DIM)
        .map(|c| c.try_into().expect("chunks of CHROMA_DIM"))
        .collect();
    Some(RecordingChroma { frames })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_chroma_comes_back_until_the_recording_changes() {
        let dir = tempfile::tempdir().unwrap();
        let recording = dir.path().join("take.wav");
        std::fs::write(&recording, b"first").unwrap();
        let cache = ChromaCache::new(dir.path().join("cache"));
        assert_eq!(cache.get(&recording), None);
        let chroma = RecordingChroma {
            frames: vec![[0.25; CHROMA_DIM], [0.5; CHROMA_DIM]],
        };
        cache.put(&recording, &chroma).unwrap();
        assert_eq!(cache.get(&recording), Some(chroma));
        std::fs::write(&recording, b"second take").unwrap();
        assert_eq!(cache.get(&recording), None);
    }

    #[test]
    fn a_damaged_entry_is_a_miss() {
        let stamp = Stamp {
            len: 3,
            modified_ns: 7,
        };
        let chroma = RecordingChroma {
            frames: vec![[1.0; CHROMA_DIM]],
        };
        let bytes = encode(&chroma, stamp);
        assert_eq!(decode(&bytes, stamp), Some(chroma));
        assert_eq!(decode(&bytes[..bytes.len() - 1], stamp), None);
        assert_eq!(decode(&bytes[1..], stamp), None);
    }
}
