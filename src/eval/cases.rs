//! Benchmark cases on disk (`../shared/benchmark/<split>/<case_id>/`).

use std::path::{Path, PathBuf};

use crate::score::{Score, ScoreError};

#[derive(Debug, Clone)]
pub struct Case {
    pub id: String,
    pub score: PathBuf,
    pub performance: PathBuf,
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

/// Piece number per case: cases whose score files are identical are one piece.
pub fn pieces(cases: &[Case]) -> Result<Vec<usize>, CaseError> {
    let mut seen: std::collections::HashMap<Vec<u8>, usize> = std::collections::HashMap::new();
    cases
        .iter()
        .map(|c| {
            let bytes = std::fs::read(&c.score).map_err(|cause| CaseError::Io {
                path: c.score.clone(),
                cause,
            })?;
            let next = seen.len();
            Ok(*seen.entry(bytes).or_insert(next))
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
