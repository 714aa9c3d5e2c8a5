//! Live following as a service for plugins and apps: a worker thread that owns the follower
//! ([`worker`]), the lock-free queues it shares with the audio thread ([`link`]), the position it
//! publishes ([`shared`]), and the outputs accompaniment systems read: MIDI control changes
//! ([`protocol`]), MIDI clock ([`clock`]) and OSC ([`osc`]).
//!
//! Nothing here knows about plugin formats or GUIs.

pub mod clock;
pub mod identify;
pub mod link;
pub mod osc;
pub mod protocol;
pub mod shared;
pub mod worker;

pub use identify::Identifying;
pub use link::{link, AudioEnd, TimedEvent, WorkerEnd};
pub use shared::{Controls, Published, Snapshot, Status};
pub use worker::{Command, Worker};

use crate::position::Report;
use crate::score::Score;

/// Receives every report the worker makes, on the worker thread.
pub trait ReportSink: Send {
    /// `sample_time` is the input sample (since the audio was attached) at which it was known.
    fn report(&mut self, report: &Report, score: &Score, sample_time: u64);
    /// The follower started over (new score, reset, new start measure).
    fn reset(&mut self) {}
}
