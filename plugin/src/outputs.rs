//! Outputs of the standalone app beyond the plugin's MIDI: a system MIDI port carrying Song
//! Position Pointer and MIDI clock ([`MidiClockPort`]), and OSC (from [`segno::live::osc`]).
//! The app opens them (so it can report a bad port or address before starting) and hands them to
//! the plugin instance the wrapper creates.

use std::path::Path;
use std::sync::{Arc, Mutex};

use midir::{MidiOutput, MidiOutputConnection};
use segno::follow::Report;
use segno::live::clock::MidiClock;
use segno::live::ReportSink;
use segno::score::Score;

use crate::session::{SessionField, MAX_SCORE_BYTES};

/// What the standalone app gives the plugin instance the wrapper creates.
#[derive(Default)]
pub struct AppSetup {
    pub sinks: Vec<Box<dyn ReportSink>>,
    /// A score to load at start: file name and bytes.
    pub score: Option<(String, Arc<[u8]>)>,
}

static APP_SETUP: Mutex<Option<AppSetup>> = Mutex::new(None);

/// Hands `setup` to the next plugin instance (the standalone app has exactly one).
pub fn set_app_setup(setup: AppSetup) {
    *APP_SETUP.lock().unwrap_or_else(|e| e.into_inner()) = Some(setup);
}

pub(crate) fn take_app_setup() -> AppSetup {
    APP_SETUP.lock().unwrap_or_else(|e| e.into_inner()).take().unwrap_or_default()
}

/// Reads a score file and loads it; the error is for the musician.
pub fn load_score_file(session: &SessionField, path: &Path) -> Result<(), String> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let bytes = std::fs::read(path).map_err(|e| format!("Could not open {}: {e}", path.display()))?;
    if bytes.len() > MAX_SCORE_BYTES {
        return Err(format!("{} is too large to be a score ({} MB).", path.display(), bytes.len() >> 20));
    }
    session.load_score(name, Arc::from(bytes));
    Ok(())
}

/// Song Position Pointer and clock on a system MIDI port.
pub struct MidiClockPort {
    connection: MidiOutputConnection,
    clock: MidiClock,
}

impl MidiClockPort {
    /// Connects to the first output port whose name contains `name`; on Linux and macOS `name`
    /// may also be `virtual`, which creates a port named "Segno" for others to connect to.
    pub fn open(name: &str) -> Result<Self, String> {
        let output = MidiOutput::new("Segno").map_err(|e| format!("MIDI output is not available on this system: {e}"))?;
        let connection = if name == "virtual" {
            virtual_port(output)?
        } else {
            let ports = output.ports();
            let names: Vec<String> = ports.iter().filter_map(|p| output.port_name(p).ok()).collect();
            let port = ports
                .iter()
                .find(|p| output.port_name(p).is_ok_and(|n| n.contains(name)))
                .ok_or_else(|| format!("no MIDI output port matches '{name}'; ports: {}", list(&names)))?;
            output.connect(port, "Segno position").map_err(|e| format!("cannot connect to MIDI port '{name}': {e}"))?
        };
        Ok(Self { connection, clock: MidiClock::default() })
    }
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

#[cfg(unix)]
fn virtual_port(output: MidiOutput) -> Result<MidiOutputConnection, String> {
    use midir::os::unix::VirtualOutput;
    output.create_virtual("Segno").map_err(|e| format!("cannot create a virtual MIDI port: {e}"))
}

#[cfg(not(unix))]
fn virtual_port(_: MidiOutput) -> Result<MidiOutputConnection, String> {
    Err("virtual MIDI ports are not available on this system: name an existing port".into())
}

impl ReportSink for MidiClockPort {
    fn report(&mut self, report: &Report, _score: &Score, _sample_time: u64) {
        let connection = &mut self.connection;
        self.clock.on_report(report, |message| {
            let _ = connection.send(message);
        });
    }

    fn reset(&mut self) {
        self.clock.reset();
    }
}
