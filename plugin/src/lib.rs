//! Segno as a CLAP/VST3 plugin (and, through nice-plug's standalone wrapper, an app): audio in,
//! audio out unchanged, the followed position out as MIDI, a score view in the editor.
//!
//! A thin shell over [`segno::live`]: the worker thread follows, [`realtime`] is the audio thread,
//! [`session`] is what a project remembers, [`editor`] is the GUI. The standalone app adds
//! [`app_setup`] (its hand-off to the plugin), [`midi_clock_port`]; both read [`score_file`]s.
//!
//! Hosts construct a plugin for every scan, so [`Segno::default`] only makes queues and
//! parameters: the worker thread starts, and ONNX Runtime and the model load (on that thread),
//! when the host activates the plugin or opens its editor.

pub mod app_setup;
pub mod editor;
pub mod midi_clock_port;
pub mod realtime;
pub mod score_file;
pub mod session;

use std::num::NonZeroU32;
use std::sync::Arc;

use nice_plug::prelude::*;
use nice_plug_egui::EguiEditorState;
use segno::live::protocol::MidiProtocol;
use segno::live::{ReportSink, Worker};
use segno::nn::Device;
use segno::resources::Resources;
use segno::similarity::{Similarity, SimilarityPlanner};

use crate::realtime::{BlockSettings, Realtime};
use crate::session::SessionField;

#[derive(Params)]
pub struct SegnoParams {
    /// Window size (nice-plug-egui's state is not persistable, so the size resets per session).
    pub editor_state: Arc<EguiEditorState>,
    #[persist = "session"]
    pub session: SessionField,

    #[id = "follow"]
    pub follow: BoolParam,
    /// Also look for the pianist over the whole piece and move there after a restart, a skip or
    /// a start in the middle (practice); the state is `searching` while they are looked for.
    #[id = "relocation"]
    pub relocation: BoolParam,
    /// Input gain before analysis: raise it if Segno does not hear soft playing.
    #[id = "sensitivity"]
    pub sensitivity: FloatParam,
    #[id = "midi-channel"]
    pub midi_channel: IntParam,
    #[id = "measure-cc"]
    pub measure_cc: IntParam,
    #[id = "beat-cc"]
    pub beat_cc: IntParam,
    #[id = "state-cc"]
    pub state_cc: IntParam,
}

impl SegnoParams {
    fn new(session: SessionField) -> Self {
        let defaults = MidiProtocol::default();
        let cc = |name: &str, default: u8, max: i32| {
            IntParam::new(name, i32::from(default), IntRange::Linear { min: 0, max })
        };
        Self {
            editor_state: editor::default_state(),
            session,
            follow: BoolParam::new("Follow", true),
            relocation: BoolParam::new("Relocation", false),
            sensitivity: FloatParam::new(
                "Sensitivity",
                0.0,
                FloatRange::Linear {
                    min: -12.0,
                    max: 24.0,
                },
            )
            .with_unit(" dB")
            .with_step_size(0.5),
            midi_channel: IntParam::new(
                "MIDI channel",
                i32::from(defaults.channel) + 1,
                IntRange::Linear { min: 1, max: 16 },
            ),
            measure_cc: cc("Measure CC", defaults.measure_cc, 31),
            beat_cc: cc("Beat CC", defaults.beat_cc, 127),
            state_cc: cc("Lost/found CC", defaults.state_cc, 127),
        }
    }

    pub fn protocol(&self) -> MidiProtocol {
        let byte = |p: &IntParam| p.value().clamp(0, 127) as u8;
        MidiProtocol {
            channel: (self.midi_channel.value() - 1).clamp(0, 15) as u8,
            measure_cc: byte(&self.measure_cc),
            beat_cc: byte(&self.beat_cc),
            state_cc: byte(&self.state_cc),
        }
    }
}

pub struct Segno {
    params: Arc<SegnoParams>,
    worker: Arc<Worker>,
    realtime: Realtime,
    simulated_input: Option<segno::audio::decode::DecodedAudio>,
}

impl Default for Segno {
    fn default() -> Self {
        let setup = app_setup::take();
        let planner = planner();
        let worker = Arc::new(new_worker(setup.sinks, planner.clone()));
        let session = SessionField::new(
            worker.sender(),
            worker.published.clone(),
            worker.status_handle(),
            planner,
        );
        if let Some((name, bytes)) = setup.score {
            session.load_score(name, bytes);
        }
        if setup.library.is_some() {
            session.set_library(setup.library);
        }
        if setup.identify {
            // Only a command: the worker listens once the app starts it.
            if let Err(e) = session.identify() {
                eprintln!("--identify: {e}");
            }
        }
        Self {
            params: Arc::new(SegnoParams::new(session)),
            realtime: Realtime::new(worker.controls.clone()),
            worker,
            simulated_input: setup.input_file,
        }
    }
}

/// How this plugin finds its models and ONNX Runtime (beside its own binary, in the bundle) and
/// the device `$SEGNO_DEVICE` names (else the best there is). Cheap: nothing is loaded.
pub fn planner() -> SimilarityPlanner {
    let install_dir = own_binary().and_then(|p| p.parent().map(std::path::Path::to_owned));
    SimilarityPlanner::new(
        Resources::installed_at(install_dir),
        Device::from_env().unwrap_or_default(),
    )
}

/// A worker, not started, comparing frames as `$SEGNO_SIMILARITY` says, else `auto` (the hybrid
/// where the model and ONNX Runtime shipped beside the plugin load); the editor shows which, on
/// which device, and why a wanted one is not in use.
pub fn new_worker(sinks: Vec<Box<dyn ReportSink>>, planner: SimilarityPlanner) -> Worker {
    let (similarity, error) = match Similarity::from_env() {
        Ok(s) => (s.unwrap_or_default(), None),
        Err(e) => (Similarity::Auto, Some(format!("{e}; using auto"))),
    };
    let worker = Worker::new(sinks, planner, similarity);
    if error.is_some() {
        worker
            .status_handle()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .error = error;
    }
    worker
}

#[cfg(unix)]
fn own_binary() -> Option<std::path::PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // Any function of this library locates it: the host loaded us from somewhere we do not know.
    let found = unsafe { libc::dladdr(planner as *const libc::c_void, &mut info) } != 0;
    if !found || info.dli_fname.is_null() {
        return None;
    }
    let name = unsafe { std::ffi::CStr::from_ptr(info.dli_fname) };
    Some(std::path::PathBuf::from(std::ffi::OsStr::from_bytes(
        name.to_bytes(),
    )))
}

#[cfg(not(unix))]
fn own_binary() -> Option<std::path::PathBuf> {
    None
}

impl Segno {
    /// The worker (for tests and the standalone app).
    pub fn worker(&self) -> &Arc<Worker> {
        &self.worker
    }

    pub fn session(&self) -> &SessionField {
        &self.params.session
    }

    /// Samples the worker has not analysed yet.
    pub fn backlog(&self) -> usize {
        self.realtime.backlog()
    }
}

impl Plugin for Segno {
    const NAME: &'static str = "Segno";
    const VENDOR: &'static str = "Segno";
    const URL: &'static str = "https://example.invalid/segno";
    const EMAIL: &'static str = "segno@example.invalid";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(2),
            main_output_channels: NonZeroU32::new(2),
            ..AudioIOLayout::const_default()
        },
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(1),
            main_output_channels: NonZeroU32::new(1),
            ..AudioIOLayout::const_default()
        },
    ];
    const MIDI_OUTPUT: MidiConfig = MidiConfig::MidiCCs;
    const SAMPLE_ACCURATE_AUTOMATION: bool = false;

    type Editor = nice_plug_egui::EguiEditor<editor::SegnoEditor>;
    type SysExMessage = ();
    type BackgroundTask = ();

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    fn editor(&mut self, _executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        editor::create(self.params.clone(), self.worker.clone())
    }

    fn activate(
        &mut self,
        _layout: &AudioIOLayout,
        config: &BufferConfig,
        _context: &mut impl ActivateContext<Self>,
    ) -> bool {
        // The heavy work a host scan must not pay for starts here (or when the editor opens).
        self.worker.start();
        let rate = config.sample_rate.round().max(1.0) as u32;
        let (audio, worker_end) = self.worker.link(rate);
        let simulated = self
            .simulated_input
            .as_ref()
            .map(|a| segno::audio::resample::resample(&a.samples, a.sample_rate, rate));
        let offline = config.process_mode == ProcessMode::Offline;
        self.realtime.attach(audio, simulated, offline);
        self.worker.send(segno::live::Command::Attach(worker_end));
        true
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        _aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        let settings = BlockSettings {
            following: self.params.follow.value(),
            relocation: self.params.relocation.value(),
            gain_db: self.params.sensitivity.value(),
            protocol: self.params.protocol(),
        };
        self.realtime.process(buffer, context, settings);
        ProcessStatus::Normal
    }
}

impl ClapPlugin for Segno {
    const CLAP_ID: &'static str = "org.segno.score-follower";
    const CLAP_DESCRIPTION: Option<&'static str> =
        Some("Follows a pianist through a score and sends the position as MIDI");
    const CLAP_MANUAL_URL: Option<&'static str> = None;
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[
        ClapFeature::AudioEffect,
        ClapFeature::Analyzer,
        ClapFeature::Utility,
    ];
}

impl Vst3Plugin for Segno {
    const VST3_CLASS_ID: [u8; 16] = *b"SegnoScoreFollow";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] =
        &[Vst3SubCategory::Fx, Vst3SubCategory::Analyzer];
}

nice_export_clap!(Segno);
nice_export_vst3!(Segno);
