//! `segno library`: the score library that `segno identify` names pieces from.

use std::path::PathBuf;

use anyhow::Context;
use segno::identify::crossmodal::CrossModal;
use segno::identify::{library::default_path, Library};
use segno::nn::Device;
use segno::resources::Resources;

/// Which library file.
#[derive(clap::Args)]
pub struct LibraryPath {
    /// The library file (default: library.segnolib in Segno's data folder, $SEGNO_DATA_DIR or
    /// ~/.local/share/segno).
    #[arg(long)]
    library: Option<PathBuf>,
}

impl LibraryPath {
    pub fn path(&self) -> anyhow::Result<PathBuf> {
        self.library
            .clone()
            .or_else(default_path)
            .context("no home folder to keep the library in: pass --library FILE")
    }

    pub fn open(&self) -> anyhow::Result<(PathBuf, Library)> {
        let path = self.path()?;
        let library = Library::open(&path)?;
        Ok((path, library))
    }
}

#[derive(clap::Subcommand)]
pub enum LibraryCommand {
    /// Index the scores (MIDI, MusicXML, .mxl) in these folders or files; again later, only what
    /// is new or changed is read, and pieces whose files are gone are dropped.
    Add {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        library: LibraryPath,
    },
    /// List the pieces.
    List {
        #[command(flatten)]
        library: LibraryPath,
    },
    /// Drop these score files, or every piece under these folders.
    Remove {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        library: LibraryPath,
    },
}

pub fn run(command: LibraryCommand) -> anyhow::Result<()> {
    match command {
        LibraryCommand::Add { paths, library } => add(&paths, &library),
        LibraryCommand::List { library } => {
            let (path, lib) = library.open()?;
            let index = match lib.neighbours() {
                Some(Ok(index)) => format!("; {} snippets indexed", index.len()),
                Some(Err(e)) => format!(
                    "; {e} (a search aligns every piece roughly instead; `segno library add` on any folder of it builds the index again)"
                ),
                None if lib.embedded() => String::new(),
                None => "; not every piece is embedded: `segno identify` compares by chroma".into(),
            };
            println!("{}: {} pieces{index}", path.display(), lib.pieces.len());
            for p in &lib.pieces {
                let missing = if p.path.is_file() {
                    ""
                } else {
                    "  (file gone)"
                };
                println!(
                    "{}\t{}\t{}{missing}",
                    p.title(),
                    super::themes::clock(p.duration_s),
                    p.path.display()
                );
            }
            Ok(())
        }
        LibraryCommand::Remove { paths, library } => {
            let (path, mut lib) = library.open()?;
            for target in &paths {
                let gone = lib.remove(target);
                if gone.is_empty() {
                    eprintln!("{}: no piece of the library is there", target.display());
                }
                for g in gone {
                    println!("removed {}", g.display());
                }
            }
            lib.save(&path)?;
            Ok(())
        }
    }
}

fn add(paths: &[PathBuf], library: &LibraryPath) -> anyhow::Result<()> {
    let (path, mut lib) = library.open()?;
    let files = Library::find_scores(paths)?;
    anyhow::ensure!(
        !files.is_empty(),
        "no scores (.mid, .midi, .musicxml, .xml, .mxl) in {}",
        paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let bar = indicatif::ProgressBar::new(files.len() as u64).with_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} scores  {msg}")
            .expect("valid template"),
    );
    // The cross-modal embedding is what `segno identify` ranks by; without its model the
    // library still serves the chroma descriptor.
    let mut model = CrossModal::installed(&Resources::default(), Device::Cpu)
        .map_err(|e| {
            eprintln!(
                "note: {e}; the pieces are indexed for `segno identify --descriptor chroma` only"
            )
        })
        .ok();
    let report = lib.add(&files, model.as_mut(), |f| {
        bar.inc(1);
        bar.set_message(
            f.file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into()),
        );
    })?;
    bar.finish_and_clear();
    for e in &report.failed {
        eprintln!("skipped: {e}");
    }
    for gone in &report.removed {
        eprintln!("dropped (file gone): {}", gone.display());
    }
    // Saving builds the snippet index after any change: about 20 s for a thousand pieces.
    let spinner = indicatif::ProgressBar::new_spinner()
        .with_message("indexing the pieces' snippets for the search");
    spinner.enable_steady_tick(std::time::Duration::from_millis(100));
    lib.save(&path)?;
    spinner.finish_and_clear();
    println!(
        "{}: {} added, {} updated, {} unchanged ({} of them newly embedded), {} dropped, {} skipped; {} pieces",
        path.display(),
        report.added.len(),
        report.updated.len(),
        report.unchanged,
        report.embedded,
        report.removed.len(),
        report.failed.len(),
        lib.pieces.len()
    );
    Ok(())
}
