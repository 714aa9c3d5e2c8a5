//! `segno identify`: which piece of the library a recording plays, or which recordings play a
//! score.

use std::path::PathBuf;

use anyhow::Context as _;

use segno::audio::decode_file;
use segno::features::extract_with_semitones;
use segno::identify::crossmodal::CrossModal;
use segno::identify::{self, Descriptor, Fit, Library, Method, Piece, Query};
use segno::nn::Device;
use segno::resources::Resources;
use segno::score::Score;
use segno::stamp::Stamp;
use segno::themes::RecordingChroma;

use super::library::LibraryPath;
use super::themes::{clock, load_folder, CacheArgs};
use segno::themes::ChromaExtractor;

#[derive(clap::Args)]
pub struct IdentifyArgs {
    /// A recording (or a fragment of one): which pieces of the library it plays.
    #[arg(long, required_unless_present = "score", conflicts_with = "score")]
    audio: Option<PathBuf>,
    /// A score (MIDI, MusicXML, .mxl): which of --recordings play it.
    #[arg(long, requires = "recordings")]
    score: Option<PathBuf>,
    /// Folder of recordings to rank for --score (WAV, FLAC, MP3, Ogg; subfolders too).
    #[arg(long, requires = "score")]
    recordings: Option<PathBuf>,
    /// How many to list.
    #[arg(long, default_value_t = 5)]
    top: usize,
    /// alignment (subsequence DTW of the snippet sequences) or voting (each snippet votes for
    /// the piece of its nearest; seed 002's baseline).
    #[arg(long, default_value_t = Method::Alignment)]
    method: Method,
    /// What recordings and scores are compared by: crossmodal (seed 003's learned embedding,
    /// models/crossmodal_*.onnx) or chroma (chroma statistics, no model). Without the model, or
    /// with a library indexed without it, chroma is used and Segno says so.
    #[arg(long, default_value_t = Descriptor::CrossModal)]
    descriptor: Descriptor,
    #[command(flatten)]
    library: LibraryPath,
    #[command(flatten)]
    cache: CacheArgs,
}

pub fn run(args: IdentifyArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.top > 0, "--top 0: list at least one");
    match (&args.audio, &args.score, &args.recordings) {
        (Some(audio), _, _) => audio_to_score(audio, &args),
        (None, Some(score), Some(recordings)) => score_to_audio(score, recordings, &args),
        _ => unreachable!("clap requires --audio, or --score with --recordings"),
    }
}

fn audio_to_score(audio: &std::path::Path, args: &IdentifyArgs) -> anyhow::Result<()> {
    let (path, library) = args.library.open()?;
    anyhow::ensure!(
        !library.pieces.is_empty(),
        "{}: the library is empty; add scores with `segno library add FOLDER`",
        path.display()
    );
    let decoded = decode_file(audio)?;
    decoded.check(audio)?;
    let model = crossmodal_model(args.descriptor).filter(|model| {
        let embedded = library.embedded_by(model);
        if !embedded {
            let why = if library.embedded() {
                "its pieces were embedded by another version of the cross-modal model"
            } else {
                "some pieces were indexed without the cross-modal model"
            };
            eprintln!(
                "note: {}: {why}; comparing by chroma. Run `segno library add` on its folders again, with the models in place, to embed them",
                path.display()
            );
        }
        embedded
    });
    let (descriptor, fits, confidence) = match model {
        Some(mut model) => {
            let (catalogue, unread) = library.crossmodal_catalogue();
            if let Some(e) = unread {
                eprintln!(
                    "note: {}: {e}; aligning every piece roughly instead, which is slower. `segno library add` on any folder of it builds the index again",
                    path.display()
                );
            }
            let (_, semitones) = extract_with_semitones(&decoded.samples, decoded.sample_rate);
            let (fits, confidence) = identify::identify_crossmodal(
                &semitones,
                &library,
                &catalogue,
                &mut model,
                args.method,
            )?;
            (Descriptor::CrossModal, fits, confidence)
        }
        None => {
            let chroma = RecordingChroma::from_audio(&decoded.samples, decoded.sample_rate);
            let (query, fits) = identify::identify(&chroma, &library, args.method);
            let confidence = identify::confidence(&query, &fits, &library);
            (Descriptor::Chroma, fits, confidence)
        }
    };
    if args.method != Method::Voting {
        say_verdict(confidence, descriptor.min_confidence(), &fits, &library);
    }
    println!("rank\tcost\tfrom\tto\tpiece\tfile");
    for (k, fit) in fits.iter().take(args.top).enumerate() {
        let piece = &library.pieces[fit.piece];
        let (from, to) = span(args.method, piece, fit);
        println!(
            "{}\t{:.3}\t{from}\t{to}\t{}\t{}",
            k + 1,
            fit.cost,
            piece.title(),
            piece.path.display()
        );
    }
    Ok(())
}

/// The cross-modal pathways where `descriptor` asks for them; `None`, with a note of why, where
/// the chroma must do.
fn crossmodal_model(descriptor: Descriptor) -> Option<CrossModal> {
    if descriptor != Descriptor::CrossModal {
        return None;
    }
    CrossModal::installed(&Resources::default(), Device::Cpu)
        .map_err(|e| eprintln!("note: {e}; comparing by chroma"))
        .ok()
}

/// The piece named, or "not in your library" when the confidence is too low to name one.
fn say_verdict(confidence: f32, bar: f32, fits: &[Fit], library: &Library) {
    match fits.first() {
        Some(best) if confidence >= bar => {
            let piece = &library.pieces[best.piece];
            println!(
                "{} (confidence {confidence:.2}), from {}",
                piece.title(),
                place(piece, best.start_s)
            );
        }
        _ => println!(
            "not in your library: no piece matches well enough (confidence {:.2}; the nearest are listed below)",
            confidence.max(0.0)
        ),
    }
}

/// Where a fit starts and ends in its piece; votes say nowhere.
fn span(method: Method, piece: &Piece, fit: &Fit) -> (String, String) {
    match method {
        Method::Voting => ("–".into(), "–".into()),
        _ => (place(piece, fit.start_s), place(piece, fit.end_s)),
    }
}

/// A time in a piece, as its measure and clock time at the written tempo.
fn place(piece: &Piece, seconds: f64) -> String {
    match piece.measure_at(seconds) {
        Some(m) => format!("m. {m} ({})", clock(seconds)),
        None => clock(seconds),
    }
}

fn score_to_audio(
    score_path: &std::path::Path,
    recordings: &std::path::Path,
    args: &IdentifyArgs,
) -> anyhow::Result<()> {
    let score = Score::load(score_path)?;
    let stamp = Stamp::of(score_path).unwrap_or(Stamp {
        len: 0,
        modified_ns: 0,
    });
    let piece = Piece::from_score(score_path.to_owned(), stamp, &score);
    let mut fits: Vec<(Fit, PathBuf)> = match crossmodal_model(args.descriptor) {
        Some(mut model) => {
            let music = model.score(&score, piece.duration_s)?;
            rank_recordings(recordings, |samples, rate| {
                let (_, semitones) = extract_with_semitones(samples, rate);
                Ok(fit_one(args.method, &model.query(&semitones)?, &music))
            })?
        }
        None => load_folder(recordings, &mut ChromaExtractor::Classical, &args.cache)?
            .into_iter()
            .filter_map(|(path, chroma)| {
                fit_one(args.method, &Query::from_chroma(&chroma), &piece.snippets)
                    .map(|f| (f, path))
            })
            .collect(),
    };
    fits.sort_by(|a, b| a.0.cost.total_cmp(&b.0.cost));
    println!("rank\tcost\tfrom\tto\trecording");
    for (k, (fit, path)) in fits.iter().take(args.top).enumerate() {
        let (from, to) = span(args.method, &piece, fit);
        println!(
            "{}\t{:.3}\t{from}\t{to}\t{}",
            k + 1,
            fit.cost,
            path.display()
        );
    }
    Ok(())
}

/// How one recording's query fits a piece's snippets, by `method`.
fn fit_one<const N: usize>(method: Method, query: &Query<N>, music: &[[f32; N]]) -> Option<Fit> {
    match method {
        Method::Alignment | Method::FullAlignment => identify::rank::fit(query, music, 0),
        Method::Voting => identify::rank::by_voting(query, [music]).pop(),
    }
}

/// The recordings under `dir` that `fit` fits (given each one's mono samples and rate), with a
/// progress bar; a recording that cannot be read is reported and left out.
fn rank_recordings(
    dir: &std::path::Path,
    mut fit: impl FnMut(&[f32], u32) -> anyhow::Result<Option<Fit>>,
) -> anyhow::Result<Vec<(Fit, PathBuf)>> {
    let paths = segno::themes::find_recordings(dir)
        .with_context(|| format!("{}: cannot list the recordings", dir.display()))?;
    anyhow::ensure!(
        !paths.is_empty(),
        "{}: no recordings ({}) in this folder or below",
        dir.display(),
        segno::themes::RECORDING_EXTENSIONS.join(", ")
    );
    let bar = indicatif::ProgressBar::new(paths.len() as u64).with_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} recordings  {msg}")
            .expect("valid template"),
    );
    let mut out = Vec::new();
    for path in paths {
        bar.set_message(
            path.file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into()),
        );
        let fitted = decode_file(&path)
            .map_err(anyhow::Error::from)
            .and_then(|d| {
                d.check(&path)?;
                fit(&d.samples, d.sample_rate)
            });
        match fitted {
            Ok(Some(f)) => out.push((f, path)),
            Ok(None) => {}
            Err(e) => bar.suspend(|| eprintln!("skipped: {e:#}")),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    anyhow::ensure!(!out.is_empty(), "none of the recordings could be read");
    Ok(out)
}
