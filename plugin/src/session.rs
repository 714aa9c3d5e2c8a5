//! What a project remembers of Segno beyond its parameters: the score itself (its bytes, so the
//! project opens on a machine that never had the file), the SoundFont setting and the last
//! position. Stored in the plugin state as one JSON value; a state Segno cannot read is reported
//! in the editor and replaced by a clean default, never trusted half-way.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, RwLock};

use base64::Engine as _;
use crossbeam_channel::Sender;
use nice_plug::params::persist::PersistentField;
use segno::follow::Method;
use segno::identify::listen::Candidate;
use segno::live::{Command, Published, Status};
use segno::nn::Device;
use segno::similarity::{Similarity, SimilarityPlanner, Task};
use segno_notation::{Layout, PageMode, TurnPoint};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::score_file::{read_score_file, MAX_SCORE_BYTES};

const FORMAT: &str = "segno-session";
const VERSION: u32 = 1;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub score: Option<SavedScore>,
    /// A SoundFont chosen by the user; `None` uses the system's.
    pub soundfont: Option<PathBuf>,
    /// Written number of the measure the performer was last in.
    pub last_measure: Option<String>,
    /// How frames are compared (auto, hybrid, learned, classical) and on which device; `None`:
    /// the environment's choice, else Segno's default. A value this Segno does not know (saved by
    /// a newer one) reads as `None`: the rest of the project still opens.
    #[serde(default, deserialize_with = "by_name::lenient")]
    pub analysis: Option<Analysis>,
    /// How the score is shown. Settings that do not read (saved by a newer Segno) are the
    /// defaults: the rest of the project still opens.
    #[serde(default, deserialize_with = "by_name::lenient_display")]
    pub display: Display,
    /// The score library "What am I playing?" names pieces from; `None`: the default library
    /// (`segno library add`'s).
    #[serde(default)]
    pub library: Option<PathBuf>,
}

/// How the editor shows the score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Display {
    /// The piano roll instead of the notation (a MIDI score has only the roll).
    pub roll: bool,
    #[serde(with = "by_name")]
    pub page_mode: PageMode,
    #[serde(with = "by_name")]
    pub turn: TurnPoint,
    /// Size of the notation, in percent.
    pub zoom_percent: u32,
}

impl Default for Display {
    fn default() -> Self {
        Self {
            roll: false,
            page_mode: PageMode::default(),
            turn: TurnPoint::default(),
            zoom_percent: Layout::DEFAULT_ZOOM,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    #[serde(with = "by_name")]
    pub similarity: Similarity,
    #[serde(with = "by_name")]
    pub device: Device,
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedScore {
    /// File name, which also tells the format.
    pub name: String,
    #[serde(with = "base64_bytes")]
    pub bytes: Arc<[u8]>,
}

impl std::fmt::Debug for SavedScore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SavedScore({}, {} bytes)", self.name, self.bytes.len())
    }
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    format: String,
    version: u32,
    #[serde(flatten)]
    session: Session,
}

impl Session {
    pub fn to_value(&self) -> Value {
        serde_json::to_value(Envelope {
            format: FORMAT.into(),
            version: VERSION,
            session: self.clone(),
        })
        .expect("a session always serializes")
    }

    /// Reads a saved state; the error says what was wrong, in words for the musician.
    pub fn from_value(value: &Value) -> Result<Self, String> {
        const INTRO: &str = "The Segno settings saved in this project could not be read";
        let env: Envelope = serde_json::from_value(value.clone())
            .map_err(|e| format!("{INTRO} ({e}). Segno starts without a score: load it again."))?;
        if env.format != FORMAT {
            return Err(format!("{INTRO}: they are not Segno settings. Segno starts without a score: load it again."));
        }
        if env.version > VERSION {
            return Err(format!(
                "{INTRO}: they were saved by a newer Segno (format {}). Update Segno, or load the score again.",
                env.version
            ));
        }
        if env
            .session
            .score
            .as_ref()
            .is_some_and(|s| s.bytes.len() as u64 > MAX_SCORE_BYTES)
        {
            return Err(format!(
                "{INTRO}: the saved score is implausibly large. Load it again."
            ));
        }
        Ok(env.session)
    }
}

/// Choices saved by the names they are chosen by ("hybrid", "cuda").
mod by_name {
    use super::*;

    pub trait Named: Sized {
        fn name(&self) -> &'static str;
        fn parse(name: &str) -> Option<Self>;
    }

    /// Each choice is saved by its `name()` and read back by its `FromStr`.
    macro_rules! named {
        ($($choice:ty),*) => {$(
            impl Named for $choice {
                fn name(&self) -> &'static str {
                    <$choice>::name(*self)
                }
                fn parse(name: &str) -> Option<Self> {
                    name.parse().ok()
                }
            }
        )*};
    }
    named!(Similarity, Device, PageMode, TurnPoint);

    pub fn serialize<T: Named, S: serde::Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(value.name())
    }

    pub fn deserialize<'de, T: Named, D: serde::Deserializer<'de>>(d: D) -> Result<T, D::Error> {
        let name = String::deserialize(d)?;
        T::parse(&name).ok_or_else(|| serde::de::Error::custom(format!("unknown value '{name}'")))
    }

    /// An analysis that does not read is no analysis.
    pub fn lenient<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Analysis>, D::Error> {
        Ok(Option::<Value>::deserialize(d)?.and_then(|v| serde_json::from_value(v).ok()))
    }

    /// Display settings that do not read are the defaults.
    pub fn lenient_display<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Display, D::Error> {
        Ok(Option::<Value>::deserialize(d)?
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default())
    }
}

mod base64_bytes {
    use super::*;

    pub fn serialize<S: serde::Serializer>(bytes: &Arc<[u8]>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Arc<[u8]>, D::Error> {
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map(Into::into)
            .map_err(serde::de::Error::custom)
    }
}

/// The persistent field: restoring it loads the saved score into the worker; saving it records
/// where the performer is now.
pub struct SessionField {
    session: RwLock<Session>,
    worker: Sender<Command>,
    /// Plans the analysis a musician chooses (model files are found as the plugin finds them).
    planner: SimilarityPlanner,
    published: Arc<Published>,
    status: Arc<Mutex<Status>>,
    /// Why the last restored state was refused, for the editor.
    pub restore_error: Mutex<Option<String>>,
}

impl SessionField {
    pub fn new(
        worker: Sender<Command>,
        published: Arc<Published>,
        status: Arc<Mutex<Status>>,
        planner: SimilarityPlanner,
    ) -> Self {
        Self {
            session: RwLock::new(Session::default()),
            worker,
            planner,
            published,
            status,
            restore_error: Mutex::new(None),
        }
    }

    pub fn get(&self) -> Session {
        self.session
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Loads a score chosen by the user and remembers it for the project.
    pub fn load_score(&self, name: String, bytes: Arc<[u8]>) {
        self.load_score_at(name, bytes, None);
    }

    /// Loads a score and follows it from the first played measure with this written number.
    pub fn load_score_at(&self, name: String, bytes: Arc<[u8]>, measure: Option<String>) {
        let mut session = self.session.write().unwrap_or_else(|e| e.into_inner());
        session.score = Some(SavedScore { name, bytes });
        session.last_measure = measure;
        self.send_load(&session);
    }

    /// The library "What am I playing?" looks in: the project's, else the default one.
    pub fn library(&self) -> Option<PathBuf> {
        let chosen = self
            .session
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .library
            .clone();
        chosen.or_else(segno::identify::library::default_path)
    }

    pub fn set_library(&self, path: Option<PathBuf>) {
        self.session
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .library = path;
    }

    /// "What am I playing?": the worker identifies what it hears in the library, and goes on
    /// refining while the pianist plays ([`Status::identifying`]).
    pub fn identify(&self) -> Result<(), String> {
        let library = self.library().ok_or(
            "There is no home folder to find the default library in: choose a library file.",
        )?;
        let _ = self.worker.send(Command::Identify { library });
        Ok(())
    }

    pub fn stop_identifying(&self) {
        let _ = self.worker.send(Command::StopIdentifying);
    }

    /// Follows a piece "What am I playing?" proposed, from where the pianist was found in it.
    pub fn follow_candidate(&self, candidate: &Candidate) -> Result<(), String> {
        let (name, bytes) = read_score_file(&candidate.path)?;
        self.stop_identifying();
        self.load_score_at(name, bytes, candidate.now_measure.clone());
        Ok(())
    }

    pub fn set_soundfont(&self, path: Option<PathBuf>) {
        let mut session = self.session.write().unwrap_or_else(|e| e.into_inner());
        session.soundfont = path;
        self.send_load(&session);
    }

    /// Chooses how frames are compared; an impossible choice (no model, no runtime) is refused
    /// with the reason and changes nothing.
    pub fn set_analysis(&self, analysis: Analysis) -> Result<(), String> {
        let plan = self
            .planner
            .clone()
            .with_device(analysis.device)
            .plan(analysis.similarity, Task::Follow(Method::default()))
            .map_err(|e| e.to_string())?;
        self.session
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .analysis = Some(analysis);
        let _ = self.worker.send(Command::SetSimilarity(plan));
        Ok(())
    }

    /// How the score is shown (read every editor frame: without copying the session).
    pub fn display(&self) -> Display {
        self.session
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .display
    }

    pub fn set_display(&self, display: Display) {
        self.session
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .display = display;
    }

    /// The analysis in use: the project's, else the default.
    pub fn analysis(&self) -> Analysis {
        self.get().analysis.unwrap_or(Analysis {
            similarity: Similarity::default(),
            device: Device::default(),
        })
    }

    fn send_load(&self, session: &Session) {
        if let Some(Analysis { similarity, device }) = session.analysis {
            // Planned by the worker, off the host's thread; one this machine cannot run keeps
            // the current analysis, and the editor says why.
            let _ = self
                .worker
                .send(Command::ChooseSimilarity { similarity, device });
        }
        if let Some(score) = &session.score {
            // Flagged now, not when the worker gets to it: an offline render that starts before
            // the worker runs must still wait for the score (the worker clears it when done).
            self.published.preparing.store(true, Ordering::Release);
            let _ = self.worker.send(Command::LoadScore {
                bytes: score.bytes.clone(),
                name: score.name.clone(),
                soundfont: session.soundfont.clone(),
                start_measure: session.last_measure.clone(),
            });
        }
    }

    /// The written measure the performer is in now, if following.
    fn current_measure(&self) -> Option<String> {
        let snap = self.published.snapshot()?;
        let status = self.status.lock().unwrap_or_else(|e| e.into_inner());
        let number = status.score.as_ref()?.measure_number(snap.measure_index)?;
        Some(number.to_owned())
    }
}

impl<'a> PersistentField<'a, Value> for SessionField {
    fn set(&self, value: Value) {
        let (session, error) = match Session::from_value(&value) {
            Ok(s) => (s, None),
            Err(e) => (Session::default(), Some(e)),
        };
        *self.restore_error.lock().unwrap_or_else(|e| e.into_inner()) = error;
        let mut current = self.session.write().unwrap_or_else(|e| e.into_inner());
        *current = session;
        self.send_load(&current);
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&Value) -> R,
    {
        let mut session = self.get();
        if let Some(m) = self.current_measure() {
            session.last_measure = Some(m);
        }
        f(&session.to_value())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use segno::resources::Resources;

    fn field() -> (SessionField, crossbeam_channel::Receiver<Command>) {
        let (tx, rx) = crossbeam_channel::unbounded();
        // No models anywhere: a learned analysis is impossible here.
        let planner = SimilarityPlanner::new(Resources::isolated(None), Device::Cpu);
        (
            SessionField::new(tx, Arc::default(), Arc::default(), planner),
            rx,
        )
    }

    #[test]
    fn a_saved_session_restores_the_score_bytes_and_position() {
        let (saving, _) = field();
        saving.load_score(
            "piece.musicxml".into(),
            Arc::from(&b"<score-partwise/>"[..]),
        );
        saving.set_soundfont(Some("/fonts/piano.sf2".into()));
        let blob = saving.map(|v| serde_json::to_string(v).unwrap());

        let (restoring, rx) = field();
        restoring.set(serde_json::from_str(&blob).unwrap());
        assert_eq!(restoring.get(), saving.get());
        assert!(restoring.restore_error.lock().unwrap().is_none());
        match rx.try_recv() {
            Ok(Command::LoadScore {
                bytes,
                name,
                soundfont,
                ..
            }) => {
                assert_eq!(
                    (&*bytes, name.as_str()),
                    (&b"<score-partwise/>"[..], "piece.musicxml")
                );
                assert_eq!(soundfont, Some("/fonts/piano.sf2".into()));
            }
            _ => panic!("restoring a session must load its score"),
        }
    }

    #[test]
    fn the_analysis_choice_is_checked_sent_and_saved() {
        let (f, rx) = field();
        let impossible = Analysis {
            similarity: Similarity::Learned,
            device: Device::Cpu,
        };
        let e = f.set_analysis(impossible).unwrap_err();
        assert!(e.contains("no learned model found"), "{e}");
        assert!(
            rx.try_recv().is_err() && f.get().analysis.is_none(),
            "a refused choice changes nothing"
        );
        let classical = Analysis {
            similarity: Similarity::Classical,
            device: Device::Cpu,
        };
        f.set_analysis(classical).unwrap();
        assert!(matches!(
            rx.try_recv(),
            Ok(Command::SetSimilarity(plan)) if plan.is_classical()
        ));
        let blob = f.map(|v| v.clone());
        assert_eq!(
            blob["analysis"]["similarity"], "classical",
            "saved by its name"
        );
        let (g, rx) = field();
        g.set(blob);
        assert_eq!(g.get().analysis, Some(classical), "saved with the project");
        assert!(matches!(
            rx.try_recv(),
            Ok(Command::ChooseSimilarity {
                similarity: Similarity::Classical,
                device: Device::Cpu
            })
        ));
    }

    #[test]
    fn an_unknown_saved_analysis_keeps_the_rest_of_the_project() {
        let (f, _) = field();
        f.set(
            serde_json::json!({"format": FORMAT, "version": 1, "last_measure": "9",
            "analysis": {"similarity": "quantum", "device": "gpu0"}}),
        );
        assert!(f.restore_error.lock().unwrap().is_none());
        assert_eq!(f.get().analysis, None);
        assert_eq!(f.get().last_measure.as_deref(), Some("9"));
    }

    #[test]
    fn the_display_is_saved_and_an_unknown_one_is_the_default() {
        let (f, _) = field();
        let display = Display {
            roll: false,
            page_mode: PageMode::HalfPage,
            turn: TurnPoint::PageEnd,
            zoom_percent: 60,
        };
        f.set_display(display);
        let saved = f.map(|v| v.clone());
        assert_eq!(saved["display"]["page_mode"], "half-page");
        let (g, _) = field();
        g.set(saved);
        assert_eq!(g.get().display, display);
        g.set(
            serde_json::json!({"format": FORMAT, "version": 1, "last_measure": "9",
            "display": {"page_mode": "carousel", "zoom_percent": 60}}),
        );
        assert_eq!(g.get().display, Display::default());
        assert_eq!(g.get().last_measure.as_deref(), Some("9"));
        // Projects saved before the display existed open with the default one.
        g.set(serde_json::json!({"format": FORMAT, "version": 1}));
        assert_eq!(g.get().display, Display::default());
    }

    #[test]
    fn the_library_is_saved_with_the_project_and_asked_about() {
        let (f, rx) = field();
        f.set_library(Some("/scores/mine.segnolib".into()));
        let saved = f.map(|v| v.clone());
        assert_eq!(saved["library"], "/scores/mine.segnolib");
        let (g, rx_g) = field();
        g.set(saved);
        assert_eq!(g.library(), Some("/scores/mine.segnolib".into()));
        g.identify().unwrap();
        assert!(matches!(
            rx_g.try_iter().last(),
            Some(Command::Identify { library }) if library == std::path::Path::new("/scores/mine.segnolib")
        ));
        // Projects saved before the setting existed use the default library.
        f.set(serde_json::json!({"format": FORMAT, "version": 1}));
        assert_eq!(f.get().library, None);
        drop(rx);
    }

    #[test]
    fn foreign_or_corrupt_state_gives_an_error_and_a_clean_default() {
        let blobs = [
            serde_json::json!(42),
            serde_json::json!({"format": "other-plugin", "version": 1}),
            serde_json::json!({"format": FORMAT, "version": 99}),
            serde_json::json!({"format": FORMAT, "version": 1, "score": {"name": "a.mid", "bytes": "***not base64***"}}),
            serde_json::json!({"format": FORMAT, "version": 1, "score": "a.mid"}),
        ];
        for blob in blobs {
            let (f, rx) = field();
            f.load_score("old.mid".into(), Arc::from(&b"MThd"[..]));
            let _ = rx.try_recv();
            f.set(blob.clone());
            assert_eq!(f.get(), Session::default(), "{blob}");
            let error = f.restore_error.lock().unwrap().clone().unwrap_or_default();
            assert!(error.contains("could not be read"), "{blob}: {error}");
            assert!(
                rx.try_recv().is_err(),
                "nothing is loaded from a refused state"
            );
        }
    }
}
