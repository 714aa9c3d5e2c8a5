//! Segno: real-time score following for pianists.
//!
//! The pipeline: a [`score::Score`] is rendered to a reference recording
//! ([`render`]), both the reference and the live audio become feature frames
//! ([`features`]), and [`align`] maps one onto the other — online, frame by frame, with
//! [`follow::Follower`], or offline over a whole recording.

pub mod score;
pub mod audio;
pub mod eval;
pub mod features;
pub mod render;
pub mod align;
pub mod follow;
pub mod offline;
pub mod output;
pub mod reference;
