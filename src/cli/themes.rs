//! `segno themes`: which recordings play a theme, and where.

use std::path::{Path, PathBuf};

use anyhow::Context;
use segno::nn::{deep_chroma, Device};
use segno::resources::{cache_dir, Resources};
use segno::themes::{
    self, ChromaCache, ChromaExtractor, ChromaKind, Hit, RecordingChroma, TempoRange, Theme,
    Transpositions,
};

#[derive(clap::Args)]
pub struct ThemesArgs {
    /// The theme: a note list such as "G4 G4 G4 Eb4:2" (a length in quarter notes after a colon,
    /// a quarter by default), or a MIDI or MusicXML file whose top voice is the theme.
    #[arg(long)]
    query: String,
    /// Folder of recordings (WAV, FLAC, MP3, Ogg; subfolders too).
    #[arg(long)]
    recordings: PathBuf,
    /// How many recordings to list.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Also find the theme in another key (every transposition; the one used is shown).
    #[arg(long)]
    transpose: bool,
    /// The tempi the theme is tried at: written (its notes' lengths, and from half to twice that
    /// tempo) or any (also a quarter to four times). Default: written for a score, any for a
    /// note list, which has no tempo of its own.
    #[arg(long)]
    tempo: Option<TempoRange>,
    #[command(flatten)]
    chroma: ChromaArgs,
    #[command(flatten)]
    cache: CacheArgs,
}

/// Which chroma describes the recordings.
#[derive(clap::Args)]
pub struct ChromaArgs {
    /// classical (band power, summed by pitch class) or deep (seed 004's deep chroma network,
    /// models/deep_chroma.onnx, which keeps the melody and drops the accompaniment).
    #[arg(long, default_value_t = ChromaKind::Classical)]
    chroma: ChromaKind,
    /// The deep chroma's model (default: deep_chroma.onnx in Segno's models folder).
    #[arg(long, requires = "chroma")]
    chroma_model: Option<PathBuf>,
}

impl ChromaArgs {
    pub fn kind(&self) -> ChromaKind {
        self.chroma
    }

    /// The deep chroma's model file (`None` for the classical chroma, which has none).
    pub fn model(&self) -> anyhow::Result<Option<PathBuf>> {
        if self.chroma == ChromaKind::Classical {
            return Ok(None);
        }
        if let Some(p) = &self.chroma_model {
            return Ok(Some(p.clone()));
        }
        let found = Resources::default().model(deep_chroma::MODEL_FILE).with_context(|| {
            format!("no {} in Segno's models folder: train it with `cargo xtask models deep_chroma` or pass --chroma-model PATH", deep_chroma::MODEL_FILE)
        })?;
        Ok(Some(found))
    }

    pub fn extractor(&self) -> anyhow::Result<ChromaExtractor> {
        let model = self.model()?;
        Ok(ChromaExtractor::of(model.as_deref(), Device::from_env()?)?)
    }
}

/// Where recordings' chroma is kept between runs.
#[derive(clap::Args)]
pub struct CacheArgs {
    /// Keep the recordings' chroma here between runs (default: Segno's cache folder,
    /// $SEGNO_CACHE_DIR or ~/.cache/segno).
    #[arg(long, conflicts_with = "no_cache")]
    cache: Option<PathBuf>,
    /// Work out every recording's chroma afresh and keep nothing.
    #[arg(long)]
    no_cache: bool,
}

impl CacheArgs {
    /// The cache for `extractor`'s chroma, unless none is wanted or there is nowhere to keep it.
    pub fn chroma_cache(&self, extractor: &ChromaExtractor) -> Option<ChromaCache> {
        (!self.no_cache)
            .then(|| {
                self.cache
                    .clone()
                    .or_else(|| cache_dir(themes::CHROMA_CACHE))
            })
            .flatten()
            .map(|dir| ChromaCache::for_kind(dir, extractor.kind(), extractor.model_path()))
    }
}

pub fn run(args: ThemesArgs) -> anyhow::Result<()> {
    let mut theme = Theme::from_query(&args.query)?;
    theme.tempo = args.tempo.unwrap_or(theme.tempo);
    anyhow::ensure!(args.top > 0, "--top 0: list at least one recording");
    let mut extractor = args.chroma.extractor()?;
    let recordings = load_folder(&args.recordings, &mut extractor, &args.cache)?;
    let hits = themes::rank(
        &theme,
        recordings.iter().map(|(p, c)| (p.as_path(), c)),
        Transpositions::when(args.transpose),
    );
    print_hits(&hits[..hits.len().min(args.top)], &args);
    Ok(())
}

/// The chroma of every recording in `dir` and below (an error where there is none to read).
pub fn load_folder(
    dir: &Path,
    extractor: &mut ChromaExtractor,
    cache: &CacheArgs,
) -> anyhow::Result<Vec<(PathBuf, RecordingChroma)>> {
    let paths = themes::find_recordings(dir)
        .with_context(|| format!("{}: cannot list the recordings", dir.display()))?;
    anyhow::ensure!(
        !paths.is_empty(),
        "{}: no recordings ({}) in this folder or below",
        dir.display(),
        themes::RECORDING_EXTENSIONS.join(", ")
    );
    let cache = cache.chroma_cache(extractor);
    let recordings = load(&paths, extractor, cache.as_ref());
    anyhow::ensure!(
        !recordings.is_empty(),
        "none of the recordings could be read"
    );
    Ok(recordings)
}

/// Each recording's chroma, with a progress bar; a recording that cannot be read is reported
/// and left out.
fn load(
    paths: &[PathBuf],
    extractor: &mut ChromaExtractor,
    cache: Option<&ChromaCache>,
) -> Vec<(PathBuf, RecordingChroma)> {
    let bar = indicatif::ProgressBar::new(paths.len() as u64).with_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} recordings  {msg}")
            .expect("valid template"),
    );
    let mut out = Vec::with_capacity(paths.len());
    let mut cache_warned = false;
    for path in paths {
        bar.set_message(
            path.file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into()),
        );
        match themes::recording_chroma(path, extractor, cache) {
            Ok((chroma, unkept)) => {
                if let (Some(e), false) = (unkept, cache_warned) {
                    bar.suspend(|| eprintln!("warning: cannot keep the chroma in the cache: {e}"));
                    cache_warned = true;
                }
                out.push((path.clone(), chroma));
            }
            Err(e) => bar.suspend(|| eprintln!("skipped: {e}")),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    out
}

fn print_hits(hits: &[Hit], args: &ThemesArgs) {
    let shift = if args.transpose { "\ttransposed" } else { "" };
    println!("rank\tcost\tstart\tend{shift}\trecording");
    for (k, h) in hits.iter().enumerate() {
        let m = &h.found;
        let shift = if args.transpose {
            format!("\t{}", semitones(m.shift))
        } else {
            String::new()
        };
        println!(
            "{}\t{:.3}\t{}\t{}{shift}\t{}",
            k + 1,
            m.cost,
            clock(m.start_s),
            clock(m.end_s),
            h.recording.display()
        );
    }
}

/// Up by 0–11 semitones, said the nearer way round.
fn semitones(shift: u8) -> String {
    match shift {
        0 => "no".into(),
        s if s <= 6 => format!("+{s}"),
        s => format!("-{}", 12 - s),
    }
}

pub fn clock(seconds: f64) -> String {
    let m = (seconds / 60.0).floor();
    format!("{}:{:04.1}", m as u64, seconds - m * 60.0)
}
