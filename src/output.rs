//! Output files, written so that nothing is lost: never over an input, into a partial file
//! beside the target that is renamed over it only when complete, and opened before the work
//! starts, so a path that cannot be written is found at once and not after an hour of aligning.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("{out}: this is also the input {role}; give another output path so the input is not overwritten")]
    WouldOverwriteInput { out: PathBuf, role: &'static str },
    #[error("{path}: cannot write: {cause}")]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
}

/// What is kept of an output that was not completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unfinished {
    /// Removed: half a WAV or a table is of no use.
    Remove,
    /// Kept under its partial name: rows written as it went (`positions.csv`) are worth keeping.
    Keep,
}

/// A file being written to its [`partial_path`], renamed to `target` by [`OutputFile::commit`].
pub struct OutputFile {
    target: PathBuf,
    partial: PathBuf,
    writer: Option<BufWriter<File>>,
    unfinished: Unfinished,
}

impl OutputFile {
    /// Opens the partial file for writing, after checking that `target` is none of `inputs`
    /// (each named by its role: `--score`, `--audio`).
    pub fn create(
        target: &Path,
        inputs: &[(&'static str, &Path)],
        unfinished: Unfinished,
    ) -> Result<Self, OutputError> {
        refuse_inputs(target, inputs)?;
        let partial = partial_path(target);
        let file = File::create(&partial).map_err(|cause| OutputError::Io {
            path: target.to_owned(),
            cause,
        })?;
        Ok(Self {
            target: target.to_owned(),
            partial,
            writer: Some(BufWriter::new(file)),
            unfinished,
        })
    }

    pub fn writer(&mut self) -> &mut BufWriter<File> {
        self.writer.as_mut().expect("present until commit")
    }

    pub fn target(&self) -> &Path {
        &self.target
    }

    /// An I/O error, named by the file it happened on.
    pub fn error(&self, cause: std::io::Error) -> OutputError {
        OutputError::Io {
            path: self.target.clone(),
            cause,
        }
    }

    /// Changes what becomes of the partial file if this is never committed.
    pub fn set_unfinished(&mut self, unfinished: Unfinished) {
        self.unfinished = unfinished;
    }

    /// Flushes, syncs and renames the partial file over the target.
    pub fn commit(mut self) -> Result<(), OutputError> {
        let writer = self.writer.take().expect("present until commit");
        let file = writer
            .into_inner()
            .map_err(|e| self.error(e.into_error()))?;
        file.sync_all().map_err(|e| self.error(e))?;
        drop(file);
        std::fs::rename(&self.partial, &self.target).map_err(|e| self.error(e))
    }
}

impl Drop for OutputFile {
    fn drop(&mut self) {
        if let Some(mut w) = self.writer.take() {
            let _ = w.flush();
            if self.unfinished == Unfinished::Remove {
                let _ = std::fs::remove_file(&self.partial);
            }
        }
    }
}

/// `<target>.<process id>.partial`, beside the target so that the final rename stays on one
/// file system; the process id keeps two runs writing the same target from writing into one
/// partial file.
pub fn partial_path(target: &Path) -> PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{}.partial", std::process::id()));
    target.with_file_name(name)
}

/// Refuses an output path that names one of the inputs (also through another spelling of the
/// path or a link).
pub fn refuse_inputs(out: &Path, inputs: &[(&'static str, &Path)]) -> Result<(), OutputError> {
    let Ok(out_real) = out.canonicalize() else {
        // The output does not exist yet, so it is no input.
        return Ok(());
    };
    for (role, input) in inputs {
        if input.canonicalize().is_ok_and(|i| i == out_real) {
            return Err(OutputError::WouldOverwriteInput {
                out: out.to_owned(),
                role,
            });
        }
    }
    Ok(())
}

/// Writes `bytes` to `target` through a partial file.
pub fn write_file(target: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    let mut out = OutputFile::create(target, &[], Unfinished::Remove)?;
    out.writer().write_all(bytes).map_err(|e| out.error(e))?;
    out.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    #[test]
    fn an_input_is_never_the_output() {
        let d = dir();
        let score = d.path().join("score.musicxml");
        std::fs::write(&score, "<score/>").unwrap();
        let other_spelling = d.path().join(".").join("score.musicxml");
        let e = OutputFile::create(&other_spelling, &[("--score", &score)], Unfinished::Remove)
            .err()
            .expect("refused");
        assert!(e.to_string().contains("--score"), "{e}");
        assert_eq!(std::fs::read_to_string(&score).unwrap(), "<score/>");
    }

    #[test]
    fn the_target_is_replaced_only_when_complete() {
        let d = dir();
        let target = d.path().join("out.csv");
        std::fs::write(&target, "good").unwrap();
        let mut out = OutputFile::create(&target, &[], Unfinished::Remove).unwrap();
        out.writer().write_all(b"half").unwrap();
        drop(out);
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "good");
        assert!(!partial_path(&target).exists());
        let mut out = OutputFile::create(&target, &[], Unfinished::Keep).unwrap();
        out.writer().write_all(b"rows so far").unwrap();
        drop(out);
        assert_eq!(
            std::fs::read_to_string(partial_path(&target)).unwrap(),
            "rows so far"
        );
        write_file(&target, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
    }

    #[test]
    fn a_full_disk_names_the_file() {
        let d = dir();
        let target = d.path().join("positions.csv");
        let out = OutputFile::create(&target, &[], Unfinished::Remove).unwrap();
        let full = std::io::Error::from(std::io::ErrorKind::StorageFull);
        let e = out.error(full).to_string();
        assert!(
            e.starts_with(&format!("{}: cannot write", target.display())),
            "{e}"
        );
    }

    #[test]
    fn an_unwritable_place_is_found_before_the_work_and_named() {
        let d = dir();
        let target = d.path().join("no such folder").join("out.csv");
        let e = OutputFile::create(&target, &[], Unfinished::Remove)
            .err()
            .expect("refused");
        assert!(e.to_string().contains("no such folder"), "{e}");
    }
}
