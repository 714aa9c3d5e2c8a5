//! `segno follow`: simulated real time from a file, or live from a microphone.

use std::path::{Path, PathBuf};

use segno::audio::decode_file;
use segno::eval::cases::read_truth;
use segno::eval::metrics::{summarize, THRESHOLDS_MS};
use segno::follow::{first_reach_times, Follower, Method};
use segno::locate::dual_stack;
use segno::output::{OutputFile, Unfinished};
use segno::position::csv::{write_onsets, PositionWriter};
use segno::position::Report;
use segno::resources::Resources;
use segno::score::Score;
use segno::similarity::{SimilarityPlan, Task};

#[derive(clap::Args)]
pub struct FollowArgs {
    #[arg(long, required_unless_present = "list_devices")]
    score: Option<PathBuf>,
    /// Audio file to follow (WAV, FLAC, MP3, OGG), fed in host-sized blocks.
    #[arg(long, conflicts_with = "input")]
    audio: Option<PathBuf>,
    /// Live input: `mic`.
    #[arg(long)]
    input: Option<String>,
    /// Input device name (see --list-devices); default: the system's default input.
    #[arg(long)]
    device: Option<String>,
    #[arg(long)]
    list_devices: bool,
    #[arg(long, default_value = "positions.csv")]
    out: PathBuf,
    /// Where to write, for each score onset, when the follower reached it.
    #[arg(long)]
    onsets: Option<PathBuf>,
    /// Samples per block, as an audio host would deliver them.
    #[arg(long, default_value_t = 512, allow_negative_numbers = true, value_parser = clap::value_parser!(u32).range(1..=8192))]
    block: u32,
    /// Written measure number the performer starts at (with --relocation, only where the
    /// follower looks first).
    #[arg(long)]
    start_measure: Option<String>,
    /// Also look for the performer over the whole piece and move there after a restart, a skip
    /// or a start anywhere (practice); the state is `searching` while they are looked for. Seed
    /// 001's localiser (models/localiser.onnx) checks each place first, where it is installed.
    #[arg(long)]
    relocation: bool,
    /// Ground truth (`score_time_s,perf_time_s` rows): print the accuracy at the end.
    #[arg(long)]
    truth: Option<PathBuf>,
    #[arg(long)]
    soundfont: Option<PathBuf>,
    /// Stop live following after this many seconds (default: at the end of the score).
    #[arg(long)]
    seconds: Option<f64>,
    #[command(flatten)]
    similarity: super::SimilarityArgs,
}

/// Writes `positions.csv` as the follower goes, so an interrupted run keeps what it had.
pub(crate) struct PositionLog {
    writer: PositionWriter,
    pub reports: Vec<Report>,
}

impl PositionLog {
    pub fn create(path: &Path, inputs: &[(&'static str, &Path)]) -> anyhow::Result<Self> {
        Ok(Self {
            writer: PositionWriter::create(path, inputs)?,
            reports: Vec::new(),
        })
    }

    pub fn add(&mut self, score: &Score, r: &Report) -> anyhow::Result<()> {
        self.writer.write(score, r)?;
        self.reports.push(*r);
        Ok(())
    }
}

pub(crate) fn live_line(score: &Score, r: &Report) -> String {
    let m = score.measure_number(r.measure_index).unwrap_or("-");
    format!(
        "measure {m:>4}  beat {:4.1}  tempo {:4.2}×  confidence {:3.0}%  {}",
        r.beat_in_measure,
        r.tempo_ratio,
        r.confidence * 100.0,
        r.state.as_str()
    )
}

pub fn run(args: FollowArgs) -> anyhow::Result<()> {
    if args.list_devices {
        return list_devices();
    }
    let score_path = args.score.as_deref().expect("clap requires --score");
    // Every output is opened, and the truth read, before the work: a mistake in a path is
    // found now, not after the whole recording.
    let mut inputs = vec![("--score", score_path)];
    inputs.extend(args.audio.as_deref().map(|p| ("--audio", p)));
    inputs.extend(args.truth.as_deref().map(|p| ("--truth", p)));
    let log = PositionLog::create(&args.out, &inputs)?;
    let outputs = Outputs {
        onsets: (args.onsets.as_deref())
            .map(|p| OutputFile::create(p, &inputs, Unfinished::Remove))
            .transpose()?,
        truth: (args.truth.as_deref())
            .map(|p| read_truth(p).map(|t| (p, t)))
            .transpose()?,
    };
    let similarity = args.similarity.plan(Task::Follow(Method::default()))?;
    let reference = super::load_reference(
        score_path,
        args.soundfont.as_deref(),
        &mut similarity.frame_maker()?,
    )?;
    let log = match (&args.audio, args.input.as_deref()) {
        (Some(audio), _) => follow_file(&reference, audio, &args, &similarity, log)?,
        (None, Some("mic")) => follow_mic(&reference, &args, &similarity, log)?,
        (None, Some(other)) => {
            anyhow::bail!("--input {other}: the only live input is 'mic' (or give --audio FILE)")
        }
        (None, None) => anyhow::bail!("nothing to follow: give --audio FILE or --input mic"),
    };
    finish(&reference.score, log, outputs, &args)
}

/// The outputs besides `positions.csv`, and the truth to score against.
struct Outputs<'a> {
    onsets: Option<OutputFile>,
    truth: Option<(&'a Path, Vec<(f64, f64)>)>,
}

fn start_follower(
    reference: &std::sync::Arc<segno::reference::Reference>,
    rate: u32,
    args: &FollowArgs,
    similarity: &SimilarityPlan,
) -> anyhow::Result<Follower> {
    let mut follower = similarity.follower(reference.clone(), rate, Method::default())?;
    if args.relocation {
        let localiser = dual_stack::installed(&Resources::default(), args.similarity.device()?)
            .inspect(|l| {
                eprintln!(
                    "relocation checked by the localiser on {}",
                    l.model().describe()
                )
            })
            .map_err(|e| eprintln!("relocation without the localiser: {e}"))
            .ok();
        follower = follower.with_relocation(localiser);
    }
    if let Some(m) = &args.start_measure {
        if !follower.start_at_measure(m) {
            let numbers: Vec<&str> = reference
                .score
                .measures
                .iter()
                .map(|m| m.number.as_str())
                .collect();
            anyhow::bail!(
                "--start-measure {m}: the score has no measure numbered '{m}' (it has {} … {})",
                numbers.first().unwrap_or(&"?"),
                numbers.last().unwrap_or(&"?")
            );
        }
    }
    Ok(follower)
}

fn follow_file(
    reference: &std::sync::Arc<segno::reference::Reference>,
    audio: &Path,
    args: &FollowArgs,
    similarity: &SimilarityPlan,
    mut log: PositionLog,
) -> anyhow::Result<PositionLog> {
    let decoded = decode_file(audio)?;
    for warning in decoded.check(audio)? {
        eprintln!("warning: {warning}");
    }
    let mut follower = start_follower(reference, decoded.sample_rate, args, similarity)?;
    let bar = indicatif::ProgressBar::new(decoded.samples.len() as u64).with_style(
        indicatif::ProgressStyle::with_template("{bar:30} {percent:>3}%  {msg}")
            .expect("valid template"),
    );
    let score = &reference.score;
    let mut result = Ok(());
    for block in decoded.samples.chunks(args.block as usize) {
        follower.push(block, |r| {
            if result.is_ok() {
                result = log.add(score, r);
            }
        });
        result.as_ref().map_err(|e| anyhow::anyhow!("{e:#}"))?;
        bar.inc(block.len() as u64);
        if let Some(r) = log.reports.last() {
            bar.set_message(live_line(score, r));
        }
    }
    bar.finish();
    Ok(log)
}

#[cfg(feature = "mic")]
fn follow_mic(
    reference: &std::sync::Arc<segno::reference::Reference>,
    args: &FollowArgs,
    similarity: &SimilarityPlan,
    mut log: PositionLog,
) -> anyhow::Result<PositionLog> {
    let mut input = super::mic::MicInput::open(args.device.as_deref())?;
    let mut follower = start_follower(reference, input.sample_rate(), args, similarity)?;
    let score = &reference.score;
    let end = args.seconds.unwrap_or(f64::INFINITY);
    let score_end = score.duration_s();
    eprintln!(
        "listening on '{}' at {} Hz; play from the start (Ctrl-C stops)",
        input.name(),
        input.sample_rate()
    );
    let mut block = vec![0f32; args.block as usize];
    let mut shown = std::time::Instant::now();
    loop {
        let n = input.read(&mut block);
        let mut err = Ok(());
        follower.push(&block[..n], |r| {
            if err.is_ok() {
                err = log.add(score, r);
            }
        });
        err?;
        if let Some(r) = log.reports.last() {
            if shown.elapsed().as_millis() >= 100 {
                eprint!("\r{}   ", live_line(score, r));
                shown = std::time::Instant::now();
            }
            if r.perf_time_s > end || r.score_time_s >= score_end {
                eprintln!();
                break;
            }
        }
    }
    if follower.non_finite_samples() > 0 {
        eprintln!(
            "warning: the input delivered {} NaN or infinite samples; they were followed as silence",
            follower.non_finite_samples()
        );
    }
    Ok(log)
}

#[cfg(not(feature = "mic"))]
fn follow_mic(
    _: &std::sync::Arc<segno::reference::Reference>,
    _: &FollowArgs,
    _: &SimilarityPlan,
    _: PositionLog,
) -> anyhow::Result<PositionLog> {
    anyhow::bail!("this build has no microphone support; rebuild with the 'mic' feature (needs libasound2-dev)")
}

#[cfg(feature = "mic")]
fn list_devices() -> anyhow::Result<()> {
    let names = super::mic::input_devices()?;
    if names.is_empty() {
        anyhow::bail!("no audio input devices found; connect a microphone or audio interface");
    }
    names.iter().for_each(|n| println!("{n}"));
    Ok(())
}

#[cfg(not(feature = "mic"))]
fn list_devices() -> anyhow::Result<()> {
    anyhow::bail!("this build has no microphone support; rebuild with the 'mic' feature")
}

fn finish(
    score: &Score,
    log: PositionLog,
    outputs: Outputs,
    args: &FollowArgs,
) -> anyhow::Result<()> {
    log.writer.finish()?;
    eprintln!(
        "wrote {} positions to {}",
        log.reports.len(),
        args.out.display()
    );
    if let Some(mut out) = outputs.onsets {
        let onsets = score.onset_times();
        let reached = first_reach_times(&log.reports, &onsets);
        write_onsets(out.writer(), &onsets, &reached).map_err(|e| out.error(e))?;
        eprintln!(
            "wrote {} onsets to {}",
            onsets.len(),
            out.target().display()
        );
        out.commit()?;
    }
    if let Some((path, truth)) = outputs.truth {
        let targets: Vec<f64> = truth.iter().map(|r| r.0).collect();
        let reached = first_reach_times(&log.reports, &targets);
        let errors: Vec<Option<f64>> = reached
            .iter()
            .zip(&truth)
            .map(|(t, r)| t.map(|t| t - r.1))
            .collect();
        let s = summarize(&errors);
        println!(
            "accuracy against {} ({} rows, online):",
            path.display(),
            s.rows
        );
        for (t, w) in THRESHOLDS_MS.iter().zip(s.within) {
            println!("  within {t:>4} ms: {:5.1} %", w * 100.0);
        }
        println!(
            "  mean |error| {:.0} ms, median {:.0} ms, never reached {:.1} %",
            s.mean_abs_ms,
            s.median_abs_ms,
            s.unreached * 100.0
        );
    }
    Ok(())
}
