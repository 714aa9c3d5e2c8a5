//! What the worker publishes for the audio thread, the editor and the apps: the latest position
//! in atomics (read without locks), and the slower-changing status behind a mutex that only
//! non-real-time threads touch.

use std::sync::atomic::{fence, AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;

use atomic_float::{AtomicF32, AtomicF64};

use crate::position::{FollowState, Report};
use crate::score::Score;

/// The latest report as a seqlock over atomics: one writer (the worker), any number of readers,
/// none of which ever blocks the writer.
#[derive(Debug, Default)]
pub struct Published {
    seq: AtomicU64,
    sample_time: AtomicU64,
    score_time_s: AtomicF64,
    score_beat: AtomicF64,
    beat_in_measure: AtomicF64,
    measure_index: AtomicU32,
    tempo_ratio: AtomicF64,
    confidence: AtomicF32,
    state: AtomicU8,
    /// Samples the audio thread handed over, and samples it had to drop because the worker was
    /// behind (the ring buffer was full).
    pub received: AtomicU64,
    pub dropped: AtomicU64,
    /// A score is being prepared (rendered and analysed): an offline render waits for it.
    pub preparing: AtomicBool,
    /// The worker follows a score, so an offline render waits for each block's analysis; with
    /// no score there is nothing to wait for.
    pub analysing: AtomicBool,
}

/// A consistent copy of the latest report.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Snapshot {
    /// Input sample (counted from the moment the audio was attached) at which it was known.
    pub sample_time: u64,
    pub score_time_s: f64,
    pub score_beat: f64,
    pub beat_in_measure: f64,
    pub measure_index: usize,
    pub tempo_ratio: f64,
    pub confidence: f32,
    pub state: FollowState,
    /// Increases with every publication: tells a reader the position is new.
    pub version: u64,
}

fn state_code(s: FollowState) -> u8 {
    FollowState::ALL.iter().position(|&x| x == s).unwrap_or(0) as u8
}

impl Published {
    pub fn publish(&self, r: &Report, sample_time: u64) {
        self.seq.fetch_add(1, Ordering::AcqRel);
        self.sample_time.store(sample_time, Ordering::Relaxed);
        self.score_time_s.store(r.score_time_s, Ordering::Relaxed);
        self.score_beat.store(r.score_beat, Ordering::Relaxed);
        self.beat_in_measure
            .store(r.beat_in_measure, Ordering::Relaxed);
        self.measure_index.store(
            r.measure_index.min(u32::MAX as usize) as u32,
            Ordering::Relaxed,
        );
        self.tempo_ratio.store(r.tempo_ratio, Ordering::Relaxed);
        self.confidence.store(r.confidence, Ordering::Relaxed);
        self.state.store(state_code(r.state), Ordering::Relaxed);
        self.seq.fetch_add(1, Ordering::Release);
    }

    /// Forgets the position (a new score, a reset): readers see `None` until the next report.
    pub fn clear(&self) {
        self.seq.fetch_add(1, Ordering::AcqRel);
        self.sample_time.store(u64::MAX, Ordering::Relaxed);
        self.seq.fetch_add(1, Ordering::Release);
    }

    /// The latest report, or `None` if there is none since the last [`clear`](Self::clear).
    pub fn snapshot(&self) -> Option<Snapshot> {
        loop {
            let before = self.seq.load(Ordering::Acquire);
            if before % 2 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let snap = Snapshot {
                sample_time: self.sample_time.load(Ordering::Relaxed),
                score_time_s: self.score_time_s.load(Ordering::Relaxed),
                score_beat: self.score_beat.load(Ordering::Relaxed),
                beat_in_measure: self.beat_in_measure.load(Ordering::Relaxed),
                measure_index: self.measure_index.load(Ordering::Relaxed) as usize,
                tempo_ratio: self.tempo_ratio.load(Ordering::Relaxed),
                confidence: self.confidence.load(Ordering::Relaxed),
                state: FollowState::ALL[usize::from(self.state.load(Ordering::Relaxed))
                    .min(FollowState::ALL.len() - 1)],
                version: before / 2,
            };
            fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) == before {
                return (snap.sample_time != u64::MAX && before > 0).then_some(snap);
            }
        }
    }
}

/// Settings the worker reads before every chunk of audio, so that any thread (the audio thread
/// included) can change them without a lock or an allocation.
#[derive(Debug)]
pub struct Controls {
    /// Follow (true) or ignore the input (false). Turning it on starts over at the beginning.
    pub following: AtomicBool,
    /// Input gain before analysis, in dB: raises the follower's sensitivity to quiet playing.
    pub gain_db: AtomicF32,
    /// Also look for the pianist over the whole piece and move there after a restart or a skip
    /// ([`crate::follow::Follower::with_relocation`]).
    pub relocation: AtomicBool,
}

impl Default for Controls {
    fn default() -> Self {
        Self {
            following: AtomicBool::new(true),
            gain_db: AtomicF32::new(0.0),
            relocation: AtomicBool::new(false),
        }
    }
}

/// What the worker is doing with scores, for the editor and the apps (never the audio thread).
#[derive(Debug, Clone, Default)]
pub struct Status {
    pub score: Option<Arc<Score>>,
    /// File name of the loaded (or loading) score.
    pub score_name: String,
    pub loading: bool,
    /// The last error in words for the musician; cleared by the next successful load.
    pub error: Option<String>,
    pub following: bool,
    /// The input sample rate the follower runs at, once audio is attached.
    pub input_rate: Option<u32>,
    /// How frames are compared, and on which device ("learned similarity (…) on CPU").
    pub similarity: String,
    /// "What am I playing?": `None` unless asked.
    pub identifying: Option<super::Identifying>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_returns_what_was_published_and_clear_forgets_it() {
        let p = Published::default();
        assert_eq!(p.snapshot(), None);
        let r = Report {
            perf_time_s: 1.0,
            score_time_s: 2.5,
            score_beat: 5.0,
            measure_index: 3,
            beat_in_measure: 2.0,
            tempo_ratio: 1.1,
            confidence: 0.9,
            state: FollowState::Uncertain,
            relocated: false,
        };
        p.publish(&r, 44_100);
        let s = p.snapshot().unwrap();
        assert_eq!(
            (s.sample_time, s.score_time_s, s.measure_index, s.state),
            (44_100, 2.5, 3, FollowState::Uncertain)
        );
        p.clear();
        assert_eq!(p.snapshot(), None);
    }

    #[test]
    fn readers_never_see_a_torn_report() {
        let p = Arc::new(Published::default());
        let writer = {
            let p = p.clone();
            std::thread::spawn(move || {
                for i in 0..200_000u64 {
                    let x = i as f64;
                    let r = Report {
                        perf_time_s: x,
                        score_time_s: x,
                        score_beat: x,
                        measure_index: i as usize,
                        beat_in_measure: x,
                        tempo_ratio: x,
                        confidence: 0.5,
                        state: FollowState::Following,
                        relocated: false,
                    };
                    p.publish(&r, i);
                }
            })
        };
        while !writer.is_finished() {
            if let Some(s) = p.snapshot() {
                let x = s.sample_time as f64;
                assert_eq!(
                    (s.score_time_s, s.score_beat, s.tempo_ratio, s.measure_index),
                    (x, x, x, s.sample_time as usize)
                );
            }
        }
        writer.join().unwrap();
    }
}
