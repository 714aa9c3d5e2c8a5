//! Benchmark cases on disk (`../shared/benchmark/<split>/<case_id>/`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::score::{Score, ScoreError};

#[derive(Debug, Clone)]
pub struct Case {
    pub id: String,
    pub score: PathBuf,
    pub performance: PathBuf,
    /// The piece performed ([`PieceNames`]).
    pub piece: String,
    /// `(score_time_s, perf_time_s)`, both strictly increasing.
    pub truth: Vec<(f64, f64)>,
}

impl Case {
    /// ASAP cases have beat-level truth, Vienna 4x22 note-level.
    pub fn source(&self) -> &'static str {
        if self.id.starts_with("vienna") {
            "vienna4x22"
        } else {
            "asap"
        }
    }

    /// The composer, lower case, as the case's id names it (`asap_chopin_…`, `vienna_mozart_…`).
    pub fn composer(&self) -> &str {
        self.id.split('_').nth(1).unwrap_or("")
    }

    /// The score, with the bars and repeats of the MusicXML beside it (`<id>.score.mxl`) where
    /// both lay out the same bars ([`Score::adopt_measures`]): the score MIDI, whose time the
    /// truth is on, has its repeats written out, and only the MusicXML says where they are
    /// ([`Score::branches`]).
    pub fn load_score(&self) -> Result<Score, ScoreError> {
        let mut score = Score::load(&self.score)?;
        if let Ok(written) = Score::load(&self.score.with_extension("mxl")) {
            score.adopt_measures(&written);
        }
        Ok(score)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("{path}: cannot read: {cause}")]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{path}: line {line}: {message}")]
    Truth {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{path}: no benchmark cases here (expected folders <case_id>/ with <case_id>.score.mid, .perf.mid and .truth.csv)")]
    NoCases { path: PathBuf },
}

/// Every case folder under `dir` that has a score, a performance and a truth table.
pub fn load_cases(dir: &Path) -> Result<Vec<Case>, CaseError> {
    let io = |cause| CaseError::Io {
        path: dir.into(),
        cause,
    };
    let mut ids: Vec<String> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    ids.sort();
    let names = PieceNames::beside(dir);
    let mut cases = Vec::new();
    for id in ids {
        let folder = dir.join(&id);
        let (score, performance, truth) = (
            folder.join(format!("{id}.score.mid")),
            folder.join(format!("{id}.perf.mid")),
            folder.join(format!("{id}.truth.csv")),
        );
        if score.is_file() && performance.is_file() && truth.is_file() {
            cases.push(Case {
                truth: read_truth(&truth)?,
                piece: names.of(&id),
                id,
                score,
                performance,
            });
        }
    }
    if cases.is_empty() {
        return Err(CaseError::NoCases { path: dir.into() });
    }
    Ok(cases)
}

/// The piece each case performs, by case id: its composer and title where a manifest beside the
/// split folder names them (`*.csv` with `case_id`, `composer` and `piece` columns, as
/// `../shared/benchmark` has), else the id less its last part (`…_<performer>`). Score files
/// cannot say it: ASAP writes a score MIDI per performance, with the repeats as that pianist
/// played them, so two performances of one sonata movement may have different score files.
#[derive(Debug, Default)]
pub struct PieceNames(HashMap<String, String>);

impl PieceNames {
    /// From the manifests beside `split` (none readable: every piece from its case id).
    pub fn beside(split: &Path) -> Self {
        let mut names = HashMap::new();
        let parent = split.parent().unwrap_or(Path::new("."));
        let csvs = std::fs::read_dir(parent).into_iter().flatten().flatten();
        for path in csvs
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        {
            if let Ok(text) = std::fs::read_to_string(&path) {
                names.extend(manifest_rows(&text));
            }
        }
        Self(names)
    }

    /// The piece case `id` performs.
    pub fn of(&self, id: &str) -> String {
        self.0.get(id).cloned().unwrap_or_else(|| {
            id.rsplit_once('_')
                .map_or(id, |(piece, _)| piece)
                .to_owned()
        })
    }
}

/// (case id, "composer: piece") per row of a manifest; nothing if it lacks those columns.
fn manifest_rows(text: &str) -> Vec<(String, String)> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split(',').collect();
    let column = |name| header.iter().position(|h| h.trim() == name);
    let (Some(id), Some(composer), Some(piece)) =
        (column("case_id"), column("composer"), column("piece"))
    else {
        return Vec::new();
    };
    lines
        .filter_map(|line| {
            // Quoted fields (a comment with commas) come after these columns, if at all.
            let fields: Vec<&str> = line.split(',').collect();
            let field = |k: usize| fields.get(k).filter(|f| !f.starts_with('"'));
            Some((
                field(id)?.to_string(),
                format!("{}: {}", field(composer)?, field(piece)?),
            ))
        })
        .collect()
}

/// Piece number per case: cases of the same piece ([`Case::piece`]), or with identical score
/// files, are one piece.
pub fn pieces(cases: &[Case]) -> Result<Vec<usize>, CaseError> {
    let (mut by_name, mut by_bytes) = (HashMap::new(), HashMap::new());
    let mut count = 0;
    cases
        .iter()
        .map(|c| {
            let bytes = std::fs::read(&c.score).map_err(|cause| CaseError::Io {
                path: c.score.clone(),
                cause,
            })?;
            let piece = match (by_name.get(c.piece.as_str()), by_bytes.get(&bytes)) {
                (Some(&p), _) | (None, Some(&p)) => p,
                (None, None) => {
                    count += 1;
                    count - 1
                }
            };
            by_name.insert(c.piece.as_str(), piece);
            by_bytes.insert(bytes, piece);
            Ok(piece)
        })
        .collect()
}

/// Reads `score_time_s,perf_time_s[,…]` rows after a header line.
pub fn read_truth(path: &Path) -> Result<Vec<(f64, f64)>, CaseError> {
    let text = std::fs::read_to_string(path).map_err(|cause| CaseError::Io {
        path: path.into(),
        cause,
    })?;
    let mut rows = Vec::new();
    for (k, line) in text
        .lines()
        .enumerate()
        .skip(1)
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let bad = |message: String| CaseError::Truth {
            path: path.into(),
            line: k + 1,
            message,
        };
        let mut cols = line.split(',');
        let mut num = |name: &str| -> Result<f64, CaseError> {
            let v = cols
                .next()
                .ok_or_else(|| bad(format!("missing column {name}")))?;
            v.trim()
                .parse()
                .map_err(|_| bad(format!("{name} '{v}' is not a number")))
        };
        rows.push((num("score_time_s")?, num("perf_time_s")?));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(dir: &Path, id: &str, piece: &str, score: &[u8]) -> Case {
        let path = dir.join(format!("{id}.score.mid"));
        std::fs::write(&path, score).unwrap();
        Case {
            id: id.to_owned(),
            score: path,
            performance: PathBuf::new(),
            piece: piece.to_owned(),
            truth: Vec::new(),
        }
    }

    #[test]
    fn pieces_are_named_by_the_manifest_beside_the_split_or_by_the_case_id() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(
            root.path().join("train_manifest.csv"),
            "case_id,piece,composer,performer,truth_check\n\
             asap_liszt_ballade_2_kim,Ballade 2,Liszt,Kim,passed\n\
             asap_liszt_ballade_2_lee_h01,Ballade 2,Liszt,LEE_H01,\"out of [0.1,12.0]\"\n",
        )
        .unwrap();
        std::fs::write(root.path().join("notes.csv"), "a,b\n1,2\n").unwrap();
        let names = PieceNames::beside(&root.path().join("train"));
        assert_eq!(names.of("asap_liszt_ballade_2_kim"), "Liszt: Ballade 2");
        assert_eq!(names.of("asap_liszt_ballade_2_lee_h01"), "Liszt: Ballade 2");
        assert_eq!(
            names.of("vienna_mozart_k331_1st_mov_p07"),
            "vienna_mozart_k331_1st_mov"
        );
        assert_eq!(names.of("mine"), "mine");
    }

    #[test]
    fn performances_of_one_piece_are_one_piece_even_with_other_score_files() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            case(dir.path(), "b_deturck", "Beethoven: 24-1", b"with repeats"),
            case(dir.path(), "p_guo", "Prokofiev: Toccata", b"toccata"),
            case(dir.path(), "b_lou", "Beethoven: 24-1", b"without repeats"),
            case(dir.path(), "mine", "mine", b"toccata"),
            case(
                dir.path(),
                "s_dupree",
                "Schumann: Toccata",
                b"another toccata",
            ),
        ];
        assert_eq!(pieces(&cases).unwrap(), [0, 1, 0, 1, 2]);
    }
}
