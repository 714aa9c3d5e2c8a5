//! Segno: real-time score following for pianists.
//!
//! The pipeline: a [`score::Score`] is rendered to a reference recording ([`render`],
//! [`reference`]), both the reference and the live audio become feature frames ([`features`]),
//! and [`align`] maps one onto the other: online, frame by frame, with [`follow::Follower`], or
//! offline over a whole recording with [`offline::align`]. [`position`] is what they produce (and `positions.csv`), and
//! [`eval`] is the benchmark harness. [`themes`] finds where a melody is played in a set of
//! recordings.

pub mod align;
pub mod audio;
pub mod eval;
pub mod features;
pub mod follow;
pub mod identify;
pub mod input;
pub mod live;
pub mod locate;
pub mod nn;
pub mod offline;
pub mod output;
pub mod position;
pub mod reference;
pub mod render;
pub mod resources;
pub mod rng;
pub mod score;
pub mod similarity;
pub mod stamp;
pub mod themes;
