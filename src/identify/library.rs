//! A pianist's score library: one local file holding, per piece, what identification compares
//! (its chroma snippet descriptors and, where the model was there to make them, its cross-modal
//! snippet embeddings) and what it reports (its measures). Adding a folder again indexes
//! only what is new or changed, and drops what was deleted.
//!
//! The file is a small versioned binary format of our own, written to a temporary file and then
//! renamed over the old one, so that a crash or a full disk never leaves half a library. Where
//! every piece is embedded, it also holds the snippet index that shortlists pieces for a query
//! ([`super::neighbours`]), rebuilt whenever pieces change.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::score::{Score, ScoreError, ScoreFormat};
use crate::stamp::Stamp;

use super::cens::{score_chroma, snippets, Snippet};
use super::crossmodal::{CrossModal, Embedding, EMBEDDING_DIM};
use super::neighbours::{IndexError, NeighbourIndex};
use crate::nn::runtime::RuntimeError;

/// Version 4 holds which model made the embeddings, version 3 the snippet index, version 2 the
/// cross-modal embeddings; files of versions 1 to 3 are still read.
const MAGIC: &[u8; 8] = b"SEGNOLB4";
const MAGIC_V3: &[u8; 8] = b"SEGNOLB3";
const MAGIC_V2: &[u8; 8] = b"SEGNOLB2";
const MAGIC_V1: &[u8; 8] = b"SEGNOLB1";
/// The library's file name in Segno's data folder ([`crate::resources::data_dir`]).
pub const DEFAULT_FILE_NAME: &str = "library.segnolib";

/// The library file used when none is named: [`DEFAULT_FILE_NAME`] in Segno's data folder;
/// `None` without a home folder.
pub fn default_path() -> Option<std::path::PathBuf> {
    crate::resources::data_dir().map(|d| d.join(DEFAULT_FILE_NAME))
}

#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    #[error("{path}: cannot read the library: {cause}")]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{path}: cannot write the library: {cause}")]
    Write {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{path}: not a Segno library, or a damaged one ({why}); rebuild it with `segno library add` into a new file")]
    Damaged { path: PathBuf, why: &'static str },
    #[error("{path}: cannot list the folder: {cause}")]
    Folder {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{path}: the cross-modal embedding failed: {cause}")]
    Embedding { path: PathBuf, cause: RuntimeError },
    #[error(transparent)]
    Index(#[from] IndexError),
}

/// One piece of the library.
#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    /// The score file, absolute.
    pub path: PathBuf,
    pub stamp: Stamp,
    pub duration_s: f64,
    /// Snippet descriptors at [`super::cens::SNIPPET_RATE_HZ`] on the played timeline at the written tempo.
    pub snippets: Vec<Snippet>,
    /// Seed 003's cross-modal embeddings of the same snippets ([`super::crossmodal`]); empty
    /// where the piece was indexed without the model.
    pub embeddings: Vec<Embedding>,
    /// Each played measure's start (seconds) and printed number, in order.
    pub measures: Vec<(f64, String)>,
}

impl Piece {
    /// A piece from its score.
    pub fn from_score(path: PathBuf, stamp: Stamp, score: &Score) -> Self {
        let measures = score
            .measures
            .iter()
            .map(|m| (score.tempo.seconds_at(m.start_beat), m.number.clone()))
            .collect();
        Self {
            path,
            stamp,
            duration_s: score.duration_s(),
            snippets: snippets(&score_chroma(score), 1.0),
            embeddings: Vec::new(),
            measures,
        }
    }

    /// The file's name without its extension.
    pub fn title(&self) -> String {
        self.path
            .file_stem()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
    }

    /// The printed number of the measure playing at `seconds` on the written timeline.
    pub fn measure_at(&self, seconds: f64) -> Option<&str> {
        let k = self
            .measures
            .partition_point(|(start, _)| *start <= seconds + 1e-6);
        k.checked_sub(1).map(|k| self.measures[k].1.as_str())
    }
}

/// The pieces of a library, in the order they were added.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Library {
    pub pieces: Vec<Piece>,
    /// The snippet index of the pieces' embeddings ([`NeighbourIndex::to_bytes`]); empty where a
    /// piece lacks them, or after a change until [`Self::save`] rebuilds it.
    neighbours: Vec<u8>,
    /// The cross-modal pathways that made the embeddings ([`CrossModal::id`]); 0 where unknown
    /// (a file of version 3 or older).
    embedded_with: u64,
}

/// What one `add` did.
#[derive(Debug, Default)]
pub struct AddReport {
    pub added: Vec<PathBuf>,
    pub updated: Vec<PathBuf>,
    pub unchanged: usize,
    /// Unchanged pieces given the cross-modal embeddings they lacked.
    pub embedded: usize,
    /// Pieces whose files are gone, dropped from the library.
    pub removed: Vec<PathBuf>,
    /// Files that could not be read as scores, with why; left out.
    pub failed: Vec<ScoreError>,
}

impl Library {
    /// The library in `path`; an empty one where the file does not exist yet.
    pub fn open(path: &Path) -> Result<Self, LibraryError> {
        match std::fs::read(path) {
            Ok(bytes) => decode(&bytes).map_err(|why| LibraryError::Damaged {
                path: path.to_owned(),
                why,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(cause) => Err(LibraryError::Read {
                path: path.to_owned(),
                cause,
            }),
        }
    }

    /// Writes the library to `path` in one step (a temporary file renamed over it), with its
    /// snippet index rebuilt if pieces changed.
    pub fn save(&mut self, path: &Path) -> Result<(), LibraryError> {
        self.index()?;
        let fail = |cause| LibraryError::Write {
            path: path.to_owned(),
            cause,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(fail)?;
        }
        let tmp = path.with_extension("segnolib-tmp");
        let mut f = std::fs::File::create(&tmp).map_err(fail)?;
        f.write_all(&encode(self)).map_err(fail)?;
        f.sync_all().map_err(fail)?;
        std::fs::rename(&tmp, path).map_err(fail)
    }

    /// The score files under `dirs` (files are taken as they are), sorted and absolute.
    pub fn find_scores(dirs: &[PathBuf]) -> Result<Vec<PathBuf>, LibraryError> {
        let mut out = Vec::new();
        for dir in dirs {
            let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.clone());
            if dir.is_file() {
                out.push(dir);
                continue;
            }
            let mut folders = vec![dir];
            while let Some(folder) = folders.pop() {
                let entries = std::fs::read_dir(&folder).map_err(|cause| LibraryError::Folder {
                    path: folder.clone(),
                    cause,
                })?;
                for entry in entries.flatten() {
                    let path = entry.path();
                    if path.is_dir() {
                        folders.push(path);
                    } else if ScoreFormat::from_path(&path).is_some() {
                        out.push(path);
                    }
                }
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Indexes `files` (from [`Self::find_scores`]): new and changed ones are read, unchanged ones
    /// kept, and pieces whose files no longer exist dropped. With `embedder`, every piece gets its
    /// cross-modal embeddings, unchanged ones that lack them too, and all of them again where
    /// another model made them. `progress` is told of each file before it is looked at.
    pub fn add(
        &mut self,
        files: &[PathBuf],
        mut embedder: Option<&mut CrossModal>,
        mut progress: impl FnMut(&Path),
    ) -> Result<AddReport, LibraryError> {
        let mut report = AddReport::default();
        let before = self.pieces.len();
        self.pieces.retain(|p| {
            let there = p.path.is_file();
            if !there {
                report.removed.push(p.path.clone());
            }
            there
        });
        if self.pieces.len() != before {
            self.neighbours.clear();
        }
        if let Some(model) = embedder.as_deref().filter(|m| m.id() != self.embedded_with) {
            self.pieces.iter_mut().for_each(|p| p.embeddings.clear());
            self.neighbours.clear();
            self.embedded_with = model.id();
        }
        for path in files {
            progress(path);
            let Some(stamp) = Stamp::of(path) else {
                continue;
            };
            let known = self.pieces.iter().position(|p| &p.path == path);
            let unchanged = known.filter(|&k| self.pieces[k].stamp == stamp);
            if unchanged
                .is_some_and(|k| embedder.is_none() || !self.pieces[k].embeddings.is_empty())
            {
                report.unchanged += 1;
                continue;
            }
            let (mut piece, score) = match Score::load(path) {
                Ok(score) => (Piece::from_score(path.clone(), stamp, &score), score),
                Err(e) => {
                    report.failed.push(e);
                    continue;
                }
            };
            if let Some(model) = embedder.as_deref_mut() {
                piece.embeddings = model.score(&score, piece.duration_s).map_err(|cause| {
                    LibraryError::Embedding {
                        path: path.clone(),
                        cause,
                    }
                })?;
            }
            self.neighbours.clear();
            if let Some(k) = unchanged {
                self.pieces[k] = piece;
                report.unchanged += 1;
                report.embedded += 1;
                continue;
            }
            match known {
                Some(k) => {
                    self.pieces[k] = piece;
                    report.updated.push(path.clone());
                }
                None => {
                    self.pieces.push(piece);
                    report.added.push(path.clone());
                }
            }
        }
        Ok(report)
    }

    /// A library of `pieces`, its snippet index not built yet.
    pub fn new(pieces: Vec<Piece>) -> Self {
        Self {
            pieces,
            neighbours: Vec::new(),
            embedded_with: 0,
        }
    }

    /// Builds the snippet index where every piece is embedded and it is missing.
    pub fn index(&mut self) -> Result<(), IndexError> {
        // An index that no longer reads (damaged, or written by another USearch) is rebuilt, so
        // that `segno library add` repairs it.
        if matches!(self.neighbours(), Some(Err(_))) {
            self.neighbours.clear();
        }
        if self.neighbours.is_empty() && self.embedded() && !self.pieces.is_empty() {
            self.neighbours = NeighbourIndex::build(&self.embedding_lists())?.to_bytes()?;
        }
        Ok(())
    }

    /// The snippet index of the pieces' embeddings, if built ([`Self::index`]).
    pub fn neighbours(&self) -> Option<Result<NeighbourIndex, IndexError>> {
        (!self.neighbours.is_empty()).then(|| {
            NeighbourIndex::from_bytes::<EMBEDDING_DIM>(&self.neighbours, self.pieces.len())
        })
    }

    /// Every piece's cross-modal embeddings, in library order.
    pub fn embedding_lists(&self) -> Vec<&[Embedding]> {
        self.pieces
            .iter()
            .map(|p| p.embeddings.as_slice())
            .collect()
    }

    /// Whether every piece has its cross-modal embeddings.
    pub fn embedded(&self) -> bool {
        self.pieces.iter().all(|p| !p.embeddings.is_empty())
    }

    /// Whether every piece has its cross-modal embeddings, made by `model`: only then does a
    /// query embedded by `model` compare with them.
    pub fn embedded_by(&self, model: &CrossModal) -> bool {
        self.embedded() && self.embedded_with == model.id()
    }

    /// Bytes the library takes on disk.
    pub fn encoded_len(&self) -> usize {
        encode(self).len()
    }

    /// The pieces as identification ranks them by the chroma.
    pub fn catalogue(&self) -> super::Catalogue<'_> {
        super::Catalogue::new(self.pieces.iter().map(|p| p.snippets.as_slice()))
    }

    /// The pieces as identification ranks them by the cross-modal embedding: shortlisted by the
    /// snippet index where the file holds one that reads, else by the coarse alignment, with why
    /// where the index does not read (the search is then slower, not worse).
    pub fn crossmodal_catalogue(
        &self,
    ) -> (super::Catalogue<'_, EMBEDDING_DIM>, Option<IndexError>) {
        let music = self.embedding_lists();
        match self.neighbours() {
            Some(Ok(index)) => (super::Catalogue::with_shortlist(music, index), None),
            Some(Err(e)) => (super::Catalogue::new(music), Some(e)),
            None => (super::Catalogue::new(music), None),
        }
    }

    /// Drops the pieces whose file is `target` or lies under it; returns what was dropped.
    pub fn remove(&mut self, target: &Path) -> Vec<PathBuf> {
        let target = std::path::absolute(target).unwrap_or_else(|_| target.to_owned());
        let mut gone = Vec::new();
        self.pieces.retain(|p| {
            let hit = p.path.starts_with(&target);
            if hit {
                gone.push(p.path.clone());
            }
            !hit
        });
        if !gone.is_empty() {
            self.neighbours.clear();
        }
        gone
    }
}

fn encode(library: &Library) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    put_u64(&mut out, library.embedded_with);
    put_u64(&mut out, library.pieces.len() as u64);
    for p in &library.pieces {
        put_bytes(&mut out, p.path.as_os_str().as_encoded_bytes());
        out.extend_from_slice(&p.stamp.to_bytes());
        out.extend_from_slice(&p.duration_s.to_le_bytes());
        put_u64(&mut out, p.snippets.len() as u64);
        for x in p.snippets.iter().flatten() {
            out.extend_from_slice(&x.to_le_bytes());
        }
        put_u64(&mut out, p.embeddings.len() as u64);
        for x in p.embeddings.iter().flatten() {
            out.extend_from_slice(&x.to_le_bytes());
        }
        put_u64(&mut out, p.measures.len() as u64);
        for (start, number) in &p.measures {
            out.extend_from_slice(&start.to_le_bytes());
            put_bytes(&mut out, number.as_bytes());
        }
    }
    put_bytes(&mut out, &library.neighbours);
    out
}

fn put_u64(out: &mut Vec<u8>, x: u64) {
    out.extend_from_slice(&x.to_le_bytes());
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_u64(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Reads what [`encode`] wrote.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], &'static str> {
        if self.0.len() < n {
            return Err("it ends early");
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], &'static str> {
        Ok(self.take(N)?.try_into().expect("N bytes"))
    }

    /// A count of items of `item_bytes` each that must fit in what is left.
    fn count(&mut self, item_bytes: usize) -> Result<usize, &'static str> {
        let n = usize::try_from(u64::from_le_bytes(self.array()?)).map_err(|_| "a bad count")?;
        if n.saturating_mul(item_bytes) > self.0.len() {
            return Err("a count larger than the file");
        }
        Ok(n)
    }

    fn bytes(&mut self) -> Result<&'a [u8], &'static str> {
        let n = self.count(1)?;
        self.take(n)
    }

    fn f64(&mut self) -> Result<f64, &'static str> {
        Ok(f64::from_le_bytes(self.array()?))
    }

    /// A counted list of unit vectors of `N` values.
    fn vectors<const N: usize>(&mut self) -> Result<Vec<[f32; N]>, &'static str> {
        let n = self.count(N * 4)?;
        (0..n)
            .map(|_| {
                let mut s = [0f32; N];
                for x in &mut s {
                    *x = f32::from_le_bytes(self.array()?);
                }
                Ok(s)
            })
            .collect()
    }
}

fn decode(bytes: &[u8]) -> Result<Library, &'static str> {
    let (rest, version) = [(MAGIC, 4), (MAGIC_V3, 3), (MAGIC_V2, 2), (MAGIC_V1, 1)]
        .into_iter()
        .find_map(|(magic, v)| Some((bytes.strip_prefix(magic)?, v)))
        .ok_or("no Segno library header")?;
    let mut r = Reader(rest);
    let embedded_with = if version >= 4 {
        u64::from_le_bytes(r.array()?)
    } else {
        0
    };
    let count = r.count(8)?;
    let mut pieces = Vec::with_capacity(count);
    for _ in 0..count {
        let path = std::str::from_utf8(r.bytes()?)
            .map_err(|_| "a path that is not text")?
            .into();
        let stamp = Stamp::from_bytes(&r.array()?);
        let duration_s = r.f64()?;
        let snippets = r.vectors()?;
        let embeddings = if version >= 2 {
            r.vectors::<EMBEDDING_DIM>()?
        } else {
            Vec::new()
        };
        let m = r.count(16)?;
        let measures = (0..m)
            .map(|_| {
                let start = r.f64()?;
                let number = String::from_utf8_lossy(r.bytes()?).into_owned();
                Ok((start, number))
            })
            .collect::<Result<_, &'static str>>()?;
        pieces.push(Piece {
            path,
            stamp,
            duration_s,
            snippets,
            embeddings,
            measures,
        });
    }
    let neighbours = if version >= 3 {
        r.bytes()?.to_vec()
    } else {
        Vec::new()
    };
    if !r.0.is_empty() {
        return Err("bytes after its last piece");
    }
    Ok(Library {
        pieces,
        neighbours,
        embedded_with,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn piece(name: &str) -> Piece {
        Piece {
            path: PathBuf::from(format!("/scores/{name}.mid")),
            stamp: Stamp {
                len: 10,
                modified_ns: 20,
            },
            duration_s: 3.5,
            snippets: vec![[0.5; 12], [0.25; 12]],
            embeddings: vec![[0.125; EMBEDDING_DIM]; 3],
            measures: vec![(0.0, "1".into()), (2.0, "2a".into())],
        }
    }

    /// `lib` as a file of an older version, `magic`, would hold it up to its snippet index:
    /// without the model's id.
    fn older(lib: &Library, magic: &[u8; 8]) -> Vec<u8> {
        let mut bytes = encode(lib);
        bytes[..8].copy_from_slice(magic);
        bytes.drain(8..16);
        bytes
    }

    #[test]
    fn a_library_reads_back_what_it_wrote_and_rejects_damage() {
        let mut lib = Library::new(vec![piece("a"), piece("b")]);
        lib.neighbours = vec![1, 2, 3];
        lib.embedded_with = 0x1234_5678_9abc_def0;
        let bytes = encode(&lib);
        assert_eq!(decode(&bytes), Ok(lib.clone()));
        assert!(decode(&bytes[..bytes.len() - 1]).is_err());
        assert!(decode(&bytes[1..]).is_err());
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode(&longer).is_err());
    }

    #[test]
    fn a_library_of_version_1_is_read_without_embeddings() {
        let mut lib = Library::new(vec![piece("a")]);
        lib.pieces[0].embeddings.clear();
        let mut v1 = older(&lib, MAGIC_V1);
        // Nor the snippet index's bytes at the end.
        v1.truncate(v1.len() - 8);
        // Version 1 has no embedding count after the snippets.
        let at = 8 + 8 + 8 + "/scores/a.mid".len() + 24 + 8 + 8 + 2 * 12 * 4;
        v1.drain(at..at + 8);
        assert_eq!(decode(&v1), Ok(lib));
    }

    #[test]
    fn a_library_of_version_2_is_read_without_its_snippet_index() {
        let lib = Library::new(vec![piece("a")]);
        let mut v2 = older(&lib, MAGIC_V2);
        v2.truncate(v2.len() - 8);
        assert_eq!(decode(&v2), Ok(lib));
    }

    #[test]
    fn a_library_of_version_3_is_read_as_embedded_by_an_unknown_model() {
        let mut lib = Library::new(vec![piece("a")]);
        lib.neighbours = vec![4, 5];
        lib.embedded_with = 7;
        let v3 = decode(&older(&lib, MAGIC_V3)).unwrap();
        assert_eq!(
            v3,
            Library {
                embedded_with: 0,
                ..lib
            }
        );
    }

    #[test]
    fn an_index_that_does_not_read_is_built_again() {
        let mut lib = Library::new(vec![piece("a"), piece("b")]);
        lib.neighbours = vec![1, 2, 3];
        assert!(matches!(lib.neighbours(), Some(Err(_))));
        lib.index().unwrap();
        let index = lib.neighbours().expect("built").expect("reads");
        assert_eq!(index.len(), 6);
    }

    proptest::proptest! {
        /// A library file damaged anywhere is an error, never a panic or a huge allocation.
        #[test]
        fn damaged_files_are_errors_not_panics(
            at in 0usize..400,
            byte in proptest::prelude::any::<u8>(),
            cut in 0usize..400,
        ) {
            let mut bytes = encode(&Library::new(vec![piece("a"), piece("b")]));
            let at = at % bytes.len();
            bytes[at] = byte;
            bytes.truncate(bytes.len() - cut % bytes.len());
            let _ = decode(&bytes);
        }
    }

    #[test]
    fn measures_and_titles_read_from_the_piece() {
        let p = piece("minuet");
        assert_eq!(p.title(), "minuet");
        assert_eq!(p.measure_at(0.5), Some("1"));
        assert_eq!(p.measure_at(2.0), Some("2a"));
    }
}
