//! The benchmark: real human performances (MIDI timing) rendered to degraded audio, followed
//! online and aligned offline, scored against their ground truth.

pub mod anchors;
pub mod calibration;
pub mod cases;
pub mod degrade;
pub mod identify;
pub mod localiser;
pub mod metrics;
pub mod practice;
pub mod rendering;
pub mod run;
pub mod themes;
