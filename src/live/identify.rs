//! "What am I playing?" on the worker: the live audio is kept ([`Listening`]) whenever it flows,
//! so that a question asked after the pianist began is answered at once; each look runs on a
//! thread of its own, since it takes longer than a block of audio may wait.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::identify::listen::{identify_in, Identification, Listening};
use crate::resources::Resources;

/// What the identification is doing, for the editor and the apps.
#[derive(Debug, Clone, PartialEq)]
pub enum Identifying {
    /// Asked, nothing found yet (too little heard, or the first look is running).
    Listening { library: PathBuf },
    /// The last look's answer; looks go on while the pianist plays.
    Found(Identification),
    /// The library could not be read; in words for the musician.
    Failed(String),
}

/// The worker's side of identification.
pub(crate) struct Identifier {
    listening: Option<Listening>,
    /// The library asked about, while a question is open.
    library: Option<PathBuf>,
    /// Bumped by every question and every stop: a look's answer counts only if it is unchanged.
    question: Arc<AtomicU64>,
    looking: Arc<AtomicBool>,
}

impl Identifier {
    pub(crate) fn new() -> Self {
        Self {
            listening: None,
            library: None,
            question: Arc::new(AtomicU64::new(0)),
            looking: Arc::new(AtomicBool::new(false)),
        }
    }

    /// New audio queues at `rate` Hz: what was heard at another rate is forgotten.
    pub(crate) fn attach(&mut self, rate: u32) {
        if self.listening.as_ref().map(Listening::rate) != Some(rate) {
            self.listening = Some(Listening::new(rate));
        }
    }

    pub(crate) fn ask(&mut self, library: PathBuf, status: &Mutex<super::Status>) {
        self.question.fetch_add(1, Ordering::AcqRel);
        if let Some(l) = self.listening.as_mut() {
            l.ask();
        }
        super::worker::lock(status).identifying = Some(Identifying::Listening {
            library: library.clone(),
        });
        self.library = Some(library);
    }

    pub(crate) fn stop(&mut self, status: &Mutex<super::Status>) {
        self.question.fetch_add(1, Ordering::AcqRel);
        self.library = None;
        super::worker::lock(status).identifying = None;
    }

    /// Keeps a block of live audio.
    pub(crate) fn keep(&mut self, block: &[f32]) {
        if let Some(listening) = self.listening.as_mut() {
            listening.keep(block);
        }
    }

    /// Starts a look if a question is open, one is due and none is running. Called whether or
    /// not audio came: a look due while the last one ran is taken when it ends.
    pub(crate) fn poll(&mut self, status: &Arc<Mutex<super::Status>>, resources: &Resources) {
        let (Some(listening), Some(library)) = (self.listening.as_mut(), self.library.clone())
        else {
            return;
        };
        if self.looking.load(Ordering::Acquire) {
            return;
        }
        let Some(look) = listening.due() else {
            return;
        };
        self.looking.store(true, Ordering::Release);
        let (rate, status, looking, question, resources) = (
            listening.rate(),
            status.clone(),
            self.looking.clone(),
            self.question.clone(),
            resources.clone(),
        );
        let asked = question.load(Ordering::Acquire);
        let spawned = std::thread::Builder::new()
            .name("segno-identify".into())
            .spawn(move || {
                let answer = match identify_in(&library, &look.audio, rate, &resources) {
                    Ok(found) => Identifying::Found(Identification {
                        until_s: look.until_s,
                        ..found
                    }),
                    Err(e) => Identifying::Failed(e),
                };
                let mut st = super::worker::lock(&status);
                if question.load(Ordering::Acquire) == asked {
                    st.identifying = Some(answer);
                }
                drop(st);
                looking.store(false, Ordering::Release);
            });
        if spawned.is_err() {
            self.looking.store(false, Ordering::Release);
        }
    }
}
