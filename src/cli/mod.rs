//! Argument parsing and the subcommands; the work itself is in the `segno` library.

mod dataset;
mod eval;
mod follow;
mod identify;
mod library;
mod melody_dataset;
#[cfg(feature = "mic")]
mod mic;
mod themes;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Parser, Subcommand};
use rustysynth::SoundFont;
use segno::align::refine::RefineConfig;
use segno::audio::{decode_file, write_wav_into};
use segno::features::SAMPLE_RATE;
use segno::nn::Device;
use segno::output::{OutputFile, Unfinished};
use segno::position::csv::{write_notes, PositionWriter};
use segno::position::FollowState;
use segno::reference::Reference;
use segno::render::{find_soundfont, load_soundfont, render_score, RenderOptions};
use segno::resources::Resources;
use segno::score::Score;
use segno::similarity::{FrameMaker, Similarity, SimilarityPlan, SimilarityPlanner, Task};

#[derive(Parser)]
#[command(
    name = "segno",
    version,
    about = "Real-time score following for pianists"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Render a score to audio with a piano SoundFont.
    Render {
        #[arg(long)]
        score: PathBuf,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        soundfont: Option<PathBuf>,
        /// Hz, 16000–192000 (the synthesiser's range).
        #[arg(long, default_value_t = 44_100, allow_negative_numbers = true, value_parser = clap::value_parser!(u32).range(16_000..=192_000))]
        sample_rate: u32,
    },
    /// Follow a performance (audio file or microphone) through a score, in real time.
    Follow(follow::FollowArgs),
    /// Align a whole recording to a score offline.
    Align {
        #[arg(long)]
        score: PathBuf,
        #[arg(long)]
        audio: PathBuf,
        #[arg(long, default_value = "alignment.csv")]
        out: PathBuf,
        /// Also write one row per score note, in the played order, with its aligned onset and
        /// end in the recording, to this CSV.
        #[arg(long)]
        notes: Option<PathBuf>,
        #[arg(long)]
        soundfont: Option<PathBuf>,
        #[command(flatten)]
        similarity: SimilarityArgs,
    },
    /// Find the recordings in which a theme is played, and where.
    Themes(themes::ThemesArgs),
    /// Keep a library of scores for `segno identify`: add, list, remove.
    #[command(subcommand)]
    Library(library::LibraryCommand),
    /// Which piece of the library a recording plays, and where; or which recordings play a
    /// score.
    Identify(identify::IdentifyArgs),
    /// Run the benchmark on real performances (e.g. ../shared/benchmark/dev).
    Eval(Box<eval::EvalArgs>),
    /// Write training data for the learned similarity from the benchmark's train split.
    #[command(hide = true)]
    Dataset(dataset::TrainSplitArgs),
    /// Write training data for seed 004's deep chroma from the benchmark's train split.
    #[command(hide = true)]
    MelodyDataset(dataset::TrainSplitArgs),
    /// Show whether ONNX Runtime loads and which device a model runs on.
    Devices {
        /// auto, cpu, cuda, tensorrt, directml or coreml (default: $SEGNO_DEVICE, else auto).
        #[arg(long)]
        device: Option<Device>,
        /// A model to load and run once.
        #[arg(long)]
        model: Option<PathBuf>,
    },
}

pub fn run() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Render {
            score,
            out,
            soundfont,
            sample_rate,
        } => {
            let font_path = find_soundfont(soundfont.as_deref())?;
            let inputs = [("--score", score.as_path()), ("--soundfont", &font_path)];
            let wav = OutputFile::create(&out, &inputs, Unfinished::Remove)?;
            let score = Score::load(&score)?;
            let font = load_soundfont(&font_path)?;
            let audio = render_score(&font, &score, RenderOptions::piano(sample_rate))?;
            write_wav_into(wav, &audio, sample_rate)?;
            eprintln!(
                "wrote {} ({:.1} s at {sample_rate} Hz)",
                out.display(),
                audio.len() as f64 / f64::from(sample_rate)
            );
            Ok(())
        }
        Command::Follow(args) => follow::run(args),
        Command::Align {
            score,
            audio,
            out,
            notes,
            soundfont,
            similarity,
        } => align(
            &score,
            &audio,
            &out,
            notes.as_deref(),
            soundfont.as_deref(),
            &similarity.plan(Task::Align)?,
        ),
        Command::Themes(args) => themes::run(args),
        Command::Library(command) => library::run(command),
        Command::Identify(args) => identify::run(args),
        Command::Eval(args) => eval::run(*args),
        Command::Dataset(args) => dataset::run(args),
        Command::MelodyDataset(args) => melody_dataset::run(args),
        Command::Devices { device, model } => devices(device, model.as_deref()),
    }
}

fn devices(device: Option<Device>, model: Option<&Path>) -> anyhow::Result<()> {
    let device = match device {
        Some(d) => d,
        None => Device::from_env()?,
    };
    match segno::nn::runtime() {
        Ok(rt) => println!("ONNX Runtime: {}", rt.library.display()),
        Err(e) => {
            println!("ONNX Runtime: not available: {e}");
            return Ok(());
        }
    }
    println!("requested device: {device}");
    if let Some(path) = model {
        let m = segno::nn::Model::load(path, device)?;
        println!("{}: runs on {}", path.display(), m.describe());
    }
    Ok(())
}

/// How frames are compared, for `follow` and `align`.
#[derive(clap::Args)]
pub(crate) struct SimilarityArgs {
    /// auto (hybrid when the learned model and ONNX Runtime are found, else classical; `align`
    /// prefers the salience model), hybrid (classical + learned), learned (alone), learned-binary,
    /// classical or chroma.
    #[arg(long, default_value_t = Similarity::Auto)]
    similarity: Similarity,
    /// The learned model (default: $SEGNO_MODEL, else models/scnn_semitone.onnx).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Inference device: auto, cpu, cuda, tensorrt, directml, coreml (default: $SEGNO_DEVICE, else auto).
    #[arg(long)]
    nn_device: Option<Device>,
}

impl SimilarityArgs {
    /// The inference device asked for.
    pub(crate) fn device(&self) -> anyhow::Result<Device> {
        Ok(match self.nn_device {
            Some(d) => d,
            None => Device::from_env()?,
        })
    }

    /// The plan for `task`.
    pub(crate) fn plan(&self, task: Task) -> anyhow::Result<SimilarityPlan> {
        let device = self.device()?;
        let plan = SimilarityPlanner::new(Resources::default(), device)
            .with_model(self.model.clone())
            .plan(self.similarity, task)
            .map_err(|e| anyhow::anyhow!("--similarity {}: {e}", self.similarity))?;
        eprintln!("comparing frames with {}", plan.describe());
        Ok(plan)
    }
}

/// Loads the score and renders its reference, with a spinner: this takes a few seconds for a long piece.
pub(crate) fn load_reference(
    score: &Path,
    soundfont: Option<&Path>,
    frames: &mut FrameMaker,
) -> anyhow::Result<Arc<Reference>> {
    let (score, font_path, font) = score_and_soundfont(score, soundfont)?;
    let spinner = spinner(format!("rendering the score with {}", font_path.display()));
    let reference = frames.reference(score, &font)?;
    spinner.finish_and_clear();
    Ok(Arc::new(reference))
}

/// The score and the SoundFont to render it with (found, then read): each refused here, before
/// any long work.
fn score_and_soundfont(
    score: &Path,
    soundfont: Option<&Path>,
) -> anyhow::Result<(Score, PathBuf, Arc<SoundFont>)> {
    let score = Score::load(score)?;
    let font_path = find_soundfont(soundfont)?;
    let font = load_soundfont(&font_path)?;
    Ok((score, font_path, font))
}

fn spinner(message: String) -> indicatif::ProgressBar {
    let spinner = indicatif::ProgressBar::new_spinner().with_message(message);
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    spinner
}

/// Writes the alignment's rows to `out` and, if asked for, its notes to `notes`.
fn align(
    score: &Path,
    audio: &Path,
    out: &Path,
    notes: Option<&Path>,
    soundfont: Option<&Path>,
    similarity: &SimilarityPlan,
) -> anyhow::Result<()> {
    let inputs = [("--score", score), ("--audio", audio), ("--out", out)];
    let mut writer = PositionWriter::create(out, &inputs[..2])?;
    let notes_out = notes
        .map(|path| OutputFile::create(path, &inputs, Unfinished::Remove))
        .transpose()?;
    // Bad input is refused before the long work starts (the score first); the recording is
    // decoded while the score and the SoundFont are read.
    let (inputs, decoded) = std::thread::scope(|s| {
        let decoded = s.spawn(|| decode_file(audio));
        let inputs = score_and_soundfont(score, soundfont);
        let decoded = decoded
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (inputs, decoded)
    });
    let (score, font_path, font) = inputs?;
    let decoded = decoded?;
    for warning in decoded.check(audio)? {
        eprintln!("warning: {warning}");
    }
    let duration_s = decoded.duration_s();
    if let Some(warning) = segno::offline::length_mismatch(duration_s, score.duration_s()) {
        eprintln!("warning: {}: {warning}", audio.display());
    }
    // The score's side and the recording's cost about the same (rendering, or resampling, then
    // each model over every frame), so they are made at once, each with its own model session.
    let mut reference_frames = similarity.frame_maker()?;
    let mut recording_frames = similarity.frame_maker()?;
    let spinner = spinner(format!(
        "rendering the score with {} and describing the recording",
        font_path.display()
    ));
    let (reference, (samples, perf)) = std::thread::scope(|s| {
        let reference = s.spawn(|| reference_frames.reference(score, &font));
        let samples = decoded.into_rate(SAMPLE_RATE);
        let perf = recording_frames.frames(&samples);
        let reference = reference
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (reference, (samples, perf))
    });
    spinner.finish_and_clear();
    let (reference, perf) = (reference?, perf?);
    let cost = similarity.cost(Task::Align);
    let refine = Some(RefineConfig::default());
    let alignment = segno::offline::align(&reference, &perf, &samples, cost.as_ref(), refine);
    if let Some(warning) = alignment.mismatch() {
        eprintln!("warning: {}: {warning}", audio.display());
    }
    let rows = &alignment.rows;
    writer.write_all(&reference.score, rows)?;
    writer.finish()?;
    if let Some(mut file) = notes_out {
        let aligned = alignment.notes(&reference.score);
        write_notes(file.writer(), &reference.score, &aligned).map_err(|e| file.error(e))?;
        let target = file.target().to_owned();
        file.commit()?;
        eprintln!("wrote {} notes to {}", aligned.len(), target.display());
    }
    let unsure = rows
        .iter()
        .filter(|r| r.state != FollowState::Following)
        .count();
    let quality = alignment
        .match_quality
        .map_or("no sound to weigh".into(), |q| {
            format!("match quality {q:.2}")
        });
    eprintln!(
        "aligned {:.1} s of audio to {} score seconds ({quality}; {:.0} % of rows uncertain); \
         wrote {} rows to {}",
        duration_s,
        reference.score.duration_s().round(),
        100.0 * unsure as f64 / rows.len().max(1) as f64,
        rows.len(),
        out.display()
    );
    Ok(())
}
