//! The standalone app's hand-off to the plugin instance nice-plug's wrapper creates: the outputs
//! it opened (so it could report a bad port or address before starting), the score and a
//! simulated performance. A plugin in a host finds nothing here.

use std::sync::{Arc, Mutex};

use segno::live::ReportSink;

/// What the standalone app gives the plugin instance the wrapper creates.
#[derive(Default)]
pub struct AppSetup {
    pub sinks: Vec<Box<dyn ReportSink>>,
    /// A score to load at start: file name and bytes.
    pub score: Option<(String, Arc<[u8]>)>,
    /// A recording analysed in place of the audio input (a simulated performance).
    pub input_file: Option<segno::audio::decode::DecodedAudio>,
    /// The score library to name pieces from, for this session.
    pub library: Option<std::path::PathBuf>,
    /// Ask "What am I playing?" at start.
    pub identify: bool,
}

static APP_SETUP: Mutex<Option<AppSetup>> = Mutex::new(None);

/// Hands `setup` to the next plugin instance (the standalone app has exactly one).
pub fn hand_over(setup: AppSetup) {
    *APP_SETUP.lock().unwrap_or_else(|e| e.into_inner()) = Some(setup);
}

/// What the app handed over, if anything (a plugin in a host: nothing).
pub(crate) fn take() -> AppSetup {
    APP_SETUP
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
        .unwrap_or_default()
}
