//! The worker thread: owns the follower, eats the audio the audio thread hands over, publishes the
//! position, and takes commands. Scores are parsed and rendered on a loader thread of their own,
//! so following (and the audio thread) go on while a new score loads.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{select, Receiver, Sender};
use ringbuf::traits::{Consumer, Observer, Producer};

use crate::features::{HOP, SAMPLE_RATE};
use crate::follow::{Follower, Method};
use crate::live::identify::Identifier;
use crate::live::link::{link, AudioEnd, TimedEvent, WorkerEnd};
use crate::live::protocol::BeatTracker;
use crate::live::shared::{Controls, Published, Status};
use crate::live::ReportSink;
use crate::locate::dual_stack::{self, DualStack};
use crate::nn::Device;
use crate::position::Report;
use crate::reference::Reference;
use crate::render::{find_soundfont, load_soundfont, RenderError};
use crate::score::{Score, ScoreFormat};
use crate::similarity::{Similarity, SimilarityPlan, SimilarityPlanner, Task};
use rustysynth::SoundFont;

/// How often the worker looks for new audio when there are no commands.
const POLL: Duration = Duration::from_millis(2);
/// Samples taken from the ring buffer at a time.
const CHUNK: usize = 1024;

pub enum Command {
    /// New audio queues (the host started processing, maybe at a new sample rate).
    Attach(WorkerEnd),
    /// Parse and render a score; `name` is its file name (the format comes from its extension).
    /// Following starts at `start_measure` (a written measure number) if given.
    LoadScore {
        bytes: Arc<[u8]>,
        name: String,
        soundfont: Option<PathBuf>,
        start_measure: Option<String>,
    },
    /// Start over at the beginning of the piece.
    Reset,
    /// Start over at the first played measure with this written number.
    StartAtMeasure(String),
    /// Compare frames this way from now on (a loaded score is prepared again).
    SetSimilarity(SimilarityPlan),
    /// Plan this similarity on this device and compare frames so from now on; if it cannot be
    /// had, keep the current one and say why (a project saved on a machine with a GPU).
    ChooseSimilarity {
        similarity: Similarity,
        device: Device,
    },
    /// "What am I playing?": identify the live audio in this score library, again every few
    /// seconds while the pianist plays ([`Status::identifying`]).
    Identify { library: PathBuf },
    /// Stop identifying.
    StopIdentifying,
}

/// The worker; its thread runs from [`start`](Self::start) until the worker is dropped. Commands
/// sent before the start wait for it.
pub struct Worker {
    commands: Sender<Command>,
    pending: Mutex<Option<Pending>>,
    pub published: Arc<Published>,
    pub controls: Arc<Controls>,
    status: Arc<Mutex<Status>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// What the thread starts with.
struct Pending {
    commands: Receiver<Command>,
    sinks: Vec<Box<dyn ReportSink>>,
    planner: SimilarityPlanner,
    similarity: Similarity,
}

impl Worker {
    /// The worker's queues and shared state, without its thread: cheap enough for a plugin
    /// constructor, which hosts call for every scan. `sinks` receive every report (OSC, MIDI
    /// clock, files); frames are compared as `planner` plans `similarity`, once started.
    pub fn new(
        sinks: Vec<Box<dyn ReportSink>>,
        planner: SimilarityPlanner,
        similarity: Similarity,
    ) -> Self {
        let (commands, rx) = crossbeam_channel::unbounded();
        Self {
            commands,
            pending: Mutex::new(Some(Pending {
                commands: rx,
                sinks,
                planner,
                similarity,
            })),
            published: Arc::new(Published::default()),
            controls: Arc::new(Controls::default()),
            status: Arc::new(Mutex::new(Status {
                following: true,
                similarity: "choosing how to compare frames…".into(),
                ..Status::default()
            })),
            thread: Mutex::new(None),
        }
    }

    /// Starts the thread (once; later calls change nothing). It first plans the similarity
    /// (loading ONNX Runtime and the model there, not on the caller's thread; what cannot be had
    /// falls back to the classical features with the reason), then takes commands.
    /// New queues for audio at `rate` Hz, whose audio end wakes this worker's thread.
    pub fn link(&self, rate: u32) -> (AudioEnd, WorkerEnd) {
        let (mut audio, worker) = link(rate, self.published.clone());
        let thread = self.thread.lock().unwrap_or_else(|e| e.into_inner());
        audio.set_worker(thread.as_ref().map(|t| t.thread().clone()));
        (audio, worker)
    }

    pub fn start(&self) {
        let Some(p) = self
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        else {
            return;
        };
        let (published, controls, status) = (
            self.published.clone(),
            self.controls.clone(),
            self.status.clone(),
        );
        let thread = std::thread::Builder::new()
            .name("segno-worker".into())
            .spawn(move || {
                let task = Task::Follow(Method::default());
                let plan = p.planner.plan_or_classical(p.similarity, task);
                lock(&status).similarity = plan.describe().to_owned();
                State::new(published, controls, status, p.sinks, p.planner, plan).run(p.commands)
            })
            .expect("cannot start the worker thread");
        *self.thread.lock().unwrap_or_else(|e| e.into_inner()) = Some(thread);
    }

    /// Sends a command; never blocks.
    pub fn send(&self, command: Command) {
        // The worker only stops when this handle is dropped, so the channel is open.
        let _ = self.commands.send(command);
    }

    /// A sender for other threads (the editor).
    pub fn sender(&self) -> Sender<Command> {
        self.commands.clone()
    }

    /// The current status (not for the audio thread: this takes a lock).
    pub fn status(&self) -> Status {
        lock(&self.status).clone()
    }

    pub fn status_handle(&self) -> Arc<Mutex<Status>> {
        self.status.clone()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Closing the channel is the stop signal.
        let (dead, _) = crossbeam_channel::unbounded();
        self.commands = dead;
        if let Some(t) = self
            .thread
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            let _ = t.join();
        }
    }
}

pub(crate) fn lock(status: &Mutex<Status>) -> MutexGuard<'_, Status> {
    // A panic elsewhere while holding the lock leaves a status that is still readable.
    status.lock().unwrap_or_else(|e| e.into_inner())
}

/// A finished load: its generation (only the newest load counts) and the result.
struct Loaded {
    generation: u64,
    result: Result<Arc<Reference>, String>,
}

struct State {
    planner: SimilarityPlanner,
    similarity: SimilarityPlan,
    published: Arc<Published>,
    controls: Arc<Controls>,
    status: Arc<Mutex<Status>>,
    sinks: Vec<Box<dyn ReportSink>>,
    link: Option<WorkerEnd>,
    reference: Option<Arc<Reference>>,
    follower: Option<Follower>,
    beats: BeatTracker,
    following: bool,
    /// Whether the follower looks over the whole piece ([`Controls::relocation`]).
    relocation: bool,
    /// The written measure the next loaded score starts at.
    pending_start: Option<String>,
    /// The last score asked for, to prepare again when the similarity changes.
    last_load: Option<(Arc<[u8]>, String, Option<PathBuf>)>,
    /// Input samples consumed since the audio was attached (dropped ones included: the clock the
    /// audio thread times events in), those of them the audio thread pushed, and the sample the
    /// follower's current run starts at.
    consumed: u64,
    popped: u64,
    run_start: u64,
    /// Runs start on a multiple of this many input samples: one analysis hop when that is a
    /// whole number (22.05, 44.1, 88.2, 176.4 kHz), so that the plugin analyses exactly the frames
    /// an offline run over the same audio would, and reports the same positions at the same times.
    run_grid: u64,
    generation: u64,
    /// The follower's input problems already said in the status (said once: saying them takes
    /// the status lock, which the editor also takes).
    said_non_finite: bool,
    said_embedding_error: bool,
    loaded_tx: Sender<Loaded>,
    loaded_rx: Receiver<Loaded>,
    buf: Vec<f32>,
    identifier: Identifier,
}

impl State {
    fn new(
        published: Arc<Published>,
        controls: Arc<Controls>,
        status: Arc<Mutex<Status>>,
        sinks: Vec<Box<dyn ReportSink>>,
        planner: SimilarityPlanner,
        similarity: SimilarityPlan,
    ) -> Self {
        let (loaded_tx, loaded_rx) = crossbeam_channel::unbounded();
        Self {
            planner,
            similarity,
            published,
            controls,
            status,
            sinks,
            link: None,
            reference: None,
            follower: None,
            beats: BeatTracker::default(),
            following: true,
            relocation: false,
            pending_start: None,
            last_load: None,
            consumed: 0,
            popped: 0,
            run_start: 0,
            run_grid: 1,
            generation: 0,
            said_non_finite: false,
            said_embedding_error: false,
            loaded_tx,
            loaded_rx,
            buf: vec![0.0; CHUNK],
            identifier: Identifier::new(),
        }
    }

    fn run(mut self, commands: Receiver<Command>) {
        loop {
            if !self.drain_audio() {
                // Parked rather than blocked on the channels: an offline block unparks the
                // worker the moment it is pushed (`AudioEnd::wait_for_worker`).
                select! {
                    recv(commands) -> c => match c {
                        Ok(c) => self.command(c),
                        Err(_) => return,
                    },
                    recv(self.loaded_rx) -> l => if let Ok(l) = l { self.loaded(l) },
                    default => std::thread::park_timeout(POLL),
                }
            }
            loop {
                match commands.try_recv() {
                    Ok(c) => self.command(c),
                    Err(crossbeam_channel::TryRecvError::Empty) => break,
                    Err(crossbeam_channel::TryRecvError::Disconnected) => return,
                }
            }
            while let Ok(l) = self.loaded_rx.try_recv() {
                self.loaded(l);
            }
            self.identifier.poll(&self.status, self.planner.resources());
            self.publish_analysing();
        }
    }

    /// Feeds the follower with what the audio thread has pushed, up to the next gap, or tells it
    /// of the gap; false if there was nothing.
    fn drain_audio(&mut self) -> bool {
        self.apply_controls();
        let Some(link) = self.link.as_mut() else {
            return false;
        };
        // Samples are counted before gaps are looked at: the audio thread marks a gap before it
        // pushes the samples after it, so no sample counted here lies beyond an unseen gap.
        let available = link.samples.occupied_len();
        let to_gap = link.gaps.first().map(|g| g.at - self.popped);
        if to_gap == Some(0) {
            let gap = link.gaps.try_pop().expect("a gap was seen");
            self.pass_gap(gap.len);
            return true;
        }
        let wanted = available.min(to_gap.map_or(CHUNK, |g| g.min(CHUNK as u64) as usize));
        let n = link.samples.pop_slice(&mut self.buf[..wanted]);
        if n == 0 {
            return false;
        }
        self.popped += n as u64;
        let block = &mut self.buf[..n];
        let gain_db = self.controls.gain_db.load(Ordering::Relaxed);
        if gain_db != 0.0 {
            let gain = 10f32.powf(gain_db.clamp(-40.0, 40.0) / 20.0);
            block.iter_mut().for_each(|s| *s *= gain);
        }
        self.identifier.keep(block);
        let block_start = self.consumed;
        self.consumed += n as u64;
        if let Some(follower) = self.follower.as_mut().filter(|_| self.following) {
            let (run_start, rate) = (self.run_start, link.rate);
            let skip = run_start.saturating_sub(block_start).min(n as u64) as usize;
            let mut reports = Vec::new();
            follower.push(&block[skip..], |r| {
                reports.push((
                    *r,
                    run_start + (r.perf_time_s * f64::from(rate)).round() as u64,
                ))
            });
            if follower.non_finite_samples() > 0 && !self.said_non_finite {
                // Said once: the follower counts on, the musician needs to hear it once.
                self.said_non_finite = true;
                let mut st = lock(&self.status);
                if st.error.is_none() {
                    st.error = Some(format!(
                        "The input delivered {} NaN or infinite samples (a broken effect before Segno?): they are followed as silence.",
                        follower.non_finite_samples()
                    ));
                }
            }
            if let Some(e) = follower
                .embedding_error()
                .filter(|_| !self.said_embedding_error)
            {
                // The learned model failed mid-run: its part of each frame is zeros from then on.
                self.said_embedding_error = true;
                let mut st = lock(&self.status);
                if st.error.is_none() {
                    st.error = Some(format!("The learned analysis failed ({e}); positions may be wrong: choose the classical analysis."));
                }
            }
            for (report, sample) in reports {
                self.publish(&report, sample);
            }
        }
        if let Some(link) = &self.link {
            link.analysed.store(self.popped, Ordering::Release);
        }
        true
    }

    /// `len` input samples were dropped here: the follower's run (if it has begun) passes them
    /// unheard.
    fn pass_gap(&mut self, len: u64) {
        let end = self.consumed + len;
        let in_run = end.saturating_sub(self.consumed.max(self.run_start));
        self.consumed = end;
        if let Some(follower) = self.follower.as_mut().filter(|_| self.following) {
            follower.skip(in_run);
        }
    }

    /// The next run starts at the next grid point of the input.
    fn next_run_start(&self) -> u64 {
        self.consumed.div_ceil(self.run_grid) * self.run_grid
    }

    fn publish(&mut self, report: &Report, sample: u64) {
        self.published.publish(report, sample);
        if let Some(link) = self.link.as_mut() {
            let events = &mut link.events;
            // A full event queue means the audio thread is not running: old events are worthless.
            self.beats.on_report(report, |event| {
                let _ = events.try_push(TimedEvent { sample, event });
            });
        }
        if let Some(reference) = &self.reference {
            for sink in &mut self.sinks {
                sink.report(report, &reference.score, sample);
            }
        }
    }

    fn command(&mut self, command: Command) {
        match command {
            Command::Attach(link) => {
                lock(&self.status).input_rate = Some(link.rate);
                self.identifier.attach(link.rate);
                self.run_grid = hop_in_input_samples(link.rate).unwrap_or(1);
                self.link = Some(link);
                self.consumed = 0;
                self.popped = 0;
                self.rebuild_follower();
            }
            Command::LoadScore {
                bytes,
                name,
                soundfont,
                start_measure,
            } => {
                self.pending_start = start_measure;
                self.load(bytes, name, soundfont)
            }
            Command::Reset => self.restart(|f| {
                f.reset();
                true
            }),
            Command::StartAtMeasure(m) => self.start_at_measure(&m),
            Command::Identify { library } => self.identifier.ask(library, &self.status),
            Command::StopIdentifying => self.identifier.stop(&self.status),
            Command::SetSimilarity(plan) => self.set_similarity(plan),
            Command::ChooseSimilarity { similarity, device } => {
                let task = Task::Follow(Method::default());
                match self.planner.clone().with_device(device).plan(similarity, task) {
                    Ok(plan) => self.set_similarity(plan),
                    Err(e) => {
                        lock(&self.status).error = Some(format!(
                            "The analysis saved with this project ({similarity} on {device}) cannot run here ({e}); using {}.",
                            self.similarity.describe()
                        ))
                    }
                }
            }
        }
    }

    fn set_similarity(&mut self, plan: SimilarityPlan) {
        lock(&self.status).similarity = plan.describe().to_owned();
        self.similarity = plan;
        if let Some((bytes, name, soundfont)) = self.last_load.clone() {
            self.load(bytes, name, soundfont);
        }
    }

    fn start_at_measure(&mut self, measure: &str) {
        let mut found = true;
        self.restart(|f| {
            found = f.start_at_measure(measure);
            found
        });
        if !found && self.follower.is_some() {
            lock(&self.status).error = Some(format!(
                "This score has no measure {measure}; following from where it was."
            ));
        }
    }

    fn apply_controls(&mut self) {
        let relocation = self.controls.relocation.load(Ordering::Relaxed);
        if relocation != self.relocation {
            self.relocation = relocation;
            // Where the pianist is, not from the start: they may be in the middle of the piece.
            let localiser = relocation.then(|| self.localiser()).flatten();
            if let Some(f) = self.follower.as_mut() {
                f.set_relocation(relocation, localiser);
            }
        }
        let on = self.controls.following.load(Ordering::Relaxed);
        if on != self.following {
            self.following = on;
            lock(&self.status).following = on;
            if on {
                self.restart(|f| {
                    f.reset();
                    true
                });
            }
        }
    }

    /// Restarts the follower's run at the current input sample if `how` succeeds.
    fn restart(&mut self, how: impl FnOnce(&mut Follower) -> bool) {
        if let Some(f) = self.follower.as_mut() {
            if how(f) {
                self.run_start = self.next_run_start();
                self.beats.reset();
                self.published.clear();
                self.sinks.iter_mut().for_each(|s| s.reset());
            }
        }
    }

    fn rebuild_follower(&mut self) {
        self.follower = match (&self.reference, &self.link) {
            (Some(r), Some(l)) => {
                match self
                    .similarity
                    .follower(r.clone(), l.rate, Method::default())
                {
                    Ok(f) if self.relocation => Some(f.with_relocation(self.localiser())),
                    Ok(f) => Some(f),
                    Err(e) => {
                        lock(&self.status).error = Some(format!("Could not start following: {e}"));
                        None
                    }
                }
            }
            _ => None,
        };
        self.said_non_finite = false;
        self.said_embedding_error = false;
        self.run_start = self.next_run_start();
        self.beats.reset();
        self.published.clear();
        self.sinks.iter_mut().for_each(|s| s.reset());
    }

    /// Seed 001's localiser for the relocation, if it is installed and loads; without it the
    /// relocation moves on the classical search alone, and the status says so.
    fn localiser(&self) -> Option<DualStack> {
        dual_stack::installed(self.planner.resources(), self.planner.device())
            .map_err(|e| {
                lock(&self.status).error = Some(format!(
                    "Relocation runs without the localiser ({e}): restarts and skips are found more slowly."
                ))
            })
            .ok()
    }

    fn load(&mut self, bytes: Arc<[u8]>, name: String, soundfont: Option<PathBuf>) {
        self.last_load = Some((bytes.clone(), name.clone(), soundfont.clone()));
        self.generation += 1;
        let generation = self.generation;
        {
            let mut st = lock(&self.status);
            st.loading = true;
            st.score_name = name.clone();
            st.error = None;
        }
        self.published.preparing.store(true, Ordering::Release);
        let tx = self.loaded_tx.clone();
        let similarity = self.similarity.clone();
        let spawned = std::thread::Builder::new()
            .name("segno-loader".into())
            .spawn(move || {
                let result = load_reference(&bytes, &name, soundfont.as_deref(), &similarity);
                let _ = tx.send(Loaded { generation, result });
            });
        if let Err(e) = spawned {
            self.loaded(Loaded {
                generation,
                result: Err(format!("Could not start loading the score: {e}")),
            });
        }
    }

    fn loaded(&mut self, loaded: Loaded) {
        if loaded.generation != self.generation {
            return;
        }
        let mut st = lock(&self.status);
        st.loading = false;
        match loaded.result {
            Ok(reference) => {
                st.score = Some(Arc::new(reference.score.clone()));
                st.error = None;
                drop(st);
                self.reference = Some(reference);
                self.rebuild_follower();
                if let Some(m) = self.pending_start.take() {
                    self.start_at_measure(&m);
                }
            }
            Err(message) => st.error = Some(message),
        }
        // Last: an offline render resumes only once the follower is ready.
        self.publish_analysing();
        self.published.preparing.store(false, Ordering::Release);
    }

    /// Tells an offline render whether its blocks wait for analysis.
    fn publish_analysing(&self) {
        let analysing = self.follower.is_some() && self.following;
        self.published.analysing.store(analysing, Ordering::Release);
    }
}

/// The analysis hop in input samples, if it is a whole number.
fn hop_in_input_samples(rate: u32) -> Option<u64> {
    let hop = HOP as u64 * u64::from(rate);
    hop.is_multiple_of(u64::from(SAMPLE_RATE))
        .then(|| hop / u64::from(SAMPLE_RATE))
}

/// Parses and renders a score, with errors in words for the musician.
pub fn load_reference(
    bytes: &[u8],
    name: &str,
    soundfont: Option<&Path>,
    similarity: &SimilarityPlan,
) -> Result<Arc<Reference>, String> {
    let path = Path::new(name);
    let format = ScoreFormat::from_path(path).ok_or_else(|| {
        format!("“{name}” is not a score Segno can read. Choose a MusicXML file (.musicxml, .xml, .mxl) or a MIDI file (.mid).")
    })?;
    let score = Score::from_bytes(bytes, format, path)
        .map_err(|e| format!("Could not read the score: {e}"))?;
    let font = cached_soundfont(soundfont).map_err(|e| format!("Segno needs a piano sound to prepare the score ({e}). In the plugin, SoundFont… chooses one."))?;
    similarity
        .reference(score, &font)
        .map(Arc::new)
        .map_err(|e| format!("Could not prepare the score: {e}"))
}

/// The SoundFont for `explicit` (or the default one), loaded once per process: a General MIDI
/// font is 100+ MB and takes a second to read.
fn cached_soundfont(explicit: Option<&Path>) -> Result<Arc<SoundFont>, RenderError> {
    static CACHE: Mutex<Option<(PathBuf, Arc<SoundFont>)>> = Mutex::new(None);
    let path = find_soundfont(explicit)?;
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((cached, font)) = cache.as_ref() {
        if *cached == path {
            return Ok(font.clone());
        }
    }
    let font = load_soundfont(&path)?;
    *cache = Some((path, font.clone()));
    Ok(font)
}
