//! `segno dataset`: training data for the learned frame similarity (seed 000), from the benchmark's
//! *train* split. Per case: the score rendered as the reference (FluidR3, in a small room), the
//! performance MIDI rendered with another piano and degraded as a recording (±30 cents, reverb,
//! EQ, noise: seed 000's augmentation and ours), both turned into frames by the same extractor the
//! follower uses, and for every performance frame the reference frame it matches — from
//! note-level anchors (`segno::eval::anchors`: each score onset matched to the performed notes
//! near where the beat truth puts it), not from the beat truth read as linear between beats —
//! everything `models/train` needs to draw matching and non-matching pairs.
//!
//! Files per case, in `<out>/<case_id>/`: `{ref,perf}_semitone.npy` (frames × 88, log-compressed
//! semitone spectrogram), `{ref,perf}_chroma.npy` (frames × 12), `{ref,perf}_salience.npy`
//! (frames × 88, basic-pitch's pitch salience, `segno::nn::salience`), `match.npy` (per performance
//! frame, the matching reference frame or −1 outside the truth), `ref_pitch_classes.npy` (per
//! reference frame, the sounding pitch classes of the score as a 12-bit mask), `ref_roll.npy`
//! (reference frames × 128, the score's piano roll: seed 003's score input), `anchors.npy`
//! (anchors × 2: score and performance seconds; written last, it marks a finished case).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use anyhow::{bail, Context};
use rustysynth::SoundFont;
use segno::eval::anchors::note_anchors;
use segno::eval::cases::{load_cases, Case};
use segno::eval::degrade::Degradation;
use segno::eval::metrics::{truth_perf_at, truth_score_at};
use segno::features::{extract_with_semitones, frame_time, CHROMA_DIM, HOP_S, SAMPLE_RATE};
use segno::identify::crossmodal::{piano_roll, ROLL_PITCHES};
use segno::nn::embed::chroma_of;
use segno::nn::npy;
use segno::nn::salience::Salience;
use segno::nn::Device;
use segno::reference::Reference;
use segno::render::{find_soundfont, load_soundfont, render_events, RenderOptions};
use segno::resources::{
    Resources, OTHER_PIANO_SOUNDFONT, SALIENCE_MODEL_ENV as SALIENCE_ENV,
    SALIENCE_MODEL_FILE as SALIENCE_FILE,
};
use segno::rng::Rng;
use segno::score::{midi, Score};

/// What both training-data commands (`dataset`, `melody-dataset`) are given.
#[derive(clap::Args)]
pub struct TrainSplitArgs {
    /// A folder of benchmark cases: the train split only (`../shared/benchmark/train`).
    #[arg(long)]
    pub cases: PathBuf,
    #[arg(long)]
    pub out: PathBuf,
    /// Seconds of each performance used (from its first truth row).
    #[arg(long, default_value_t = 90.0)]
    pub max_seconds: f64,
    /// Use every n-th case (1 = all).
    #[arg(long, default_value_t = 1)]
    pub every: usize,
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
}

impl TrainSplitArgs {
    /// Every n-th of the cases `keep` keeps, refused unless they are the train split's.
    pub fn cases(&self, keep: impl Fn(&Case) -> bool) -> anyhow::Result<Vec<Case>> {
        if self.cases.file_name().is_none_or(|n| n != "train") {
            bail!("{}: training data comes from the benchmark's train split only (a folder named `train`); dev and held-out pieces must never be trained on", self.cases.display());
        }
        Ok(load_cases(&self.cases)?
            .into_iter()
            .filter(keep)
            .step_by(self.every.max(1))
            .collect())
    }
}

/// Pianos the performances are played on: (SoundFont, General MIDI program). The reference is
/// always FluidR3's acoustic grand, which none of them is.
fn performance_pianos() -> anyhow::Result<Vec<Arc<SoundFont>>> {
    Ok(vec![load_soundfont(Path::new(OTHER_PIANO_SOUNDFONT))?])
}
const PROGRAMS: [u8; 2] = [0, 1];

pub fn run(args: TrainSplitArgs) -> anyhow::Result<()> {
    let cases = args.cases(|_| true)?;
    let reference_font = load_soundfont(&find_soundfont(None)?)?;
    let pianos = performance_pianos()?;
    let salience_model = Resources::default().salience_model(None).with_context(|| {
        format!("basic-pitch's {SALIENCE_FILE} is needed for the salience input: run `cargo xtask setup` or set {SALIENCE_ENV}")
    })?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let bar = indicatif::ProgressBar::new(cases.len() as u64).with_message("rendering");
    let next = AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    let labels = std::sync::Mutex::new(LabelStats::default());
    std::thread::scope(|s| {
        for _ in 0..args.threads.max(1) {
            s.spawn(|| {
                let fail =
                    |what: String| failures.lock().expect("no panics while locked").push(what);
                let mut salience = match Salience::load(&salience_model, Device::Cpu, 1) {
                    Ok(s) => s,
                    Err(e) => return fail(format!("{}: {e}", salience_model.display())),
                };
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(case) = cases.get(i) else { break };
                    match write_case(case, &args, &reference_font, &pianos, &mut salience) {
                        Ok(stats) => labels.lock().expect("no panics while locked").add(stats),
                        Err(e) => fail(format!("{}: {e:#}", case.id)),
                    }
                    bar.inc(1);
                }
            });
        }
    });
    bar.finish_and_clear();
    let failures = failures.into_inner().expect("threads joined");
    for f in &failures {
        eprintln!("skipped {f}");
    }
    eprintln!(
        "wrote {} of {} cases to {}",
        cases.len() - failures.len(),
        cases.len(),
        args.out.display()
    );
    labels.into_inner().expect("threads joined").print();
    Ok(())
}

/// How the note-level labels differ from the beat truth, over the cases written in this run.
#[derive(Default)]
struct LabelStats {
    onsets: usize,
    anchors: usize,
    /// |anchor − linear reading of the beat truth|, ms.
    deviation_ms: Vec<f64>,
}

impl LabelStats {
    fn add(&mut self, other: LabelStats) {
        self.onsets += other.onsets;
        self.anchors += other.anchors;
        self.deviation_ms.extend(other.deviation_ms);
    }

    fn print(mut self) {
        if self.deviation_ms.is_empty() {
            return;
        }
        self.deviation_ms.sort_by(f64::total_cmp);
        let at = |q: f64| self.deviation_ms[((self.deviation_ms.len() - 1) as f64 * q) as usize];
        eprintln!(
            "note-level labels: {} of {} score onsets matched ({:.1} %); the beat truth read linearly is off from them by median {:.0} ms, 90th percentile {:.0} ms, {:.1} % beyond 50 ms",
            self.anchors,
            self.onsets,
            100.0 * self.anchors as f64 / self.onsets.max(1) as f64,
            at(0.5),
            at(0.9),
            100.0 * self.deviation_ms.iter().filter(|&&d| d > 50.0).count() as f64 / self.deviation_ms.len() as f64
        );
    }
}

fn write_case(
    case: &Case,
    args: &TrainSplitArgs,
    reference_font: &Arc<SoundFont>,
    pianos: &[Arc<SoundFont>],
    salience: &mut Salience,
) -> anyhow::Result<LabelStats> {
    let dir = args.out.join(&case.id);
    let (first_perf, last_perf) = (
        case.truth[0].1,
        case.truth.last().expect("truth has rows").1,
    );
    let perf_end = (first_perf + args.max_seconds).min(last_perf);
    let score_end = truth_score_at(&case.truth, perf_end);

    let mut score = Score::load(&case.score)?;
    score.notes.retain(|n| n.onset_s < score_end + 1.0);
    if dir.join("anchors.npy").is_file() {
        // A case written before the piano roll was part of the data gets it alone.
        if !dir.join(ROLL_FILE).is_file() {
            let (shape, _) = npy::read::<f32>(&dir.join("ref_chroma.npy"))?;
            write_roll(&dir, &score, shape[0])?;
        }
        return Ok(LabelStats::default());
    }
    let reference = Reference::render_audio(&score, reference_font)?;

    let mut rng = Rng::from_name(&case.id);
    let bytes = std::fs::read(&case.performance)?;
    let mut events =
        midi::read_events(&bytes).map_err(|e| anyhow::anyhow!("{}: {}", e.place, e.message))?;
    events.retain(|e| e.time_s < perf_end + 1.0 || e.command == 0x80);
    let font = &pianos[(rng.next_u64() % pianos.len() as u64) as usize];
    let program = PROGRAMS[(rng.next_u64() % PROGRAMS.len() as u64) as usize];
    let detune = (rng.uniform() * 2.0 - 1.0) * 30.0;
    let mut perf = render_events(
        font,
        &events,
        RenderOptions {
            sample_rate: SAMPLE_RATE,
            program,
            detune_cents: detune,
        },
    )?;
    perf.truncate(((perf_end + 2.0) * f64::from(SAMPLE_RATE)) as usize);
    // A recording, not a synthesiser: random room, tone and noise.
    Degradation::random(&mut rng).apply(&mut perf, &mut rng);

    std::fs::create_dir_all(&dir)?;
    let (ref_semitone, ref_chroma) = frames(&reference);
    let (perf_semitone, perf_chroma) = frames(&perf);
    let (n_ref, n_perf) = (
        ref_chroma.len() / CHROMA_DIM,
        perf_chroma.len() / CHROMA_DIM,
    );
    npy::write(&dir.join("ref_semitone.npy"), &[n_ref, 88], &ref_semitone)?;
    npy::write(
        &dir.join("ref_chroma.npy"),
        &[n_ref, CHROMA_DIM],
        &ref_chroma,
    )?;
    npy::write(
        &dir.join("perf_semitone.npy"),
        &[n_perf, 88],
        &perf_semitone,
    )?;
    npy::write(
        &dir.join("perf_chroma.npy"),
        &[n_perf, CHROMA_DIM],
        &perf_chroma,
    )?;
    npy::write(
        &dir.join("ref_salience.npy"),
        &[n_ref, 88],
        &salience.frames(&reference)?,
    )?;
    npy::write(
        &dir.join("ref_pitch_classes.npy"),
        &[n_ref],
        &pitch_classes(&score, n_ref),
    )?;
    write_roll(&dir, &score, n_ref)?;
    npy::write(
        &dir.join("perf_salience.npy"),
        &[n_perf, 88],
        &salience.frames(&perf)?,
    )?;

    let anchors = note_anchors(&score.notes, &events, &case.truth);
    anyhow::ensure!(
        anchors.len() >= 2,
        "fewer than 2 score onsets matched in the performance"
    );
    let (first_anchor, last_anchor) = (anchors[0].1, anchors[anchors.len() - 1].1);
    let matches: Vec<i32> = (0..n_perf)
        .map(|k| {
            let t = frame_time(k);
            if t < first_anchor || t > last_anchor.min(perf_end) {
                return -1;
            }
            let s = truth_score_at(&anchors, t);
            ((s / HOP_S).round() as usize).min(n_ref - 1) as i32
        })
        .collect();
    npy::write(&dir.join("match.npy"), &[n_perf], &matches)?;
    let flat: Vec<f32> = anchors
        .iter()
        .flat_map(|&(s, p)| [s as f32, p as f32])
        .collect();
    // Written last: its presence marks a finished case.
    npy::write(&dir.join("anchors.npy"), &[anchors.len(), 2], &flat)?;
    let onsets = {
        let mut t: Vec<f64> = score
            .notes
            .iter()
            .map(|n| n.onset_s)
            .filter(|&t| t <= score_end)
            .collect();
        t.sort_by(f64::total_cmp);
        t.dedup_by(|a, b| (*a - *b).abs() < 1e-3);
        t.len()
    };
    Ok(LabelStats {
        onsets,
        anchors: anchors.len(),
        deviation_ms: anchors
            .iter()
            .map(|&(s, p)| (truth_perf_at(&case.truth, s) - p).abs() * 1e3)
            .collect(),
    })
}

/// Compressed semitone spectrogram and chroma of every frame, row-major.
fn frames(audio: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let (classical, semitone) = extract_with_semitones(audio, SAMPLE_RATE);
    (semitone, chroma_of(&classical))
}

/// Pitch classes sounding in the score at each reference frame, as 12-bit masks.
/// The score's piano roll per reference frame, seed 003's score input (`identify::crossmodal`).
const ROLL_FILE: &str = "ref_roll.npy";

fn write_roll(dir: &Path, score: &Score, n_ref: usize) -> anyhow::Result<()> {
    let roll: Vec<f32> = piano_roll(score, n_ref).into_iter().flatten().collect();
    npy::write(&dir.join(ROLL_FILE), &[n_ref, ROLL_PITCHES], &roll)?;
    Ok(())
}

fn pitch_classes(score: &Score, frames: usize) -> Vec<u16> {
    let mut masks = vec![0u16; frames];
    for n in &score.notes {
        let (a, b) = (
            (n.onset_s / HOP_S).floor() as usize,
            (n.offset_s / HOP_S).ceil() as usize,
        );
        for m in masks.iter_mut().take(b.min(frames)).skip(a) {
            *m |= 1 << (n.pitch % 12);
        }
    }
    masks
}
