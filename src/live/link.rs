//! The lock-free queues between the audio thread and the worker: samples one way, with a mark
//! wherever samples were dropped, and timed position events the other. All are single-producer
//! single-consumer ring buffers allocated when audio is attached, so the audio thread's side never
//! allocates, locks or waits.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::Thread;
use std::time::{Duration, Instant};

use ringbuf::traits::{Consumer, Observer, Producer, Split};
use ringbuf::{HeapCons, HeapProd, HeapRb};

use crate::live::protocol::PositionEvent;
use crate::live::shared::Published;

/// Seconds of audio the worker may fall behind before samples are dropped.
const AUDIO_BUFFER_S: u32 = 4;
/// Position events waiting for the audio thread (a few seconds' worth of beats).
const EVENT_CAPACITY: usize = 1024;
/// Gaps waiting for the worker; more than this many between two of its reads are merged.
const GAP_CAPACITY: usize = 64;

/// Samples the audio thread dropped because the worker was too far behind: `len` of them, after
/// the first `at` samples it pushed. The pianist played on through them, and the worker tells the
/// follower so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    pub at: u64,
    pub len: u64,
}

/// A position event and the input sample at which the follower knew it, counted from the moment
/// the audio was attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimedEvent {
    pub sample: u64,
    pub event: PositionEvent,
}

/// The audio thread's end.
pub struct AudioEnd {
    samples: HeapProd<f32>,
    gaps: HeapProd<Gap>,
    /// A gap not yet handed over (the gap queue was full); samples after it wait until it is.
    pending_gap: Option<Gap>,
    events: HeapCons<TimedEvent>,
    published: Arc<Published>,
    /// Input samples seen so far, pushed or dropped: the clock events are timed in.
    clock: u64,
    /// Length of the last block pushed.
    block_len: usize,
    /// Samples pushed (not dropped) so far, and how many of them the worker has analysed.
    pushed: u64,
    analysed: Arc<AtomicU64>,
    /// The worker's thread, woken when an offline block waits for it (an unpark allocates
    /// nothing); without it the worker finds the audio at its next poll.
    worker: Option<Thread>,
}

/// The worker's end.
pub struct WorkerEnd {
    pub(crate) samples: HeapCons<f32>,
    pub(crate) gaps: HeapCons<Gap>,
    pub(crate) events: HeapProd<TimedEvent>,
    pub(crate) rate: u32,
    /// Samples popped and analysed, their reports and events published.
    pub(crate) analysed: Arc<AtomicU64>,
}

/// New queues for audio at `rate` Hz.
pub fn link(rate: u32, published: Arc<Published>) -> (AudioEnd, WorkerEnd) {
    let (samples_in, samples_out) =
        HeapRb::<f32>::new((rate.max(1) * AUDIO_BUFFER_S) as usize).split();
    let (events_in, events_out) = HeapRb::<TimedEvent>::new(EVENT_CAPACITY).split();
    let (gaps_in, gaps_out) = HeapRb::<Gap>::new(GAP_CAPACITY).split();
    let analysed = Arc::new(AtomicU64::new(0));
    (
        AudioEnd {
            samples: samples_in,
            gaps: gaps_in,
            pending_gap: None,
            events: events_out,
            published,
            clock: 0,
            block_len: 0,
            pushed: 0,
            analysed: analysed.clone(),
            worker: None,
        },
        WorkerEnd {
            samples: samples_out,
            gaps: gaps_out,
            events: events_in,
            rate,
            analysed,
        },
    )
}

impl AudioEnd {
    /// Hands one block to the worker, downmixed to mono. If the worker is too far behind the
    /// samples that do not fit are dropped, counted and marked as a gap, never waited for.
    pub fn push_block<C: AsRef<[f32]>>(&mut self, channels: &[C]) {
        let Some(len) = channels.first().map(|c| c.as_ref().len()) else {
            return;
        };
        self.block_len = len;
        let scale = 1.0 / channels.len() as f32;
        let mono = (0..len).map(|i| channels.iter().map(|c| c.as_ref()[i]).sum::<f32>() * scale);
        // The mark of a gap goes before any sample after it, so the worker always sees it in time.
        let pushed = if self.hand_over_gap() {
            self.samples.push_iter(mono)
        } else {
            0
        };
        self.clock += len as u64;
        self.pushed += pushed as u64;
        self.published
            .received
            .fetch_add(pushed as u64, Ordering::Relaxed);
        if pushed < len {
            let dropped = (len - pushed) as u64;
            self.published.dropped.fetch_add(dropped, Ordering::Relaxed);
            let gap = self.pending_gap.get_or_insert(Gap {
                at: self.pushed,
                len: 0,
            });
            gap.len += dropped;
        }
    }

    /// Hands the pending gap to the worker; false if it is still pending.
    fn hand_over_gap(&mut self) -> bool {
        match self.pending_gap {
            Some(gap) if self.gaps.try_push(gap).is_err() => false,
            _ => {
                self.pending_gap = None;
                true
            }
        }
    }

    /// Calls `emit(offset, event)` for every event due before the end of the block just pushed,
    /// `offset` being its sample within that block (0 for events known too late for their exact
    /// sample). Call after [`push_block`](Self::push_block).
    pub fn drain_events(&mut self, mut emit: impl FnMut(usize, PositionEvent)) {
        let block_start = self.clock - self.block_len as u64;
        while let Some(&e) = self.events.first() {
            if e.sample >= self.clock {
                break;
            }
            self.events.try_pop();
            emit(e.sample.saturating_sub(block_start) as usize, e.event);
        }
    }

    /// Samples waiting for the worker.
    pub fn backlog(&self) -> usize {
        self.samples.occupied_len()
    }

    /// Wakes `worker` when a block waits for it (see [`wait_for_worker`](Self::wait_for_worker)).
    pub fn set_worker(&mut self, worker: Option<Thread>) {
        self.worker = worker;
    }

    /// For offline rendering only, where the host waits for its plugins (never on a real-time
    /// thread): waits until no score is being prepared and the worker has analysed every sample
    /// pushed, so that a render faster than real time loses no audio and gets every event at its
    /// sample. Returns at once when the worker has no score to analyse. Wakes the worker, then
    /// spins briefly (a small block is analysed in microseconds) before sleeping in short steps;
    /// allocates nothing. False if `timeout` passed first.
    pub fn wait_for_worker(&self, timeout: Duration) -> bool {
        let done = || {
            let published = &self.published;
            !published.preparing.load(Ordering::Acquire)
                && (!published.analysing.load(Ordering::Acquire)
                    || self.analysed.load(Ordering::Acquire) >= self.pushed)
        };
        if done() {
            return true;
        }
        if let Some(worker) = &self.worker {
            worker.unpark();
        }
        let start = Instant::now();
        for spins in 0u32.. {
            if done() {
                return true;
            }
            if start.elapsed() > timeout {
                return false;
            }
            if spins < 2000 {
                std::thread::yield_now();
            } else {
                std::thread::sleep(Duration::from_micros(100));
            }
        }
        unreachable!("the loop returns")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ringbuf::traits::{Consumer, Producer};

    #[test]
    fn downmixes_counts_drops_and_times_events() {
        let published = Arc::new(Published::default());
        let (mut audio, mut worker) = link(2, published.clone()); // 8 samples of room
        audio.push_block(&[[1.0f32, 2.0, 3.0], [3.0, 2.0, 1.0]]);
        let mut got = [0.0; 3];
        assert_eq!(worker.samples.pop_slice(&mut got), 3);
        assert_eq!(got, [2.0, 2.0, 2.0]);
        audio.push_block(&[[0.5f32; 10]]);
        assert_eq!(
            (
                published.received.load(Ordering::Relaxed),
                published.dropped.load(Ordering::Relaxed)
            ),
            (11, 2)
        );

        let beat = |measure| PositionEvent::Beat { measure, beat: 1 };
        for (sample, m) in [(1, 1), (12, 2), (13, 3), (20, 4)] {
            worker
                .events
                .try_push(TimedEvent {
                    sample,
                    event: beat(m),
                })
                .unwrap();
        }
        // The clock is at 13: the block just pushed covered samples 3..13.
        let mut emitted = Vec::new();
        audio.drain_events(|offset, e| emitted.push((offset, e)));
        assert_eq!(emitted, vec![(0, beat(1)), (9, beat(2))]);
        audio.push_block(&[[0.0f32; 10]]);
        emitted.clear();
        audio.drain_events(|offset, e| emitted.push((offset, e)));
        assert_eq!(emitted, vec![(0, beat(3)), (7, beat(4))]);

        // A source that ran dry (the app's simulated recording) pushes empty blocks.
        worker
            .events
            .try_push(TimedEvent {
                sample: 22,
                event: beat(5),
            })
            .unwrap();
        audio.push_block(&[[0.0f32; 0]]);
        emitted.clear();
        audio.drain_events(|offset, e| emitted.push((offset, e)));
        assert_eq!(emitted, vec![(0, beat(5))]);
    }

    /// The worker learns where samples were dropped and how many, before it reads any sample
    /// pushed after them.
    #[test]
    fn drops_are_marked_where_they_happened() {
        let published = Arc::new(Published::default());
        let (mut audio, mut worker) = link(2, published.clone()); // 8 samples of room
        audio.push_block(&[[1.0f32; 10]]);
        audio.push_block(&[[2.0f32; 3]]); // still full: dropped too
        assert!(
            worker.gaps.first().is_some(),
            "the first gap is marked once more audio came"
        );
        let mut got = [0.0; 16];
        assert_eq!(worker.samples.pop_slice(&mut got), 8);
        audio.push_block(&[[3.0f32; 2]]);
        let gaps: Vec<Gap> = worker.gaps.pop_iter().collect();
        assert_eq!(gaps, vec![Gap { at: 8, len: 2 }, Gap { at: 8, len: 3 }]);
        assert_eq!(worker.samples.pop_slice(&mut got), 2);
        assert_eq!(got[..2], [3.0, 3.0]);
        assert_eq!(published.dropped.load(Ordering::Relaxed), 5);
        assert_eq!(
            audio.clock, 15,
            "events are timed with the dropped samples counted"
        );
    }

    #[test]
    fn an_offline_render_waits_for_the_preparation_and_the_analysis() {
        let published = Arc::new(Published::default());
        let (mut audio, mut worker) = link(100, published.clone());
        let short = Duration::from_millis(20);
        assert!(
            audio.wait_for_worker(short),
            "nothing pushed, nothing to wait for"
        );

        audio.push_block(&[[0.5f32; 30]]);
        assert!(
            audio.wait_for_worker(short),
            "no score is followed: nothing to wait for"
        );
        published.analysing.store(true, Ordering::Release);
        assert!(!audio.wait_for_worker(short), "30 samples not yet analysed");
        let mut got = [0.0; 30];
        assert_eq!(worker.samples.pop_slice(&mut got), 30);
        worker.analysed.store(20, Ordering::Release);
        assert!(
            !audio.wait_for_worker(short),
            "10 samples still in analysis"
        );

        published.preparing.store(true, Ordering::Release);
        let analyst = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            worker.analysed.store(30, Ordering::Release);
            std::thread::sleep(Duration::from_millis(50));
            published.preparing.store(false, Ordering::Release);
        });
        let start = Instant::now();
        assert!(audio.wait_for_worker(Duration::from_secs(10)));
        assert!(
            start.elapsed() >= Duration::from_millis(100),
            "returned before the score was ready"
        );
        analyst.join().unwrap();
    }
}
