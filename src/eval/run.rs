//! Running the benchmark on one case and on a set of cases.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rustysynth::SoundFont;

use super::cases::Case;
use super::degrade::Degradation;
use super::metrics::{longest_lost_s, summarize, Summary};
use super::practice::{Practice, PracticeScore, Scenario, TICK_S};
use super::rendering::Rendering;
use crate::align::refine::RefineConfig;
use crate::audio::AudioError;
use crate::features::{self, SAMPLE_RATE};
use crate::follow::{first_reach_times, Method};
use crate::locate::dual_stack::DualStack;
use crate::nn::{Device, RuntimeError};
use crate::offline;
use crate::output::{write_file, OutputError};
use crate::position::csv::PositionWriter;
use crate::position::Report;
use crate::reference::Reference;
use crate::render::{load_soundfont, render_events, RenderError, RenderOptions};
use crate::rng::Rng;
use crate::score::midi::{self, ChannelEvent};
use crate::score::ScoreError;
use crate::similarity::{SimilarityError, SimilarityPlan, Task};

/// Why a case could not be run.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error(transparent)]
    Score(#[from] ScoreError),
    #[error("{}: {message}", path.display())]
    Performance { path: PathBuf, message: String },
    #[error(transparent)]
    Similarity(#[from] SimilarityError),
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Write(#[from] OutputError),
    #[error(transparent)]
    Audio(#[from] AudioError),
    #[error(transparent)]
    Index(#[from] crate::identify::neighbours::IndexError),
    #[error("rendering {rendering}: {message}")]
    Rendering {
        rendering: Rendering,
        message: String,
    },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// How the performance audio is made and followed.
#[derive(Clone)]
pub struct EvalConfig {
    pub reference_font: Arc<SoundFont>,
    pub performance_font: Arc<SoundFont>,
    /// General MIDI program for the performance (the reference always plays 0).
    pub performance_program: u8,
    pub max_detune_cents: f64,
    pub degradation: Degradation,
    /// Host block size the follower is fed with.
    pub block: usize,
    /// How frames are compared: the reference's frames, the follower's and the aligner's cost.
    pub similarity: SimilarityPlan,
    pub method: Method,
    /// Whether the follower also looks for the pianist over the whole piece
    /// ([`crate::follow::Follower::with_relocation`]; experimental).
    pub relocation: bool,
    /// The dual-stack localiser that checks the relocation's candidates, if any.
    pub localiser: Option<PathBuf>,
    pub online: bool,
    pub offline: bool,
    /// Whether the follower crosses onsets at their attacks between frames
    /// ([`crate::follow::Follower::set_attack_crossing`]).
    pub attack_crossing: bool,
    /// Whether the offline alignment's onsets are refined to their attacks
    /// ([`crate::align::refine`]), as `segno align` does.
    pub refine: bool,
    /// Each performance is played this many times as slowly as recorded, its truth stretched
    /// with it (1: as recorded).
    pub stretch: f64,
    /// Folder to write each case's rendered performance and follower positions to, for diagnosis.
    pub dump: Option<PathBuf>,
}

impl EvalConfig {
    pub fn new(reference_font: Arc<SoundFont>, performance_font: Arc<SoundFont>) -> Self {
        Self {
            reference_font,
            performance_font,
            performance_program: 0,
            max_detune_cents: 30.0,
            degradation: Degradation::BENCHMARK,
            block: 512,
            similarity: SimilarityPlan::classical(),
            method: Method::default(),
            relocation: false,
            localiser: None,
            online: true,
            offline: true,
            refine: true,
            attack_crossing: true,
            stretch: 1.0,
            dump: None,
        }
    }
}

impl EvalConfig {
    /// This configuration with the performance played on `rendering`'s piano, in its room.
    pub fn rendered(&self, rendering: Rendering) -> Result<Self, EvalError> {
        let path = rendering.soundfont();
        let font = load_soundfont(path).map_err(|e| EvalError::Rendering {
            rendering,
            message: format!("{e} (install {})", rendering.package()),
        })?;
        Ok(Self {
            performance_font: font,
            performance_program: rendering.program(),
            degradation: rendering.degradation(),
            ..self.clone()
        })
    }
}

#[derive(Debug, Clone)]
pub struct CaseResult {
    pub id: String,
    pub source: &'static str,
    pub performance_s: f64,
    pub detune_cents: f64,
    /// Per truth row, error in seconds (`None`: not reached).
    pub online_errors: Vec<Option<f64>>,
    pub offline_errors: Vec<Option<f64>>,
    pub longest_lost_s: f64,
    /// Frames processed by the follower (features + OLTW) and the seconds that took.
    pub online_frames: usize,
    pub online_compute_s: f64,
    pub offline_compute_s: f64,
}

impl CaseResult {
    pub fn online(&self) -> Summary {
        summarize(&self.online_errors)
    }

    pub fn offline(&self) -> Summary {
        summarize(&self.offline_errors)
    }
}

/// The performance's MIDI events.
fn performance_events(case: &Case) -> Result<Vec<ChannelEvent>, EvalError> {
    let path = &case.performance;
    let bytes = std::fs::read(path).map_err(|source| EvalError::Io {
        path: path.clone(),
        source,
    })?;
    midi::read_events(&bytes).map_err(|e| EvalError::Performance {
        path: path.clone(),
        message: format!("{}: {}", e.place, e.message),
    })
}

/// Renders the performance as a degraded recording at the internal rate.
pub fn render_performance(case: &Case, cfg: &EvalConfig) -> Result<(Vec<f32>, f64), EvalError> {
    render_degraded(case, &performance_events(case)?, cfg)
}

/// `case`'s performance played `cfg.stretch` times as slowly, rendered, and its truth stretched
/// with it.
fn stretched(case: &Case, cfg: &EvalConfig) -> Result<(Case, Vec<f32>, f64), EvalError> {
    let stretch = cfg.stretch;
    let mut events = performance_events(case)?;
    events.iter_mut().for_each(|e| e.time_s *= stretch);
    let (audio, detune) = render_degraded(case, &events, cfg)?;
    let case = Case {
        truth: case.truth.iter().map(|&(s, p)| (s, p * stretch)).collect(),
        ..case.clone()
    };
    Ok((case, audio, detune))
}

/// Renders `events` (the case's performance, or a practice performance made of it) on the
/// performance piano, detuned and degraded as the case's name decides.
fn render_degraded(
    case: &Case,
    events: &[ChannelEvent],
    cfg: &EvalConfig,
) -> Result<(Vec<f32>, f64), EvalError> {
    let mut rng = Rng::from_name(&case.id);
    let detune = (rng.uniform() * 2.0 - 1.0) * cfg.max_detune_cents;
    let opts = RenderOptions {
        sample_rate: SAMPLE_RATE,
        program: cfg.performance_program,
        detune_cents: detune,
    };
    let mut audio = render_events(&cfg.performance_font, events, opts)?;
    cfg.degradation.apply(&mut audio, &mut rng);
    Ok((audio, detune))
}

/// Follows `audio` as a host would deliver it, in `cfg.block`-sample blocks; returns the reports
/// and the seconds of compute they took.
pub(super) fn follow(
    reference: &Arc<Reference>,
    audio: &[f32],
    cfg: &EvalConfig,
) -> Result<(Vec<Report>, f64), EvalError> {
    let mut follower = cfg
        .similarity
        .follower(reference.clone(), SAMPLE_RATE, cfg.method)?;
    if cfg.relocation {
        let localiser = cfg
            .localiser
            .as_deref()
            .map(|path| DualStack::load(path, Device::Cpu))
            .transpose()?;
        follower = follower.with_relocation(localiser);
    }
    follower.set_attack_crossing(cfg.attack_crossing);
    let mut reports = Vec::with_capacity(audio.len() / features::HOP + 2);
    let start = Instant::now();
    for block in audio.chunks(cfg.block) {
        follower.push(block, |r| reports.push(*r));
    }
    Ok((reports, start.elapsed().as_secs_f64()))
}

/// One case played as a pianist practising ([`Scenario`]).
#[derive(Debug, Clone)]
pub struct PracticeResult {
    pub id: String,
    pub scenario: Scenario,
    pub score: PracticeScore,
    pub performance_s: f64,
    pub frames: usize,
    pub compute_s: f64,
}

/// Plays `case` as each of `scenarios` (those the performance is long enough for), with one
/// reference for all of them.
pub fn run_practice_case(
    case: &Case,
    cfg: &EvalConfig,
    scenarios: &[Scenario],
) -> Result<Vec<PracticeResult>, EvalError> {
    let events = performance_events(case)?;
    let score = case.load_score()?;
    let branches = score.branches();
    let reference = Arc::new(cfg.similarity.reference(score, &cfg.reference_font)?);
    let mut results = Vec::with_capacity(scenarios.len());
    for &scenario in scenarios {
        let mut rng = Rng::from_name(&format!("{} {scenario}", case.id));
        let Some(practice) = Practice::build(scenario, &events, &case.truth, &branches, &mut rng)
        else {
            continue;
        };
        let (audio, _) = render_degraded(case, &practice.events, cfg)?;
        let (reports, compute_s) = follow(&reference, &audio, cfg)?;
        if let Some(dir) = &cfg.dump {
            let name = format!("{}.{scenario}", case.id);
            dump(dir, &name, &reference, &audio, &reports)?;
            dump_practice_truth(dir, &name, &practice, &case.truth, audio.len())?;
        }
        results.push(PracticeResult {
            id: case.id.clone(),
            scenario,
            score: PracticeScore::of(&practice, &case.truth, &reports),
            performance_s: audio.len() as f64 / f64::from(SAMPLE_RATE),
            frames: reports.len(),
            compute_s,
        });
    }
    Ok(results)
}

pub fn run_case(case: &Case, cfg: &EvalConfig) -> Result<CaseResult, EvalError> {
    let (case, audio, detune_cents) = stretched(case, cfg)?;
    let case = &case;
    let score = case.load_score()?;
    let mut frames = cfg.similarity.frame_maker()?;
    let reference = Arc::new(frames.reference(score, &cfg.reference_font)?);
    let score_times: Vec<f64> = case.truth.iter().map(|r| r.0).collect();
    let mut result = CaseResult {
        id: case.id.clone(),
        source: case.source(),
        performance_s: audio.len() as f64 / f64::from(SAMPLE_RATE),
        detune_cents,
        online_errors: vec![],
        offline_errors: vec![],
        longest_lost_s: 0.0,
        online_frames: 0,
        online_compute_s: 0.0,
        offline_compute_s: 0.0,
    };
    if cfg.online {
        let (reports, compute_s) = follow(&reference, &audio, cfg)?;
        result.online_compute_s = compute_s;
        result.online_frames = reports.len();
        let reached = first_reach_times(&reports, &score_times);
        result.online_errors = reached
            .iter()
            .zip(&case.truth)
            .map(|(t, row)| t.map(|t| t - row.1))
            .collect();
        let path: Vec<(f64, f64)> = reports
            .iter()
            .map(|r| (r.perf_time_s, r.score_time_s))
            .collect();
        if let Some(dir) = &cfg.dump {
            dump(dir, &case.id, &reference, &audio, &reports)?;
        }
        result.longest_lost_s = longest_lost_s(&case.truth, &path, 2.0);
    }
    if cfg.offline {
        let start = Instant::now();
        let perf = frames.frames(&audio)?;
        let refine = cfg.refine.then(RefineConfig::default);
        let cost = cfg.similarity.cost(Task::Align);
        let alignment = offline::align(&reference, &perf, &audio, cost.as_ref(), refine);
        result.offline_compute_s = start.elapsed().as_secs_f64();
        result.offline_errors = case
            .truth
            .iter()
            .map(|&(s, p)| Some(alignment.perf_time_at(s) - p))
            .collect();
    }
    Ok(result)
}

/// Runs `job` on every item on `threads` worker threads; `progress(done, total, name)` after each.
/// An item that fails is reported by its name and error, and the others still run.
pub fn run_all<I: Sync, T: Send>(
    items: &[I],
    threads: usize,
    name: impl Fn(&I) -> String + Sync,
    progress: &(dyn Fn(usize, usize, &str) + Sync),
    job: impl Fn(&I) -> Result<T, EvalError> + Sync,
) -> Vec<Result<T, (String, String)>> {
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results = Mutex::new((0..items.len()).map(|_| None).collect::<Vec<_>>());
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::SeqCst);
                let Some(item) = items.get(k) else { break };
                let r = job(item).map_err(|e| (name(item), e.to_string()));
                results.lock().expect("no panics while holding the lock")[k] = Some(r);
                let finished = done.fetch_add(1, Ordering::SeqCst) + 1;
                progress(finished, items.len(), &name(item));
            });
        }
    });
    results
        .into_inner()
        .expect("threads joined")
        .into_iter()
        .map(|r| r.expect("every item ran"))
        .collect()
}

/// Peak resident memory of this process (Linux), in MiB.
pub fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Writes `<name>.wav` (the rendered performance) and `<name>.positions.csv` into `dir`.
fn dump(
    dir: &Path,
    name: &str,
    reference: &Reference,
    audio: &[f32],
    reports: &[Report],
) -> Result<(), EvalError> {
    std::fs::create_dir_all(dir).map_err(|source| EvalError::Io {
        path: dir.to_owned(),
        source,
    })?;
    crate::audio::write_wav(&dir.join(format!("{name}.wav")), audio, SAMPLE_RATE)?;
    let mut w = PositionWriter::create(&dir.join(format!("{name}.positions.csv")), &[])?;
    w.write_all(&reference.score, reports)?;
    Ok(w.finish()?)
}

/// The practice performance's truth, every tick the pianist plays: `perf_time_s,score_time_s`.
fn dump_practice_truth(
    dir: &Path,
    name: &str,
    practice: &Practice,
    truth: &[(f64, f64)],
    samples: usize,
) -> Result<(), EvalError> {
    let path = dir.join(format!("{name}.truth.csv"));
    let ticks = (samples as f64 / f64::from(SAMPLE_RATE) / TICK_S) as usize;
    let mut text = String::from("perf_time_s,score_time_s\n");
    for t in (0..ticks).map(|k| k as f64 * TICK_S) {
        if let Some(s) = practice.score_time_at(truth, t) {
            text += &format!("{t:.3},{s:.3}\n");
        }
    }
    Ok(write_file(&path, text.as_bytes())?)
}
