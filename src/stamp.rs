//! What identifies one version of a user's file, so that what Segno worked out from it (cached
//! chroma, a library's snippets) is redone when the file changes and only then.

use std::path::Path;
use std::time::UNIX_EPOCH;

/// A file's size and modification time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub len: u64,
    pub modified_ns: u128,
}

impl Stamp {
    /// The stamp of the file at `path`, or `None` where it or its time cannot be read.
    pub fn of(path: &Path) -> Option<Self> {
        let meta = std::fs::metadata(path).ok()?;
        let modified = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
        Some(Self {
            len: meta.len(),
            modified_ns: modified.as_nanos(),
        })
    }

    pub fn to_bytes(self) -> [u8; 24] {
        let mut out = [0u8; 24];
        out[..8].copy_from_slice(&self.len.to_le_bytes());
        out[8..].copy_from_slice(&self.modified_ns.to_le_bytes());
        out
    }

    pub fn from_bytes(bytes: &[u8; 24]) -> Self {
        let (len, modified) = bytes.split_at(8);
        Self {
            len: u64::from_le_bytes(len.try_into().expect("8 bytes")),
            modified_ns: u128::from_le_bytes(modified.try_into().expect("16 bytes")),
        }
    }
}

/// A stable hash (unlike std's), so that a name derived from it outlives a new build.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
